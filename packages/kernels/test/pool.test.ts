// The reference average poolings (four rows per pass) against the naive oracles: same values, float32 and
// float64, over random row counts (groups of four and the tail group), lengths, windows, padding and bin counts;
// and the adjoint of the adaptive one.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Pool1dParams } from '../src/contract.js';
import { adaptiveAvgPool1d, adaptiveAvgPool1dBackward, avgPool1d } from '../src/ref/pool.js';
import { naiveAdaptiveAvgPool1d, naiveAvgPool1d } from '../src/testing.js';

/** Deterministic values in [−4, 4) (a linear congruential sequence). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 8 - 4;
  });
}

const geometry = fc.record({
  rows: fc.integer({ min: 1, max: 11 }),
  inLength: fc.integer({ min: 1, max: 60 }),
  bins: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 70 })),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

describe('adaptiveAvgPool1d (reference)', () => {
  it('equals the naive oracle exactly: global average and any bin count, float32 and float64', () => {
    fc.assert(
      fc.property(geometry, ({ rows, inLength, bins, seed }) => {
        const v = values(rows * inLength, seed);
        const want = naiveAdaptiveAvgPool1d(v, rows, inLength, bins);
        const x64 = Float64Array.from(v);
        const out64 = new Float64Array(rows * bins).fill(Number.NaN);
        adaptiveAvgPool1d(x64, out64, rows, inLength, bins);
        expect(Array.from(out64)).toEqual(Array.from(want));
        const x32 = Float32Array.from(v);
        const out32 = new Float32Array(rows * bins).fill(Number.NaN);
        adaptiveAvgPool1d(x32, out32, rows, inLength, bins);
        const want32 = naiveAdaptiveAvgPool1d(x32, rows, inLength, bins);
        expect(Array.from(out32)).toEqual(Array.from(Float32Array.from(want32)));
      }),
      { numRuns: 300 },
    );
  });

  it('a NaN or ±∞ in a row reaches only that row’s bins', () => {
    const rows = 6;
    const L = 9;
    const x = Float32Array.from(values(rows * L, 3));
    x[2 * L + 4] = Number.NaN;
    x[5 * L] = Number.NEGATIVE_INFINITY;
    const out = new Float32Array(rows * 3);
    adaptiveAvgPool1d(x, out, rows, L, 3);
    const want = naiveAdaptiveAvgPool1d(x, rows, L, 3);
    expect(Array.from(out)).toEqual(Array.from(Float32Array.from(want)));
    expect(out.filter((v) => !Number.isFinite(v)).length).toBe(2);
  });

  it('backward is the adjoint: ⟨pool(x), g⟩ = ⟨x, poolᵀ(g)⟩', () => {
    fc.assert(
      fc.property(geometry, ({ rows, inLength, bins, seed }) => {
        const x = Float64Array.from(values(rows * inLength, seed));
        const g = Float64Array.from(values(rows * bins, seed + 1));
        const y = new Float64Array(rows * bins);
        adaptiveAvgPool1d(x, y, rows, inLength, bins);
        const gx = new Float64Array(rows * inLength).fill(Number.NaN);
        adaptiveAvgPool1dBackward(g, gx, rows, inLength, bins);
        let lhs = 0;
        let rhs = 0;
        for (let i = 0; i < y.length; i++) lhs += y[i] * g[i];
        for (let i = 0; i < x.length; i++) rhs += x[i] * gx[i];
        expect(lhs).toBeCloseTo(rhs, 9);
      }),
      { numRuns: 100 },
    );
  });
});

describe('avgPool1d (reference)', () => {
  it('equals the naive oracle exactly: the mean over time (one window per row) and padded, strided windows', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          channels: fc.integer({ min: 1, max: 5 }),
          inLength: fc.integer({ min: 1, max: 40 }),
          kFrac: fc.double({ min: 0, max: 1, noNaN: true }),
          global: fc.boolean(),
          stride: fc.integer({ min: 1, max: 4 }),
          padFrac: fc.double({ min: 0, max: 1, noNaN: true }),
          countIncludePad: fc.boolean(),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        (g) => {
          const L = g.inLength;
          const K = g.global ? L : 1 + Math.floor(g.kFrac * (L - 1));
          const padLeft = g.global ? 0 : Math.floor(g.padFrac * (K / 2));
          const stride = g.global ? L : g.stride;
          const T = Math.floor((L + 2 * padLeft - K) / stride) + 1;
          const p: Pool1dParams = {
            batch: g.batch,
            channels: g.channels,
            inLength: L,
            outLength: T,
            kernelSize: K,
            stride,
            padLeft,
            dilation: 1,
          };
          const rows = g.batch * g.channels;
          const v = values(rows * L, g.seed);
          const out64 = new Float64Array(rows * T).fill(Number.NaN);
          avgPool1d(Float64Array.from(v), out64, p, g.countIncludePad);
          expect(Array.from(out64)).toEqual(Array.from(naiveAvgPool1d(v, p, g.countIncludePad)));
          const x32 = Float32Array.from(v);
          const out32 = new Float32Array(rows * T).fill(Number.NaN);
          avgPool1d(x32, out32, p, g.countIncludePad);
          const want32 = Float32Array.from(naiveAvgPool1d(x32, p, g.countIncludePad));
          expect(Array.from(out32)).toEqual(Array.from(want32));
        },
      ),
      { numRuns: 300 },
    );
  });
});
