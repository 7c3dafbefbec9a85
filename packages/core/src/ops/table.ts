/**
 * The op table: every primitive with its forward and its one gradient rule. Its type requires a rule for
 * every name declared in `PrimitiveAttrs`, so adding a primitive without a gradient does not compile.
 * Tests enumerate this table to make sure every primitive has a gradient check.
 */
import type { Primitive, RuleOf } from '../runtime.js';
import { castRules } from './cast.js';
import { convRules } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { indexingRules } from './indexing.js';
import { matmulRules } from './matmul.js';
import { nnRules } from './nn.js';
import { reduceRules } from './reduce.js';
import { shapeRules } from './shape.js';
import { sliceRules } from './slice.js';

/** Every primitive's rule, keyed by name. */
export const PRIMITIVES: { [P in Primitive]: RuleOf<P> } = {
  ...elementwiseRules,
  ...indexingRules,
  ...reduceRules,
  ...shapeRules,
  ...sliceRules,
  ...castRules,
  ...matmulRules,
  ...convRules,
  ...nnRules,
};

/** Names of all primitives. */
export const primitiveNames = Object.keys(PRIMITIVES) as Primitive[];
