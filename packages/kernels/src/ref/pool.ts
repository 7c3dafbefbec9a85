/** Reference 1-D pooling kernels: max, average and adaptive, forward and backward, float32 and float64. */
import type { FloatArray, Pool1dParams } from '../contract.js';

// Pooling (O(B·C·L·kernel) direct loops; the window bounds are clipped once per output, not per element)

/**
 * Max pooling with −∞ padding: out[r, t] = max over k of x[r, t·s + k·d − padLeft] (in-range positions only);
 * `argOut[r·outLength + t]` receives the position (0 … inLength−1) of the first maximum, or −1 when the window
 * holds no input. NaN propagates (the first NaN wins), as in PyTorch.
 *
 * Windows lying wholly inside the row (`t` in `[tIn0, tIn1)`) run a loop without bounds; only the few windows
 * at the edges clip their taps. Without `argOut` (inference) the loop tracks no index.
 */
export function maxPool1d(x: FloatArray, out: FloatArray, argOut: Int32Array | null, p: Pool1dParams): void {
  const { inLength: L, outLength: T, kernelSize: K, stride: s, padLeft, dilation: d } = p;
  const rows = p.batch * p.channels;
  // Interior: start = t·s − padLeft ≥ 0 and start + d·(K − 1) ≤ L − 1.
  const tIn0 = Math.min(T, Math.ceil(padLeft / s));
  const tIn1 = Math.max(tIn0, Math.min(T, Math.floor((L - 1 - d * (K - 1) + padLeft) / s) + 1));
  if (argOut === null) maxInterior(x, out, rows, L, T, K, s, d, padLeft, tIn0, tIn1);
  else maxInteriorArg(x, out, argOut, rows, L, T, K, s, d, padLeft, tIn0, tIn1);
  if (tIn0 === 0 && tIn1 === T) return;
  for (let r = 0; r < rows; r++) {
    const xr = r * L;
    const or = r * T;
    for (let t = 0; t < T; t++) {
      if (t === tIn0) t = tIn1; // edge windows only
      if (t >= T) break;
      const start = t * s - padLeft;
      // First tap k0 with start + k0·d ≥ 0 and last tap with position < inLength.
      const k0 = start >= 0 ? 0 : Math.ceil(-start / d);
      const k1 = Math.min(K, Math.ceil((L - start) / d));
      let best = Number.NEGATIVE_INFINITY;
      let arg = -1;
      for (let k = k0; k < k1; k++) {
        const pos = start + k * d;
        const v = x[xr + pos];
        if (arg < 0 || (!(v <= best) && !Number.isNaN(best))) {
          best = v;
          arg = pos;
        }
      }
      out[or + t] = best;
      if (argOut !== null) argOut[or + t] = arg;
    }
  }
}

/** Interior windows of {@link maxPool1d} without indices. */
function maxInterior(
  x: FloatArray,
  out: FloatArray,
  rows: number,
  L: number,
  T: number,
  K: number,
  s: number,
  d: number,
  padLeft: number,
  tIn0: number,
  tIn1: number,
): void {
  for (let r = 0; r < rows; r++) {
    const or = r * T;
    let i = r * L + tIn0 * s - padLeft;
    for (let t = tIn0; t < tIn1; t++, i += s) {
      let best = x[i];
      let j = i;
      // v > best, or v is NaN: a NaN best is never replaced (v > NaN is false; NaN by NaN changes nothing).
      for (let k = 1; k < K; k++) {
        j += d;
        const v = x[j];
        if (v > best || Number.isNaN(v)) best = v;
      }
      out[or + t] = best;
    }
  }
}

/** Interior windows of {@link maxPool1d} with indices (positions within the row). */
function maxInteriorArg(
  x: FloatArray,
  out: FloatArray,
  argOut: Int32Array,
  rows: number,
  L: number,
  T: number,
  K: number,
  s: number,
  d: number,
  padLeft: number,
  tIn0: number,
  tIn1: number,
): void {
  for (let r = 0; r < rows; r++) {
    const xr = r * L;
    const or = r * T;
    let i = xr + tIn0 * s - padLeft;
    for (let t = tIn0; t < tIn1; t++, i += s) {
      let best = x[i];
      let arg = i;
      let j = i;
      for (let k = 1; k < K; k++) {
        j += d;
        const v = x[j];
        // Not v ≤ best: v larger or NaN (strict, so the first of tied maxima stays); the first NaN wins and stays.
        if (!(v <= best) && !Number.isNaN(best)) {
          best = v;
          arg = j;
        }
      }
      out[or + t] = best;
      argOut[or + t] = arg - xr;
    }
  }
}

