/** Linear layer and shape utilities (Identity, Flatten, Unflatten, Lambda). */

import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { flatten, reshape } from '../ops/basic.js';
import { linear } from '../ops/matmul.js';
import type { Tensor } from '../tensor.js';
import { checkInput, checkPositiveInt, type LayerOptions, newParameter } from './common.js';
import { kaimingUniform, uniform } from './init.js';
import { Module } from './module.js';

/** Options of {@link Linear}. */
export interface LinearOptions extends LayerOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * y = x Wᵀ + b over the last axis. Weight `[outFeatures, inFeatures]`. PyTorch's initialisation:
 * W ~ kaimingUniform(a = √5) = U(±1/√in), b ~ U(±1/√in).
 */
export class Linear extends Module {
  /** `[outFeatures, inFeatures]`. */
  declare readonly weight: Tensor;
  /** `[outFeatures]` or null. */
  declare readonly bias: Tensor | null;

  /** Creates the layer. */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    const w = newParameter([outFeatures, inFeatures], opts.dtype);
    kaimingUniform(w, { a: Math.sqrt(5), generator: opts.generator });
    this.registerParameter('weight', w);
    if (opts.bias ?? true) {
      const bound = 1 / Math.sqrt(inFeatures);
      const b = newParameter([outFeatures], opts.dtype);
      uniform(b, -bound, bound, opts);
      this.registerParameter('bias', b);
    } else this.registerParameter('bias', null);
  }

  /** `x`: `[..., inFeatures]` → `[..., outFeatures]`. */
  forward(x: Tensor): Tensor {
    checkInput('Linear', x, [1, 2, 3, 4, 5, 6], -1, this.inFeatures, `[..., ${this.inFeatures}]`);
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** Returns its input unchanged (a placeholder, e.g. a shortcut without projection). */
export class Identity extends Module {
  /** Returns `x`. */
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens axes `startDim..endDim` into one (default: all but the batch axis). */
export class Flatten extends Module {
  /** Creates the layer. */
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  /** Flattens `x`. */
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/** Splits axis `dim` into `sizes` (inverse of {@link Flatten}). */
export class Unflatten extends Module {
  /** Creates the layer. */
  constructor(
    readonly dim: number,
    readonly sizes: readonly number[],
  ) {
    super();
    for (const s of sizes) checkPositiveInt('Unflatten', 'sizes', s);
  }

  /** Reshapes axis `dim` of `x` into `sizes`. */
  forward(x: Tensor): Tensor {
    const d = this.dim < 0 ? x.ndim + this.dim : this.dim;
    const n = this.sizes.reduce((a, b) => a * b, 1);
    if (d < 0 || d >= x.ndim || x.shape[d] !== n) {
      throw new ShapeError(
        `Unflatten: axis ${this.dim} of ${fmtShape(x.shape)} must have ${n} elements to split into ${fmtShape(this.sizes)}`,
      );
    }
    return reshape(x, [...x.shape.slice(0, d), ...this.sizes, ...x.shape.slice(d + 1)]);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, sizes=${fmtShape(this.sizes)}`;
  }
}

/**
 * Wraps a stateless function as a module, so it can sit in a {@link Sequential} (e.g. sum over time:
 * `new Lambda((x) => sum(x, 2), 'sumTime')`). The function must not own parameters.
 */
export class Lambda extends Module {
  /** Creates the layer; `name` is shown by `toString`. */
  constructor(
    readonly fn: (x: Tensor) => Tensor,
    readonly label = 'fn',
  ) {
    super();
    if (typeof fn !== 'function') throw new ValueError('Lambda: fn must be a function');
  }

  /** Applies the function. */
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }

  override extraRepr(): string {
    return this.label;
  }
}
