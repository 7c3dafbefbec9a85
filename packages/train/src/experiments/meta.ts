/**
 * The meta-learning experiment (method 2, patent CN109700434A; issue #25) end to end:
 * 1. data (meta-data.ts): meta-training, validation and meta-test beats with no class and no record shared
 *    between meta-training and meta-testing;
 * 2. three models on the same embedding CNN, each trained by `runMetaLoop` with the checkpoint chosen on fixed
 *    validation tasks: SNAIL over episode sample groups, a prototypical network, and a supervised classifier
 *    of the meta-training classes (for the fine-tuning baseline);
 * 3. the meta-test (only with `test`): the same ≥ 1,000 tasks per M-way k-shot setting for the three methods,
 *    mean accuracy with a 95 % interval over tasks, and the results rows `meta/<method>-<M>way-<k>shot`.
 */
import { join } from 'node:path';
import { Generator } from '@ecgnn/core';
import { EcgEmbeddingCnn, Snail } from '@ecgnn/models';
import type { ResultsRow } from '../results.js';
import {
  META_METHODS,
  type MetaExperimentOptions,
  type MetaMethod,
  type MetaSettings,
  snailConfigOf,
} from './meta-config.js';
import { type MetaSplits, metaClassCounts } from './meta-data.js';
import { type FewShotSetting, type FewShotTask, meanCi95, sampleTasks } from './meta-episodes.js';
import { evaluateFinetune, evaluateProto, evaluateSnail, type TaskScore } from './meta-eval.js';
import {
  type MetaLoopResult,
  metaOptimizer,
  protoStep,
  runMetaLoop,
  snailStep,
  supervisedModel,
  supervisedStep,
} from './meta-train.js';

/** Figures of one method in one setting. */
export interface MetaSettingScore extends FewShotSetting {
  /** Mean task accuracy. */
  accuracy: number;
  /** 95 % half-width of the mean accuracy. */
  ci95: number;
  /** Mean task macro-F1. */
  macroF1: number;
  /** Tasks evaluated. */
  tasks: number;
  /** Milliseconds per task (core, this machine). */
  msPerTask: number;
}

/** The report of a run. */
export interface MetaReport {
  /** Settings used. */
  settings: MetaSettings;
  /** Seed. */
  seed: number;
  /** Dataset label ('mitdb' or 'synthetic'). */
  dataset: string;
  /** Classes and beats per split. */
  data: Record<'train' | 'validation' | 'test', Record<string, number>>;
  /** Trainable parameters per method (finetune: the embedding, without the per-task head). */
  params: Partial<Record<MetaMethod, number>>;
  /** Training outcome per method (the fine-tuning baseline's supervised model under 'finetune'). */
  training: Partial<Record<MetaMethod, MetaLoopResult>>;
  /** Validation scores of the chosen checkpoints, per method and setting. */
  validation: Partial<Record<MetaMethod, MetaSettingScore[]>>;
  /** Meta-test scores (absent unless `test`). */
  test: Partial<Record<MetaMethod, MetaSettingScore[]>> | null;
  /** Command, commit, date. */
  provenance: MetaExperimentOptions['provenance'];
}

function countParams(m: { parameters(): Iterable<{ size: number }> }): number {
  let n = 0;
  for (const p of m.parameters()) n += p.size;
  return n;
}

/** Summarises per-task scores. */
function summarise(setting: FewShotSetting, scores: TaskScore[], ms: number): MetaSettingScore {
  const acc = meanCi95(scores.map((s) => s.accuracy));
  const f1 = scores.reduce((a, s) => a + s.macroF1, 0) / Math.max(1, scores.length);
  return { ...setting, accuracy: acc.mean, ci95: acc.ci95, macroF1: f1, tasks: scores.length, msPerTask: ms };
}

type Evaluator = (tasks: FewShotTask[]) => TaskScore[];

function scoreAll(settings: FewShotSetting[], tasks: FewShotTask[][], ev: Evaluator): MetaSettingScore[] {
  return settings.map((s, i) => {
    const t0 = performance.now();
    const scores = ev(tasks[i]);
    return summarise(s, scores, (performance.now() - t0) / Math.max(1, tasks[i].length));
  });
}

const mean = (xs: MetaSettingScore[]): number => xs.reduce((a, s) => a + s.accuracy, 0) / xs.length;

