/**
 * The reference optimizer kernels (sgdStep, adamStep): fixed values, and fast-check properties over several
 * steps against naive loops written here from PyTorch's documented algorithms (`torch.optim.SGD`, `Adam`,
 * `AdamW`), in float64 and float32 (state arrays of the parameter's dtype, as PyTorch keeps them).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { KernelArgumentError } from '../src/contract.js';
import { Generator } from '../src/random.js';
import { adamStep, sgdStep } from '../src/ref/optim.js';

type F = Float32Array | Float64Array;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`element ${i}: got ${got[i]}, want ${want[i]} (tol ${tol})`);
    }
  }
}

function randArray(n: number, gen: Generator, f64: boolean): F {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen.normal();
  return a;
}

// ---------------------------------------------------------------------------------------------------------
// SGD

interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/**
 * PyTorch's SGD, element by element: d = ±g + λθ; with momentum b = d on the first step, else
 * b = μb + (1 − τ)d; d = d + μb (Nesterov) or b; θ = θ − lr·d.
 */
function naiveSgd(theta: F, grads: F[], h: SgdHyper): void {
  const buf = theta instanceof Float64Array ? new Float64Array(theta.length) : new Float32Array(theta.length);
  grads.forEach((grad, t) => {
    for (let i = 0; i < theta.length; i++) {
      let d = h.maximize ? -grad[i] : grad[i];
      if (h.weightDecay !== 0) d = d + h.weightDecay * theta[i];
      if (h.momentum !== 0) {
        if (t === 0) buf[i] = d;
        else buf[i] = h.momentum * buf[i] + (1 - h.dampening) * d;
        if (h.nesterov) d = d + h.momentum * buf[i];
        else d = buf[i];
      }
      theta[i] = theta[i] - h.lr * d;
    }
  });
}

describe('sgdStep', () => {
  test('fixed values: plain, weight decay, momentum (first step and after)', () => {
    const p = Float64Array.of(1, -2);
    sgdStep(p, Float64Array.of(0.5, 1), null, {
      lr: 0.1,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      firstStep: false,
    });
    expectClose(p, [0.95, -2.1], 1e-15);
    sgdStep(p, Float64Array.of(0, 0), null, {
      lr: 0.1,
      momentum: 0,
      dampening: 0,
      weightDecay: 1,
      nesterov: false,
      maximize: false,
      firstStep: false,
    });
    expectClose(p, [0.855, -1.89], 1e-15);
    const q = Float64Array.of(0);
    const buf = Float64Array.of(123); // garbage: the first step overwrites it with the gradient
    const h = { lr: 1, momentum: 0.5, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };
    sgdStep(q, Float64Array.of(1), buf, { ...h, firstStep: true });
    expect([q[0], buf[0]]).toEqual([-1, 1]);
    sgdStep(q, Float64Array.of(1), buf, { ...h, firstStep: false });
    expect([q[0], buf[0]]).toEqual([-2.5, 1.5]);
  });

  test('matches the naive PyTorch loop over several steps (fast-check, float32 and float64)', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 9 }),
          steps: fc.integer({ min: 1, max: 6 }),
          lr: fc.double({ min: 1e-3, max: 0.5, noNaN: true }),
          momentum: fc.constantFrom(0, 0.5, 0.9),
          dampening: fc.constantFrom(0, 0.3),
          weightDecay: fc.constantFrom(0, 0.01, 0.2),
          nesterov: fc.boolean(),
          maximize: fc.boolean(),
          f64: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1e6 }),
        }),
        (c) => {
          const h: SgdHyper = {
            ...c,
            nesterov: c.nesterov && c.momentum > 0,
            dampening: c.nesterov ? 0 : c.dampening,
          };
          const gen = new Generator(c.seed);
          const theta = randArray(c.n, gen, c.f64);
          const grads = Array.from({ length: c.steps }, () => randArray(c.n, gen, c.f64));
          const want = theta.slice();
          naiveSgd(want, grads, h);
          const buf = h.momentum !== 0 ? (c.f64 ? new Float64Array(c.n) : new Float32Array(c.n)) : null;
          grads.forEach((g, t) => {
            sgdStep(theta, g, buf, { ...h, firstStep: t === 0 });
          });
          expectClose(theta, want, c.f64 ? 1e-14 : 1e-6);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Adam

interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  amsgrad: boolean;
  maximize: boolean;
}

/**
 * PyTorch's Adam / AdamW, element by element, at step t = 1, 2, …: AdamW first θ = θ·(1 − lr·λ), Adam
 * d = ±g + λθ; m = β₁m + (1 − β₁)d; v = β₂v + (1 − β₂)d²; v̂max = max(v̂max, v) (AMSGrad);
 * θ = θ − lr/(1 − β₁ᵗ) · m / (√v̂/√(1 − β₂ᵗ) + eps).
 */
