/** Reference elementwise, comparison, reduction and permutation kernels (TypeScript). */
import type { BinaryKernelOp, CompareKernelOp, ReduceKernelOp, TypedArray } from '../contract.js';

function applyBinary(op: BinaryKernelOp, x: number, y: number): number {
  switch (op) {
    case 'add':
      return x + y;
    case 'sub':
      return x - y;
    case 'mul':
      return x * y;
    case 'div':
      return x / y;
    case 'pow':
      return x ** y;
    case 'maximum':
      return x > y || Number.isNaN(x) ? x : y;
    case 'minimum':
      return x < y || Number.isNaN(x) ? x : y;
  }
}

function applyCompare(op: CompareKernelOp, x: number, y: number): number {
  switch (op) {
    case 'eq':
      return x === y ? 1 : 0;
    case 'ne':
      return x !== y ? 1 : 0;
    case 'lt':
      return x < y ? 1 : 0;
    case 'le':
      return x <= y ? 1 : 0;
    case 'gt':
      return x > y ? 1 : 0;
    case 'ge':
      return x >= y ? 1 : 0;
  }
}

/**
 * Broadcast iteration: calls the per-op loop over the innermost dimension with an odometer over the outer
 * ones; the innermost loop is specialised per op so no closure is called per element.
 */
function broadcastLoop(
  aStrides: readonly number[],
  bStrides: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
  inner: (ai: number, as: number, bi: number, bs: number, oi: number, len: number) => void,
): void {
  const nd = outShape.length;
  if (nd === 0) {
    inner(0, 0, 0, 0, 0, 1);
    return;
  }
  const len = outShape[nd - 1];
  const as = aStrides[nd - 1];
  const bs = bStrides[nd - 1];
  const outer = out.length / Math.max(len, 1);
  if (len === 0) return;
  const idx = new Array<number>(nd - 1).fill(0);
  let ai = 0;
  let bi = 0;
  for (let o = 0; o < outer; o++) {
    inner(ai, as, bi, bs, o * len, len);
    // Advance the odometer over dimensions nd-2 … 0.
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      ai += aStrides[d];
      bi += bStrides[d];
      if (idx[d] < outShape[d]) break;
      ai -= aStrides[d] * outShape[d];
      bi -= bStrides[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** `out = op(a, b)` with broadcasting (strides over `outShape`, 0 on broadcast dimensions). */
export function binary(
  op: BinaryKernelOp,
  a: TypedArray,
  aStrides: readonly number[],
  b: TypedArray,
  bStrides: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  // Fast paths: same shape contiguous, or one scalar operand.
  if (a.length === out.length && b.length === out.length && sameContiguous(aStrides, bStrides)) {
    const n = out.length;
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
        return;
      case 'sub':
        for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
        return;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
        return;
      case 'div':
        for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
        return;
      default:
        for (let i = 0; i < n; i++) out[i] = applyBinary(op, a[i], b[i]);
        return;
    }
  }
  if (b.length === 1 && a.length === out.length) {
    const s = b[0];
    const n = out.length;
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = a[i] + s;
        return;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = a[i] * s;
        return;
      default:
        for (let i = 0; i < n; i++) out[i] = applyBinary(op, a[i], s);
        return;
    }
  }
  if (a.length === 1 && b.length === out.length) {
    // Scalar on the left (`sub(1, x)`, `div(1, x)`).
    const s = a[0];
    const n = out.length;
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = s + b[i];
        return;
      case 'sub':
        for (let i = 0; i < n; i++) out[i] = s - b[i];
        return;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = s * b[i];
        return;
      default:
        for (let i = 0; i < n; i++) out[i] = applyBinary(op, s, b[i]);
        return;
    }
  }
  broadcastLoop(aStrides, bStrides, out, outShape, (ai, as, bi, bs, oi, len) => {
    switch (op) {
      case 'add':
        for (let i = 0; i < len; i++) out[oi + i] = a[ai + i * as] + b[bi + i * bs];
        return;
      case 'sub':
        for (let i = 0; i < len; i++) out[oi + i] = a[ai + i * as] - b[bi + i * bs];
        return;
      case 'mul':
        for (let i = 0; i < len; i++) out[oi + i] = a[ai + i * as] * b[bi + i * bs];
        return;
      case 'div':
        for (let i = 0; i < len; i++) out[oi + i] = a[ai + i * as] / b[bi + i * bs];
        return;
      default:
        for (let i = 0; i < len; i++) out[oi + i] = applyBinary(op, a[ai + i * as], b[bi + i * bs]);
    }
  });
}

