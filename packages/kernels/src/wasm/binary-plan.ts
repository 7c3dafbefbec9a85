/**
 * The WebAssembly binary convolution of a kernel set: `binaryConv1d` (integer dots), `prepareBinaryConv1d`
 * (a conv bound to its weights with its epilogue — float output, max pool on the dots, folded thresholds →
 * packed bits — all in WebAssembly) and `signPack`. Bit layout: `../binary/conventions.ts`.
 *
 * Per call, in the kernel set's scratch memory (laid out from address 64 like every kernel, nothing survives
 * between calls, views fetched after `reserve`):
 *
 * 1. the packed input `[L][W]` words is copied between zero rows (the +1 padding, conventions.ts §5) — or, for
 *    `runFloat`, the float input is copied in and sign-packed there by `bsign`;
 * 2. the dots kernel (`buildBinaryDotsModule`, specialised per shape, compiled once and cached) writes
 *    `dot = C·K − 2·popcount` as int32 rows `[outC][Lconv]`; with zero padding the padded taps, read as +1,
 *    are then taken out at the edge positions (corrections computed once per weight);
 * 3. the epilogue: int32 → float32 during the copy out; or `bpool` (max pool on the dots) and/or `bthresh`
 *    (threshold comparison and repacking into `[Lout][ceil(outC/32)]` words) in WebAssembly, then the copy out.
 *
 * Plans lay out their weights once (JavaScript copy of the kernel layout) and copy them into the scratch memory
 * at every call (a few KiB); the views of the output regions are kept and re-made only after the memory grew.
 * Plans take receptive fields of up to {@link BINARY_DOTS_MAX_TERMS} 64-bit terms (C·K ≤ 4096 bits; see
 * {@link binaryPlanTakes}) on the unrolled kernel; `binaryConv1d` also takes longer ones, on the loop kernel
 * (`buildBinaryDotsLoopModule`), which a bundle with plans only therefore leaves out.
 */
import {
  type BinaryConv1dParams,
  type BinaryConv1dPlan,
  type BinaryConvEpilogue,
  KernelArgumentError,
  type SignPackParams,
} from '../contract.js';
import { convPaddingWithinField } from '../params.js';
import {
  checkBinaryConv1d,
  checkBinaryConvPlan,
  checkBinaryPlanCall,
  checkSignPack,
  zeroPadCorrections,
} from '../ref/binary.js';
import { Layout, type WasmArena } from './arena.js';
import {
  BINARY_DOTS_MAX_TERMS,
  type BinaryDotsLoop,
  type BinaryDotsSpec,
  type BinaryTerm,
  binaryDotsTile,
  binaryTerms,
  buildBinaryDotsLoopModule,
  buildBinaryDotsModule,
  buildBinaryHelperModule,
} from './emit-binary.js';
import { buildBinaryDenseModule, type DenseLayout, denseLayout, denseWeights } from './emit-binary-dense.js';

/** The binary kernels of one WebAssembly kernel set (geometries with padding within the receptive field). */
export interface WasmBinaryKernels extends WasmBinaryPlans {
  binaryConv1d(xPacked: Uint32Array, wPacked: Uint32Array, out: Int32Array, p: BinaryConv1dParams): void;
}

/** The prepared binary convs and sign packing of one WebAssembly kernel set (what a model runs). */
export interface WasmBinaryPlans {
  prepareBinaryConv1d(
    wPacked: Uint32Array,
    p: BinaryConv1dParams,
    epilogue: BinaryConvEpilogue,
  ): BinaryConv1dPlan;
  signPack(x: Float32Array, out: Uint32Array, p: SignPackParams): boolean;
}

interface HelperExports {
  /** Returns 0 when every value read was finite. */
  bsign(x: number, out: number, C: number, L: number, W: number): number;
  bpool(src: number, dst: number, rows: number, srcRow: number, outL: number, k: number, s: number): void;
  bthresh(src: number, srcRow: number, O: number, outL: number, td: number, dst: number, Wo: number): void;
}

