/**
 * `@ecgnn/gpu` — a gpu.js backend for `@ecgnn/core`. {@link createGpuBackend} builds a core `Backend` whose
 * matmul, convolution, pooling, batch-norm, reduction and elementwise kernels run on gpu.js in one explicitly
 * selected mode (`cpu`, `webasm`, `headlessgl`, `webgl2`); every other kernel, and every float64 call, runs the
 * CPU reference. Mode `webgpu`, whose kernels are asynchronous, runs behind a device server on another thread:
 * {@link serveGpuDevice} there, {@link connectGpuBackend} in a worker. See docs/gpu.md.
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
export { type ConnectGpuBackendOptions, connectGpuBackend, RemoteValue } from './remote-client.js';
export type { PortLike, PostPort } from './remote-protocol.js';
export { type GpuDeviceServer, serveGpuDevice } from './remote-server.js';
export type { ResidencyStats } from './residency.js';
export {
  assertKernelClass,
  expectedKernelClass,
  GPU_MODES,
  type GpuBackendStats,
  type GpuMode,
  gpuModeAvailable,
} from './runner.js';
