/**
 * `@ecgnn/kernels` — the one kernel contract of ecgnn and its implementations. Zero dependencies, no Node APIs.
 *
 * - {@link Kernels}: the contract every backend implements (`@ecgnn/core`'s CPU backend is
 *   {@link referenceKernels}; other backends implement any subset and fall back per kernel).
 * - Parameter types and the shared geometry helpers (output lengths, padding).
 * - The binary (±1, bit-packed) conventions.
 * - The seeded random {@link Generator}.
 * - `@ecgnn/kernels/wasm`: the WebAssembly module builder, emitters and the WebAssembly kernel set (a
 *   `Partial<Kernels>` whose kernels fall back to the reference ones for geometries they do not take).
 * - `@ecgnn/kernels/testing`: the naive-loop oracles every fast kernel is tested against (tests only).
 * @module @ecgnn/kernels
 */
export * from './binary/conventions.js';
export * from './contract.js';
export * from './params.js';
export { Generator } from './random.js';
export * from './ref/index.js';
export { Scratch } from './ref/scratch.js';
