/**
 * The WebAssembly conv1d forward (with bias and fused ReLU) on `gemm` / `dwconv` (depthwise); the gradients are in
 * part-conv-backward.ts, a part of their own so that an inference bundle takes the forward only.
 */
import { type Conv1dParams, type FloatArray, KernelArgumentError } from '../contract.js';
import { conv1dForward as refConv1dForward } from '../ref/conv.js';
import {
  copy,
  copyRows,
  float32,
  Layout,
  type PartContext,
  roundUp,
  TC,
  TR,
  type WasmKernelPart,
} from './arena.js';
import {
  convTakes,
  FLAG_ACCUMULATE,
  FLAG_RELU,
  inputViewSize,
  MAX_COLUMNS,
  polyphaseTaps,
  WARM,
  WARM_DW,
  writeInputView,
  writePolyphaseView,
  writePolyphaseWeights,
} from './conv-views.js';
import { emitDwconv, emitGemm } from './emit.js';
import { checkConv1d } from './types.js';

/** Binds the forward kernel to a module instance. */
function bindForward(ctx: PartContext) {
  const { arena, gemm, exports: k } = ctx;
  function conv1dForward(
    xAny: FloatArray,
    wAny: FloatArray,
    biasAny: FloatArray | null,
    outAny: FloatArray,
    p: Conv1dParams,
  ): void {
    if (!float32(xAny, wAny, biasAny) || !(outAny instanceof Float32Array) || !convTakes(p)) {
      refConv1dForward(xAny, wAny, biasAny, outAny, p);
      return;
    }
    const x = xAny as Float32Array;
    const w = wAny as Float32Array;
    const bias = biasAny as Float32Array | null;
    const out = outAny as Float32Array;
    checkConv1d(p, x, w, out);
    if (bias && bias.length < p.outChannels)
      throw new KernelArgumentError(`conv1d: bias has ${bias.length} elements, needs ${p.outChannels}`);
    const { batch, inChannels, outChannels, outLength: T, kernelSize: K, groups } = p;
    const cg = inChannels / groups;
    const og = outChannels / groups;
    const relu = p.activation === 'relu' ? FLAG_RELU : 0;
    const flags = (bias ? FLAG_ACCUMULATE : 0) | relu;
    const { inLength: L, stride, dilation: d, padLeft, padValue } = p;
    const lay = new Layout();
    // One input channel per group: the depthwise kernel (one input row per output row) for grouped convs and a
    // single stride-1 window; with one group the batched and polyphase views on `gemm` measured faster (1 input
    // channel, both paths alternating in separate processes, µs: 1→8 k7 stride 2 over 3600 samples 28.9 → 23.3,
    // 1→16 k7 batch 64 × 360 397 → 258, 1→32 k7 batch 64 × 360 790 → 388) and a single stride-1 window slower
    // (1→16 k7 over 360: 6.7 → 15.6).
    const depthwise = cg === 1 && (groups > 1 || (stride === 1 && batch === 1));
    const tile = depthwise ? 16 : TC;
    // Stride 1: `chunk` batch entries side by side in one row per channel, each in a segment of
    // `seg` columns holding its own padding, so one kernel call covers the chunk (columns between
    // segments are computed and dropped). Stride > 1: one batch entry per call on an im2col view.
    const span = (K - 1) * d;
    const seg = stride === 1 ? Math.max(padLeft + L, T + span) : 0;
    const chunk = stride === 1 ? Math.max(1, Math.min(batch, Math.floor(MAX_COLUMNS / seg))) : 1;
    const np = stride === 1 ? roundUp(chunk * seg, tile) : roundUp(T, tile);
    const rowLen = np + span;
    // Strided, undilated, not depthwise: the polyphase view (a stride-1 correlation over s·C phase rows).
    const poly = stride > 1 && d === 1 && K > 1 && !depthwise;
    const taps = poly ? polyphaseTaps(p) : K;
    const polyRow = np + taps - 1;
    const view =
      stride === 1
        ? { strideC: rowLen * 4, strideJ: d * 4, floats: inChannels * rowLen }
        : poly
          ? { strideC: polyRow * 4, strideJ: 4, floats: inChannels * stride * polyRow }
          : inputViewSize(p, np, inChannels);
    const panels = Math.ceil(og / TR);
    const loopC = poly ? cg * stride : cg;
    const kTotal = loopC * taps;
    const rowsC = depthwise ? outChannels : panels * TR;
    const aAt = lay.take(depthwise ? outChannels * K : groups * panels * TR * kTotal);
    const bAt = lay.take(view.floats, 256);
    const cAt = lay.take(rowsC * np);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    if (depthwise) f32.set(w.subarray(0, outChannels * K), aAt / 4);
    else
      for (let g = 0; g < groups; g++) {
        const at = aAt / 4 + g * panels * TR * kTotal;
        if (poly) writePolyphaseWeights(f32, at, w, g, og, cg, p);
        else copyRows(f32, at, w, g * og * kTotal, og, kTotal);
      }
    const c0 = cAt / 4;
    for (let b0 = 0; b0 < batch; b0 += chunk) {
      const nb = Math.min(chunk, batch - b0);
      const n = stride === 1 ? roundUp(nb * seg, tile) : np;
      if (stride === 1) {
        const v0 = bAt / 4;
        for (let c = 0; c < inChannels; c++) {
          const row = v0 + c * rowLen;
          f32.fill(padValue, row, row + rowLen);
          for (let bi = 0; bi < nb; bi++) {
            copy(f32, row + bi * seg + padLeft, x, ((b0 + bi) * inChannels + c) * L, L);
          }
        }
      } else if (poly) writePolyphaseView(f32, bAt / 4, x, b0, p, polyRow);
      else writeInputView(f32, bAt / 4, x, b0, 0, inChannels, p, np, view);
      const colStep = stride === 1 ? seg : 0;
      if (depthwise) {
        if (bias) for (let o = 0; o < outChannels; o++) f32.fill(bias[o], c0 + o * np, c0 + o * np + n);
        k.dwconv(aAt, bAt, cAt, outChannels, n, K, og, view.strideC, view.strideJ, np * 4, flags);
        for (let o = 0; o < outChannels; o++) {
          for (let bi = 0; bi < nb; bi++) {
            copy(out, ((b0 + bi) * outChannels + o) * T, f32, c0 + o * np + bi * colStep, T);
          }
        }
        continue;
      }
      for (let g = 0; g < groups; g++) {
        if (bias) for (let o = 0; o < og; o++) f32.fill(bias[g * og + o], c0 + o * np, c0 + o * np + n);
        gemm(
          aAt + g * panels * TR * 4 * kTotal,
          bAt + g * loopC * view.strideC,
          cAt,
          panels,
          n,
          kTotal * 4,
          4,
          // kernel size 1: one flat loop over the channels
          K === 1 ? 1 : loopC,
          K === 1 ? cg : taps,
          view.strideC,
          K === 1 ? view.strideC : view.strideJ,
          np * 4,
          flags,
        );
        for (let o = 0; o < og; o++) {
          for (let bi = 0; bi < nb; bi++) {
            copy(out, ((b0 + bi) * outChannels + g * og + o) * T, f32, c0 + o * np + bi * colStep, T);
          }
        }
      }
    }
  }
  return conv1dForward;
}

/** `conv1dForward` (float32, padding within the receptive field; the rest runs the reference). */
export const convForwardPart: WasmKernelPart<'conv1dForward'> = {
  emitters: [emitGemm, emitDwconv],
  bind: (ctx) => ({ conv1dForward: bindForward(ctx) }),
  warm(k) {
    const f = new Float32Array(64).fill(0.5);
    k.conv1dForward(f, f, null, new Float32Array(64), WARM);
    k.conv1dForward(f, f, null, new Float32Array(64), WARM_DW);
  },
};
