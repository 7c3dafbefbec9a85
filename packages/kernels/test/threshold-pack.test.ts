// Threshold packing (conventions.ts §7: max pool → per-channel float rule → packed bits) in both kernel sets
// against the plain-loop oracle over fast-check geometries with NaN, ±0, ±∞ and ties in the data and
// thresholds of every kind (−∞, NaN, ±0, values of the data itself); argument errors; and the float threshold
// search (`foldSignBySearch`) against exhaustive and sampled evaluation of monotone epilogues.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { floatThresholdBit, foldSignBySearch } from '../src/binary/conventions.js';
import { KernelArgumentError, type Kernels } from '../src/contract.js';
import { referenceKernels } from '../src/ref/index.js';
import { naiveThresholdPack } from '../src/testing.js';
import { getWasmKernels } from '../src/wasm/index.js';

const wasm = getWasmKernels();
const sets: [string, Pick<Kernels, 'thresholdPack'>][] = [['reference', referenceKernels]];
if (wasm) sets.push(['wasm-simd', wasm]);

/** Special values drawn often: the ones the rule and the pool must get right. */
const SPECIAL = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, -1, 0.5];

const value = fc.oneof(
  { weight: 3, arbitrary: fc.float({ noNaN: true, min: -4, max: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL) },
);

const geometry = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    C: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(8, 32, 64)),
    L: fc.integer({ min: 1, max: 45 }),
    k: fc.integer({ min: 1, max: 8 }),
    s: fc.integer({ min: 1, max: 3 }),
    pooled: fc.boolean(),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .filter((g) => !g.pooled || g.k <= g.L);

/** Deterministic data: mostly small values (so windows tie and cross thresholds), some of {@link SPECIAL}. */
function data(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s % 11 === 0 ? SPECIAL[(s >>> 8) % SPECIAL.length] : Math.round((s / 2 ** 31 - 1) * 8) / 4;
  }
  return a;
}