/** Runs the experiment on `splits` (see the module comment). */
export function runMetaExperiment(
  splits: MetaSplits,
  o: MetaExperimentOptions,
  dataset = 'mitdb',
): MetaReport {
  const s = o.settings;
  const length = splits.train.length;
  const ck = join(o.outDir, 'checkpoints');
  const valTasks = s.settings.map((st, i) =>
    sampleTasks(
      splits.validation,
      st,
      s.evalQueries,
      s.validationTasks,
      new Generator(o.seed * 7919 + 101 + i),
    ),
  );
  const report: MetaReport = {
    settings: s,
    seed: o.seed,
    dataset,
    data: {
      train: metaClassCounts(splits.train),
      validation: metaClassCounts(splits.validation),
      test: o.test ? metaClassCounts(splits.test) : {},
    },
    params: {},
    training: {},
    validation: {},
    test: null,
    provenance: o.provenance,
  };
  const evaluators: Partial<Record<MetaMethod, (set: MetaSplits['test']) => Evaluator>> = {};
  const common = { steps: s.metaSteps, validateEvery: s.validateEvery, checkpointDir: ck, resume: o.resume };
  const loopLog = { progress: o.progress, log: o.log };
  if (o.methods.includes('snail')) {
    const init = new Generator(o.seed);
    const model = new Snail(snailConfigOf(s, length), { generator: init });
    const opt = metaOptimizer(s, model);
    const episodes = new Generator(o.seed * 7919 + 1);
    const ev =
      (set: MetaSplits['test']): Evaluator =>
      (t) =>
        evaluateSnail(model, set, t);
    report.params.snail = countParams(model);
    report.training.snail = runMetaLoop({
      name: 'snail',
      model,
      optimizer: opt,
      ...common,
      ...loopLog,
      generators: { init, episodes },
      step: () => snailStep(model, opt, splits.train, s, episodes),
      validate: () => mean(scoreAll(s.settings, valTasks, ev(splits.validation))),
    });
    report.validation.snail = scoreAll(s.settings, valTasks, ev(splits.validation));
    evaluators.snail = ev;
  }
  if (o.methods.includes('protonet')) {
    const init = new Generator(o.seed + 1);
    const embed = new EcgEmbeddingCnn({ ...s.embedding, length }, { generator: init });
    const opt = metaOptimizer(s, embed);
    const episodes = new Generator(o.seed * 7919 + 2);
    const ev =
      (set: MetaSplits['test']): Evaluator =>
      (t) =>
        evaluateProto(embed, set, t);
    report.params.protonet = countParams(embed);
    report.training.protonet = runMetaLoop({
      name: 'protonet',
      model: embed,
      optimizer: opt,
      ...common,
      ...loopLog,
      generators: { init, episodes },
      step: () => protoStep(embed, opt, splits.train, s, episodes),
      validate: () => mean(scoreAll(s.settings, valTasks, ev(splits.validation))),
    });
    report.validation.protonet = scoreAll(s.settings, valTasks, ev(splits.validation));
    evaluators.protonet = ev;
  }
  if (o.methods.includes('finetune')) {
    const init = new Generator(o.seed + 2);
    const embed = new EcgEmbeddingCnn({ ...s.embedding, length }, { generator: init });
    const model = supervisedModel(embed, splits.train.classes.length, init);
    const opt = metaOptimizer(s, model);
    const batches = new Generator(o.seed * 7919 + 3);
    const ev =
      (set: MetaSplits['test']): Evaluator =>
      (t) =>
        evaluateFinetune(embed, set, t, s.finetune);
    report.params.finetune = countParams(embed);
    report.training.finetune = runMetaLoop({
      name: 'supervised',
      model,
      optimizer: opt,
      ...common,
      steps: s.supervisedSteps,
      ...loopLog,
      generators: { init, batches },
      step: () => supervisedStep(model, opt, splits.train, s.supervisedBatch, batches),
      validate: () => mean(scoreAll(s.settings, valTasks, ev(splits.validation))),
    });
    report.validation.finetune = scoreAll(s.settings, valTasks, ev(splits.validation));
    evaluators.finetune = ev;
  }
  for (const m of META_METHODS) {
    const v = report.validation[m];
    if (v)
      o.log(
        `validation ${m}: ${v.map((x) => `${x.ways}w${x.shots}s ${(100 * x.accuracy).toFixed(1)}%`).join(', ')}`,
      );
  }
  if (o.test) {
    // The meta-test set is read here, once, after every choice was made on validation.
    const testTasks = s.settings.map((st, i) =>
      sampleTasks(splits.test, st, s.evalQueries, s.testTasks, new Generator(o.seed * 7919 + 1001 + i)),
    );
    report.test = {};
    for (const m of META_METHODS) {
      const ev = evaluators[m];
      if (!ev) continue;
      report.test[m] = scoreAll(s.settings, testTasks, ev(splits.test));
      o.log(
        `test ${m}: ${report.test[m]!.map((x) => `${x.ways}w${x.shots}s ${(100 * x.accuracy).toFixed(2)} ± ${(100 * x.ci95).toFixed(2)}%`).join(', ')}`,
      );
    }
  }
  return report;
}

/** The protocol of the rows. */
export const META_PROTOCOL =
  'few-shot episodes: meta-test classes a, J, e, j, E, f on records 102 104 113 124 201 202 207 210 217 222 223 234, disjoint in classes and records from meta-training';

/** The results rows `meta/<method>-<M>way-<k>shot` of a report with test figures (none without). */
export function metaResultsRows(r: MetaReport): ResultsRow[] {
  if (!r.test) return [];
  const rows: ResultsRow[] = [];
  for (const m of META_METHODS) {
    for (const x of r.test[m] ?? []) {
      rows.push({
        id: `meta/${m}-${x.ways}way-${x.shots}shot`,
        method: 'meta',
        dataset: r.dataset,
        protocol: META_PROTOCOL,
        split: 'test',
        metrics: { accuracy: x.accuracy, macroF1: x.macroF1, jk: null, perClass: {} },
        params: r.params[m] ?? 0,
        bytes: 0,
        inferMsPerSample: 0,
        seed: r.seed,
        command: r.provenance.command,
        commit: r.provenance.commit,
        date: r.provenance.date,
        ways: x.ways,
        shots: x.shots,
        ci95: x.ci95,
        episodes: x.tasks,
        queriesPerClass: r.settings.evalQueries,
        coreMsPerTask: x.msPerTask,
        note: 'no exported model file (bytes, inferMsPerSample 0): SNAIL and ProtoNet run in @ecgnn/core only; coreMsPerTask is core time per task',
      });
    }
  }
  return rows;
}
