/**
 * The gpu.js backend of `@ecgnn/core`: a core `Backend` whose kernels run on gpu.js in one explicitly selected
 * mode, every other kernel (and every float64 or untaken call of its own kernels) falling back to the CPU
 * reference, with counters the tests read.
 */
import {
  type Backend,
  getCpuBackend,
  type Kernels,
  registerBackendFactory,
  registerStorageDevice,
} from '@ecgnn/core';
import { KERNEL_NAMES } from '@ecgnn/kernels';
import type { GpuContext } from './context.js';
import { elementwiseKernels } from './kernels-elementwise.js';
import { linearKernels } from './kernels-linear.js';
import { normKernels } from './kernels-norm.js';
import { poolKernels } from './kernels-pool.js';
import { Residency, type ResidencyStats } from './residency.js';
import {
  createGpuRunner,
  GPU_MODES,
  type GpuBackendStats,
  type GpuMode,
  gpuModeAvailable,
  type KernelRunner,
} from './runner.js';

/** Options of {@link createGpuBackend}. */
export interface GpuBackendOptions {
  /**
   * The gpu.js mode, selected explicitly (gpu.js's own automatic choice falls back silently): `'cpu'`,
   * `'webasm'`, `'headlessgl'` (Node with the `gl` package), `'webgl2'` (browsers). `'webgpu'` is rejected for
   * now (asynchronous kernels). Default `'cpu'`.
   */
  mode?: GpuMode;
  /** Backend name (default `gpu.js:<mode>`). */
  name?: string;
  /**
   * Most loop iterations one device thread may run; kernels past it (long reductions, large matmul inner
   * dimensions) run on CPU, counted. Default 65,535 in the GL modes (Mesa's software rasteriser stops a shader
   * there silently; raise it on a real GPU), unlimited otherwise.
   */
  maxLoopIterations?: number;
}

/** A gpu.js backend made by {@link createGpuBackend}. */
export interface GpuBackend extends Backend {
  /** The gpu.js mode its kernels run in. */
  readonly mode: GpuMode;
  /** Counters: device calls and CPU fallbacks per kernel, compiled kernels, kernel classes that ran. */
  stats(): GpuBackendStats;
  /**
   * Device memory and traffic: host arrays whose newest values stay on the device, their bytes (now and peak),
   * kernel outputs kept there, copies back to the host.
   */
  memory(): ResidencyStats;
  /** Zeroes the counters (compiled kernels stay cached; the peak of {@link GpuBackend.memory} restarts from now). */
  resetStats(): void;
  /**
   * Frees the compiled kernels and gpu.js's context; the backend must not be used afterwards. In the GL modes, read
   * the tensors whose values are still on the device first (afterwards their reads throw a `GpuBackendError`).
   */
  dispose(): void;
}

/** Names of the contract kernels the gpu.js backend implements (the rest are the CPU backend's). */
export const GPU_KERNEL_NAMES = [
  'matmul',
  'conv1dForward',
  'conv1dBackwardInput',
  'conv1dBackwardWeight',
  'unary',
  'unaryBackward',
  'binary',
  'reduce',
  'channelMoments',
  'batchNormForward',
  'batchNormBackward',
  'maxPool1d',
  'avgPool1d',
  'avgPool1dBackward',
] as const satisfies readonly (keyof Kernels)[];

/**
 * Creates a gpu.js backend in `options.mode` (default `'cpu'`), or throws a `GpuBackendError` when that mode
 * cannot run here. Its kernels ({@link GPU_KERNEL_NAMES}) run on gpu.js for float32 operands; the others are the
 * CPU reference's, counted as fallbacks in {@link GpuBackend.stats}. Float64 operands
 * (e.g. core's float64 gradient checks), empty arrays, arrays past 2²⁴ elements and the cases a kernel does not
 * take (e.g. `reduce` with indices, NaN-sensitive elementwise ops) run the CPU reference kernel and are counted in
 * {@link GpuBackend.stats}. Every gpu.js call checks that the mode's kernel class really ran
 * (`GpuKernelClassError` otherwise).
 *
 * Kernels are compiled once per geometry and cached. Their outputs stay on the device (device-resident storage,
 * see `residency.ts`): the next kernel reads them there, and they come back to the host only when something reads
 * the tensor (`tensor.data`, `item()`, `await tensor.read()`) or a CPU kernel needs them ({@link GpuBackend.memory}
 * counts both).
 *
 * @example
 * ```ts
 * import { setBackend } from '@ecgnn/core';
 * import { createGpuBackend } from '@ecgnn/gpu';
 * const gpu = createGpuBackend({ mode: 'webasm' });
 * setBackend(gpu); // training and inference now run matmul, conv, pooling, … on gpu.js
 * console.log(gpu.stats().fallbacks);
 * ```
 */
export function createGpuBackend(options: GpuBackendOptions = {}): GpuBackend {
  const mode = options.mode ?? 'cpu';
  const runner = createGpuRunner(mode, options.maxLoopIterations);
  return backendOn(runner, options.name ?? `gpu.js:${mode}`);
}

/**
 * The backend named `name` whose kernels run on `runner` (gpu.js on this thread, or a device server's: see
 * remote-client.ts): the device kernels of the kernel files, every other contract kernel the CPU reference's,
 * counted as a fallback, and the device-resident storage registered with core.
 */
export function backendOn(runner: KernelRunner, name: string): GpuBackend {
  const mode = runner.mode;
  const residency = new Residency(name, (v) => runner.share(v));
  registerStorageDevice(residency);
  const ctx: GpuContext = { runner, residency, cpu: getCpuBackend().kernels };
  const kernels: Partial<Kernels> = {
    ...linearKernels(ctx),
    ...elementwiseKernels(ctx),
    ...normKernels(ctx),
    ...poolKernels(ctx),
  };
  // Every other contract kernel is the CPU reference's, wrapped to count its calls as fallbacks.
  const table = kernels as Record<string, unknown>;
  for (const name of KERNEL_NAMES) {
    if (name in table) continue;
    const reference = ctx.cpu[name] as (...args: unknown[]) => unknown;
    table[name] = (...args: unknown[]) => {
      runner.countFallback(name, 'not implemented on gpu.js');
      return residency.hostCall(args, reference);
    };
  }
  return {
    name,
    mode,
    kernels,
    stats: () => runner.stats(),
    memory: () => residency.stats(),
    resetStats: () => {
      runner.resetStats();
      residency.resetStats();
    },
    dispose: () => {
      residency.destroy();
      runner.destroy();
    },
  };
}

/**
 * Registers a backend factory `gpu.js:<mode>` in `@ecgnn/core` for every gpu.js mode available here (or for those
 * of `modes` that are), so that `setBackend('gpu.js:webasm')` works; returns the names registered. Nothing is
 * compiled until a backend is selected.
 */
export function registerGpuBackends(modes: readonly GpuMode[] = GPU_MODES): string[] {
  const names: string[] = [];
  for (const mode of modes) {
    if (!gpuModeAvailable(mode)) continue;
    const name = `gpu.js:${mode}`;
    registerBackendFactory(name, () => createGpuBackend({ mode, name }));
    names.push(name);
  }
  return names;
}
