/**
 * @internal Helpers shared by the basic primitives' modules (elementwise, reduce, shape, indexing, cast):
 * operand checks and conversions, output allocation, and the reduction driver. They import no op module, so
 * the op modules can use each other's vjps without an import cycle; the gradient helper {@link sumToShape}
 * is a kernel call here for the same reason.
 */
import { kernels } from '../backend/backend.js';
import type { ReduceKernelOp } from '../backend/kernels.js';
import {
  allocate,
  allocateUninitialized,
  type DType,
  isFloat,
  releaseStorage,
  type TypedArray,
} from '../dtype.js';
import { DTypeError, fmtShape, ShapeError } from '../errors.js';
import { shapesEqual, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

/** A tensor or a plain number (broadcast as a scalar of the other operand's dtype). */
export type TensorLike = Tensor | number;

/** A rank-0 tensor holding `v`. */
export function scalarLike(v: number, dtype: DType): Tensor {
  const s = allocate(dtype, 1);
  s[0] = v;
  return new Tensor(s, []);
}

/** A rank-0 zero of `t`'s dtype. */
export function zerosOf(t: Tensor): Tensor {
  return new Tensor(allocate(t.dtype, 1), []);
}

function describe(x: unknown): string {
  return x === null
    ? 'null'
    : typeof x === 'object'
      ? ((x as object).constructor?.name ?? 'object')
      : typeof x;
}

function toTensor(op: string, x: TensorLike, like: Tensor): Tensor {
  if (typeof x === 'number') return scalarLike(x, like.dtype);
  if (!(x instanceof Tensor))
    throw new DTypeError(`${op}: expected a Tensor or a number, got ${describe(x)}`);
  return x;
}

/** The two operands of a binary op as tensors of one dtype (a number takes the other operand's dtype). */
export function binaryOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number')
    return [scalarLike(a, 'float32'), scalarLike(b, 'float32')];
  const ta =
    typeof a === 'number' ? toTensor(op, a, toTensor(op, b, b as Tensor)) : toTensor(op, a, a as Tensor);
  const tb = toTensor(op, b, ta);
  if (ta.dtype !== tb.dtype) {
    throw new DTypeError(`${op}: dtypes differ (${ta.dtype} and ${tb.dtype}); convert one with .to(dtype)`);
  }
  return [ta, tb];
}

/** Throws a DTypeError naming `op` unless `t` is float. */
export function requireFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new DTypeError(
      `${op}: expected a float tensor, got ${t.dtype} ${fmtShape(t.shape)}; convert with .to('float32')`,
    );
  }
}

/** Throws a DTypeError naming `op` unless `x` is a Tensor. */
export function requireTensor(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(`${op}: expected a Tensor, got ${describe(x)}`);
}

/**
 * Storage for the output of `op` with `shape`, for kernels that assign every element (recycled storage is not
 * zero-filled). An allocation failure names the op and the shape.
 */
export function outputStorage(op: string, dtype: DType, shape: readonly number[]): TypedArray {
  return allocateUninitialized(dtype, sizeOf(shape), op, shape);
}

/** Zeroed storage for the output of `op` with `shape` (for outputs a kernel writes only in part). */
export function zeroedStorage(op: string, dtype: DType, shape: readonly number[]): TypedArray {
  return allocate(dtype, sizeOf(shape), op, shape);
}

/**
 * Reduces `x` over the sorted `axes` with the `reduce` kernel, keeping the reduced axes' positions out of the
 * result (the caller gives it its shape). When the axes are not one contiguous block, `x` is first permuted so
 * that they are (kept axes first, reduced axes last). `argOut` receives the first extremum's index along the
 * (single) axis. Reducing no axis copies `x`.
 *
 * @throws ShapeError for max/min over an empty dimension.
 */
export function reduceAxes(
  op: ReduceKernelOp,
  x: Tensor,
  axes: readonly number[],
  argOut?: Int32Array,
): TypedArray {
  const nd = x.ndim;
  const contiguous = axes.length === 0 || axes[axes.length - 1] - axes[0] === axes.length - 1;
  if (!contiguous && op === 'sum') return sumOverRuns(x, axes);
  let src = x.storage;
  let shape = x.shape;
  let ax = axes;
  let temp: TypedArray | null = null;
  if (!contiguous) {
    const keep = [...Array(nd).keys()].filter((i) => !axes.includes(i));
    const perm = [...keep, ...axes];
    temp = allocateUninitialized(x.dtype, x.size, op, x.shape);
    kernels().permute(x.storage, x.shape, perm, temp);
    src = temp;
    shape = perm.map((i) => x.shape[i]);
    ax = axes.map((_, i) => keep.length + i);
  }
  let outer = 1;
  let r = 1;
  let inner = 1;
  for (let i = 0; i < shape.length; i++) {
    if (ax.length > 0 && i < ax[0]) outer *= shape[i];
    else if (ax.includes(i)) r *= shape[i];
    else inner *= shape[i];
  }
  if (ax.length === 0) {
    outer = x.size;
    r = 1;
    inner = 1;
  }
  if (r === 0 && op !== 'sum') {
    throw new ShapeError(`${op}: cannot reduce over an empty dimension (shape ${fmtShape(x.shape)})`);
  }
  const outShape = x.shape.filter((_, i) => !axes.includes(i));
  const out = allocateUninitialized(x.dtype, outer * inner, op, outShape);
  kernels().reduce(op, src, out, outer, r, inner, argOut);
  // The permuted copy is ours alone: hand it back to the storage pool.
  if (temp !== null) releaseStorage(temp);
  return out;
}

/**
 * Σ of `x` over the sorted, not contiguous `axes` without a permuted copy: one `reduce` call per run of adjacent
 * axes, innermost run first (e.g. a conv bias gradient, Σ over axes 0 and 2 of [B, C, L]: rows of L summed, then
 * the B rows of C). Partial sums stay in float64 between calls, as the reference kernel's single sum would.
 */
function sumOverRuns(x: Tensor, axes: readonly number[]): TypedArray {
  const runs: number[][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && a === last[last.length - 1] + 1) last.push(a);
    else runs.push([a]);
  }
  let src = x.storage;
  let shape = x.shape.slice();
  for (let k = runs.length - 1; k >= 0; k--) {
    const run = runs[k];
    const outer = sizeOf(shape.slice(0, run[0]));
    const r = sizeOf(shape.slice(run[0], run[run.length - 1] + 1));
    const inner = sizeOf(shape.slice(run[run.length - 1] + 1));
    const keptShape = [...shape.slice(0, run[0]), ...shape.slice(run[run.length - 1] + 1)];
    const out =
      k === 0
        ? allocateUninitialized(x.dtype, outer * inner, 'sum', keptShape)
        : allocateUninitialized('float64', outer * inner, 'sum', keptShape);
    kernels().reduce('sum', src, out, outer, r, inner);
    if (src !== x.storage) releaseStorage(src);
    src = out;
    shape = keptShape;
  }
  return src;
}

/**
 * Sums `g` down to `shape` (undoing broadcasting: leading extra dimensions, and dimensions where `shape` is 1,
 * are summed), without recording: the gradient of broadcasting ops. `g` itself when the shapes agree.
 * The differentiable, checked form is `sumTo`.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return new Tensor(reduceAxes('sum', g, axes), shape);
}
