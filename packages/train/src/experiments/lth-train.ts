/**
 * One training run of the lottery-ticket experiment — the dense model, a pruned round or the control — on a
 * model the search hands over (its weights and masks as they are): the distillation stage's recipe (SGD with
 * momentum and weight decay, weighted batches, the Trainer keeping the epoch of the best validation macro-F1
 * over N, S, V, F, early stopping on a validation-loss plateau, LR plateau, gradient clipping) with a fresh
 * optimizer, the same batch order and reseeded dropout every run, so rounds differ only by their weights and
 * masks and a resumed search repeats an uninterrupted one. Checkpoints, `train.jsonl` and `result.json` go to
 * the run's directory; a finished run is reloaded from it, a killed one resumed.
 */
import { join } from 'node:path';
import { Generator, manualSeed, type nn, optim } from '@ecgnn/core';
import type { EcgClassifier } from '@ecgnn/models';
import type { Dataset } from '../dataset.js';
import { lossHardness } from '../evaluate.js';
import { DataLoader } from '../loader.js';
import type { ProgressMode } from '../progress.js';
import type { RoundTraining, RoundTrainingInfo } from '../prune-search.js';
import type { SamplerSpec } from '../samplers.js';
import { Trainer } from '../trainer.js';
import type { TrainResult } from '../trainer-options.js';
import type { StageSettings } from './distill-config.js';
import type { LthSettings } from './lth-config.js';
import { reloadFinishedRun, saveRunResult, startRunDir } from './run-dir.js';
import { SELECTION_METRIC } from './stage.js';

/** What every run of an experiment shares. */
export interface LthTrainContext {
  /** Training items. */
  train: Dataset;
  /** Validation items. */
  validation: Dataset;
  /** Run settings (batch size, LR plateau, clipping). */
  settings: LthSettings;
  /** SGD and stopping settings of the model. */
  stage: StageSettings;
  /** Batches. */
  sampler: SamplerSpec;
  /** Seed of batch order and dropout. */
  seed: number;
  /** Progress display of the Trainer. */
  progress: ProgressMode;
  /** Progress lines. */
  log: (line: string) => void;
}

/** What a run reports (kept in `result.json`). */
export interface LthRunInfo extends RoundTrainingInfo {
  /** The Trainer's result. */
  result: TrainResult;
  /** True when a finished run was reloaded. */
  reused: boolean;
}

/**
 * Reseeds every random generator a run draws from — the global one and each module's (dropout) — from
 * `seed`, so a run's random numbers do not depend on what ran before it in the process.
 */
export function reseedGenerators(model: nn.AnyModule, seed: number): void {
  manualSeed(seed);
  const seen = new Set<Generator>();
  for (const [, m] of model.namedModules()) {
    const g = (m as { generator?: unknown }).generator;
    if (g instanceof Generator && !seen.has(g)) {
      seen.add(g);
      g.manualSeed(seed + 1 + seen.size);
    }
  }
}

/** Trains `model` in place for one run of the search (see the module comment). */
export function trainLthRun(model: EcgClassifier, run: RoundTraining, ctx: LthTrainContext): LthRunInfo {
  const { settings, stage } = ctx;
  const dir = run.dir;
  const result = reloadFinishedRun<TrainResult>(dir, model, run.resume);
  if (result !== null) {
    ctx.log(`${run.label}: reloaded the finished run in ${dir}`);
    return { result, reused: true, epochs: result.history.length, steps: result.steps };
  }
  const resuming = startRunDir(dir, run.resume);
  reseedGenerators(model, ctx.seed);
  const optimizer = new optim.SGD(model.parameters(), {
    lr: stage.lr,
    momentum: stage.momentum,
    weightDecay: stage.weightDecay,
  });
  const loader = new DataLoader(ctx.train, {
    batchSize: settings.batchSize,
    sampler: ctx.sampler,
    seed: ctx.seed,
    score: ctx.sampler.kind === 'hard-example' ? lossHardness(model, ctx.train) : undefined,
    reuseBuffers: true,
  });
  const trainer = new Trainer({
    model,
    optimizer,
    train: loader,
    validation: ctx.validation,
    epochs: stage.epochs,
    monitor: SELECTION_METRIC,
    earlyStopping: {
      patience: stage.patience,
      minDelta: stage.minDelta,
      monitor: stage.stopOn === 'selection' ? SELECTION_METRIC : 'loss',
    },
    scheduler: new optim.ReduceLROnPlateau(optimizer, {
      mode: 'max',
      factor: settings.plateauLr.factor,
      patience: settings.plateauLr.patience,
    }),
    gradClip: { maxNorm: settings.gradClipNorm },
    checkpointDir: dir,
    logFile: dir ? join(dir, 'train.jsonl') : null,
    progress: ctx.progress,
    callbacks: run.callbacks,
    describe: { run: run.label, round: run.round, attempt: run.attempt, seed: ctx.seed },
  });
  if (resuming && dir) ctx.log(`${run.label}: resuming from ${join(dir, 'last.ckpt')}`);
  const trained = resuming ? trainer.resume() : trainer.fit();
  saveRunResult(dir, trained);
  return { result: trained, reused: false, epochs: trained.history.length, steps: trained.steps };
}
