/**
 * Training one network of the multi-scale attention experiment: Adam with cosine annealing of the learning rate,
 * shuffled batches, binary cross-entropy on logits (multi-label; optional balanced positive weights) or
 * cross-entropy (single-label), the epoch with the best validation macro-F1 kept (multi-label: at threshold 0.5),
 * then — multi-label — each label's threshold chosen on the validation split (`selectThresholds`). Checkpoints
 * and a JSON-lines log go to the network's directory; a killed run resumes from them.
 */
import { join } from 'node:path';
import { binaryCrossEntropyWithLogits, Generator, manualSeed, optim, Tensor } from '@ecgnn/core';
import { createModel, type EcgClassifier, type ModelConfig } from '@ecgnn/models';
import type { Dataset } from '../dataset.js';
import { type Evaluation, evaluate, isMultiLabel, predict } from '../evaluate.js';
import { type Batch, DataLoader } from '../loader.js';
import { selectThresholds } from '../multilabel.js';
import type { ProgressMode } from '../progress.js';
import { Trainer } from '../trainer.js';
import type { TrainResult } from '../trainer-options.js';
import type { MultiScaleSettings } from './multiscale-config.js';
import { reloadFinishedRun, saveRunResult, startRunDir } from './run-dir.js';

/** The validation quantity that picks the kept epoch (multi-label: macro-F1 at threshold 0.5). */
export const MULTISCALE_SELECTION = 'macroF1';

/**
 * Balanced positive weights of the binary cross-entropy: pw_j = min(cap, N⁻_j / N⁺_j) over the training items
 * (1 for a label without positive items), so each label's positives weigh as much as its negatives.
 */
export function balancedPosWeight(ds: Dataset, cap: number): Float32Array {
  if (ds.targets === undefined || ds.targetNames === undefined) {
    throw new TypeError('balancedPosWeight: the dataset has no multi-label targets');
  }
  const L = ds.targetNames.length;
  const pw = new Float32Array(L);
  for (let j = 0; j < L; j++) {
    let pos = 0;
    for (let i = 0; i < ds.count; i++) pos += ds.targets[i * L + j];
    pw[j] = pos > 0 ? Math.min(cap, (ds.count - pos) / pos) : 1;
  }
  return pw;
}

/** What one network is trained with. */
export interface MultiScaleTrainSpec {
  /** Network name (directory name, log prefix). */
  name: string;
  /** Model config (`createModel`). */
  config: ModelConfig;
  /** Seed of the initial weights, dropout and batch order. */
  seed: number;
  /** Epochs. */
  epochs: number;
  /** Checkpoints, `train.jsonl` and `result.json` go here. */
  dir: string;
}

/** A trained network. */
export interface MultiScaleTrained {
  /** The model with the kept weights, in evaluation mode. */
  model: EcgClassifier;
  /** The Trainer's result: history, best epoch, stop reason. */
  result: TrainResult;
  /** Per-label thresholds chosen on validation (null for single-label data). */
  thresholds: Float64Array | null;
  /** Validation evaluation of the kept weights (multi-label: at the chosen thresholds). */
  validation: Evaluation;
  /** Positive weights of the loss (null: none, or single-label). */
  posWeight: Float32Array | null;
  /** True when the model was reloaded from a finished earlier run (`resume`). */
  reused: boolean;
}

/** Thresholds on validation (multi-label) and the validation evaluation at them. */
function validate(
  model: EcgClassifier,
  validation: Dataset,
): { thresholds: Float64Array | null; evaluation: Evaluation } {
  if (!isMultiLabel(validation)) return { thresholds: null, evaluation: evaluate(model, validation) };
  const p = predict(model, validation);
  const L = (validation.targetNames as string[]).length;
  const thresholds = selectThresholds(p.probs, validation.targets as Float32Array, L);
  return { thresholds, evaluation: evaluate(model, validation, { thresholds }) };
}

/** Trains one network (see the module comment). */
export function trainMultiScaleNetwork(
  spec: MultiScaleTrainSpec,
  data: { train: Dataset; validation: Dataset },
  settings: MultiScaleSettings,
  ctx: { resume: boolean; progress: ProgressMode; log: (line: string) => void },
): MultiScaleTrained {
  manualSeed(spec.seed);
  const model = createModel(spec.config, { generator: new Generator(spec.seed) });
  const multi = isMultiLabel(data.train);
  const posWeight =
    multi && settings.posWeight === 'balanced' ? balancedPosWeight(data.train, settings.posWeightCap) : null;
  const finished = reloadFinishedRun<{ result: TrainResult }>(spec.dir, model, ctx.resume);
  if (finished !== null) {
    const { result } = finished;
    ctx.log(`${spec.name}: reloaded the finished run in ${spec.dir} (best epoch ${result.bestEpoch})`);
    const v = validate(model, data.validation);
    return { model, result, thresholds: v.thresholds, validation: v.evaluation, posWeight, reused: true };
  }
  const resuming = startRunDir(spec.dir, ctx.resume);
  const optimizer = new optim.Adam(model.parameters(), {
    lr: settings.lr,
    weightDecay: settings.weightDecay,
  });
  const pw = posWeight === null ? null : new Tensor(posWeight, [posWeight.length]);
  const trainer = new Trainer({
    model,
    optimizer,
    train: new DataLoader(data.train, {
      batchSize: settings.batchSize,
      sampler: { kind: 'shuffled' },
      seed: spec.seed,
      reuseBuffers: true,
    }),
    validation: data.validation,
    epochs: spec.epochs,
    monitor: MULTISCALE_SELECTION,
    scheduler: new optim.CosineAnnealingLR(optimizer, spec.epochs, settings.lr * settings.lrFinalFactor),
    ...(pw === null
      ? {}
      : {
          loss: (logits: Tensor, batch: Batch) =>
            binaryCrossEntropyWithLogits(logits, batch.target as Tensor, { posWeight: pw }),
        }),
    checkpointDir: spec.dir,
    logFile: join(spec.dir, 'train.jsonl'),
    progress: ctx.progress,
    describe: { model: spec.name, config: spec.config, seed: spec.seed, settings },
  });
  if (resuming) ctx.log(`${spec.name}: resuming from ${join(spec.dir, 'last.ckpt')}`);
  const result = resuming ? trainer.resume() : trainer.fit();
  saveRunResult(spec.dir, { result });
  model.eval();
  const v = validate(model, data.validation);
  return { model, result, thresholds: v.thresholds, validation: v.evaluation, posWeight, reused: false };
}