describe.each(sets)('thresholdPack (%s kernels)', (_name, k) => {
  it('equals the plain-loop oracle (pools of stride 1–3, every kind of threshold, NaN, ±0, ±∞)', () => {
    fc.assert(
      fc.property(
        geometry,
        fc.array(value, { minLength: 70, maxLength: 70 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 70, maxLength: 70 }),
        (g, ts, flags) => {
          const x = data(g.batch * g.C * g.L, g.seed);
          // Thresholds: the drawn values, and some taken from the data itself (exact ties).
          const threshold = Float32Array.from({ length: g.C }, (_, c) =>
            c % 5 === 4 ? x[(c * 7) % x.length] : ts[c],
          );
          // Direction and the two infinity bits, every combination.
          const direction = Int8Array.from({ length: g.C }, (_, c) => (flags[c] & 1 ? 1 : -1));
          const minusInf = Uint8Array.from({ length: g.C }, (_, c) => (flags[c] >> 1) & 1);
          const plusInf = Uint8Array.from({ length: g.C }, (_, c) => (flags[c] >> 2) & 1);
          const pool = g.pooled ? { kernelSize: g.k, stride: g.s } : null;
          const T = pool ? Math.floor((g.L - g.k) / g.s) + 1 : g.L;
          const W = Math.ceil(g.C / 32);
          const out = new Uint32Array(g.batch * T * W + 3).fill(0xdeadbeef);
          k.thresholdPack(x, out, {
            batch: g.batch,
            channels: g.C,
            length: g.L,
            pool,
            thresholds: { threshold, direction, minusInf, plusInf },
          });
          const want = naiveThresholdPack(
            x,
            g.batch,
            g.C,
            g.L,
            pool,
            threshold,
            direction,
            minusInf,
            plusInf,
          );
          expect(Array.from(out.subarray(0, want.length))).toEqual(Array.from(want));
          // Nothing written past the output.
          expect(Array.from(out.subarray(want.length))).toEqual([0xdeadbeef, 0xdeadbeef, 0xdeadbeef]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the layer shape of the method-5 network (8 channels, 1802 positions, pool 7 stride 2)', () => {
    const [C, L] = [8, 1802];
    const x = data(2 * C * L, 7);
    const threshold = Float32Array.from({ length: C }, (_, c) => (c - 4) / 4);
    const direction = Int8Array.from({ length: C }, (_, c) => (c % 3 === 0 ? -1 : 1));
    const minusInf = Uint8Array.from({ length: C }, (_, c) => c & 1);
    const plusInf = Uint8Array.from({ length: C }, (_, c) => (c >> 1) & 1);
    const pool = { kernelSize: 7, stride: 2 };
    const T = Math.floor((L - 7) / 2) + 1;
    const out = new Uint32Array(2 * T);
    const thresholds = { threshold, direction, minusInf, plusInf };
    k.thresholdPack(x, out, { batch: 2, channels: C, length: L, pool, thresholds });
    expect(Array.from(out)).toEqual(
      Array.from(naiveThresholdPack(x, 2, C, L, pool, threshold, direction, minusInf, plusInf)),
    );
  });

  it('rejects bad geometry, pools longer than the input, bad rules and short buffers with KernelArgumentError', () => {
    const thresholds = {
      threshold: new Float32Array(2),
      direction: new Int8Array([1, -1]),
      minusInf: new Uint8Array(2),
      plusInf: new Uint8Array(2),
    };
    const x = new Float32Array(20);
    const call =
      (p: Partial<Parameters<Kernels['thresholdPack']>[2]>, xs = x, out = new Uint32Array(10)) =>
      () =>
        k.thresholdPack(xs, out, { batch: 1, channels: 2, length: 10, pool: null, thresholds, ...p });
    expect(call({})).not.toThrow();
    expect(call({ channels: 0 })).toThrow(KernelArgumentError);
    expect(call({ pool: { kernelSize: 11, stride: 1 } })).toThrow(/pool/);
    expect(call({ pool: { kernelSize: 3, stride: 0 } })).toThrow(/pool/);
    expect(call({ thresholds: { ...thresholds, threshold: new Float32Array(1) } })).toThrow(/threshold/);
    expect(call({ thresholds: { ...thresholds, direction: new Int8Array([1, 0]) } })).toThrow(
      /direction\[1\]/,
    );
    expect(call({ thresholds: { ...thresholds, plusInf: new Uint8Array([0, 2]) } })).toThrow(/channel 1/);
    expect(call({ thresholds: { ...thresholds, minusInf: new Uint8Array(1) } })).toThrow(/minusInf/);
    expect(call({}, new Float32Array(19))).toThrow(/input has 19/);
    expect(call({}, x, new Uint32Array(9))).toThrow(/output has 9/);
  });
});

/** float32 rounding. */
const f32 = Math.fround;

/** The bit of `f(y)` under sign (conventions.ts §1–2). */
const bitOf = (v: number) => (v < 0 ? 1 : 0);

/**
 * A monotone epilogue per channel as @ecgnn/infer's kernels compute it: PReLU (slope a > 0), then an inference
 * BatchNorm as `y·scale + shift` in float64 rounded to float32 (scale of either sign).
 */
function epilogue(a: Float32Array, scale: Float64Array, shift: Float64Array) {
  return (ys: Float32Array, fs: Float32Array) => {
    for (let c = 0; c < ys.length; c++) {
      const v = ys[c];
      const p = f32(v > 0 ? v : f32(a[c] * v));
      fs[c] = f32(p * scale[c] + shift[c]);
    }
  };
}

describe('foldSignBySearch', () => {
  it('decides every sampled float as the epilogue does (PReLU → BatchNorm, both directions, ties at the threshold)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.float({ min: f32(0.01), max: 3, noNaN: true }),
            fc.double({ min: -5, max: 5, noNaN: true }),
            fc.double({ min: -5, max: 5, noNaN: true }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        fc.array(fc.float({ noNaN: true }), { minLength: 200, maxLength: 200 }),
        (chans, probes) => {
          fc.pre(chans.every(([, sc]) => sc !== 0));
          const a = Float32Array.from(chans.map((c) => c[0]));
          const scale = Float64Array.from(chans.map((c) => c[1]));
          const shift = Float64Array.from(chans.map((c) => c[2]));
          const f = epilogue(a, scale, shift);
          const r = foldSignBySearch(f, chans.length)!;
          expect(r).not.toBeNull();
          const ys = new Float32Array(chans.length);
          const fs = new Float32Array(chans.length);
          const check = (v: number) => {
            ys.fill(v);
            f(ys, fs);
            for (let c = 0; c < chans.length; c++)
              expect(floatThresholdBit(ys[c], r, c), `channel ${c}, y = ${ys[c]}`).toBe(bitOf(fs[c]));
          };
          for (const v of [...probes, ...SPECIAL]) check(v);
          // The threshold itself and its float neighbours.
          const buf = new Float32Array(1);
          const bits = new Int32Array(buf.buffer);
          for (let c = 0; c < chans.length; c++) {
            buf[0] = r.threshold[c];
            if (!Number.isFinite(buf[0])) continue;
            const b0 = bits[0];
            for (const d of [-2, -1, 0, 1, 2]) {
              bits[0] = b0 + d;
              check(buf[0]);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is exact over every float32 of a range dense around the threshold (exhaustive over 2²⁰ floats)', () => {
    const a = Float32Array.of(0.25);
    const scale = Float64Array.of(-1 / 3);
    const shift = Float64Array.of(0.1);
    const f = epilogue(a, scale, shift);
    const r = foldSignBySearch(f, 1)!;
    expect(r.direction[0]).toBe(-1);
    const buf = new Float32Array(1);
    const bits = new Int32Array(buf.buffer);
    buf[0] = r.threshold[0];
    const centre = bits[0];
    const ys = new Float32Array(1);
    const fs = new Float32Array(1);
    let wrong = 0;
    for (let d = -(1 << 19); d < 1 << 19; d++) {
      bits[0] = centre + d;
      ys[0] = buf[0];
      f(ys, fs);
      if (floatThresholdBit(ys[0], r, 0) !== bitOf(fs[0])) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it('PReLU with slope 0 (−∞ → NaN → +1): the infinity bits carry what the finite rule cannot', () => {
    const f = epilogue(Float32Array.of(0, 0), Float64Array.of(2, -2), Float64Array.of(-1, 1));
    const r = foldSignBySearch(f, 2)!;
    const ys = new Float32Array(2);
    const fs = new Float32Array(2);
    for (const v of [...SPECIAL, -3e38, 3e38, -1e-30, 1e-30, 0.49, 0.5, 0.51]) {
      ys.fill(v);
      f(ys, fs);
      for (let c = 0; c < 2; c++)
        expect(floatThresholdBit(v, r, c), `channel ${c}, y = ${v}`).toBe(bitOf(fs[c]));
    }
    // Channel 0: BN(prelu(y)) = 2·prelu(y) − 1 is −1 for every y ≤ 0 but NaN (+1) at −∞.
    expect(r.minusInf[0]).toBe(0);
    expect(floatThresholdBit(-3e38, r, 0)).toBe(1);
  });

  it('constant channels: always +1 gives threshold −∞; always −1 gives NaN (NaN itself still +1)', () => {
    const r = foldSignBySearch((ys, fs) => {
      fs[0] = 1;
      fs[1] = Number.isNaN(ys[1]) ? Number.NaN : -1;
    }, 2)!;
    expect(r.threshold[0]).toBe(Number.NEGATIVE_INFINITY);
    expect(r.threshold[1]).toBeNaN();
    expect(floatThresholdBit(3e38, r, 1)).toBe(1);
    expect(floatThresholdBit(Number.NaN, r, 1)).toBe(0);
  });

  it('refuses epilogues that send NaN to −1 or tell −0 from +0', () => {
    expect(foldSignBySearch((_ys, fs) => fs.fill(-1), 1)).toBeNull();
    expect(foldSignBySearch((ys, fs) => fs.set(ys.map((v) => (Object.is(v, -0) ? -1 : v))), 1)).toBeNull();
  });
});
