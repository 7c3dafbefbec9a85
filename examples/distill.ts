/**
 * The distillation experiment (method 1 of ../shared/methods.md, patent CN110558972A) as a reproducible script:
 * a ResNet teacher trained on MIT-BIH DS1 (cross-entropy, SGD, optionally hard-example batches), its soft labels
 * cached, a compact student trained alone and one distilled with Loss_G = CE(y, p) + CE(z, p), each model
 * exported to @ecgnn/infer, checked against core and timed, and evaluated on DS2, read once at the end. The
 * pipeline is `runDistillExperiment` of @ecgnn/train; this script parses flags, writes the report and merges the
 * docs/results.json rows. See `--help`.
 */
import { relative, resolve } from 'node:path';
import {
  DISTILL_DEFAULTS,
  DISTILL_SMOKE,
  type DistillExperimentOptions,
  type DistillReport,
  distillMarkdown,
  type EpochEstimate,
  estimateDistillEpochs,
  type ProgressMode,
  runDistillExperiment,
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
export interface DistillCliOptions extends ExperimentOptions {
  intra: boolean;
  hardExamples: boolean;
  teacherOnly: boolean;
  stopOn: 'loss' | 'selection';
  sampler: 'shuffled' | 'class-balanced' | 'weighted';
  hardRefresh: number | undefined;
  temperature: number;
  alpha: number;
  form: 'patent' | 'hinton';
  search: boolean;
  teacherEpochs: number | undefined;
  studentEpochs: number | undefined;
  estimate: boolean;
}

const SCRIPT = 'pnpm exec tsx --conditions=@ecgnn/source examples/distill.ts';

/** Help text. */
export const HELP = `ecgnn distillation experiment (method 1): teacher → student with hard-example batches.

usage: ${SCRIPT} [options]

  --smoke              tiny run for tests: a few records, every ${DISTILL_SMOKE.every}th beat, ${DISTILL_SMOKE.teacherStage.epochs} epochs per model
  --seed <n>           seed of weights, dropout and batches (students use n + 1) (default 0)
  --data <dir>         data directory holding mitdb/ (default: $ECGNN_DATA, else ../shared/data beside the repo)
  --out <dir>          checkpoints, logs, soft labels, model files, report (default ./ecgnn-out/distill[-intra])
  --record <file>      merge the rows distill/teacher, distill/student-alone, distill/student-kd into <file>
                       (docs/results.json) and regenerate results.md beside it
  --intra              intra-patient random split over all records (rows labelled as such, ids end in -intra)
  --hard-examples      teacher on hard-example batches (the highest-loss quarter of a random pool, re-scored periodically)
  --sampler <name>     batches otherwise: weighted (default), class-balanced or shuffled
  --stop-on <what>     early stopping on a plateau of the validation loss (loss, default) or of the
                       validation macro-F1 that also picks the kept epoch (selection)
  --teacher-only       train, test and export the teacher only (a sampler comparison; row id distill/teacher-<sampler>)
  --hard-refresh <n>   batches between hard-example re-scorings (default: once per epoch)
  --temperature <T>    distillation temperature (default 1: the method's loss)
  --form <f>           patent (default: CE(y,p) + T²·CE(z_T,p_T)) or hinton ((1−α)·CE + α·T²·KL)
  --alpha <a>          α of the hinton form (default 0.5)
  --search             choose learning rates (and the temperature) on validation macro-F1 by a grid search
  --resume             continue from the checkpoints in --out (finished models reloaded, a killed one resumed)
  --backend <name>     core backend for training: wasm (default when available) or cpu
  --teacher-epochs <n> most teacher epochs (default ${DISTILL_DEFAULTS.teacherStage.epochs}; early stopping on a validation-loss plateau)
  --student-epochs <n> most student epochs (default ${DISTILL_DEFAULTS.studentStage.epochs})
  --estimate           time a few steps of teacher and student and print the estimated epoch times, then stop
  --no-download        fail instead of downloading MIT-BIH when it is absent
  --help               this text
`;

/** Parses `argv` (without the node and script paths); `null` means help was requested. */
export function parseOptions(argv: readonly string[]): DistillCliOptions | null {
  const spec = {
    intra: { type: 'boolean' },
    'hard-examples': { type: 'boolean' },
    'teacher-only': { type: 'boolean' },
    'stop-on': { type: 'string' },
    sampler: { type: 'string' },
    'hard-refresh': { type: 'string' },
    temperature: { type: 'string' },
    alpha: { type: 'string' },
    form: { type: 'string' },
    search: { type: 'boolean' },
    'teacher-epochs': { type: 'string' },
    'student-epochs': { type: 'string' },
    estimate: { type: 'boolean' },
  } as const;
  const v = parseFlags(argv, spec, HELP);
  if (v.help) return null;
  const intra = v.intra ?? false;
  return {
    ...experimentOptions(v, `ecgnn-out/distill${intra ? '-intra' : ''}`),
    intra,
    hardExamples: v['hard-examples'] ?? false,
    teacherOnly: v['teacher-only'] ?? false,
    stopOn: choice('stop-on', v['stop-on'], ['loss', 'selection']) ?? 'loss',
    sampler: choice('sampler', v.sampler, ['weighted', 'class-balanced', 'shuffled']) ?? 'weighted',
    hardRefresh: intOption('hard-refresh', v['hard-refresh'], 1),
    temperature: numberOption('temperature', v.temperature, (x) => x > 0) ?? 1,
    alpha: numberOption('alpha', v.alpha, (x) => x >= 0 && x <= 1) ?? 0.5,
    form: choice('form', v.form, ['patent', 'hinton']) ?? 'patent',
    search: v.search ?? false,
    teacherEpochs: intOption('teacher-epochs', v['teacher-epochs'], 1),
    studentEpochs: intOption('student-epochs', v['student-epochs'], 1),
    estimate: v.estimate ?? false,
  };
}

/** Optional hooks of {@link main}. */
export interface DistillIo {
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  /** The trainers' progress display (default 'auto': a bar on a terminal, lines on stderr otherwise). */
  progress?: ProgressMode;
}

function formatEstimate(e: EpochEstimate): string {
  return `${e.epochSeconds.toFixed(0)} s per epoch (${(1000 * e.stepSeconds).toFixed(1)} ms/step × ${e.stepsPerEpoch} + validation ${e.validationSeconds.toFixed(1)} s + scoring ${e.scoringSeconds.toFixed(1)} s)`;
}

/**
 * Runs the script with `argv`. Returns the report (also in `<out>/report.json` and `report.md`), the epoch
 * estimates with `--estimate`, or null after `--help`.
 */
export async function main(
  argv: readonly string[],
  io: DistillIo = {},
): Promise<DistillReport | { teacher: EpochEstimate; student: EpochEstimate } | null> {
  const log = io.log ?? ((line: string) => console.log(line));
  const opts = parseOptions(argv);
  if (opts === null) {
    log(HELP);
    return null;
  }
  const start = await startScript({ ...opts, script: SCRIPT, argv, needs: 'mitdb', log }, UsageError);
  const { backend, commit, dirty, command } = start;
  const dir = start.dataDir;
  const common: Omit<DistillExperimentOptions, 'outDir' | 'provenance'> = {
    dataDir: dir,
    seed: opts.seed,
    protocol: opts.intra ? 'intra-patient' : 'inter-patient',
    smoke: opts.smoke,
    teacherSampler: opts.hardExamples ? 'hard-example' : opts.sampler,
    teacherOnly: opts.teacherOnly,
    stopOn: opts.stopOn,
    sampler: opts.sampler,
    hardRefresh: opts.hardRefresh,
    temperature: opts.temperature,
    form: opts.form,
    alpha: opts.alpha,
    search: opts.search,
    resume: opts.resume,
    teacherEpochs: opts.teacherEpochs,
    studentEpochs: opts.studentEpochs,
    progress: io.progress,
    log,
  };
  if (opts.estimate) {
    const e = estimateDistillEpochs(common);
    log(
      `estimated epoch time (${backend} backend): teacher ${formatEstimate(e.teacher)}; student ${formatEstimate(e.student)}`,
    );
    return e;
  }
  log(
    `ecgnn distillation${opts.smoke ? ' (smoke run)' : ''}: seed ${opts.seed}, ${backend} backend, data ${dir}, output ${opts.out}`,
  );
  const report = runDistillExperiment({
    ...common,
    outDir: opts.out,
    provenance: { command, commit, date: new Date().toISOString(), commitDirty: dirty },
  });
  for (const row of report.rows) row.backend = backend;
  await writeFileAtomic(resolve(opts.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(resolve(opts.out, 'report.md'), distillMarkdown(report));
  log(`report: ${relative(process.cwd(), resolve(opts.out, 'report.md'))} and report.json`);
  if (opts.record) {
    recordRows(opts.record, report.rows, log);
  }
  return report;
}

runIfInvoked(import.meta.url, main, [UsageError]);
