/**
 * The lottery-ticket experiment (method 3 of ../shared/methods.md, LTH-ECG) as a reproducible script: the
 * distillation teacher (or student) trained dense on MIT-BIH DS1, pruned by rounds of global magnitude pruning
 * with rewinding while its validation macro-F1 stays ≥ goal × dense, the last ticket that met the goal exported
 * sparse to @ecgnn/infer, checked against core and timed, evaluated on DS2 (read once, after the search) with a
 * random-reinitialisation control. The pipeline is `runLthExperiment` of @ecgnn/train; this script parses
 * flags, writes the report (report.json, report.md, f1-vs-compression.svg) and merges the row `lth/<model>`.
 * See `--help`.
 */
import { join, relative } from 'node:path';
import {
  LTH_DEFAULTS,
  LTH_MODELS,
  LTH_SMOKE,
  type LthModelName,
  type LthReport,
  lthMarkdown,
  lthSvg,
  type ProgressMode,
  runLthExperiment,
} from '@ecgnn/train';
import {
  choice,
  type ExperimentOptions,
  experimentOptions,
  intOption,
  numberOption,
  parseFlags,
  UsageError,
} from './lib/flags.js';
import { writeFileAtomic } from './lib/report.js';
import { recordRows, runIfInvoked, startScript } from './lib/script.js';

export { UsageError } from './lib/flags.js';

/** Parsed command-line options. */
export interface LthCliOptions extends ExperimentOptions {
  model: LthModelName;
  goal: number | undefined;
  fraction: number | undefined;
  rewind: number | undefined;
  scope: 'global' | 'layer' | undefined;
  rounds: number | undefined;
  retries: number | undefined;
  trace: number | undefined;
  pruneOutput: boolean;
  control: boolean;
  epochs: number | undefined;
}

const SCRIPT = 'pnpm exec tsx --conditions=@ecgnn/source examples/lth.ts';
const D = LTH_DEFAULTS.lth;

/** Help text. */
export const HELP = `ecgnn lottery-ticket experiment (method 3): goal-driven magnitude pruning with rewinding, exported sparse.

usage: ${SCRIPT} [options]

  --model <m>          teacher (default: the distillation teacher), student, or fragment (the 17-class
                       fragment model: the binary network's float twin on mitbih17, stratified split)
  --smoke              tiny run for tests: a few records, every ${LTH_SMOKE.every}th beat, ${LTH_SMOKE.teacherStage.epochs} epochs per run, ${LTH_SMOKE.lth.maxRounds} rounds
  --seed <n>           seed of weights, dropout and batches (the control's weights use n + 1) (default 0)
  --data <dir>         data directory holding mitdb/ (default: $ECGNN_DATA, else ../shared/data beside the repo)
  --out <dir>          checkpoints, round models, model file, report (default ./ecgnn-out/lth; files in <out>/<model>)
  --record <file>      merge the row lth/<model> into <file> (docs/results.json) and regenerate results.md beside it
  --goal <g>           keep pruning while validation macro-F1 ≥ g × dense (default ${D.goal})
  --fraction <p>       fraction of the remaining weights pruned per round (default ${D.fraction})
  --rewind <r>         init (default: the initial weights) or a step k of the dense run (late rewinding)
  --scope <s>          global (default: one magnitude threshold over all layers) or layer
  --rounds <n>         most pruning rounds (default ${D.maxRounds})
  --retries <n>        retries with half the fraction when a round breaks the goal (default ${D.retries})
  --trace <n>          after the goal breaks, keep pruning to round n to trace F1 against compression (never the ticket)
  --prune-output       prune the output layer too (default: it stays dense)
  --no-control         skip the random-reinitialisation control
  --epochs <n>         most epochs of every training run (defaults: ${LTH_DEFAULTS.teacherStage.epochs} teacher, ${LTH_DEFAULTS.studentStage.epochs} student
                       as in the distillation experiment, ${LTH_DEFAULTS.fragment.epochs} fragment)
  --resume             continue from the checkpoints in --out (finished runs reloaded, a killed one resumed)
  --backend <name>     core backend for training: wasm (default when available) or cpu
  --no-download        fail instead of downloading MIT-BIH when it is absent
  --help               this text
`;

