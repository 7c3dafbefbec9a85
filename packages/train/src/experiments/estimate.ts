/**
 * How long an epoch of the distillation experiment takes on this machine, without training to the end: a few
 * timed optimizer steps of the teacher and of the student on the real training set, one timed validation pass
 * each, and for hard-example batches the re-scoring passes, extrapolated to one epoch.
 */
import { Generator, manualSeed, optim } from '@ecgnn/core';
import { createModel, type ModelConfig, parameterCount } from '@ecgnn/models';
import type { Dataset } from '../dataset.js';
import { evaluate, itemLosses } from '../evaluate.js';
import { DataLoader } from '../loader.js';
import type { SamplerSpec } from '../samplers.js';
import { Trainer } from '../trainer.js';
import {
  type DistillExperimentOptions,
  type DistillSettings,
  describeSampler,
  distillSettings,
  samplerSpec,
} from './distill-config.js';
import { loadDistillData } from './distill-data.js';

/** The estimate for one model. */
export interface EpochEstimate {
  /** Model config kind. */
  kind: string;
  /** Trainable parameters. */
  params: number;
  /** The batches. */
  sampler: string;
  /** Median seconds per optimizer step (after two warm-up steps). */
  stepSeconds: number;
  /** Optimizer steps per epoch. */
  stepsPerEpoch: number;
  /** Seconds of one validation pass. */
  validationSeconds: number;
  /** Seconds of the hard-example re-scoring per epoch (0 for other samplers). */
  scoringSeconds: number;
  /** stepSeconds · stepsPerEpoch + validationSeconds + scoringSeconds. */
  epochSeconds: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function estimateOne(
  config: ModelConfig,
  sampler: SamplerSpec,
  train: Dataset,
  validation: Dataset,
  settings: DistillSettings,
  steps: number,
  seed: number,
): EpochEstimate {
  manualSeed(seed);
  const model = createModel(config, { generator: new Generator(seed) });
  // Steps are timed on shuffled batches: the hard-example scoring is timed separately below.
  const loader = new DataLoader(train, {
    batchSize: settings.batchSize,
    sampler: { kind: 'shuffled' },
    seed,
    reuseBuffers: true,
  });
  const stamps: number[] = [];
  const trainer = new Trainer({
    model,
    optimizer: new optim.SGD(model.parameters(), { lr: settings.studentStage.lr, momentum: 0.9 }),
    train: loader,
    epochs: 1,
    maxSteps: steps + 2,
    progress: 'none',
    callbacks: [{ onStep: () => void stamps.push(performance.now()) }],
  });
  const t0 = performance.now();
  trainer.fit();
  const times = stamps.map((s, i) => s - (i === 0 ? t0 : stamps[i - 1])).slice(2);
  const stepSeconds = median(times) / 1000;
  let t = performance.now();
  evaluate(model, validation);
  const validationSeconds = (performance.now() - t) / 1000;
  const stepsPerEpoch = Math.ceil(train.count / settings.batchSize);
  let scoringSeconds = 0;
  if (sampler.kind === 'hard-example') {
    // Before batch b (b mod refreshEvery = 0) every item is scored.
    const every = sampler.refreshEvery ?? stepsPerEpoch;
    const items = Math.ceil(stepsPerEpoch / every) * train.count;
    const all = Int32Array.from({ length: train.count }, (_, i) => i);
    t = performance.now();
    itemLosses(model, train, all); // what the sampler's score (lossHardness) computes
    scoringSeconds = ((performance.now() - t) / 1000) * (items / train.count);
  }
  return {
    kind: config.kind,
    params: parameterCount(config),
    sampler: describeSampler(sampler, settings.batchSize),
    stepSeconds,
    stepsPerEpoch,
    validationSeconds,
    scoringSeconds,
    epochSeconds: stepSeconds * stepsPerEpoch + validationSeconds + scoringSeconds,
  };
}

/**
 * Estimates the epoch time of the teacher and of the student of the run `opts` describes (same data,
 * settings and samplers), timing `steps` optimizer steps of each. Reads no test data.
 */
export function estimateDistillEpochs(
  opts: Omit<DistillExperimentOptions, 'outDir' | 'provenance'>,
  steps = 10,
): { teacher: EpochEstimate; student: EpochEstimate } {
  const log = opts.log ?? ((line: string) => console.log(line));
  const settings = distillSettings(opts);
  const data = loadDistillData(opts.protocol ?? 'inter-patient', settings, {
    dataDir: opts.dataDir,
    smoke: opts.smoke ?? false,
  });
  const { train, validation } = data;
  const io = {
    length: train.inputs[0].shape[1],
    rrFeatures: train.inputs.length > 1 ? train.inputs[1].shape[0] : 0,
    classes: train.classes.length,
  };
  const teacherSampler = samplerSpec(
    opts.teacherSampler ?? opts.sampler ?? 'weighted',
    train.count,
    settings,
    opts.hardRefresh,
  );
  const studentSampler = samplerSpec(opts.sampler ?? 'weighted', train.count, settings);
  log(
    `estimating epoch times on ${train.count} training and ${validation.count} validation beats (${steps} timed steps each)`,
  );
  const teacher = estimateOne(
    { kind: 'resnet-teacher', ...io, ...settings.teacher },
    teacherSampler,
    train,
    validation,
    settings,
    steps,
    opts.seed,
  );
  const student = estimateOne(
    { kind: 'student', ...io, ...settings.student },
    studentSampler,
    train,
    validation,
    settings,
    steps,
    opts.seed + 1,
  );
  for (const [name, e] of [
    ['teacher', teacher],
    ['student', student],
  ] as const) {
    log(
      `${name} (${e.kind}, ${e.params} parameters, ${e.sampler}): ${(1000 * e.stepSeconds).toFixed(1)} ms per step × ${e.stepsPerEpoch} steps + validation ${e.validationSeconds.toFixed(1)} s${e.scoringSeconds > 0 ? ` + hard-example scoring ${e.scoringSeconds.toFixed(1)} s` : ''} ≈ ${e.epochSeconds.toFixed(0)} s per epoch`,
    );
  }
  return { teacher, student };
}