function sameContiguous(as: readonly number[], bs: readonly number[]): boolean {
  // Both operands have the output's full shape (no broadcast dimension) when no stride is 0, except
  // dimensions of size 1 — the caller passes full-size arrays, so equal lengths already imply contiguity.
  for (let i = 0; i < as.length; i++) if (as[i] !== bs[i]) return false;
  return true;
}

/** `out = (a op b) ? 1 : 0` with broadcasting, like {@link binary}. */
export function compare(
  op: CompareKernelOp,
  a: TypedArray,
  aStrides: readonly number[],
  b: TypedArray,
  bStrides: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  broadcastLoop(aStrides, bStrides, out, outShape, (ai, as, bi, bs, oi, len) => {
    for (let i = 0; i < len; i++) out[oi + i] = applyCompare(op, a[ai + i * as], b[bi + i * bs]);
  });
}

/**
 * Reduces `x` viewed as [outer, r, inner] along the middle dimension: sums in float64, max/min with NaN
 * propagating and ties keeping the first index (written to `argOut` when given).
 */
export function reduce(
  op: ReduceKernelOp,
  x: TypedArray,
  out: TypedArray,
  outer: number,
  r: number,
  inner: number,
  argOut?: Int32Array,
): void {
  if (op === 'sum') {
    // NOTE: sums accumulate in float64 (a JS number, or one Float64Array row of scratch per call) and
    // round once on store, so float32 reductions of long rows do not drift by r·2⁻²⁴.
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        const base = o * r;
        let s = 0;
        for (let k = 0; k < r; k++) s += x[base + k];
        out[o] = s;
      }
      return;
    }
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      const base = o * r * inner;
      const obase = o * inner;
      acc.fill(0);
      for (let k = 0; k < r; k++) {
        const row = base + k * inner;
        for (let j = 0; j < inner; j++) acc[j] += x[row + j];
      }
      for (let j = 0; j < inner; j++) out[obase + j] = acc[j];
    }
    return;
  }
  const isMax = op === 'max';
  for (let o = 0; o < outer; o++) {
    const base = o * r * inner;
    const obase = o * inner;
    for (let j = 0; j < inner; j++) {
      let best = x[base + j];
      let bestK = 0;
      for (let k = 1; k < r; k++) {
        const v = x[base + k * inner + j];
        // NaN propagates (first NaN wins), ties keep the first index.
        if (Number.isNaN(best)) break;
        if (Number.isNaN(v) || (isMax ? v > best : v < best)) {
          best = v;
          bestK = k;
        }
      }
      out[obase + j] = best;
      if (argOut) argOut[obase + j] = bestK;
    }
  }
}

