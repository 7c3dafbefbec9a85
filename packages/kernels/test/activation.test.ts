/**
 * The reference activation kernels (unary, unaryBackward, prelu, preluBackward, softmax, softmaxBackward):
 * fixed values, numerical stability at extreme inputs, and fast-check properties against oracles written
 * here — naive loops for the forwards, central finite differences of the forward for the gradients, an
 * explicit Jacobian for softmax — in float64 and float32.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { UnaryGradKernelOp, UnaryKernelOp } from '../src/contract.js';
import { Generator } from '../src/random.js';
import {
  erfScalar,
  prelu,
  preluBackward,
  softmax,
  softmaxBackward,
  unary,
  unaryBackward,
} from '../src/ref/activation.js';

type F = Float32Array | Float64Array;

/** unary on plain numbers in float64. */
function apply(op: UnaryKernelOp, xs: readonly number[], p0?: number, p1?: number): number[] {
  const out = new Float64Array(xs.length);
  unary(op, Float64Array.from(xs), out, p0, p1);
  return Array.from(out);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i]).toBeNaN();
    else if (!Number.isFinite(want[i])) expect(got[i]).toBe(want[i]);
    else if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`element ${i}: got ${got[i]}, want ${want[i]} (tol ${tol})`);
    }
  }
}

function randArray(n: number, gen: Generator, f64: boolean, scale = 1): F {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * gen.normal();
  return a;
}

// ---------------------------------------------------------------------------------------------------------
// unary

