/**
 * `@ecgnn/kernels` — the one kernel contract of ecgnn and its implementations. Zero dependencies, no Node APIs.
 *
 * - {@link Kernels}: the contract every backend implements (`@ecgnn/core`'s CPU backend is
 *   {@link referenceKernels}; other backends implement any subset and fall back per kernel).
 * - Parameter types and the shared geometry helpers (output lengths, padding).
 * - The binary (±1, bit-packed) conventions.
 * - The seeded random {@link Generator}.
 * - `@ecgnn/kernels/wasm`: the WebAssembly module builder, emitters and kernel sets.
 */
export * from './binary/conventions.js';
export * from './contract.js';
export * from './params.js';
export { Generator } from './random.js';
/** Per-sample binary (packed) kernels of the inference runtime. */
export * as binarySample from './ref/binary-sample.js';
/** Per-sample (`[channels][length]`) float kernels of the inference runtime. */
export * as sample from './ref/float-sample.js';
export * from './ref/index.js';
export { Scratch } from './ref/scratch.js';
