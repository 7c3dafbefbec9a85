/**
 * The reference normalisation kernels (channelMoments, batchNormForward, batchNormBackward,
 * layerNormForward, layerNormBackward): fixed values, and fast-check properties against naive loops written
 * here (forwards) and central finite differences of a naive float64 forward (gradients), in float64 and
 * float32.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Generator } from '../src/random.js';
import {
  batchNormBackward,
  batchNormForward,
  channelMoments,
  layerNormBackward,
  layerNormForward,
} from '../src/ref/norm.js';

type F = Float32Array | Float64Array;

function randArray(n: number, gen: Generator, f64: boolean, shift = 0): F {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = shift + gen.normal();
  return a;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`element ${i}: got ${got[i]}, want ${want[i]} (tol ${tol})`);
    }
  }
}

/** Central finite differences of the scalar Σ g·f(x) with respect to each element of `v` (float64). */
function numericGrad(v: Float64Array, g: ArrayLike<number>, f: () => Float64Array, h = 1e-6): Float64Array {
  const out = new Float64Array(v.length);
  const dot = (y: Float64Array) => {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += g[i] * y[i];
    return s;
  };
  for (let i = 0; i < v.length; i++) {
    const keep = v[i];
    v[i] = keep + h;
    const up = dot(f());
    v[i] = keep - h;
    const down = dot(f());
    v[i] = keep;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Naive oracles: batch [B, C, L] and layer [rows, cols] normalisation, written index by index.

function naiveMoments(x: ArrayLike<number>, b: number, c: number, l: number) {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let n = 0; n < b; n++) for (let i = 0; i < l; i++) s += x[(n * c + ch) * l + i];
    mean[ch] = s / (b * l);
    let ss = 0;
    for (let n = 0; n < b; n++) for (let i = 0; i < l; i++) ss += (x[(n * c + ch) * l + i] - mean[ch]) ** 2;
    variance[ch] = ss / (b * l);
  }
  return { mean, variance };
}

/** y = (x − μ)/√(σ² + eps)·w + b with the batch's statistics (training) or fixed ones. */
function naiveBatchNorm(
  x: ArrayLike<number>,
  w: ArrayLike<number> | null,
  bias: ArrayLike<number> | null,
  b: number,
  c: number,
  l: number,
  eps: number,
  fixed: { mean: Float64Array; variance: Float64Array } | null,
): Float64Array {
  const { mean, variance } = fixed ?? naiveMoments(x, b, c, l);
  const y = new Float64Array(b * c * l);
  for (let n = 0; n < b; n++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < l; i++) {
        const k = (n * c + ch) * l + i;
        const xh = (x[k] - mean[ch]) / Math.sqrt(variance[ch] + eps);
        y[k] = xh * (w ? w[ch] : 1) + (bias ? bias[ch] : 0);
      }
    }
  }
  return y;
}

function naiveLayerNorm(
  x: ArrayLike<number>,
  w: ArrayLike<number> | null,
  bias: ArrayLike<number> | null,
  rows: number,
  cols: number,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[r * cols + j];
    const mu = s / cols;
    let ss = 0;
    for (let j = 0; j < cols; j++) ss += (x[r * cols + j] - mu) ** 2;
    const sd = Math.sqrt(ss / cols + eps);
    for (let j = 0; j < cols; j++) {
      y[r * cols + j] = ((x[r * cols + j] - mu) / sd) * (w ? w[j] : 1) + (bias ? bias[j] : 0);
    }
  }
  return y;
}

function invstdOf(variance: Float64Array, eps: number): Float64Array {
  return Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
}

// ---------------------------------------------------------------------------------------------------------

