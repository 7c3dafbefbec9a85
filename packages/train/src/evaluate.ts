/**
 * Evaluation: a model's outputs over a whole dataset in evaluation mode (no dropout, BatchNorm running
 * statistics, no gradients), the mean loss, and the metrics — single-label (softmax, argmax, one confusion
 * matrix) or multi-label (sigmoid, per-label thresholds).
 */
import {
  binaryCrossEntropyWithLogits,
  crossEntropy,
  mean,
  type nn,
  noGrad,
  sigmoid,
  softmax,
  type Tensor,
  tidy,
} from '@ecgnn/core';
import type { Dataset } from './dataset.js';
import { type Batch, DataLoader } from './loader.js';
import { argmaxRows, classificationMetrics, type Metrics, type MetricsOptions } from './metrics.js';
import { type MultiLabelMetrics, multiLabelMetrics } from './multilabel.js';
import type { HardnessScore } from './samplers.js';

/** Runs the model on a batch: `model.call(...batch.inputs)` → logits `[B, classes]`. */
export function forwardBatch(model: nn.AnyModule, batch: Batch): Tensor {
  return model.call(...batch.inputs) as Tensor;
}

/**
 * Cross-entropy of each row of `logits` ([B, K], row-major) against its label: ℓ_i = log Σ_k exp z_ik − z_{i,y_i},
 * with the row maximum subtracted before exp (the log-sum-exp identity), written into `out` (length ≥ B).
 */
export function itemCrossEntropy(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  out: Float64Array,
): Float64Array {
  const B = labels.length;
  for (let i = 0; i < B; i++) {
    const o = i * classes;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[o + k]);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[o + k] - max);
    out[i] = max + Math.log(sum) - logits[o + labels[i]];
  }
  return out;
}

/** Whether a dataset is multi-label (has targets). */
export function isMultiLabel(ds: Dataset): boolean {
  return ds.targets !== undefined && ds.targetNames !== undefined;
}

/** The default loss: cross-entropy on class indices, or binary cross-entropy on logits for multi-label. */
export function defaultLoss(logits: Tensor, batch: Batch): Tensor {
  return batch.target !== null
    ? binaryCrossEntropyWithLogits(logits, batch.target)
    : crossEntropy(logits, batch.label);
}

/** Options of {@link predict} and {@link evaluate}. */
export interface EvaluateOptions {
  /** Items per forward pass (default 512). */
  batchSize?: number;
  /** Metric options (macro-F1 subset, jκ classes). */
  metrics?: MetricsOptions;
  /** Multi-label thresholds (default 0.5), one per label or one for all. */
  thresholds?: number | ArrayLike<number>;
}

/** Model outputs over a dataset. */
export interface Predictions {
  /** Logits, row-major `[count, outputs]`. */
  logits: Float32Array;
  /** Probabilities: softmax over the classes, or per-label sigmoid for multi-label. */
  probs: Float32Array;
  /** Outputs per item. */
  outputs: number;
  /** Mean loss ({@link defaultLoss}) over the items. */
  loss: number;
}

/**
 * The model's logits and probabilities for every item of `ds`, in evaluation mode (the previous training
 * mode is restored), with the mean loss. Intermediates are recycled per chunk (`tidy`).
 */
