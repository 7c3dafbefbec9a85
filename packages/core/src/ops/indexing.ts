/**
 * Selection primitives: `where` (elementwise choice with broadcasting), `gather` and `indexSelect` (reads at
 * int32 indices, whose gradients scatter-add back). Forwards and gradients are kernel calls.
 */
import { kernels } from '../backend/backend.js';
import { type DType, type FloatArray, isFloat } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { broadcastShapes, broadcastStrides, normalizeAxis, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import {
  binaryOperands,
  outputStorage,
  requireTensor,
  scalarLike,
  sumToShape as sumTo,
  type TensorLike,
  zerosOf,
} from './operands.js';

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    where: undefined;
    gather: { axis: number };
    indexSelect: { axis: number };
  }
}

const whereRule: PrimitiveRule<undefined> = {
  forward: ([c, a, b]) => {
    const shape = broadcastShapes('where', broadcastShapes('where', c.shape, a.shape), b.shape);
    const out = outputStorage('where', a.dtype, shape);
    kernels().where(
      c.storage,
      broadcastStrides(c.shape, shape),
      a.storage,
      broadcastStrides(a.shape, shape),
      b.storage,
      broadcastStrides(b.shape, shape),
      out,
      shape,
    );
    return new Tensor(out, shape);
  },
  nonDifferentiable: [0],
  vjp: (g, { inputs: [c, a, b], needsGrad }) => {
    const z = zerosOf(g);
    return [
      null,
      needsGrad[1] ? sumTo(where(c, g, z), a.shape) : null,
      needsGrad[2] ? sumTo(where(c, z, g), b.shape) : null,
    ];
  },
};

/**
 * Elementwise `cond ? a : b` with broadcasting over all three. `cond` is a tensor of any dtype, non-zero
 * (and NaN) meaning true. `a` and `b` may be numbers: a number takes the other operand's dtype, or the
 * dtype of a float `cond` when both are numbers (float32 otherwise). Only `a` and `b` get gradients.
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (!(cond instanceof Tensor)) throw new DTypeError(`where: cond must be a Tensor, got ${typeof cond}`);
  let ta: Tensor;
  let tb: Tensor;
  if (typeof a === 'number' && typeof b === 'number') {
    const dt: DType = isFloat(cond.dtype) ? cond.dtype : 'float32';
    ta = scalarLike(a, dt);
    tb = scalarLike(b, dt);
  } else [ta, tb] = binaryOperands('where', a, b);
  broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  return run('where', whereRule, [cond, ta, tb], undefined);
}

function checkIndex(op: string, x: Tensor, index: Tensor): void {
  requireTensor(op, x);
  if (!(index instanceof Tensor))
    throw new DTypeError(`${op}: index must be an int32 Tensor, got ${typeof index}`);
  if (index.dtype !== 'int32') throw new DTypeError(`${op}: index must be int32, got ${index.dtype}`);
  if (x.ndim === 0) throw new ShapeError(`${op}: input must have at least one dimension, got shape []`);
}

/** Throws a ShapeError naming the first index outside [0, x.shape[axis]) (range found with two reductions). */
function checkIndexRange(op: string, x: Tensor, axis: number, index: Tensor): void {
  const n = index.size;
  if (n === 0) return;
  const size = x.shape[axis];
  const lo = new Int32Array(1);
  const hi = new Int32Array(1);
  kernels().reduce('min', index.storage, lo, 1, n, 1);
  kernels().reduce('max', index.storage, hi, 1, n, 1);
  if (lo[0] >= 0 && hi[0] < size) return;
  const bad = (index.data as Int32Array).find((v) => v < 0 || v >= size);
  throw new ShapeError(
    `${op}: index ${bad} out of range for axis ${axis} of size ${size} (input ${fmtShape(x.shape)})`,
  );
}

const gatherRule: PrimitiveRule<{ axis: number }> = {
  nonDifferentiable: [1],
  forward: ([x, index], { axis }) => {
    const out = outputStorage('gather', x.dtype, index.shape);
    kernels().gather(x.storage, x.shape, index.storage as Int32Array, index.shape, axis, out);
    return new Tensor(out, index.shape);
  },
  // Scatter-add: repeated indices accumulate.
  vjp: (g, { inputs: [x, index], attrs: { axis } }) => {
    const gx = outputStorage('gather', g.dtype, x.shape) as FloatArray;
    kernels().gatherBackward(
      g.storage as FloatArray,
      x.shape,
      index.storage as Int32Array,
      index.shape,
      axis,
      gx,
    );
    return [new Tensor(gx, x.shape), null];
  },
};

/**
 * `torch.gather`: out[i][j][k] = x[index[i][j][k]][j][k] for axis 0, etc. `index` is int32 with the same
 * rank as `x` and no larger in any dimension but `axis`.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('gather', x, index);
  const a = normalizeAxis('gather', axis, x.ndim);
  if (index.ndim !== x.ndim)
    throw new ShapeError(`gather: index rank ${index.ndim} differs from input rank ${x.ndim}`);
  for (let d = 0; d < x.ndim; d++) {
    if (d !== a && index.shape[d] > x.shape[d]) {
      throw new ShapeError(
        `gather: index shape ${fmtShape(index.shape)} exceeds input ${fmtShape(x.shape)} at dim ${d}`,
      );
    }
  }
  checkIndexRange('gather', x, a, index);
  return run('gather', gatherRule, [x, index], { axis: a });
}

/** [outer, axisLen, inner] view of `shape` around `axis`. */
function aroundAxis(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

const indexSelectRule: PrimitiveRule<{ axis: number }> = {
  nonDifferentiable: [1],
  forward: ([x, index], { axis }) => {
    const [outer, n, inner] = aroundAxis(x.shape, axis);
    const shape = [...x.shape];
    shape[axis] = index.size;
    const out = outputStorage('indexSelect', x.dtype, shape);
    kernels().indexSelect(x.storage, outer, n, inner, index.storage as Int32Array, out);
    return new Tensor(out, shape);
  },
  vjp: (g, { inputs: [x, index], attrs: { axis } }) => {
    const [outer, n, inner] = aroundAxis(x.shape, axis);
    const gx = outputStorage('indexSelect', g.dtype, x.shape) as FloatArray;
    kernels().indexSelectBackward(g.storage as FloatArray, outer, n, inner, index.storage as Int32Array, gx);
    return [new Tensor(gx, x.shape), null];
  },
};

/** Selects entries `index` (1-D int32) along `axis` (like `torch.index_select`; embeddings use this). */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('indexSelect', x, index);
  if (index.ndim !== 1) throw new ShapeError(`indexSelect: index must be 1-D, got ${fmtShape(index.shape)}`);
  const a = normalizeAxis('indexSelect', axis, x.ndim);
  checkIndexRange('indexSelect', x, a, index);
  return run('indexSelect', indexSelectRule, [x, index], { axis: a });
}

/** The rules of this module, for the op table. */
export const indexingRules = {
  where: whereRule,
  gather: gatherRule,
  indexSelect: indexSelectRule,
};
