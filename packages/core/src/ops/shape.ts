/**
 * Shape primitives: reshape (a copy under a new shape), permute and expand (one kernel call each), and the
 * helpers built on reshape/permute (transpose, unsqueeze, squeeze, flatten).
 */
import { kernels } from '../backend/backend.js';
import { copyStorage } from '../dtype.js';
import { fmtShape, ShapeError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { broadcastStrides, normalizeAxes, normalizeAxis, shapesEqual, sizeOf, stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { outputStorage, requireTensor, sumToShape } from './operands.js';

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    reshape: { shape: number[] };
    permute: { perm: number[] };
    expand: { shape: number[] };
  }
}

const reshapeRule: PrimitiveRule<{ shape: number[] }> = {
  forward: ([x], { shape }) => new Tensor(copyStorage(x.storage), shape),
  vjp: (g, { inputs: [x] }) => [reshape(g, x.shape)],
};

/** Same data, new shape (a copy); one dimension may be −1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  requireTensor('reshape', x);
  if (!Array.isArray(shape as unknown))
    throw new ShapeError(`reshape: shape must be an array, got ${typeof shape}`);
  const neg1 = shape.filter((d) => d === -1).length;
  if (neg1 > 1) throw new ShapeError(`reshape: only one dimension can be -1, got ${fmtShape(shape)}`);
  let target = [...shape];
  if (neg1 === 1) {
    const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
    }
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  for (const d of target) {
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`reshape: invalid target shape ${fmtShape(shape)}`);
  }
  if (sizeOf(target) !== x.size) {
    throw new ShapeError(
      `reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(target)} (${sizeOf(target)})`,
    );
  }
  if (shapesEqual(target, x.shape)) return x;
  return run('reshape', reshapeRule, [x], { shape: target });
}

const permuteRule: PrimitiveRule<{ perm: number[] }> = {
  forward: ([x], { perm }) => {
    const out = outputStorage('permute', x.dtype, x.shape);
    kernels().permute(x.storage, x.shape, perm, out);
    return new Tensor(
      out,
      perm.map((p) => x.shape[p]),
    );
  },
  vjp: (g, { attrs: { perm } }) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inv[p] = i;
    });
    return [permute(g, inv)];
  },
};

/** Reorders dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  requireTensor('permute', x);
  if (perm.length !== x.ndim) {
    throw new ShapeError(
      `permute: permutation [${perm.join(', ')}] has ${perm.length} entries for rank ${x.ndim}`,
    );
  }
  const p = perm.map((a) => normalizeAxis('permute', a, x.ndim));
  if (new Set(p).size !== p.length)
    throw new ShapeError(`permute: [${perm.join(', ')}] is not a permutation`);
  if (p.every((v, i) => v === i)) return x;
  return run('permute', permuteRule, [x], { perm: p });
}

/** Swaps two dimensions. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = normalizeAxis('transpose', dim0, x.ndim);
  const b = normalizeAxis('transpose', dim1, x.ndim);
  const perm = [...Array(x.ndim).keys()];
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

const expandRule: PrimitiveRule<{ shape: number[] }> = {
  forward: ([x], { shape }) => {
    const out = outputStorage('expand', x.dtype, shape);
    // Broadcast copy: the input's strides are 0 on broadcast dimensions. A plain copy (not x + 0) so that −0
    // and NaN payloads survive unchanged.
    kernels().copyStrided(x.storage, 0, broadcastStrides(x.shape, shape), out, 0, stridesOf(shape), shape);
    return new Tensor(out, shape);
  },
  // Σ of the gradient over the broadcast dimensions (the `reduce` kernel).
  vjp: (g, { inputs: [x] }) => [sumToShape(g, x.shape)],
};
/**
 * Broadcasts `x` to `shape` (NumPy rules: size-1 dimensions repeat, new dimensions are added in front),
 * materialising the result. −1 keeps an existing dimension; it is not allowed for new leading dimensions.
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  requireTensor('expand', x);
  if (!Array.isArray(shape as unknown))
    throw new ShapeError(`expand: shape must be an array, got ${typeof shape}`);
  const off = shape.length - x.ndim;
  if (off < 0)
    throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to fewer dimensions ${fmtShape(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= off ? x.shape[i - off] : d));
  for (const d of target) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(
        `expand: invalid target ${fmtShape(shape)} for ${fmtShape(x.shape)}: sizes must be non-negative integers (−1 only for existing dimensions)`,
      );
    }
  }
  for (let i = off; i < target.length; i++) {
    const d = x.shape[i - off];
    if (d !== 1 && d !== target[i])
      throw new ShapeError(
        `expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (dimension ${i})`,
      );
  }
  if (shapesEqual(target, x.shape)) return x;
  return run('expand', expandRule, [x], { shape: target });
}

/** Inserts a size-1 dimension at `axis` (in [−ndim−1, ndim]). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  requireTensor('unsqueeze', x);
  const a = normalizeAxis('unsqueeze', axis, x.ndim + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** Removes size-1 dimensions (all, or the given axes, which must have size 1). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  requireTensor('squeeze', x);
  if (axes === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const ax = normalizeAxes('squeeze', axes, x.ndim);
  for (const a of ax) {
    if (x.shape[a] !== 1)
      throw new ShapeError(`squeeze: dimension ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
  }
  return reshape(
    x,
    x.shape.filter((_, i) => !ax.includes(i)),
  );
}

/** Flattens dimensions startDim..endDim (inclusive, startDim ≤ endDim after normalising) into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  requireTensor('flatten', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startDim, x.ndim);
  const e = normalizeAxis('flatten', endDim, x.ndim);
  if (s > e) {
    throw new ShapeError(
      `flatten: startDim ${startDim} comes after endDim ${endDim} for a tensor of shape ${fmtShape(x.shape)}`,
    );
  }
  const shape = [
    ...x.shape.slice(0, s),
    x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1),
    ...x.shape.slice(e + 1),
  ];
  return reshape(x, shape);
}

/** The rules of this module, for the op table. */
export const shapeRules = {
  reshape: reshapeRule,
  permute: permuteRule,
  expand: expandRule,
};
