/** Small helpers shared by the layer modules (argument checks, parameter creation). */
import type { FloatDType } from '../dtype.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { zeros } from '../ops/creation.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Parameter } from './parameter.js';

/** Options every layer with parameters accepts. */
export interface LayerOptions {
  /** Generator for the initial weights; the global default (see `manualSeed`) when omitted. */
  generator?: Generator;
  /** Dtype of parameters and buffers (default float32; float64 for gradient checks). */
  dtype?: FloatDType;
}

/** A zero-filled trainable parameter of `shape`. */
export function newParameter(shape: readonly number[], dtype: FloatDType = 'float32'): Parameter {
  return new Parameter(zeros(shape, { dtype }));
}

/** Throws a ValueError unless `v` is a positive integer. */
export function checkPositiveInt(layer: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    throw new ValueError(`${layer}: ${what} must be a positive integer, got ${v}`);
}

/** Throws a ValueError unless `v` is a non-negative integer. */
export function checkNonNegativeInt(layer: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0)
    throw new ValueError(`${layer}: ${what} must be a non-negative integer, got ${v}`);
}

/**
 * Throws a ShapeError unless `x` has one of the ranks in `ranks` and size `size` at `axis`
 * (when given). `expected` describes the layout for the message, e.g. `[N, 4, L]`.
 */
export function checkInput(
  layer: string,
  x: Tensor,
  ranks: readonly number[],
  axis: number | null,
  size: number | null,
  expected: string,
): void {
  const ok =
    ranks.includes(x.ndim) &&
    (axis === null || size === null || x.shape[axis < 0 ? x.ndim + axis : axis] === size);
  if (!ok) throw new ShapeError(`${layer}: expected input ${expected}, got ${fmtShape(x.shape)}`);
}
