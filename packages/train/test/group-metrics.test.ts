import { ValueError } from '@ecgnn/core';
import { describe, expect, it } from 'vitest';
import { classificationMetrics, metricsByGroup } from '../src/index.js';

describe('metricsByGroup', () => {
  const classes = ['N', 'S', 'V'];
  // Records b, a, b, a, c, b: groups in order of first appearance b, a, c.
  const groups = ['b', 'a', 'b', 'a', 'c', 'b'];
  const truth = [0, 1, 2, 0, 2, 0];
  const pred = [0, 1, 0, 2, 2, 0];

  it('gives each group the metrics of its own items (hand-counted)', () => {
    const r = metricsByGroup(groups, truth, pred, classes);
    expect(r.map((g) => g.group)).toEqual(['b', 'a', 'c']);
    const [b, a, c] = r.map((g) => g.metrics);
    // b: items 0, 2, 5 — N→N, V→N, N→N: 2 of 3 correct, V never found.
    expect(b.count).toBe(3);
    expect(b.accuracy).toBeCloseTo(2 / 3, 12);
    expect(b.confusion).toEqual([
      [2, 0, 0],
      [0, 0, 0],
      [1, 0, 0],
    ]);
    expect(b.perClass.V.se).toBe(0);
    // a: items 1, 3 — S→S, N→V.
    expect(a.accuracy).toBe(0.5);
    expect(a.perClass.S.se).toBe(1);
    expect(a.perClass.N.se).toBe(0);
    expect(a.perClass.N.support).toBe(1);
    // c: item 4 — V→V.
    expect(c.count).toBe(1);
    expect(c.accuracy).toBe(1);
  });

  it('the groups partition the items: their confusion matrices add up to the whole', () => {
    const whole = classificationMetrics(truth, pred, classes);
    const sum = classes.map(() => classes.map(() => 0));
    for (const { metrics } of metricsByGroup(groups, truth, pred, classes)) {
      metrics.confusion.forEach((row, t) => {
        row.forEach((v, p) => {
          sum[t][p] += v;
        });
      });
    }
    expect(sum).toEqual(whole.confusion);
  });

  it('passes the metric options on, and refuses arrays of different lengths', () => {
    const [b] = metricsByGroup(groups, truth, pred, classes, { subset: ['N'] });
    expect(b.metrics.subsetClasses).toEqual(['N']);
    expect(() => metricsByGroup(groups, truth.slice(1), pred, classes)).toThrow(ValueError);
    expect(() => metricsByGroup(groups, truth, pred.slice(1), classes)).toThrow(/6 groups, 6 labels and 5/);
    expect(metricsByGroup([], [], [], classes)).toEqual([]);
  });
});
