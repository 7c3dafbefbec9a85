/**
 * `@ecgnn/kernels/wasm`: WebAssembly SIMD kernels emitted at run time from TypeScript — a `Partial<Kernels>` of
 * the contract, over the reference kernels (`referenceKernels`) as fallback and test oracle. No dependency, no
 * Node API, no `eval`.
 *
 * ```ts
 * import { createKernels, getWasmKernels } from '@ecgnn/kernels/wasm';
 * const wasm = getWasmKernels();             // the WASM kernels, or null without SIMD
 * const k = createKernels();                 // every kernel: WASM where it has one, else the reference
 * const ts = createKernels({ simd: false }); // the reference kernels only
 * ```
 * @module @ecgnn/kernels/wasm
 */
import type { Kernels } from '../contract.js';
import { referenceKernels } from '../ref/index.js';
import { WasmArena } from './arena.js';
import { buildKernelModule, buildSimdProbe } from './emit.js';
import {
  type AnyWasmKernelPart,
  buildPartsModule,
  instantiateSingleThreaded,
  instantiateWasmKernels,
  type PartKernelNames,
  partEmitters,
  WASM_KERNEL_PARTS,
  WASM_NORM_PARTS,
  WASM_TRAINING_PARTS,
  type WasmKernelSet,
  type WasmKernels,
  warmUpParts,
} from './wasm-kernels.js';

export { type ArenaViews, WasmArena, type WasmKernelName, type WasmKernelPart } from './arena.js';
export { binaryPlanTakes } from './binary-plan.js';
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
export { EW_BINARY_OPS, EW_UNARY_OPS } from './emit-elementwise.js';
export { emitNonFinite, emitSimdOp } from './emit-finite.js';
export { binaryDensePart, binaryPart, binaryPlanPart } from './part-binary.js';
export { convForwardPart } from './part-conv.js';
export { convBackwardPart } from './part-conv-backward.js';
export { type BinaryPlan, EW_BLOCK, EW_MIN_WASM, elementwisePart, planBinary } from './part-elementwise.js';
export { finitePart } from './part-finite.js';
export { matmulPart } from './part-matmul.js';
export { NORM_BLOCK, NORM_MIN_WASM, normPart } from './part-norm.js';
export { maxPoolPart } from './part-pool.js';
export { maxPoolTrainPart } from './part-pool-train.js';
export { REDUCE_BLOCK, REDUCE_MIN_WASM, reducePart } from './part-reduce.js';
export { thresholdPart } from './part-threshold.js';
export type { ParallelRunner } from './types.js';
export {
  type AnyWasmKernelPart,
  buildPartsModule,
  instantiateWasmKernelParts,
  instantiateWasmKernels,
  type PartKernelNames,
  splitKernelCall,
  WASM_KERNEL_PARTS,
  WASM_NORM_PARTS,
  WASM_TRAINING_PARTS,
  type WasmKernelSet,
  type WasmKernelSetInfo,
  type WasmKernels,
} from './wasm-kernels.js';

/** Options of {@link createKernels} and {@link getWasmKernels}. */
export interface KernelOptions {
  /** `false` forces the reference kernels (e.g. from an `ECGNN_WASM=0` switch read by the caller). Default `true`. */
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

/**
 * The WebAssembly SIMD kernels, compiled (synchronously, once per process) and warmed up; `null`
 * when SIMD is unsupported or switched off with `{ simd: false }`. Each call returns a new kernel
 * set with its own scratch memory.
 */
export function getWasmKernels(options: KernelOptions = {}): WasmKernels | null {
  if (options.simd === false) return null;
  const detect = options.detect ?? wasmSimdSupported;
  if (!detect()) return null;
  const k = instantiateWasmKernels(kernelModule(), new WasmArena(options.initialMemoryBytes ?? 256 * 1024));
  warmUpParts(WASM_KERNEL_PARTS, k);
  warmUpParts(WASM_TRAINING_PARTS, k);
  warmUpParts(WASM_NORM_PARTS, k);
  return k;
}

/** Compiled modules of part sets, by the key of their emitters. */
const partModules = new Map<string, WebAssembly.Module>();

/**
 * A WebAssembly kernel set of only the kernels of `parts` (compiled once per part set, with only their
 * WebAssembly functions, and warmed up), or `null` as {@link getWasmKernels}. A bundle calling this keeps only
 * the named parts, e.g. an inference runtime:
 *
 * ```ts
 * const k = createWasmKernelSet([matmulPart, convForwardPart, maxPoolPart, binaryPart]);
 * k?.conv1dForward(x, w, bias, out, p); // k has matmul, conv1dForward, maxPool1d and the binary kernels
 * ```
 */
export function createWasmKernelSet<P extends AnyWasmKernelPart>(
  parts: readonly P[],
  options: KernelOptions = {},
): WasmKernelSet<PartKernelNames<P>> | null {
  if (options.simd === false) return null;
  const detect = options.detect ?? wasmSimdSupported;
  if (!detect()) return null;
  const { key } = partEmitters(parts);
  let module = partModules.get(key);
  if (!module) {
    module = new WebAssembly.Module(buildPartsModule(parts));
    partModules.set(key, module);
  }
  const k = instantiateSingleThreaded(parts, module, new WasmArena(options.initialMemoryBytes ?? 256 * 1024));
  warmUpParts(parts, k);
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
export async function loadWasmKernels(options: KernelOptions = {}): Promise<WasmKernels | null> {
  if (options.simd === false) return null;
  const detect = options.detect ?? wasmSimdSupported;
  if (!detect()) return null;
  compiled ??= await WebAssembly.compile(buildKernelModule());
  return getWasmKernels(options);
}

/** A complete kernel table and which set serves its WebAssembly-capable kernels. */
export type ResolvedKernels = Kernels & { readonly kind: 'wasm-simd' | 'typescript' };

/**
 * Every kernel of the contract: the WebAssembly SIMD kernels when available and enabled, the reference kernels
 * for the rest (and for all of them without SIMD); `kind` tells which.
 */
export function createKernels(options: KernelOptions = {}): ResolvedKernels {
  const wasm = getWasmKernels(options);
  if (wasm === null) return { ...referenceKernels, kind: 'typescript' };
  return { ...referenceKernels, ...wasm };
}
