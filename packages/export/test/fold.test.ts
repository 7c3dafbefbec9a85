/** BatchNorm folding arithmetic on fixed values (the exporter's emitters use it; see emitters.test.ts). */
import { describe, expect, test } from 'vitest';
import { batchNormScaleShift, foldBatchNormIntoConv } from '../src/index.js';

describe('foldBatchNormIntoConv', () => {
  test('w·s and b·s + β − μ·s per output channel, s = γ/√(σ² + ε)', () => {
    // Two output channels of a [2, 1, 2] conv: σ² + ε = 4 and 0.25 → s = γ/2 and γ/0.5.
    const f = foldBatchNormIntoConv(
      [1, 2, 3, 4],
      [0.5, -1],
      2,
      [1, -2],
      [4 - 1e-3, 0.25 - 1e-3],
      [2, 0.5],
      [0.1, 0.2],
      1e-3,
    );
    // channel 0: s = 1, shift = 0.1 − 1 = −0.9; channel 1: s = 1, shift = 0.2 + 2 = 2.2
    expect(Array.from(f.weight)).toEqual([1, 2, 3, 4].map((v) => Math.fround(v)));
    expect(f.bias[0]).toBeCloseTo(0.5 - 0.9, 6);
    expect(f.bias[1]).toBeCloseTo(-1 + 2.2, 6);
    const g = foldBatchNormIntoConv([1, 1], null, 2, [0, 0], [1, 1], null, null, 0);
    expect(Array.from(g.weight)).toEqual([1, 1]);
    expect(Array.from(g.bias)).toEqual([0, 0]);
  });

  test('the folded layer equals BatchNorm after the layer', () => {
    const w = [0.3, -1.2, 2.5, 0.7, -0.4, 1.1];
    const b = [0.2, -0.6];
    const mean = [0.4, -1.5];
    const variance = [2.2, 0.3];
    const gamma = [-0.8, 1.7];
    const beta = [0.05, -0.3];
    const eps = 1e-5;
    const f = foldBatchNormIntoConv(w, b, 2, mean, variance, gamma, beta, eps);
    const u = [0.9, -0.2, 1.4]; // one input patch of 3 values per output channel
    for (let o = 0; o < 2; o++) {
      let y = b[o];
      let yf = f.bias[o];
      for (let j = 0; j < 3; j++) {
        y += w[3 * o + j] * u[j];
        yf += f.weight[3 * o + j] * u[j];
      }
      const bn = ((y - mean[o]) / Math.sqrt(variance[o] + eps)) * gamma[o] + beta[o];
      expect(yf).toBeCloseTo(bn, 5);
    }
  });

  test('mismatched sizes are RangeErrors', () => {
    expect(() => foldBatchNormIntoConv([1, 2, 3], null, 2, [0, 0], [1, 1], null, null, 0)).toThrow(
      RangeError,
    );
    expect(() => batchNormScaleShift([0, 0], [1], null, null, 0)).toThrow(RangeError);
  });
});