type DotsFn = (
  x: number,
  w: number,
  out: number,
  ocTiles: number,
  blocks: number,
  tail: number,
  outRow: number,
) => void;

/** Compiled modules, shared by all kernel sets of the realm: the helper module and the dots kernels by shape. */
let helperModule: WebAssembly.Module | undefined;
const dotsModules = new Map<string, WebAssembly.Module>();

/**
 * Everything about one binary conv geometry + weights that does not depend on the input: the kernel's term
 * list and weight layout, the tile, the zero-padding corrections.
 */
class BinaryConvCore {
  readonly W: number;
  /** Conv output positions (Lconv = p.outLength). */
  readonly T: number;
  /** Rows of the padded input. */
  readonly lp: number;
  readonly spec: BinaryDotsSpec;
  readonly looped: BinaryDotsLoop | null;
  /** The dense receptive-field layout the dots kernel reads (narrow layers, emit-binary-dense.ts), or null. */
  readonly dense: DenseLayout | null;
  readonly key: string;
  /** Output channels rounded up to the tile. */
  readonly opad: number;
  /** Kernel weights: `[opad][n terms]` i64 as pairs of u32. */
  readonly weights: Uint32Array;
  /** Zero padding: conv positions to correct and, per position, the correction of each channel. */
  readonly edges: Int32Array;
  readonly corrections: Int32Array;

  /** `floatOut`: the kernel stores float32 dots (a float output without pool), else int32. */
  constructor(
    readonly p: BinaryConv1dParams,
    wPacked: Uint32Array,
    floatOut: boolean,
  ) {
    const { inChannels: C, outChannels: O, inLength: L, kernelSize: K, stride: s, dilation: d, padLeft } = p;
    const W = Math.ceil(C / 32);
    this.W = W;
    const T = p.outLength;
    this.T = T;
    const span = (K - 1) * d;
    this.lp = Math.max(padLeft + L, (T - 1) * s + span + 1);
    const terms = binaryTerms(W, K, d);
    const totalBits = C * K;
    this.dense = W === 1 ? denseLayout(C, K, s, d) : null;
    const posStep = this.dense ? 8 * this.dense.words : s * W * 4;
    const n = this.dense ? this.dense.words : terms.length;
    if (this.dense) {
      const { tc, tt } = binaryDotsTile(n);
      this.spec = { terms: this.dense.terms, posStep, tc, tt, totalBits, float: floatOut };
      this.looped = null;
    } else if (n <= BINARY_DOTS_MAX_TERMS) {
      const { tc, tt } = binaryDotsTile(n);
      this.spec = { terms, posStep, tc, tt, totalBits, float: floatOut };
      this.looped = null;
    } else {
      // Long receptive fields: one loop over taps (dilation > 1) or one tap covering the whole run, each read in
      // chunks of 32 wide terms plus the rest.
      const taps = d === 1 ? 1 : K;
      const tapWords = d === 1 ? K * W : W;
      const tapTerms = binaryTerms(tapWords, 1, 1);
      const chunks = Math.floor(Math.floor(tapWords / 2) / 32); // chunks of 32 wide terms
      this.looped = {
        taps,
        tapStride: d * W * 4,
        chunks,
        rest: tapTerms.slice(32 * chunks).map((t) => ({ x: t.x - 32 * 8 * chunks, wide: t.wide })),
      };
      this.spec = { terms, posStep, tc: 1, tt: 1, totalBits, float: floatOut };
    }
    const { tc, tt } = this.spec;
    const f = floatOut ? 'f' : 'i';
    this.key = this.dense
      ? `D${f}${C},${K},${s},${d},${tc},${tt}`
      : this.looped
        ? `L${f}${posStep},${totalBits},${n},${JSON.stringify(this.looped)}`
        : `U${f}${posStep},${totalBits},${tc},${tt},${terms.map((t) => (t.wide ? t.x : -1 - t.x)).join(',')}`;
    this.opad = Math.ceil(O / tc) * tc;
    // Kernel weights in term order: the words each term reads, from the packed [outC][K][W], complemented on
    // their valid bits (the kernel counts agreeing signs, see buildBinaryDotsModule).
    const word = (o: number, wi: number) => {
      const valid = C - 32 * (wi % W);
      const mask = valid >= 32 ? 0xffffffff : (1 << valid) - 1;
      return ~wPacked[o * K * W + wi] & mask;
    };
    this.weights = this.dense
      ? denseWeights(this.dense, O, this.opad, (o, k) => word(o, k))
      : this.packedWeights(terms, word, d);
    // Zero padding: the kernel reads padded taps as +1 (zero words); the corrections take them out.
    const z = zeroPadCorrections(p, wPacked);
    this.edges = Int32Array.from(z.edges);
    this.corrections = Int32Array.from(z.corrections);
  }

