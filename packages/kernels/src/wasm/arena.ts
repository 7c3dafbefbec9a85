/**
 * The memory side of the WebAssembly kernel set: the grow-on-demand scratch memory ({@link WasmArena}) every
 * kernel copies its operands into, the bump layout of one call's regions, copy helpers, the exports of the
 * kernel module, and the {@link WasmKernelPart} shape in which the kernels come (see `wasm-kernels.ts`).
 *
 * Memory model (see docs/wasm.md): tensors stay in caller-owned typed arrays. Each call copies (and packs/pads)
 * its operands into one scratch `WebAssembly.Memory`, runs the kernel and copies the result out. The scratch
 * memory grows on demand and never shrinks; after every growth the typed-array views are re-created (a grown
 * memory detaches the old `ArrayBuffer`), and views are re-fetched through {@link WasmArena.views} at the start
 * of each call, never cached across a grow.
 */
import { type FloatArray, KernelArgumentError, type Kernels } from '../contract.js';
import type { ModuleBuilder } from './builder.js';
import { GEMM_TILE } from './emit.js';

const PAGE = 65536;
/** gemm tile: rows of C (M is padded to this) and columns (N is padded to this). */
export const TR = GEMM_TILE.rows;
export const TC = GEMM_TILE.cols;

/** `v` rounded up to a multiple of `m`. */
export function roundUp(v: number, m: number): number {
  return Math.ceil(v / m) * m;
}

/** Typed-array views of the scratch memory, valid until the next {@link WasmArena.reserve}. */
export interface ArenaViews {
  f32: Float32Array;
  i32: Int32Array;
  u32: Uint32Array;
}

/** One grow-on-demand linear memory shared by all kernels of a WebAssembly kernel set. */
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
export class Layout {
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

/** Functions of the kernel module (emit.ts); a module built for some parts exports only theirs. */
export interface KernelExports {
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
  nonfinite(ptr: number, end: number): number;
  maxpoolarg(
    x: number,
    out: number,
    arg: number,
    rows: number,
    L: number,
    T: number,
    k: number,
    s: number,
  ): void;
  poolscatter(g: number, arg: number, out: number, rows: number, L: number, T: number): void;
  ewunary(op: number, x: number, out: number, bytes: number): void;
  bnsum(x: number, rows: number, len: number, out: number): void;
  bnsqdev(x: number, rows: number, len: number, mu: number, out: number): void;
  bnaffine(x: number, rows: number, len: number, scale: number, shift: number, y: number): void;
  bngsums(x: number, g: number, rows: number, len: number, mu: number, out: number): void;
  bngrad(x: number, g: number, rows: number, len: number, par: number, gx: number): void;
  rowsum(x: number, rows: number, len: number, out: number): void;
  tpack(
    x: number,
    rowBytes: number,
    C: number,
    outL: number,
    td: number,
    dst: number,
    W: number,
    k: number,
    s: number,
  ): void;
  ewrelugrad(x: number, g: number, gx: number, bytes: number): void;
  ewbinary(
    op: number,
    a: number,
    aRow: number,
    aMask: number,
    b: number,
    bRow: number,
    bMask: number,
    out: number,
    rows: number,
    lenBytes: number,
  ): void;
}

/** `dst[d..d+len) = src[s..s+len)`: a plain loop for short runs (no subarray object), `set` otherwise. */
export function copy(dst: Float32Array, d: number, src: Float32Array, s: number, len: number): void {
  if (len < 64) for (let i = 0; i < len; i++) dst[d + i] = src[s + i];
  else dst.set(src.subarray(s, s + len), d);
}

/**
 * Copies `rows` rows of `kTotal` contiguous floats (row stride `kTotal` in `src`, from `srcOffset`)
 * to float index `at`, then zero rows up to a multiple of the gemm tile height.
 */
export function copyRows(
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

/** True when the three arrays (the third may be null) are Float32Arrays (the WebAssembly kernels are float32 only). */
export function float32(a: FloatArray, b: FloatArray, c: FloatArray | null): boolean {
  return a instanceof Float32Array && b instanceof Float32Array && (c === null || c instanceof Float32Array);
}

/** The kernels of the contract that the WebAssembly set implements. */
export type WasmKernelName =
  | 'matmul'
  | 'conv1dForward'
  | 'conv1dBackwardInput'
  | 'conv1dBackwardWeight'
  | 'maxPool1d'
  | 'maxPool1dBackward'
  | 'signPack'
  | 'thresholdPack'
  | 'binaryConv1d'
  | 'binaryDense'
  | 'prepareBinaryConv1d'
  | 'firstNonFinite'
  | 'unary'
  | 'unaryBackward'
  | 'binary'
  | 'channelMoments'
  | 'batchNormForward'
  | 'batchNormBackward'
  | 'reduce';

/** What a part's kernels are bound to: one instance of the kernel module on one arena. */
export interface PartContext {
  readonly exports: KernelExports;
  readonly arena: WasmArena;
  /** `exports.gemm`, or with a `ParallelRunner` a wrapper splitting big calls across its threads. */
  readonly gemm: KernelExports['gemm'];
  /** `exports.gemmNT`, likewise. */
  readonly gemmNT: KernelExports['gemmNT'];
}

/**
 * One separately importable piece of the WebAssembly kernel set: the emitters of the WebAssembly functions its
 * kernels call (shared ones, e.g. `gemm`, are emitted once per module) and how to bind its kernels to a module
 * instance. A bundle that builds a set from some parts (`createWasmKernelSet`) keeps only their code.
 */
export interface WasmKernelPart<N extends WasmKernelName = WasmKernelName> {
  readonly emitters: readonly ((mb: ModuleBuilder) => void)[];
  bind(ctx: PartContext): Pick<Kernels, N>;
  /** Runs each kernel once on tiny inputs so the first real call does not pay for tier-up. */
  warm(k: Pick<Kernels, N>): void;
}
