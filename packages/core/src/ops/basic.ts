/**
 * The basic primitives, gathered under their historical module name: elementwise arithmetic, maths and
 * comparisons (elementwise.ts), selection (indexing.ts), reductions (reduce.ts), shape ops (shape.ts),
 * slicing and joining (slice.ts) and dtype conversion (cast.ts). Each of those modules holds its primitives'
 * forwards (kernel calls) and gradient rules; this one only re-exports them.
 */
import { castRules } from './cast.js';
import { elementwiseRules } from './elementwise.js';
import { indexingRules } from './indexing.js';
import { reduceRules } from './reduce.js';
import { shapeRules } from './shape.js';
import { sliceRules } from './slice.js';

export * from './cast.js';
export * from './elementwise.js';
export * from './indexing.js';
export * from './reduce.js';
export * from './shape.js';
export * from './slice.js';

/** The rules of the basic primitives, for the op table. */
export const basicRules = {
  ...elementwiseRules,
  ...indexingRules,
  ...reduceRules,
  ...shapeRules,
  ...sliceRules,
  ...castRules,
};