  /** Weights in the order of the packed layout's terms (`word(o, wi)`: word wi of channel o's receptive field). */
  private packedWeights(terms: readonly BinaryTerm[], word: (o: number, wi: number) => number, d: number) {
    const { outChannels: O } = this.p;
    const W = this.W;
    const n = terms.length;
    const weights = new Uint32Array(this.opad * n * 2);
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < n; i++) {
        const t = terms[i];
        // Word of the term in the receptive field; in the input tap k starts at word k·d·W, in the weights at k·W.
        const fw = t.x / 4;
        const wi = d === 1 ? fw : Math.floor(fw / (d * W)) * W + (fw % (d * W));
        weights[(o * n + i) * 2] = word(o, wi);
        if (t.wide) weights[(o * n + i) * 2 + 1] = word(o, wi + 1);
      }
    }
    return weights;
  }
}

/** Scratch regions of one conv call (byte offsets). */
interface CoreRegions {
  w: number;
  x: number;
  /** The dense layout of the input (`core.dense`), else unused. */
  dense: number;
  dots: number;
}

function takeCoreRegions(lay: Layout, core: BinaryConvCore, poolSlack: number): CoreRegions {
  const w = lay.take(core.weights.length);
  const x = lay.take(core.lp * core.W);
  const dense = core.dense ? lay.take(core.T * core.dense.words * 2) : 0;
  const dots = lay.take(core.opad * core.T, poolSlack);
  return { w, x, dense, dots };
}

/** What the binary kernels of one kernel set share: its arena, the helper module's instance, dots kernels by shape. */
interface BinaryKit {
  arena: WasmArena;
  helpers(): HelperExports;
  /** The dots kernel of `core`'s shape, its module built by `build` (once per shape and realm). */
  dotsFn(core: BinaryConvCore, build: (core: BinaryConvCore) => Uint8Array<ArrayBuffer>): DotsFn;
  /** The dense-layout gather of `core`'s shape (`core.dense` set), compiled once per shape and realm. */
  denseFn(core: BinaryConvCore): DenseFn;
}

type DenseFn = (x: number, dst: number, T: number) => void;

/** Compiled `bdense` modules by dense layout, shared by all kernel sets of the realm. */
const denseModules = new Map<string, WebAssembly.Module>();

/** The kit of each arena (the plans and `binaryConv1d` of one kernel set share its instances). */
const kits = new WeakMap<WasmArena, BinaryKit>();

function binaryKit(arena: WasmArena): BinaryKit {
  let kit = kits.get(arena);
  if (kit) return kit;
  let helper: HelperExports | null = null;
  const dotsFns = new Map<string, DotsFn>();
  const denseFns = new Map<string, DenseFn>();
  kit = {
    arena,
    helpers() {
      if (!helper) {
        helperModule ??= new WebAssembly.Module(buildBinaryHelperModule());
        helper = new WebAssembly.Instance(helperModule, { env: { memory: arena.memory } })
          .exports as unknown as HelperExports;
      }
      return helper;
    },
    dotsFn(core, build) {
      let fn = dotsFns.get(core.key);
      if (!fn) {
        let mod = dotsModules.get(core.key);
        if (!mod) {
          mod = new WebAssembly.Module(build(core));
          dotsModules.set(core.key, mod);
        }
        fn = new WebAssembly.Instance(mod, { env: { memory: arena.memory } }).exports.bdots as DotsFn;
        dotsFns.set(core.key, fn);
      }
      return fn;
    },
    denseFn(core) {
      const d = core.dense!;
      const key = `${d.C},${d.K},${d.stride},${d.dilation}`;
      let fn = denseFns.get(key);
      if (!fn) {
        let mod = denseModules.get(key);
        if (!mod) {
          mod = new WebAssembly.Module(buildBinaryDenseModule(d));
          denseModules.set(key, mod);
        }
        fn = new WebAssembly.Instance(mod, { env: { memory: arena.memory } }).exports.bdense as DenseFn;
        denseFns.set(key, fn);
      }
      return fn;
    },
  };
  kits.set(arena, kit);
  return kit;
}

