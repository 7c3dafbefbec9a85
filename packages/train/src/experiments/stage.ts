/**
 * One model of an experiment trained to its best validation epoch: SGD with momentum, a batch sampler, the
 * Trainer keeping the weights of the best validation macro-F1 (N, S, V, F) and stopping on a validation-loss
 * plateau, checkpoints and a JSON-lines log in the model's directory, and resuming a killed run from them.
 * {@link searchStage} repeats it over a small grid and keeps the trial with the best validation macro-F1.
 */
import { join } from 'node:path';
import { EcgnnError, Generator, manualSeed, optim, type Tensor } from '@ecgnn/core';
import { createModel, type EcgClassifier, type ModelConfig } from '@ecgnn/models';
import type { Dataset } from '../dataset.js';
import { type Evaluation, evaluate, lossHardness } from '../evaluate.js';
import { type Batch, DataLoader } from '../loader.js';
import type { ProgressMode } from '../progress.js';
import type { SamplerSpec } from '../samplers.js';
import { hyperparameterSearch, type SearchSpace, type Trial } from '../search.js';
import { Trainer } from '../trainer.js';
import type { TrainResult } from '../trainer-options.js';
import type { DistillSettings, StageSettings } from './distill-config.js';
import { reloadFinishedRun, saveRunResult, startRunDir } from './run-dir.js';

/** The validation quantity that picks each model's epoch (and search trial). */
export const SELECTION_METRIC = 'subsetMacroF1';
/** {@link SELECTION_METRIC} in words. */
export const SELECTION_METRIC_NAME = 'validation macro-F1 over N, S, V, F';

/** What one model is trained with. */
export interface StageSpec {
  /** Model name (directory name, log prefix). */
  name: string;
  /** Model config (`createModel`). */
  config: ModelConfig;
  /** SGD and stopping settings. */
  stage: StageSettings;
  /** Batch sampler. */
  sampler: SamplerSpec;
  /** Seed of the initial weights, dropout and batch order. */
  seed: number;
  /** Loss of a batch (default cross-entropy against the labels). */
  loss?: (logits: Tensor, batch: Batch) => Tensor;
  /** Checkpoints, `train.jsonl` and `result.json` go here. */
  dir: string;
  /** Recorded in the training log's start line. */
  describe?: Record<string, unknown>;
}

/** Shared options of the stages of a run. */
export interface StageContext {
  /** Training items. */
  train: Dataset;
  /** Validation items. */
  validation: Dataset;
  /** Run settings (batch size, LR plateau, clipping). */
  settings: DistillSettings;
  /** Reload a finished model, or resume a killed one, from `dir`. */
  resume: boolean;
  /** Progress display of the Trainer. */
  progress: ProgressMode;
  /** Progress lines. */
  log: (line: string) => void;
}

/** A trained model. */
export interface StageOutcome {
  /** The model with the kept (best validation) weights, in evaluation mode. */
  model: EcgClassifier;
  /** The Trainer's result: history, best epoch, stop reason. */
  result: TrainResult;
  /** Validation evaluation of the kept weights. */
  validation: Evaluation;
  /** Resident set size (MiB) at the end of each epoch trained by this process. */
  rssMB: number[];
  /** True when the model was reloaded from a finished earlier run (`resume`). */
  reused: boolean;
}

interface SavedResult {
  result: TrainResult;
  rssMB: number[];
}

