/**
 * The reference kernels of `@ecgnn/kernels` (`referenceKernels`): the oracle every benchmark engine's output is
 * compared with before timing (the WebAssembly kernels are tested against the same kernels).
 */
export type { BinaryConv1dParams, Conv1dParams, Kernels } from '@ecgnn/kernels';
export { referenceKernels } from '@ecgnn/kernels';
