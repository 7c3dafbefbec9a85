/**
 * `ecgnn binarize`: the binary-network experiment (method 5, Pu et al. 2023: a ~4 KB binary ECG network and its
 * full-precision twin on 10-s fragments, exported bit-packed), a thin wrapper of @ecgnn/train's
 * `runBnnExperiment` with the flags of `examples/bnn.ts`. Writes `<out>/report.json` and `report.md`
 * (@ecgnn/train's `bnnMarkdown`) and merges the rows `bnn/<network>-<classes>` into `--record`'s file.
 */
import { join } from 'node:path';
import {
  BNN_RUN_DEFAULTS,
  BNN_SMOKE,
  type BnnSettings,
  type BnnVariant,
  type BnnVariantReport,
  bnnMarkdown,
  pct,
  runBnnExperiment,
} from '@ecgnn/train';
import { type Command, Option } from 'commander';
import {
  type ExperimentCliOptions,
  finishRun,
  runProvenance,
  startRun,
  withExperimentOptions,
  writeText,
} from '../experiment.js';
import { EXIT_OK, type RunContext, UsageError } from '../io.js';
import { intArg, numberArg } from '../options.js';

/** Parsed options of `binarize`. */
interface BinarizeOptions extends ExperimentCliOptions {
  classes: '17' | '5';
  patient?: boolean;
  binary?: boolean;
  float?: boolean;
  epochs?: number;
  lr?: number;
  estimator: 'clipped' | 'triangular';
  scale: 'none' | 'channel';
  monotone?: boolean;
}

async function binarize(ctx: RunContext, o: BinarizeOptions, argv: readonly string[]): Promise<number> {
  const classes = Number(o.classes) as 17 | 5;
  if (o.patient && classes !== 5)
    throw new UsageError('--patient needs --classes 5 (mitbih17 has no DS1/DS2)');
  const variants: BnnVariant[] =
    o.binary && !o.float ? ['binary'] : o.float && !o.binary ? ['float'] : ['binary', 'float'];
  const run = await startRun(
    ctx,
    o,
    argv,
    `ecgnn-out/bnn-${classes}${o.patient ? '-patient' : ''}`,
    classes === 5 ? 'mitdb' : 'mitbih17',
  );
  run.log(
    `ecgnn binary network${o.smoke ? ' (smoke run)' : ''}: ${classes} classes, ${variants.join(' + ')}, seed ${o.seed}, ${run.backend} backend, data ${run.dataDir}, output ${run.out}`,
  );
  const settings: Partial<BnnSettings> = {
    estimator: o.estimator,
    scale: o.scale,
    preluSlopes: o.monotone ? 'nonNegative' : 'free',
  };
  if (o.lr !== undefined) settings.lr = o.lr;
  let report: ReturnType<typeof runBnnExperiment>;
  try {
    report = runBnnExperiment({
      dataDir: run.dataDir,
      outDir: run.out,
      seed: o.seed,
      classes,
      protocol: o.patient ? 'patient' : 'stratified',
      variants,
      smoke: o.smoke ?? false,
      epochs: o.epochs,
      resume: o.resume ?? false,
      settings,
      progress: run.progress.display,
      provenance: runProvenance(run),
      log: run.log,
    });
  } finally {
    run.progress.close();
  }
  for (const row of report.rows) row.backend = run.backend;
  writeText(join(run.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeText(join(run.out, 'report.md'), bnnMarkdown(report));
  const lines = (Object.values(report.variants) as BnnVariantReport[]).map(
    (m) =>
      `${m.id}: ${m.params} parameters, ${m.export.bytes} bytes; test accuracy ${pct(m.test.accuracy)} %, macro-F1 ${pct(m.test.macroF1)} %`,
  );
  lines.push(
    `report: ${join(run.out, 'report.md')} and report.json${run.record ? `; rows merged into ${run.record}` : ''}`,
  );
  finishRun(ctx, run, o, report, report.rows, lines);
  return EXIT_OK;
}

/** Registers `binarize` on `program`; `argv` is the whole command line (recorded in the provenance). */
export function registerBinarize(program: Command, ctx: RunContext, argv: readonly string[]): void {
  const cmd = program
    .command('binarize')
    .description(
      'binary-network experiment (method 5): a ~4 KB binary ECG network and its float twin, exported bit-packed (@ecgnn/train)',
    );
  withExperimentOptions(cmd, {
    smoke: `tiny run for tests: 1 in ${BNN_SMOKE.every} fragments of each class, ${BNN_SMOKE.epochs} epochs (not a result)`,
    seed: 'seed of weights, dropout and batch order (the split has its own fixed seed)',
    outHelp: 'checkpoints, logs, model files, report (default ./ecgnn-out/bnn-<classes>[-patient])',
    recordHelp:
      'merge the rows (bnn/binary-17, bnn/float-17, …) into <file> (e.g. docs/results.json) and regenerate results.md beside it',
  })
    .addOption(
      new Option(
        '--classes <n>',
        '17-class mitbih17 fragments, or the 5-class AAMI fragments built from mitdb',
      )
        .choices(['17', '5'])
        .default('17'),
    )
    .option(
      '--patient',
      '5 classes only: patient-wise split (DS1 train/validation, DS2 test) instead of stratified',
    )
    .option('--binary', 'train the binary network only')
    .option('--float', 'train the full-precision twin only (default: both, and the infer speed ratio)')
    .option(
      '--epochs <n>',
      `epochs (default ${BNN_RUN_DEFAULTS.epochs}; the kept one is chosen on validation accuracy)`,
      intArg(1),
    )
    .option(
      '--lr <x>',
      `Adam learning rate at epoch 0 (default ${BNN_RUN_DEFAULTS.lr}; cosine-annealed)`,
      numberArg('> 0', (x) => x > 0),
    )
    .addOption(
      new Option(
        '--estimator <name>',
        `surrogate gradient of sign (triangular: sharpness ${BNN_RUN_DEFAULTS.sharpness.from}→${BNN_RUN_DEFAULTS.sharpness.to})`,
      )
        .choices(['clipped', 'triangular'])
        .default('clipped'),
    )
    .addOption(
      new Option('--scale <name>', "none (the method's) or channel (α = mean|w| per output channel)")
        .choices(['none', 'channel'])
        .default('none'),
    )
    .option(
      '--monotone',
      'PReLU slopes kept ≥ 0, so every binary block folds into integer thresholds on export (row ids end in -monotone)',
    )
    .action(async (o: BinarizeOptions) => {
      ctx.code = await binarize(ctx, o, argv);
    });
}
