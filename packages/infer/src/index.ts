/**
 * @ecgnn/infer — zero-dependency ECG inference for Node and browsers: the ecgnn model file format (one reader,
 * one writer), float and bit-packed binary kernels, a graph runtime with `predict`, and a streaming classifier.
 * Node-only helpers (reading/writing files) live in the separate entry point `@ecgnn/infer/node`.
 * @module @ecgnn/infer
 */

export {
  type Biquad,
  butterworthBandpass,
  butterworthSections,
  DspError,
  detectQrs,
  medianFilter,
  QrsDetector,
  type QrsOptions,
  removeBaselineWander,
  resample,
  sosFilterInPlace,
  zscore,
} from '@ecgnn/dsp';
export {
  BITS_PER_WORD,
  foldBatchNormSign,
  foldSignByEvaluation,
  packConvWeights,
  packedDot,
  packSigns,
  popcount32,
  type SignThresholds,
  signBit,
  signValue,
  THRESHOLD_ALWAYS,
  THRESHOLD_NEVER,
  thresholdBit,
  unpackConvWeights,
  unpackSigns,
  wordsForChannels,
} from '@ecgnn/kernels';
export {
  ArgumentError,
  InferError,
  InputError,
  ModelFetchError,
  ModelFormatError,
  ShapeError,
} from './errors.js';
export { crc32 } from './format/crc32.js';
export { fromFloat16Bits, toFloat16Bits } from './format/float16.js';
export {
  FORMAT_VERSION,
  type LoadedTensor,
  MAGIC,
  MIN_FORMAT_VERSION,
  type ModelFile,
  type ReadLimits,
  readModel,
} from './format/reader.js';
export type {
  DType,
  GraphInputSpec,
  GraphSpec,
  GraphSpecV1,
  InputSource,
  InputSpec,
  ModelHeader,
  NodeSpec,
  Preprocessing,
  RrFeatureName,
  SparseInfo,
  TensorEntry,
  Windowing,
} from './format/types.js';
export { type ModelSpec, saveModel, type TensorSpec } from './format/writer.js';
export { type FetchModelOptions, loadModelFromUrl, type TopLabel, topLabel } from './runtime/fetch.js';
export {
  type BatchMode,
  type InputShapes,
  type LoadOptions,
  loadModel,
  Model,
  type ModelInputs,
  type ModelMetadata,
} from './runtime/model.js';
export { OPS, type OpName } from './runtime/ops/index.js';
export {
  type ClassifierOptions,
  type ClassifierResult,
  classifyRecord,
  createClassifier,
  type StreamingClassifier,
} from './stream/classifier.js';
