import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DspError,
  isRrFeatureName,
  normalizeRr,
  RR_FEATURE_NAMES,
  RR_FEATURES,
  type RrFeatureName,
  rrFeatures,
} from '../src/index.js';

const f32 = Math.fround;

describe('rrFeatures', () => {
  it('previous, next, local and record mean RR in seconds (fixed values)', () => {
    // Beats at 0, 100, 300, 400 samples, 100 Hz: intervals 1 s, 2 s, 1 s; record mean (400 − 0) / 3 / 100.
    const f = rrFeatures(Int32Array.of(0, 100, 300, 400), 100, 1);
    const mean = 4 / 3;
    // pre, post, local (mean of pre over ±1 beat), record, per beat
    const expected = [
      [mean, 1, (mean + 1) / 2, mean],
      [1, 2, (mean + 1 + 2) / 3, mean],
      [2, 1, (1 + 2 + 1) / 3, mean],
      [1, mean, (2 + 1) / 2, mean],
    ].flat();
    expect(Array.from(f)).toEqual(expected.map(f32));
  });

  it('local mean is the mean of previous RR over ± localHalfWidth beats (checked against a direct sum)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 8 }),
        (gaps, h) => {
          const beats = new Int32Array(gaps.length);
          for (let i = 1; i < gaps.length; i++) beats[i] = beats[i - 1] + gaps[i];
          const n = beats.length;
          const fs = 250;
          const f = rrFeatures(beats, fs, h);
          const mean = n > 1 ? (beats[n - 1] - beats[0]) / (n - 1) / fs : 0;
          const pre = (i: number): number => (i > 0 ? (beats[i] - beats[i - 1]) / fs : mean);
          for (let i = 0; i < n; i++) {
            let s = 0;
            let c = 0;
            for (let k = Math.max(0, i - h); k <= Math.min(n - 1, i + h); k++, c++) s += pre(k);
            expect(f[i * RR_FEATURES]).toBe(f32(pre(i)));
            expect(f[i * RR_FEATURES + 1]).toBe(f32(i + 1 < n ? pre(i + 1) : mean));
            expect(f[i * RR_FEATURES + 2]).toBeCloseTo(s / c, 5);
            expect(f[i * RR_FEATURES + 3]).toBe(f32(mean));
          }
        },
      ),
    );
  });

  it('edge cases: no beat, one beat (all 0), two beats (every interval is the one RR)', () => {
    expect(rrFeatures(new Int32Array(0), 360).length).toBe(0);
    expect(Array.from(rrFeatures(Int32Array.of(42), 360))).toEqual([0, 0, 0, 0]);
    expect(Array.from(rrFeatures(Int32Array.of(10, 370), 360))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('bad fs or localHalfWidth is a DspError', () => {
    const beats = Int32Array.of(0, 100);
    for (const fs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => rrFeatures(beats, fs)).toThrow(DspError);
    for (const h of [-1, 1.5, Number.NaN]) expect(() => rrFeatures(beats, 100, h)).toThrow(DspError);
  });
});

describe('normalizeRr', () => {
  it('computes each named feature (fixed values)', () => {
    // pre, post, local, record of two beats
    const raw = Float32Array.of(0.6, 1.0, 0.8, 0.5, 0.9, 0.3, 0.6, 1.2);
    const names: RrFeatureName[] = [...RR_FEATURE_NAMES];
    const y = normalizeRr(raw, 2, names);
    const row = (pre: number, post: number, local: number, rec: number): number[] => [
      pre,
      post,
      local,
      rec,
      pre / local - 1,
      post / local - 1,
      local / rec - 1,
      pre / rec - 1,
    ];
    const [a, b, c, d, e, f, g, h] = Array.from(raw);
    expect(Array.from(y)).toEqual([...row(a, b, c, d), ...row(e, f, g, h)].map(f32));
  });

  it('keeps the requested order and subset', () => {
    const raw = Float32Array.of(0.6, 1.0, 0.8, 0.5);
    const y = normalizeRr(raw, 1, ['record', 'pre/record-1', 'pre']);
    expect(Array.from(y)).toEqual([f32(0.5), f32(f32(0.6) / f32(0.5) - 1), f32(0.6)]);
    expect(normalizeRr(raw, 1, []).length).toBe(0);
  });

  it('a zero (or negative) denominator gives 0, never NaN or Infinity', () => {
    // one beat: all raw features 0
    const one = normalizeRr(rrFeatures(Int32Array.of(5), 360), 1, [...RR_FEATURE_NAMES]);
    expect(Array.from(one)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // local 0, record 0.8; then local 0.8, record −1
    const raw = Float32Array.of(0.6, 1.0, 0, 0.8, 0.6, 1.0, 0.8, -1);
    const y = normalizeRr(raw, 2, ['pre/local-1', 'post/local-1', 'local/record-1', 'pre/record-1']);
    expect(Array.from(y)).toEqual([
      0,
      0,
      -1,
      f32(f32(0.6) / f32(0.8) - 1),
      f32(f32(0.6) / f32(0.8) - 1),
      f32(f32(1.0) / f32(0.8) - 1),
      0,
      0,
    ]);
  });

  it('two beats: every ratio is 0 (one interval is the whole rhythm)', () => {
    const raw = rrFeatures(Int32Array.of(100, 388), 360);
    const y = normalizeRr(raw, 2, ['pre/local-1', 'post/local-1', 'local/record-1', 'pre/record-1']);
    expect(Array.from(y)).toEqual(new Array(8).fill(0));
  });

  it('fills a given out without allocating a new one', () => {
    const raw = Float32Array.of(0.6, 1.0, 0.8, 0.5, 0.9, 0.3, 0.6, 1.2);
    const out = new Float32Array(4);
    const y = normalizeRr(raw, 2, ['pre/local-1', 'local'], out);
    expect(y).toBe(out);
    expect(y).toEqual(normalizeRr(raw, 2, ['pre/local-1', 'local']));
  });

  it('bad input is a DspError naming what was wrong', () => {
    const raw = new Float32Array(8);
    expect(() => normalizeRr(raw, 2, ['pre', 'rr' as RrFeatureName])).toThrow(/unknown RR feature "rr"/);
    expect(() => normalizeRr(raw, 3, ['pre'])).toThrow(DspError);
    expect(() => normalizeRr(raw, -1, ['pre'])).toThrow(DspError);
    expect(() => normalizeRr(raw, 1.5, ['pre'])).toThrow(DspError);
    expect(() => normalizeRr(raw, 2, ['pre'], new Float32Array(3))).toThrow(/out has length 3/);
  });

  it('isRrFeatureName accepts exactly the listed names', () => {
    for (const n of RR_FEATURE_NAMES) expect(isRrFeatureName(n)).toBe(true);
    for (const n of ['', 'Pre', 'pre/local', 'pre/local - 1', 3, null])
      expect(isRrFeatureName(n)).toBe(false);
  });
});
