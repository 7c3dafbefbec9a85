/**
 * What the lottery-ticket experiment prunes, as one interface over its two kinds of task:
 * - beat models (`teacher`, `student`): the distillation experiment's MIT-BIH beats, inter-patient DS1/DS2 split,
 *   its SGD recipe (lth-train.ts), scored by macro-F1 over N, S, V, F, exported by `exportClassifier`;
 * - the 17-class fragment model (`fragment`): the full-precision twin of the binary network (method 5's
 *   architecture, `bnn` with float weights) on the 10-second fragments of `mitbih17`, the bnn experiment's
 *   stratified split and Adam + cosine recipe (here with macro-F1 over the 17 classes selecting the epoch and
 *   scoring the rounds), exported by `exportBnn`.
 * The search, the control, the test pass, the report and the row (lth.ts) are the same for both.
 */
import { join } from 'node:path';
import { Generator, manualSeed, optim } from '@ecgnn/core';
import type { ExportedModel } from '@ecgnn/export';
import { type BinaryEcgNet, createModel, type EcgClassifier, type ModelConfig } from '@ecgnn/models';
import type { Dataset } from '../dataset.js';
import { evaluate } from '../evaluate.js';
import { exportClassifier } from '../export.js';
import { DataLoader } from '../loader.js';
import type { Metrics } from '../metrics.js';
import type { DatasetPreprocessing } from '../preprocess.js';
import type { RoundTraining, RoundTrainingInfo } from '../prune-search.js';
import { Trainer } from '../trainer.js';
import type { TrainResult } from '../trainer-options.js';
import { bnnVariantConfig } from './bnn.js';
import { loadBnnData } from './bnn-data.js';
import { exportBnn } from './bnn-export.js';
import { BnnSchedule } from './bnn-train.js';
import { describeSampler, samplerSpec } from './distill-config.js';
import { countsByName, loadDistillData } from './distill-data.js';
import type { LthExperimentOptions, LthModelName, LthSettings } from './lth-config.js';
import { reseedGenerators, trainLthRun } from './lth-train.js';
import { reloadFinishedRun, saveRunResult, startRunDir } from './run-dir.js';
import { SELECTION_METRIC_NAME } from './stage.js';

/** The data, model, training and scoring of one lottery-ticket experiment. */
export interface LthTask {
  /** `mitdb` or `mitbih17` (the row's dataset). */
  dataset: string;
  /** Protocol label of the row. */
  protocol: string;
  /** The split in words. */
  splitDescription: string;
  /** Records per split (empty lists where the split is not by record). */
  records: { train: string[]; validation: string[]; test: string[] };
  /** Training items. */
  train: Dataset;
  /** Validation items (the search's metric, epoch selection). */
  validation: Dataset;
  /** Loads the test items: once, after the search and the control. */
  loadTest(): Dataset;
  /** The model's config. */
  config: ModelConfig;
  /** The training recipe in words (progress line, report). */
  recipe: string;
  /** Name of the search's metric. */
  metricName: string;
  /** The search's metric in an evaluation's metrics: macro-F1 over N, S, V, F or over every class. */
  metricKey: 'subsetMacroF1' | 'macroF1';
  /** Trains `model` in place for one run of the search (fresh optimizer, same batch order every run). */
  trainRun(model: EcgClassifier, run: RoundTraining): RoundTrainingInfo;
  /** The model file's spec of a trained model (`sparse` false: every tensor stored dense). */
  exportSpec(model: EcgClassifier, label: string, sparse: boolean): ExportedModel;
  /** Items per class name. */
  counts(ds: Dataset): Record<string, number>;
  /** Batch-1 latency settings of the ticket's file in @ecgnn/infer. */
  latency: { perRun: number; runs: number };
}

/** Validation score of `model` under `task` (0 when the metric is undefined, e.g. no positive class). */
export function scoreLth(task: LthTask, model: EcgClassifier): number {
  return (evaluate(model, task.validation).metrics as Metrics)[task.metricKey] ?? 0;
}

/** Builds the task of `name` (loads training and validation data; the test split stays unread). */
export function lthTask(
  name: LthModelName,
  settings: LthSettings,
  opts: Pick<LthExperimentOptions, 'dataDir' | 'smoke' | 'seed' | 'progress' | 'provenance'> & {
    log: (line: string) => void;
  },
): LthTask {
  return name === 'fragment' ? fragmentTask(settings, opts) : beatTask(name, settings, opts);
}

function provenanceOf(
  task: Pick<LthTask, 'dataset' | 'protocol' | 'splitDescription'>,
  opts: Pick<LthExperimentOptions, 'seed' | 'provenance'>,
  label: string,
): Record<string, unknown> {
  return {
    method: 'lth',
    dataset: task.dataset,
    protocol: task.protocol,
    split: task.splitDescription,
    seed: opts.seed,
    round: label,
    ...opts.provenance,
  };
}

