/**
 * The WebAssembly SIMD implementation of {@link Kernels}.
 *
 * Memory model (see docs/wasm.md): tensors stay in caller-owned typed arrays. Each call copies
 * (and packs/pads) its operands into one scratch `WebAssembly.Memory`, runs the kernel and copies
 * the result out. The scratch memory grows on demand and never shrinks; after every growth the
 * typed-array views are re-created (a grown memory detaches the old `ArrayBuffer`), and views are
 * re-fetched through {@link WasmArena.views} at the start of each call, never cached across a grow.
 */

import { createWasmBinaryKernels } from './binary-plan.js';
import { GEMM_TILE } from './emit.js';
import { MAXPOOL_STRIDES } from './emit-pool.js';
import {
  avgPool1dForwardTs,
  binaryConv1dTs,
  maxPool1dForwardTs,
  maxPool1dTs,
  prepareBinaryConv1dTs,
  signPackTs,
} from './ts-kernels.js';
import {
  type BinaryDenseParams,
  type Conv1dParams,
  checkBinaryDense,
  checkConv1d,
  checkMatmul,
  checkPool1d,
  KernelArgumentError,
  type Kernels,
  type MatmulOptions,
  matmulOptions,
  type ParallelRunner,
  type Pool1dParams,
} from './types.js';

const PAGE = 65536;
/** gemm tile: rows of C (M is padded to this) and columns (N is padded to this). */
const TR = GEMM_TILE.rows;
const TC = GEMM_TILE.cols;

function roundUp(v: number, m: number): number {
  return Math.ceil(v / m) * m;
}

/** Typed-array views of the scratch memory, valid until the next {@link WasmArena.reserve}. */
export interface ArenaViews {
  f32: Float32Array;
  i32: Int32Array;
  u32: Uint32Array;
}

/** One grow-on-demand linear memory shared by all kernels of a {@link Kernels} instance. */
export class WasmArena {
  readonly memory: WebAssembly.Memory;
  private cached: ArenaViews | null = null;

  /** Most pages a shared arena may grow to (a shared memory needs a maximum), or null for a plain arena. */
  readonly sharedMaxPages: number | null;

  /**
   * A plain grow-on-demand memory, or with `shared` a shared memory (`SharedArrayBuffer`) of at most
   * `shared.maxPages` pages that kernel instances in worker threads can use at the same time.
   */
  constructor(initialBytes = 4 * PAGE, shared?: { maxPages: number }) {
    const initial = Math.ceil(initialBytes / PAGE);
    this.sharedMaxPages = shared ? shared.maxPages : null;
    this.memory = shared
      ? new WebAssembly.Memory({ initial, maximum: shared.maxPages, shared: true })
      : new WebAssembly.Memory({ initial });
  }