describe('channelMoments and batchNormForward', () => {
  test('fixed values: x [2, 2, 2]', () => {
    // channel 0 holds 1, 2, 5, 6 (mean 3.5, var 4.25); channel 1 holds 3, 4, 7, 8 (mean 5.5, var 4.25)
    const x = Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const mean = new Float64Array(2);
    const variance = new Float64Array(2);
    channelMoments(x, 2, 2, 2, mean, variance);
    expect(Array.from(mean)).toEqual([3.5, 5.5]);
    expect(Array.from(variance)).toEqual([4.25, 4.25]);
    const out = new Float64Array(8);
    batchNormForward(
      x,
      mean,
      Float64Array.of(0.5, 1),
      Float64Array.of(2, 1),
      Float64Array.of(0, -1),
      out,
      2,
      2,
      2,
    );
    expect(Array.from(out)).toEqual([-2.5, -1.5, -3.5, -2.5, 1.5, 2.5, 0.5, 1.5]);
  });

  test('float64 statistics of float32 data with a large offset (no cancellation)', () => {
    const gen = new Generator(3);
    const x = randArray(4000, gen, false, 1e4) as Float32Array;
    const mean = new Float64Array(2);
    const variance = new Float64Array(2);
    channelMoments(x, 20, 2, 100, mean, variance);
    const want = naiveMoments(x, 20, 2, 100);
    expectClose(mean, want.mean, 1e-14);
    expectClose(variance, want.variance, 1e-9);
  });

  test('match the naive loops (fast-check, float32 and float64, with and without affine)', () => {
    fc.assert(
      fc.property(
        fc.record({
          b: fc.integer({ min: 1, max: 4 }),
          c: fc.integer({ min: 1, max: 5 }),
          l: fc.integer({ min: 1, max: 9 }),
          affine: fc.boolean(),
          f64: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1e6 }),
        }),
        ({ b, c, l, affine, f64, seed }) => {
          const gen = new Generator(seed);
          const x = randArray(b * c * l, gen, f64, 2);
          const w = affine ? randArray(c, gen, f64) : null;
          const bias = affine ? randArray(c, gen, f64) : null;
          const mean = new Float64Array(c).fill(Number.NaN);
          const variance = new Float64Array(c).fill(Number.NaN);
          channelMoments(x, b, c, l, mean, variance);
          const want = naiveMoments(x, b, c, l);
          expectClose(mean, want.mean, 1e-12);
          expectClose(variance, want.variance, 1e-12);
          const out = f64 ? new Float64Array(x.length) : new Float32Array(x.length);
          out.fill(Number.NaN);
          batchNormForward(x, mean, invstdOf(variance, 1e-5), w, bias, out, b, c, l);
          expectClose(out, naiveBatchNorm(x, w, bias, b, c, l, 1e-5, null), f64 ? 1e-12 : 1e-5);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('batchNormBackward', () => {
  const bnCase = fc.record({
    b: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 4 }),
    l: fc.integer({ min: 1, max: 6 }),
    affine: fc.boolean(),
    training: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1e6 }),
  });

  test('matches finite differences of the naive forward, float64 (fast-check)', () => {
    fc.assert(
      fc.property(bnCase, ({ b, c, l, affine, training, seed }) => {
        fc.pre(b * l > 1);
        const gen = new Generator(seed);
        const eps = 1e-3;
        const x = randArray(b * c * l, gen, true) as Float64Array;
        const w = affine ? (randArray(c, gen, true) as Float64Array) : null;
        const bias = affine ? (randArray(c, gen, true) as Float64Array) : null;
        const g = randArray(b * c * l, gen, true);
        // eval mode: fixed running statistics, unrelated to x
        const fixed = training
          ? null
          : {
              mean: randArray(c, gen, true) as Float64Array,
              variance: Float64Array.from({ length: c }, () => 0.5 + gen.random()),
            };
        const stats = fixed ?? naiveMoments(x, b, c, l);
        const gx = new Float64Array(x.length).fill(Number.NaN);
        const gw = affine ? new Float64Array(c).fill(Number.NaN) : null;
        const gb = affine ? new Float64Array(c).fill(Number.NaN) : null;
        batchNormBackward(x, g, stats.mean, invstdOf(stats.variance, eps), w, gx, gw, gb, b, c, l, training);
        const f = () => naiveBatchNorm(x, w, bias, b, c, l, eps, fixed);
        expectClose(gx, numericGrad(x, g, f), 1e-6);
        if (w && gw && bias && gb) {
          expectClose(gw, numericGrad(w, g, f), 1e-6);
          expectClose(gb, numericGrad(bias, g, f), 1e-6);
        }
      }),
      { numRuns: 120 },
    );
  });

  test('float32 agrees with float64; null outputs are skipped', () => {
    const gen = new Generator(11);
    const [b, c, l] = [3, 4, 5];
    const x64 = randArray(b * c * l, gen, true) as Float64Array;
    const g64 = randArray(b * c * l, gen, true) as Float64Array;
    const w64 = randArray(c, gen, true) as Float64Array;
    const x32 = Float32Array.from(x64);
    const g32 = Float32Array.from(g64);
    const w32 = Float32Array.from(w64);
    const { mean, variance } = naiveMoments(x32, b, c, l);
    const invstd = invstdOf(variance, 1e-5);
    const want = new Float64Array(x64.length);
    const wantGw = new Float64Array(c);
    batchNormBackward(
      Float64Array.from(x32),
      Float64Array.from(g32),
      mean,
      invstd,
      Float64Array.from(w32),
      want,
      wantGw,
      null,
      b,
      c,
      l,
      true,
    );
    const gx = new Float32Array(x32.length);
    const gw = new Float32Array(c);
    batchNormBackward(x32, g32, mean, invstd, w32, gx, gw, null, b, c, l, true);
    expectClose(gx, want, 1e-5);
    expectClose(gw, wantGw, 1e-5);
    const onlyGb = new Float32Array(c);
    batchNormBackward(x32, g32, mean, invstd, w32, null, null, onlyGb, b, c, l, true);
    const sums = new Float64Array(c);
    for (let n = 0; n < b; n++)
      for (let ch = 0; ch < c; ch++) for (let i = 0; i < l; i++) sums[ch] += g32[(n * c + ch) * l + i];
    expectClose(onlyGb, sums, 1e-6);
  });
});

describe('layerNormForward and layerNormBackward', () => {
  test('fixed values: one row [1, 2, 3, 4]', () => {
    const out = new Float64Array(4);
    const mean = new Float64Array(1);
    const invstd = new Float64Array(1);
    layerNormForward(Float64Array.of(1, 2, 3, 4), null, null, out, mean, invstd, 1, 4, 0);
    // μ = 2.5, σ² = 1.25
    expect(mean[0]).toBe(2.5);
    expectClose(invstd, [1 / Math.sqrt(1.25)], 1e-15);
    expectClose(
      out,
      [-1.5, -0.5, 0.5, 1.5].map((v) => v / Math.sqrt(1.25)),
      1e-15,
    );
  });

  test('forward matches the naive loop; gradients match finite differences (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.record({
          rows: fc.integer({ min: 1, max: 4 }),
          cols: fc.integer({ min: 1, max: 8 }),
          affine: fc.boolean(),
          f64: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1e6 }),
        }),
        ({ rows, cols, affine, f64, seed }) => {
          const gen = new Generator(seed);
          const eps = 1e-3;
          const x = randArray(rows * cols, gen, f64, 1);
          const w = affine ? randArray(cols, gen, f64) : null;
          const bias = affine ? randArray(cols, gen, f64) : null;
          const g = randArray(rows * cols, gen, f64);
          const Ctor = f64 ? Float64Array : Float32Array;
          const out = new Ctor(x.length).fill(Number.NaN);
          const mean = new Float64Array(rows);
          const invstd = new Float64Array(rows);
          layerNormForward(x, w, bias, out, mean, invstd, rows, cols, eps);
          expectClose(out, naiveLayerNorm(x, w, bias, rows, cols, eps), f64 ? 1e-12 : 1e-5);
          const gx = new Ctor(x.length).fill(Number.NaN);
          const gw = affine ? new Ctor(cols).fill(Number.NaN) : null;
          const gb = affine ? new Ctor(cols).fill(Number.NaN) : null;
          layerNormBackward(x, g, mean, invstd, w, gx, gw, gb, rows, cols);
          // oracle in float64 on the same (possibly float32-rounded) values
          const x64 = Float64Array.from(x);
          const w64 = w ? Float64Array.from(w) : null;
          const b64 = bias ? Float64Array.from(bias) : null;
          const f = () => naiveLayerNorm(x64, w64, b64, rows, cols, eps);
          const tol = f64 ? 1e-6 : 1e-4;
          expectClose(gx, numericGrad(x64, g, f), tol);
          if (gw && gb && w64 && b64) {
            expectClose(gw, numericGrad(w64, g, f), tol);
            expectClose(gb, numericGrad(b64, g, f), tol);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test('weight and bias gradients accumulate over many rows in float64', () => {
    // 20000 rows of g = 0.1: Σ g in float32 steps would drift by ~1e-3 relative; float64 sums round once.
    const rows = 20000;
    const cols = 2;
    const x = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) x[r * cols + 1] = 1;
    const g = new Float32Array(rows * cols).fill(0.1);
    const mean = new Float64Array(rows);
    const invstd = new Float64Array(rows);
    layerNormForward(x, null, null, new Float32Array(x.length), mean, invstd, rows, cols, 0);
    const gb = new Float32Array(cols);
    const gw = new Float32Array(cols);
    layerNormBackward(x, g, mean, invstd, Float32Array.of(1, 1), null, gw, gb, rows, cols);
    expect(gb[0]).toBe(Math.fround(rows * Math.fround(0.1)));
    expect(gw[0]).toBe(Math.fround(-rows * Math.fround(0.1)));
  });
});
