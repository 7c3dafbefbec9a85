/** Reference layout and indexing kernels: strided copies, gather / index-select and their adjoints. */
import type { FloatArray, TypedArray } from '../contract.js';
import { stridesOf } from '../params.js';

/**
 * Rows at least this long are copied with `TypedArray.prototype.set` on a subarray (a native memcpy when the
 * element types match); shorter rows with a plain loop, cheaper than creating the subarray view.
 */
const NATIVE_COPY_MIN = 64;

/**
 * Strided copy over the index space `shape`:
 * `dst[dstOffset + Σ i_d·dstStrides_d] (+)= src[srcOffset + Σ i_d·srcStrides_d]`.
 *
 * Dimensions of size 1 are dropped and neighbouring dimensions that are contiguous in both operands are merged
 * first, so a slice of whole rows or a concat becomes a few long runs. Along the innermost (merged) dimension
 * a run contiguous in both operands is a native copy, a source stride 0 (broadcast) a native fill; anything
 * else is a plain strided loop. Strides may be negative or 0 (for `src`); with `accumulate` the `dst`
 * positions must be distinct.
 */
export function copyStrided(
  src: TypedArray,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
  accumulate = false,
): void {
  const dims: number[] = [];
  const ss: number[] = [];
  const ds: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const len = shape[d];
    if (len === 0) return;
    if (len === 1) continue;
    const k = dims.length - 1;
    // Merge into the previous (outer) dimension when stepping it equals stepping this one `len` times.
    if (k >= 0 && ss[k] === srcStrides[d] * len && ds[k] === dstStrides[d] * len) {
      dims[k] *= len;
      ss[k] = srcStrides[d];
      ds[k] = dstStrides[d];
    } else {
      dims.push(len);
      ss.push(srcStrides[d]);
      ds.push(dstStrides[d]);
    }
  }
  const m = dims.length;
  if (m === 0) {
    // A single element.
    if (accumulate) dst[dstOffset] += src[srcOffset];
    else dst[dstOffset] = src[srcOffset];
    return;
  }
  const len = dims[m - 1];
  const sIn = ss[m - 1];
  const dIn = ds[m - 1];
  let rows = 1;
  for (let d = 0; d < m - 1; d++) rows *= dims[d];
  const idx = new Array<number>(m).fill(0);
  let si = srcOffset;
  let di = dstOffset;
  for (let r = 0; r < rows; r++) {
    copyRow(src, si, sIn, dst, di, dIn, len, accumulate);
    // Advance the odometer over the outer dimensions m-2 … 0.
    for (let d = m - 2; d >= 0; d--) {
      idx[d]++;
      si += ss[d];
      di += ds[d];
      if (idx[d] < dims[d]) break;
      si -= ss[d] * dims[d];
      di -= ds[d] * dims[d];
      idx[d] = 0;
    }
  }
}

/** One innermost run of {@link copyStrided}. */
function copyRow(
  src: TypedArray,
  si: number,
  ss: number,
  dst: TypedArray,
  di: number,
  ds: number,
  len: number,
  accumulate: boolean,
): void {
  if (accumulate) {
    if (ss === 1 && ds === 1) for (let i = 0; i < len; i++) dst[di + i] += src[si + i];
    else for (let i = 0; i < len; i++) dst[di + i * ds] += src[si + i * ss];
    return;
  }
  if (ds === 1) {
    if (ss === 1) {
      if (len >= NATIVE_COPY_MIN) dst.set(src.subarray(si, si + len), di);
      else for (let i = 0; i < len; i++) dst[di + i] = src[si + i];
      return;
    }
    if (ss === 0) {
      dst.fill(src[si], di, di + len);
      return;
    }
  }
  for (let i = 0; i < len; i++) dst[di + i * ds] = src[si + i * ss];
}

/**
 * Geometry of the walk over {@link gather}'s index space: element j of the innermost run that starts at flat
 * position `pos` of `index` / `out` reads `x[base + j·innerStep + index[pos + j]·axisStride]`, where `base` is
 * carried by an odometer over the outer index dimensions (stepping `steps[d]`).
 */
