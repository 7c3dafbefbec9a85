/**
 * `ecgnn prune`: the lottery-ticket experiment (method 3: goal-driven magnitude pruning with rewinding, the
 * ticket exported sparse), a thin wrapper of @ecgnn/train's `runLthExperiment` with the flags of
 * `examples/lth.ts`. Writes `<out>/<model>/report.json`, `report.md` and `f1-vs-compression.svg` (@ecgnn/train's
 * `lthMarkdown`/`lthSvg`) and merges the row `lth/<model>` into `--record`'s file.
 */
import { join } from 'node:path';
import {
  LTH_DEFAULTS,
  LTH_MODELS,
  LTH_SMOKE,
  type LthModelName,
  type LthSearchSettings,
  lthMarkdown,
  lthSvg,
  type Metrics,
  pct,
  runLthExperiment,
} from '@ecgnn/train';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type ExperimentCliOptions,
  finishRun,
  runProvenance,
  startRun,
  withExperimentOptions,
  writeText,
} from '../experiment.js';
import { EXIT_OK, type RunContext } from '../io.js';
import { intArg, numberArg } from '../options.js';

/** Parsed options of `prune`. */
interface PruneOptions extends ExperimentCliOptions {
  model: LthModelName;
  goal?: number;
  fraction?: number;
  rewind?: number | 'init';
  scope?: 'global' | 'layer';
  rounds?: number;
  retries?: number;
  trace?: number;
  pruneOutput?: boolean;
  control: boolean;
  epochs?: number;
}

/** `--rewind`: `init` or a step k ≥ 0 of the dense run. */
function rewindArg(value: string): number | 'init' {
  if (value.trim() === 'init') return 'init';
  try {
    return intArg(0)(value);
  } catch {
    throw new InvalidArgumentError(`'init' or a step ≥ 0, got '${value}'.`);
  }
}

/** The search settings the flags override (undefined ones keep the defaults). */
function searchOverrides(o: PruneOptions): Partial<LthSearchSettings> {
  const all: Partial<LthSearchSettings> = {
    goal: o.goal,
    fraction: o.fraction,
    rewindStep: o.rewind === 'init' ? undefined : o.rewind,
    scope: o.scope,
    maxRounds: o.rounds,
    retries: o.retries,
    traceRounds: o.trace,
    pruneOutput: o.pruneOutput,
    control: o.control,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

async function prune(ctx: RunContext, o: PruneOptions, argv: readonly string[]): Promise<number> {
  // The fragment model trains on the 17-class fragments, the others on MIT-BIH beats.
  const needs = o.model === 'fragment' ? 'mitbih17' : 'mitdb';
  const run = await startRun(ctx, o, argv, 'ecgnn-out/lth', needs);
  run.log(
    `ecgnn lottery-ticket pruning of the ${o.model}${o.smoke ? ' (smoke run)' : ''}: seed ${o.seed}, ${run.backend} backend, data ${run.dataDir}, output ${run.out}`,
  );
  let report: ReturnType<typeof runLthExperiment>;
  try {
    report = runLthExperiment({
      dataDir: run.dataDir,
      outDir: run.out,
      seed: o.seed,
      model: o.model,
      smoke: o.smoke ?? false,
      search: searchOverrides(o),
      epochs: o.epochs,
      resume: o.resume ?? false,
      progress: run.progress.display,
      log: run.log,
      provenance: runProvenance(run),
    });
  } finally {
    run.progress.close();
  }
  for (const row of report.rows) row.backend = run.backend;
  const dir = join(run.out, o.model);
  writeText(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeText(join(dir, 'report.md'), lthMarkdown(report));
  writeText(join(dir, 'f1-vs-compression.svg'), lthSvg(report));
  const t = report.ticket;
  const f1 = (m: Metrics): string =>
    `${report.search.metric.replace(/^validation /, '')} ${pct(m[report.search.metricKey])} %`;
  finishRun(ctx, run, o, report, report.rows, [
    `${o.model}: dense test ${f1(report.dense.test)}, ${report.dense.bytes} bytes; ticket test ${f1(t.test)}, ${t.export.bytes} bytes (${t.export.file})`,
    `search: ${report.search.stopReason}; report: ${join(dir, 'report.md')}, report.json, f1-vs-compression.svg${run.record ? `; rows merged into ${run.record}` : ''}`,
  ]);
  return EXIT_OK;
}

/** Registers `prune` on `program`; `argv` is the whole command line (recorded in the provenance). */
export function registerPrune(program: Command, ctx: RunContext, argv: readonly string[]): void {
  const D = LTH_DEFAULTS.lth;
  const cmd = program
    .command('prune')
    .description(
      'lottery-ticket experiment (method 3): goal-driven magnitude pruning with rewinding, exported sparse (@ecgnn/train)',
    )
    .addOption(
      new Option(
        '--model <m>',
        'model to prune (teacher/student: the distillation models on beats; fragment: the binary network’s float twin on the 17-class fragments)',
      )
        .choices([...LTH_MODELS])
        .default('teacher'),
    );
  withExperimentOptions(cmd, {
    smoke: `tiny run for tests: a few records, every ${LTH_SMOKE.every}th beat, ${LTH_SMOKE.teacherStage.epochs} epochs per run, ${LTH_SMOKE.lth.maxRounds} rounds (not a result)`,
    seed: 'seed of weights, dropout and batches (the control’s weights use n + 1)',
    outHelp:
      'checkpoints, round models, model file, report (default ./ecgnn-out/lth; files in <out>/<model>)',
    recordHelp:
      'merge the row lth/<model> into <file> (e.g. docs/results.json) and regenerate results.md beside it',
  })
    .option(
      '--goal <g>',
      `keep pruning while validation macro-F1 ≥ g × dense (default ${D.goal})`,
      numberArg('in (0, 1]', (x) => x > 0 && x <= 1),
    )
    .option(
      '--fraction <p>',
      `fraction of the remaining weights pruned per round (default ${D.fraction})`,
      numberArg('in (0, 1)', (x) => x > 0 && x < 1),
    )
    .option(
      '--rewind <r>',
      'init (default: the initial weights) or a step k of the dense run (late rewinding)',
      rewindArg,
    )
    .addOption(
      new Option('--scope <s>', 'global (default: one magnitude threshold over all layers) or layer').choices(
        ['global', 'layer'],
      ),
    )
    .option('--rounds <n>', `most pruning rounds (default ${D.maxRounds})`, intArg(0))
    .option(
      '--retries <n>',
      `retries with half the fraction when a round breaks the goal (default ${D.retries})`,
      intArg(0),
    )
    .option(
      '--trace <n>',
      'after the goal breaks, keep pruning to round n to trace F1 against compression (never the ticket)',
      intArg(0),
    )
    .option('--prune-output', 'prune the output layer too (default: it stays dense)')
    .option('--no-control', 'skip the random-reinitialisation control')
    .option(
      '--epochs <n>',
      `most epochs of every training run (defaults: ${LTH_DEFAULTS.teacherStage.epochs} teacher, ${LTH_DEFAULTS.studentStage.epochs} student as in the distillation experiment, ${LTH_DEFAULTS.fragment.epochs} fragment)`,
      intArg(1),
    )
    .action(async (o: PruneOptions) => {
      ctx.code = await prune(ctx, o, argv);
    });
}
