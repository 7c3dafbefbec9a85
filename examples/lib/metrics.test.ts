/** Metrics of the main job (`@ecgnn/train`'s, re-exported) against values computed by hand. */
import { ValueError } from '@ecgnn/core';
import { describe, expect, test } from 'vitest';
import { classificationMetrics, confusionMatrix, metricsFromConfusion } from './metrics.js';

const C = ['N', 'S', 'V', 'F', 'Q'];

describe('metrics', () => {
  test('per-class Se, PPV, F1, accuracy, macro-F1, κ and jκ of a fixed confusion matrix', () => {
    // rows true, columns predicted
    const cm = [
      [80, 5, 3, 2, 0],
      [4, 6, 0, 0, 0],
      [2, 0, 17, 1, 0],
      [1, 0, 1, 2, 0],
      [0, 0, 0, 0, 0],
    ];
    const m = metricsFromConfusion(cm, C);
    expect(m.count).toBe(124);
    expect(m.accuracy).toBeCloseTo(105 / 124, 12);
    expect(m.perClass.S.se).toBeCloseTo(6 / 10, 12);
    expect(m.perClass.S.ppv).toBeCloseTo(6 / 11, 12);
    expect(m.perClass.S.f1).toBeCloseTo((2 * 6) / (10 + 11), 12);
    expect(m.perClass.V.se).toBeCloseTo(17 / 20, 12);
    expect(m.perClass.V.ppv).toBeCloseTo(17 / 21, 12);
    // Q: no true and no predicted beats → undefined, left out of macro-F1
    expect(m.perClass.Q).toMatchObject({ se: null, ppv: null, f1: null, support: 0 });
    const f1 = [(2 * 80) / (90 + 87), (2 * 6) / (10 + 11), (2 * 17) / (20 + 21), (2 * 2) / (4 + 5)];
    expect(m.macroF1).toBeCloseTo(f1.reduce((a, b) => a + b) / 4, 12);
    expect(m.subsetMacroF1).toBeCloseTo(m.macroF1, 12);
    const po = 105 / 124;
    const pe = (90 * 87 + 10 * 11 + 20 * 21 + 4 * 5) / 124 ** 2;
    const kappa = (po - pe) / (1 - pe);
    expect(m.kappa).toBeCloseTo(kappa, 12);
    expect(m.jk).toBeCloseTo(0.5 * kappa + 0.125 * (6 / 10 + 17 / 20 + 6 / 11 + 17 / 21), 12);
  });

  test('a class with true beats but none found has F1 0; PPV undefined without predictions', () => {
    const m = classificationMetrics([0, 0, 1, 1], [0, 0, 0, 0], ['N', 'S']);
    expect(m.perClass.S).toMatchObject({ se: 0, ppv: null, f1: 0, support: 2 });
    expect(m.macroF1).toBeCloseTo((2 * 2) / (2 + 4) / 2, 12);
    expect(m.jk).toBeNull();
  });

  test('bad input is rejected', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(ValueError);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/item 1/);
    expect(() => metricsFromConfusion([[1]], C)).toThrow(ValueError);
  });
});
