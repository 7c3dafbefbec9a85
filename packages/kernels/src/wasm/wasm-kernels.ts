/**
 * The WebAssembly SIMD kernel set: a `Partial<Kernels>` of the contract (matmul, conv1d forward and both
 * gradients, max pooling without indices, the binary kernels, `firstNonFinite`, and the elementwise `unary`,
 * `unaryBackward`, `binary`, max pooling with indices and its gradient of training on float32), with the
 * contract's exact signatures. Each kernel runs the geometries its WebAssembly code takes and calls the
 * reference kernel (`../ref/`) itself for the rest — float64 operands, empty sizes, convolutions whose padding
 * exceeds the receptive field (`convPaddingWithinField`), max pooling with indices over padded windows, dilation
 * or strides other than 1 and 2, elementwise ops and broadcasts it does not take — so callers use it as is, over
 * the reference set: `{ ...referenceKernels, ...wasm }`.
 *
 * The kernels come in parts ({@link WasmKernelPart}: part-matmul.ts, part-conv.ts, part-pool.ts,
 * part-binary.ts, part-finite.ts, part-elementwise.ts, part-pool-train.ts, part-norm.ts). {@link instantiateWasmKernelParts}
 * binds some parts to a module emitted with
 * only their WebAssembly functions ({@link buildPartsModule}), so that a bundle keeps only the parts it names;
 * {@link instantiateWasmKernels} binds them all.
 */
import type { Kernels } from '../contract.js';
import {
  type KernelExports,
  type PartContext,
  TR,
  WasmArena,
  type WasmKernelName,
  type WasmKernelPart,
} from './arena.js';
import { ModuleBuilder } from './builder.js';
import { binaryDensePart, binaryPart } from './part-binary.js';
import { convForwardPart } from './part-conv.js';
import { convBackwardPart } from './part-conv-backward.js';
import { elementwisePart } from './part-elementwise.js';
import { finitePart } from './part-finite.js';
import { matmulPart } from './part-matmul.js';
import { normPart } from './part-norm.js';
import { maxPoolPart } from './part-pool.js';
import { maxPoolTrainPart } from './part-pool-train.js';
import { reducePart } from './part-reduce.js';
import { thresholdPart } from './part-threshold.js';
import type { ParallelRunner } from './types.js';

/** What every WebAssembly kernel set has besides its kernels. */
export interface WasmKernelSetInfo {
  /** Always `'wasm-simd'` (tells it apart from the reference set in diagnostics). */
  readonly kind: 'wasm-simd';
  /** The linear memory the kernels copy their operands into. */
  readonly arena: WasmArena;
}

/** A WebAssembly kernel set of some parts: their kernels, its kind and its scratch memory. */
export type WasmKernelSet<N extends WasmKernelName> = Pick<Kernels, N> & WasmKernelSetInfo;

/** Any part (a part of some kernels; the constraint of the functions taking a list of parts). */
export type AnyWasmKernelPart = WasmKernelPart<never>;

/** The kernel names of a union of parts. */
export type PartKernelNames<P> = P extends WasmKernelPart<infer N> ? N : never;

/**
 * The whole WebAssembly SIMD kernel set: the contract's kernels {@link WasmKernelName} (a `Partial<Kernels>`,
 * each falling back to the reference kernel for geometries it does not take), its kind and its scratch memory.
 */
export interface WasmKernels extends Pick<Kernels, WasmKernelName>, WasmKernelSetInfo {}

/** Every part, in the order their functions are emitted into the full kernel module. */
export const WASM_KERNEL_PARTS = [
  matmulPart,
  convForwardPart,
  convBackwardPart,
  binaryDensePart,
  maxPoolPart,
  binaryPart,
  finitePart,
] as const;

/**
 * The parts of training (elementwise kernels, max pooling with indices and its gradient): a second module of their
 * own, instantiated on the same memory by {@link instantiateWasmKernels}, so that each module stays under the
 * 4 KiB that browsers compile synchronously on their main thread.
 */
export const WASM_TRAINING_PARTS = [elementwisePart, maxPoolTrainPart] as const;

/**
 * The batch-normalisation and row-sum parts of training, and threshold packing: a third module (with them the
 * second would pass 4 KiB; with threshold packing the first would).
 */
export const WASM_NORM_PARTS = [normPart, reducePart, thresholdPart] as const;

/** Compiled modules of the training parts, by parts and the shared arena's page limit (0: a plain memory). */
const trainingModules = new Map<string, WebAssembly.Module>();

/**
 * The module of some training parts ({@link WASM_TRAINING_PARTS}, {@link WASM_NORM_PARTS}) for an arena (a shared
 * memory needs a module importing one), compiled once.
 */
function trainingModule(parts: readonly AnyWasmKernelPart[], arena: WasmArena): WebAssembly.Module {
  const key = `${partEmitters(parts).key}/${arena.sharedMaxPages ?? 0}`;
  let m = trainingModules.get(key);
  if (!m) {
    m = new WebAssembly.Module(buildPartsModule(parts, arena.sharedMaxPages ?? undefined));
    trainingModules.set(key, m);
  }
  return m;
}

/** Ids of emitters, for the cache key of a module of some parts. */
const emitterIds = new WeakMap<object, number>();
let nextEmitterId = 0;

/** The distinct emitters of `parts`, in order of first use, and a key naming that set. */
export function partEmitters(parts: readonly AnyWasmKernelPart[]): {
  emitters: ((mb: ModuleBuilder) => void)[];
  key: string;
} {
  const emitters: ((mb: ModuleBuilder) => void)[] = [];
  for (const part of parts) for (const e of part.emitters) if (!emitters.includes(e)) emitters.push(e);
  const ids: number[] = [];
  for (const e of emitters) {
    let id = emitterIds.get(e);
    if (id === undefined) {
      id = nextEmitterId++;
      emitterIds.set(e, id);
    }
    ids.push(id);
  }
  return { emitters, key: ids.sort((a, b) => a - b).join(',') };
}

