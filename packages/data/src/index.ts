/**
 * @ecgnn/data — PhysioNet WFDB reading, ECG preprocessing, beat segmentation, AAMI classes,
 * patient-wise splits, fragment datasets, samplers and a synthetic ECG generator.
 *
 * The dependency-free DSP (filters, QRS detection, RR features) lives in @ecgnn/dsp and is
 * re-exported here for convenience.
 * @module @ecgnn/data
 */

export {
  butterworthBandpass,
  detectQrs,
  isRrFeatureName,
  normalizeRr,
  QrsDetector,
  type QrsOptions,
  RR_FEATURE_NAMES,
  RR_FEATURES,
  type RrFeatureName,
  removeBaselineWander,
  resample,
  rrFeatures,
  zscore,
} from '@ecgnn/dsp';
// The one PRNG of ecgnn (xoshiro128**), for the samplers' `generator` option.
export { Generator } from '@ecgnn/kernels';
export {
  ANNOTATION_SYMBOLS,
  type Annotations,
  AUX,
  annotationCode,
  annotationCount,
  annotationSymbol,
  BEAT_CODES,
  CHN,
  NUM,
  readAnnotations,
  requireBeatAnnotations,
  SKIP,
  SUB,
  writeAnnotations,
} from './annotations.js';
export {
  type BeatOptions,
  type BeatSet,
  concatBeatSets,
  countBeatLabels,
  extractBeats,
  leadIndex,
} from './beats.js';
export {
  type DataDirOptions,
  databaseDir,
  dataDir,
  findRepoRoot,
  hasDatabase,
  listRecords,
  loadAnnotations,
  loadRecord,
  type ReadOptions,
} from './datadir.js';
export { type DownloadOptions, downloadDatabase, ensureDatabase } from './ensure.js';
export {
  ChecksumError,
  DataError,
  DataNotFoundError,
  EmptyAnnotationsError,
  FetchError,
  FormatError,
  IntegrityError,
} from './errors.js';
export { type BeatMatch, flutterEpisodes, matchBeats } from './evaluate.js';
export {
  type FetchOptions,
  type FetchProgress,
  type FetchResult,
  fetchDatabase,
  parseSha256Sums,
} from './fetch.js';
// The parsers that need no file system (WFDB, annotations, CSV, AAMI classes): also `@ecgnn/data/formats`.
export * from './formats.js';
export {
  assertVerified,
  SUMS_FILES,
  type VerifyEntry,
  type VerifyResult,
  verifyDatabaseDir,
} from './integrity.js';
export {
  AAMI_CLASSES,
  AAMI_SYMBOLS,
  type AamiClass,
  type AamiCounts,
  aamiClass,
  aamiIndex,
  aamiLabels,
  countAami,
  type RhythmTrack,
  rhythmPerSample,
} from './labels.js';
export { type MatVariable, readMat4, readMat4Variable } from './mat.js';
export {
  buildAamiFragments,
  DE_CHAZAL_PUBLISHED_COUNTS,
  evaluateQrsDetector,
  FRAGMENT17_CLASSES,
  type FragmentSet,
  formatQrsEvaluation,
  formatSplitSummary,
  loadBeats,
  loadFragments17,
  type QrsEvaluation,
  type QrsRecordResult,
  recordAamiCounts,
  type SplitSummary,
  splitSummary,
} from './mitdb.js';
export { type RandomOptions, randomInt, resolveGenerator, shuffleInPlace } from './random.js';
export {
  classBalancedBatches,
  type Episode,
  type EpisodeOptions,
  EpisodeSampler,
  type HardExampleOptions,
  hardExampleBatches,
  inverseFrequencyWeights,
  shuffledBatches,
  weightedBatches,
} from './samplers.js';
export {
  DS1,
  DS2,
  interPatientSplit,
  interPatientValidationSplit,
  intraPatientSplit,
  PACED_RECORDS,
  type RecordSplit,
} from './splits.js';
export { SYNTHETIC_CLASSES, type SyntheticEcg, type SyntheticOptions, syntheticEcg } from './synthetic.js';
export {
  aamiCountsInRange,
  fragmentLabel,
  type IndexSplit,
  type MultiLabelWindows,
  multiLabelWindows,
  slidingWindows,
  stratifiedSplit,
  type Windows,
  zscoreWindows,
} from './windows.js';
