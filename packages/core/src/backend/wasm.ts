/**
 * The WebAssembly SIMD backend: the kernel set of `@ecgnn/kernels/wasm` (matmul, conv1d forward and both
 * gradients, max pooling and its gradient, the binary kernels, and the float32 elementwise kernels of training:
 * unary, the ReLU gradient, binary with broadcasting), emitted at run time (no toolchain, no checked-in
 * binary). Each of its kernels runs the reference kernel itself for float64 calls (gradient checks) and the
 * geometries it does not take; every other kernel is the CPU backend's.
 *
 * Select it with `setBackend('wasm')`; it is created (compiled and warmed up, about a millisecond) on first
 * selection, and selecting it throws where the engine lacks WebAssembly SIMD.
 *
 * Memory: tensors keep their storage in ordinary typed arrays; each kernel call copies its operands into the
 * kernel module's linear memory and the result out (see docs/wasm.md).
 */
import {
  getWasmKernels,
  instantiateWasmKernels,
  sharedKernelModule,
  WasmArena,
  type WasmKernels,
  wasmSimdSupported,
} from '@ecgnn/kernels/wasm';
import { ValueError } from '../errors.js';
import { type Backend, registerBackendFactory } from './backend.js';
import type { Kernels } from './kernels.js';
import { nodeWorkerThreads, WorkerPool } from './wasm-threads.js';

/**
 * The backend's kernel table: the WASM kernel set's kernels (each already falls back to the reference kernel
 * for float64 and the geometries it does not take), without its `kind` and `arena` fields.
 */
export function wasmKernelTable(wk: WasmKernels): Partial<Kernels> {
  const { kind: _kind, arena: _arena, ...kernels } = wk;
  return kernels;
}

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /**
   * Threads for the large matmul / conv kernels, the calling one included (default 1). With more than one, the
   * kernels work on a shared WebAssembly memory (at most 1 GiB of kernel scratch) and `threads − 1` Node worker
   * threads take row blocks of each large call; results are bit-identical to one thread. Needs Node's
   * `worker_threads` (Node ≥ 20.16: `process.getBuiltinModule`); elsewhere it throws a {@link ValueError}.
   */
  threads?: number;
}

/** Largest shared kernel memory of a threaded backend, in 64 KiB pages (1 GiB). */
const SHARED_MAX_PAGES = 16384;

/**
 * Creates the WASM backend, or null when this engine has no WebAssembly SIMD. `setBackend('wasm')` uses one
 * thread; for more, select the object: `setBackend(createWasmBackend({ threads: 2 }))` (its name is
 * `wasm×2`). A threaded backend's workers stop with {@link WasmBackend.dispose} (they never keep the process
 * alive).
 */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend | null {
  const threads = options.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    throw new ValueError(
      `createWasmBackend: threads must be an integer from 1 to 64, got ${String(threads)}`,
    );
  }
  if (threads === 1) {
    const wk = getWasmKernels();
    if (wk === null) return null;
    return { name: 'wasm', threads: 1, kernels: wasmKernelTable(wk), dispose() {} };
  }
  if (!wasmSimdSupported()) return null;
  const wt = nodeWorkerThreads();
  if (wt === null) {
    throw new ValueError(
      'createWasmBackend: threads > 1 need Node worker_threads (process.getBuiltinModule) and SharedArrayBuffer',
    );
  }
  const arena = new WasmArena(256 * 1024, { maxPages: SHARED_MAX_PAGES });
  const module = sharedKernelModule(SHARED_MAX_PAGES);
  const pool = new WorkerPool(wt, module, arena.memory, threads);
  const wk = instantiateWasmKernels(module, arena, { parallel: pool });
  return { name: `wasm×${threads}`, threads, kernels: wasmKernelTable(wk), dispose: () => pool.terminate() };
}

/** A WebAssembly backend made by {@link createWasmBackend}. */
export interface WasmBackend extends Backend {
  /** Threads its large kernels use, the calling one included. */
  readonly threads: number;
  /** Stops the worker threads (a no-op with one thread); the backend falls back to one thread afterwards. */
  dispose(): void;
}

registerBackendFactory('wasm', () => createWasmBackend());
