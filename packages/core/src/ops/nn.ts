/**
 * Neural-network primitives and composites: convolution, pooling, normalisation, activations, softmax,
 * dropout, attention, sign with straight-through estimators, losses.
 */
import type { PrimitiveRule } from '../runtime.js';

/** The rules of this module, for the op table. */
export const nnRules = {} satisfies Record<string, PrimitiveRule<never>>;
