/**
 * `ecgnn distill`: the distillation experiment (method 1: ResNet teacher → compact student on MIT-BIH), a thin
 * wrapper of @ecgnn/train's `runDistillExperiment` / `estimateDistillEpochs` with the flags of
 * `examples/distill.ts`. Writes `<out>/report.json` and `report.md` (@ecgnn/train's `distillMarkdown`), merges the
 * results rows into `--record`'s file with @ecgnn/train's `recordResultsRow`.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { findBackend, setBackend } from '@ecgnn/core';
import { findRepoRoot } from '@ecgnn/data';
import {
  DISTILL_DEFAULTS,
  DISTILL_MODELS,
  type DistillExperimentOptions,
  distillMarkdown,
  type EpochEstimate,
  estimateDistillEpochs,
  gitInfo,
  pct,
  recordResultsRow,
  runDistillExperiment,
  writeFileAtomicSync,
} from '@ecgnn/train';
import { type Command, Option } from 'commander';
import { EXIT_OK, printJson, println, type RunContext, UsageError } from '../io.js';
import { dataDirOf, intArg, numberArg, withDataOption, withJsonOption } from '../options.js';
import { ensureDatabaseWithProgress, type TrainingProgress, trainingProgress } from '../progress.js';

/** Parsed options of `distill` (commander's camel-cased names). */
interface DistillOptions {
  smoke?: boolean;
  seed: number;
  data?: string;
  out?: string;
  record?: string;
  intra?: boolean;
  hardExamples?: boolean;
  sampler: 'weighted' | 'class-balanced' | 'shuffled';
  teacherOnly?: boolean;
  stopOn: 'loss' | 'selection';
  hardRefresh?: number;
  temperature: number;
  form: 'patent' | 'hinton';
  alpha: number;
  search?: boolean;
  resume?: boolean;
  backend: 'wasm' | 'cpu';
  teacherEpochs?: number;
  studentEpochs?: number;
  estimate?: boolean;
  download: boolean;
  json?: boolean;
}

function formatEstimate(e: EpochEstimate): string {
  return `${e.epochSeconds.toFixed(0)} s per epoch (${(1000 * e.stepSeconds).toFixed(1)} ms/step × ${e.stepsPerEpoch} + validation ${e.validationSeconds.toFixed(1)} s + scoring ${e.scoringSeconds.toFixed(1)} s)`;
}

async function distill(ctx: RunContext, o: DistillOptions, argv: readonly string[]): Promise<number> {
  const progress = trainingProgress(ctx.io);
  try {
    return await distillRun(ctx, o, argv, progress);
  } finally {
    progress.close();
  }
}

