/**
 * Training one network of the binary-network experiment: Adam with cosine annealing of the learning rate, the
 * triangular estimator's sharpness raised on the same epoch counter (both restored from checkpoints), plain
 * shuffled batches and cross-entropy, the epoch with the best validation accuracy kept, checkpoints and a
 * JSON-lines log in the variant's directory, and resuming a killed run from them.
 */
import { join } from 'node:path';
import { Generator, manualSeed, nn, optim } from '@ecgnn/core';
import { type BinaryEcgNet, type BnnConfig, createModel } from '@ecgnn/models';
import type { Dataset } from '../dataset.js';
import { type Evaluation, evaluate } from '../evaluate.js';
import { DataLoader } from '../loader.js';
import type { ProgressMode } from '../progress.js';
import { Trainer } from '../trainer.js';
import type { TrainResult } from '../trainer-options.js';
import { type BnnSettings, sharpnessAt } from './bnn-config.js';
import { checkRunSettings, reloadFinishedRun, saveRunResult, startRunDir } from './run-dir.js';

/** The validation quantity that picks the kept epoch. */
export const BNN_SELECTION = 'accuracy';

/**
 * The learning-rate and sharpness schedule of a run, as one Trainer scheduler (stepped once per epoch):
 * lr_e by `optim.CosineAnnealingLR(E, lr·lrFinalFactor)`, and with the triangular estimator the sharpness
 * s_e of {@link sharpnessAt} set on every sign quantizer of the model. Its state is the epoch counter, so a
 * resumed run continues both schedules where they were.
 */
export class BnnSchedule {
  private readonly cosine: optim.CosineAnnealingLR;

  /** Attaches to `optimizer` and `model` and sets epoch 0's learning rate and sharpness. */
  constructor(
    optimizer: optim.Optimizer<optim.BaseOptions>,
    private readonly model: nn.AnyModule,
    private readonly settings: BnnSettings,
  ) {
    this.cosine = new optim.CosineAnnealingLR(
      optimizer,
      settings.epochs,
      settings.lr * settings.lrFinalFactor,
    );
    this.apply();
  }

  /** The sharpness of the current epoch (null with the clipped estimator). */
  get sharpness(): number | null {
    if (this.settings.estimator !== 'triangular') return null;
    return sharpnessAt(this.cosine.lastEpoch, this.settings.epochs, this.settings.sharpness);
  }

  private apply(): void {
    const s = this.sharpness;
    if (s !== null) nn.setQuantizerSharpness(this.model, s);
  }

  /** Advances to the next epoch. */
  step(): void {
    this.cosine.step();
    this.apply();
  }

  /** State for checkpoints (the cosine schedule's epoch counter and base rates). */
  stateDict(): optim.SchedulerStateDict {
    return this.cosine.stateDict();
  }

  /** Restores {@link BnnSchedule.stateDict}, learning rate and sharpness. */
  loadStateDict(sd: optim.SchedulerStateDict): void {
    this.cosine.loadStateDict(sd);
    this.apply();
  }
}

/** What one network is trained with. */
export interface BnnTrainSpec {
  /** Variant name (directory name, log prefix). */
  name: string;
  /** Model config (`createModel`). */
  config: BnnConfig;
  /** Seed of the initial weights, dropout and batch order. */
  seed: number;
  /** Checkpoints, `train.jsonl` and `result.json` go here. */
  dir: string;
}

/** A trained network. */
export interface BnnTrained {
  /** The model with the kept (best validation accuracy) weights, in evaluation mode. */
  model: BinaryEcgNet;
  /** The Trainer's result: history, best epoch, stop reason. */
  result: TrainResult;
  /** Validation evaluation of the kept weights. */
  validation: Evaluation;
  /** True when the model was reloaded from a finished earlier run (`resume`). */
  reused: boolean;
}

/** Trains one network (see the module comment). */
export function trainBnn(
  spec: BnnTrainSpec,
  data: { train: Dataset; validation: Dataset },
  settings: BnnSettings,
  ctx: { resume: boolean; progress: ProgressMode; log: (line: string) => void },
): BnnTrained {
  manualSeed(spec.seed);
  const model = createModel(spec.config, { generator: new Generator(spec.seed) }) as BinaryEcgNet;
  // What decides the trained weights (not the latency settings, which only time the export).
  const { latency: _latency, ...trainSettings } = settings;
  const runSettings = { config: spec.config, seed: spec.seed, settings: trainSettings };
  if (ctx.resume) checkRunSettings(spec.dir, runSettings);
  const finished = reloadFinishedRun<{ result: TrainResult }>(spec.dir, model, ctx.resume);
  if (finished !== null) {
    const { result } = finished;
    ctx.log(`${spec.name}: reloaded the finished run in ${spec.dir} (best epoch ${result.bestEpoch})`);
    return { model, result, validation: evaluate(model, data.validation), reused: true };
  }
  const resuming = startRunDir(spec.dir, ctx.resume);
  if (!resuming) checkRunSettings(spec.dir, runSettings);
  const optimizer = new optim.Adam(model.parameters(), {
    lr: settings.lr,
    weightDecay: settings.weightDecay,
  });
  const scheduler = new BnnSchedule(optimizer, model, settings);
  const trainer = new Trainer({
    model,
    optimizer,
    train: new DataLoader(data.train, {
      batchSize: settings.batchSize,
      sampler: { kind: 'shuffled' },
      seed: spec.seed,
      reuseBuffers: true,
      ...(settings.augment === null ? {} : { augment: settings.augment }),
    }),
    validation: data.validation,
    epochs: settings.epochs,
    monitor: BNN_SELECTION,
    scheduler,
    gradClip: settings.gradClipNorm === null ? null : { maxNorm: settings.gradClipNorm },
    checkpointDir: spec.dir,
    logFile: join(spec.dir, 'train.jsonl'),
    progress: ctx.progress,
    describe: { model: spec.name, config: spec.config, seed: spec.seed, settings },
  });
  if (resuming) ctx.log(`${spec.name}: resuming from ${join(spec.dir, 'last.ckpt')}`);
  const result = resuming ? trainer.resume() : trainer.fit();
  saveRunResult(spec.dir, { result });
  return { model, result, validation: evaluate(model, data.validation), reused: false };
}
