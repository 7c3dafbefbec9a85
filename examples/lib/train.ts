/**
 * Training and evaluation loops of the main job: seeded class-balanced mini-batches, Adam, cross-entropy,
 * model selection on a patient-wise validation split.
 */
import { crossEntropy, type nn, noGrad, optim, softmax, Tensor } from '@ecgnn/core';
import { weightedBatches } from '@ecgnn/data';
import { BEAT_LENGTH, type PreparedBeats, RR_COUNT } from './beats.js';
import { classificationMetrics, type Metrics } from './metrics.js';
import type { BeatNet } from './model.js';

/** AAMI class names in label order. */
export const CLASSES = ['N', 'S', 'V', 'F', 'Q'] as const;

/**
 * Share of each class in a training batch (N S V F Q). Rare classes are oversampled but not to full balance:
 * DS1 holds only 386 F (fusion) and 8 Q beats, and giving them a fifth of every batch each makes the model
 * memorise them and call many unseen patients' normal beats F or Q.
 */
export const CLASS_SHARES = [0.45, 0.25, 0.2, 0.08, 0.02] as const;

/** Options of {@link train}. */
export interface TrainOptions {
  /** Number of epochs. */
  epochs: number;
  /** Batches per epoch (sampled with replacement, class-balanced). */
  batchesPerEpoch: number;
  /** Batch size. */
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
  /** Decoupled weight decay (AdamW; 0 = plain Adam). */
  weightDecay: number;
  /** Seed of the batch sampler. */
  seed: number;
  /** Progress lines go here. */
  log: (line: string) => void;
}

/** One epoch's record. */
export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Validation macro-F1 over N, S, V, F (the model-selection criterion). */
  valMacroF1: number;
  /** Validation accuracy. */
  valAccuracy: number;
  /** Seconds since training started, at the end of this epoch. */
  seconds: number;
}

/** Result of {@link train}. */
export interface TrainResult {
  history: EpochRecord[];
  /** Epoch (1-based) whose weights were kept. */
  bestEpoch: number;
  /** Validation metrics of the kept weights. */
  bestValidation: Metrics;
  /** Training wall time in seconds (including per-epoch validation). */
  seconds: number;
}

/** Copies `count` rows of beats (by index) into batch tensors `[B, 1, L]` and `[B, R]` plus int32 labels. */
export function gatherBatch(
  data: PreparedBeats,
  index: ArrayLike<number>,
): { beat: Tensor; rr: Tensor; label: Tensor } {
  const B = index.length;
  const x = new Float32Array(B * BEAT_LENGTH);
  const rr = new Float32Array(B * RR_COUNT);
  const y = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const i = index[b];
    x.set(data.x.subarray(i * BEAT_LENGTH, (i + 1) * BEAT_LENGTH), b * BEAT_LENGTH);
    rr.set(data.rr.subarray(i * RR_COUNT, (i + 1) * RR_COUNT), b * RR_COUNT);
    y[b] = data.label[i];
  }
  return {
    beat: new Tensor(x, [B, 1, BEAT_LENGTH]),
    rr: new Tensor(rr, [B, RR_COUNT]),
    label: new Tensor(y, [B]),
  };
}

/**
 * Class probabilities of every beat with the model in evaluation mode (BatchNorm running statistics), in
 * chunks of `chunk` beats: a Float32Array `[count, classes]`. Restores the previous training mode.
 */
