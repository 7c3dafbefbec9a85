/**
 * @ecgnn/train — the training layer of ecgnn: classification and multi-label metrics, datasets and loaders,
 * checkpoints, a Trainer, teacher → student distillation (method 1), lottery-ticket pruning (method 3) and the
 * binary-network experiment (method 5).
 * @module @ecgnn/train
 */

export {
  type Augmentation,
  type AugmentSpec,
  type AugmentStep,
  augmentSeed,
  createAugmentation,
  parseAugmentSpec,
} from './augment.js';
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
  itemCrossEntropy,
  itemLosses,
  lossHardness,
  type MonitorName,
  monitoredValue,
  type Predictions,
  predict,
} from './evaluate.js';
export {
  type BeatExportOptions,
  type BeatModelExport,
  beatIO,
  beatProvenance,
  exportBeatModel,
  majorityBaseline,
} from './experiments/beat-export.js';
export {
  type BnnAgreement,
  type BnnReport,
  type BnnTraining,
  type BnnVariantReport,
  bnnVariantConfig,
  runBnnExperiment,
  trainBnnNetworks,
} from './experiments/bnn.js';
export {
  BNN_RUN_DEFAULTS,
  BNN_SMOKE,
  BNN_VARIANTS,
  type BnnClassSet,
  type BnnExperimentOptions,
  type BnnProtocol,
  type BnnSettings,
  type BnnVariant,
  bnnSettings,
  sharpnessAt,
} from './experiments/bnn-config.js';
export { type BnnData, everyNthOfClass, fragmentCounts, loadBnnData } from './experiments/bnn-data.js';
export { type BnnExportOptions, emitBinaryEcgNet, exportBnn } from './experiments/bnn-export.js';
export { bnnMarkdown } from './experiments/bnn-report.js';
export {
  BNN_SELECTION,
  BnnSchedule,
  type BnnTrained,
  type BnnTrainSpec,
  trainBnn,
} from './experiments/bnn-train.js';
export {
  DISTILL_MODELS,
  type DistillModelName,
  type DistillModelReport,
  type DistillReport,
  runDistillExperiment,
} from './experiments/distill.js';
export {
  DISTILL_DEFAULTS,
  DISTILL_SMOKE,
  type DistillExperimentOptions,
  type DistillProtocol,
  type DistillSamplerName,
  type DistillSettings,
  describeSampler,
  distillSettings,
  SMOKE_RECORDS,
  type StageSettings,
  type StudentArchitecture,
  samplerSpec,
  type TeacherArchitecture,
} from './experiments/distill-config.js';
export {
  countsByName,
  type DistillData,
  loadDistillData,
  SPLIT_SEED,
} from './experiments/distill-data.js';
export { distillMarkdown } from './experiments/distill-report.js';
export { type EpochEstimate, estimateDistillEpochs } from './experiments/estimate.js';
export { type LthReport, type LthRoundReport, runLthExperiment } from './experiments/lth.js';
export {
  LTH_DEFAULTS,
  LTH_MODELS,
  LTH_SMOKE,
  type LthExperimentOptions,
  type LthModelName,
  type LthSearchSettings,
  type LthSettings,
  lthSettings,
} from './experiments/lth-config.js';
export { lthMarkdown, lthSvg } from './experiments/lth-report.js';
export {
  type LthRunInfo,
  type LthTrainContext,
  reseedGenerators,
  trainLthRun,
} from './experiments/lth-train.js';
export {
  META_PROTOCOL,
  type MetaReport,
  type MetaSettingScore,
  metaResultsRows,
  runMetaExperiment,
} from './experiments/meta.js';
export {
  META_DEFAULTS,
  META_METHODS,
  META_SMOKE,
  type MetaExperimentOptions,
  type MetaMethod,
  type MetaSettings,
  type MetaSettingsOverrides,
  metaRunSettings,
  snailConfigOf,
} from './experiments/meta-config.js';
export {
  loadMetaSet,
  loadMetaSplits,
  META_BEAT_LENGTH,
  META_TEST_CLASSES,
  META_TEST_RECORDS,
  META_TRAIN_CLASSES,
  META_VALIDATION_CLASSES,
  META_VALIDATION_RECORDS,
  type MetaDataOptions,
  type MetaSet,
  type MetaSplits,
  metaClassCounts,
  metaRunSplits,
  syntheticMetaSplits,
} from './experiments/meta-data.js';
export {
  type FewShotSetting,
  type FewShotTask,
  type GroupBatch,
  type GroupMode,
  MetaTaskError,
  meanCi95,
  parseSettings,
  sampleTasks,
  sampleTrainingGroups,
  taskGroups,
} from './experiments/meta-episodes.js';
export {
  accuracy as fewShotScore,
  beatsTensor,
  evaluateFinetune,
  evaluateProto,
  evaluateSnail,
  type FinetuneOptions,
  groupTargets,
  protoLogits,
  snailLogits,
  type TaskScore,
} from './experiments/meta-eval.js';
export {
  type MetaHistoryPoint,
  type MetaLoopOptions,
  type MetaLoopResult,
  metaOptimizer,
  protoStep,
  runMetaLoop,
  snailStep,
  supervisedModel,
  supervisedStep,
} from './experiments/meta-train.js';
export {
  type MultiScaleNetworkReport,
  type MultiScaleReport,
  multiScaleNetworkConfig,
  multiScaleRowId,
  runMultiScaleExperiment,
} from './experiments/multiscale.js';
export {
  MULTILABEL_LABELS,
  MULTISCALE_DATASETS,
  MULTISCALE_NETWORKS,
  MULTISCALE_RUN_DEFAULTS,
  MULTISCALE_SMOKE,
  MULTISCALE_WIDTHS,
  type MultiScaleDataset,
  type MultiScaleExperimentOptions,
  type MultiScaleNetwork,
  type MultiScaleSettings,
  multiScaleSettings,
  type NetworkWidths,
} from './experiments/multiscale-config.js';
export {
  labelCounts,
  loadMultiLabelWindows,
  loadMultiScaleData,
  MULTILABEL_CLASS,
  type MultiScaleData,
} from './experiments/multiscale-data.js';
export {
  compareProbabilities,
  type MultiScaleAgreement,
  multiScaleRowMetrics,
  type TrivialBaseline,
  trivialBaseline,
} from './experiments/multiscale-report.js';
export {
  balancedPosWeight,
  MULTISCALE_SELECTION,
  type MultiScaleTrained,
  type MultiScaleTrainSpec,
  trainMultiScaleNetwork,
} from './experiments/multiscale-train.js';
export {
  PIPELINE_TRAINING_STAGES,
  PipelineError,
  type PipelineModel,
  type PipelineReport,
  type PipelineStageRecord,
  type PipelineStageReports,
  type PipelineTrainingStage,
  pipelineModels,
  pipelineResultsRows,
  pipelineStageSummary,
  runPipeline,
  runPipelineStage,
} from './experiments/pipeline.js';
export {
  PIPELINE_SETTINGS,
  PIPELINE_STAGES,
  type PipelineMode,
  type PipelineOptions,
  type PipelineSettings,
  type PipelineStage,
} from './experiments/pipeline-config.js';
export {
  type ConfusionView,
  type CurveView,
  type PipelineView,
  pipelineView,
  type RecordRowView,
  renderPipelineReport,
} from './experiments/pipeline-report.js';
export {
  readSplitProvenance,
  type SplitProvenance,
  splitProvenance,
} from './experiments/split-provenance.js';
export {
  SELECTION_METRIC,
  SELECTION_METRIC_NAME,
  type StageContext,
  type StageOutcome,
  type StageSearchParams,
  type StageSpec,
  type StageTrial,
  searchStage,
  trainStage,
} from './experiments/stage.js';
export {
  type ExperimentStart,
  type ExperimentStartOptions,
  gitInfo,
  startExperiment,
} from './experiments/start.js';
export {
  runTrainExperiment,
  TRAIN_ARCHITECTURES,
  TRAIN_MODEL_KINDS,
  TRAIN_MODELS,
  type TrainExperimentOptions,
  type TrainModelName,
  type TrainReport,
  trainModelConfig,
} from './experiments/train-model.js';
export { type ClassifierExportOptions, emitPooledClassifier, exportClassifier } from './export.js';
export { formatConfusion, formatMetrics, metricsMarkdown, pct } from './format.js';
export { type GroupMetrics, metricsByGroup } from './group-metrics.js';
export {
  compareWithInfer,
  type InferAgreement,
  type InferLatency,
  inferInputs,
  inferLatency,
  type LatencyOptions,
  type PredictTiming,
  type PredictTimingOptions,
  timePredict,
} from './infer-check.js';
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
  beatPreprocessingOf,
  cutWindow,
  type DatasetPreprocessing,
  DEFAULT_RR_FEATURES,
  type FragmentPreprocessing,
  filterSignal,
  fragmentPreprocessing,
  INPUT_NAMES,
  type ModelInputDescription,
  type ModelIO,
  modelIO,
  type RrSpec,
  type SignalPreprocessing,
} from './preprocess.js';
export {
  JsonlLog,
  lineStream,
  type ProgressDisplay,
  type ProgressMode,
  ProgressReporter,
  type ProgressStream,
  type ProgressStyle,
  progressDisplay,
} from './progress.js';
export {
  applyMasks,
  type MaskCounts,
  maskCounts,
  type ParameterCounts,
  type PruneScope,
  type PruneTargetInfo,
  type PruneTargetOptions,
  parameterCounts,
  preparePruning,
  pruneModel,
  pruneTargets,
  rewindCapture,
  ticketMasks,
  weightLayerPaths,
} from './prune.js';
export {
  type LotteryStopReason,
  type LotteryTicketOptions,
  type LotteryTicketResult,
  lotteryTicketSearch,
  type RandomReinitOptions,
  type RoundRecord,
  type RoundTraining,
  type RoundTrainingInfo,
  randomReinitControl,
} from './prune-search.js';
export {
  type ChartFrame,
  ecgStrip,
  escapeHtml,
  type LineSeries,
  lineChart,
  niceTicks,
  PALETTE,
  type ScatterPoint,
  type StripData,
  scatterChart,
} from './report-svg.js';
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
export {
  busiestWindow,
  formatServe,
  matchLabelledBeats,
  type ServedClass,
  type ServeOptions,
  type ServeStrip,
  type ServeSummary,
  serveMarkdown,
  serveRecord,
} from './serve.js';
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