async function distillRun(
  ctx: RunContext,
  o: DistillOptions,
  argv: readonly string[],
  progress: TrainingProgress,
): Promise<number> {
  const log = progress.log;
  const root = findRepoRoot() ?? process.cwd();
  const out = resolve(o.out ?? `ecgnn-out/distill${o.intra ? '-intra' : ''}`);
  const record = o.record === undefined ? undefined : resolve(o.record);
  if (record && o.smoke && record === resolve(root, 'docs', 'results.json'))
    throw new UsageError('--record refuses to write smoke rows into docs/results.json: they are not results');
  const wasm = o.backend === 'wasm' && findBackend('wasm') !== null;
  if (o.backend === 'wasm' && !wasm)
    log('the wasm backend is not available here: training on the cpu backend');
  const { dataDir } = dataDirOf(o);
  await ensureDatabaseWithProgress(ctx.io, 'mitdb', dataDir, o.download);
  if (wasm) setBackend('wasm');
  const backend = wasm ? 'wasm' : 'cpu';
  const common: Omit<DistillExperimentOptions, 'outDir' | 'provenance'> = {
    dataDir,
    seed: o.seed,
    protocol: o.intra ? 'intra-patient' : 'inter-patient',
    smoke: o.smoke ?? false,
    teacherSampler: o.hardExamples ? 'hard-example' : o.sampler,
    teacherOnly: o.teacherOnly ?? false,
    stopOn: o.stopOn,
    sampler: o.sampler,
    hardRefresh: o.hardRefresh,
    temperature: o.temperature,
    form: o.form,
    alpha: o.alpha,
    search: o.search ?? false,
    resume: o.resume ?? false,
    teacherEpochs: o.teacherEpochs,
    studentEpochs: o.studentEpochs,
    log,
  };
  if (o.estimate) {
    const e = estimateDistillEpochs(common);
    if (o.json) printJson(ctx.io, { backend, ...e });
    else
      println(
        ctx.io.out,
        `estimated epoch time (${backend} backend): teacher ${formatEstimate(e.teacher)}; student ${formatEstimate(e.student)}`,
      );
    return EXIT_OK;
  }
  mkdirSync(out, { recursive: true });
  const { commit, dirty } = gitInfo(root);
  const command = ['ecgnn', ...argv].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
  log(
    `ecgnn distillation${o.smoke ? ' (smoke run)' : ''}: seed ${o.seed}, ${backend} backend, data ${dataDir}, output ${out}`,
  );
  const report = runDistillExperiment({
    ...common,
    outDir: out,
    progress: progress.display,
    provenance: { command, commit, date: new Date().toISOString(), commitDirty: dirty },
  });
  for (const row of report.rows) row.backend = backend;
  const reportPath = resolve(out, 'report.json');
  writeFileAtomicSync(reportPath, new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  writeFileAtomicSync(resolve(out, 'report.md'), new TextEncoder().encode(distillMarkdown(report)));
  if (record) for (const row of report.rows) recordResultsRow(record, row);
  if (o.json) {
    printJson(ctx.io, report);
    return EXIT_OK;
  }
  for (const name of DISTILL_MODELS) {
    const m = report.models[name];
    if (m === undefined) continue;
    println(
      ctx.io.out,
      `${name}: ${m.params} parameters, ${m.export.bytes} bytes; test accuracy ${pct(m.test.accuracy)} %, macro-F1 ${pct(m.test.subsetMacroF1)} %`,
    );
  }
  println(ctx.io.out, `report: ${reportPath}${record ? `; rows merged into ${record}` : ''}`);
  return EXIT_OK;
}

/** Registers `distill` on `program`; `argv` is the whole command line (recorded in the provenance). */
export function registerDistill(program: Command, ctx: RunContext, argv: readonly string[]): void {
  const cmd = program
    .command('distill')
    .description(
      'distillation experiment (method 1): ResNet teacher → compact student on MIT-BIH (@ecgnn/train)',
    )
    .option('--smoke', 'tiny run for tests: a few records, few epochs (not a result)')
    .option('--seed <n>', 'seed of weights, dropout and batches (students use n + 1)', intArg(0), 0);
  withJsonOption(
    withDataOption(cmd)
      .option(
        '--out <dir>',
        'checkpoints, logs, soft labels, model files, report (default ./ecgnn-out/distill[-intra])',
      )
      .option(
        '--record <file>',
        'merge the results rows into <file> (e.g. docs/results.json) and its results.md',
      )
      .option('--intra', 'intra-patient random split over all records (instead of DS1/DS2)')
      .option('--hard-examples', 'teacher on hard-example batches (the highest-loss part of a random pool)')
      .addOption(
        new Option('--sampler <name>', 'batches otherwise')
          .choices(['weighted', 'class-balanced', 'shuffled'])
          .default('weighted'),
      )
      .option('--teacher-only', 'train, test and export the teacher only (a sampler comparison)')
      .addOption(
        new Option(
          '--stop-on <what>',
          'early stopping on a plateau of the validation loss, or of the validation macro-F1 (selection)',
        )
          .choices(['loss', 'selection'])
          .default('loss'),
      )
      .option(
        '--hard-refresh <n>',
        'batches between hard-example re-scorings (default: once per epoch)',
        intArg(1),
      )
      .option(
        '--temperature <T>',
        'distillation temperature',
        numberArg('> 0', (x) => x > 0),
        1,
      )
      .addOption(
        new Option('--form <f>', 'patent: CE(y,p) + T²·CE(z_T,p_T); hinton: (1−α)·CE + α·T²·KL')
          .choices(['patent', 'hinton'])
          .default('patent'),
      )
      .option(
        '--alpha <a>',
        'α of the hinton form',
        numberArg('in [0, 1]', (x) => x >= 0 && x <= 1),
        0.5,
      )
      .option(
        '--search',
        'choose learning rates (and the temperature) on validation macro-F1 by a grid search',
      )
      .option('--resume', 'continue from the checkpoints in --out')
      .addOption(
        new Option('--backend <name>', 'core backend for training (wasm falls back to cpu when unavailable)')
          .choices(['wasm', 'cpu'])
          .default('wasm'),
      )
      .option(
        '--teacher-epochs <n>',
        `most teacher epochs (default ${DISTILL_DEFAULTS.teacherStage.epochs}; early stopping)`,
        intArg(1),
      )
      .option(
        '--student-epochs <n>',
        `most student epochs (default ${DISTILL_DEFAULTS.studentStage.epochs})`,
        intArg(1),
      )
      .option('--estimate', 'time a few steps of teacher and student, print the estimated epoch times, stop')
      .option('--no-download', 'fail instead of downloading MIT-BIH when it is absent'),
  ).action(async (o: DistillOptions) => {
    ctx.code = await distill(ctx, o, argv);
  });
}
