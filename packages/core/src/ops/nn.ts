/**
 * Neural-network ops: activations and (log-)softmax, normalisation, dropout, attention, sign with
 * straight-through estimators, losses. They live in topic modules re-exported here; `nnRules` collects
 * their primitives for the op table (conv1d and pooling are in conv.ts).
 */
import { activationRules } from './activations.js';
import { normRules } from './norm.js';

export * from './activations.js';
export * from './attention.js';
export * from './dropout.js';
export * from './losses.js';
export * from './norm.js';
export * from './sign.js';

/** The rules of this module, for the op table. */
export const nnRules = {
  ...activationRules,
  ...normRules,
};
