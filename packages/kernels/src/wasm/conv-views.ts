/**
 * What the WebAssembly conv1d kernels (part-conv.ts, part-conv-backward.ts) share: the layouts of their inputs in
 * linear memory (input views, batched views, polyphase views, scattered output gradients), the geometries they
 * take, and their warm-up geometries.
 */
import type { Conv1dParams } from '../contract.js';
import { convPaddingWithinField } from '../params.js';
import { TR } from './arena.js';

/** `gemm` / `dwconv` flag: add to C instead of overwriting it. */
export const FLAG_ACCUMULATE = 1;
/** `gemm` / `dwconv` flag: ReLU on the result. */
export const FLAG_RELU = 2;
/** Columns per forward-conv kernel call when batch entries are laid side by side (keeps C within L2). */
export const MAX_COLUMNS = 4096;

/**
 * Where the rows of one batch entry's conv input live after {@link writeInputView}: row `(c, j)`
 * (channel, tap) starts at `base + c·strideC + j·strideJ` (bytes) and positions are contiguous.
 */
export interface InputView {
  strideC: number;
  strideJ: number;
  floats: number;
}

/** Size of the input view for `channels` channels read over `n` (padded) output columns. */
export function inputViewSize(p: Conv1dParams, n: number, channels: number): InputView {
  const { kernelSize: K, dilation: d, stride: s } = p;
  if (s === 1) {
    const row = Math.max(p.padLeft + p.inLength, (K - 1) * d + n);
    return { strideC: row * 4, strideJ: d * 4, floats: channels * row };
  }
  return { strideC: K * n * 4, strideJ: n * 4, floats: channels * K * n };
}

/**
 * Writes channels `[c0, c0 + channels)` of batch entry `b` of `x` as an input view at float index
 * `at`: for stride 1 the padded rows themselves (row j is the padded row shifted by j·dilation); for
 * stride > 1 an im2col buffer `[c][j][t]`. Padding positions hold `padValue`.
 */
export function writeInputView(
  f32: Float32Array,
  at: number,
  x: Float32Array,
  b: number,
  c0: number,
  channels: number,
  p: Conv1dParams,
  n: number,
  view: InputView,
): void {
  const { inLength: L, kernelSize: K, dilation: d, stride: s, padLeft, padValue } = p;
  if (s === 1) {
    const row = view.strideC / 4;
    for (let c = 0; c < channels; c++) {
      const dst = at + c * row;
      const src = (b * p.inChannels + c0 + c) * L;
      f32.fill(padValue, dst, dst + padLeft);
      f32.set(x.subarray(src, src + L), dst + padLeft);
      f32.fill(padValue, dst + padLeft + L, dst + row);
    }
    return;
  }
  for (let c = 0; c < channels; c++) {
    const src = (b * p.inChannels + c0 + c) * L;
    for (let j = 0; j < K; j++) {
      const dst = at + (c * K + j) * n;
      let i = j * d - padLeft;
      for (let t = 0; t < n; t++, i += s) f32[dst + t] = i >= 0 && i < L ? x[src + i] : padValue;
    }
  }
}

/**
 * Reduction positions per gemmNT call of the weight gradient (batch entries side by side): the 4 A rows and 2 B
 * rows a tile streams stay within L1 (6 × 2048 floats = 48 KiB), and the call is long enough to pay for its
 * hand-over (and split well across threads).
 */
export const WEIGHT_GRAD_CHUNK = 2048;

/**
 * Writes batch entry `b` of `x` into its slot of a batched input view (starting at float index `at`, the slot's
 * start in channel 0): stride 1: the padded channel rows (`seg` positions, `padValue` around the input) in blocks
 * of `inner` floats per channel; stride > 1: the im2col rows `(c, j)` (`seg` positions each) in blocks of
 * `inner` floats per row.
 */
export function writeBatchedView(
  f32: Float32Array,
  at: number,
  x: Float32Array,
  b: number,
  p: Conv1dParams,
  seg: number,
  inner: number,
): void {
  const { inLength: L, inChannels: C, kernelSize: K, dilation: d, stride: s, padLeft, padValue } = p;
  for (let c = 0; c < C; c++) {
    const src = (b * C + c) * L;
    if (s === 1) {
      const dst = at + c * inner;
      f32.fill(padValue, dst, dst + padLeft);
      f32.set(x.subarray(src, src + L), dst + padLeft);
      f32.fill(padValue, dst + padLeft + L, dst + seg);
      continue;
    }
    for (let j = 0; j < K; j++) {
      const dst = at + (c * K + j) * inner;
      let i = j * d - padLeft;
      for (let t = 0; t < seg; t++, i += s) f32[dst + t] = i >= 0 && i < L ? x[src + i] : padValue;
    }
  }
}

