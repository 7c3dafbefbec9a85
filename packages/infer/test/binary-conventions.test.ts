import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sub from '../src/binary/index.js';
import {
  foldBatchNormSign,
  foldSignByEvaluation,
  packConvWeights,
  packedDot,
  packSigns,
  popcount32,
  signBit,
  signValue,
  THRESHOLD_ALWAYS,
  THRESHOLD_NEVER,
  thresholdBit,
  unpackConvWeights,
  unpackSigns,
  wordsForChannels,
} from '../src/index.js';

const naivePopcount = (v: number) => {
  let n = 0;
  for (let i = 0; i < 32; i++) n += (v >>> i) & 1;
  return n;
};

describe('binary conventions', () => {
  it('sign(0) = +1, bit 0 = +1, bit 1 = −1, NaN → +1', () => {
    expect(signValue(0)).toBe(1);
    expect(signValue(-0)).toBe(1);
    expect(signValue(Number.NaN)).toBe(1);
    expect(signValue(-1e-30)).toBe(-1);
    expect(signBit(0)).toBe(0);
    expect(signBit(-2)).toBe(1);
    expect(Array.from(packSigns([1, -1, 0, -0.5], 4))).toEqual([0b1010]);
  });

  it('subpath entry re-exports the same helpers', () => {
    expect(sub.packSigns).toBe(packSigns);
    expect(sub.popcount32).toBe(popcount32);
  });

  it('popcount32 equals the naive count', () => {
    for (const v of [0, 1, 0xffffffff, 0x80000000, 0x55555555, 0xaaaaaaaa])
      expect(popcount32(v)).toBe(naivePopcount(v));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => popcount32(v) === naivePopcount(v)),
    );
  });

  it('packs LSB-first along channels, unused high bits zero, round-trips', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat(),
        (C, rows, seed) => {
          const vals = Array.from({ length: C * rows }, (_, i) =>
            ((i * 2654435761 + seed) >>> 7) & 1 ? -1.5 : 0.25,
          );
          const w = packSigns(vals, C);
          const W = wordsForChannels(C);
          expect(w.length).toBe(rows * W);
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < C; c++)
              expect((w[r * W + (c >>> 5)] >>> (c & 31)) & 1).toBe(vals[r * C + c] < 0 ? 1 : 0);
            if (C % 32) expect(w[r * W + W - 1] >>> (C % 32)).toBe(0);
          }
          expect(Array.from(unpackSigns(w, C, rows))).toEqual(vals.map((v) => (v < 0 ? -1 : 1)));
        },
      ),
    );
  });

  it('conv weights pack to [outC][K][W] and unpack back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 7 }),
        (O, C, K) => {
          const w = Array.from({ length: O * C * K }, (_, i) => Math.sin(i * 12.9898) * 2);
          const p = packConvWeights(w, O, C, K);
          expect(p.length).toBe(O * K * wordsForChannels(C));
          expect(Array.from(unpackConvWeights(p, O, C, K))).toEqual(w.map((v) => (v < 0 ? -1 : 1)));
        },
      ),
    );
  });

  it('dot = K − 2·popcount(a ^ b) equals the ±1 dot product', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 200 }), fc.nat(), (bits, seed) => {
        const a = bits.map((b) => (b ? -1 : 1));
        const b = bits.map((_, i) => (((i * 40503 + seed) >>> 3) & 1 ? -1 : 1));
        const expected = a.reduce((s, v, i) => s + v * b[i], 0);
        expect(packedDot(packSigns(a, a.length), 0, packSigns(b, b.length), 0, a.length)).toBe(expected);
      }),
    );
  });

  it('foldBatchNormSign decides sign(BN(y)) for every integer y, including gamma < 0 and gamma = 0', () => {
    const finite = (lo: number, hi: number) =>
      fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.oneof(finite(-3, 3), fc.constant(0)), finite(-5, 5), finite(-50, 50), finite(0, 40)),
          { minLength: 1, maxLength: 8 },
        ),
        (ch) => {
          const gamma = ch.map((c) => c[0]);
          const beta = ch.map((c) => c[1]);
          const mean = ch.map((c) => c[2]);
          const v = ch.map((c) => c[3]);
          const { threshold, direction } = foldBatchNormSign(gamma, beta, mean, v, 1e-5);
          for (let c = 0; c < ch.length; c++) {
            for (let y = -80; y <= 80; y++) {
              const bn = (gamma[c] * (y - mean[c])) / Math.sqrt(v[c] + 1e-5) + beta[c];
              // Skip exact float ties of the analytic threshold (bn within rounding of 0).
              if (Math.abs(bn) < 1e-9) continue;
              expect(thresholdBit(y, threshold[c], direction[c])).toBe(signBit(bn));
            }
          }
        },
      ),
    );
    const z = foldBatchNormSign([0, 0], [0, -1], [0, 0], [1, 1], 1e-5);
    expect(Array.from(z.threshold)).toEqual([THRESHOLD_ALWAYS, THRESHOLD_NEVER]);
    expect(thresholdBit(-1e6, THRESHOLD_ALWAYS, 1)).toBe(0);
    expect(thresholdBit(1e6, THRESHOLD_NEVER, 1)).toBe(1);
  });

  it('foldSignByEvaluation finds thresholds for monotone epilogues and refuses non-monotone ones', () => {
    // Channel 0 increasing (crosses at y = 2), channel 1 decreasing (+1 for y <= −1), 2 constant +, 3 constant −.
    const lo = -3;
    const hi = 3;
    const f = [(y: number) => y - 2, (y: number) => -y - 1, () => 1, () => -1];
    const vals = f.flatMap((g) => Array.from({ length: 7 }, (_, i) => g(lo + i)));
    const r = foldSignByEvaluation(vals, 4, lo, hi)!;
    expect(Array.from(r.threshold)).toEqual([2, -1, THRESHOLD_ALWAYS, THRESHOLD_NEVER]);
    expect(Array.from(r.direction)).toEqual([1, -1, 1, 1]);
    for (let c = 0; c < 4; c++)
      for (let y = lo; y <= hi; y++)
        expect(thresholdBit(y, r.threshold[c], r.direction[c])).toBe(signBit(f[c](y)));
    // PReLU with a negative slope then BN: +,−,+ pattern is not foldable.
    expect(foldSignByEvaluation([1, -1, 1], 1, 0, 2)).toBeNull();
  });
});
