import { ValueError } from '@ecgnn/core';
import { describe, expect, it } from 'vitest';
import {
  argmaxRows,
  classificationMetrics,
  cohenKappa,
  confusionMatrix,
  formatConfusion,
  formatMetrics,
  jkIndex,
  metricsFromConfusion,
  metricsMarkdown,
  multiLabelMetrics,
  selectThresholds,
} from '../src/index.js';

// Rows true N, S, V; columns predicted. n = 80, 69 correct.
const C3 = [
  [50, 3, 2],
  [4, 10, 1],
  [1, 0, 9],
];

describe('metricsFromConfusion (hand-computed)', () => {
  const m = metricsFromConfusion(C3, ['N', 'S', 'V']);

  it('accuracy, per-class Se, PPV, Sp, F1 and counts', () => {
    expect(m.count).toBe(80);
    expect(m.accuracy).toBeCloseTo(69 / 80, 12);
    // N: TP 50, FN 5, FP 5, TN 20.
    expect(m.perClass.N).toMatchObject({ tp: 50, fn: 5, fp: 5, tn: 20, support: 55, predicted: 55 });
    expect(m.perClass.N.se).toBeCloseTo(50 / 55, 12);
    expect(m.perClass.N.ppv).toBeCloseTo(50 / 55, 12);
    expect(m.perClass.N.spec).toBeCloseTo(20 / 25, 12);
    expect(m.perClass.N.f1).toBeCloseTo(100 / 110, 12);
    // S: TP 10, FN 5, FP 3, TN 62.
    expect(m.perClass.S).toMatchObject({ tp: 10, fn: 5, fp: 3, tn: 62 });
    expect(m.perClass.S.se).toBeCloseTo(10 / 15, 12);
    expect(m.perClass.S.ppv).toBeCloseTo(10 / 13, 12);
    expect(m.perClass.S.spec).toBeCloseTo(62 / 65, 12);
    expect(m.perClass.S.f1).toBeCloseTo(20 / 28, 12);
    // V: TP 9, FN 1, FP 3, TN 67.
    expect(m.perClass.V.se).toBeCloseTo(0.9, 12);
    expect(m.perClass.V.ppv).toBeCloseTo(0.75, 12);
    expect(m.perClass.V.spec).toBeCloseTo(67 / 70, 12);
    expect(m.perClass.V.f1).toBeCloseTo(18 / 22, 12);
  });

  it("macro-F1, subset macro-F1, Cohen's κ and jκ", () => {
    expect(m.macroF1).toBeCloseTo((100 / 110 + 20 / 28 + 18 / 22) / 3, 12);
    expect(m.subsetClasses).toEqual(['N', 'S', 'V']);
    expect(m.subsetMacroF1).toBeCloseTo(m.macroF1, 12);
    // p_o = 69/80, p_e = (55·55 + 15·13 + 10·12) / 80² = 3340/6400.
    const kappa = (69 / 80 - 3340 / 6400) / (1 - 3340 / 6400);
    expect(m.kappa).toBeCloseTo(kappa, 12);
    expect(cohenKappa(C3)).toBeCloseTo(kappa, 12);
    expect(m.jk).toBeCloseTo(0.5 * kappa + 0.125 * (10 / 15 + 0.9 + 10 / 13 + 0.75), 12);
    const sv = metricsFromConfusion(C3, ['N', 'S', 'V'], { subset: ['S', 'V'] });
    expect(sv.subsetMacroF1).toBeCloseTo((20 / 28 + 18 / 22) / 2, 12);
  });

  it('jkIndex is ½κ + ⅛(Se_S + Se_V + PPV_S + PPV_V)', () => {
    expect(jkIndex(0.8, 0.5, 0.9, 0.4, 0.7)).toBeCloseTo(0.4 + 0.125 * 2.5, 12);
    expect(jkIndex(1, 1, 1, 1, 1)).toBe(1);
  });

  it('leaves undefined ratios null and skips classes without items in macro-F1', () => {
    // F has no true items and is never predicted; S is never predicted.
    const m2 = metricsFromConfusion(
      [
        [8, 0, 2, 0],
        [3, 0, 0, 0],
        [1, 0, 4, 0],
        [0, 0, 0, 0],
      ],
      ['N', 'S', 'V', 'F'],
    );
    expect(m2.perClass.F).toMatchObject({ se: null, ppv: null, f1: null, support: 0 });
    expect(m2.perClass.S.ppv).toBeNull();
    expect(m2.perClass.S.f1).toBe(0);
    expect(m2.macroF1).toBeCloseTo((16 / 22 + 0 + 8 / 11) / 3, 12);
    expect(m2.jk).toBeNull();
    expect(cohenKappa([[5]])).toBe(0);
  });

  it('classificationMetrics builds the confusion matrix from labels', () => {
    const truth = [0, 0, 1, 2, 2, 1];
    const pred = [0, 1, 1, 2, 0, 1];
    expect(confusionMatrix(truth, pred, 3)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    expect(classificationMetrics(truth, pred, ['a', 'b', 'c']).accuracy).toBeCloseTo(4 / 6, 12);
  });

  it('rejects bad input with a ValueError naming it', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/2 labels but 1 predictions/);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/item 1 has label 3/);
    expect(() => metricsFromConfusion([[1, 2]], ['a'])).toThrow(ValueError);
    expect(() =>
      metricsFromConfusion(
        [
          [1, -2],
          [0, 1],
        ],
        ['a', 'b'],
      ),
    ).toThrow(/count \[0\]\[1\] is -2/);
    expect(() => metricsFromConfusion([[1]], [])).toThrow(/no classes/);
  });

  it('argmaxRows takes the first maximum', () => {
    expect(Array.from(argmaxRows([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0, 1], 3))).toEqual([1, 0, 2]);
    expect(() => argmaxRows([1, 2, 3], 2)).toThrow(/not a multiple/);
  });

  it('formats tables', () => {
    expect(formatMetrics(m)).toContain('accuracy 86.3 %');
    expect(formatConfusion(m).split('\n')[1]).toMatch(/^N\s+50\s+3\s+2$/);
    expect(metricsMarkdown(m)).toContain('| S | 66.7 | 76.9 | 95.4 | 71.4 | 15 |');
  });
});

