/**
 * The TypeScript kernels of `@ecgnn/infer/wasm` (public subpath export): the oracle every benchmark engine's
 * output is compared with before timing (the same kernels are the oracle of the unit tests).
 */
export type { BinaryConv1dParams, Conv1dParams, Kernels } from '@ecgnn/infer/wasm';
export { tsKernels } from '@ecgnn/infer/wasm';