describe('unary: fixed values', () => {
  test('the original ops', () => {
    const xs = [-2, -0.5, 0, 0.5, 3];
    expectClose(apply('neg', xs), [2, 0.5, -0, -0.5, -3], 0);
    expectClose(apply('abs', xs), [2, 0.5, 0, 0.5, 3], 0);
    expectClose(apply('relu', xs), [0, 0, 0, 0.5, 3], 0);
    expectClose(apply('square', xs), [4, 0.25, 0, 0.25, 9], 0);
    expectClose(apply('sign', [-2, -0, 0, 3, Number.NaN]), [-1, 1, 1, 1, 1], 0);
    expectClose(apply('exp', [0, 1]), [1, Math.E], 1e-15);
    expectClose(apply('log', [1, Math.E]), [0, 1], 1e-15);
    expectClose(apply('sqrt', [4, 2]), [2, Math.SQRT2], 1e-15);
    expectClose(apply('reciprocal', [4, -0.5]), [0.25, -2], 0);
    expectClose(apply('tanh', [0, 1]), [0, 0.7615941559557649], 1e-15);
    expectClose(apply('sigmoid', [0, 2, -2]), [0.5, 0.8807970779778823, 0.11920292202211755], 1e-15);
    expect(apply('relu', [Number.NaN])[0]).toBeNaN();
  });

  test('erf against libm values, to a few ulp', () => {
    const cases: Array<[number, number]> = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [-2, -0.9953222650189527],
      [3, 0.9999779095030014],
      [0.999999, 0.8427003778418023],
      [1, 0.8427007929497149],
      [5.211706, 0.9999999999998299],
      [-0.402102, -0.4304118134448142],
      [1e-300, 1.1283791670955126e-300],
      [7, 1],
    ];
    for (const [x, want] of cases) {
      expect(Math.abs(erfScalar(x) - want)).toBeLessThanOrEqual(2.5e-15 * Math.abs(want));
    }
    expect(apply('erf', [0.5, -2])).toEqual([erfScalar(0.5), erfScalar(-2)]);
    expect(erfScalar(Number.NaN)).toBeNaN();
    expect(erfScalar(Number.NEGATIVE_INFINITY)).toBe(-1);
  });

  test('parametrised activations', () => {
    expectClose(apply('leakyRelu', [-2, 0, 3], 0.1), [-0.2, 0, 3], 1e-15);
    expectClose(apply('elu', [-1, 0, 2], 1.5), [1.5 * (Math.exp(-1) - 1), 0, 2], 1e-15);
    expectClose(apply('gelu', [1, -1, 0]), [0.8413447460685429, -0.15865525393145707, 0], 1e-15);
    expectClose(apply('geluTanh', [1, -1]), [0.8411919906082768, -0.15880800939172324], 1e-15);
    expectClose(apply('hardtanh', [-3, -0.5, 2], -1, 1), [-1, -0.5, 1], 0);
    expectClose(apply('clamp', [-3, 0.2, 9, Number.NaN], 0, 5), [0, 0.2, 5, Number.NaN], 0);
    expectClose(apply('softplus', [0, 1], 1, 20), [Math.LN2, Math.log1p(Math.E)], 1e-15);
    expectClose(apply('softplus', [0], 2, 20), [Math.LN2 / 2], 1e-15);
    expectClose(apply('softplus', [30], 1, 20), [30], 0);
    expectClose(apply('silu', [1, -1, 0]), [0.7310585786300049, -0.2689414213699951, 0], 1e-15);
  });

  test('stable at extreme inputs: sigmoid, softplus, silu never overflow', () => {
    expectClose(apply('sigmoid', [-1000, 1000]), [0, 1], 0);
    expectClose(apply('softplus', [-1000, 1000], 1, Number.POSITIVE_INFINITY), [0, 1000], 0);
    expectClose(apply('softplus', [-40], 1, 20), [Math.exp(-40)], 1e-15);
    expectClose(apply('silu', [-1000, 1000]), [-0, 1000], 0);
    expectClose(apply('elu', [-1000], 1), [-1], 0);
  });

  test('out may be the input array; int32 arrays work for the sign-free ops', () => {
    const x = Float64Array.of(-1, 2);
    unary('neg', x, x);
    expect(Array.from(x)).toEqual([1, -2]);
    const xi = Int32Array.of(-3, 4);
    const oi = new Int32Array(2);
    unary('abs', xi, oi);
    expect(Array.from(oi)).toEqual([3, 4]);
  });

  test('float32 results are the float64 ones rounded once (fast-check)', () => {
    const ops: Array<[UnaryKernelOp, number, number]> = [
      ['erf', 0, 0],
      ['gelu', 0, 0],
      ['geluTanh', 0, 0],
      ['elu', 0.7, 0],
      ['softplus', 1.5, 20],
      ['silu', 0, 0],
      ['sigmoid', 0, 0],
      ['leakyRelu', 0.2, 0],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...ops), fc.integer({ min: 0, max: 1e6 }), ([op, p0, p1], seed) => {
        const x32 = randArray(17, new Generator(seed), false, 3) as Float32Array;
        const out32 = new Float32Array(17);
        const out64 = new Float64Array(17);
        unary(op, x32, out32, p0, p1);
        unary(op, Float64Array.from(x32), out64, p0, p1);
        expect(Array.from(out32)).toEqual(Array.from(Float32Array.from(out64)));
      }),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// unaryBackward

/** Ops with a derivative, their parameters, and the kinks (where finite differences are not taken). */
const DIFFERENTIABLE: Array<{ op: UnaryKernelOp; p0: number; p1: number; kinks: number[]; pos?: boolean }> = [
  { op: 'neg', p0: 0, p1: 0, kinks: [] },
  { op: 'exp', p0: 0, p1: 0, kinks: [] },
  { op: 'log', p0: 0, p1: 0, kinks: [], pos: true },
  { op: 'sqrt', p0: 0, p1: 0, kinks: [], pos: true },
  { op: 'abs', p0: 0, p1: 0, kinks: [0] },
  { op: 'tanh', p0: 0, p1: 0, kinks: [] },
  { op: 'sigmoid', p0: 0, p1: 0, kinks: [] },
  { op: 'relu', p0: 0, p1: 0, kinks: [0] },
  { op: 'square', p0: 0, p1: 0, kinks: [] },
  { op: 'reciprocal', p0: 0, p1: 0, kinks: [], pos: true },
  { op: 'erf', p0: 0, p1: 0, kinks: [] },
  { op: 'leakyRelu', p0: 0.1, p1: 0, kinks: [0] },
  { op: 'elu', p0: 1.3, p1: 0, kinks: [0] },
  { op: 'gelu', p0: 0, p1: 0, kinks: [] },
  { op: 'geluTanh', p0: 0, p1: 0, kinks: [] },
  { op: 'hardtanh', p0: -0.7, p1: 1.2, kinks: [-0.7, 1.2] },
  { op: 'clamp', p0: -1.1, p1: 0.4, kinks: [-1.1, 0.4] },
  { op: 'softplus', p0: 2, p1: 3, kinks: [1.5] },
  { op: 'silu', p0: 0, p1: 0, kinks: [] },
];

describe('unaryBackward', () => {
  test('every differentiable op matches central finite differences of unary, float64 (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DIFFERENTIABLE),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 1e6 }),
        ({ op, p0, p1, kinks, pos }, n, seed) => {
          const gen = new Generator(seed);
          // x uniform in [−3, 3) (in [0.2, 3.2) for ops defined on positives), away from the kinks
          const x = new Float64Array(n);
          for (let i = 0; i < n; i++) {
            do x[i] = pos ? 0.2 + 3 * gen.random() : 6 * gen.random() - 3;
            while (kinks.some((k) => Math.abs(x[i] - k) < 1e-3));
          }
          const y = new Float64Array(n);
          unary(op, x, y, p0, p1);
          const g = randArray(n, gen, true);
          const gx = new Float64Array(x.length).fill(Number.NaN);
          unaryBackward(op, x, y, g, gx, p0, p1);
          const h = 1e-6;
          const want = new Float64Array(x.length);
          for (let i = 0; i < x.length; i++) {
            const up = apply(op, [x[i] + h], p0, p1)[0];
            const down = apply(op, [x[i] - h], p0, p1)[0];
            want[i] = (g[i] * (up - down)) / (2 * h);
          }
          expectClose(gx, want, 1e-6);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('PyTorch conventions at the kinks', () => {
    const g = Float64Array.of(2, 2, 2);
    const grad = (op: UnaryGradKernelOp, xs: number[], p0 = 0, p1 = 0): number[] => {
      const x = Float64Array.from(xs);
      const y = new Float64Array(x.length);
      if (op.startsWith('signSte')) unary('sign', x, y);
      else unary(op as UnaryKernelOp, x, y, p0, p1);
      const gx = new Float64Array(x.length);
      unaryBackward(op, x, y, g, gx, p0, p1);
      return Array.from(gx);
    };
    expect(grad('relu', [0, -1, 1])).toEqual([0, 0, 2]);
    expect(grad('abs', [0, -1, 1])).toEqual([0, -2, 2]);
    expect(grad('leakyRelu', [0, -1, 1], 0.1)).toEqual([0.2, 0.2, 2]);
    expect(grad('elu', [0, -1, 1], 1)).toEqual([2, 2 * Math.exp(-1), 2]);
    expect(grad('hardtanh', [-1, 0, 1], -1, 1)).toEqual([0, 2, 0]);
    expect(grad('clamp', [-1, 0, 1], -1, 1)).toEqual([2, 2, 2]);
    expect(grad('clamp', [-1.5, 0, 1.5], -1, 1)).toEqual([0, 2, 0]);
    expect(grad('sign', [-1, 0, 1])).toEqual([0, 0, 0]);
  });

  test('sign straight-through estimators against their formulas (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 16 }),
        fc.double({ min: 0.1, max: 4, noNaN: true }),
        fc.boolean(),
        (xs, s, f64) => {
          const Ctor = f64 ? Float64Array : Float32Array;
          const x = Ctor.from(xs);
          const y = new Ctor(x.length);
          unary('sign', x, y);
          const g = new Ctor(x.length);
          for (let i = 0; i < g.length; i++) g[i] = 1 + i;
          const gx = new Ctor(x.length);
          const want = new Ctor(x.length);
          unaryBackward('signSteIdentity', x, y, g, gx);
          expect(Array.from(gx)).toEqual(Array.from(g));
          unaryBackward('signSteClipped', x, y, g, gx, s);
          for (let i = 0; i < x.length; i++) want[i] = Math.abs(x[i]) <= s ? g[i] : 0;
          expect(Array.from(gx)).toEqual(Array.from(want));
          unaryBackward('signSteTriangular', x, y, g, gx, s);
          for (let i = 0; i < x.length; i++) want[i] = g[i] * 2 * s * Math.max(0, 1 - s * Math.abs(x[i]));
          expectClose(gx, want, f64 ? 1e-15 : 1e-6);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('float32 gradients agree with float64 ones; gx may be the g array', () => {
    const gen = new Generator(7);
    for (const { op, p0, p1, pos } of DIFFERENTIABLE) {
      const x64 = Float64Array.from(randArray(23, gen, true, 2), (v) => (pos ? 0.2 + Math.abs(v) : v));
      const x32 = Float32Array.from(x64);
      const xr = Float64Array.from(x32);
      const y32 = new Float32Array(23);
      const y64 = new Float64Array(23);
      unary(op, x32, y32, p0, p1);
      unary(op, xr, y64, p0, p1);
      const g32 = randArray(23, gen, false) as Float32Array;
      const gx64 = new Float64Array(23);
      unaryBackward(op, xr, y64, Float64Array.from(g32), gx64, p0, p1);
      unaryBackward(op, x32, y32, g32, g32, p0, p1); // in place
      expectClose(g32, gx64, 1e-5);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// prelu

const layout = fc.record({
  outer: fc.integer({ min: 0, max: 3 }),
  channels: fc.integer({ min: 1, max: 5 }),
  inner: fc.integer({ min: 0, max: 7 }),
  shared: fc.boolean(),
  f64: fc.boolean(),
  withGx: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('prelu and preluBackward', () => {
  test('fixed values, per-channel and shared slopes', () => {
    const x = Float64Array.of(-1, 2, -3, 4);
    const out = new Float64Array(4);
    prelu(x, Float64Array.of(0.1, 0.5), out, 1, 2, 2);
    expect(Array.from(out)).toEqual([-0.1, 2, -1.5, 4]);
    prelu(x, Float64Array.of(0.25), out, 1, 1, 4);
    expect(Array.from(out)).toEqual([-0.25, 2, -0.75, 4]);
    const gx = new Float64Array(4);
    const gw = new Float64Array(2).fill(Number.NaN);
    preluBackward(x, Float64Array.of(0.1, 0.5), Float64Array.of(1, 1, 2, 2), gx, gw, 1, 2, 2);
    expect(Array.from(gx)).toEqual([0.1, 1, 1, 2]);
    expect(Array.from(gw)).toEqual([-1, -6]);
  });

  test('forward and gradients match naive loops (fast-check, float32 and float64)', () => {
    fc.assert(
      fc.property(layout, ({ outer, channels, inner, shared, f64, withGx, seed }) => {
        const gen = new Generator(seed);
        const n = outer * channels * inner;
        const x = randArray(n, gen, f64);
        const w = randArray(shared ? 1 : channels, gen, f64);
        const g = randArray(n, gen, f64);
        const Ctor = f64 ? Float64Array : Float32Array;
        const out = new Ctor(n).fill(Number.NaN);
        const gx = withGx ? new Ctor(n).fill(Number.NaN) : null;
        const gw = new Ctor(w.length).fill(Number.NaN);
        prelu(x, w, out, outer, channels, inner);
        preluBackward(x, w, g, gx, gw, outer, channels, inner);
        const wantOut = new Float64Array(n);
        const wantGx = new Float64Array(n);
        const wantGw = new Float64Array(w.length);
        for (let i = 0; i < n; i++) {
          const c = shared ? 0 : Math.floor(i / inner) % channels;
          wantOut[i] = x[i] > 0 ? x[i] : w[c] * x[i];
          wantGx[i] = x[i] > 0 ? g[i] : w[c] * g[i];
          if (!(x[i] > 0)) wantGw[c] += g[i] * x[i];
        }
        const tol = f64 ? 1e-13 : 1e-5;
        expectClose(out, wantOut, tol);
        if (gx) expectClose(gx, wantGx, tol);
        expectClose(gw, wantGw, tol);
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// softmax

const softmaxCase = fc.record({
  outer: fc.integer({ min: 1, max: 3 }),
  reduce: fc.integer({ min: 1, max: 6 }),
  inner: fc.integer({ min: 1, max: 4 }),
  log: fc.boolean(),
  f64: fc.boolean(),
  scale: fc.constantFrom(1, 10, 300),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('softmax and softmaxBackward', () => {
  test('fixed values; stable for large logits; an all −∞ row gives NaN', () => {
    const out = new Float64Array(3);
    softmax(Float64Array.of(1, 2, 3), out, 1, 3, 1, false);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expectClose(out, [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z], 1e-15);
    softmax(Float64Array.of(1000, 0, -1000), out, 1, 3, 1, true);
    expectClose(out, [0, -1000, -2000], 1e-15);
    softmax(Float64Array.of(1000, 1000, 1000), out, 1, 3, 1, false);
    expectClose(out, [1 / 3, 1 / 3, 1 / 3], 1e-15);
    const inf = Number.NEGATIVE_INFINITY;
    softmax(Float64Array.of(inf, inf, inf), out, 1, 3, 1, false);
    expect(out.every(Number.isNaN)).toBe(true);
  });

  test('forward and backward match naive loops and the explicit Jacobian (fast-check)', () => {
    fc.assert(
      fc.property(softmaxCase, ({ outer, reduce, inner, log, f64, scale, seed }) => {
        const gen = new Generator(seed);
        const n = outer * reduce * inner;
        const x = randArray(n, gen, f64, scale);
        const g = randArray(n, gen, f64);
        const Ctor = f64 ? Float64Array : Float32Array;
        const y = new Ctor(n).fill(Number.NaN);
        const gx = new Ctor(n).fill(Number.NaN);
        softmax(x, y, outer, reduce, inner, log);
        softmaxBackward(y, g, gx, outer, reduce, inner, log);
        const wantY = new Float64Array(n);
        const wantGx = new Float64Array(n);
        const p = new Float64Array(reduce);
        for (let o = 0; o < outer; o++) {
          for (let j = 0; j < inner; j++) {
            const at = (k: number) => (o * reduce + k) * inner + j;
            let m = Number.NEGATIVE_INFINITY;
            for (let k = 0; k < reduce; k++) m = Math.max(m, x[at(k)]);
            let s = 0;
            for (let k = 0; k < reduce; k++) s += Math.exp(x[at(k)] - m);
            for (let k = 0; k < reduce; k++) {
              p[k] = Math.exp(x[at(k)] - m) / s;
              wantY[at(k)] = log ? x[at(k)] - m - Math.log(s) : p[k];
            }
            // gx_k = Σ_i g_i · ∂y_i/∂x_k with ∂p_i/∂x_k = p_i(δ_ik − p_k), ∂log p_i/∂x_k = δ_ik − p_k
            for (let k = 0; k < reduce; k++) {
              let acc = 0;
              for (let i = 0; i < reduce; i++) {
                const d = (i === k ? 1 : 0) - p[k];
                acc += g[at(i)] * (log ? d : p[i] * d);
              }
              wantGx[at(k)] = acc;
            }
          }
        }
        const tol = f64 ? 1e-12 : 2e-5;
        expectClose(y, wantY, tol);
        expectClose(gx, wantGx, tol);
      }),
      { numRuns: 200 },
    );
  });
});
