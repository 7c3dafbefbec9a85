/**
 * The WebAssembly conv1d gradients: the input gradient on `gemm` / `dwconv` over the scattered output gradient,
 * the weight gradient on `gemm` per tap (ungrouped, stride 1, 12+ input channels: `weightGradByTap`), else on
 * `gemmNT` / `dwgrad`; batch entries side by side in chunks (one call per chunk, and per tap).
 */
import type { Conv1dParams, FloatArray } from '../contract.js';
import {
  conv1dBackwardInput as refConv1dBackwardInput,
  conv1dBackwardWeight as refConv1dBackwardWeight,
} from '../ref/conv.js';
import { float32, Layout, type PartContext, roundUp, TC, TR, type WasmKernelPart } from './arena.js';
import {
  convTakes,
  FLAG_ACCUMULATE,
  inputViewSize,
  MAX_COLUMNS,
  scatterGradOut,
  WARM,
  WARM_DW,
  WEIGHT_GRAD_CHUNK,
  writeBatchedView,
  writeInputView,
} from './conv-views.js';
import { emitDwconv, emitDwgrad, emitGemm, emitGemmNT } from './emit.js';
import { checkConv1d } from './types.js';

/** Binds the two gradient kernels to a module instance. */
function bindBackward(ctx: PartContext) {
  const { arena, gemm, gemmNT, exports: k } = ctx;
  function conv1dBackwardInput(gAny: FloatArray, wAny: FloatArray, gxAny: FloatArray, p: Conv1dParams): void {
    if (!float32(gAny, wAny, gxAny) || !convTakes(p)) {
      refConv1dBackwardInput(gAny, wAny, gxAny, p);
      return;
    }
    const gradOut = gAny as Float32Array;
    const w = wAny as Float32Array;
    const gradX = gxAny as Float32Array;
    checkConv1d(p, gradX, w, gradOut);
    const { batch, inChannels, outChannels, inLength: L, kernelSize: K, dilation: d, groups } = p;
    const cg = inChannels / groups;
    const og = outChannels / groups;
    // NOTE: gradX[c, i] = Σ_{o,j} w[o,c,j]·gradOut[o,t] over t·s + j·d − padLeft = i. With the
    // taps flipped (j' = K−1−j) and gradOut scattered to u = P + t·s, P = (K−1)·d − padLeft ≥ 0,
    // this is the stride-1 correlation gradX[c, i] = Σ_{o,j'} w[o,c,K−1−j']·g[o, i + j'·d].
    const P = (K - 1) * d - p.padLeft;
    const depthwise = cg === 1 && og === 1;
    const panels = Math.ceil(cg / TR);
    const kTotal = og * K;
    const lay = new Layout();
    if (depthwise) {
      const np = roundUp(L, 16);
      const row = (K - 1) * d + np; // length of a scattered gradOut row
      const aAt = lay.take(outChannels * K);
      const gAt = lay.take(outChannels * row, 256);
      const cAt = lay.take(inChannels * np);
      arena.reserve(lay.bytes);
      const { f32 } = arena.views();
      const a0 = aAt / 4;
      for (let c = 0; c < inChannels; c++)
        for (let j = 0; j < K; j++) f32[a0 + c * K + j] = w[c * K + (K - 1 - j)];
      const g0 = gAt / 4;
      for (let b = 0; b < batch; b++) {
        f32.fill(0, g0, g0 + outChannels * row);
        scatterGradOut(f32, g0, row, 0, gradOut, b, p, P);
        k.dwconv(aAt, gAt, cAt, inChannels, np, K, 1, row * 4, d * 4, np * 4, 0);
        for (let c = 0; c < inChannels; c++)
          gradX.set(f32.subarray(cAt / 4 + c * np, cAt / 4 + c * np + L), (b * inChannels + c) * L);
      }
      return;
    }
    // The batch entries of a chunk side by side along the columns (as the forward does), each in a slot of
    // `slot` columns: output column i < L of a slot reads its scattered gradOut row at i + j'·d < slot, within the
    // slot; the other columns of a slot are computed and dropped. One gemm per group and chunk.
    const slot = roundUp(L + (K - 1) * d, TC);
    const nb = Math.max(1, Math.min(batch, Math.floor(MAX_COLUMNS / slot)));
    const cols = nb * slot;
    const row = cols + roundUp((K - 1) * d, 4); // a gradOut row of the chunk, with zeros read past the last slot
    const aAt = lay.take(groups * panels * TR * kTotal);
    const gAt = lay.take(outChannels * row, 256);
    const cAt = lay.take(panels * TR * cols);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    const a0 = aAt / 4;
    // A_g[c][(o, j')] = w[g·og + o, c, K−1−j'], row-major, rows padded with zeros to the tile height.
    for (let g = 0; g < groups; g++) {
      const base = a0 + g * panels * TR * kTotal;
      for (let c = 0; c < panels * TR; c++) {
        const dst = base + c * kTotal;
        for (let o = 0; o < og; o++) {
          for (let j = 0; j < K; j++) {
            f32[dst + o * K + j] = c < cg ? w[((g * og + o) * cg + c) * K + (K - 1 - j)] : 0;
          }
        }
      }
    }
    const g0 = gAt / 4;
    const c0 = cAt / 4;
    for (let first = 0; first < batch; first += nb) {
      const count = Math.min(nb, batch - first);
      f32.fill(0, g0, g0 + outChannels * row);
      for (let bi = 0; bi < count; bi++)
        scatterGradOut(f32, g0 + bi * slot, row, slot, gradOut, first + bi, p, P);
      for (let g = 0; g < groups; g++) {
        gemm(
          aAt + g * panels * TR * 4 * kTotal,
          gAt + g * og * row * 4,
          cAt,
          panels,
          count * slot,
          kTotal * 4,
          4,
          og,
          K,
          row * 4,
          d * 4,
          cols * 4,
          0,
        );
        for (let bi = 0; bi < count; bi++) {
          for (let c = 0; c < cg; c++) {
            const src = c0 + c * cols + bi * slot;
            gradX.set(f32.subarray(src, src + L), ((first + bi) * inChannels + g * cg + c) * L);
          }
        }
      }
    }
  }

  function conv1dBackwardWeight(
    xAny: FloatArray,
    gAny: FloatArray,
    gwAny: FloatArray,
    p: Conv1dParams,
  ): void {
    if (!float32(xAny, gAny, gwAny) || !convTakes(p)) {
      refConv1dBackwardWeight(xAny, gAny, gwAny, p);
      return;
    }
    const x = xAny as Float32Array;
    const gradOut = gAny as Float32Array;
    const gradW = gwAny as Float32Array;
    checkConv1d(p, x, gradW, gradOut);
    const { batch, inChannels, outChannels, outLength: T, kernelSize: K, groups } = p;
    const cg = inChannels / groups;
    const og = outChannels / groups;
    const lay = new Layout();
    if (cg === 1 && og === 1) {
      // Depthwise: gradW[c, j] = Σ_{b,t} gradOut[b,c,t]·xview[b, c, j, t], as SIMD dot products.
      const len = roundUp(T, 8);
      const view = inputViewSize(p, len, inChannels);
      const aAt = lay.take(inChannels * len);
      const bAt = lay.take(view.floats, 256);
      const oAt = lay.take(inChannels * K);
      arena.reserve(lay.bytes);
      const { f32 } = arena.views();
      f32.fill(0, oAt / 4, oAt / 4 + inChannels * K);
      for (let b = 0; b < batch; b++) {
        for (let c = 0; c < inChannels; c++) {
          const dst = aAt / 4 + c * len;
          const src = (b * inChannels + c) * T;
          f32.set(gradOut.subarray(src, src + T), dst);
          f32.fill(0, dst + T, dst + len);
        }
        writeInputView(f32, bAt / 4, x, b, 0, inChannels, p, len, view);
        k.dwgrad(aAt, bAt, oAt, inChannels, K, len, len * 4, view.strideC, view.strideJ);
      }
      gradW.set(f32.subarray(oAt / 4, oAt / 4 + inChannels * K), 0);
      return;
    }
    if (groups === 1 && p.stride === 1 && inChannels >= GEMM_WEIGHT_GRAD_MIN_CHANNELS) {
      weightGradByTap(x, gradOut, gradW, p);
      return;
    }
    // gradW[g·og + o][(c, j)] = Σ_b Σ_t gradOut[b, g·og + o, t] · view_b[g·cg + c, j][t]. The batch entries of a
    // chunk are laid side by side along the reduction, each in a slot of `seg` positions: A's rows are the
    // gradOut rows (zeros past T), B's rows the input view rows, so one gemmNT per group and chunk sums over
    // batch and time at once (long reductions, one call, one split across threads) instead of one per entry.
    // Stride 1 needs no im2col: B row (c, j) is the padded channel row shifted by j·d, and the slot holds the
    // whole padded row (positions past T read padding or the next slot, times A's zeros).
    const len = roundUp(T, 4);
    const row = inputViewSize(p, len, 1).strideC / 4;
    const seg = p.stride === 1 ? roundUp(row, 4) : len;
    const nb = Math.max(1, Math.min(batch, Math.floor(WEIGHT_GRAD_CHUNK / seg)));
    const inner = nb * seg;
    const panels = Math.ceil(og / 4);
    const nCols = cg * K;
    const nPairs = Math.ceil(nCols / 2);
    // B: stride 1: channel c at c·inner (row (c, j) starts j·d later); stride > 1: row (c, j) at (c·K + j)·inner.
    // One spare channel of zeros for an odd column count (only its padding column reads it), and zeros after
    // it for the reads of shifted rows past the last slot (times A's zeros: they must be finite).
    const strideC = (p.stride === 1 ? inner : K * inner) * 4;
    const strideJ = (p.stride === 1 ? p.dilation : inner) * 4;
    const tail = strideC / 4 + (K - 1) * p.dilation + 4;
    const aAt = lay.take(groups * panels * 4 * inner);
    const bAt = lay.take((inChannels * strideC) / 4 + tail, 256);
    const cAt = lay.take(groups * panels * 4 * nPairs * 2);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    const a0 = aAt / 4;
    const b0 = bAt / 4;
    const c0 = cAt / 4;
    const ldc = nPairs * 2;
    f32.fill(0, c0, c0 + groups * panels * 4 * ldc);
    f32.fill(0, a0, a0 + groups * panels * 4 * inner);
    f32.fill(0, b0 + (inChannels * strideC) / 4, b0 + (inChannels * strideC) / 4 + tail);
    for (let first = 0; first < batch; first += nb) {
      const count = Math.min(nb, batch - first);
      for (let bi = 0; bi < count; bi++) {
        const b = first + bi;
        for (let g = 0; g < groups; g++) {
          for (let o = 0; o < og; o++) {
            const dst = a0 + (g * panels * 4 + o) * inner + bi * seg;
            const src = (b * outChannels + g * og + o) * T;
            f32.set(gradOut.subarray(src, src + T), dst);
            f32.fill(0, dst + T, dst + seg);
          }
        }
        writeBatchedView(f32, b0 + bi * seg, x, b, p, seg, inner);
      }
      for (let g = 0; g < groups; g++) {
        gemmNT(
          aAt + g * panels * 16 * inner,
          bAt + g * cg * strideC,
          cAt + g * panels * 16 * ldc,
          panels,
          nPairs,
          count * seg,
          inner * 4,
          K,
          strideC,
          strideJ,
          ldc * 4,
        );
      }
    }
    for (let g = 0; g < groups; g++) {
      for (let o = 0; o < og; o++) {
        const src = c0 + (g * panels * 4 + o) * ldc;
        gradW.set(f32.subarray(src, src + nCols), (g * og + o) * nCols);
      }
    }
  }
  /**
   * The weight gradient of an ungrouped stride-1 conv on `gemm`, one call per tap j and chunk:
   *   C_j[o][c] = Σ_b Σ_t gradOut[b, o, t] · x̃[b, c, t + j·d],   gradW[o, c, j] = C_j[o][c],
   * with x̃ the padded input. A = the gradOut rows, batch entries side by side in slots of `seg` positions (zeros
   * past T), read in place along the reduction; B = the padded input transposed, row q = slot position, `cPad`
   * channels wide, so tap j is B shifted by j·d rows. `gemm` (2 × 16 register tile, B rows as vectors) runs at
   * about twice the rate of `gemmNT` (dot products along the reduction, unaligned shifted rows, horizontal sums
   * per output), which pays for writing x̃ transposed (a strided copy of the input) once the channels fill most of
   * the 16 columns of the tile.
   */
  function weightGradByTap(
    x: Float32Array,
    gradOut: Float32Array,
    gradW: Float32Array,
    p: Conv1dParams,
  ): void {
    const { batch, inChannels: C, outChannels: O, inLength: L, outLength: T, kernelSize: K, dilation: d } = p;
    const { padLeft, padValue } = p;
    // A slot holds a whole padded row: t + j·d < seg for every t < T, so no product crosses into the next slot.
    const seg = Math.max(padLeft + L, (K - 1) * d + T);
    const nb = Math.max(1, Math.min(batch, Math.floor(WEIGHT_GRAD_CHUNK / seg)));
    const inner = nb * seg;
    const cPad = roundUp(C, TC);
    const panels = Math.ceil(O / TR);
    const tail = (K - 1) * d; // rows read past the last slot by the shifted taps (times A's zeros)
    const lay = new Layout();
    const aAt = lay.take(panels * TR * inner);
    const bAt = lay.take((inner + tail) * cPad, 256);
    const cAt = lay.take(K * panels * TR * cPad);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    const a0 = aAt / 4;
    const b0 = bAt / 4;
    const c0 = cAt / 4;
    // Zeros: A's padding rows (o ≥ O), and all of B (its padding columns c ≥ C and the tail rows stay zero).
    f32.fill(0, a0 + O * inner, a0 + panels * TR * inner);
    f32.fill(0, b0, b0 + (inner + tail) * cPad);
    for (let first = 0; first < batch; first += nb) {
      const count = Math.min(nb, batch - first);
      for (let bi = 0; bi < count; bi++) {
        const b = first + bi;
        for (let o = 0; o < O; o++) {
          const dst = a0 + o * inner + bi * seg;
          const src = (b * O + o) * T;
          f32.set(gradOut.subarray(src, src + T), dst);
          f32.fill(0, dst + T, dst + seg);
        }
        // x̃ transposed: B[bi·seg + u][c] = x̃[b, c, u].
        const base = b0 + bi * seg * cPad;
        for (let c = 0; c < C; c++) {
          const src = (b * C + c) * L - padLeft;
          let at = base + c;
          for (let u = 0; u < padLeft; u++, at += cPad) f32[at] = padValue;
          for (let u = padLeft; u < padLeft + L; u++, at += cPad) f32[at] = x[src + u];
          for (let u = padLeft + L; u < seg; u++, at += cPad) f32[at] = padValue;
        }
      }
      for (let j = 0; j < K; j++) {
        gemm(
          aAt,
          bAt + j * d * cPad * 4,
          cAt + j * panels * TR * cPad * 4,
          panels,
          cPad,
          inner * 4,
          4,
          1,
          count * seg,
          0,
          cPad * 4,
          cPad * 4,
          first === 0 ? 0 : FLAG_ACCUMULATE,
        );
      }
    }
    for (let o = 0; o < O; o++)
      for (let c = 0; c < C; c++)
        for (let j = 0; j < K; j++) gradW[(o * C + c) * K + j] = f32[c0 + (j * panels * TR + o) * cPad + c];
  }

  return { conv1dBackwardInput, conv1dBackwardWeight };
}

/**
 * Input channels from which an ungrouped stride-1 weight gradient runs on `gemm` per tap (`weightGradByTap`)
 * rather than on `gemmNT`: below, the padding of the channels to the tile's 16 columns wastes more than `gemm`
 * gains.
 */
const GEMM_WEIGHT_GRAD_MIN_CHANNELS = 12;

/** `conv1dBackwardInput` and `conv1dBackwardWeight` (same geometries as the forward). */
export const convBackwardPart: WasmKernelPart<'conv1dBackwardInput' | 'conv1dBackwardWeight'> = {
  emitters: [emitGemm, emitDwconv, emitDwgrad, emitGemmNT],
  bind: bindBackward,
  warm(k) {
    const f = new Float32Array(64).fill(0.5);
    for (const p of [WARM, WARM_DW]) {
      k.conv1dBackwardInput(f, f, new Float32Array(64), p);
      k.conv1dBackwardWeight(f, f, new Float32Array(64), p);
    }
  },
};
