/**
 * @ecgnn/cli — the `ecgnn` command line: `data info|verify|fetch`, `inspect`, `classify`, `distill`, and the
 * commands still waiting for their method (`prune`, `binarize`, `meta`, `pipeline`). {@link run} runs it
 * in-process and returns the exit code (0 success, 1 data or model error, 2 usage error).
 * @packageDocumentation
 */

export { locateRecord, type RecordLocation } from './commands/classify.js';
export { splitOf } from './commands/data.js';
export { formatModelInfo, inspectModel, type LayerInfo, type ModelInfo } from './commands/inspect.js';
export { notBuiltMessage, PENDING_COMMANDS, type PendingCommand } from './commands/pending.js';
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
