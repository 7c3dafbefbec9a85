/**
 * `Parameter`: a leaf tensor that a module owns and an optimizer updates, plus parameter constraints
 * (e.g. the |w| ≤ 1 clip of binary layers) that optimizers apply after each step.
 */
import { kernels } from '../backend/backend.js';
import type { TypedArray } from '../dtype.js';
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';

/**
 * A constraint projected onto a parameter's values in place after every optimizer step (Keras/Larq
 * `kernel_constraint`). Optimizers call {@link Constraint.apply} on `param.data` automatically; see
 * `applyConstraints` for custom training loops.
 */
export interface Constraint {
  /** Short description shown in summaries, e.g. `clip(-1, 1)`. */
  readonly name: string;
  /** Projects the values in place. */
  apply(data: TypedArray): void;
}

/**
 * Clips every value into [min, max] (Larq's `weight_clip`; Courbariaux et al. 2016 keep latent binary
 * weights in [−1, 1] because the straight-through estimator cancels the gradient outside).
 */
export function clipConstraint(min: number, max: number): Constraint {
  if (!(min <= max)) throw new ValueError(`clipConstraint: min ${min} must not exceed max ${max}`);
  return {
    name: `clip(${min}, ${max})`,
    apply(data) {
      // min(max(v, min), max) in place; NaN stays NaN
      kernels().unary('clamp', data, data, min, max);
    },
  };
}

/**
 * A trainable tensor owned by a module: a leaf with `requiresGrad = true` (unless created with `false`,
 * for frozen weights). Operations on parameters return plain tensors; optimizers update `data` in place.
 */
export class Parameter extends Tensor {
  /** Projection applied by optimizers after each step (null: none). */
  constraint: Constraint | null = null;

  /**
   * Wraps a tensor's storage as a parameter. The storage is shared, not copied: pass `t.detach()` to copy.
   * @param t - The initial values (any float tensor; its autograd history is not kept).
   * @param requiresGrad - Whether the parameter is trainable (default true).
   */
  constructor(t: Tensor, requiresGrad = true) {
    super(t.storage, t.shape, false);
    if (requiresGrad) this.requiresGrad = true;
  }

  /** Sets the constraint and returns this parameter (chainable). */
  withConstraint(c: Constraint | null): this {
    this.constraint = c;
    return this;
  }

  override toString(): string {
    return `Parameter containing ${super.toString()}`;
  }
}
