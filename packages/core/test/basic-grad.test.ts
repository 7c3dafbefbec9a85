/**
 * float64 central-difference gradient checks of every basic primitive (and of the composites built from
 * them) over random shapes drawn by fast-check: size-1 broadcast dimensions, odd lengths, ranks 0–4.
 * Each primitive's test is named `grad: <primitiveName>`; test/op-coverage.test.ts requires one per
 * primitive in the op table.
 */
import {
  abs,
  add,
  clamp,
  concat,
  div,
  exp,
  expand,
  flatten,
  Generator,
  gather,
  gradcheck,
  indexSelect,
  linear,
  log,
  logsumexp,
  matmul,
  matmulT,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  narrow,
  neg,
  pad,
  permute,
  pow,
  randn,
  relu,
  reshape,
  sigmoid,
  slice,
  split,
  sqrt,
  squeeze,
  stack,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  to,
  transpose,
  unsqueeze,
  variance,
  where,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const RUNS = { numRuns: 25 };

// ---------------------------------------------------------------------------------------------------------
// Random shapes and values

/** A shape of rank minRank..maxRank with dimensions 1..maxDim (1 and odd lengths included). */
const shapeArb = (minRank = 0, maxRank = 3, maxDim = 4) =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/**
 * Two shapes that broadcast together: `b` is `a` with some dimensions set to 1 and some leading
 * dimensions dropped; the pair is randomly swapped so either side may be the smaller one.
 */
const broadcastPairArb = fc
  .tuple(shapeArb(0, 4), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.nat(4), fc.boolean())
  .map(([a, ones, drop, swap]) => {
    const b = a.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, a.length));
    return swap ? ([b, a] as const) : ([a, b] as const);
  });

const seedArb = fc.integer({ min: 0, max: 2 ** 30 });

/** float64 standard normal values. */
function rnd(shape: readonly number[], seed: number): Tensor {
  return randn(shape, { dtype: 'float64', generator: new Generator(seed) });
}

/** float64 values in ±[0.5, 2.5): away from 0 (for division, logs of |x|, kinks). */
function awayFromZero(shape: readonly number[], seed: number, positive = false): Tensor {
  const gen = new Generator(seed);
  const t = randn(shape, { dtype: 'float64', generator: gen });
  for (let i = 0; i < t.size; i++) {
    const m = 0.5 + 2 * gen.random();
    t.data[i] = positive || t.data[i] >= 0 ? m : -m;
  }
  return t;
}