function beatTask(
  name: 'teacher' | 'student',
  settings: LthSettings,
  opts: Parameters<typeof lthTask>[2],
): LthTask {
  const data = loadDistillData('inter-patient', settings, {
    dataDir: opts.dataDir,
    smoke: opts.smoke ?? false,
  });
  const { train, validation } = data;
  const preprocessing = train.preprocessing as DatasetPreprocessing;
  const io = {
    length: train.inputs[0].shape[1],
    rrFeatures: train.inputs.length > 1 ? train.inputs[1].shape[0] : 0,
    classes: train.classes.length,
  };
  const config: ModelConfig =
    name === 'teacher'
      ? { kind: 'resnet-teacher', ...io, ...settings.teacher }
      : { kind: 'student', ...io, ...settings.student };
  const stage = name === 'teacher' ? settings.teacherStage : settings.studentStage;
  const sampler = samplerSpec('weighted', train.count, settings);
  const ctx = {
    train,
    validation,
    settings,
    stage,
    sampler,
    seed: opts.seed,
    progress: opts.progress ?? 'auto',
    log: opts.log,
  };
  const base = {
    dataset: 'mitdb',
    protocol: data.protocol,
    splitDescription: data.splitDescription,
  };
  return {
    ...base,
    records: data.records,
    train,
    validation,
    loadTest: data.loadTest,
    config,
    recipe: `${describeSampler(sampler, settings.batchSize)}; SGD lr ${stage.lr} momentum ${stage.momentum} weight decay ${stage.weightDecay}; at most ${stage.epochs} epochs per run`,
    metricName: SELECTION_METRIC_NAME,
    metricKey: 'subsetMacroF1',
    trainRun: (model, run) => trainLthRun(model, run, ctx),
    exportSpec: (model, label, sparse) =>
      exportClassifier(model, preprocessing, {
        classes: train.classes,
        name: `ecgnn-lth-${name}-${label}`,
        storage: sparse ? undefined : { sparse: false },
        provenance: provenanceOf(base, opts, label),
      }),
    counts: countsByName,
    latency: settings.latency,
  };
}

function fragmentTask(settings: LthSettings, opts: Parameters<typeof lthTask>[2]): LthTask {
  const fs = settings.fragment;
  const data = loadBnnData(17, 'stratified', fs, { dataDir: opts.dataDir, smoke: opts.smoke ?? false });
  const { train, validation } = data;
  const preprocessing = train.preprocessing as DatasetPreprocessing;
  const config = bnnVariantConfig('float', train.classes.length, train.inputs[0].shape[1], fs);
  const base = { dataset: data.dataset, protocol: data.protocol, splitDescription: data.splitDescription };
  const metricName = `validation macro-F1 over ${train.classes.length} classes`;
  const progress = opts.progress ?? 'auto';
  return {
    ...base,
    records: { train: [], validation: [], test: [] },
    train,
    validation,
    loadTest: data.loadTest,
    config,
    recipe: `shuffled batches of ${fs.batchSize}; Adam lr ${fs.lr} cosine-annealed to ${fs.lr * fs.lrFinalFactor}, weight decay ${fs.weightDecay}; ${fs.epochs} epochs per run, the epoch of the best validation macro-F1 kept`,
    metricName,
    metricKey: 'macroF1',
    trainRun: (model, run) =>
      trainFragmentRun(model as BinaryEcgNet, run, { train, validation }, fs, {
        seed: opts.seed,
        progress,
        log: opts.log,
      }),
    exportSpec: (model, label, sparse) =>
      exportBnn(model as BinaryEcgNet, preprocessing, {
        classes: train.classes,
        name: `ecgnn-lth-fragment-${label}`,
        provenance: provenanceOf(base, opts, label),
        storage: sparse ? undefined : { sparse: false },
      }),
    counts: countsByName,
    latency: fs.latency,
  };
}

/**
 * One run of the fragment model: the bnn experiment's recipe (Adam, cosine schedule, shuffled batches,
 * gradient clipping as set) on the model as the search hands it over, with the same batch order and reseeded
 * dropout every run; the epoch of the best validation macro-F1 is kept. A finished run is reloaded, a killed
 * one resumed (run-dir.ts).
 */
function trainFragmentRun(
  model: BinaryEcgNet,
  run: RoundTraining,
  data: { train: Dataset; validation: Dataset },
  fs: LthSettings['fragment'],
  ctx: { seed: number; progress: NonNullable<LthExperimentOptions['progress']>; log: (line: string) => void },
): RoundTrainingInfo {
  const { seed, log } = ctx;
  const dir = run.dir;
  const finished = reloadFinishedRun<TrainResult>(dir, model, run.resume);
  if (finished !== null) {
    log(`${run.label}: reloaded the finished run in ${dir}`);
    return { epochs: finished.history.length, steps: finished.steps };
  }
  const resuming = startRunDir(dir, run.resume);
  reseedGenerators(model, seed);
  const optimizer = new optim.Adam(model.parameters(), { lr: fs.lr, weightDecay: fs.weightDecay });
  const trainer = new Trainer({
    model,
    optimizer,
    train: new DataLoader(data.train, {
      batchSize: fs.batchSize,
      sampler: { kind: 'shuffled' },
      seed,
      reuseBuffers: true,
    }),
    validation: data.validation,
    epochs: fs.epochs,
    monitor: 'macroF1',
    scheduler: new BnnSchedule(optimizer, model, fs),
    gradClip: fs.gradClipNorm === null ? null : { maxNorm: fs.gradClipNorm },
    checkpointDir: dir,
    logFile: dir ? join(dir, 'train.jsonl') : null,
    progress: ctx.progress,
    callbacks: run.callbacks,
    describe: { run: run.label, round: run.round, attempt: run.attempt, seed },
  });
  if (resuming && dir) log(`${run.label}: resuming from ${join(dir, 'last.ckpt')}`);
  const result = resuming ? trainer.resume() : trainer.fit();
  saveRunResult(dir, result);
  return { epochs: result.history.length, steps: result.steps };
}

/** A fresh model of the task's config with seeded weights (`seed`), ready for the search or the control. */
export function createLthModel(task: LthTask, seed: number): EcgClassifier {
  manualSeed(seed);
  return createModel(task.config, { generator: new Generator(seed) });
}
