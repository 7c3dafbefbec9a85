/**
 * @ecgnn/core — tensors, reverse-mode autograd, ops, nn modules and optimizers in pure TypeScript.
 * The CPU backend is the reference and the default.
 * @module @ecgnn/core
 */
import './backend/cpu.js';
import './backend/wasm.js';
import './tensor-methods.js';

export { type BackwardOptions, backward } from './autograd.js';
export {
  type Backend,
  findBackend,
  getBackend,
  getCpuBackend,
  kernels,
  listBackends,
  registerBackend,
  registerBackendFactory,
  setBackend,
  withBackend,
} from './backend/backend.js';
export { cpuBackend } from './backend/cpu.js';
export type {
  BinaryKernelOp,
  CompareKernelOp,
  Conv1dParams,
  KernelName,
  Kernels,
  MaxPool1dWindow,
  Pool1dParams,
  ReduceKernelOp,
  UnaryKernelOp,
} from './backend/kernels.js';
export { createWasmBackend, type WasmBackend, type WasmBackendOptions } from './backend/wasm.js';
export type { DType, FloatArray, FloatDType, TypedArray } from './dtype.js';
export {
  emptyStoragePool,
  type StoragePoolStats,
  setStoragePoolLimit,
  storagePoolStats,
} from './dtype.js';
export { AutogradError, DTypeError, EcgnnError, ShapeError, ValueError } from './errors.js';
export * as nn from './nn/index.js';
export { Module } from './nn/module.js';
export { Parameter } from './nn/parameter.js';
export { basicRules } from './ops/basic.js';
export * from './ops/cast.js';
export * from './ops/conv.js';
export * from './ops/creation.js';
export * from './ops/elementwise.js';
export * from './ops/indexing.js';
export * from './ops/matmul.js';
export * from './ops/nn.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
export * from './ops/slice.js';
export { PRIMITIVES, primitiveNames } from './ops/table.js';
export * as optim from './optim/index.js';
export { defaultGenerator, Generator, manualSeed } from './random.js';
export {
  type CustomOpSpec,
  defineOp,
  type Primitive,
  type PrimitiveAttrs,
  type PrimitiveRule,
  run as runPrimitive,
  type SaveContext,
  type VjpContext,
} from './runtime.js';
export { broadcastShapes, sizeOf, stridesOf } from './shape.js';
export {
  listStorageDevices,
  registerStorageDevice,
  type StorageDevice,
  syncToHost,
} from './storage.js';
export {
  enableGrad,
  type GradNode,
  isGradEnabled,
  type NestedArray,
  noGrad,
  Tensor,
  type TensorOptions,
  type TidyResult,
  tidy,
} from './tensor.js';
export { GradcheckError, type GradcheckOptions, gradcheck } from './testing.js';
