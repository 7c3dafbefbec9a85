/**
 * @ecgnn/cli — the `ecgnn` command line: `data info|verify|fetch|split|qrs|record`, `inspect`, `classify` (WFDB
 * records and CSV files), `eval`, `export`, `bench`, `train` (one beat model), the experiments `distill`,
 * `prune`, `binarize` and `meta`, and `pipeline` (the main job end to end). {@link run} runs it in-process and
 * returns the exit code (0 success, 1 data or model error, 2 usage error).
 * @module @ecgnn/cli
 */

export { machineInfo, PEER_SUITE_NOTE } from './commands/bench.js';
export { locateRecord, type RecordLocation } from './commands/classify.js';
export { splitOf } from './commands/data.js';
export { EVAL_SPLITS, evaluateModel, splitRecords } from './commands/eval.js';
export { formatModelInfo, inspectModel, type LayerInfo, type ModelInfo } from './commands/inspect.js';
export {
  CliError,
  type CliIo,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  processIo,
  type RunContext,
  UsageError,
} from './io.js';
export { createProgram, run, VERSION } from './program.js';
export {
  type DownloadProgress,
  downloadProgress,
  ensureDatabaseWithProgress,
  TerminalTrainingProgress,
  type TrainingProgress,
  trainingProgress,
} from './progress.js';
