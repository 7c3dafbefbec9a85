/**
 * The WebAssembly SIMD backend: matmul, conv1d (forward and both backward kernels) and max/avg pooling run in
 * kernels emitted at run time by `@ecgnn/kernels/wasm` (no toolchain, no checked-in binary). Everything else,
 * and every float64 call (gradient checks), falls back to the CPU reference kernels.
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
  type Kernels as WasmKernels,
  wasmSimdSupported,
} from '@ecgnn/kernels/wasm';
import type { FloatArray } from '../dtype.js';
import { ValueError } from '../errors.js';
import { type Backend, getCpuBackend, registerBackendFactory } from './backend.js';
import type { Conv1dParams, Kernels, Pool1dParams } from './kernels.js';
import { nodeWorkerThreads, WorkerPool } from './wasm-threads.js';

function f32(...arrays: Array<FloatArray | null>): boolean {
  for (const a of arrays) if (a !== null && !(a instanceof Float32Array)) return false;
  return true;
}

function positive(...dims: number[]): boolean {
  for (const d of dims) if (!(d > 0)) return false;
  return true;
}

/** True when there is no padding and every window lies inside the row (no ceil-mode partial windows). */
function windowsInside(p: Pool1dParams): boolean {
  return p.padLeft === 0 && (p.outLength - 1) * p.stride + p.kernelSize <= p.inLength;
}

/**
 * Geometries the WASM kernels take: positive sizes, and padding on either side no wider than the receptive
 * field (PyTorch also allows windows made only of padding; those go to the CPU kernels).
 */
function convOk(p: Conv1dParams): boolean {
  const field = p.dilation * (p.kernelSize - 1);
  const padRight = (p.outLength - 1) * p.stride + field + 1 - p.padLeft - p.inLength;
  return (
    positive(p.batch, p.inChannels, p.outChannels, p.inLength, p.outLength, p.kernelSize) &&
    p.padLeft <= field &&
    padRight <= field
  );
}

/** Builds the backend's kernel table over a WASM kernel set, with per-call CPU fallback. */
export function wasmKernelTable(wk: WasmKernels): Partial<Kernels> {
  const cpu = getCpuBackend().kernels;
  return {
    matmul(a, b, out, p) {
      if (!f32(a, b, out) || !positive(p.batch, p.m, p.k, p.n)) {
        cpu.matmul(a, b, out, p);
        return;
      }
      wk.matmul(
        a as Float32Array,
        b as Float32Array,
        out as Float32Array,
        p.batch,
        p.m,
        p.k,
        p.n,
        p.transA,
        p.transB,
        {
          batchStrideA: p.batchStrideA,
          batchStrideB: p.batchStrideB,
          accumulate: p.accumulate,
        },
      );
    },
    conv1dForward(x, w, bias, out, p) {
      if (!f32(x, w, bias, out) || !convOk(p)) return cpu.conv1dForward(x, w, bias, out, p);
      wk.conv1dForward(
        x as Float32Array,
        w as Float32Array,
        bias as Float32Array | null,
        out as Float32Array,
        p,
      );
    },
    conv1dBackwardInput(g, w, gx, p) {
      if (!f32(g, w, gx) || !convOk(p)) return cpu.conv1dBackwardInput(g, w, gx, p);
      wk.conv1dBackwardInput(g as Float32Array, w as Float32Array, gx as Float32Array, p);
    },
    conv1dBackwardWeight(x, g, gw, p) {
      if (!f32(x, g, gw) || !convOk(p)) return cpu.conv1dBackwardWeight(x, g, gw, p);
      wk.conv1dBackwardWeight(x as Float32Array, g as Float32Array, gw as Float32Array, p);
    },
    maxPool1d(x, out, arg, p: Pool1dParams) {
      // The WASM kernel has no dilation or padding; windows must lie inside the row.
      if (
        !f32(x, out) ||
        arg === null ||
        p.dilation !== 1 ||
        !windowsInside(p) ||
        !positive(p.batch, p.channels, p.outLength)
      ) {
        return cpu.maxPool1d(x, out, arg, p);
      }
      wk.maxPool1dForward(x as Float32Array, out as Float32Array, arg, p);
    },
    avgPool1d(x, out, p: Pool1dParams, countIncludePad) {
      if (!windowsInside(p) || !f32(x, out) || !positive(p.batch, p.channels, p.outLength)) {
        return cpu.avgPool1d(x, out, p, countIncludePad);
      }
      wk.avgPool1dForward(x as Float32Array, out as Float32Array, p);
    },
  };
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