/**
 * Bytes of a kernel module holding the WebAssembly functions of `parts` (each emitted once; imports
 * `env.memory`, a shared memory of at most `sharedMaxPages` pages when given).
 */
export function buildPartsModule(
  parts: readonly AnyWasmKernelPart[],
  sharedMaxPages?: number,
): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder().importMemory('env', 'memory', 1, sharedMaxPages);
  for (const emit of partEmitters(parts).emitters) emit(mb);
  return mb.build();
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

/** Binds the kernels of `parts` to the exports `k` of a module instance on `arena`, calling `gemm` / `gemmNT`. */
function bindParts<P extends AnyWasmKernelPart>(
  parts: readonly P[],
  k: KernelExports,
  arena: WasmArena,
  gemm: KernelExports['gemm'],
  gemmNT: KernelExports['gemmNT'],
): WasmKernelSet<PartKernelNames<P>> {
  const ctx: PartContext = { exports: k, arena, gemm, gemmNT };
  const set = { kind: 'wasm-simd', arena } as WasmKernelSetInfo & Partial<Kernels>;
  for (const part of parts) Object.assign(set, part.bind(ctx));
  return set as WasmKernelSet<PartKernelNames<P>>;
}

/** The exports of a new instance of `module` on `arena`. */
function instantiate(module: WebAssembly.Module, arena: WasmArena): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory: arena.memory } })
    .exports as unknown as KernelExports;
}

/**
 * {@link instantiateWasmKernelParts} without a thread runner: a bundle calling only this (`createWasmKernelSet`)
 * leaves the splitting of calls across threads out.
 */
export function instantiateSingleThreaded<P extends AnyWasmKernelPart>(
  parts: readonly P[],
  module: WebAssembly.Module,
  arena: WasmArena,
): WasmKernelSet<PartKernelNames<P>> {
  const k = instantiate(module, arena);
  return bindParts(parts, k, arena, k.gemm, k.gemmNT);
}

/**
 * Binds the kernels of `parts` to an instance of `module` (built for at least those parts, e.g. by
 * {@link buildPartsModule}) on `arena`. With a {@link ParallelRunner} (the module and the arena shared), big
 * `gemm` / `gemmNT` calls are split across its threads.
 */
export function instantiateWasmKernelParts<P extends AnyWasmKernelPart>(
  parts: readonly P[],
  module: WebAssembly.Module,
  arena = new WasmArena(),
  options: { parallel?: ParallelRunner } = {},
): WasmKernelSet<PartKernelNames<P>> {
  const parallel = options.parallel;
  if (!parallel) return instantiateSingleThreaded(parts, module, arena);
  const k = instantiate(module, arena);
  const localGemm = (x: readonly number[]) =>
    k.gemm(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11], x[12]);
  const localGemmNT = (x: readonly number[]) =>
    k.gemmNT(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10]);
  // Calls big enough are split by row panels (panels of 2 rows for gemm, 4 for gemmNT) across the threads.
  return bindParts(
    parts,
    k,
    arena,
    (...x) => {
      if (x[3] >= 2 && x[3] * TR * x[4] * x[7] * x[8] >= PARALLEL_MIN_MACS)
        parallel.run('gemm', x, localGemm);
      else localGemm(x);
    },
    (...x) => {
      if (x[3] >= 2 && x[3] * 4 * x[4] * 2 * x[5] >= PARALLEL_MIN_MACS)
        parallel.run('gemmNT', x, localGemmNT);
      else localGemmNT(x);
    },
  );
}

/**
 * Builds the whole WebAssembly kernel set: the parts of {@link WASM_KERNEL_PARTS} on a compiled kernel module
 * (`buildKernelModule`, for the arena's kind of memory), and those of {@link WASM_TRAINING_PARTS} and
 * {@link WASM_NORM_PARTS} on modules of their own (compiled here once per kind of memory), on the same arena — or,
 * when the arena is shared, on a plain arena of their own. A {@link ParallelRunner} splits big gemm calls; the
 * training kernels run on the calling thread.
 */
export function instantiateWasmKernels(
  module: WebAssembly.Module,
  arena = new WasmArena(),
  options: { parallel?: ParallelRunner } = {},
): WasmKernels {
  const main = instantiateWasmKernelParts(WASM_KERNEL_PARTS, module, arena, options);
  // The training kernels run on the calling thread only: with a shared arena they get a plain one of their own,
  // because V8 copies between JavaScript arrays and shared memory at about half the speed of plain memory, and
  // these kernels are mostly copies in and out (elementwise, pooling gradients, batch norm: measured 2× slower
  // on the shared arena in the 2-thread training step).
  const own = arena.sharedMaxPages === null ? arena : new WasmArena();
  const training = instantiateSingleThreaded(
    WASM_TRAINING_PARTS,
    trainingModule(WASM_TRAINING_PARTS, own),
    own,
  );
  const norm = instantiateSingleThreaded(WASM_NORM_PARTS, trainingModule(WASM_NORM_PARTS, own), own);
  return { ...main, ...training, ...norm };
}

/** Runs each kernel of `parts` once on tiny inputs so the first real call does not pay for tier-up. */
export function warmUpParts<P extends AnyWasmKernelPart>(
  parts: readonly P[],
  k: WasmKernelSet<PartKernelNames<P>>,
): void {
  for (const part of parts) part.warm(k as never);
}
