/** Reference elementwise, comparison, reduction and permutation kernels (TypeScript). */
import type { BinaryKernelOp, CompareKernelOp, ReduceKernelOp, TypedArray } from '../contract.js';
import { notImplemented } from './pending.js';

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
  notImplemented('where', cond, condStrides, a, aStrides, b, bStrides, out, outShape);
}

export function cast(x: TypedArray, out: TypedArray): void {
  notImplemented('cast', x, out);
}

export function fill(out: TypedArray, value: number, offset = 0, length = out.length - offset): void {
  notImplemented('fill', out, value, offset, length);
}

export function arange(out: TypedArray, start: number, step: number): void {
  notImplemented('arange', out, start, step);
}

export function firstNonFinite(x: TypedArray, offset = 0, length = x.length - offset): number {
  return notImplemented('firstNonFinite', x, offset, length);
}
