/**
 * @ecgnn/train — the training layer of ecgnn: classification and multi-label metrics, datasets and loaders,
 * checkpoints, a Trainer, and teacher → student distillation (method 1).
 * @packageDocumentation
 */

export {
  type Checkpoint,
  type CheckpointParts,
  captureCheckpoint,
  checkpointFromBytes,
  checkpointToBytes,
  loadCheckpoint,
  restoreCheckpoint,
  type StatefulScheduler,
  saveCheckpoint,
  type TrainingProgress,
  writeFileAtomicSync,
} from './checkpoint.js';
export {
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  CheckpointError,
  type CheckpointValue,
  decodeCheckpoint,
  encodeCheckpoint,
} from './checkpoint-format.js';
export {
  checkDataset,
  classCounts,
  concatDatasets,
  type Dataset,
  type DatasetInput,
  itemSize,
  itemsOfGroups,
  subsetDataset,
} from './dataset.js';
export {
  BEAT_CLASSES,
  type BeatDatasetOptions,
  fragmentDataset,
  loadBeatDataset,
  type SyntheticBeatOptions,
  syntheticBeatDataset,
} from './datasets.js';
export {
  type DistillationOptions,
  datasetFingerprint,
  distillationObjective,
  readSoftLabels,
  type SoftLabelOptions,
  type SoftLabels,
  stateFingerprint,
  teacherSoftLabels,
  temperedSoftmax,
} from './distill.js';
export {
  defaultLoss,
  type EvaluateOptions,
  type Evaluation,
  evaluate,
  forwardBatch,
  isMultiLabel,
  itemLosses,
  lossHardness,
  type MonitorName,
  monitoredValue,
  type Predictions,
  predict,
} from './evaluate.js';
export { formatConfusion, formatMetrics, metricsMarkdown, pct } from './format.js';
export { type Batch, DataLoader, type DataLoaderOptions } from './loader.js';
export {
  argmaxRows,
  type ClassMetrics,
  classificationMetrics,
  cohenKappa,
  confusionMatrix,
  jkIndex,
  type Metrics,
  type MetricsOptions,
  metricsFromConfusion,
} from './metrics.js';
export {
  type LabelMetrics,
  type MultiLabelMetrics,
  multiLabelMetrics,
  selectThresholds,
} from './multilabel.js';
export {
  type BeatItems,
  type BeatPreprocessing,
  type BeatSource,
  beatItems,
  beatPreprocessing,
  cutWindow,
  type DatasetPreprocessing,
  DEFAULT_RR_FEATURES,
  type FragmentPreprocessing,
  filterSignal,
  fragmentPreprocessing,
  INPUT_NAMES,
  type ModelIO,
  modelIO,
  type RrSpec,
  type SignalPreprocessing,
} from './preprocess.js';
export { JsonlLog, type ProgressMode, ProgressReporter, type ProgressStream } from './progress.js';
export {
  type ResultsClassMetrics,
  type ResultsRow,
  recordResultsRow,
  resultsMarkdown,
  resultsMetrics,
} from './results.js';
export {
  type BatchSampler,
  classShareWeights,
  createSampler,
  epochSeed,
  type HardnessScore,
  type SamplerOptions,
  type SamplerSpec,
  type SamplerState,
} from './samplers.js';
export {
  hyperparameterSearch,
  type SearchOptions,
  type SearchResult,
  type SearchSpace,
  type Trial,
  type TrialOutcome,
} from './search.js';
export { Trainer } from './trainer.js';
export {
  type EpochRecord,
  type StepInfo,
  type StopReason,
  type TrainerCallbacks,
  type TrainerOptions,
  type TrainerScheduler,
  TrainingDivergedError,
  type TrainResult,
} from './trainer-options.js';
