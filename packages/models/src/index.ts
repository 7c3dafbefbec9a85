/**
 * @ecgnn/models — ECG classifier architectures as `Module`s of `@ecgnn/core`, each built from a plain,
 * JSON-serialisable config with a parameter count computed from the config alone: the main job's BeatNet, a
 * deep residual 1-D CNN teacher and compact students (distillation, method 1), and a registry that later
 * architectures join. `createModel(config)` rebuilds any of them.
 * @module @ecgnn/models
 */
export { BeatNet, type BeatNetConfig, beatNetKind, type ResolvedBeatNetConfig } from './beatnet.js';
export {
  BinaryEcgNet,
  BNN_DEFAULTS,
  type BnnConfig,
  type BnnEstimator,
  bnnBlockChannels,
  bnnKind,
  bnnLengths,
  bnnWeightBits,
  type ResolvedBnnConfig,
} from './bnn.js';
export {
  batchNormParams,
  type ClassifierIO,
  ConfigReader,
  convParams,
  IO_FIELDS,
  linearParams,
  type ModelConfig,
  ModelConfigError,
  type ResolvedIO,
  separableParams,
} from './config.js';
export type { ModelKind } from './kind.js';
export {
  appendStem,
  MobileNet1d,
  type MobileNetConfig,
  mobileNetKind,
  type ResolvedMobileNetConfig,
  type ResolvedStem,
  type StemConfig,
  stemLength,
  stemParams,
  stridedLength,
} from './mobilenet.js';
export {
  type MultiScaleChannels,
  type MultiScaleConfig,
  MultiScaleNet,
  multiScaleChannels,
  multiScaleKind,
  multiScaleLayer,
  multiScaleLayerParams,
  type ResolvedMultiScaleConfig,
} from './multiscale.js';
export {
  appendConvBlock,
  type BuildOptions,
  blockParams,
  checkPooledLength,
  EcgClassifier,
  PooledClassifier,
  pooledLength,
  tailParams,
} from './pooled.js';
export {
  type BuiltinModelConfig,
  createModel,
  layerCount,
  modelKind,
  modelKinds,
  parameterCount,
  registerModel,
  resolveConfig,
} from './registry.js';
export {
  type ResNetStage,
  ResNetTeacher,
  type ResNetTeacherConfig,
  type ResolvedResNetTeacherConfig,
  resNetTeacherKind,
} from './resnet.js';
export {
  AttentionBlock,
  checkSnailConfig,
  DenseBlock,
  SNAIL_METHOD_WIDTHS,
  Snail,
  type SnailConfig,
  TCBlock,
  tcDepth,
} from './snail.js';
export {
  checkEmbeddingConfig,
  EcgEmbeddingCnn,
  EMBEDDING_METHOD_WIDTHS,
  type EmbeddingConfig,
  ResidualConvBlock,
} from './snail-embedding.js';
export { type ResolvedStudentConfig, Student, type StudentConfig, studentKind } from './student.js';