/** A random permutation of 0..n-1 from a seed. */
function permutation(n: number, seed: number): number[] {
  const gen = new Generator(seed);
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = gen.randint(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** A random subset of axes of a rank-n tensor, each written as a positive or negative axis. */
const axesArb = (n: number) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    )
    .map(([pick, negative]) => {
      const axes: number[] = [];
      for (let i = 0; i < n; i++) if (pick[i]) axes.push(negative[i] ? i - n : i);
      return axes;
    });

// ---------------------------------------------------------------------------------------------------------
// Elementwise binary (broadcasting)

describe('elementwise binary', () => {
  test('grad: add', () => {
    fc.assert(
      fc.property(broadcastPairArb, seedArb, ([sa, sb], seed) => {
        gradcheck(add, [rnd(sa, seed), rnd(sb, seed + 1)]);
      }),
      RUNS,
    );
  });

  test('grad: sub', () => {
    fc.assert(
      fc.property(broadcastPairArb, seedArb, ([sa, sb], seed) => {
        gradcheck(sub, [rnd(sa, seed), rnd(sb, seed + 1)]);
        // scalar operands on either side
        gradcheck((x) => sub(1.5, x), [rnd(sa, seed)]);
      }),
      RUNS,
    );
  });

  test('grad: mul', () => {
    fc.assert(
      fc.property(broadcastPairArb, seedArb, ([sa, sb], seed) => {
        gradcheck(mul, [rnd(sa, seed), rnd(sb, seed + 1)]);
        gradcheck((x) => mul(x, x), [rnd(sa, seed)]); // same tensor twice: contributions add
      }),
      RUNS,
    );
  });

  test('grad: div', () => {
    fc.assert(
      fc.property(broadcastPairArb, seedArb, ([sa, sb], seed) => {
        gradcheck(div, [rnd(sa, seed), awayFromZero(sb, seed + 1)]);
        gradcheck((x) => div(2, x), [awayFromZero(sb, seed + 2)]);
      }),
      RUNS,
    );
  });

  test('grad: pow', () => {
    fc.assert(
      fc.property(broadcastPairArb, seedArb, ([sa, sb], seed) => {
        // positive base: both gradients defined
        gradcheck(pow, [awayFromZero(sa, seed, true), rnd(sb, seed + 1)]);
        // any base, integer exponent
        gradcheck((x) => pow(x, 3), [rnd(sa, seed)]);
      }),
      RUNS,
    );
    // Special values (as PyTorch): d/da a^0 = 0 even at a = 0; d/db 0^b = 0; d/db (−1)^b = NaN.
    const a = tensor([0, 0, 2, -1], [4], { dtype: 'float64', requiresGrad: true });
    const b = tensor([0, 2, 0, 2], [4], { dtype: 'float64', requiresGrad: true });
    sum(pow(a, b)).backward();
    expect(Array.from(a.grad!.data)).toEqual([0, 0, 0, -2]);
    const gb = Array.from(b.grad!.data);
    expect(gb.slice(0, 3)).toEqual([0, 0, Math.log(2)]);
    expect(gb[3]).toBeNaN();
    // x^0.5 at 0 has an infinite derivative
    const z = tensor([0], [1], { dtype: 'float64', requiresGrad: true });
    sum(pow(z, 0.5)).backward();
    expect(z.grad!.data[0]).toBe(Number.POSITIVE_INFINITY);
  });

  test('grad: maximum', () => {
    fc.assert(
      fc.property(broadcastPairArb, seedArb, ([sa, sb], seed) => {
        gradcheck(maximum, [rnd(sa, seed), rnd(sb, seed + 1)]);
      }),
      RUNS,
    );
    // ties split the gradient evenly
    const a = tensor([1, 2], [2], { dtype: 'float64', requiresGrad: true });
    const b = tensor([1, 3], [2], { dtype: 'float64', requiresGrad: true });
    sum(maximum(a, b)).backward();
    expect(Array.from(a.grad!.data)).toEqual([0.5, 0]);
    expect(Array.from(b.grad!.data)).toEqual([0.5, 1]);
  });

  test('grad: minimum', () => {
    fc.assert(
      fc.property(broadcastPairArb, seedArb, ([sa, sb], seed) => {
        gradcheck(minimum, [rnd(sa, seed), rnd(sb, seed + 1)]);
      }),
      RUNS,
    );
    const a = tensor([1, 2], [2], { dtype: 'float64', requiresGrad: true });
    const b = tensor([1, 3], [2], { dtype: 'float64', requiresGrad: true });
    sum(minimum(a, b)).backward();
    expect(Array.from(a.grad!.data)).toEqual([0.5, 1]);
    expect(Array.from(b.grad!.data)).toEqual([0.5, 0]);
  });

  test('grad: where', () => {
    const triple = fc
      .tuple(broadcastPairArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), seedArb)
      .map(([[sa, sb], ones, seed]) => {
        // The condition broadcasts too: a's shape with some dims set to 1.
        const sc = sa.map((d, i) => (ones[i] ? 1 : d));
        return { sa, sb, sc, seed };
      });
    fc.assert(
      fc.property(triple, ({ sa, sb, sc, seed }) => {
        const gen = new Generator(seed + 7);
        const cond = tensor(
          Array.from({ length: sc.reduce((p, d) => p * d, 1) }, () => (gen.random() < 0.5 ? 1 : 0)),
          sc,
          { dtype: 'float64' },
        );
        gradcheck((a, b) => where(cond, a, b), [rnd(sa, seed), rnd(sb, seed + 1)]);
        gradcheck((a) => where(cond, a, 0), [rnd(sa, seed)]);
        gradcheck((b) => where(cond, -1, b), [rnd(sb, seed)]);
        // a condition with more dimensions than the operands: their gradients are summed back down
        const bigCond = tensor(
          Array.from({ length: 2 * sa.reduce((p, d) => p * d, 1) }, () => (gen.random() < 0.5 ? 1 : 0)),
          [2, ...sa],
        );
        gradcheck((a) => where(bigCond, a, 0), [rnd(sa, seed)]);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Elementwise unary

describe('elementwise unary', () => {
  const checkUnary = (f: (x: Tensor) => Tensor, input: (s: number[], seed: number) => Tensor) => {
    fc.assert(
      fc.property(shapeArb(0, 4), seedArb, (shape, seed) => {
        gradcheck(f, [input(shape, seed)]);
      }),
      RUNS,
    );
  };
  const positive = (s: number[], seed: number) => awayFromZero(s, seed, true);
  test('grad: neg', () => checkUnary(neg, rnd));
  test('grad: exp', () => checkUnary(exp, rnd));
  test('grad: log', () => checkUnary(log, positive));
  test('grad: sqrt', () => checkUnary(sqrt, positive));
  test('grad: abs', () => checkUnary(abs, awayFromZero));
  test('grad: tanh', () => checkUnary(tanh, rnd));
  test('grad: sigmoid', () => checkUnary(sigmoid, rnd));
  test('grad: relu', () => checkUnary(relu, awayFromZero));

  test('grad: clamp', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 4),
        seedArb,
        fc.double({ min: -1.3, max: 0, noNaN: true }),
        fc.double({ min: 0.1, max: 1.3, noNaN: true }),
        (shape, seed, lo, hi) => {
          const x = rnd(shape, seed);
          // keep the finite-difference stencil off the kinks at the bounds
          for (let i = 0; i < x.size; i++) {
            if (Math.abs(x.data[i] - lo) < 1e-3 || Math.abs(x.data[i] - hi) < 1e-3) x.data[i] += 0.01;
          }
          gradcheck((t) => clamp(t, lo, hi), [x]);
          gradcheck((t) => clamp(t, lo), [x]);
        },
      ),
      RUNS,
    );
    // at the bounds the gradient passes (inclusive, as PyTorch); outside it is 0
    const x = tensor([-2, -1, 0, 1, 2], [5], { dtype: 'float64', requiresGrad: true });
    sum(clamp(x, -1, 1)).backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 1, 1, 1, 0]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Reductions

const reduceCase = fc
  .tuple(shapeArb(1, 4), seedArb, fc.boolean())
  .chain(([shape, seed, keepDims]) => axesArb(shape.length).map((axes) => ({ shape, seed, keepDims, axes })));

describe('reductions', () => {
  test('grad: sum', () => {
    fc.assert(
      fc.property(reduceCase, ({ shape, seed, keepDims, axes }) => {
        gradcheck((x) => sum(x, axes, keepDims), [rnd(shape, seed)]);
        gradcheck((x) => sum(x), [rnd(shape, seed)]);
      }),
      RUNS,
    );
  });

  test('grad: max', () => {
    fc.assert(
      fc.property(reduceCase, ({ shape, seed, keepDims, axes }) => {
        gradcheck((x) => max(x, axes, keepDims), [rnd(shape, seed)]);
      }),
      RUNS,
    );
    // tied maxima share the gradient
    const x = tensor([3, 1, 3], [3], { dtype: 'float64', requiresGrad: true });
    max(x).backward();
    expect(Array.from(x.grad!.data)).toEqual([0.5, 0, 0.5]);
  });

  test('grad: min', () => {
    fc.assert(
      fc.property(reduceCase, ({ shape, seed, keepDims, axes }) => {
        gradcheck((x) => min(x, axes, keepDims), [rnd(shape, seed)]);
      }),
      RUNS,
    );
  });

  test('grad composites: mean, var, logsumexp', () => {
    fc.assert(
      fc.property(reduceCase, fc.constantFrom(0, 1), ({ shape, seed, keepDims, axes }, correction) => {
        const x = rnd(shape, seed);
        gradcheck((t) => mean(t, axes, keepDims), [x]);
        let n = 1;
        for (const a of axes) n *= shape[a < 0 ? a + shape.length : a];
        if (n > correction) gradcheck((t) => variance(t, axes, { keepDims, correction }), [x]);
        gradcheck((t) => logsumexp(t, axes, keepDims), [x]);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Shape ops

describe('shape ops', () => {
  test('grad: reshape', () => {
    fc.assert(
      fc.property(shapeArb(0, 4), seedArb, fc.nat(3), (shape, seed, k) => {
        const x = rnd(shape, seed);
        const rev = [...shape].reverse();
        gradcheck((t) => reshape(t, rev), [x]);
        gradcheck((t) => reshape(t, [-1]), [x]);
        if (shape.length > 0) {
          const withHole = [...rev];
          withHole[k % rev.length] = -1;
          gradcheck((t) => reshape(t, withHole), [x]);
        }
      }),
      RUNS,
    );
  });

  test('grad: permute', () => {
    fc.assert(
      fc.property(shapeArb(1, 4), seedArb, (shape, seed) => {
        const perm = permutation(shape.length, seed);
        gradcheck((t) => permute(t, perm), [rnd(shape, seed)]);
        if (shape.length >= 2) gradcheck((t) => transpose(t, 0, -1), [rnd(shape, seed)]);
      }),
      RUNS,
    );
  });

  test('grad: expand', () => {
    const expandCase = fc
      .tuple(shapeArb(0, 3), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), shapeArb(0, 2), seedArb)
      .map(([target, ones, lead, seed]) => ({
        from: target.map((d, i) => (ones[i] ? 1 : d)),
        to: [...lead, ...target],
        seed,
      }));
    fc.assert(
      fc.property(expandCase, ({ from, to: target, seed }) => {
        gradcheck((t) => expand(t, target), [rnd(from, seed)]);
        // −1 keeps an existing dimension
        const withHoles = target.map((d, i) => (i >= target.length - from.length ? -1 : d));
        gradcheck((t) => expand(t, withHoles), [rnd(from, seed)]);
      }),
      RUNS,
    );
  });

  test('grad: slice', () => {
    const sliceCase = shapeArb(1, 4, 6).chain((shape) =>
      fc
        .tuple(
          ...shape.map((n) =>
            fc.option(
              fc.tuple(
                fc.integer({ min: -n - 1, max: n }),
                fc.integer({ min: -n, max: n + 1 }),
                fc.integer({ min: 1, max: 3 }),
              ),
              { nil: null },
            ),
          ),
        )
        .map((spec) => ({ shape, spec })),
    );
    fc.assert(
      fc.property(sliceCase, seedArb, ({ shape, spec }, seed) => {
        gradcheck((t) => slice(t, spec), [rnd(shape, seed)]);
      }),
      RUNS,
    );
  });

  test('grad: pad', () => {
    const padCase = shapeArb(1, 4).chain((shape) =>
      fc
        .array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: 1, maxLength: shape.length })
        .map((pads) => ({ shape, pads })),
    );
    fc.assert(
      fc.property(
        padCase,
        seedArb,
        fc.double({ min: -2, max: 2, noNaN: true }),
        ({ shape, pads }, seed, value) => {
          gradcheck((t) => pad(t, pads, value), [rnd(shape, seed)]);
          gradcheck((t) => pad(t, pads, 0, { allAxes: true }), [rnd(shape, seed)]);
        },
      ),
      RUNS,
    );
  });

  test('grad: concat', () => {
    const catCase = fc
      .tuple(
        shapeArb(1, 4),
        fc.nat(3),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
      )
      .map(([shape, k, lens]) => {
        const axis = k % shape.length;
        return { axis, shapes: lens.map((l) => shape.map((d, i) => (i === axis ? l : d))) };
      });
    fc.assert(
      fc.property(catCase, seedArb, ({ axis, shapes }, seed) => {
        const xs = shapes.map((s, i) => rnd(s, seed + i));
        gradcheck((...ts) => concat(ts, axis), xs);
        gradcheck((...ts) => concat(ts, axis - shapes[0].length), xs); // negative axis
      }),
      RUNS,
    );
  });

  test('grad composites: stack, split, narrow, squeeze, unsqueeze, flatten', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), seedArb, fc.nat(3), (shape, seed, k) => {
        const a = rnd(shape, seed);
        const b = rnd(shape, seed + 1);
        const axis = k % (shape.length + 1);
        gradcheck((x, y) => stack([x, y], axis), [a, b]);
        const ax = k % shape.length;
        gradcheck(
          (x) => stack(split(x, 2, ax).reverse(), 0).sum(0),
          [
            rnd(
              shape.map((d, i) => (i === ax ? 4 : d)),
              seed,
            ),
          ],
        );
        if (shape[ax] > 1) gradcheck((x) => narrow(x, ax, 1, shape[ax] - 1), [a]);
        gradcheck((x) => squeeze(unsqueeze(x, axis), axis), [a]);
        gradcheck((x) => flatten(x, 0, -1), [a]);
        gradcheck((x) => squeeze(x), [a]);
      }),
      RUNS,
    );
  });

  test('grad: gather', () => {
    const gatherCase = shapeArb(1, 3).chain((shape) =>
      fc
        .tuple(
          fc.nat(2),
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: shape.length, maxLength: shape.length }),
          seedArb,
        )
        .map(([k, idxDims, seed]) => {
          const axis = k % shape.length;
          // index may be smaller than the input in every dim but `axis`, where it may be larger
          const ishape = shape.map((d, i) => (i === axis ? idxDims[i] : Math.min(d, idxDims[i])));
          return { shape, axis, ishape, seed };
        }),
    );
    fc.assert(
      fc.property(gatherCase, ({ shape, axis, ishape, seed }) => {
        const gen = new Generator(seed + 3);
        const n = ishape.reduce((p, d) => p * d, 1);
        const index = tensor(
          Array.from({ length: n }, () => gen.randint(shape[axis])),
          ishape,
          { dtype: 'int32' },
        );
        gradcheck((x) => gather(x, axis, index), [rnd(shape, seed)]);
        gradcheck((x) => gather(x, axis - shape.length, index), [rnd(shape, seed)]);
      }),
      RUNS,
    );
  });

  test('grad: indexSelect', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3),
        seedArb,
        fc.nat(2),
        fc.integer({ min: 0, max: 5 }),
        (shape, seed, k, len) => {
          const axis = k % shape.length;
          const gen = new Generator(seed + 5);
          // repeated indices accumulate their gradients
          const index = tensor(
            Array.from({ length: len }, () => gen.randint(shape[axis])),
            [len],
            { dtype: 'int32' },
          );
          gradcheck((x) => indexSelect(x, axis, index), [rnd(shape, seed)]);
        },
      ),
      RUNS,
    );
  });

  test('grad: cast', () => {
    fc.assert(
      fc.property(shapeArb(0, 3), seedArb, (shape, seed) => {
        const x = rnd(shape, seed);
        // float64 → float32 → float64: the gradient is the identity (up to float32 rounding of the
        // finite differences, hence the larger step)
        const opts = { eps: 1e-2, atol: 1e-4, rtol: 1e-3 };
        gradcheck((t) => to(to(t, 'float32'), 'float64'), [x], opts);
        gradcheck((t) => to(t, 'float32').mul(2), [x], opts);
        gradcheck((t) => t.float().double().mul(t), [x], opts);
      }),
      RUNS,
    );
    // the gradient arriving at a float32→float64 cast is cast back to float32
    const a = tensor([1, 2], [2], { requiresGrad: true });
    sum(to(a, 'float64')).backward();
    expect(a.grad!.dtype).toBe('float32');
    expect(Array.from(a.grad!.data)).toEqual([1, 1]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// matmul

describe('matmul', () => {
  const matCase = fc.record({
    m: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 1, max: 5 }),
    n: fc.integer({ min: 1, max: 4 }),
    batch: broadcastPairArb.map(([a, b]) => [a.slice(-2), b.slice(-2)] as const),
    transA: fc.boolean(),
    transB: fc.boolean(),
    seed: seedArb,
  });

  test('grad: matmul', () => {
    fc.assert(
      fc.property(matCase, ({ m, k, n, batch: [ba, bb], transA, transB, seed }) => {
        const a = rnd([...ba, ...(transA ? [k, m] : [m, k])], seed);
        const b = rnd([...bb, ...(transB ? [n, k] : [k, n])], seed + 1);
        gradcheck((x, y) => matmulT(x, y, transA, transB), [a, b]);
      }),
      RUNS,
    );
  });

  test('grad composites: matmul with 1-D operands, linear', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 2),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        seedArb,
        (lead, k, n, seed) => {
          gradcheck((x, y) => matmul(x, y), [rnd([k], seed), rnd([k], seed + 1)]);
          gradcheck((x, y) => matmul(x, y), [rnd([k], seed), rnd([...lead, k, n], seed + 1)]);
          gradcheck((x, y) => matmul(x, y), [rnd([...lead, n, k], seed), rnd([k], seed + 1)]);
          gradcheck(
            (x, w, b) => linear(x, w, b),
            [rnd([...lead, k], seed), rnd([n, k], seed + 1), rnd([n], seed + 2)],
          );
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// gradcheck itself must be able to fail

test('gradcheck detects a wrong gradient and names the input and element', () => {
  const x = rnd([3], 1);
  expect(gradcheck((t) => mul(t, t), [x])).toBeLessThan(1e-6);
  // mul(detach(t), t) has true derivative 2t but autograd only sees t: gradcheck must reject it
  expect(() => gradcheck((t) => mul(t.detach(), t), [x])).toThrow(
    /gradcheck: input 0 \[3\] element \d+: analytic/,
  );
  expect(() => gradcheck((t) => t.mul(2), [tensor([1, 2])])).toThrow(/must be float64/);
});
