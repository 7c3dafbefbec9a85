/**
 * Reporting of the multi-scale attention experiment: the test metrics of a network in results-row form
 * (multi-label: per-label Se/PPV/F1 at the validation thresholds, macro-F1 over the labels with test windows,
 * micro-F1, exact match; single-label: `resultsMetrics` over all classes), the trivial baselines a network must
 * beat, and the agreement of @ecgnn/infer's outputs with core's.
 */
import { ValueError } from '@ecgnn/core';
import type { Dataset } from '../dataset.js';
import { classCounts } from '../dataset.js';
import { classificationMetrics, type Metrics } from '../metrics.js';
import { type MultiLabelMetrics, multiLabelMetrics } from '../multilabel.js';
import { type ResultsRow, resultsMetrics } from '../results.js';

/** The test metrics of a results row (`metrics` of docs/results.json). */
export function multiScaleRowMetrics(test: {
  metrics: Metrics | null;
  multiLabel: MultiLabelMetrics | null;
}): ResultsRow['metrics'] & Record<string, unknown> {
  if (test.metrics !== null) return resultsMetrics(test.metrics, 'all');
  const m = test.multiLabel as MultiLabelMetrics;
  const perClass: Record<
    string,
    { se: number | null; ppv: number | null; f1: number | null; support: number; threshold: number }
  > = {};
  for (const name of m.labels) {
    const l = m.perLabel[name];
    perClass[name] = { se: l.se, ppv: l.ppv, f1: l.f1, support: l.support, threshold: l.threshold };
  }
  return {
    // For multi-label rows "accuracy" is the exact-match ratio (whole label set right).
    accuracy: m.exactMatch,
    macroF1: m.macroF1,
    macroF1Classes: m.labels.filter((n) => m.perLabel[n].support > 0),
    jk: null,
    perClass,
    microF1: m.microF1,
    exactMatch: m.exactMatch,
  };
}

/** A trivial predictor's test macro-F1, in words and figures. */
export interface TrivialBaseline {
  /** What it predicts. */
  rule: string;
  /** Its test macro-F1 (over the same labels/classes as the networks'). */
  macroF1: number;
  /** Its test accuracy (single-label) or exact-match ratio (multi-label). */
  accuracy: number;
}

/**
 * The trivial baseline of a test set: multi-label — every label predicted present in every window
 * (F1_j = 2p_j / (1 + p_j) for prevalence p_j, the best constant predictor of each label's F1);
 * single-label — the most frequent training class for every item.
 */
export function trivialBaseline(train: Dataset, test: Dataset): TrivialBaseline {
  if (test.targets !== undefined && test.targetNames !== undefined) {
    const ones = new Float32Array(test.targets.length).fill(1);
    const m = multiLabelMetrics(ones, test.targets, test.targetNames, 0.5);
    return { rule: 'every label present in every window', macroF1: m.macroF1, accuracy: m.exactMatch };
  }
  const counts = classCounts(train);
  const majority = counts.indexOf(Math.max(...counts));
  const m = classificationMetrics(test.label, new Int32Array(test.count).fill(majority), test.classes);
  return {
    rule: `always ${train.classes[majority]} (most frequent training class)`,
    macroF1: m.macroF1,
    accuracy: m.accuracy,
  };
}

/** @ecgnn/infer's outputs against core's on a set of items. */
export interface MultiScaleAgreement {
  /** Items compared. */
  items: number;
  /** Items whose prediction differs: argmax (single-label) or the thresholded label set (multi-label). */
  disagreements: number;
  /** Largest |p_infer − p_core| over items and outputs. */
  maxAbsProbDiff: number;
}

/**
 * Compares infer's probabilities with core's (both row-major `[n, K]`): the largest difference, and the items
 * whose decision differs — the argmax when `thresholds` is null, else the set {j : p_j ≥ t_j}.
 */
export function compareProbabilities(
  inferProbs: ArrayLike<number>,
  coreProbs: ArrayLike<number>,
  K: number,
  thresholds: ArrayLike<number> | null,
): MultiScaleAgreement {
  if (inferProbs.length !== coreProbs.length || inferProbs.length % K !== 0) {
    throw new ValueError(
      `compareProbabilities: ${inferProbs.length} infer and ${coreProbs.length} core probabilities for ${K} outputs`,
    );
  }
  const n = inferProbs.length / K;
  let disagreements = 0;
  let maxAbsProbDiff = 0;
  for (let i = 0; i < n; i++) {
    let differs = false;
    let bi = 0;
    let bc = 0;
    for (let k = 0; k < K; k++) {
      const a = inferProbs[i * K + k];
      const b = coreProbs[i * K + k];
      maxAbsProbDiff = Math.max(maxAbsProbDiff, Math.abs(a - b));
      if (thresholds !== null) {
        if (a >= thresholds[k] !== b >= thresholds[k]) differs = true;
      } else {
        if (a > inferProbs[i * K + bi]) bi = k;
        if (b > coreProbs[i * K + bc]) bc = k;
      }
    }
    if (differs || (thresholds === null && bi !== bc)) disagreements++;
  }
  return { items: n, disagreements, maxAbsProbDiff };
}
