/**
 * `nn`: modules (stateful layers built on the functional ops), parameters, initialisers, binary layers,
 * pruning and training utilities. Modules hold state; the functional ops in `@ecgnn/core` compute.
 */
export {
  ELU,
  GELU,
  Hardtanh,
  LeakyReLU,
  LogSoftmax,
  PReLU,
  type PReLUOptions,
  ReLU,
  Sigmoid,
  SiLU,
  Softmax,
  Softplus,
  Tanh,
} from './activation.js';
export {
  type AttentionCallOptions,
  MultiheadAttention,
  type MultiheadAttentionOptions,
  SqueezeExcitation1d,
  type SqueezeExcitationOptions,
} from './attention.js';
export {
  BinaryConv1d,
  type BinaryConv1dOptions,
  BinaryLinear,
  type BinaryLinearOptions,
  type BinaryOptions,
  type BinaryScale,
  makeQuantizer,
  type QuantizerSpec,
  SignQuantizer,
  type SignQuantizerOptions,
  type SteEstimator,
  setQuantizerSharpness,
} from './binary.js';
export type { LayerOptions } from './common.js';
export {
  ConcatSkip,
  ModuleDict,
  ModuleList,
  Parallel,
  Residual,
  Sequential,
  type TensorModule,
} from './container.js';
export {
  Conv1d,
  type Conv1dOptions,
  type Conv1dPadding,
  type ConvHyper,
  DepthwiseSeparableConv1d,
  type DepthwiseSeparableConv1dOptions,
} from './conv.js';
export { Dropout } from './dropout.js';
export * as init from './init.js';
export { Flatten, Identity, Lambda, Linear, type LinearOptions, Unflatten } from './linear.js';
export {
  type AnyModule,
  type ForwardHook,
  type ForwardPreHook,
  functionalCall,
  type HookHandle,
  type LoadStateDictResult,
  Module,
  type StateDict,
  StateDictError,
  type StateDictMetadata,
  setStateDictMetadata,
  stateDictMetadata,
} from './module.js';
export { BatchNorm1d, type BatchNorm1dOptions, LayerNorm, type LayerNormOptions } from './norm.js';
export { type Constraint, clipConstraint, Parameter } from './parameter.js';
export { AdaptiveAvgPool1d, AvgPool1d, GlobalAvgPool1d, MaxPool1d, type Pool1dOptions } from './pooling.js';
export * as prune from './prune.js';
export { applyConstraints, clipGradNorm, clipGradValue, parametersToVector } from './utils.js';
