/** Reference 1-D pooling kernels: max, average and adaptive, forward and backward, float32 and float64. */
import type { FloatArray, Pool1dParams } from '../contract.js';

// Pooling (O(B·C·L·kernel) direct loops; the window bounds are clipped once per output, not per element)

/**
 * Max pooling with −∞ padding: out[r, t] = max over k of x[r, t·s + k·d − padLeft] (in-range positions only);
 * `argOut[r·outLength + t]` receives the position (0 … inLength−1) of the first maximum, or −1 when the window
 * holds no input. NaN propagates (the first NaN wins), as in PyTorch.
 */
export function maxPool1d(x: FloatArray, out: FloatArray, argOut: Int32Array | null, p: Pool1dParams): void {
  const { inLength, outLength, kernelSize, stride, padLeft, dilation } = p;
  const rows = p.batch * p.channels;
  for (let r = 0; r < rows; r++) {
    const xr = r * inLength;
    const or = r * outLength;
    for (let t = 0; t < outLength; t++) {
      const start = t * stride - padLeft;
      // First tap k0 with start + k0·d ≥ 0 and last tap with position < inLength.
      const k0 = start >= 0 ? 0 : Math.ceil(-start / dilation);
      const k1 = Math.min(kernelSize, Math.ceil((inLength - start) / dilation));
      let best = Number.NEGATIVE_INFINITY;
      let arg = -1;
      for (let k = k0; k < k1; k++) {
        const pos = start + k * dilation;
        const v = x[xr + pos];
        // Strict > keeps the first of tied maxima; a NaN is taken and ends the window.
        if (arg < 0 || v > best || Number.isNaN(v)) {
          best = v;
          arg = pos;
          if (Number.isNaN(v)) break;
        }
      }
      out[or + t] = best;
      if (argOut !== null) argOut[or + t] = arg;
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
  avgPoolCore(x, out, p, countIncludePad, false);
}

/** Adjoint of {@link avgPool1d}: gradX (overwritten) gets g[r, t]/divisor over each window. */
export function avgPool1dBackward(
  g: FloatArray,
  gradX: FloatArray,
  p: Pool1dParams,
  countIncludePad: boolean,
): void {
  avgPoolCore(g, gradX, p, countIncludePad, true);
}

/** Average pooling (`backward` false) or its adjoint (true): one loop for both, so the windows agree. */
function avgPoolCore(
  src: FloatArray,
  dst: FloatArray,
  p: Pool1dParams,
  countIncludePad: boolean,
  backward: boolean,
): void {
  const { inLength, outLength, kernelSize, stride, padLeft } = p;
  const rows = p.batch * p.channels;
  if (backward) dst.fill(0);
  for (let r = 0; r < rows; r++) {
    const xr = r * inLength;
    const or = r * outLength;
    for (let t = 0; t < outLength; t++) {
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

/** Adaptive average pooling over rows of length `inLength` to `outLength` bins (PyTorch bins). */
export function adaptiveAvgPool1d(
  x: FloatArray,
  out: FloatArray,
  rows: number,
  inLength: number,
  outLength: number,
): void {
  adaptiveAvgCore(x, out, rows, inLength, outLength, false);
}

/** Adjoint of {@link adaptiveAvgPool1d}: gradX (overwritten) gets g[r, i]/binSize spread over bin i. */
export function adaptiveAvgPool1dBackward(
  g: FloatArray,
  gradX: FloatArray,
  rows: number,
  inLength: number,
  outLength: number,
): void {
  adaptiveAvgCore(g, gradX, rows, inLength, outLength, true);
}

/** Adaptive average pooling (`backward` false) or its adjoint (true). */
function adaptiveAvgCore(
  src: FloatArray,
  dst: FloatArray,
  rows: number,
  inLength: number,
  outLength: number,
  backward: boolean,
): void {
  if (backward) dst.fill(0);
  for (let r = 0; r < rows; r++) {
    const xr = r * inLength;
    const or = r * outLength;
    for (let i = 0; i < outLength; i++) {
      const a = binStart(i, inLength, outLength);
      const e = binEnd(i, inLength, outLength);
      if (backward) {
        const v = src[or + i] / (e - a);
        for (let j = a; j < e; j++) dst[xr + j] += v;
      } else {
        let acc = 0;
        for (let j = a; j < e; j++) acc += src[xr + j];
        dst[or + i] = acc / (e - a);
      }
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
