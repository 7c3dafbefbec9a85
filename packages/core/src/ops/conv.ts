/** Convolution and pooling primitives (conv1d incl. stride/padding/dilation/groups/pad value; pooling). */
import type { PrimitiveRule } from '../runtime.js';

/** The rules of this module, for the op table. */
export const convRules = {} satisfies Record<string, PrimitiveRule<never>>;