export function predict(model: nn.AnyModule, ds: Dataset, opts: EvaluateOptions = {}): Predictions {
  const loader = new DataLoader(ds, {
    batchSize: opts.batchSize ?? 512,
    sampler: { kind: 'sequential' },
    reuseBuffers: true,
  });
  const multi = isMultiLabel(ds);
  const wasTraining = model.training;
  model.eval();
  let logits = new Float32Array(0);
  let probs = new Float32Array(0);
  let outputs = 0;
  let lossSum = 0;
  try {
    noGrad(() => {
      for (const batch of loader.epoch(0)) {
        const first = batch.index[0];
        const r = tidy(() => {
          const z = forwardBatch(model, batch);
          const p = multi ? sigmoid(z) : softmax(z, 1);
          return { z, p, loss: defaultLoss(z, batch).item() };
        });
        if (outputs === 0) {
          outputs = r.z.shape[1];
          logits = new Float32Array(ds.count * outputs);
          probs = new Float32Array(ds.count * outputs);
        }
        logits.set(r.z.data, first * outputs);
        probs.set(r.p.data, first * outputs);
        lossSum += r.loss * batch.size;
        r.z.dispose();
        r.p.dispose();
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { logits, probs, outputs, loss: lossSum / ds.count };
}

/** Result of {@link evaluate}. */
export interface Evaluation {
  /** Single-label metrics (null for a multi-label dataset). */
  metrics: Metrics | null;
  /** Multi-label metrics (null for a single-label dataset). */
  multiLabel: MultiLabelMetrics | null;
  /** Mean loss. */
  loss: number;
  /** The predictions the metrics were computed from. */
  predictions: Predictions;
}

/** Evaluates `model` on `ds`: predictions, mean loss and metrics (see {@link Evaluation}). */
export function evaluate(model: nn.AnyModule, ds: Dataset, opts: EvaluateOptions = {}): Evaluation {
  const predictions = predict(model, ds, opts);
  if (isMultiLabel(ds)) {
    const names = ds.targetNames as string[];
    return {
      metrics: null,
      multiLabel: multiLabelMetrics(
        predictions.probs,
        ds.targets as Float32Array,
        names,
        opts.thresholds ?? 0.5,
      ),
      loss: predictions.loss,
      predictions,
    };
  }
  const pred = argmaxRows(predictions.probs, predictions.outputs);
  return {
    metrics: classificationMetrics(ds.label, pred, ds.classes, opts.metrics),
    multiLabel: null,
    loss: predictions.loss,
    predictions,
  };
}

/** Names of the validation quantities a run can monitor (early stopping, best checkpoint). */
export type MonitorName = 'loss' | 'accuracy' | 'macroF1' | 'subsetMacroF1' | 'kappa' | 'jk' | 'microF1';

/** The monitored value of an evaluation (null when undefined, e.g. jκ without S or V beats). */
export function monitoredValue(e: Evaluation, name: MonitorName): number | null {
  if (name === 'loss') return e.loss;
  if (e.multiLabel !== null) {
    if (name === 'macroF1') return e.multiLabel.macroF1;
    if (name === 'microF1') return e.multiLabel.microF1;
    return null;
  }
  const m = e.metrics as Metrics;
  switch (name) {
    case 'accuracy':
      return m.accuracy;
    case 'macroF1':
      return m.macroF1;
    case 'subsetMacroF1':
      return m.subsetMacroF1;
    case 'kappa':
      return m.kappa;
    case 'jk':
      return m.jk;
    default:
      return null;
  }
}

/**
 * Per-item losses of the items `indices` of `ds` under `model` in evaluation mode (cross-entropy against the
 * label, or the mean binary cross-entropy over the labels for multi-label data), in `indices` order.
 */
export function itemLosses(
  model: nn.AnyModule,
  ds: Dataset,
  indices: Int32Array,
  opts: { batchSize?: number } = {},
): Float32Array {
  const out = new Float32Array(indices.length);
  if (indices.length === 0) return out;
  const loader = new DataLoader(ds, { batchSize: opts.batchSize ?? 512, reuseBuffers: true });
  const bs = loader.batchSize;
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let s = 0; s < indices.length; s += bs) {
        const batch = loader.collate(indices.subarray(s, Math.min(indices.length, s + bs)));
        const l = tidy(() => {
          const z = forwardBatch(model, batch);
          return batch.target !== null
            ? mean(binaryCrossEntropyWithLogits(z, batch.target, { reduction: 'none' }), 1)
            : crossEntropy(z, batch.label, { reduction: 'none' });
        });
        out.set(l.data, s);
        l.dispose();
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return out;
}

/**
 * The hardness score of the hard-example sampler (distillation method, claim 7): an item's loss under the
 * model as it is when the sampler re-scores — how far its prediction is from its label.
 */
export function lossHardness(
  model: nn.AnyModule,
  ds: Dataset,
  opts: { batchSize?: number } = {},
): HardnessScore {
  return (indices) => itemLosses(model, ds, indices, opts);
}
