/**
 * @ecgnn/infer — zero-dependency ECG inference for Node and browsers: the ecgnn model file format (one reader,
 * one writer), float and bit-packed binary kernels, a graph runtime with `predict`, and a streaming classifier.
 * Node-only helpers (reading/writing files) live in the separate entry point `@ecgnn/infer/node`.
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

import { binarySample, sample } from '@ecgnn/kernels';

/** Per-sample binary kernels (see `@ecgnn/kernels`). */
export type BinaryConv1dParams = binarySample.BinaryConv1dParams;
export const {
  binaryConv1d,
  binaryConv1dPacked,
  binaryConvOutputLength,
  binaryConvScratchSize,
  binaryEpilogueFloat,
  binaryEpiloguePacked,
  binaryLinear,
  signPack,
} = binarySample;
/** Per-sample float kernels (see `@ecgnn/kernels`). */
export type Conv1dParams = sample.Conv1dParams;
export const {
  attention,
  avgPool1d,
  batchNormScaleShift,
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
} = sample;
export { type LoadOptions, loadModel, Model, type ModelMetadata } from './runtime/model.js';
export {
  type ClassifierOptions,
  type ClassifierResult,
  createClassifier,
  type StreamingClassifier,
} from './stream/classifier.js';