/** Parses `argv` (without the node and script paths); `null` means help was requested. */
export function parseOptions(argv: readonly string[]): LthCliOptions | null {
  const spec = {
    model: { type: 'string' },
    goal: { type: 'string' },
    fraction: { type: 'string' },
    rewind: { type: 'string' },
    scope: { type: 'string' },
    rounds: { type: 'string' },
    retries: { type: 'string' },
    trace: { type: 'string' },
    'prune-output': { type: 'boolean' },
    'no-control': { type: 'boolean' },
    epochs: { type: 'string' },
  } as const;
  const v = parseFlags(argv, spec, HELP);
  if (v.help) return null;
  return {
    ...experimentOptions(v, 'ecgnn-out/lth'),
    model: choice('model', v.model, LTH_MODELS) ?? 'teacher',
    goal: numberOption('goal', v.goal, (x) => x > 0 && x <= 1),
    fraction: numberOption('fraction', v.fraction, (x) => x > 0 && x < 1),
    rewind: v.rewind === undefined || v.rewind === 'init' ? undefined : intOption('rewind', v.rewind, 0),
    scope: choice('scope', v.scope, ['global', 'layer']),
    rounds: intOption('rounds', v.rounds, 0),
    retries: intOption('retries', v.retries, 0),
    trace: intOption('trace', v.trace, 0),
    pruneOutput: v['prune-output'] ?? false,
    control: !(v['no-control'] ?? false),
    epochs: intOption('epochs', v.epochs, 1),
  };
}

/** Optional hooks of {@link main}. */
export interface LthIo {
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  /** The trainers' progress display (default 'auto'). */
  progress?: ProgressMode;
}

/** Runs the script with `argv`. Returns the report (also in `<out>/<model>/report.*`), or null after `--help`. */
export async function main(argv: readonly string[], io: LthIo = {}): Promise<LthReport | null> {
  const log = io.log ?? ((line: string) => console.log(line));
  const opts = parseOptions(argv);
  if (opts === null) {
    log(HELP);
    return null;
  }
  const needs = opts.model === 'fragment' ? 'mitbih17' : 'mitdb';
  const start = await startScript({ ...opts, script: SCRIPT, argv, needs, log }, UsageError);
  const { backend, commit, dirty, command } = start;
  const dir = start.dataDir;
  log(
    `ecgnn lottery-ticket pruning of the ${opts.model}${opts.smoke ? ' (smoke run)' : ''}: seed ${opts.seed}, ${backend} backend, data ${dir}, output ${opts.out}`,
  );
  const search = Object.fromEntries(
    Object.entries({
      goal: opts.goal,
      fraction: opts.fraction,
      rewindStep: opts.rewind,
      scope: opts.scope,
      maxRounds: opts.rounds,
      retries: opts.retries,
      traceRounds: opts.trace,
      pruneOutput: opts.pruneOutput,
      control: opts.control,
    }).filter(([, x]) => x !== undefined),
  );
  const report = runLthExperiment({
    dataDir: dir,
    outDir: opts.out,
    seed: opts.seed,
    model: opts.model,
    smoke: opts.smoke,
    search,
    epochs: opts.epochs,
    resume: opts.resume,
    progress: io.progress,
    log,
    provenance: { command, commit, date: new Date().toISOString(), commitDirty: dirty },
  });
  for (const row of report.rows) row.backend = backend;
  const modelDir = join(opts.out, opts.model);
  await writeFileAtomic(join(modelDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(join(modelDir, 'report.md'), lthMarkdown(report));
  await writeFileAtomic(join(modelDir, 'f1-vs-compression.svg'), lthSvg(report));
  log(`report: ${relative(process.cwd(), join(modelDir, 'report.md'))}, report.json, f1-vs-compression.svg`);
  if (opts.record) {
    recordRows(opts.record, report.rows, log);
  }
  return report;
}

runIfInvoked(import.meta.url, main, [UsageError]);
