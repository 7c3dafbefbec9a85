/**
 * Geometry shared by every package: ONE output-length formula for sliding windows, ONE padding resolver and ONE
 * test of whether a padded convolution stays within its receptive field. Core's ops, infer's graph checker and
 * runtime, and every backend's fallback test call these.
 */
import { KernelArgumentError } from './contract.js';

/** The window of a 1-D sliding-window op (conv or pool) along one axis. */
export interface Window1d {
  inLength: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  padLeft: number;
  padRight: number;
}

/**
 * Output length of a 1-D sliding window (PyTorch's formula):
 * `floor((L + padLeft + padRight − dilation·(K − 1) − 1) / stride) + 1`, or with `ceilMode` the ceiling,
 * where (as PyTorch) the last window must start inside the input or the left padding.
 * Returns a value ≤ 0 when no window fits (callers report that as a shape error).
 */
export function conv1dOutputLength(w: Window1d, ceilMode = false): number {
  const span = w.inLength + w.padLeft + w.padRight - w.dilation * (w.kernelSize - 1) - 1;
  if (!ceilMode) return Math.floor(span / w.stride) + 1;
  let out = Math.ceil(span / w.stride) + 1;
  // PyTorch: the last pooling window must start inside the input or the left padding.
  if ((out - 1) * w.stride >= w.inLength + w.padLeft) out--;
  return out;
}

/** Padding as layers accept it: one number (both sides), `[left, right]`, `'valid'` (0) or `'same'`. */
export type Padding1d = number | readonly [number, number] | 'valid' | 'same';

/**
 * Resolves a padding spec to `[left, right]`. `'same'` (stride 1 only, as PyTorch) pads
 * `dilation·(K − 1)` in total, the extra element on the right when it is odd.
 */
export function resolvePadding1d(
  padding: Padding1d,
  kernelSize: number,
  dilation = 1,
  stride = 1,
): [number, number] {
  if (padding === 'valid') return [0, 0];
  if (padding === 'same') {
    if (stride !== 1) {
      throw new KernelArgumentError(`padding 'same' needs stride 1 (as PyTorch), got stride ${stride}`);
    }
    const total = dilation * (kernelSize - 1);
    const left = Math.floor(total / 2);
    return [left, total - left];
  }
  const pair: readonly number[] = typeof padding === 'number' ? [padding, padding] : padding;
  if (pair.length !== 2 || !pair.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0)) {
    throw new KernelArgumentError(
      `padding must be a non-negative integer, [left, right], 'valid' or 'same'; got ${JSON.stringify(padding)}`,
    );
  }
  return [pair[0], pair[1]];
}

/**
 * True when a convolution's left padding is no wider than its receptive field `dilation·(K − 1)` (so no output
 * window starts in padding only) — the geometries the WebAssembly conv kernels take (float and binary); PyTorch
 * also allows wider padding, which the reference kernels handle. The right padding (implied by `outLength`) may
 * be any: the kernels size their padded rows by `outLength`; it is the input gradient, computed as a
 * stride-1 correlation of the output gradient shifted right by `dilation·(K − 1) − padLeft`, that needs this
 * shift to be ≥ 0. The other fields are taken so that callers pass their whole parameter object.
 */
export function convPaddingWithinField(p: {
  inLength: number;
  outLength: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  padLeft: number;
}): boolean {
  return p.padLeft <= p.dilation * (p.kernelSize - 1);
}

/** The right padding implied by a window's output length: `(outLength − 1)·stride + dilation·(K−1) + 1 − padLeft − inLength`. */
export function impliedPadRight(p: {
  inLength: number;
  outLength: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  padLeft: number;
}): number {
  return (p.outLength - 1) * p.stride + p.dilation * (p.kernelSize - 1) + 1 - p.padLeft - p.inLength;
}

/** Row-major (C-contiguous) strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}