/** Trains one model (see the module comment). */
export function trainStage(spec: StageSpec, ctx: StageContext): StageOutcome {
  const { train, validation, settings } = ctx;
  manualSeed(spec.seed);
  const model = createModel(spec.config, { generator: new Generator(spec.seed) });
  const saved = reloadFinishedRun<SavedResult>(spec.dir, model, ctx.resume);
  if (saved !== null) {
    ctx.log(`${spec.name}: reloaded the finished run in ${spec.dir} (best epoch ${saved.result.bestEpoch})`);
    return { model, ...saved, validation: evaluate(model, validation), reused: true };
  }
  const resuming = startRunDir(spec.dir, ctx.resume);
  const optimizer = new optim.SGD(model.parameters(), {
    lr: spec.stage.lr,
    momentum: spec.stage.momentum,
    weightDecay: spec.stage.weightDecay,
  });
  const loader = new DataLoader(train, {
    batchSize: settings.batchSize,
    sampler: spec.sampler,
    seed: spec.seed,
    score: spec.sampler.kind === 'hard-example' ? lossHardness(model, train) : undefined,
    reuseBuffers: true,
  });
  const rssMB: number[] = [];
  const trainer = new Trainer({
    model,
    optimizer,
    train: loader,
    validation,
    epochs: spec.stage.epochs,
    loss: spec.loss,
    monitor: SELECTION_METRIC,
    earlyStopping: {
      patience: spec.stage.patience,
      minDelta: spec.stage.minDelta,
      monitor: spec.stage.stopOn === 'selection' ? SELECTION_METRIC : 'loss',
    },
    scheduler: new optim.ReduceLROnPlateau(optimizer, {
      mode: 'max',
      factor: settings.plateauLr.factor,
      patience: settings.plateauLr.patience,
    }),
    gradClip: { maxNorm: settings.gradClipNorm },
    checkpointDir: spec.dir,
    checkpointEvery: settings.checkpointEvery,
    logFile: join(spec.dir, 'train.jsonl'),
    progress: ctx.progress,
    callbacks: [
      {
        onEpochEnd: () => {
          rssMB.push(process.memoryUsage().rss / 2 ** 20);
          return undefined;
        },
      },
    ],
    describe: { model: spec.name, config: spec.config, seed: spec.seed, ...spec.describe },
  });
  if (resuming) ctx.log(`${spec.name}: resuming from ${join(spec.dir, 'last.ckpt')}`);
  const result = resuming ? trainer.resume() : trainer.fit();
  saveRunResult(spec.dir, { result, rssMB } satisfies SavedResult);
  return { model, result, rssMB, validation: evaluate(model, validation), reused: false };
}

/** The hyper-parameters a search varies. */
export interface StageSearchParams {
  /** Learning rate. */
  lr: number;
  /** Distillation temperature (distilled student only). */
  temperature?: number;
}

/** One search trial as reported. */
export interface StageTrial {
  /** The hyper-parameters tried. */
  params: StageSearchParams;
  /** Its validation macro-F1 (null when it failed). */
  score: number | null;
  /** Its best epoch. */
  bestEpoch: number | null;
  /** Seconds it took. */
  seconds: number;
  /** Error message of a failed trial. */
  error?: string;
}

/**
 * Trains one model per point of `space` (grid, in `base.dir/trial-<k>`), each scored by its
 * {@link SELECTION_METRIC_NAME}, and returns the best with every trial's score. `make` turns the
 * hyper-parameters into a stage spec. The test split is not involved.
 */
export function searchStage(
  base: StageSpec,
  space: SearchSpace<StageSearchParams>,
  make: (params: StageSearchParams, dir: string) => StageSpec,
  ctx: StageContext,
): { best: StageOutcome; params: StageSearchParams; trials: StageTrial[] } {
  const outcomes = new Map<number, StageOutcome>();
  const search = hyperparameterSearch<StageSearchParams>({
    space,
    logFile: join(base.dir, 'search.jsonl'),
    objective: (params, trial) => {
      const outcome = trainStage(make(params, join(base.dir, `trial-${trial}`)), ctx);
      outcomes.set(trial, outcome);
      const score = outcome.validation.metrics?.subsetMacroF1 ?? Number.NaN;
      ctx.log(
        `${base.name} trial ${trial} ${JSON.stringify(params)}: ${SELECTION_METRIC_NAME} ${score.toFixed(4)}`,
      );
      return { score, bestEpoch: outcome.result.bestEpoch };
    },
  });
  const best: Trial<StageSearchParams> | null = search.best;
  if (best === null) throw new EcgnnError(`${base.name}: every search trial failed`);
  const trials = search.trials.map((t) => ({
    params: t.params,
    score: t.score,
    bestEpoch: (t.details.bestEpoch as number | undefined) ?? null,
    seconds: t.seconds,
    ...(typeof t.details.error === 'string' ? { error: t.details.error } : {}),
  }));
  // Keep only the chosen trial's model (the others' checkpoints stay in their directories).
  return { best: outcomes.get(best.trial) as StageOutcome, params: best.params, trials };
}
