/**
 * Classification metrics from one confusion matrix: accuracy, per-class sensitivity, positive predictivity,
 * specificity and F1, macro-F1 (over all classes with true items, and over a chosen subset such as the
 * AAMI N, S, V, F), Cohen's κ and the jκ index of the inter-patient arrhythmia literature.
 */
import { ValueError } from '@ecgnn/core';

/** Metrics of one class; a ratio is `null` when undefined (0/0). */
export interface ClassMetrics {
  /** Sensitivity (recall) TP / (TP + FN); null without true items of the class. */
  se: number | null;
  /** Positive predictivity (precision) TP / (TP + FP); null when nothing is predicted as the class. */
  ppv: number | null;
  /** Specificity TN / (TN + FP); null when every item is of the class. */
  spec: number | null;
  /**
   * F1 = 2TP / (2TP + FP + FN) (= 2·Se·PPV / (Se + PPV) when both are defined, and 0 when TP = 0);
   * null without true items of the class.
   */
  f1: number | null;
  /** True items of the class (TP + FN). */
  support: number;
  /** Items predicted as the class (TP + FP). */
  predicted: number;
  /** True positives. */
  tp: number;
  /** False positives. */
  fp: number;
  /** False negatives. */
  fn: number;
  /** True negatives. */
  tn: number;
}

/** Metrics of a multi-class evaluation. */
export interface Metrics {
  /** Class names, in confusion-matrix order. */
  classes: string[];
  /** `confusion[t][p]` = items of true class t predicted as p. */
  confusion: number[][];
  /** Number of items. */
  count: number;
  /** Fraction correct (0 for no items). */
  accuracy: number;
  /** Mean F1 over the classes that have true items (0 if none has). */
  macroF1: number;
  /** The classes of {@link Metrics.subsetMacroF1} (those of the requested subset that exist here). */
  subsetClasses: string[];
  /** Mean F1 over the subset classes that have true items; null if none has. */
  subsetMacroF1: number | null;
  /** Cohen's κ = (p_o − p_e) / (1 − p_e); 0 when p_e = 1. */
  kappa: number;
  /** jκ index (see {@link jkIndex}); null when the S or V sensitivity or positive predictivity is undefined. */
  jk: number | null;
  /** Per-class metrics by class name. */
  perClass: Record<string, ClassMetrics>;
}

/** Options of {@link metricsFromConfusion}. */
export interface MetricsOptions {
  /** Classes of {@link Metrics.subsetMacroF1} (default N, S, V, F: Q is tiny in MIT-BIH and usually left out). */
  subset?: readonly string[];
  /** Names of the supraventricular and ventricular classes of the jκ index (default ['S', 'V']). */
  jkClasses?: readonly [string, string];
}

/** Confusion matrix of integer labels in [0, k): rows are true classes, columns predictions. */
export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, k: number): number[][] {
  if (!Number.isInteger(k) || k < 1)
    throw new ValueError(`confusionMatrix: k must be a positive integer, got ${k}`);
  if (truth.length !== pred.length) {
    throw new ValueError(`confusionMatrix: ${truth.length} labels but ${pred.length} predictions`);
  }
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = pred[i];
    if (!Number.isInteger(t) || !Number.isInteger(p) || t < 0 || t >= k || p < 0 || p >= k) {
      throw new ValueError(`confusionMatrix: item ${i} has label ${t} / prediction ${p} outside 0..${k - 1}`);
    }
    m[t][p]++;
  }
  return m;
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Cohen's κ (Cohen 1960) of a confusion matrix: κ = (p_o − p_e) / (1 − p_e), with p_o the observed agreement
 * (accuracy) and p_e = Σ_c (row_c / n)(col_c / n) the agreement expected by chance; 0 when p_e = 1.
 */
export function cohenKappa(confusion: readonly (readonly number[])[]): number {
  const k = confusion.length;
  let n = 0;
  let correct = 0;
  const row = new Array<number>(k).fill(0);
  const col = new Array<number>(k).fill(0);
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const v = confusion[t][p];
      n += v;
      row[t] += v;
      col[p] += v;
      if (t === p) correct += v;
    }
  }
  if (n === 0) return 0;
  const po = correct / n;
  let pe = 0;
  for (let c = 0; c < k; c++) pe += (row[c] / n) * (col[c] / n);
  return pe < 1 ? (po - pe) / (1 - pe) : 0;
}