/**
 * Dots of one batch entry into `r.dots` (`[opad][T]` int32, or float32). The input is already in the x region
 * (from `copyInput` or `bsign`); the weights were copied at the start of the call. `dense`: the gather of
 * `core.dense` into the dense region, resolved once by the caller (null without a dense layout).
 */
function runDots(
  arena: WasmArena,
  core: BinaryConvCore,
  fn: DotsFn,
  dense: DenseFn | null,
  r: CoreRegions,
): void {
  const { i32, f32 } = arena.views();
  const { p, T } = core;
  const { tc, tt } = core.spec;
  const blocks = Math.floor(T / tt);
  if (dense !== null) dense(r.x, r.dense, T);
  fn(dense !== null ? r.dense : r.x, r.w, r.dots, core.opad / tc, blocks, T - blocks * tt, T * 4);
  const { edges, corrections } = core;
  if (edges.length > 0) {
    const O = p.outChannels;
    const d0 = r.dots / 4;
    const dots = core.spec.float ? f32 : i32; // float32 dots are exact integers below 2²⁴
    for (let e = 0; e < edges.length; e++)
      for (let o = 0; o < O; o++) dots[d0 + o * T + edges[e]] -= corrections[e * O + o];
  }
}

/** Copies packed batch entry `b` of `x` between zero rows into the x region. */
function copyInput(core: BinaryConvCore, r: CoreRegions, u32: Uint32Array, x: Uint32Array, b: number): void {
  const { W, lp } = core;
  const { inLength: L, padLeft } = core.p;
  const x0 = r.x / 4;
  const n = L * W;
  u32.fill(0, x0, x0 + padLeft * W);
  if (b === 0 && x.length === n) u32.set(x, x0 + padLeft * W);
  else u32.set(x.subarray(b * n, (b + 1) * n), x0 + padLeft * W);
  u32.fill(0, x0 + (padLeft + L) * W, x0 + lp * W);
}

/**
 * Whether the WebAssembly plans take geometry `p`: padding within the receptive field and at most
 * {@link BINARY_DOTS_MAX_TERMS} terms per output (the unrolled dots kernel); the rest runs the reference.
 */
export function binaryPlanTakes(p: BinaryConv1dParams): boolean {
  return (
    convPaddingWithinField(p) &&
    binaryTerms(Math.ceil(p.inChannels / 32), p.kernelSize, p.dilation).length <= BINARY_DOTS_MAX_TERMS
  );
}

/**
 * `binaryConv1d` bound to a kernel set's memory (apart from the plans, so that a bundle running prepared convs
 * only leaves it out).
 */
