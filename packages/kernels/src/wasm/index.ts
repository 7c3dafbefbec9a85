/**
 * `@ecgnn/kernels/wasm`: WebAssembly SIMD kernels emitted at run time from TypeScript, with the
 * TypeScript kernels as fallback and test oracle. No dependency, no Node API, no `eval`.
 *
 * ```ts
 * import { createKernels } from '@ecgnn/kernels/wasm';
 * const k = createKernels();            // WASM SIMD when available, else TypeScript
 * const ts = createKernels({ simd: false }); // force the fallback
 * ```
 */
import { buildKernelModule, buildSimdProbe } from './emit.js';
import { tsKernels } from './ts-kernels.js';
import type { Kernels } from './types.js';
import { instantiateWasmKernels, WasmArena } from './wasm-kernels.js';

export { FunctionCode, ModuleBuilder, sleb128, uleb128, ValType, WasmBuilderError } from './builder.js';
export { buildKernelModule } from './emit.js';
export {
  BINARY_DOTS_MAX_TERMS,
  binaryDotsTile,
  binaryTerms,
  buildBinaryDotsLoopModule,
  buildBinaryDotsModule,
  buildBinaryHelperModule,
} from './emit-binary.js';
export {
  avgPool1dForwardTs,
  binaryConv1dTs,
  binaryDenseTs,
  conv1dBackwardInputTs,
  conv1dBackwardWeightTs,
  conv1dForwardTs,
  matmulTs,
  maxPool1dForwardTs,
  prepareBinaryConv1dTs,
  signPackTs,
  tsKernels,
} from './ts-kernels.js';
export {
  type BinaryConv1dParams,
  type BinaryConv1dPlan,
  type BinaryConvEpilogue,
  type BinaryDenseParams,
  type Conv1dParams,
  type FusedActivation,
  KernelArgumentError,
  type Kernels,
  type MatmulOptions,
  type ParallelRunner,
  type Pool1dParams,
  type SignPackParams,
} from './types.js';
export { type ArenaViews, instantiateWasmKernels, splitKernelCall, WasmArena } from './wasm-kernels.js';

/** Options of {@link createKernels} and {@link getWasmKernels}. */
export interface KernelOptions {
  /** `false` forces the TypeScript kernels (e.g. from an `ECGNN_WASM=0` switch read by the caller). Default `true`. */
  simd?: boolean;
  /** Feature test override (tests use it to simulate an engine without SIMD). Default {@link wasmSimdSupported}. */
  detect?: () => boolean;
  /** Initial scratch memory in bytes (it grows on demand). Default 256 KiB. */
  initialMemoryBytes?: number;
}

let simdCache: boolean | undefined;

/** True when this engine has WebAssembly with 128-bit SIMD (validates a tiny module using `v128`/`i8x16.popcnt`). */
export function wasmSimdSupported(): boolean {
  if (simdCache === undefined) {
    try {
      simdCache = typeof WebAssembly === 'object' && WebAssembly.validate(buildSimdProbe());
    } catch {
      simdCache = false;
    }
  }
  return simdCache;
}

let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(buildKernelModule());
  return compiled;
}

/** Runs each WASM kernel once on tiny inputs so the first real call does not pay for tier-up. */
function warmUp(k: Kernels): void {
  const f = new Float32Array(256).fill(0.5);
  const o = new Float32Array(256);
  k.matmul(f, f, o, 1, 5, 3, 9, false, false);
  const p = {
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
  k.conv1dForward(f, f, null, o, p);
  k.conv1dBackwardInput(f, f, o, p);
  k.conv1dBackwardWeight(f, f, o, p);
  const dw = { ...p, outChannels: 2, groups: 2 };
  k.conv1dForward(f, f, null, o, dw);
  k.conv1dBackwardInput(f, f, o, dw);
  k.conv1dBackwardWeight(f, f, o, dw);
  const u = new Uint32Array(64);
  const io = new Int32Array(64);
  k.binaryConv1d(u, u, io, { ...p, inChannels: 33, outChannels: 2, padValue: 1 });
  k.binaryDense(u, u, io, { batch: 2, inFeatures: 40, outFeatures: 3 });
}

/**
 * The WebAssembly SIMD kernels, compiled (synchronously, once per process) and warmed up; `null`
 * when SIMD is unsupported or switched off with `{ simd: false }`. Each call returns a new kernel
 * set with its own scratch memory.
 */
export function getWasmKernels(options: KernelOptions = {}): (Kernels & { arena: WasmArena }) | null {
  if (options.simd === false) return null;
  const detect = options.detect ?? wasmSimdSupported;
  if (!detect()) return null;
  const k = instantiateWasmKernels(kernelModule(), new WasmArena(options.initialMemoryBytes ?? 256 * 1024));
  warmUp(k);
  return k;
}

/** Compiled shared-memory kernel modules, by maximum page count. */
const sharedModules = new Map<number, WebAssembly.Module>();

/**
 * The kernel module compiled for a shared memory of at most `maxPages` 64 KiB pages (cached): instantiate it
 * with {@link instantiateWasmKernels} on a `new WasmArena(bytes, { maxPages })` and, in worker threads, on the
 * same `arena.memory`, to split calls with a {@link ParallelRunner}. `@ecgnn/core`'s threaded backend does.
 */
export function sharedKernelModule(maxPages: number): WebAssembly.Module {
  let m = sharedModules.get(maxPages);
  if (!m) {
    m = new WebAssembly.Module(buildKernelModule({ sharedMaxPages: maxPages }));
    sharedModules.set(maxPages, m);
  }
  return m;
}

/**
 * Asynchronous variant of {@link getWasmKernels} for browsers' main threads, where synchronous
 * compilation of larger modules may be refused: compiles with `WebAssembly.compile`.
 */
export async function loadWasmKernels(
  options: KernelOptions = {},
): Promise<(Kernels & { arena: WasmArena }) | null> {
  if (options.simd === false) return null;
  const detect = options.detect ?? wasmSimdSupported;
  if (!detect()) return null;
  compiled ??= await WebAssembly.compile(buildKernelModule());
  return getWasmKernels(options);
}

/** WASM SIMD kernels when available and enabled, else the TypeScript kernels ({@link Kernels.kind} tells which). */
export function createKernels(options: KernelOptions = {}): Kernels {
  return getWasmKernels(options) ?? tsKernels;
}
