/**
 * Shared pieces of the graph compilers (`model.ts`, batch 1; `batch.ts`, chunks of windows): the buffer of one
 * graph value, the bound step type, per-window value sizes and weight decoding.
 */
import { type sample as F, unpackConvWeights, unpackSigns, wordsForChannels } from '@ecgnn/kernels';
import type { LoadedTensor } from '../format/reader.js';
import type { NormalizedAttrs, ValueInfo } from '../graph/ops.js';

/** Storage of one graph value: floats, or packed sign bits (`[L][W]` words per window). */
export type Buffer = Float32Array | Uint32Array;

/** A kernel call bound to its buffers at load time. */
export type Step = () => void;

/** A graph value and the buffer holding it. */
export interface Value {
  info: ValueInfo;
  buf: Buffer;
}

/** Elements (floats, or 32-bit words for packed bits) of one window of a value. */
export function size(info: ValueInfo): number {
  if (info.kind === 'bits')
    return (info.shape.length === 2 ? info.shape[1] : 1) * wordsForChannels(info.shape[0]);
  return info.shape.reduce((a, b) => a * b, 1);
}

/** A weight tensor as float32 (packed ±1 bits unpacked, float16/int8 widened), or null when absent. */
export function floatData(t: LoadedTensor | undefined): Float32Array | null {
  if (!t) return null;
  if (t.entry.dtype === 'bits') {
    const s = t.entry.shape;
    if (s.length === 3) return unpackConvWeights(t.data as Uint32Array, s[0], s[1], s[2]);
    if (s.length === 2) return unpackSigns(t.data as Uint32Array, s[1], s[0]);
    return unpackSigns(t.data as Uint32Array, s[0], 1);
  }
  if (t.data instanceof Float32Array) return t.data;
  return Float32Array.from(t.data);
}

/** The float conv1d geometry of a `conv1d` node on a `[C, L]` input with `outChannels` filters. */
export function convParamsOf(C: number, L: number, outChannels: number, a: NormalizedAttrs): F.Conv1dParams {
  const win = a.window!;
  return {
    inChannels: C,
    inLength: L,
    outChannels,
    kernelSize: win.kernelSize,
    stride: win.stride,
    dilation: win.dilation,
    padLeft: win.padLeft,
    padRight: win.padRight,
    groups: a.groups ?? 1,
    padValue: a.padValue ?? 0,
  };
}

/** Columns of the WebAssembly matmul tile: padding a dense output to a multiple avoids its slow per-row copies. */
export const MATMUL_COLUMNS = 16;

/**
 * A dense weight `[O, n]` transposed to `[n, Op]` (Op = O rounded up to {@link MATMUL_COLUMNS}, zero columns), so
 * `y = x·Wᵀ` is a row-major matmul, and the bias padded to `Op` (the initial value of an accumulating matmul).
 */
export function denseForMatmul(
  w: Float32Array,
  b: Float32Array | null,
  O: number,
  n: number,
): { wt: Float32Array; bias: Float32Array; Op: number } {
  const Op = Math.ceil(O / MATMUL_COLUMNS) * MATMUL_COLUMNS;
  const wt = new Float32Array(n * Op);
  for (let o = 0; o < O; o++) for (let i = 0; i < n; i++) wt[i * Op + o] = w[o * n + i];
  const bias = new Float32Array(Op);
  if (b) bias.set(b.subarray(0, O));
  return { wt, bias, Op };
}
