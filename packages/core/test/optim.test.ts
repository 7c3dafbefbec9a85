import { Generator, nn, optim, Parameter, randn, type Tensor, tensor, zeros } from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const arr = (t: Tensor): number[] => Array.from(t.data);
const relClose = (a: number, b: number, tol = 1e-9): void => {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
};

/** A float64 parameter with values p0, and a way to set a constant gradient c before each step. */
function setup(p0: number[]): Parameter {
  return new Parameter(tensor(p0, undefined, { dtype: 'float64' }));
}
function runConstGrad(
  p: Parameter,
  c: number[],
  opt: optim.Optimizer<optim.BaseOptions>,
  steps: number,
): void {
  for (let t = 0; t < steps; t++) {
    p.grad = tensor(c, undefined, { dtype: 'float64' });
    opt.step();
  }
}

const vec = fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 });
const steps = fc.integer({ min: 1, max: 8 });

describe('optimizers against closed-form updates', () => {
  test('SGD with momentum, dampening and Nesterov, constant gradient c', () => {
    fc.assert(
      fc.property(
        vec,
        vec,
        fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.double({ min: 0, max: 0.9, noNaN: true }),
        fc.boolean(),
        steps,
        (p0, c, lr, mu, damp, nesterov, T) => {
          const d = nesterov ? 0 : damp;
          const p = setup(p0);
          runConstGrad(
            p,
            c,
            new optim.SGD([p], { lr, momentum: mu, dampening: d, nesterov: nesterov && mu > 0 }),
            T,
          );
          // b_t = c·(μ^{t−1} + (1 − d)(1 − μ^{t−1})/(1 − μ)); update u_t = c + μ b_t (Nesterov) or b_t.
          let sumU = 0;
          for (let t = 1; t <= T; t++) {
            const b = mu === 0 ? 1 : mu ** (t - 1) + ((1 - d) * (1 - mu ** (t - 1))) / (1 - mu);
            sumU += nesterov && mu > 0 ? 1 + mu * b : b;
          }
          p0.forEach((v, i) => {
            relClose(p.data[i], v - lr * c[i] * sumU);
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  test('SGD with weight decay: θ_T = aᵀθ₀ − lr·c(1 − aᵀ)/(1 − a), a = 1 − lr·λ', () => {
    fc.assert(
      fc.property(
        vec,
        vec,
        fc.double({ min: 1e-3, max: 0.5, noNaN: true }),
        fc.double({ min: 1e-3, max: 0.5, noNaN: true }),
        steps,
        (p0, c, lr, wd, T) => {
          const p = setup(p0);
          runConstGrad(p, c, new optim.SGD([p], { lr, weightDecay: wd }), T);
          const a = 1 - lr * wd;
          p0.forEach((v, i) => {
            relClose(p.data[i], a ** T * v - (lr * c[i] * (1 - a ** T)) / (1 - a));
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  test('Adam and AMSGrad, constant gradient: each step moves lr·c/(|c| + eps)', () => {
    fc.assert(
      fc.property(
        vec,
        vec,
        fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.double({ min: 0.5, max: 0.9999, noNaN: true }),
        fc.double({ min: 1e-8, max: 1e-2, noNaN: true }),
        fc.boolean(),
        steps,
        (p0, c, lr, b1, b2, eps, amsgrad, T) => {
          const p = setup(p0);
          runConstGrad(p, c, new optim.Adam([p], { lr, betas: [b1, b2], eps, amsgrad }), T);
          // m_t = c(1 − β₁ᵗ), v_t = c²(1 − β₂ᵗ): the bias-corrected ratio is c/(|c| + eps) at every step.
          p0.forEach((v, i) => {
            relClose(p.data[i], v - (T * lr * c[i]) / (Math.abs(c[i]) + eps), 1e-8);
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  test('AdamW, constant gradient: θ_T = aᵀθ₀ − s(1 − aᵀ)/(1 − a), a = 1 − lr·λ, s = lr·c/(|c| + eps)', () => {
    fc.assert(
      fc.property(
        vec,
        vec,
        fc.double({ min: 1e-3, max: 0.1, noNaN: true }),
        fc.double({ min: 1e-3, max: 1, noNaN: true }),
        steps,
        (p0, c, lr, wd, T) => {
          const p = setup(p0);
          runConstGrad(p, c, new optim.AdamW([p], { lr, weightDecay: wd }), T);
          const a = 1 - lr * wd;
          p0.forEach((v, i) => {
            const s = (lr * c[i]) / (Math.abs(c[i]) + 1e-8);
            relClose(p.data[i], a ** T * v - (s * (1 - a ** T)) / (1 - a), 1e-8);
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  test('Adam with L2 weight decay follows the Kingma & Ba recurrence on a quadratic', () => {
    fc.assert(
      fc.property(
        vec,
        fc.double({ min: 1e-3, max: 0.1, noNaN: true }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        steps,
        (p0, lr, wd, T) => {
          const p = setup(p0);
          const opt = new optim.Adam([p], { lr, weightDecay: wd, betas: [0.8, 0.95] });
          const ref = [...p0];
          const m = [0, 0, 0];
          const v = [0, 0, 0];
          for (let t = 1; t <= T; t++) {
            // loss = Σ θ²/2 + θ: gradient θ + 1.
            p.grad = tensor(
              arr(p).map((x) => x + 1),
              undefined,
              { dtype: 'float64' },
            );
            opt.step();
            for (let i = 0; i < 3; i++) {
              const g = ref[i] + 1 + wd * ref[i];
              m[i] = 0.8 * m[i] + 0.2 * g;
              v[i] = 0.95 * v[i] + 0.05 * g * g;
              const mh = m[i] / (1 - 0.8 ** t);
              const vh = v[i] / (1 - 0.95 ** t);
              ref[i] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
            }
          }
          ref.forEach((r, i) => {
            relClose(p.data[i], r, 1e-7);
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  test('maximize flips the direction; parameters without gradients are skipped', () => {
    const p = setup([1]);
    const q = setup([5]);
    const opt = new optim.SGD([p, q], { lr: 0.5, maximize: true });
    p.grad = tensor([2], undefined, { dtype: 'float64' });
    opt.step();
    expect(arr(p)).toEqual([2]);
    expect(arr(q)).toEqual([5]);
  });
});

describe('parameter groups, closures, validation', () => {
  test('per-group options override the defaults', () => {
    const a = setup([1]);
    const b = setup([1]);
    const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5, weightDecay: 1 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    expect(opt.paramGroups[0].weightDecay).toBe(0);
    runConstGrad(a, [1], opt, 0);
    a.grad = tensor([1], undefined, { dtype: 'float64' });
    b.grad = tensor([1], undefined, { dtype: 'float64' });
    opt.step();
    relClose(a.data[0], 0.9);
    relClose(b.data[0], 1 - 0.5 * (1 + 1));
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });

  test('step(closure) evaluates the closure with gradients on and returns the loss', () => {
    const p = setup([3]);
    const opt = new optim.SGD([p], { lr: 0.25 });
    const loss = opt.step(() => {
      opt.zeroGrad();
      const l = p.mul(p).sum();
      l.backward();
      return l.item();
    });
    expect(loss).toBe(9);
    expect(arr(p)).toEqual([3 - 0.25 * 6]);
  });

  test('bad options and parameters are rejected with clear errors', () => {
    const p = setup([1]);
    expect(() => new optim.SGD([p], { lr: -1 })).toThrow(/lr must be non-negative, got -1/);
    expect(() => new optim.SGD([p], { nesterov: true })).toThrow(/Nesterov momentum requires momentum > 0/);
    expect(() => new optim.Adam([p], { betas: [0.9, 1] })).toThrow(/betas must be two numbers in \[0, 1\)/);
    expect(() => new optim.SGD([{ params: [p] }, { params: [p] }])).toThrow(/more than one group/);
    expect(() => new optim.SGD([])).toThrow(/empty/);
    expect(() => new optim.SGD([p.mul(2)])).toThrow(/leaf tensors/);
    expect(() => new optim.SGD([{ params: [p], lr: Number.NaN }])).toThrow(
      /\(group 0\): lr must be non-negative/,
    );
  });
});

describe('gradient clipping', () => {
  test('clipGradNorm scales to maxNorm and returns the total norm', () => {
    const a = new Parameter(zeros([2]));
    const b = new Parameter(zeros([1]));
    a.grad = tensor([3, 4]);
    b.grad = tensor([12]);
    expect(optim.clipGradNorm([a, b], 6.5)).toBeCloseTo(13, 5);
    const k = 6.5 / (13 + 1e-6);
    [...arr(a.grad), ...arr(b.grad)].forEach((v, i) => {
      expect(v).toBeCloseTo([3, 4, 12][i] * k, 5);
    });
    // Below the limit nothing changes.
    a.grad = tensor([3, 4]);
    expect(nn.clipGradNorm([a], 10)).toBeCloseTo(5, 6);
    expect(arr(a.grad)).toEqual([3, 4]);
    // ∞-norm and 1-norm.
    expect(nn.clipGradNorm([a], 100, Number.POSITIVE_INFINITY)).toBe(4);
    expect(nn.clipGradNorm([a], 1.4, 1)).toBeCloseTo(7, 6);
    const s = arr(a.grad);
    expect(Math.abs(s[0]) + Math.abs(s[1])).toBeCloseTo(1.4, 5);
    a.grad = tensor([Number.NaN, 1]);
    expect(() => nn.clipGradNorm([a], 1, 2, { errorIfNonfinite: true })).toThrow(
      /total gradient norm is NaN/,
    );
  });

  test('clipGradValue clamps each element', () => {
    const a = new Parameter(zeros([4]));
    a.grad = tensor([-3, -0.5, 0.5, 3]);
    optim.clipGradValue([a], 1);
    expect(arr(a.grad)).toEqual([-1, -0.5, 0.5, 1]);
  });
});

describe('optimizer state dicts resume training exactly', () => {
  const build = (seed: number) =>
    new nn.Sequential(
      new nn.Linear(3, 8, { generator: new Generator(seed) }),
      new nn.BatchNorm1d(8),
      new nn.ReLU(),
      new nn.Linear(8, 2, { generator: new Generator(seed + 1) }),
    );
  const data = Array.from({ length: 8 }, (_, i) => randn([4, 3], { generator: new Generator(100 + i) }));
  const trainSteps = (
    model: nn.Sequential,
    opt: optim.Optimizer<optim.BaseOptions>,
    sched: optim.LRScheduler | null,
    from: number,
    to: number,
  ) => {
    for (let s = from; s < to; s++) {
      opt.zeroGrad();
      model.call(data[s]).pow(2).mean().backward();
      nn.clipGradNorm(model.parameters(), 1);
      opt.step();
      sched?.step();
    }
  };

  for (const kind of ['Adam', 'AdamW', 'SGD'] as const) {
    test(`${kind}: N steps == k steps + save + load into fresh objects + N − k steps (bit-identical)`, () => {
      const make = (m: nn.Sequential): optim.Optimizer<optim.BaseOptions> =>
        kind === 'SGD'
          ? new optim.SGD(
              [
                { params: m.at(0).parameters(), lr: 0.05 },
                { params: m.at(1).parameters().concat(m.at(3).parameters()) },
              ],
              { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
            )
          : kind === 'Adam'
            ? new optim.Adam(m.parameters(), { lr: 0.01, amsgrad: true, weightDecay: 1e-3 })
            : new optim.AdamW(m.parameters(), { lr: 0.01 });
      const N = 8;
      const k = 3;
      const a = build(1);
      const optA = make(a);
      const schedA = new optim.StepLR(optA, 2, 0.5);
      trainSteps(a, optA, schedA, 0, N);

      const b = build(1);
      const optB = make(b);
      const schedB = new optim.StepLR(optB, 2, 0.5);
      trainSteps(b, optB, schedB, 0, k);
      const modelSd = b.stateDict();
      const optSd = optB.stateDict();
      const schedSd = schedB.stateDict();
      // The saved state is a copy: more training of b does not change it.
      trainSteps(b, optB, schedB, k, k + 1);

      const c = build(7);
      c.loadStateDict(modelSd);
      const optC = make(c);
      optC.loadStateDict(optSd);
      const schedC = new optim.StepLR(optC, 2, 0.5);
      schedC.loadStateDict(schedSd);
      trainSteps(c, optC, schedC, k, N);

      const pa = a.stateDict();
      const pc = c.stateDict();
      for (const key of Object.keys(pa)) {
        expect(Buffer.from(pc[key].data.buffer).equals(Buffer.from(pa[key].data.buffer))).toBe(true);
      }
      expect(optC.paramGroups.map((g) => g.lr)).toEqual(optA.paramGroups.map((g) => g.lr));
    });
  }

  test('loading a state dict from a different layout fails with a clear error', () => {
    const a = build(1);
    const opt = new optim.Adam(a.parameters());
    trainSteps(a, opt, null, 0, 1);
    const sd = opt.stateDict();
    const other = new optim.Adam([new Parameter(zeros([2]))]);
    expect(() => other.loadStateDict(sd)).toThrow(
      /group 0 has 6 parameters in the state dict, 1 in the optimizer/,
    );
    const wrongShape = new optim.Adam([
      ...new nn.Linear(3, 9).parameters(),
      ...build(2).parameters().slice(2),
    ]);
    expect(() => wrongShape.loadStateDict(sd)).toThrow(
      /state 'expAvg' of parameter 0 has shape \[8, 3\], parameter has \[9, 3\]/,
    );
  });
});