/**
 * Gradient of max pooling (plain and adaptive): gradX (overwritten) receives g[r, t] at the saved argmax
 * position of each output; outputs without input (arg −1) contribute nothing.
 */
export function maxPool1dBackward(
  g: FloatArray,
  arg: Int32Array,
  gradX: FloatArray,
  rows: number,
  inLength: number,
  outLength: number,
): void {
  gradX.fill(0);
  for (let r = 0; r < rows; r++) {
    const xr = r * inLength;
    const or = r * outLength;
    for (let t = 0; t < outLength; t++) {
      const a = arg[or + t];
      if (a >= 0) gradX[xr + a] += g[or + t];
    }
  }
}

/**
 * Average pooling with symmetric zero padding `padLeft` (PyTorch avg_pool1d): the window
 * [t·s − p, t·s − p + K) is clipped to [−p, L + p) for the divisor when `countIncludePad`, to [0, L) otherwise.
 */
export function avgPool1d(x: FloatArray, out: FloatArray, p: Pool1dParams, countIncludePad: boolean): void {
  const { inLength: L, outLength: T, kernelSize: K, stride: s, padLeft } = p;
  const rows = p.batch * p.channels;
  // Windows wholly inside the row (start ≥ 0, start + K ≤ L) divide by K under both divisor rules; the
  // edge windows take the general loop. The interior runs four rows at a time (as adaptiveAvgPool1d: four
  // independent chains of adds, each row's sum in its own order; the global mean of a row is one window).
  const tIn0 = Math.min(T, Math.ceil(padLeft / s));
  const tIn1 = Math.max(tIn0, Math.min(T, Math.floor((L - K + padLeft) / s) + 1));
  for (let r = 0; r < rows; r += 4) {
    const n = Math.min(4, rows - r);
    const d1 = n > 1 ? L : 0;
    const d2 = n > 2 ? 2 * L : 0;
    const d3 = n > 3 ? 3 * L : 0;
    let i = r * L + tIn0 * s - padLeft;
    for (let t = tIn0; t < tIn1; t++, i += s) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = i, e = i + K; j < e; j++) {
        s0 += x[j];
        s1 += x[j + d1];
        s2 += x[j + d2];
        s3 += x[j + d3];
      }
      const o = r * T + t;
      out[o] = s0 / K;
      if (n > 1) out[o + T] = s1 / K;
      if (n > 2) out[o + 2 * T] = s2 / K;
      if (n > 3) out[o + 3 * T] = s3 / K;
    }
  }
  if (tIn0 > 0 || tIn1 < T) avgPoolCore(x, out, p, countIncludePad, false, tIn0, tIn1);
}

/** Adjoint of {@link avgPool1d}: gradX (overwritten) gets g[r, t]/divisor over each window. */
export function avgPool1dBackward(
  g: FloatArray,
  gradX: FloatArray,
  p: Pool1dParams,
  countIncludePad: boolean,
): void {
  avgPoolCore(g, gradX, p, countIncludePad, true, 0, 0);
}

/**
 * Average pooling (`backward` false) or its adjoint (true): one loop for both, so the windows agree. Outputs
 * `t` in `[skip0, skip1)` are skipped (the forward's interior, done by {@link avgPool1d} itself).
 */
function avgPoolCore(
  src: FloatArray,
  dst: FloatArray,
  p: Pool1dParams,
  countIncludePad: boolean,
  backward: boolean,
  skip0: number,
  skip1: number,
): void {
  const { inLength, outLength, kernelSize, stride, padLeft } = p;
  const rows = p.batch * p.channels;
  if (backward) dst.fill(0);
  for (let r = 0; r < rows; r++) {
    const xr = r * inLength;
    const or = r * outLength;
    for (let t = 0; t < outLength; t++) {
      if (t === skip0 && skip1 > skip0) t = skip1;
      if (t >= outLength) break;
      let a = t * stride - padLeft;
      let e = Math.min(a + kernelSize, inLength + padLeft);
      const poolSize = e - a;
      a = Math.max(a, 0);
      e = Math.min(e, inLength);
      const div = countIncludePad ? poolSize : e - a;
      if (backward) {
        const v = div > 0 ? src[or + t] / div : 0;
        for (let i = a; i < e; i++) dst[xr + i] += v;
      } else {
        let acc = 0;
        for (let i = a; i < e; i++) acc += src[xr + i];
        dst[or + t] = div > 0 ? acc / div : 0;
      }
    }
  }
}

