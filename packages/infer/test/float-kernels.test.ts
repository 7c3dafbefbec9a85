import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  avgPool1d,
  batchNormScaleShift,
  type Conv1dParams,
  conv1d,
  conv1dOutputLength,
  foldBatchNormIntoConv,
  maxPool1d,
  softmax,
} from '../src/index.js';
import { refConv1d, refPool } from './reference.js';

const vals = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 2);

function close(a: ArrayLike<number>, b: ArrayLike<number>, rel = 1e-5): void {
  expect(a.length).toBe(b.length);
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(rel * scale);
}

describe('float conv1d', () => {
  it('fixed values: [1,2,3,4] * [1,0,-1], padding 1 with value 10, bias 0.5', () => {
    const p: Conv1dParams = {
      inChannels: 1,
      inLength: 4,
      outChannels: 1,
      kernelSize: 3,
      stride: 1,
      dilation: 1,
      padLeft: 1,
      padRight: 1,
      groups: 1,
      padValue: 10,
    };
    const out = new Float32Array(4);
    conv1d(Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 0, -1), Float32Array.of(0.5), p, out);
    // y[t] = x[t-1] − x[t+1] + 0.5 with x[-1] = x[4] = 10
    expect(Array.from(out)).toEqual([10 - 2 + 0.5, 1 - 3 + 0.5, 2 - 4 + 0.5, 3 - 10 + 0.5]);
  });

  it('equals the naive formula for random stride, padding (value), dilation and groups', () => {
    fc.assert(
      fc.property(
        fc.record({
          groups: fc.integer({ min: 1, max: 4 }),
          cg: fc.integer({ min: 1, max: 5 }),
          og: fc.integer({ min: 1, max: 7 }),
          L: fc.integer({ min: 1, max: 30 }),
          K: fc.integer({ min: 1, max: 7 }),
          stride: fc.integer({ min: 1, max: 3 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          padLeft: fc.integer({ min: 0, max: 5 }),
          padRight: fc.integer({ min: 0, max: 5 }),
          padValue: fc.constantFrom(0, 1, -0.5),
          bias: fc.boolean(),
          seed: fc.nat(100),
        }),
        (g) => {
          const p: Conv1dParams = {
            inChannels: g.cg * g.groups,
            inLength: g.L,
            outChannels: g.og * g.groups,
            kernelSize: g.K,
            stride: g.stride,
            dilation: g.dilation,
            padLeft: g.padLeft,
            padRight: g.padRight,
            groups: g.groups,
            padValue: g.padValue,
          };
          fc.pre(g.L + g.padLeft + g.padRight >= g.dilation * (g.K - 1) + 1);
          const x = vals(p.inChannels * g.L, g.seed);
          const w = vals(p.outChannels * g.cg * g.K, g.seed + 1);
          const b = g.bias ? vals(p.outChannels, g.seed + 2) : null;
          const ref = refConv1d(
            { shape: [p.inChannels, g.L], data: Float64Array.from(x) },
            w,
            [p.outChannels, g.cg, g.K],
            b,
            p,
          );
          const Lout = conv1dOutputLength(p);
          const out = new Float32Array(p.outChannels * Lout);
          conv1d(x, w, b, p, out);
          close(out, ref.data);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('batchnorm folded into the conv at export gives the same outputs as conv then BN', () => {
    const p: Conv1dParams = {
      inChannels: 3,
      inLength: 20,
      outChannels: 5,
      kernelSize: 3,
      stride: 1,
      dilation: 1,
      padLeft: 1,
      padRight: 1,
      groups: 1,
      padValue: 0,
    };
    const x = vals(60, 1);
    const w = vals(45, 2);
    const b = vals(5, 3);
    const mean = vals(5, 4);
    const v = Float32Array.from(vals(5, 5), (q) => q * q + 0.1);
    const gamma = vals(5, 6);
    const beta = vals(5, 7);
    const y = new Float32Array(100);
    conv1d(x, w, b, p, y);
    const expected = Float64Array.from(y, (q, i) => {
      const c = Math.floor(i / 20);
      return ((q - mean[c]) / Math.sqrt(v[c] + 1e-5)) * gamma[c] + beta[c];
    });
    const f = foldBatchNormIntoConv(w, b, 5, mean, v, gamma, beta, 1e-5);
    const z = new Float32Array(100);
    conv1d(x, f.weight, f.bias, p, z);
    close(z, expected, 1e-5);
    const ss = batchNormScaleShift(mean, v, gamma, beta, 1e-5);
    expect(ss.scale[0]).toBeCloseTo(gamma[0] / Math.sqrt(v[0] + 1e-5), 6);
  });
});

describe('pooling and softmax', () => {
  it('max/avg pooling equal the naive formula (padding: −∞ for max, zeros counted for avg)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(3),
        (C, L, K, S, pad) => {
          fc.pre(pad * 2 <= K && L + 2 * pad >= K);
          const x = vals(C * L, C + L);
          for (const kind of ['max', 'avg'] as const) {
            const ref = refPool({ shape: [C, L], data: Float64Array.from(x) }, K, S, pad, kind);
            const out = new Float32Array(ref.data.length);
            (kind === 'max' ? maxPool1d : avgPool1d)(x, C, L, K, S, pad, pad, out);
            close(out, ref.data);
          }
        },
      ),
    );
    const out = new Float32Array(2);
    maxPool1d(Float32Array.of(1, 5, 2, 3), 1, 4, 2, 2, 0, 0, out);
    expect(Array.from(out)).toEqual([5, 3]);
    maxPool1d(Float32Array.of(Number.NaN, 1, 2, Number.NaN), 1, 4, 2, 2, 0, 0, out);
    expect(Array.from(out)).toEqual([Number.NaN, Number.NaN]); // NaN propagates, as PyTorch
    // NaN in the middle of a window is kept over later larger values; ties keep the first value (−0 vs +0).
    const o3 = new Float32Array(3);
    maxPool1d(Float32Array.of(1, Number.NaN, 7, -0, 0, 9, 0, -0, -1), 1, 9, 3, 3, 0, 0, o3);
    expect(Number.isNaN(o3[0])).toBe(true);
    expect(o3[1]).toBe(9);
    expect(Object.is(o3[2], 0)).toBe(true);
    maxPool1d(Float32Array.of(-0, 0, -1, 0, -0, -2), 1, 6, 3, 3, 0, 0, o3);
    expect(Object.is(o3[0], -0)).toBe(true);
    expect(Object.is(o3[1], 0)).toBe(true);
  });

  it('softmax is stable for large logits and sums to 1', () => {
    const x = Float32Array.of(1000, 1001, 999);
    softmax(x, 3, 1, x);
    expect(x[0] + x[1] + x[2]).toBeCloseTo(1, 6);
    expect(x[1]).toBeCloseTo(Math.exp(1) / (1 + Math.exp(1) + Math.exp(-1)), 6);
  });
});
