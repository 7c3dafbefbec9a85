/**
 * One beat model trained on its own (`ecgnn train`): the distillation experiment's data, recipe and final check,
 * for any beat classifier of @ecgnn/models.
 * 1. data: MIT-BIH beats, inter-patient (DS1 with the patient-wise validation split of `loadDistillData`; DS2 read
 *    once, after training);
 * 2. the model trained by `trainStage` (SGD with momentum, weighted batches, ReduceLROnPlateau, early stopping on a
 *    validation-loss plateau, the epoch of the best validation macro-F1 over N, S, V, F kept; checkpoints and
 *    `--resume` in `<outDir>/<model>/`), with the teacher's SGD settings for the teacher and the students' for the
 *    compact models;
 * 3. the test split evaluated once, the model exported to `<outDir>/<model>.ecgnn`, reloaded in @ecgnn/infer,
 *    compared with core and timed (`exportBeatModel`).
 * No result row is written: the rows of these architectures come from the method experiments.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { layerCount, type ModelConfig, parameterCount } from '@ecgnn/models';
import { evaluate } from '../evaluate.js';
import { formatMetrics } from '../format.js';
import type { Metrics } from '../metrics.js';
import type { DatasetPreprocessing } from '../preprocess.js';
import type { ProgressMode } from '../progress.js';
import type { TrainResult } from '../trainer-options.js';
import {
  type BeatModelExport,
  beatIO,
  beatProvenance,
  exportBeatModel,
  majorityBaseline,
} from './beat-export.js';
import {
  type DistillExperimentOptions,
  type DistillSamplerName,
  type DistillSettings,
  describeSampler,
  distillSettings,
  type StageSettings,
  samplerSpec,
} from './distill-config.js';
import { countsByName, loadDistillData } from './distill-data.js';
import { SELECTION_METRIC_NAME, type StageContext, type StageSpec, trainStage } from './stage.js';

/** The beat models `ecgnn train` trains, by name. */
export const TRAIN_MODELS = ['teacher', 'student', 'beatnet', 'mobilenet'] as const;
/** One of {@link TRAIN_MODELS}. */
export type TrainModelName = (typeof TRAIN_MODELS)[number];

/** The @ecgnn/models kind of each of {@link TRAIN_MODELS}. */
export const TRAIN_MODEL_KINDS: Readonly<Record<TrainModelName, string>> = {
  teacher: 'resnet-teacher',
  student: 'student',
  beatnet: 'beatnet',
  mobilenet: 'mobilenet',
};

/**
 * Architectures of the models the distillation settings do not hold (full run, smoke run). BeatNet and
 * MobileNet1d take @ecgnn/models' defaults (BeatNet: the main job's model; MobileNet1d: 5 depthwise-separable
 * blocks of 32–128 channels); the smoke variants are a few hundred parameters.
 */
export const TRAIN_ARCHITECTURES: Readonly<
  Record<'beatnet' | 'mobilenet', { full: Record<string, unknown>; smoke: Record<string, unknown> }>
> = {
  beatnet: { full: {}, smoke: { channels: [4, 8], kernels: [5, 3] } },
  mobilenet: { full: {}, smoke: { stem: 4, channels: [8, 8], strides: [1, 2] } },
};

/**
 * The config of model `name` for beats of `io` (window length, RR features, classes): the distillation
 * settings' teacher or student, else {@link TRAIN_ARCHITECTURES}.
 */
export function trainModelConfig(
  name: TrainModelName,
  io: { length: number; rrFeatures: number; classes: number },
  settings: DistillSettings,
  smoke: boolean,
): ModelConfig {
  const kind = TRAIN_MODEL_KINDS[name];
  if (name === 'teacher') return { kind, ...io, ...settings.teacher };
  if (name === 'student') return { kind, ...io, ...settings.student };
  return { kind, ...io, ...TRAIN_ARCHITECTURES[name][smoke ? 'smoke' : 'full'] };
}

