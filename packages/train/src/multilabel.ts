/**
 * Multi-label metrics (several conditions present at once, sigmoid outputs; method 4): per-label
 * sensitivity, positive predictivity and F1 at per-label thresholds, macro- and micro-F1, and the choice of
 * each label's threshold on the validation split (never on the test split).
 */
import { ValueError } from '@ecgnn/core';

/** Metrics of one label. Ratios are null when undefined (0/0). */
export interface LabelMetrics {
  /** Sensitivity TP / (TP + FN). */
  se: number | null;
  /** Positive predictivity TP / (TP + FP). */
  ppv: number | null;
  /** F1 = 2TP / (2TP + FP + FN); null when the label is absent from every item. */
  f1: number | null;
  /** Items with the label (TP + FN). */
  support: number;
  /** True positives. */
  tp: number;
  /** False positives. */
  fp: number;
  /** False negatives. */
  fn: number;
  /** True negatives. */
  tn: number;
  /** Threshold used: the label is predicted present when its probability is ≥ it. */
  threshold: number;
}

/** Metrics of a multi-label evaluation. */
export interface MultiLabelMetrics {
  /** Label names, in column order. */
  labels: string[];
  /** Number of items. */
  count: number;
  /** Mean F1 over the labels present in at least one item (0 if none is). */
  macroF1: number;
  /** F1 of the pooled counts: 2ΣTP / (2ΣTP + ΣFP + ΣFN) (0 when all counts are 0). */
  microF1: number;
  /** Fraction of items whose whole predicted label set equals the true one ("exact match"). */
  exactMatch: number;
  /** Per-label metrics by label name. */
  perLabel: Record<string, LabelMetrics>;
}

function checkShapes(
  op: string,
  probs: ArrayLike<number>,
  targets: ArrayLike<number>,
  nLabels: number,
): number {
  if (!Number.isInteger(nLabels) || nLabels < 1)
    throw new ValueError(`${op}: need at least one label, got ${nLabels}`);
  if (probs.length % nLabels !== 0) {
    throw new ValueError(`${op}: ${probs.length} probabilities are not a multiple of ${nLabels} labels`);
  }
  if (targets.length !== probs.length) {
    throw new ValueError(`${op}: ${targets.length} targets for ${probs.length} probabilities`);
  }
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] !== 0 && targets[i] !== 1) {
      throw new ValueError(
        `${op}: target ${i} (item ${Math.floor(i / nLabels)}, label ${i % nLabels}) is ${targets[i]}, not 0 or 1`,
      );
    }
  }
  return probs.length / nLabels;
}

function thresholdsOf(op: string, thresholds: number | ArrayLike<number>, nLabels: number): number[] {
  const t =
    typeof thresholds === 'number' ? new Array<number>(nLabels).fill(thresholds) : Array.from(thresholds);
  if (t.length !== nLabels) throw new ValueError(`${op}: ${t.length} thresholds for ${nLabels} labels`);
  for (let j = 0; j < nLabels; j++) {
    if (!Number.isFinite(t[j])) throw new ValueError(`${op}: threshold of label ${j} is ${t[j]}`);
  }
  return t;
}

/**
 * Multi-label metrics of probabilities `probs` (row-major `[n, labels]`) against 0/1 `targets` of the same
 * layout; label j is predicted present when `probs[i, j] ≥ thresholds[j]` (one number applies to all labels).
 */
export function multiLabelMetrics(
  probs: ArrayLike<number>,
  targets: ArrayLike<number>,
  labels: readonly string[],
  thresholds: number | ArrayLike<number> = 0.5,
): MultiLabelMetrics {
  const op = 'multiLabelMetrics';
  const L = labels.length;
  const n = checkShapes(op, probs, targets, L);
  const t = thresholdsOf(op, thresholds, L);
  const tp = new Array<number>(L).fill(0);
  const fp = new Array<number>(L).fill(0);
  const fn = new Array<number>(L).fill(0);
  let exact = 0;
  for (let i = 0; i < n; i++) {
    let same = true;
    for (let j = 0; j < L; j++) {
      const pred = probs[i * L + j] >= t[j];
      const truth = targets[i * L + j] === 1;
      if (pred && truth) tp[j]++;
      else if (pred) fp[j]++;
      else if (truth) fn[j]++;
      if (pred !== truth) same = false;
    }
    if (same) exact++;
  }
  const perLabel: Record<string, LabelMetrics> = {};
  const f1s: number[] = [];
  let sTp = 0;
  let sFp = 0;
  let sFn = 0;
  for (let j = 0; j < L; j++) {
    const support = tp[j] + fn[j];
    const f1 = support > 0 ? (2 * tp[j]) / (2 * tp[j] + fp[j] + fn[j]) : null;
    if (f1 !== null) f1s.push(f1);
    sTp += tp[j];
    sFp += fp[j];
    sFn += fn[j];
    perLabel[labels[j]] = {
      se: support > 0 ? tp[j] / support : null,
      ppv: tp[j] + fp[j] > 0 ? tp[j] / (tp[j] + fp[j]) : null,
      f1,
      support,
      tp: tp[j],
      fp: fp[j],
      fn: fn[j],
      tn: n - tp[j] - fp[j] - fn[j],
      threshold: t[j],
    };
  }
  const microDen = 2 * sTp + sFp + sFn;
  return {
    labels: [...labels],
    count: n,
    macroF1: f1s.length > 0 ? f1s.reduce((a, b) => a + b, 0) / f1s.length : 0,
    microF1: microDen > 0 ? (2 * sTp) / microDen : 0,
    exactMatch: n > 0 ? exact / n : 0,
    perLabel,
  };
}

/**
 * Per-label thresholds maximising each label's F1 on a validation set (`probs`, `targets` row-major
 * `[n, nLabels]`). Exact: for each label, the items are sorted by probability (descending) and every cut
 * between two distinct probabilities is scored, F1 = 2·TP / (k + P) when the top k items are called present
 * (P = items with the label). The threshold is the midpoint of the two probabilities at the best cut (the
 * lowest probability when calling every item present is best); ties go to the higher threshold. A label
 * without positive items keeps `fallback` (default 0.5).
 */
export function selectThresholds(
  probs: ArrayLike<number>,
  targets: ArrayLike<number>,
  nLabels: number,
  fallback = 0.5,
): Float64Array {
  const op = 'selectThresholds';
  const n = checkShapes(op, probs, targets, nLabels);
  const out = new Float64Array(nLabels).fill(fallback);
  const order = new Int32Array(n);
  for (let j = 0; j < nLabels; j++) {
    let positives = 0;
    for (let i = 0; i < n; i++) {
      order[i] = i;
      positives += targets[i * nLabels + j];
      if (!Number.isFinite(probs[i * nLabels + j])) {
        throw new ValueError(`${op}: probability of item ${i}, label ${j} is ${probs[i * nLabels + j]}`);
      }
    }
    if (positives === 0) continue;
    order.sort((a, b) => probs[b * nLabels + j] - probs[a * nLabels + j]);
    let tp = 0;
    let bestF1 = -1;
    for (let k = 1; k <= n; k++) {
      const item = order[k - 1];
      tp += targets[item * nLabels + j];
      const here = probs[item * nLabels + j];
      const next = k < n ? probs[order[k] * nLabels + j] : Number.NEGATIVE_INFINITY;
      if (next === here) continue; // not a cut: the next item has the same probability
      const f1 = (2 * tp) / (k + positives);
      if (f1 > bestF1) {
        bestF1 = f1;
        out[j] = k < n ? (here + next) / 2 : here;
      }
    }
  }
  return out;
}