export function createWasmBinaryConv1d(arena: WasmArena): WasmBinaryKernels['binaryConv1d'] {
  const kit = binaryKit(arena);
  /**
   * Cores of recent `binaryConv1d` calls by geometry, each with a copy of the weights it was made from: a call
   * with the same geometry and equal weight words (compared, so changed weights are never missed) reuses the
   * laid-out weights instead of redoing them.
   */
  const recent = new Map<string, { w: Uint32Array; core: BinaryConvCore }>();

  function coreFor(p: BinaryConv1dParams, wPacked: Uint32Array): BinaryConvCore {
    const key = `${p.inChannels},${p.outChannels},${p.inLength},${p.outLength},${p.kernelSize},${p.stride},${p.dilation},${p.padLeft},${p.padValue}`;
    const n = p.outChannels * p.kernelSize * Math.ceil(p.inChannels / 32);
    const hit = recent.get(key);
    if (hit) {
      let same = true;
      for (let i = 0; i < n && same; i++) same = hit.w[i] === wPacked[i];
      if (same) return hit.core;
    }
    const core = new BinaryConvCore({ ...p, batch: 1 }, wPacked, false);
    if (recent.size >= 8) recent.clear();
    recent.set(key, { w: wPacked.slice(0, n), core });
    return core;
  }

  function binaryConv1d(
    xPacked: Uint32Array,
    wPacked: Uint32Array,
    out: Int32Array,
    p: BinaryConv1dParams,
  ): void {
    checkBinaryConv1d(p, xPacked, wPacked, out);
    const core = coreFor(p, wPacked);
    const fn = kit.dotsFn(core, (c) =>
      c.looped ? buildBinaryDotsLoopModule(c.spec, c.looped) : buildBinaryDotsModule(c.spec),
    );
    const dense = core.dense ? kit.denseFn(core) : null;
    const lay = new Layout();
    const r = takeCoreRegions(lay, core, 64);
    arena.reserve(lay.bytes);
    const { u32, i32 } = arena.views();
    u32.set(core.weights, r.w / 4);
    const m = p.outChannels * p.outLength;
    const view = i32.subarray(r.dots / 4, r.dots / 4 + m);
    for (let b = 0; b < p.batch; b++) {
      copyInput(core, r, u32, xPacked, b);
      runDots(arena, core, fn, dense, r);
      out.set(view, b * m);
    }
  }

  return binaryConv1d;
}