function naiveAdam(theta: F, grads: F[], h: AdamHyper): void {
  const Ctor = theta instanceof Float64Array ? Float64Array : Float32Array;
  const m = new Ctor(theta.length);
  const v = new Ctor(theta.length);
  const vmax = new Ctor(theta.length);
  grads.forEach((grad, k) => {
    const t = k + 1;
    for (let i = 0; i < theta.length; i++) {
      let d = h.maximize ? -grad[i] : grad[i];
      if (h.decoupled) theta[i] = theta[i] * (1 - h.lr * h.weightDecay);
      else if (h.weightDecay !== 0) d = d + h.weightDecay * theta[i];
      m[i] = h.beta1 * m[i] + (1 - h.beta1) * d;
      v[i] = h.beta2 * v[i] + (1 - h.beta2) * d * d;
      let second = v[i];
      if (h.amsgrad) {
        vmax[i] = Math.max(vmax[i], v[i]);
        second = vmax[i];
      }
      const denom = Math.sqrt(second) / Math.sqrt(1 - h.beta2 ** t) + h.eps;
      theta[i] = theta[i] - ((h.lr / (1 - h.beta1 ** t)) * m[i]) / denom;
    }
  });
}

describe('adamStep', () => {
  test('fixed values: the first step moves each weight by about lr against the sign of its gradient', () => {
    const p = Float64Array.of(1, 1, 1);
    const m = new Float64Array(3);
    const v = new Float64Array(3);
    const h = {
      lr: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      decoupled: false,
      amsgrad: false,
      maximize: false,
    };
    adamStep(p, Float64Array.of(3, -0.5, 0), m, v, null, { ...h, step: 1 });
    // m̂ = g, v̂ = g²: θ − lr·g/(|g| + eps)
    expectClose(p, [1 - 0.1 * (3 / (3 + 1e-8)), 1 + 0.1 * (0.5 / (0.5 + 1e-8)), 1], 1e-15);
    expectClose(m, [0.3, -0.05, 0], 1e-15);
    expectClose(v, [0.001 * 9, 0.001 * 0.25, 0], 1e-15);
    // AdamW with a zero gradient only decays: θ·(1 − lr·λ)
    const q = Float64Array.of(2);
    adamStep(q, Float64Array.of(0), new Float64Array(1), new Float64Array(1), null, {
      ...h,
      weightDecay: 0.5,
      decoupled: true,
      step: 1,
    });
    expectClose(q, [2 * (1 - 0.05)], 1e-15);
  });

  test('AMSGrad keeps the running maximum of v; it needs the vMax array', () => {
    const p = Float64Array.of(0);
    const m = new Float64Array(1);
    const v = new Float64Array(1);
    const vMax = new Float64Array(1);
    const h = {
      lr: 0.1,
      beta1: 0.9,
      beta2: 0.9,
      eps: 1e-8,
      weightDecay: 0,
      decoupled: false,
      amsgrad: true,
      maximize: false,
    };
    adamStep(p, Float64Array.of(10), m, v, vMax, { ...h, step: 1 });
    adamStep(p, Float64Array.of(0), m, v, vMax, { ...h, step: 2 });
    expect(vMax[0]).toBeCloseTo(10, 12); // 0.1·100, while v decayed to 9
    expect(v[0]).toBeCloseTo(9, 12);
    expect(() => adamStep(p, Float64Array.of(1), m, v, null, { ...h, step: 3 })).toThrow(KernelArgumentError);
  });

  test('matches the naive PyTorch loop over several steps (fast-check, float32 and float64)', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 9 }),
          steps: fc.integer({ min: 1, max: 6 }),
          lr: fc.double({ min: 1e-4, max: 0.3, noNaN: true }),
          beta1: fc.constantFrom(0, 0.8, 0.9),
          beta2: fc.constantFrom(0.9, 0.999),
          eps: fc.constantFrom(1e-8, 1e-3),
          weightDecay: fc.constantFrom(0, 0.01, 0.3),
          decoupled: fc.boolean(),
          amsgrad: fc.boolean(),
          maximize: fc.boolean(),
          f64: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1e6 }),
        }),
        (c) => {
          const gen = new Generator(c.seed);
          const theta = randArray(c.n, gen, c.f64);
          const grads = Array.from({ length: c.steps }, () => randArray(c.n, gen, c.f64));
          const want = theta.slice();
          naiveAdam(want, grads, c);
          const Ctor = c.f64 ? Float64Array : Float32Array;
          const m = new Ctor(c.n);
          const v = new Ctor(c.n);
          const vMax = c.amsgrad ? new Ctor(c.n) : null;
          grads.forEach((g, k) => {
            adamStep(theta, g, m, v, vMax, { ...c, step: k + 1 });
          });
          expectClose(theta, want, c.f64 ? 1e-13 : 1e-6);
        },
      ),
      { numRuns: 200 },
    );
  });
});