/**
 * Writes the gradOut rows of batch entry `b` scattered for the input gradient: row `o` (at `at + o·row`, `row`
 * floats apart; the caller zeroed them) gets gradOut[b, o, t] at position P + t·s, up to the slot's end (`limit`
 * positions from `at`; 0: the whole row).
 */
export function scatterGradOut(
  f32: Float32Array,
  at: number,
  row: number,
  limit: number,
  gradOut: Float32Array,
  b: number,
  p: Conv1dParams,
  P: number,
): void {
  const { outChannels, outLength: T, stride: s } = p;
  const end = limit === 0 ? row : limit;
  for (let o = 0; o < outChannels; o++) {
    const src = (b * outChannels + o) * T;
    const dst = at + o * row + P;
    if (s === 1) {
      const n = Math.max(0, Math.min(T, end - P));
      f32.set(gradOut.subarray(src, src + n), dst);
    } else {
      for (let t = 0; t < T && P + t * s < end; t++) f32[dst + t * s] = gradOut[src + t];
    }
  }
}

/**
 * Polyphase view of a strided convolution (stride s > 1, dilation 1, kernel K > 1): with the padded input
 * x̃[i] = x[i − padLeft] (padValue outside) and phase rows P_{c,r}[u] = x̃[u·s + r] (r = 0…s−1),
 *   y[o, t] = Σ_c Σ_j w[o, c, j]·x̃[t·s + j] = Σ_{c,r} Σ_{j'} w[o, c, j'·s + r]·P_{c,r}[t + j'],
 * a stride-1 correlation over s·C "channels" of K' = ⌈K/s⌉ taps (weights of taps j'·s + r ≥ K are 0). Writing
 * the s phase rows costs one pass over the input instead of the K·T gathers of an im2col view.
 */
export function polyphaseTaps(p: Conv1dParams): number {
  return Math.ceil(p.kernelSize / p.stride);
}

/** Writes the phase rows of every channel of batch entry `b` (row `c·s + r`; see {@link polyphaseTaps}). */
export function writePolyphaseView(
  f32: Float32Array,
  at: number,
  x: Float32Array,
  b: number,
  p: Conv1dParams,
  row: number,
): void {
  const { inLength: L, stride: s, padLeft, padValue, inChannels: C } = p;
  for (let c = 0; c < C; c++) {
    const src = (b * C + c) * L;
    for (let r = 0; r < s; r++) {
      const dst = at + (c * s + r) * row;
      // u·s + r − padLeft ∈ [0, L) ⇔ u ∈ [lo, hi)
      const lo = Math.min(row, Math.max(0, Math.ceil((padLeft - r) / s)));
      const hi = Math.max(lo, Math.min(row, Math.ceil((L + padLeft - r) / s)));
      f32.fill(padValue, dst, dst + lo);
      for (let u = lo, i = src + lo * s + r - padLeft; u < hi; u++, i += s) f32[dst + u] = x[i];
      f32.fill(padValue, dst + hi, dst + row);
    }
  }
}

/** Writes `og` weight rows of group `g` reordered for the polyphase view, then zero rows up to the tile height. */
export function writePolyphaseWeights(
  f32: Float32Array,
  at: number,
  w: Float32Array,
  g: number,
  og: number,
  cg: number,
  p: Conv1dParams,
): void {
  const { kernelSize: K, stride: s } = p;
  const taps = polyphaseTaps(p);
  const kTotal = cg * s * taps;
  for (let o = 0; o < og; o++) {
    const src = (g * og + o) * cg * K;
    const dst = at + o * kTotal;
    for (let c = 0; c < cg; c++)
      for (let r = 0; r < s; r++)
        for (let j = 0; j < taps; j++) {
          const tap = j * s + r;
          f32[dst + (c * s + r) * taps + j] = tap < K ? w[src + c * K + tap] : 0;
        }
  }
  f32.fill(0, at + og * kTotal, at + Math.ceil(og / TR) * TR * kTotal);
}

/** True when the WebAssembly conv kernels take geometry `p` (else the reference kernel runs). */
export function convTakes(p: Conv1dParams): boolean {
  return (
    p.batch > 0 &&
    p.inChannels > 0 &&
    p.outChannels > 0 &&
    p.inLength > 0 &&
    p.outLength > 0 &&
    p.kernelSize > 0 &&
    convPaddingWithinField(p)
  );
}

/** Tiny conv geometries for warming up: dense and depthwise, padding 1. */
export const WARM: Conv1dParams = {
  batch: 1,
  inChannels: 2,
  outChannels: 5,
  inLength: 9,
  outLength: 9,
  kernelSize: 3,
  stride: 1,
  dilation: 1,
  padLeft: 1,
  groups: 1,
  padValue: 0,
};
export const WARM_DW: Conv1dParams = { ...WARM, outChannels: 2, groups: 2 };
