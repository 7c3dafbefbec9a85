/**
 * The op table: every primitive with its forward and its one gradient rule. Its type requires a rule for
 * every name declared in `PrimitiveAttrs`, so adding a primitive without a gradient does not compile.
 * Tests enumerate this table to make sure every primitive has a gradient check.
 */
import type { Primitive, RuleOf } from '../runtime.js';
import { basicRules } from './basic.js';
import { convRules } from './conv.js';
import { matmulRules } from './matmul.js';
import { nnRules } from './nn.js';

/** Every primitive's rule, keyed by name. */
export const PRIMITIVES: { [P in Primitive]: RuleOf<P> } = {
  ...basicRules,
  ...matmulRules,
  ...convRules,
  ...nnRules,
};

/** Names of all primitives. */
export const primitiveNames = Object.keys(PRIMITIVES) as Primitive[];