interface GatherGeometry {
  /** Length of the innermost run. */
  len: number;
  /** Stride in x of the innermost index dimension (0 when it is the gathered axis). */
  innerStep: number;
  /** Stride in x of the gathered axis. */
  axisStride: number;
  /** Strides in x of the outer index dimensions (0 for the gathered axis). */
  steps: number[];
}

function gatherGeometry(
  xShape: readonly number[],
  indexShape: readonly number[],
  axis: number,
): GatherGeometry {
  const xs = stridesOf(xShape);
  const nd = indexShape.length;
  const steps = xs.map((s, d) => (d === axis ? 0 : s));
  return { len: indexShape[nd - 1], innerStep: steps[nd - 1], axisStride: xs[axis], steps };
}

/**
 * `torch.gather` along `axis`: `out[p] = x[p with coordinate axis replaced by index[p]]` for every position p of
 * `indexShape` (offsets computed here with an odometer, no per-element division).
 */
export function gather(
  x: TypedArray,
  xShape: readonly number[],
  index: Int32Array,
  indexShape: readonly number[],
  axis: number,
  out: TypedArray,
): void {
  const n = index.length;
  if (n === 0) return;
  const { len, innerStep, axisStride, steps } = gatherGeometry(xShape, indexShape, axis);
  const nd = indexShape.length;
  const idx = new Array<number>(nd).fill(0);
  let base = 0;
  for (let o = 0; o < n; o += len) {
    for (let j = 0; j < len; j++) out[o + j] = x[base + j * innerStep + index[o + j] * axisStride];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      base += steps[d];
      if (idx[d] < indexShape[d]) break;
      base -= steps[d] * indexShape[d];
      idx[d] = 0;
    }
  }
}

/** Adjoint of {@link gather}: `gx` (shape `xShape`) is zeroed, then each `g[p]` is added where `out[p]` was read. */
export function gatherBackward(
  g: FloatArray,
  xShape: readonly number[],
  index: Int32Array,
  indexShape: readonly number[],
  axis: number,
  gx: FloatArray,
): void {
  gx.fill(0);
  const n = index.length;
  if (n === 0) return;
  const { len, innerStep, axisStride, steps } = gatherGeometry(xShape, indexShape, axis);
  const nd = indexShape.length;
  const idx = new Array<number>(nd).fill(0);
  let base = 0;
  for (let o = 0; o < n; o += len) {
    // Scatter-add: repeated indices accumulate.
    for (let j = 0; j < len; j++) gx[base + j * innerStep + index[o + j] * axisStride] += g[o + j];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      base += steps[d];
      if (idx[d] < indexShape[d]) break;
      base -= steps[d] * indexShape[d];
      idx[d] = 0;
    }
  }
}

/**
 * `index_select` on `x` viewed as [outer, axisLen, inner]: `out[o, j, :] = x[o, index[j], :]` (out is
 * [outer, index.length, inner]). Long rows are native copies.
 */
export function indexSelect(
  x: TypedArray,
  outer: number,
  axisLen: number,
  inner: number,
  index: Int32Array,
  out: TypedArray,
): void {
  const k = index.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const src = (o * axisLen + index[j]) * inner;
      const dst = (o * k + j) * inner;
      if (inner >= NATIVE_COPY_MIN) out.set(x.subarray(src, src + inner), dst);
      else for (let i = 0; i < inner; i++) out[dst + i] = x[src + i];
    }
  }
}

/** Adjoint of {@link indexSelect}: `gx` ([outer, axisLen, inner]) is zeroed, then every row of `g` added back. */
export function indexSelectBackward(
  g: FloatArray,
  outer: number,
  axisLen: number,
  inner: number,
  index: Int32Array,
  gx: FloatArray,
): void {
  gx.fill(0);
  const k = index.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const dst = (o * axisLen + index[j]) * inner;
      const src = (o * k + j) * inner;
      for (let i = 0; i < inner; i++) gx[dst + i] += g[src + i];
    }
  }
}
