import { stridesOf } from '@ecgnn/kernels';
import { fmtShape, ShapeError, ValueError } from './errors.js';

/** Number of elements of a shape (1 for a scalar `[]`). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides of a shape, in elements (defined once, in `@ecgnn/kernels`). */
export { stridesOf };

/** Throws unless every dimension is a non-negative integer. */
export function checkShape(op: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(
        `${op}: invalid shape ${fmtShape(shape)}: dimensions must be non-negative integers`,
      );
    }
  }
}

/** NumPy broadcasting of two shapes; throws a ShapeError naming the op and both shapes. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` seen as broadcast to `outShape` (0 on broadcast dimensions). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = stridesOf(shape);
  const off = outShape.length - shape.length;
  const res = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < shape.length; i++) res[i + off] = shape[i] === 1 ? 0 : strides[i];
  return res;
}

/**
 * Normalises a possibly negative axis into [0, ndim). Throws a ShapeError naming the op and the rank when
 * the axis is not an integer in [−ndim, ndim) (a rank-0 tensor has no axis).
 */
export function normalizeAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${ndim}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/**
 * Normalises a list of axes (undefined = all) into sorted non-negative axes; repeated axes raise a
 * ValueError. An empty list means "no axis" (a reduction over `[]` reduces nothing, as NumPy's `axis=()`).
 * A rank-0 tensor accepts axis 0 or −1 (as PyTorch) and has nothing to reduce: the result is `[]`.
 */
export function normalizeAxes(
  op: string,
  axes: number | readonly number[] | undefined,
  ndim: number,
): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  if (!Array.isArray(list)) throw new ValueError(`${op}: axes must be a number or an array of numbers`);
  if (ndim === 0) {
    for (const a of list) {
      if (a !== 0 && a !== -1)
        throw new ShapeError(`${op}: axis ${a} is out of range for a tensor of rank 0`);
    }
    if (list.length > 1) throw new ValueError(`${op}: repeated axis in [${list.join(', ')}]`);
    return [];
  }
  const res = list.map((a) => normalizeAxis(op, a, ndim));
  const uniq = new Set(res);
  if (uniq.size !== res.length) throw new ValueError(`${op}: repeated axis in [${list.join(', ')}]`);
  return res.sort((x, y) => x - y);
}

/** Shape after reducing `axes` (kept as size 1 when keepDims). */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepDims) out.push(1);
    } else out.push(shape[i]);
  }
  return out;
}

/** True when two shapes are equal. */
export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