describe('multi-label metrics (hand-computed)', () => {
  // 4 items × labels a, b.
  const probs = [0.9, 0.2, 0.6, 0.7, 0.4, 0.1, 0.3, 0.8];
  const targets = [1, 0, 1, 1, 0, 0, 1, 1];

  it('per-label, macro and micro F1 at a fixed threshold', () => {
    const m = multiLabelMetrics(probs, targets, ['a', 'b']);
    // a: predicted 1 1 0 0, true 1 1 0 1 → TP 2, FP 0, FN 1, TN 1.
    expect(m.perLabel.a).toMatchObject({ tp: 2, fp: 0, fn: 1, tn: 1, support: 3, threshold: 0.5 });
    expect(m.perLabel.a.f1).toBeCloseTo(0.8, 12);
    expect(m.perLabel.b.f1).toBe(1);
    expect(m.macroF1).toBeCloseTo(0.9, 12);
    expect(m.microF1).toBeCloseTo(8 / 9, 12);
    expect(m.exactMatch).toBeCloseTo(0.75, 12);
  });

  it('selectThresholds maximises each label F1 on validation', () => {
    const t = selectThresholds(probs, targets, 2);
    // a: calling all four present gives F1 6/7, the best cut; b: the cut between 0.7 and 0.2 gives F1 1.
    expect(t[0]).toBeCloseTo(0.3, 12);
    expect(t[1]).toBeCloseTo(0.45, 12);
    const m = multiLabelMetrics(probs, targets, ['a', 'b'], t);
    expect(m.perLabel.a.f1).toBeCloseTo(6 / 7, 12);
    expect(m.perLabel.b.f1).toBe(1);
  });

  it('never cuts between equal probabilities and keeps the fallback for absent labels', () => {
    // One label, 0.5 twice (one positive, one negative): a cut between them is impossible.
    const t = selectThresholds([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0], 1);
    // Cuts: top 1 → F1 2/3; top 3 → F1 4/5 (threshold between 0.5 and 0.1); all → 4/6. Not top 2 (a tie).
    expect(t[0]).toBeCloseTo(0.3, 12);
    expect(multiLabelMetrics([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0], ['a'], t).perLabel.a.f1).toBeCloseTo(
      0.8,
      12,
    );
  });

  it('rejects bad targets and shapes', () => {
    expect(() => multiLabelMetrics([0.1, 0.2], [1, 2], ['a', 'b'])).toThrow(/target 1 .* is 2/);
    expect(() => multiLabelMetrics([0.1, 0.2, 0.3], [1, 0, 1], ['a', 'b'])).toThrow(/not a multiple/);
    expect(() => multiLabelMetrics([0.1, 0.2], [1, 0], ['a', 'b'], [0.5])).toThrow(
      /1 thresholds for 2 labels/,
    );
    expect(Array.from(selectThresholds([0.2, 0.4], [0, 0], 1, 0.3))).toEqual([0.3]);
  });
});
