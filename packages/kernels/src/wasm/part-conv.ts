/**
 * The WebAssembly conv1d kernels: the forward (with bias and fused ReLU) on `gemm` / `dwconv` (depthwise), the
 * input gradient on `gemm` / `dwconv` over the scattered output gradient, the weight gradient on `gemmNT` /
 * `dwgrad`. Two parts, so that an inference bundle takes the forward only.
 */
import { type Conv1dParams, type FloatArray, KernelArgumentError } from '../contract.js';
import { convPaddingWithinField } from '../params.js';
import {
  conv1dBackwardInput as refConv1dBackwardInput,
  conv1dBackwardWeight as refConv1dBackwardWeight,
  conv1dForward as refConv1dForward,
} from '../ref/conv.js';
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
import { emitDwconv, emitDwgrad, emitGemm, emitGemmNT } from './emit.js';
import { checkConv1d } from './types.js';

const FLAG_ACCUMULATE = 1;
const FLAG_RELU = 2;
/** Columns per forward-conv kernel call when batch entries are laid side by side (keeps C within L2). */
const MAX_COLUMNS = 4096;

/**
 * Where the rows of one batch entry's conv input live after {@link writeInputView}: row `(c, j)`
 * (channel, tap) starts at `base + c·strideC + j·strideJ` (bytes) and positions are contiguous.
 */
interface InputView {
  strideC: number;
  strideJ: number;
  floats: number;
}

