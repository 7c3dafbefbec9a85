import { optim, Parameter, zeros } from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const sgd = (lr = 0.1, momentum = 0.9) => new optim.SGD([new Parameter(zeros([1]))], { lr, momentum });
/** The lr for epochs 0..n−1 as the scheduler sets them (step() after each epoch). */
const trace = (opt: optim.SGD, sched: { step(): void }, n: number): number[] => {
  const out: number[] = [];
  for (let e = 0; e < n; e++) {
    out.push(opt.paramGroups[0].lr);
    sched.step();
  }
  return out;
};
const closeAll = (a: number[], b: number[], tol = 1e-12): void => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => {
    expect(Math.abs(v - b[i])).toBeLessThanOrEqual(tol);
  });
};

describe('learning-rate schedules against their closed forms', () => {
  test('StepLR: base·γ^⌊e/s⌋ (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (s, gamma) => {
          const opt = sgd();
          const lrs = trace(opt, new optim.StepLR(opt, s, gamma), 12);
          closeAll(
            lrs,
            Array.from({ length: 12 }, (_, e) => 0.1 * gamma ** Math.floor(e / s)),
          );
        },
      ),
      { numRuns: 25 },
    );
    const opt = sgd();
    closeAll(trace(opt, new optim.StepLR(opt, 3, 0.5), 8), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]);
  });

  test('MultiStepLR and ExponentialLR', () => {
    const o1 = sgd(1);
    closeAll(trace(o1, new optim.MultiStepLR(o1, [5, 2], 0.1), 7), [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01]);
    const o2 = sgd(1);
    closeAll(trace(o2, new optim.ExponentialLR(o2, 0.9), 5), [1, 0.9, 0.81, 0.729, 0.6561]);
  });

  test('CosineAnnealingLR: η_min + (base − η_min)(1 + cos(πe/T))/2 (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        (tMax, etaMin) => {
          const opt = sgd();
          const lrs = trace(opt, new optim.CosineAnnealingLR(opt, tMax, etaMin), tMax + 1);
          closeAll(
            lrs,
            Array.from(
              { length: tMax + 1 },
              (_, e) => etaMin + ((0.1 - etaMin) * (1 + Math.cos((Math.PI * e) / tMax))) / 2,
            ),
          );
          expect(lrs[tMax]).toBeCloseTo(etaMin, 12);
        },
      ),
      { numRuns: 25 },
    );
  });

  test('CosineAnnealingWarmRestarts: periods T₀, T₀·m, …', () => {
    const opt = sgd(1);
    const lrs = trace(opt, new optim.CosineAnnealingWarmRestarts(opt, 2, 2), 14);
    // Periods [0, 2), [2, 6), [6, 14): restart to the base lr at 2 and 6.
    const cos = (t: number, T: number) => (1 + Math.cos((Math.PI * t) / T)) / 2;
    const expected = [
      ...[0, 1].map((t) => cos(t, 2)),
      ...[0, 1, 2, 3].map((t) => cos(t, 4)),
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((t) => cos(t, 8)),
    ];
    closeAll(lrs, expected);
    const o2 = sgd(1);
    closeAll(
      trace(o2, new optim.CosineAnnealingWarmRestarts(o2, 3, 1, 0.1), 7),
      [0, 1, 2, 0, 1, 2, 0].map((t) => 0.1 + 0.9 * cos(t, 3)),
    );
    // Fractional epochs (per-batch stepping).
    const o3 = sgd(1);
    const s3 = new optim.CosineAnnealingWarmRestarts(o3, 2, 2);
    s3.step(3.5);
    expect(o3.paramGroups[0].lr).toBeCloseTo(cos(1.5, 4), 12);
  });

  test('LinearLR warm-up and SequentialLR (warm-up then cosine)', () => {
    const o1 = sgd(1);
    closeAll(trace(o1, new optim.LinearLR(o1, 0.25, 1, 4), 6), [0.25, 0.4375, 0.625, 0.8125, 1, 1]);
    const o2 = sgd(1);
    const warm = new optim.LinearLR(o2, 0.5, 1, 2);
    const cosine = new optim.CosineAnnealingLR(o2, 4);
    const lrs = trace(o2, new optim.SequentialLR(o2, [warm, cosine], [2]), 7);
    const c = (e: number) => (1 + Math.cos((Math.PI * e) / 4)) / 2;
    closeAll(lrs, [0.5, 0.75, c(0), c(1), c(2), c(3), c(4)]);
  });

  test('OneCycleLR: lr and momentum follow the two cosine phases; stepping past the end throws', () => {
    const opt = sgd(1);
    const s = new optim.OneCycleLR(opt, 1, { totalSteps: 10 });
    const lrs: number[] = [];
    const moms: number[] = [];
    for (let e = 0; e < 10; e++) {
      lrs.push(opt.paramGroups[0].lr);
      moms.push(opt.paramGroups[0].momentum);
      s.step();
    }
    // initial = 1/25, phase 1 ends at step 0.3·10 − 1 = 2, final = initial/1e4 at step 9.
    const cosAnneal = (a: number, b: number, p: number) => b + ((a - b) / 2) * (1 + Math.cos(Math.PI * p));
    const expected = Array.from({ length: 10 }, (_, e) =>
      e <= 2 ? cosAnneal(0.04, 1, e / 2) : cosAnneal(1, 0.04 / 1e4, (e - 2) / 7),
    );
    closeAll(lrs, expected);
    expect(lrs[1]).toBeCloseTo(0.52, 12);
    closeAll(
      moms,
      Array.from({ length: 10 }, (_, e) =>
        e <= 2 ? cosAnneal(0.95, 0.85, e / 2) : cosAnneal(0.85, 0.95, (e - 2) / 7),
      ),
    );
    expect(() => s.step()).toThrow(/more than totalSteps 10/);
    // Adam: cycles β₁.
    const adam = new optim.Adam([new Parameter(zeros([1]))]);
    new optim.OneCycleLR(adam, 0.01, { epochs: 2, stepsPerEpoch: 5, annealStrategy: 'linear' });
    expect(adam.paramGroups[0].betas).toEqual([0.95, 0.999]);
    expect(adam.paramGroups[0].lr).toBeCloseTo(0.0004, 12);
  });

  test('ReduceLROnPlateau: patience, cooldown, threshold, minLr, mode max', () => {
    const opt = sgd(1);
    const s = new optim.ReduceLROnPlateau(opt, { patience: 2, factor: 0.5, cooldown: 1, minLr: 0.2 });
    const lrs: number[] = [];
    for (const m of [1, 0.9, 0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]) {
      s.step(m);
      lrs.push(opt.paramGroups[0].lr);
    }
    // Bad epochs after 0.9 (best): 1, 2, 3 → halve at step 5; 1 cooldown epoch; then 3 bad → halve at
    // step 9; after one cooldown epoch, the next reduction comes at step 13.
    expect(lrs).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]);
    // It is bounded by minLr: 0.25 → max(0.125, 0.2), and the lr never goes lower.
    s.step(0.9);
    expect(opt.paramGroups[0].lr).toBe(0.2);
    for (let i = 0; i < 8; i++) s.step(0.9);
    expect(opt.paramGroups[0].lr).toBe(0.2);
    // A relative improvement smaller than the threshold counts as no improvement.
    const o2 = sgd(1);
    const s2 = new optim.ReduceLROnPlateau(o2, { mode: 'max', patience: 0, threshold: 0.1 });
    s2.step(1);
    s2.step(1.05);
    expect(o2.paramGroups[0].lr).toBeCloseTo(0.1, 12);
    const copy = new optim.ReduceLROnPlateau(sgd(1), { mode: 'max', patience: 0, threshold: 0.1 });
    copy.loadStateDict(s2.stateDict());
    expect(copy.best).toBe(1);
  });

  test('schedulers record initialLr, survive a state-dict round trip, validate arguments', () => {
    const opt = sgd(0.5);
    const s = new optim.StepLR(opt, 2, 0.1);
    expect(opt.paramGroups[0].initialLr).toBe(0.5);
    s.step();
    s.step();
    const sd = s.stateDict();
    const opt2 = sgd(0.5);
    const s2 = new optim.StepLR(opt2, 2, 0.1);
    s2.loadStateDict(sd);
    expect(opt2.paramGroups[0].lr).toBeCloseTo(0.05, 12);
    expect(s2.getLastLr()[0]).toBeCloseTo(0.05, 12);
    expect(() => new optim.StepLR(opt, 0)).toThrow(/stepSize must be a positive integer/);
    expect(() => new optim.OneCycleLR(opt, 1)).toThrow(/give totalSteps/);
    expect(() => new optim.LinearLR(opt, 0)).toThrow(/startFactor must be in \(0, 1\]/);
    expect(() => new optim.ExponentialLR(opt, 0)).toThrow(/gamma must be positive/);
    expect(() => new optim.MultiStepLR(opt, [2, -1])).toThrow(
      /milestones must be non-negative integers, got -1/,
    );
  });
});