/** Binds the prepared binary convs and sign packing to a kernel set's memory. */
export function createWasmBinaryPlans(arena: WasmArena): WasmBinaryPlans {
  const kit = binaryKit(arena);

  /** The result view of the last `signPack` call (re-made when the geometry or the memory changed). */
  let signView: Uint32Array | null = null;

  function signPack(x: Float32Array, out: Uint32Array, p: SignPackParams): boolean {
    checkSignPack(p, x, out);
    const { channels: C, length: L } = p;
    const W = Math.ceil(C / 32);
    const lay = new Layout();
    const xAt = lay.take(C * L);
    const oAt = lay.take((L + 4) * W);
    arena.reserve(lay.bytes);
    const h = kit.helpers();
    const { f32, u32 } = arena.views();
    const n = C * L;
    if (
      !signView ||
      signView.buffer !== u32.buffer ||
      signView.byteOffset !== oAt ||
      signView.length !== L * W
    )
      signView = new Uint32Array(u32.buffer, oAt, L * W);
    let bad = 0;
    for (let b = 0; b < p.batch; b++) {
      if (b === 0 && x.length === n) f32.set(x, xAt / 4);
      else f32.set(x.subarray(b * n, (b + 1) * n), xAt / 4);
      bad |= h.bsign(xAt, oAt, C, L, W);
      out.set(signView, b * L * W);
    }
    return bad === 0;
  }

  function prepareBinaryConv1d(
    wPacked: Uint32Array,
    p: BinaryConv1dParams,
    epilogue: BinaryConvEpilogue,
  ): BinaryConv1dPlan {
    const { outLength, outSize } = checkBinaryConvPlan(p, wPacked, epilogue);
    if (!binaryPlanTakes(p))
      throw new KernelArgumentError(
        `binaryConv1d plan: ${p.inChannels}×${p.kernelSize} bits per output exceed the WebAssembly plans`,
      );
    const pool = epilogue.pool ? { ...epilogue.pool } : null;
    const packed = epilogue.thresholds !== null;
    // Float output without pool: the kernel stores float32 and the copy out is a plain copy.
    const core = new BinaryConvCore({ ...p }, wPacked, !pool && !packed);
    const fn = kit.dotsFn(core, (c) => buildBinaryDotsModule(c.spec));
    const dense = core.dense ? kit.denseFn(core) : null;
    const h = kit.helpers();
    const { outChannels: O, inChannels: C, inLength: L, batch } = p;
    const T = core.T;
    const Wo = Math.ceil(O / 32);
    // Threshold pairs (t_o, s_o) for bthresh: s_o = 0, t_o = threshold (direction +1: −1 ⇔ y < threshold);
    // s_o = −1, t_o = ~threshold (direction −1: −1 ⇔ y > threshold ⇔ ~y < ~threshold).
    const td = new Int32Array(2 * O);
    if (epilogue.thresholds) {
      const { threshold, direction } = epilogue.thresholds;
      for (let o = 0; o < O; o++) {
        const up = direction[o] > 0;
        td[2 * o] = up ? threshold[o] : ~threshold[o];
        td[2 * o + 1] = up ? 0 : -1;
      }
    }
    const lay = new Layout();
    // bpool reads up to 4·s + k values past a row's last window.
    const poolSlack = pool ? 4 * (4 * pool.stride + pool.kernelSize + 8) : 64;
    const r = takeCoreRegions(lay, core, poolSlack);
    const poolAt = pool ? lay.take(O * outLength, 64) : 0;
    const tdAt = packed ? lay.take(2 * O) : 0;
    const packedAt = packed ? lay.take((outLength + 4) * Wo) : 0;
    const floatAt = lay.take(C * L);
    const bytes = lay.bytes;
    // Where the result is read from, and its view (re-made only when the memory grew).
    const resultAt = packed ? packedAt : pool ? poolAt : r.dots;
    let resultView: Float32Array | Int32Array | Uint32Array | null = null;
    let inputView: Float32Array | null = null;

    const call = (
      x: Uint32Array | Float32Array,
      out: Float32Array | Uint32Array,
      fromFloat: boolean,
    ): boolean => {
      checkBinaryPlanCall(batch, fromFloat ? C * L : L * core.W, outSize, packed, x, out);
      arena.reserve(bytes);
      const { u32, i32 } = arena.views();
      if (!resultView || resultView.buffer !== u32.buffer) {
        resultView = packed
          ? new Uint32Array(u32.buffer, resultAt, outSize)
          : core.spec.float
            ? new Float32Array(u32.buffer, resultAt, outSize)
            : new Int32Array(u32.buffer, resultAt, outSize);
        inputView = new Float32Array(u32.buffer, floatAt, C * L);
      }
      u32.set(core.weights, r.w / 4);
      if (packed) i32.set(td, tdAt / 4);
      let bad = 0;
      for (let b = 0; b < batch; b++) {
        if (fromFloat) {
          const xf = x as Float32Array;
          const n = C * L;
          if (b === 0 && xf.length === n) inputView!.set(xf);
          else inputView!.set(xf.subarray(b * n, (b + 1) * n));
          const x0 = r.x / 4;
          const W = core.W;
          u32.fill(0, x0, x0 + p.padLeft * W);
          u32.fill(0, x0 + (p.padLeft + L) * W, x0 + core.lp * W);
          bad |= h.bsign(floatAt, r.x + p.padLeft * W * 4, C, L, W);
        } else copyInput(core, r, u32, x as Uint32Array, b);
        runDots(arena, core, fn, dense, r);
        let src = r.dots;
        let srcRow = T * 4;
        if (pool) {
          h.bpool(r.dots, poolAt, O, T * 4, outLength, pool.kernelSize, pool.stride);
          src = poolAt;
          srcRow = outLength * 4;
        }
        if (packed) h.bthresh(src, srcRow, O, outLength, tdAt, packedAt, Wo);
        // Float dots (float32 from the kernel, or int32 → float32 during the copy: exact below 2²⁴), or words.
        out.set(resultView as never, b * outSize);
      }
      return bad === 0;
    };
    return {
      outLength,
      outSize,
      run: (x, out) => {
        call(x, out, false);
      },
      runFloat: (x, out) => call(x, out, true),
    };
  }

  return { prepareBinaryConv1d, signPack };
}