/**
 * The jκ index of heartbeat classification: jκ = ½·κ + ⅛·j, with the j index
 * j = Se_S + Se_V + PPV_S + PPV_V (sensitivities and positive predictivities of the supraventricular and
 * ventricular classes), so both halves lie in [0, 1] for κ ≥ 0.
 *
 * Source: T. Mar, S. Zaunseder, J. P. Martínez, M. Llamedo, R. Poll, "Optimization of ECG classification by
 * means of feature selection", IEEE Trans. Biomed. Eng. 58(8):2168–2177, 2011 (the j index and its
 * combination with Cohen's κ), in the form used by V. Mondéjar-Guerra et al., "Heartbeat classification
 * fusing temporal and morphological information of ECGs via ensemble of classifiers", Biomed. Signal Process.
 * Control 47:41–48, 2019.
 */
export function jkIndex(kappa: number, seS: number, seV: number, ppvS: number, ppvV: number): number {
  return 0.5 * kappa + 0.125 * (seS + seV + ppvS + ppvV);
}

/** Checks a confusion matrix: square, `classes.length` wide, non-negative integer counts. */
function checkConfusion(confusion: readonly (readonly number[])[], classes: readonly string[]): void {
  const k = classes.length;
  if (k === 0) throw new ValueError('metricsFromConfusion: no classes');
  if (new Set(classes).size !== k)
    throw new ValueError(`metricsFromConfusion: duplicate class names in ${classes}`);
  if (!Array.isArray(confusion) || confusion.length !== k || confusion.some((r) => r.length !== k)) {
    throw new ValueError(
      `metricsFromConfusion: confusion matrix must be ${k}×${k} (one row and column per class)`,
    );
  }
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const v = confusion[t][p];
      if (!Number.isInteger(v) || v < 0) {
        throw new ValueError(`metricsFromConfusion: count [${t}][${p}] is ${v}, not a non-negative integer`);
      }
    }
  }
}

/** All metrics of a confusion matrix (see {@link Metrics}). */
export function metricsFromConfusion(
  confusion: readonly (readonly number[])[],
  classes: readonly string[],
  opts: MetricsOptions = {},
): Metrics {
  checkConfusion(confusion, classes);
  const k = classes.length;
  let count = 0;
  let correct = 0;
  const rowSum = new Array<number>(k).fill(0);
  const colSum = new Array<number>(k).fill(0);
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const v = confusion[t][p];
      count += v;
      rowSum[t] += v;
      colSum[p] += v;
      if (t === p) correct += v;
    }
  }
  const perClass: Record<string, ClassMetrics> = {};
  const f1s: number[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    const fn = rowSum[c] - tp;
    const fp = colSum[c] - tp;
    const tn = count - tp - fn - fp;
    const f1 = rowSum[c] > 0 ? (2 * tp) / (2 * tp + fp + fn) : null;
    if (f1 !== null) f1s.push(f1);
    perClass[classes[c]] = {
      se: ratio(tp, tp + fn),
      ppv: ratio(tp, tp + fp),
      spec: ratio(tn, tn + fp),
      f1,
      support: rowSum[c],
      predicted: colSum[c],
      tp,
      fp,
      fn,
      tn,
    };
  }
  const subsetClasses = (opts.subset ?? ['N', 'S', 'V', 'F']).filter((c) => classes.includes(c));
  const subsetF1 = subsetClasses.map((c) => perClass[c].f1).filter((x): x is number => x !== null);
  const kappa = cohenKappa(confusion);
  const [sName, vName] = opts.jkClasses ?? ['S', 'V'];
  const s = perClass[sName];
  const v = perClass[vName];
  const parts = [s?.se, v?.se, s?.ppv, v?.ppv];
  const jk = parts.every((x) => typeof x === 'number')
    ? jkIndex(kappa, s.se as number, v.se as number, s.ppv as number, v.ppv as number)
    : null;
  return {
    classes: [...classes],
    confusion: confusion.map((r) => [...r]),
    count,
    accuracy: count > 0 ? correct / count : 0,
    macroF1: f1s.length > 0 ? mean(f1s) : 0,
    subsetClasses,
    subsetMacroF1: subsetF1.length > 0 ? mean(subsetF1) : null,
    kappa,
    jk,
    perClass,
  };
}

/** Metrics of predictions against labels (both integer class indices into `classes`). */
export function classificationMetrics(
  truth: ArrayLike<number>,
  pred: ArrayLike<number>,
  classes: readonly string[],
  opts: MetricsOptions = {},
): Metrics {
  return metricsFromConfusion(confusionMatrix(truth, pred, classes.length), classes, opts);
}

/** Argmax of each row of a row-major `[n, k]` array (the first maximum wins). */
export function argmaxRows(
  p: ArrayLike<number>,
  k: number,
  out = new Int32Array(Math.floor(p.length / k)),
): Int32Array {
  if (!Number.isInteger(k) || k < 1 || p.length % k !== 0) {
    throw new ValueError(`argmaxRows: length ${p.length} is not a multiple of k = ${k}`);
  }
  const n = p.length / k;
  if (out.length !== n) throw new ValueError(`argmaxRows: out has ${out.length} entries, need ${n}`);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}
