/**
 * `ecgnn meta`: the meta-learning experiment (method 2: SNAIL meta-trained over episodes of MIT-BIH beat classes,
 * against a prototypical network and a fine-tuned supervised model, M-way k-shot on held-out rare beat types and
 * records), a thin wrapper of @ecgnn/train's `runMetaExperiment` (settings `metaRunSettings`, data
 * `metaRunSplits`) with the flags of `examples/meta.ts`. Writes `<out>/report.json` and merges the rows
 * `meta/<method>-<M>way-<k>shot` into `--record`'s file.
 */
import { join } from 'node:path';
import {
  META_DEFAULTS,
  META_METHODS,
  type MetaMethod,
  type MetaSettingScore,
  MetaTaskError,
  metaResultsRows,
  metaRunSettings,
  metaRunSplits,
  parseSettings,
  pct,
  runMetaExperiment,
} from '@ecgnn/train';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type ExperimentCliOptions,
  finishRun,
  startRun,
  withExperimentOptions,
  writeText,
} from '../experiment.js';
import { EXIT_OK, type RunContext, UsageError } from '../io.js';
import { intArg, listArg, numberArg } from '../options.js';

/** Parsed options of `meta`. */
interface MetaOptions extends ExperimentCliOptions {
  validationOnly?: boolean;
  methods?: MetaMethod[];
  settings?: ReturnType<typeof parseSettings>;
  steps?: number;
  supervisedSteps?: number;
  groups?: 'balanced' | 'sliding';
  update?: 'episode' | 'group';
  optimizer?: 'adam' | 'sgd';
  lr?: number;
  testTasks?: number;
}

/** `--methods`: a comma list of {@link META_METHODS}. */
function methodsArg(value: string): MetaMethod[] {
  const names = listArg(value);
  for (const n of names)
    if (!(META_METHODS as readonly string[]).includes(n))
      throw new InvalidArgumentError(`'${n}' is not one of ${META_METHODS.join(', ')}.`);
  return names as MetaMethod[];
}

/** `--settings`: M-way k-shot settings as `MxK,…` (@ecgnn/train's `parseSettings`). */
function settingsArg(value: string): ReturnType<typeof parseSettings> {
  try {
    return parseSettings(value);
  } catch (e) {
    if (e instanceof MetaTaskError) throw new InvalidArgumentError(`${e.message}.`);
    throw e;
  }
}

/** One line per method and setting: mean task accuracy ± 95 % interval and macro-F1. */
function scoreLines(what: string, scores: Partial<Record<MetaMethod, MetaSettingScore[]>>): string[] {
  return Object.entries(scores).flatMap(([method, list]) =>
    (list ?? []).map(
      (s) =>
        `${what} ${method} ${s.ways}-way ${s.shots}-shot: accuracy ${pct(s.accuracy)} ± ${pct(s.ci95)} %, macro-F1 ${pct(s.macroF1)} % over ${s.tasks} tasks`,
    ),
  );
}

async function meta(ctx: RunContext, o: MetaOptions, argv: readonly string[]): Promise<number> {
  const test = !(o.validationOnly ?? false);
  if (o.record && !test) throw new UsageError('--record needs the meta-test (drop --validation-only)');
  const smoke = o.smoke ?? false;
  const run = await startRun(ctx, o, argv, 'ecgnn-out/meta', smoke ? null : 'mitdb');
  const settings = metaRunSettings(smoke, {
    settings: o.settings,
    metaSteps: o.steps,
    supervisedSteps: o.supervisedSteps,
    groups: o.groups,
    update: o.update,
    optimizer: o.optimizer,
    lr: o.lr,
    testTasks: o.testTasks,
  });
  const splits = metaRunSplits({
    smoke,
    seed: o.seed,
    dataDir: run.dataDir,
    perRecordClass: settings.perRecordClass,
  });
  run.log(`ecgnn meta-learning${smoke ? ' (smoke run, synthetic)' : ''}: seed ${o.seed}, output ${run.out}`);
  let report: ReturnType<typeof runMetaExperiment>;
  try {
    report = runMetaExperiment(
      splits,
      {
        settings,
        seed: o.seed,
        outDir: run.out,
        resume: o.resume ?? false,
        test,
        methods: o.methods ?? [...META_METHODS],
        progress: run.progress.display,
        log: run.log,
        provenance: { command: run.command, commit: run.commit, date: new Date().toISOString().slice(0, 10) },
      },
      smoke ? 'synthetic' : 'mitdb',
    );
  } finally {
    run.progress.close();
  }
  const reportPath = join(run.out, 'report.json');
  writeText(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  const rows = run.record ? metaResultsRows(report) : [];
  finishRun(ctx, run, o, report, rows, [
    ...scoreLines('validation', report.validation),
    ...(report.test ? scoreLines('meta-test', report.test) : []),
    `report: ${reportPath}${run.record ? `; rows merged into ${run.record}` : ''}`,
  ]);
  return EXIT_OK;
}

/** Registers `meta` on `program`; `argv` is the whole command line (recorded in the provenance). */
export function registerMeta(program: Command, ctx: RunContext, argv: readonly string[]): void {
  const D = META_DEFAULTS;
  const cmd = program
    .command('meta')
    .description(
      'meta-learning experiment (method 2): SNAIL over episodes vs ProtoNet and fine-tuning, few-shot on held-out beat classes (@ecgnn/train)',
    );
  withExperimentOptions(cmd, {
    smoke: 'seconds-long run on a seeded synthetic problem (not a result)',
    seed: 'seed of weights, episodes and tasks',
    outHelp: 'checkpoints and report (default ./ecgnn-out/meta)',
    recordHelp: 'merge the rows meta/<method>-<M>way-<k>shot into <file> (needs the meta-test)',
  })
    .option('--validation-only', 'never read the meta-test set (exploratory runs)')
    .option('--methods <list>', `comma list of ${META_METHODS.join(', ')} (default all)`, methodsArg)
    .option(
      '--settings <list>',
      `M-way k-shot settings as MxK (default ${D.settings.map((s) => `${s.ways}x${s.shots}`).join(',')})`,
      settingsArg,
    )
    .option('--steps <n>', `SNAIL and ProtoNet episodes (default ${D.metaSteps})`, intArg(1))
    .option(
      '--supervised-steps <n>',
      `batches of the supervised model (default ${D.supervisedSteps})`,
      intArg(1),
    )
    .addOption(
      new Option(
        '--groups <g>',
        "SNAIL sample groups: balanced (support + query, default) or sliding (the method's windows)",
      ).choices(['balanced', 'sliding']),
    )
    .addOption(
      new Option(
        '--update <u>',
        "SNAIL updates: episode (one step per episode, default) or group (one step per group, the patent's)",
      ).choices(['episode', 'group']),
    )
    .addOption(new Option('--optimizer <o>', 'adam (default) or sgd (momentum 0.9)').choices(['adam', 'sgd']))
    .option(
      '--lr <x>',
      `learning rate (default ${D.lr})`,
      numberArg('> 0', (x) => x > 0),
    )
    .option('--test-tasks <n>', `meta-test tasks per setting (default ${D.testTasks})`, intArg(2))
    .action(async (o: MetaOptions) => {
      ctx.code = await meta(ctx, o, argv);
    });
}