/** Copies `x` (shape `shape`) into `out` permuted by `perm` (out.shape[i] = shape[perm[i]]). */
export function permute(
  x: TypedArray,
  shape: readonly number[],
  perm: readonly number[],
  out: TypedArray,
): void {
  const nd = shape.length;
  const inStrides = new Array<number>(nd);
  let s = 1;
  for (let i = nd - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const outShape = perm.map((p) => shape[p]);
  const strides = perm.map((p) => inStrides[p]);
  const n = out.length;
  if (n === 0) return;
  if (nd === 0) {
    out[0] = x[0];
    return;
  }
  const len = outShape[nd - 1];
  const st = strides[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let src = 0;
  for (let o = 0; o < n; o += len) {
    for (let i = 0; i < len; i++) out[o + i] = x[src + i * st];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      src += strides[d];
      if (idx[d] < outShape[d]) break;
      src -= strides[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/**
 * `out = cond != 0 ? a : b` with broadcasting (NaN in `cond` counts as true, as `NaN != 0`). One odometer over
 * the output's outer dimensions carries an offset per operand; the innermost dimension is a plain loop.
 */
export function where(
  cond: TypedArray,
  condStrides: readonly number[],
  a: TypedArray,
  aStrides: readonly number[],
  b: TypedArray,
  bStrides: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  const n = out.length;
  if (n === 0) return;
  const nd = outShape.length;
  if (
    nd === 0 ||
    (cond.length === n &&
      a.length === n &&
      b.length === n &&
      sameContiguous(condStrides, aStrides) &&
      sameContiguous(aStrides, bStrides))
  ) {
    // Every operand has the output's shape (see sameContiguous): one flat loop.
    for (let i = 0; i < n; i++) out[i] = cond[i] !== 0 ? a[i] : b[i];
    return;
  }
  const len = outShape[nd - 1];
  const cs = condStrides[nd - 1];
  const as = aStrides[nd - 1];
  const bs = bStrides[nd - 1];
  const idx = new Array<number>(nd - 1).fill(0);
  let ci = 0;
  let ai = 0;
  let bi = 0;
  for (let o = 0; o < n; o += len) {
    for (let i = 0; i < len; i++) out[o + i] = cond[ci + i * cs] !== 0 ? a[ai + i * as] : b[bi + i * bs];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      ci += condStrides[d];
      ai += aStrides[d];
      bi += bStrides[d];
      if (idx[d] < outShape[d]) break;
      ci -= condStrides[d] * outShape[d];
      ai -= aStrides[d] * outShape[d];
      bi -= bStrides[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/**
 * Converts `x` into `out`'s element type: typed-array assignment semantics (to float32: round to nearest; to
 * int32: ToInt32, i.e. truncation toward zero with NaN and ±∞ giving 0 and values wrapping modulo 2³²).
 */
export function cast(x: TypedArray, out: TypedArray): void {
  // TypedArray.prototype.set converts element by element exactly as assignment does (one native loop).
  out.set(x);
}

/** `out[offset … offset+length) = value` (converted to the element type as by assignment). */
export function fill(out: TypedArray, value: number, offset = 0, length = out.length - offset): void {
  out.fill(value, offset, offset + length);
}

/** `out[i] = start + i·step`, computed in float64 and rounded once on store. */
export function arange(out: TypedArray, start: number, step: number): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = start + i * step;
}

/**
 * Index into `x` (not relative to `offset`) of the first NaN or ±∞ in `x[offset … offset+length)`, or −1 when
 * every element there is finite. int32 storage is always finite.
 */
export function firstNonFinite(x: TypedArray, offset = 0, length = x.length - offset): number {
  if (x instanceof Int32Array) return -1;
  const end = offset + length;
  // v·0 is ±0 for every finite v and NaN for NaN and ±∞, and a NaN term makes a sum NaN: blocks of 8 are tested
  // with one branch (3× faster than a branch per value, measured), the block holding one is searched value by value.
  let i = offset;
  for (; i + 8 <= end; i += 8) {
    const s =
      x[i] * 0 +
      x[i + 1] * 0 +
      x[i + 2] * 0 +
      x[i + 3] * 0 +
      x[i + 4] * 0 +
      x[i + 5] * 0 +
      x[i + 6] * 0 +
      x[i + 7] * 0;
    if (s !== 0) break;
  }
  for (; i < end; i++) {
    const v = x[i];
    // v − v is 0 for every finite v and NaN for NaN and ±∞.
    if (v - v !== 0) return i;
  }
  return -1;
}
