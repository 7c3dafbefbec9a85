/**
 * @ecgnn/infer — zero-dependency ECG inference for Node and browsers: the ecgnn model file format (one reader,
 * one writer), float and bit-packed binary kernels, a graph runtime with `predict`, and a streaming classifier.
 * Node-only helpers (reading/writing files) live in the separate entry point `@ecgnn/infer/node`.
 */
export * from './binary/conventions.js';
export * from './dsp/index.js';
export { ArgumentError, InferError, ModelFormatError, ShapeError } from './errors.js';
export { crc32 } from './format/crc32.js';
export { fromFloat16Bits, toFloat16Bits } from './format/float16.js';
export {
  FORMAT_VERSION,
  type LoadedTensor,
  MAGIC,
  type ModelFile,
  type ReadLimits,
  readModel,
} from './format/reader.js';
export type {
  DType,
  GraphSpec,
  InputSpec,
  ModelHeader,
  NodeSpec,
  Preprocessing,
  SparseInfo,
  TensorEntry,
  Windowing,
} from './format/types.js';
export { type ModelSpec, saveModel, type TensorSpec } from './format/writer.js';
export { OPS, type OpName } from './graph/ops.js';
export {
  type BinaryConv1dParams,
  binaryConv1d,
  binaryConv1dPacked,
  binaryConvOutputLength,
  binaryConvScratchSize,
  binaryEpilogueFloat,
  binaryEpiloguePacked,
  binaryLinear,
  signPack,
} from './kernels/binary.js';
export {
  attention,
  avgPool1d,
  batchNormScaleShift,
  type Conv1dParams,
  conv1d,
  conv1dOutputLength,
  foldBatchNormIntoConv,
  globalAvgPool1d,
  globalMaxPool1d,
  linear,
  maxPool1d,
  softmax,
  squeezeExcitation,
  sumOverTime,
} from './kernels/float.js';
export { type LoadOptions, loadModel, Model, type ModelMetadata } from './runtime/model.js';
export {
  type ClassifierOptions,
  type ClassifierResult,
  createClassifier,
  type StreamingClassifier,
} from './stream/classifier.js';
