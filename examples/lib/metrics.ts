/**
 * Classification metrics of the main job: confusion matrix, per-class sensitivity (Se), positive
 * predictivity (PPV) and F1, accuracy, macro-F1, Cohen's κ and the jκ index used in the
 * inter-patient arrhythmia literature.
 */

/** Metrics of one class. `null` when undefined (0/0: no true beats, or no predicted beats). */
export interface ClassMetrics {
  /** Sensitivity (recall) TP / (TP + FN). */
  se: number | null;
  /** Positive predictivity (precision) TP / (TP + FP). */
  ppv: number | null;
  /** F1 = 2·Se·PPV / (Se + PPV); 0 when the class has true beats but none is found. */
  f1: number | null;
  /** Number of true beats of the class. */
  support: number;
}

/** Metrics of a multi-class evaluation. */
export interface Metrics {
  /** Class names, in confusion-matrix order. */
  classes: string[];
  /** confusion[t][p] = beats of true class t predicted as p. */
  confusion: number[][];
  /** Number of beats. */
  count: number;
  /** Fraction correct. */
  accuracy: number;
  /** Mean F1 over the classes that have true beats. */
  macroF1: number;
  /** Mean F1 over N, S, V, F only (Q is tiny in MIT-BIH and often left out in the literature). */
  macroF1NSVF: number | null;
  /** Cohen's κ: (p_o − p_e) / (1 − p_e). */
  kappa: number;
  /**
   * jκ index (Mondéjar-Guerra et al. 2019): ½κ + ⅛j, with the j index (Llamedo & Martínez 2011)
   * j = Se_S + Se_V + PPV_S + PPV_V; null when S or V metrics are undefined.
   */
  jk: number | null;
  /** Per-class metrics by class name. */
  perClass: Record<string, ClassMetrics>;
}

/** Confusion matrix of integer labels in [0, k): rows are true classes, columns predictions. */
export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, k: number): number[][] {
  if (truth.length !== pred.length) {
    throw new RangeError(`confusionMatrix: ${truth.length} labels but ${pred.length} predictions`);
  }
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = pred[i];
    if (!(t >= 0 && t < k && p >= 0 && p < k) || !Number.isInteger(t) || !Number.isInteger(p)) {
      throw new RangeError(`confusionMatrix: item ${i} has label ${t} / prediction ${p} outside 0..${k - 1}`);
    }
    m[t][p]++;
  }
  return m;
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

/** All metrics from a confusion matrix (see {@link Metrics}). */
export function metricsFromConfusion(confusion: number[][], classes: readonly string[]): Metrics {
  const k = classes.length;
  if (confusion.length !== k || confusion.some((r) => r.length !== k)) {
    throw new RangeError(`metricsFromConfusion: confusion matrix must be ${k}×${k}`);
  }
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
    const se = ratio(tp, rowSum[c]);
    const ppv = ratio(tp, colSum[c]);
    let f1: number | null = null;
    if (rowSum[c] > 0) {
      // NOTE: F1 = 2TP / (2TP + FP + FN), which equals 2·Se·PPV/(Se + PPV) and is 0 when TP = 0.
      f1 = (2 * tp) / (rowSum[c] + colSum[c]);
      f1s.push(f1);
    }
    perClass[classes[c]] = { se, ppv, f1, support: rowSum[c] };
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const nsvf = ['N', 'S', 'V', 'F']
    .map((c) => perClass[c]?.f1)
    .filter((x): x is number => typeof x === 'number');
  const po = count > 0 ? correct / count : 0;
  let pe = 0;
  for (let c = 0; c < k; c++) pe += count > 0 ? (rowSum[c] / count) * (colSum[c] / count) : 0;
  const kappa = pe < 1 ? (po - pe) / (1 - pe) : 0;
  const s = perClass.S;
  const v = perClass.V;
  const parts = [s?.se, v?.se, s?.ppv, v?.ppv];
  const jk = parts.every((x) => typeof x === 'number')
    ? 0.5 * kappa + 0.125 * (parts as number[]).reduce((a, b) => a + b, 0)
    : null;
  return {
    classes: [...classes],
    confusion: confusion.map((r) => [...r]),
    count,
    accuracy: po,
    macroF1: f1s.length > 0 ? mean(f1s) : 0,
    macroF1NSVF: nsvf.length > 0 ? mean(nsvf) : null,
    kappa,
    jk,
    perClass,
  };
}

/** Metrics of predictions against labels (both integer class indices). */
export function classificationMetrics(
  truth: ArrayLike<number>,
  pred: ArrayLike<number>,
  classes: readonly string[],
): Metrics {
  return metricsFromConfusion(confusionMatrix(truth, pred, classes.length), classes);
}

/** Formats a fraction as a percentage with one decimal, or `–` when undefined. */
export function pct(x: number | null | undefined): string {
  return typeof x === 'number' ? `${(100 * x).toFixed(1)}` : '–';
}

function table(rows: string[][], alignLeft = 1): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((x, i) => (i < alignLeft ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  '))
    .join('\n');
}

/** Plain-text per-class table (Se, PPV, F1 in %, support) plus the summary line. */
export function formatMetrics(m: Metrics): string {
  const rows = [['class', 'Se %', 'PPV %', 'F1 %', 'beats']];
  for (const c of m.classes) {
    const r = m.perClass[c];
    rows.push([c, pct(r.se), pct(r.ppv), pct(r.f1), String(r.support)]);
  }
  const summary =
    `accuracy ${pct(m.accuracy)} %   macro-F1 ${pct(m.macroF1)} %   macro-F1 (N,S,V,F) ${pct(m.macroF1NSVF)} %   ` +
    `κ ${m.kappa.toFixed(3)}   jκ ${m.jk === null ? '–' : m.jk.toFixed(3)}   (${m.count} beats)`;
  return `${table(rows)}\n${summary}`;
}

/** Plain-text confusion matrix (rows true, columns predicted). */
export function formatConfusion(m: Metrics): string {
  const rows = [['true\\pred', ...m.classes]];
  m.classes.forEach((c, t) => {
    rows.push([c, ...m.confusion[t].map(String)]);
  });
  return table(rows);
}

/** Markdown per-class table and confusion matrix. */
export function metricsMarkdown(m: Metrics): string {
  const lines = ['| class | Se % | PPV % | F1 % | beats |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const c of m.classes) {
    const r = m.perClass[c];
    lines.push(`| ${c} | ${pct(r.se)} | ${pct(r.ppv)} | ${pct(r.f1)} | ${r.support} |`);
  }
  lines.push(
    '',
    `Accuracy ${pct(m.accuracy)} %, macro-F1 ${pct(m.macroF1)} % (classes with beats), macro-F1 over N, S, V, F ` +
      `${pct(m.macroF1NSVF)} %, Cohen's κ ${m.kappa.toFixed(3)}, jκ ${m.jk === null ? '–' : m.jk.toFixed(3)}, ` +
      `${m.count} beats.`,
    '',
    `| true \\ predicted | ${m.classes.join(' | ')} |`,
    `| --- | ${m.classes.map(() => '---:').join(' | ')} |`,
  );
  m.classes.forEach((c, t) => {
    lines.push(`| ${c} | ${m.confusion[t].join(' | ')} |`);
  });
  return lines.join('\n');
}
