/**
 * The TypeScript kernels of `@ecgnn/kernels/wasm` (public subpath export): the oracle every benchmark engine's
 * output is compared with before timing (the same kernels are the oracle of the unit tests).
 */
export type { BinaryConv1dParams, Conv1dParams, Kernels } from '@ecgnn/kernels/wasm';
export { tsKernels } from '@ecgnn/kernels/wasm';