export function predictProbabilities(model: BeatNet, data: PreparedBeats, chunk = 512): Float32Array {
  const K = model.options.classes;
  const out = new Float32Array(data.count * K);
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      const idx = new Int32Array(chunk);
      for (let s = 0; s < data.count; s += chunk) {
        const n = Math.min(chunk, data.count - s);
        for (let j = 0; j < n; j++) idx[j] = s + j;
        const { beat, rr } = gatherBatch(data, idx.subarray(0, n));
        const p = softmax(model.call(beat, rr), 1);
        out.set(p.data as Float32Array, s * K);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return out;
}

/** Argmax of each row of a row-major `[n, k]` array (first maximum wins). */
export function argmaxRows(p: Float32Array, k: number): Int32Array {
  const n = p.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Evaluates the model on `data`: metrics plus the probabilities it computed. */
export function evaluate(model: BeatNet, data: PreparedBeats): { metrics: Metrics; probs: Float32Array } {
  const probs = predictProbabilities(model, data);
  const pred = argmaxRows(probs, model.options.classes);
  return { metrics: classificationMetrics(data.label, pred, CLASSES), probs };
}

/** Per-item sampling weights giving each class its {@link CLASS_SHARES} share of a batch. */
export function classShareWeights(labels: Int32Array): Float64Array {
  const counts = new Array<number>(CLASSES.length).fill(0);
  for (const l of labels) counts[l]++;
  const w = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) w[i] = CLASS_SHARES[labels[i]] / counts[labels[i]];
  return w;
}

/**
 * Trains `model` on `trainSet` with AdamW (cosine-decayed learning rate) and cross-entropy on class-balanced batches (see
 * {@link CLASS_SHARES}; sampler seeded with `seed + epoch`), evaluates on `valSet` after every epoch, and
 * keeps the weights of the epoch with the best validation macro-F1 over N, S, V, F.
 */
export function train(
  model: BeatNet,
  trainSet: PreparedBeats,
  valSet: PreparedBeats,
  opts: TrainOptions,
): TrainResult {
  const optimizer = new optim.AdamW(model.parameters(), { lr: opts.lr, weightDecay: opts.weightDecay });
  // Cosine decay of the learning rate over all batches, to lr/50 (stepped per batch).
  const schedule = new optim.CosineAnnealingLR(optimizer, opts.epochs * opts.batchesPerEpoch, opts.lr / 50);
  const weights = classShareWeights(trainSet.label);
  const history: EpochRecord[] = [];
  const t0 = performance.now();
  let best: { epoch: number; score: number; state: nn.StateDict; metrics: Metrics } | null = null;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    model.train();
    let lossSum = 0;
    let b = 0;
    for (const index of weightedBatches(
      weights,
      opts.batchSize,
      opts.batchesPerEpoch,
      opts.seed * 1000 + epoch,
    )) {
      const { beat, rr, label } = gatherBatch(trainSet, index);
      optimizer.zeroGrad();
      const loss = crossEntropy(model.call(beat, rr), label);
      loss.backward();
      optimizer.step();
      schedule.step();
      lossSum += loss.item();
      b++;
      if (b % 25 === 0 && b < opts.batchesPerEpoch) {
        const s = ((performance.now() - t0) / 1000).toFixed(0);
        opts.log(
          `  epoch ${epoch} batch ${b}/${opts.batchesPerEpoch}  loss ${(lossSum / b).toFixed(4)}  ${s} s`,
        );
      }
    }
    const { metrics } = evaluate(model, valSet);
    const score = metrics.subsetMacroF1 ?? metrics.macroF1;
    const seconds = (performance.now() - t0) / 1000;
    history.push({ epoch, loss: lossSum / b, valMacroF1: score, valAccuracy: metrics.accuracy, seconds });
    const isBest = best === null || score > best.score;
    if (isBest) best = { epoch, score, state: model.stateDict(), metrics };
    opts.log(
      `epoch ${epoch}/${opts.epochs}  loss ${(lossSum / b).toFixed(4)}  val macro-F1(NSVF) ${(100 * score).toFixed(1)} %  ` +
        `val acc ${(100 * metrics.accuracy).toFixed(1)} %  ${seconds.toFixed(0)} s${isBest ? '  (best so far)' : ''}`,
    );
  }
  if (best === null) throw new RangeError('train: epochs must be at least 1');
  model.loadStateDict(best.state);
  model.eval();
  return {
    history,
    bestEpoch: best.epoch,
    bestValidation: best.metrics,
    seconds: (performance.now() - t0) / 1000,
  };
}