  /** Current size of the linear memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Makes sure at least `bytes` are addressable (grows; never shrinks). Invalidates views. */
  reserve(bytes: number): void {
    if (bytes > 2 ** 32 - PAGE)
      throw new KernelArgumentError(`kernel needs ${bytes} bytes of WebAssembly memory (max 4 GiB)`);
    if (this.sharedMaxPages !== null && bytes > this.sharedMaxPages * PAGE)
      throw new KernelArgumentError(
        `kernel needs ${bytes} bytes of WebAssembly memory; this shared arena holds at most ${this.sharedMaxPages * PAGE}`,
      );
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Views of the current buffer; re-created whenever the buffer changed (after `memory.grow`). */
  views(): ArenaViews {
    const buf = this.memory.buffer;
    if (!this.cached || this.cached.f32.buffer !== buf) {
      this.cached = { f32: new Float32Array(buf), i32: new Int32Array(buf), u32: new Uint32Array(buf) };
    }
    return this.cached;
  }
}

/** Bump layout of one call's scratch regions (byte offsets, 16-byte aligned). */
class Layout {
  private top = 64; // keep address 0 unused
  /** Reserves `floats` 4-byte elements plus `slack` bytes that kernels may read past the end; returns the byte offset. */
  take(elements: number, slack = 64): number {
    const at = this.top;
    this.top = roundUp(at + elements * 4 + slack, 16);
    return at;
  }
  get bytes(): number {
    return this.top;
  }
}

interface KernelExports {
  gemm(
    a: number,
    b: number,
    c: number,
    panels: number,
    n: number,
    aRow: number,
    aK: number,
    nOuter: number,
    nInner: number,
    strideOuter: number,
    strideInner: number,
    ldc: number,
    flags: number,
  ): void;
  dwconv(
    a: number,
    b: number,
    c: number,
    rows: number,
    n: number,
    k: number,
    mult: number,
    bRowStride: number,
    tapStride: number,
    ldc: number,
    flags: number,
  ): void;
  dwgrad(
    a: number,
    b: number,
    out: number,
    rows: number,
    k: number,
    len: number,
    aRowStride: number,
    bRowStride: number,
    tapStride: number,
  ): void;
  gemmNT(
    a: number,
    b: number,
    c: number,
    mPanels: number,
    nPairs: number,
    len: number,
    lda: number,
    nInner: number,
    strideOuter: number,
    strideInner: number,
    ldc: number,
  ): void;
  bconv(
    x: number,
    w: number,
    out: number,
    ocBlocks: number,
    outL: number,
    nTaps: number,
    pairs: number,
    xStepT: number,
    xStepTap: number,
    totalBits: number,
    outRow: number,
  ): void;
  maxpool(x: number, out: number, rows: number, rowIn: number, outL: number, k: number, s: number): void;
}

/** Multiply-adds from which a gemm call is split across threads (smaller calls cost more to hand over). */
const PARALLEL_MIN_MACS = 1 << 18;

/**
 * Argument lists of `gemm` / `gemmNT` (in the order of the exports) for `parts` contiguous blocks of row panels
 * (2 rows for gemm, 4 for gemmNT), largest first; each block's A and C pointers moved to its first row. Every
 * element of C is computed by exactly one block, with the same arithmetic as the whole call.
 */
export function splitKernelCall(
  kernel: 'gemm' | 'gemmNT',
  args: readonly number[],
  parts: number,
): number[][] {
  const panels = args[3];
  const rowsPerPanel = kernel === 'gemm' ? TR : 4;
  const aRow = kernel === 'gemm' ? args[5] : args[6];
  const ldc = kernel === 'gemm' ? args[11] : args[10];
  const n = Math.max(1, Math.min(parts, panels));
  const out: number[][] = [];
  let p0 = 0;
  for (let i = 0; i < n; i++) {
    const count = Math.floor(panels / n) + (i < panels % n ? 1 : 0);
    const x = args.slice();
    x[0] = args[0] + p0 * rowsPerPanel * aRow;
    x[2] = args[2] + p0 * rowsPerPanel * ldc;
    x[3] = count;
    out.push(x);
    p0 += count;
  }
  return out;
}

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

/** `dst[d..d+len) = src[s..s+len)`: a plain loop for short runs (no subarray object), `set` otherwise. */
function copy(dst: Float32Array, d: number, src: Float32Array, s: number, len: number): void {
  if (len < 64) for (let i = 0; i < len; i++) dst[d + i] = src[s + i];
  else dst.set(src.subarray(s, s + len), d);
}

/**
 * Copies `rows` rows of `kTotal` contiguous floats (row stride `kTotal` in `src`, from `srcOffset`)
 * to float index `at`, then zero rows up to a multiple of the gemm tile height.
 */
function copyRows(
  f32: Float32Array,
  at: number,
  src: Float32Array,
  srcOffset: number,
  rows: number,
  kTotal: number,
): void {
  f32.set(src.subarray(srcOffset, srcOffset + rows * kTotal), at);
  f32.fill(0, at + rows * kTotal, at + Math.ceil(rows / TR) * TR * kTotal);
}

/** Builds the WebAssembly kernel set on a compiled kernel module. */
export function instantiateWasmKernels(
  module: WebAssembly.Module,
  arena = new WasmArena(),
  options: { parallel?: ParallelRunner } = {},
): Kernels & { arena: WasmArena } {
  const instance = new WebAssembly.Instance(module, { env: { memory: arena.memory } });
  const k = instance.exports as unknown as KernelExports;
  const parallel = options.parallel ?? null;
  const localGemm = (x: readonly number[]) =>
    k.gemm(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11], x[12]);
  const localGemmNT = (x: readonly number[]) =>
    k.gemmNT(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10]);

  // `k.gemm` / `k.gemmNT` themselves without a runner; with one, calls big enough are split by row panels
  // (panels of 2 rows for gemm, 4 for gemmNT) across its threads.
  const gemm: KernelExports['gemm'] =
    parallel === null
      ? k.gemm
      : (...x) => {
          if (x[3] >= 2 && x[3] * TR * x[4] * x[7] * x[8] >= PARALLEL_MIN_MACS)
            parallel.run('gemm', x, localGemm);
          else localGemm(x);
        };
  const gemmNT: KernelExports['gemmNT'] =
    parallel === null
      ? k.gemmNT
      : (...x) => {
          if (x[3] >= 2 && x[3] * 4 * x[4] * 2 * x[5] >= PARALLEL_MIN_MACS)
            parallel.run('gemmNT', x, localGemmNT);
          else localGemmNT(x);
        };

  function matmul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batch: number,
    m: number,
    kk: number,
    n: number,
    transA: boolean,
    transB: boolean,
    options?: MatmulOptions | boolean,
  ): void {
    const opts = matmulOptions(options);
    const { sa, sb } = checkMatmul(a, b, out, batch, m, kk, n, opts);
    const panels = Math.ceil(m / TR);
    const np = roundUp(n, TC);
    const lay = new Layout();
    const aAt = lay.take(panels * TR * kk + TR * m);
    const bAt = lay.take(kk * np);
    const cAt = lay.take(panels * TR * np);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    for (let bt = 0; bt < batch; bt++) {
      if (bt === 0 || sa !== 0) {
        // a(i, p) at aOff + i·rowStride + p·colStride
        // A is read in place by the kernel (transposed through its strides); rows past m are
        // zero (row-major) or ignored (transposed: their results are never copied out).
        if (transA) f32.set(a.subarray(bt * sa, bt * sa + m * kk), aAt / 4);
        else copyRows(f32, aAt / 4, a, bt * sa, m, kk);
      }
      if (bt === 0 || sb !== 0) {
        // B row-major [k][np] (columns past n are never copied out, so they may hold anything).
        const bOff = bt * sb;
        const base = bAt / 4;
        if (!transB) {
          if (np === n) f32.set(b.subarray(bOff, bOff + kk * n), base);
          else
            for (let p = 0; p < kk; p++) f32.set(b.subarray(bOff + p * n, bOff + p * n + n), base + p * np);
        } else {
          for (let j = 0; j < n; j++) {
            const src = bOff + j * kk;
            for (let p = 0; p < kk; p++) f32[base + p * np + j] = b[src + p];
          }
        }
      }
      const oOff = bt * m * n;
      if (opts.accumulate) {
        for (let i = 0; i < m; i++) f32.set(out.subarray(oOff + i * n, oOff + i * n + n), cAt / 4 + i * np);
      }
      const aRow = transA ? 4 : kk * 4;
      const aK = transA ? m * 4 : 4;
      gemm(
        aAt,
        bAt,
        cAt,
        panels,
        np,
        aRow,
        aK,
        1,
        kk,
        0,
        np * 4,
        np * 4,
        opts.accumulate ? FLAG_ACCUMULATE : 0,
      );
      if (np === n)
        out.set(f32.subarray(cAt / 4, cAt / 4 + m * n), oOff); // rows contiguous: one copy
      else
        for (let i = 0; i < m; i++)
          out.set(f32.subarray(cAt / 4 + i * np, cAt / 4 + i * np + n), oOff + i * n);
    }
  }

  function conv1dForward(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    p: Conv1dParams,
  ): void {
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
    const view =
      stride === 1
        ? { strideC: rowLen * 4, strideJ: d * 4, floats: inChannels * rowLen }
        : inputViewSize(p, np, inChannels);
    const panels = Math.ceil(og / TR);
    const kTotal = cg * K;
    const rowsC = depthwise ? outChannels : panels * TR;
    const aAt = lay.take(depthwise ? outChannels * K : groups * panels * TR * kTotal);
    const bAt = lay.take(view.floats, 256);
    const cAt = lay.take(rowsC * np);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    if (depthwise) f32.set(w.subarray(0, outChannels * K), aAt / 4);
    else
      for (let g = 0; g < groups; g++)
        copyRows(f32, aAt / 4 + g * panels * TR * kTotal, w, g * og * kTotal, og, kTotal);
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
      } else writeInputView(f32, bAt / 4, x, b0, 0, inChannels, p, np, view);
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
          bAt + g * cg * view.strideC,
          cAt,
          panels,
          n,
          kTotal * 4,
          4,
          // kernel size 1: one flat loop over the channels
          K === 1 ? 1 : cg,
          K === 1 ? cg : K,
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

  function conv1dBackwardInput(
    gradOut: Float32Array,
    w: Float32Array,
    gradX: Float32Array,
    p: Conv1dParams,
  ): void {
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
    x: Float32Array,
    gradOut: Float32Array,
    gradW: Float32Array,
    p: Conv1dParams,
  ): void {
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

  // Binary conv, prepared binary convs (with their epilogues) and sign packing: binary-plan.ts.
  // The binary modules import a plain memory: on a shared (threaded) arena the binary layers run the TypeScript
  // kernels (same results bit for bit; the threaded arena exists for core's float training kernels).
  const binary =
    arena.sharedMaxPages === null
      ? createWasmBinaryKernels(arena)
      : { binaryConv1d: binaryConv1dTs, signPack: signPackTs, prepareBinaryConv1d: prepareBinaryConv1dTs };

  function binaryDense(
    xPacked: Uint32Array,
    wPacked: Uint32Array,
    out: Int32Array,
    p: BinaryDenseParams,
  ): void {
    checkBinaryDense(p, xPacked, wPacked, out);
    // A dense layer is a kernel-1 convolution over a "length" of batch entries.
    const { batch, inFeatures, outFeatures } = p;
    const words = Math.ceil(inFeatures / 32);
    const wp = roundUp(words, 2);
    const pairs = wp / 2;
    const blocks = Math.ceil(outFeatures / 4);
    const lay = new Layout();
    const bp = roundUp(batch, 2); // the kernel computes positions in pairs
    const wAt = lay.take(blocks * 4 * wp);
    const xAt = lay.take(bp * wp);
    const oAt = lay.take(blocks * 4 * bp);
    arena.reserve(lay.bytes);
    const { u32, i32 } = arena.views();
    const w0 = wAt / 4;
    for (let ob = 0; ob < blocks; ob++) {
      for (let pr = 0; pr < pairs; pr++) {
        for (let r = 0; r < 4; r++) {
          const o = ob * 4 + r;
          for (let h = 0; h < 2; h++) {
            const q = pr * 2 + h;
            u32[w0 + (ob * pairs + pr) * 8 + r * 2 + h] =
              o < outFeatures && q < words ? wPacked[o * words + q] : 0;
          }
        }
      }
    }
    const x0 = xAt / 4;
    for (let b = 0; b < batch; b++) {
      u32.set(xPacked.subarray(b * words, (b + 1) * words), x0 + b * wp);
      if (wp !== words) u32[x0 + b * wp + words] = 0;
    }
    k.bconv(xAt, wAt, oAt, blocks, bp, 1, pairs, wp * 4, 0, inFeatures, bp * 4);
    const o0 = oAt / 4;
    for (let b = 0; b < batch; b++)
      for (let o = 0; o < outFeatures; o++) out[b * outFeatures + o] = i32[o0 + o * bp + b];
  }

  /**
   * Max pooling without indices: rows copied into linear memory in blocks (padding written as −∞), the
   * branch-free `maxpool` kernel (emit-pool.ts), the block copied out. Strides other than 1 and 2 run the
   * TypeScript loop.
   */
  function maxPool1d(x: Float32Array, out: Float32Array, p: Pool1dParams): void {
    checkPool1d(p, x, out);
    const { inLength: L, outLength: T, kernelSize: K, stride: s, padLeft } = p;
    if (!MAXPOOL_STRIDES.includes(s)) {
      maxPool1dTs(x, out, p);
      return;
    }
    const rows = p.batch * p.channels;
    // Padded row: the windows of the T outputs, −∞ outside the input (at least the input itself).
    const rowLen = Math.max(padLeft + L, (T - 1) * s + K);
    const padRight = rowLen - padLeft - L;
    // Rows per block: about 64 KiB of input, so a block stays in the L2 cache between copy and kernel.
    const block = Math.max(1, Math.min(rows, Math.floor(16384 / rowLen)));
    // Slack past a block: the kernel's last vector reads up to (4 − 1)·s + 4 floats past a window and writes up
    // to 3 floats past the last row.
    const lay = new Layout();
    const xAt = lay.take(block * rowLen, 4 * (4 * s + 8));
    const oAt = lay.take(block * T);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    const x0 = xAt / 4;
    const o0 = oAt / 4;
    const contiguous = padLeft === 0 && padRight === 0;
    for (let r0 = 0; r0 < rows; r0 += block) {
      const nr = Math.min(block, rows - r0);
      if (contiguous) f32.set(x.subarray(r0 * L, (r0 + nr) * L), x0);
      else {
        for (let r = 0; r < nr; r++) {
          const dst = x0 + r * rowLen;
          f32.fill(Number.NEGATIVE_INFINITY, dst, dst + padLeft);
          copy(f32, dst + padLeft, x, (r0 + r) * L, L);
          f32.fill(Number.NEGATIVE_INFINITY, dst + padLeft + L, dst + rowLen);
        }
      }
      k.maxpool(xAt, oAt, nr, rowLen * 4, T, K, s);
      out.set(f32.subarray(o0, o0 + nr * T), r0 * T);
    }
  }

  return {
    kind: 'wasm-simd',
    arena,
    matmul,
    conv1dForward,
    conv1dBackwardInput,
    conv1dBackwardWeight,
    // Pooling is memory-bound: copying into linear memory would cost as much as the work itself,
    // so both kernel sets use the TypeScript loops (documented in docs/wasm.md).
    maxPool1dForward: maxPool1dForwardTs,
    avgPool1dForward: avgPool1dForwardTs,
    maxPool1d,
    binaryConv1d: binary.binaryConv1d,
    binaryDense,
    signPack: binary.signPack,
    prepareBinaryConv1d: binary.prepareBinaryConv1d,
  };
}