/** Bin i of adaptive pooling from length L to `outSize` (PyTorch rule): [⌊i·L/out⌋, ⌈(i+1)·L/out⌉). */
function binStart(i: number, L: number, outSize: number): number {
  return Math.floor((i * L) / outSize);
}
function binEnd(i: number, L: number, outSize: number): number {
  return Math.ceil(((i + 1) * L) / outSize);
}

/**
 * Adaptive average pooling over rows of length `inLength` to `outLength` bins (PyTorch bins): each bin's sum in
 * float64, left to right, divided by the bin's length. Four rows at a time: one row's sum is a chain of
 * dependent adds (each waits for the previous, about four times their throughput), four rows are four
 * independent chains. Each row's sums keep their order, so the results are those of one row at a time; the last
 * group of fewer than four rows reads its first row again for the missing ones and stores only its own.
 */
export function adaptiveAvgPool1d(
  x: FloatArray,
  out: FloatArray,
  rows: number,
  inLength: number,
  outLength: number,
): void {
  const L = inLength;
  const T = outLength;
  for (let r = 0; r < rows; r += 4) {
    const k = Math.min(4, rows - r);
    // offsets of rows r+1 … r+3 from row r (0 for rows past the end)
    const d1 = k > 1 ? L : 0;
    const d2 = k > 2 ? 2 * L : 0;
    const d3 = k > 3 ? 3 * L : 0;
    for (let i = 0; i < T; i++) {
      const a = binStart(i, L, T);
      const e = binEnd(i, L, T);
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = r * L + a, end = r * L + e; j < end; j++) {
        s0 += x[j];
        s1 += x[j + d1];
        s2 += x[j + d2];
        s3 += x[j + d3];
      }
      const n = e - a;
      const o = r * T + i;
      out[o] = s0 / n;
      if (k > 1) out[o + T] = s1 / n;
      if (k > 2) out[o + 2 * T] = s2 / n;
      if (k > 3) out[o + 3 * T] = s3 / n;
    }
  }
}

/** Adjoint of {@link adaptiveAvgPool1d}: gradX (overwritten) gets g[r, i]/binSize spread over bin i. */
export function adaptiveAvgPool1dBackward(
  g: FloatArray,
  gradX: FloatArray,
  rows: number,
  inLength: number,
  outLength: number,
): void {
  gradX.fill(0);
  for (let r = 0; r < rows; r++) {
    const xr = r * inLength;
    const or = r * outLength;
    for (let i = 0; i < outLength; i++) {
      const a = binStart(i, inLength, outLength);
      const e = binEnd(i, inLength, outLength);
      const v = g[or + i] / (e - a);
      for (let j = a; j < e; j++) gradX[xr + j] += v;
    }
  }
}

/** Adaptive max pooling (PyTorch bins); `argOut` receives the first maximum's position in each bin. */
export function adaptiveMaxPool1d(
  x: FloatArray,
  out: FloatArray,
  argOut: Int32Array | null,
  rows: number,
  inLength: number,
  outLength: number,
): void {
  for (let r = 0; r < rows; r++) {
    const xr = r * inLength;
    const or = r * outLength;
    for (let i = 0; i < outLength; i++) {
      const a = binStart(i, inLength, outLength);
      const e = binEnd(i, inLength, outLength);
      let best = x[xr + a];
      let arg = a;
      for (let j = a + 1; j < e && !Number.isNaN(best); j++) {
        const v = x[xr + j];
        if (v > best || Number.isNaN(v)) {
          best = v;
          arg = j;
        }
      }
      out[or + i] = best;
      if (argOut !== null) argOut[or + i] = arg;
    }
  }
}
