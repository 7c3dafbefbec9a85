/**
 * `@ecgnn/gpu` — a gpu.js backend for `@ecgnn/core`. {@link createGpuBackend} builds a core `Backend` whose
 * matmul, convolution, pooling, batch-norm, reduction and elementwise kernels run on gpu.js in one explicitly
 * selected mode (`cpu`, `webasm`, `headlessgl`, `webgl2`); every other kernel, and every float64 call, runs the
 * CPU reference. See docs/gpu.md.
 * @module @ecgnn/gpu
 */
export {
  createGpuBackend,
  GPU_KERNEL_NAMES,
  type GpuBackend,
  type GpuBackendOptions,
  registerGpuBackends,
} from './backend.js';
export { GpuBackendError, GpuKernelClassError } from './errors.js';
export type { ResidencyStats } from './residency.js';
export {
  assertKernelClass,
  expectedKernelClass,
  GPU_MODES,
  type GpuBackendStats,
  type GpuMode,
  gpuModeAvailable,
} from './runner.js';
