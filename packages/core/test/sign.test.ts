import {
  DTypeError,
  Generator,
  mul,
  randn,
  type SignEstimator,
  sign,
  signSte,
  sum,
  type Tensor,
  tensor,
  ValueError,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

/** Values on and around the kinks of the surrogates, plus random ones. */
const FIXED = [
  -3, -1.5, -1.0000001, -1, -0.9999999, -0.5, -1e-12, 0, 1e-12, 0.25, 0.5, 0.75, 1, 1.0000001, 2,
];

/** Backward of Σ r ⊙ f(x) for a random r: returns x.grad and r. */
function gradOf(f: (x: Tensor) => Tensor, values: number[], seed: number): { g: number[]; r: number[] } {
  const x = tensor(values, [values.length], { dtype: 'float64', requiresGrad: true });
  const r = randn([values.length], { dtype: 'float64', generator: new Generator(seed) });
  sum(mul(f(x), r)).backward();
  return { g: Array.from(x.grad!.data), r: Array.from(r.data) };
}

const valuesArb = fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 1, maxLength: 40 });

function closedForm(estimator: SignEstimator, s: number, x: number): number {
  if (estimator === 'identity') return 1;
  if (estimator === 'clipped') return Math.abs(x) <= 1 ? 1 : 0;
  return 2 * s * Math.max(0, 1 - s * Math.abs(x));
}

describe('sign', () => {
  test('forward: +1 for x ≥ 0 (sign(0) = +1), −1 for x < 0', () => {
    const y = sign(tensor([-2, -1e-30, 0, -0, 1e-30, 3]));
    expect(Array.from(y.data)).toEqual([-1, -1, 1, 1, 1, 1]);
    expect(y.dtype).toBe('float32');
    // int32 input keeps its dtype
    expect(Array.from(sign(tensor([-5, 0, 7], [3], { dtype: 'int32' })).data)).toEqual([-1, 1, 1]);
  });

  test('plain sign has gradient 0 (its true derivative almost everywhere)', () => {
    const { g } = gradOf(sign, FIXED, 1);
    expect(g.every((v) => v === 0)).toBe(true);
  });
});

describe('signSte', () => {
  test('forward equals sign for every estimator', () => {
    const x = tensor(FIXED, [FIXED.length], { dtype: 'float64' });
    const ref = Array.from(sign(x).data);
    for (const estimator of ['clipped', 'triangular', 'identity'] as const) {
      expect(Array.from(signSte(x, { estimator, sharpness: 3 }).data)).toEqual(ref);
    }
  });

  test('clipped STE: gradient = g where |x| ≤ 1, else 0 (exact)', () => {
    const { g, r } = gradOf((x) => signSte(x), FIXED, 2);
    FIXED.forEach((x, i) => {
      expect(g[i]).toBe(Math.abs(x) <= 1 ? r[i] : 0);
    });
    // the boundary ±1 is inside
    expect(g[FIXED.indexOf(1)]).toBe(r[FIXED.indexOf(1)]);
    expect(g[FIXED.indexOf(-1)]).toBe(r[FIXED.indexOf(-1)]);
  });

  test('triangular STE: gradient = g·2s·max(0, 1 − s|x|); s = 1 is ApproxSign', () => {
    for (const s of [0.5, 1, 2, 5]) {
      const { g, r } = gradOf((x) => signSte(x, { estimator: 'triangular', sharpness: s }), FIXED, 3);
      FIXED.forEach((x, i) => {
        expect(g[i]).toBeCloseTo(r[i] * 2 * s * Math.max(0, 1 - s * Math.abs(x)), 14);
      });
    }
    // Bi-Real ApproxSign derivative: 2 + 2x on [−1, 0), 2 − 2x on [0, 1), 0 elsewhere.
    const xs = [-1.2, -0.75, -0.25, 0, 0.4, 0.9, 1.1];
    const x = tensor(xs, [xs.length], { dtype: 'float64', requiresGrad: true });
    sum(signSte(x, { estimator: 'triangular' })).backward();
    const approxSign = xs.map((v) => (v < -1 || v >= 1 ? 0 : v < 0 ? 2 + 2 * v : 2 - 2 * v));
    for (let i = 0; i < xs.length; i++) expect(x.grad!.data[i]).toBeCloseTo(approxSign[i], 14);
  });

  test('triangular surrogate integrates to 2, the jump of sign, for any sharpness', () => {
    for (const s of [0.5, 1, 3]) {
      const n = 20001;
      const lo = -2 / s;
      const h = 4 / s / (n - 1);
      const xs = Array.from({ length: n }, (_, i) => lo + i * h);
      const x = tensor(xs, [n], { dtype: 'float64', requiresGrad: true });
      sum(signSte(x, { estimator: 'triangular', sharpness: s })).backward();
      let integral = 0;
      for (let i = 0; i + 1 < n; i++) integral += ((x.grad!.data[i] + x.grad!.data[i + 1]) / 2) * h;
      expect(integral).toBeCloseTo(2, 6);
    }
  });

  test('identity STE passes the gradient through unchanged', () => {
    const { g, r } = gradOf((x) => signSte(x, { estimator: 'identity' }), FIXED, 4);
    expect(g).toEqual(r);
  });

  test('closed forms hold on random inputs and float32', () => {
    fc.assert(
      fc.property(
        valuesArb,
        fc.constantFrom<SignEstimator>('clipped', 'triangular', 'identity'),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        (values, estimator, s) => {
          const x = tensor(values, [values.length], { requiresGrad: true });
          sum(signSte(x, { estimator, sharpness: s })).backward();
          values.forEach((_, i) => {
            const xv = x.data[i]; // the float32 value actually used
            expect(x.grad!.data[i]).toBeCloseTo(Math.fround(closedForm(estimator, s, xv)), 5);
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  test('errors', () => {
    const x = randn([3]);
    expect(() => signSte(x, { estimator: 'tanh' as SignEstimator })).toThrow(ValueError);
    expect(() => signSte(x, { estimator: 'triangular', sharpness: 0 })).toThrow(
      /signSte: sharpness must be a finite number > 0, got 0/,
    );
    expect(() => signSte(x, { estimator: 'triangular', sharpness: Number.NaN })).toThrow(ValueError);
    expect(() => signSte(tensor([1], [1], { dtype: 'int32' }))).toThrow(DTypeError);
  });
});
