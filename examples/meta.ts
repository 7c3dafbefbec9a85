/**
 * The meta-learning experiment (method 2 of ../shared/methods.md, patent CN109700434A; issue #25) as a
 * reproducible script: SNAIL meta-trained over episodes of MIT-BIH beat classes, against a prototypical network
 * and a fine-tuned supervised model on the same embedding CNN and the same meta-test tasks (rare beat types and
 * records never seen in meta-training), M-way k-shot accuracy with 95 % intervals. The pipeline is
 * `runMetaExperiment` of @ecgnn/train; this script parses flags, writes report.json and merges the rows
 * `meta/<method>-<M>way-<k>shot`. It also shows the deployment path: {@link loadSnail} and {@link fewShotClassify}
 * classify new beats from a trained SNAIL and k labelled examples per class. See `--help`.
 */
import { join } from 'node:path';
import { noGrad, tensor } from '@ecgnn/core';
import { Snail, type SnailConfig } from '@ecgnn/models';
import {
  loadCheckpoint,
  META_DEFAULTS,
  META_METHODS,
  type MetaMethod,
  type MetaReport,
  metaResultsRows,
  metaRunSettings,
  metaRunSplits,
  type ProgressMode,
  parseSettings,
  runMetaExperiment,
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

const SCRIPT = 'pnpm exec tsx --conditions=@ecgnn/source examples/meta.ts';
const D = META_DEFAULTS;

/** Help text. */
export const HELP = `ecgnn meta-learning (method 2): SNAIL over episodes vs ProtoNet and fine-tuning, few-shot on held-out beat classes.

usage: ${SCRIPT} [options]

  --smoke              seconds-long run on a seeded synthetic problem (not a result)
  --seed <n>           seed of weights, episodes and tasks (default 0)
  --data <dir>         data directory holding mitdb/ (default: $ECGNN_DATA, else ../shared/data beside the repo)
  --out <dir>          checkpoints and report (default ./ecgnn-out/meta)
  --record <file>      merge the rows meta/<method>-<M>way-<k>shot into <file> (needs the meta-test)
  --validation-only    never read the meta-test set (exploratory runs)
  --methods <list>     comma list of snail, protonet, finetune (default all)
  --settings <list>    M-way k-shot settings as MxK (default ${D.settings.map((s) => `${s.ways}x${s.shots}`).join(',')})
  --steps <n>          SNAIL and ProtoNet episodes (default ${D.metaSteps})
  --supervised-steps <n> batches of the supervised model (default ${D.supervisedSteps})
  --groups <g>         SNAIL sample groups: balanced (support + query, default) or sliding (the method's windows)
  --update <u>         SNAIL updates: episode (one step per episode, default) or group (one step per group, the patent's)
  --optimizer <o>      adam (default) or sgd (momentum 0.9)
  --lr <x>             learning rate (default ${D.lr})
  --test-tasks <n>     meta-test tasks per setting (default ${D.testTasks})
  --resume             continue from the checkpoints in --out
  --backend <name>     wasm (default when available) or cpu
  --no-download        fail instead of downloading MIT-BIH when it is absent
  --help               this text
`;

/** Parsed command-line options. */
export interface MetaCliOptions extends ExperimentOptions {
  test: boolean;
  methods: MetaMethod[];
  settings: string | undefined;
  steps: number | undefined;
  supervisedSteps: number | undefined;
  groups: 'balanced' | 'sliding' | undefined;
  update: 'episode' | 'group' | undefined;
  optimizer: 'adam' | 'sgd' | undefined;
  lr: number | undefined;
  testTasks: number | undefined;
}

/** Parses `argv`; `null` means help was requested. */
export function parseOptions(argv: readonly string[]): MetaCliOptions | null {
  const spec = {
    'validation-only': { type: 'boolean' },
    methods: { type: 'string' },
    settings: { type: 'string' },
    steps: { type: 'string' },
    'supervised-steps': { type: 'string' },
    groups: { type: 'string' },
    update: { type: 'string' },
    optimizer: { type: 'string' },
    lr: { type: 'string' },
    'test-tasks': { type: 'string' },
  } as const;
  const v = parseFlags(argv, spec, HELP);
  if (v.help) return null;
  const methods = (v.methods ?? META_METHODS.join(','))
    .split(',')
    .map((m) => choice('methods', m, META_METHODS)!);
  const test = !(v['validation-only'] ?? false);
  if (v.record && !test) throw new UsageError('--record needs the meta-test (drop --validation-only)');
  return {
    ...experimentOptions(v, 'ecgnn-out/meta'),
    test,
    methods,
    settings: v.settings,
    steps: intOption('steps', v.steps, 1),
    supervisedSteps: intOption('supervised-steps', v['supervised-steps'], 1),
    groups: choice('groups', v.groups, ['balanced', 'sliding']),
    update: choice('update', v.update, ['episode', 'group']),
    optimizer: choice('optimizer', v.optimizer, ['adam', 'sgd']),
    lr: numberOption('lr', v.lr, (x) => x > 0),
    testTasks: intOption('test-tasks', v['test-tasks'], 2),
  };
}

/** Optional hooks of {@link main}. */
export interface MetaIo {
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Progress display (default 'lines'). */
  progress?: ProgressMode;
}

/** Runs the script with `argv`; returns the report (also `<out>/report.json`), or null after `--help`. */
export async function main(argv: readonly string[], io: MetaIo = {}): Promise<MetaReport | null> {
  const log = io.log ?? ((line: string) => console.log(line));
  const o = parseOptions(argv);
  if (o === null) {
    log(HELP);
    return null;
  }
  const start = await startScript(
    { ...o, script: SCRIPT, argv, needs: o.smoke ? null : 'mitdb', log },
    UsageError,
  );
  const { commit, command } = start;
  const settings = metaRunSettings(o.smoke, {
    settings: o.settings ? parseSettings(o.settings) : undefined,
    metaSteps: o.steps,
    supervisedSteps: o.supervisedSteps,
    groups: o.groups,
    update: o.update,
    optimizer: o.optimizer,
    lr: o.lr,
    testTasks: o.testTasks,
  });
  const splits = metaRunSplits({
    smoke: o.smoke,
    seed: o.seed,
    dataDir: start.dataDir,
    perRecordClass: settings.perRecordClass,
  });
  log(`ecgnn meta-learning${o.smoke ? ' (smoke run, synthetic)' : ''}: seed ${o.seed}, output ${o.out}`);
  const report = runMetaExperiment(
    splits,
    {
      settings,
      seed: o.seed,
      outDir: o.out,
      resume: o.resume,
      test: o.test,
      methods: o.methods,
      progress: io.progress ?? 'lines',
      log,
      provenance: { command, commit, date: new Date().toISOString().slice(0, 10) },
    },
    o.smoke ? 'synthetic' : 'mitdb',
  );
  await writeFileAtomic(join(o.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (o.record) recordRows(o.record, metaResultsRows(report), log);
  return report;
}

/** Loads a trained SNAIL from a checkpoint written by the experiment (e.g. `<out>/checkpoints/snail-best.ckpt`). */
export function loadSnail(file: string): Snail {
  const ck = loadCheckpoint(file);
  const model = new Snail(ck.model.config as unknown as SnailConfig);
  model.loadStateDict(ck.model.state);
  model.eval();
  return model;
}

/**
 * The deployment path: classifies new beats with a trained SNAIL and k labelled examples of each of M new
 * classes. `support` holds M·k beats (each `length` samples, standardised like the training beats) with labels
 * 0…M−1; every query beat is appended to the support sequence with a zero label slot and classified at the last
 * step. Returns the predicted label of each query.
 */
export function fewShotClassify(
  model: Snail,
  support: readonly Float32Array[],
  supportLabels: readonly number[],
  queries: readonly Float32Array[],
): number[] {
  const L = model.config.embedding.length;
  const T = support.length + 1;
  const ways = Math.max(...supportLabels) + 1;
  return noGrad(() =>
    queries.map((q) => {
      const x = new Float32Array(T * L);
      for (let i = 0; i < support.length; i++) x.set(support[i], i * L);
      x.set(q, (T - 1) * L);
      const logits = model.classify(tensor(x, [T, L]), [...supportLabels, -1], T).data;
      let best = 0;
      for (let c = 1; c < ways; c++) if (logits[c] > logits[best]) best = c;
      return best;
    }),
  );
}

runIfInvoked(import.meta.url, main, [UsageError]);