/** Options of {@link runTrainExperiment}. */
export interface TrainExperimentOptions {
  /** The model to train. */
  model: TrainModelName;
  /** Directory holding `mitdb/` (default: @ecgnn/data's `dataDir()`). */
  dataDir?: string;
  /** Output: checkpoints and log in `<outDir>/<model>/`, the model file `<outDir>/<model>.ecgnn`. */
  outDir: string;
  /** Seed of the initial weights, dropout and batch order. */
  seed: number;
  /** Smoke run (tests): the distillation smoke settings and records; never a result. */
  smoke?: boolean;
  /** Most epochs (default: the stage's, 30 for the teacher, 60 for the others; early stopping). */
  epochs?: number;
  /** Batches (default weighted). */
  sampler?: DistillSamplerName;
  /** Continue from the checkpoints in `<outDir>/<model>/` (a finished run is reloaded, a killed one resumed). */
  resume?: boolean;
  /** Progress display of the Trainer (default 'auto'). */
  progress?: ProgressMode;
  /** The command, commit and date written into the model file's provenance. */
  provenance: DistillExperimentOptions['provenance'];
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

/** The report of {@link runTrainExperiment}. */
export interface TrainReport {
  /** The model's name and config (complete). */
  model: TrainModelName;
  config: ModelConfig;
  /** Trainable parameters and weight layers. */
  params: number;
  layers: number;
  /** Smoke run (not a result). */
  smoke: boolean;
  /** Protocol and split in words. */
  protocol: string;
  split: string;
  /** Run seed. */
  seed: number;
  /** Command, commit, date. */
  provenance: TrainExperimentOptions['provenance'];
  /** The batches, in words. */
  sampler: string;
  /** SGD and stopping settings. */
  optimizer: StageSettings;
  /** How the kept weights were chosen, in words. */
  selectedBy: string;
  /** Records and class counts per split. */
  data: {
    records: { train: string[]; validation: string[]; test: string[] };
    counts: Record<'train' | 'validation' | 'test', Record<string, number>>;
  };
  /** Training: history, best epoch, stop reason, seconds per epoch, whether reloaded from a finished run. */
  training: { result: TrainResult; epochsRun: number; secondsPerEpoch: number | null; reused: boolean };
  /** Validation metrics of the kept weights (what chose the epoch). */
  validation: Metrics;
  /** Test metrics of the core model (the test split read once, after training). */
  test: Metrics;
  /** Predicting the most frequent training class for every test item. */
  baseline: { className: string; metrics: Metrics };
  /** The exported model file, checked in @ecgnn/infer. */
  export: BeatModelExport;
  /** Wall times (s). */
  timings: Record<string, number>;
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/** Trains, tests and exports one model (see the module comment). */
export function runTrainExperiment(opts: TrainExperimentOptions): TrainReport {
  const log = opts.log ?? ((line: string) => console.log(line));
  const smoke = opts.smoke ?? false;
  const name = opts.model;
  const settings = distillSettings({ smoke });
  const base = name === 'teacher' ? settings.teacherStage : settings.studentStage;
  const stage: StageSettings = { ...base, epochs: opts.epochs ?? base.epochs };
  const timings: Record<string, number> = {};
  const tStart = performance.now();
  mkdirSync(opts.outDir, { recursive: true });

  // 1. Training and validation data; the test split stays unread.
  let t = performance.now();
  const data = loadDistillData('inter-patient', settings, { dataDir: opts.dataDir, smoke });
  const { train, validation } = data;
  timings.loadTrainValidation = seconds(t);
  log(`${data.protocol}${smoke ? ' (smoke run: not a result)' : ''}: ${data.splitDescription}`);
  log(`training ${train.count} beats ${JSON.stringify(countsByName(train))}`);
  log(`validation ${validation.count} beats ${JSON.stringify(countsByName(validation))}`);
  const preprocessing = train.preprocessing as DatasetPreprocessing;
  const config = trainModelConfig(name, beatIO(train), settings, smoke);

  // 2. The model, trained to its best validation epoch.
  const spec: StageSpec = {
    name,
    config,
    stage,
    sampler: samplerSpec(opts.sampler ?? 'weighted', train.count, settings),
    seed: opts.seed,
    dir: join(opts.outDir, name),
  };
  const ctx: StageContext = {
    train,
    validation,
    settings,
    resume: opts.resume ?? false,
    progress: opts.progress ?? 'auto',
    log,
  };
  const sampler = describeSampler(spec.sampler, settings.batchSize);
  log(
    `${name}: ${config.kind}, ${parameterCount(config)} parameters, ${layerCount(config)} weight layers; ${sampler}; SGD lr ${stage.lr} momentum ${stage.momentum} weight decay ${stage.weightDecay}; at most ${stage.epochs} epochs`,
  );
  t = performance.now();
  const outcome = trainStage(spec, ctx);
  timings.train = seconds(t);
  const r = outcome.result;
  const plateau =
    stage.stopOn === 'selection' ? `plateau of the ${SELECTION_METRIC_NAME}` : 'validation-loss plateau';
  const selectedBy = `epoch ${r.bestEpoch} by ${SELECTION_METRIC_NAME}; early stopping on a ${plateau} (patience ${stage.patience})`;
  const validationMetrics = outcome.validation.metrics as Metrics;
  log(
    `${name}: kept epoch ${r.bestEpoch} of ${r.history.length} (${r.stopReason}), ${SELECTION_METRIC_NAME} ${(validationMetrics.subsetMacroF1 ?? Number.NaN).toFixed(4)} on ${validation.count} validation beats`,
  );

  // 3. The test split, read once; the model evaluated, exported, reloaded in infer, compared and timed.
  t = performance.now();
  const test = data.loadTest();
  log(`test ${test.count} beats ${JSON.stringify(countsByName(test))} (read once, now)`);
  const baseline = majorityBaseline(train, test);
  const ev = evaluate(outcome.model, test);
  const m = ev.metrics as Metrics;
  const exported = exportBeatModel(outcome.model, test, ev, {
    file: join(opts.outDir, `${name}.ecgnn`),
    preprocessing,
    name: `ecgnn-train-${name}`,
    provenance: beatProvenance('train', data, opts.seed, opts.provenance, m),
    latency: settings.latency,
  });
  timings.evaluateExport = seconds(t);
  log(`\n${name} on the test split:\n${formatMetrics(m)}`);
  log(
    `${name}: exported ${exported.file} (${exported.bytes} bytes); @ecgnn/infer agrees with core on ${(100 * exported.agreement).toFixed(3)} % (max |Δp| ${exported.maxAbsProbDiff.toExponential(2)})`,
  );
  timings.total = seconds(tStart);
  return {
    model: name,
    config: outcome.model.config,
    params: outcome.model.numParameters(),
    layers: layerCount(config),
    smoke,
    protocol: data.protocol,
    split: data.splitDescription,
    seed: opts.seed,
    provenance: opts.provenance,
    sampler,
    optimizer: stage,
    selectedBy,
    data: {
      records: data.records,
      counts: { train: countsByName(train), validation: countsByName(validation), test: countsByName(test) },
    },
    training: {
      result: r,
      epochsRun: r.history.length,
      secondsPerEpoch: r.history.length > 0 ? r.seconds / r.history.length : null,
      reused: outcome.reused,
    },
    validation: validationMetrics,
    test: m,
    baseline,
    export: exported,
    timings,
  };
}
