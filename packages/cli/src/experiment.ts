/**
 * What the experiment commands (`prune`, `binarize`, `meta`) share: the options every experiment takes (those of
 * the example scripts' `EXPERIMENT_FLAGS`), the start of a run (@ecgnn/train's `startExperiment`, with download
 * bars on a terminal), training progress, and merging the results rows into `--record`'s file.
 */
import { resolve } from 'node:path';
import {
  type ExperimentStart,
  type ResultsRow,
  recordResultsRow,
  startExperiment,
  writeFileAtomicSync,
} from '@ecgnn/train';
import { type Command, Option } from 'commander';
import { printJson, println, type RunContext, UsageError } from './io.js';
import { intArg, withDataOption, withJsonOption } from './options.js';
import { downloadProgress, type TrainingProgress, trainingProgress } from './progress.js';

/** The options every experiment command has (commander's camel-cased names). */
export interface ExperimentCliOptions {
  smoke?: boolean;
  seed: number;
  data?: string;
  out?: string;
  record?: string;
  resume?: boolean;
  backend: 'wasm' | 'cpu';
  download: boolean;
  json?: boolean;
}

/**
 * Adds the common experiment options to `cmd`: `--smoke`, `--seed`, `--data`, `--out` (default `defaultOut`,
 * described by `outHelp`), `--record` (described by `recordHelp`; none without it: a command that writes no
 * results rows), `--resume`, `--backend`, `--no-download`, `--json`.
 */
export function withExperimentOptions(
  cmd: Command,
  o: { smoke: string; seed: string; outHelp: string; recordHelp?: string },
): Command {
  cmd.option('--smoke', o.smoke).option('--seed <n>', o.seed, intArg(0), 0);
  withDataOption(cmd).option('--out <dir>', o.outHelp);
  if (o.recordHelp !== undefined) cmd.option('--record <file>', o.recordHelp);
  cmd
    .option(
      '--resume',
      'continue from the checkpoints in --out (finished runs reloaded, a killed one resumed)',
    )
    .addOption(
      new Option('--backend <name>', 'core backend for training (wasm falls back to cpu when unavailable)')
        .choices(['wasm', 'cpu'])
        .default('wasm'),
    )
    .option('--no-download', 'fail instead of downloading MIT-BIH when it is absent');
  return withJsonOption(cmd);
}

/** A started experiment run: where it writes, its provenance, its progress, and its log. */
export interface ExperimentRun extends ExperimentStart {
  /** The output folder (absolute). */
  out: string;
  /** The results file (absolute), if `--record`. */
  record: string | undefined;
  /** Progress lines (standard error). */
  log: (line: string) => void;
  /** Training progress (bars on a terminal, lines elsewhere). */
  progress: TrainingProgress;
}

/**
 * Starts an experiment command: output folder `o.out ?? defaultOut`, the database `needs`, provenance of the
 * rows (`ecgnn` and `argv`, the whole command line). A smoke run recording into docs/results.json is a usage
 * error (exit code 2); a missing database a data error (1).
 */
export async function startRun(
  ctx: RunContext,
  o: ExperimentCliOptions,
  argv: readonly string[],
  defaultOut: string,
  needs: 'mitdb' | 'mitbih17' | null,
): Promise<ExperimentRun> {
  const progress = trainingProgress(ctx.io);
  const log = progress.log;
  const out = resolve(o.out ?? defaultOut);
  const record = o.record === undefined ? undefined : resolve(o.record);
  const download = downloadProgress(ctx.io);
  const start = await startExperiment(
    {
      script: 'ecgnn',
      argv,
      smoke: o.smoke ?? false,
      record,
      backend: o.backend,
      data: o.data,
      out,
      needs,
      download: o.download,
      log,
      onDownloadProgress: download?.onProgress,
    },
    UsageError,
  ).finally(() => download?.close());
  return { ...start, out, record, log, progress };
}

/** The provenance an experiment records in its rows and model files: the command line, commit, and now. */
export function runProvenance(run: ExperimentRun): {
  command: string;
  commit: string;
  date: string;
  commitDirty: boolean | null;
} {
  return { command: run.command, commit: run.commit, date: new Date().toISOString(), commitDirty: run.dirty };
}

/** Writes `text` to `path` atomically (UTF-8). */
export function writeText(path: string, text: string): void {
  writeFileAtomicSync(path, new TextEncoder().encode(text));
}

/**
 * The end of an experiment command: the rows merged into `--record`'s file (and its results.md), then the
 * report printed as JSON with `--json`, else `summary` on stdout.
 */
export function finishRun(
  ctx: RunContext,
  run: ExperimentRun,
  o: ExperimentCliOptions,
  report: unknown,
  rows: readonly ResultsRow[],
  summary: readonly string[],
): void {
  if (run.record) {
    for (const row of rows) recordResultsRow(run.record, row);
    run.log(
      `results: ${rows.map((r) => r.id).join(', ')} merged into ${run.record} (and results.md beside it)`,
    );
  }
  if (o.json) {
    printJson(ctx.io, report);
    return;
  }
  for (const line of summary) println(ctx.io.out, line);
}