/** Size of the input view for `channels` channels read over `n` (padded) output columns. */
function inputViewSize(p: Conv1dParams, n: number, channels: number): InputView {
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
function writeInputView(
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
 * Polyphase view of a strided convolution (stride s > 1, dilation 1, kernel K > 1): with the padded input
 * x̃[i] = x[i − padLeft] (padValue outside) and phase rows P_{c,r}[u] = x̃[u·s + r] (r = 0…s−1),
 *   y[o, t] = Σ_c Σ_j w[o, c, j]·x̃[t·s + j] = Σ_{c,r} Σ_{j'} w[o, c, j'·s + r]·P_{c,r}[t + j'],
 * a stride-1 correlation over s·C "channels" of K' = ⌈K/s⌉ taps (weights of taps j'·s + r ≥ K are 0). Writing
 * the s phase rows costs one pass over the input instead of the K·T gathers of an im2col view.
 */
function polyphaseTaps(p: Conv1dParams): number {
  return Math.ceil(p.kernelSize / p.stride);
}

/** Writes the phase rows of every channel of batch entry `b` (row `c·s + r`; see {@link polyphaseTaps}). */
function writePolyphaseView(
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
function writePolyphaseWeights(
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
function convTakes(p: Conv1dParams): boolean {
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
    const depthwise = cg === 1;
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
    const {
      batch,
      inChannels,
      outChannels,
      inLength: L,
      outLength: T,
      kernelSize: K,
      stride: s,
      dilation: d,
      groups,
    } = p;
    const cg = inChannels / groups;
    const og = outChannels / groups;
    // NOTE: gradX[c, i] = Σ_{o,j} w[o,c,j]·gradOut[o,t] over t·s + j·d − padLeft = i. With the
    // taps flipped (j' = K−1−j) and gradOut scattered to u = P + t·s, P = (K−1)·d − padLeft ≥ 0,
    // this is the stride-1 correlation gradX[c, i] = Σ_{o,j'} w[o,c,K−1−j']·g[o, i + j'·d].
    const P = (K - 1) * d - p.padLeft;
    const depthwise = cg === 1 && og === 1;
    const np = roundUp(L, depthwise ? 16 : TC);
    const row = (K - 1) * d + np; // length of a scattered gradOut row
    const lay = new Layout();
    const panels = Math.ceil(cg / TR);
    const kTotal = og * K;
    const aAt = lay.take(depthwise ? outChannels * K : groups * panels * TR * kTotal);
    const gAt = lay.take(outChannels * row, 256);
    const cAt = lay.take((depthwise ? inChannels : panels * TR) * np);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    const a0 = aAt / 4;
    if (depthwise) {
      for (let c = 0; c < inChannels; c++)
        for (let j = 0; j < K; j++) f32[a0 + c * K + j] = w[c * K + (K - 1 - j)];
    } else {
      // A_g[c][(o, j')] = w[g·og + o, c, K−1−j'], row-major, rows padded with zeros to 4.
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
    }
    const g0 = gAt / 4;
    for (let b = 0; b < batch; b++) {
      f32.fill(0, g0, g0 + outChannels * row);
      for (let o = 0; o < outChannels; o++) {
        const src = (b * outChannels + o) * T;
        const dst = g0 + o * row + P;
        if (s === 1) {
          const n = Math.min(T, row - P);
          f32.set(gradOut.subarray(src, src + n), dst);
        } else {
          for (let t = 0; t < T && P + t * s < row; t++) f32[dst + t * s] = gradOut[src + t];
        }
      }
      if (depthwise) {
        k.dwconv(aAt, gAt, cAt, inChannels, np, K, 1, row * 4, d * 4, np * 4, 0);
        for (let c = 0; c < inChannels; c++)
          gradX.set(f32.subarray(cAt / 4 + c * np, cAt / 4 + c * np + L), (b * inChannels + c) * L);
        continue;
      }
      for (let g = 0; g < groups; g++) {
        gemm(
          aAt + g * panels * TR * 4 * kTotal,
          gAt + g * og * row * 4,
          cAt,
          panels,
          np,
          kTotal * 4,
          4,
          og,
          K,
          row * 4,
          d * 4,
          np * 4,
          0,
        );
        for (let c = 0; c < cg; c++) {
          gradX.set(f32.subarray(cAt / 4 + c * np, cAt / 4 + c * np + L), (b * inChannels + g * cg + c) * L);
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
    // gradW[g·og + o][(c, j)] = Σ_b Σ_t gradOut[b, g·og + o, t] · view_b[g·cg + c, j][t]: rows of
    // gradOut and rows of the input view are both contiguous along t (no im2col for stride 1).
    const len = roundUp(T, 4);
    const panels = Math.ceil(og / 4);
    const nCols = cg * K;
    const nPairs = Math.ceil(nCols / 2);
    const view = inputViewSize(p, len, inChannels + 1); // one spare channel for an odd column count
    const aAt = lay.take(groups * panels * 4 * len);
    const bAt = lay.take(view.floats, 256);
    const cAt = lay.take(groups * panels * 4 * nPairs * 2);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    const a0 = aAt / 4;
    const c0 = cAt / 4;
    const ldc = nPairs * 2;
    f32.fill(0, c0, c0 + groups * panels * 4 * ldc);
    // The spare channel (only read for the padding column) holds zeros.
    f32.fill(0, bAt / 4 + (inChannels * view.strideC) / 4, bAt / 4 + view.floats);
    for (let b = 0; b < batch; b++) {
      for (let g = 0; g < groups; g++) {
        for (let o = 0; o < panels * 4; o++) {
          const dst = a0 + (g * panels * 4 + o) * len;
          if (o < og) {
            const src = (b * outChannels + g * og + o) * T;
            f32.set(gradOut.subarray(src, src + T), dst);
            f32.fill(0, dst + T, dst + len);
          } else f32.fill(0, dst, dst + len);
        }
      }
      writeInputView(f32, bAt / 4, x, b, 0, inChannels, p, len, view);
      for (let g = 0; g < groups; g++) {
        gemmNT(
          aAt + g * panels * 16 * len,
          bAt + g * cg * view.strideC,
          cAt + g * panels * 16 * ldc,
          panels,
          nPairs,
          len,
          len * 4,
          K,
          view.strideC,
          view.strideJ,
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
  return { conv1dBackwardInput, conv1dBackwardWeight };
}

/** Tiny conv geometries for warming up: dense and depthwise, padding 1. */
const WARM: Conv1dParams = {
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
const WARM_DW: Conv1dParams = { ...WARM, outChannels: 2, groups: 2 };

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
