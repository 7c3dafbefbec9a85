import * as core from '@ecgnn/core';
import {
  batchNorm,
  DTypeError,
  dropout,
  elu,
  erf,
  erfScalar,
  exp,
  Generator,
  gelu,
  gradcheck,
  hardtanh,
  layerNorm,
  leakyRelu,
  logSoftmax,
  manualSeed,
  mul,
  prelu,
  randn,
  ShapeError,
  silu,
  softmax,
  softplus,
  sum,
  type Tensor,
  tensor,
  ValueError,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const NUM_RUNS = 15;

/** A random float64 tensor of the given shape from a fixed seed. */
function rnd(shape: number[], seed: number, scale = 1): Tensor {
  const t = randn(shape, { dtype: 'float64', generator: new Generator(seed) });
  for (let i = 0; i < t.size; i++) t.data[i] *= scale;
  return t;
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]} (|diff| ${err})`);
    }
  }
}

/** Applies a scalar function elementwise (the naive reference of a pointwise op). */
function mapData(x: Tensor, f: (v: number) => number): number[] {
  return Array.from(x.data, f);
}

/** Gradcheck of a unary op over random shapes. */
function gradcheckUnary(fn: (x: Tensor) => Tensor, scale = 1): void {
  fc.assert(
    fc.property(shapeArb, seedArb, (shape, seed) => {
      gradcheck(fn, [rnd(shape, seed, scale)]);
    }),
    { numRuns: NUM_RUNS },
  );
}

describe('erf', () => {
  test('forward matches libm reference values to a few ulp', () => {
    // References: CPython math.erf (libm), independent of this implementation.
    const cases: Array<[number, number]> = [
      [0, 0],
      [1e-8, 1.1283791670955126e-8],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [-0.7, -0.6778011938374184],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [2.4999, 0.9995928300996666],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
      [5, 0.9999999999984626],
      [-5, -0.9999999999984626],
      [7, 1],
    ];
    // More libm references at random points (CPython math.erf, random.seed(5), uniform on [−6.5, 6.5]).
    const grid: Array<[number, number]> = [
      [1.597722, 0.9761489498814606],
      [3.143231, 0.9999912189824879],
      [3.837516, 0.9999999427124274],
      [5.751854, 0.9999999999999996],
      [3.118681, 0.999989685872808],
      [5.490225, 0.9999999999999918],
      [-6.122932, -1.0],
      [-0.446905, -0.472625611321528],
      [5.763637, 0.9999999999999997],
      [1.936669, 0.9938348047761008],
      [5.211706, 0.9999999999998299],
      [-5.028322, -0.9999999999988489],
      [-0.402102, -0.4304118134448142],
      [-3.294553, -0.9999968256170151],
      [0.568891, 0.5789109934182675],
      [0.961235, 0.8259774601672968],
      [-6.329516, -1.0],
      [-3.682513, -0.9999998089688575],
      [-2.866729, -0.9999496867418295],
      [5.41249, 0.9999999999999806],
      [3.454431, 0.9999989673017358],
      [-4.425145, -0.9999999996103043],
      [3.862911, 0.9999999531795604],
      [-4.696024, -0.999999999968882],
      [0.566, 0.5765469107768273],
      [-1.547, -0.9713149793729529],
      [0.999999, 0.8427003778418023],
      [1.0, 0.8427007929497149],
      [2.0, 0.9953222650189527],
      [5.999999, 1.0],
      [1e-300, 1.1283791670955126e-300],
    ];
    for (const [x, want] of [...cases, ...grid]) {
      const err = Math.abs(erfScalar(x) - want);
      if (!(err <= 2.5e-15 * Math.abs(want))) throw new Error(`erf(${x}) = ${erfScalar(x)}, libm ${want}`);
    }
    const t = erf(tensor([0.5, -2, 3], [3], { dtype: 'float64' }));
    expectClose(t.data, [0.5204998778130465, -0.9953222650189527, 0.9999779095030014], 1e-15);
    expect(Number.isNaN(erfScalar(Number.NaN))).toBe(true);
    expect(erfScalar(Number.POSITIVE_INFINITY)).toBe(1);
  });

  test('grad: erf', () => gradcheckUnary(erf, 2));
});

describe('pointwise activations', () => {
  test('leakyRelu forward', () => {
    const x = tensor([-2, -0.5, 0, 0.5, 3]);
    expectClose(leakyRelu(x).data, [-0.02, -0.005, 0, 0.5, 3], 1e-6);
    expectClose(leakyRelu(x, 0.2).data, [-0.4, -0.1, 0, 0.5, 3], 1e-6);
  });
  test('grad: leakyRelu', () => gradcheckUnary((x) => leakyRelu(x, 0.1)));

  test('prelu forward with [C] and [1] weights', () => {
    const x = tensor(
      [
        [
          [-1, 2],
          [-3, 4],
        ],
        [
          [5, -6],
          [7, -8],
        ],
      ],
      undefined,
      { dtype: 'float64' },
    );
    const w = tensor([0.1, 0.5], [2], { dtype: 'float64' });
    expectClose(prelu(x, w).data, [-0.1, 2, -1.5, 4, 5, -0.6, 7, -4]);
    const w1 = tensor([0.25], [1], { dtype: 'float64' });
    expectClose(prelu(x, w1).data, [-0.25, 2, -0.75, 4, 5, -1.5, 7, -2]);
    // [B, C] input, channel dimension 1
    const x2 = tensor([[-1, -2, 3]], undefined, { dtype: 'float64' });
    expectClose(prelu(x2, tensor([1, 2, 3], [3], { dtype: 'float64' })).data, [-1, -4, 3]);
  });
  test('grad: prelu', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        seedArb,
        (b, c, l, shared, seed) => {
          const shape = l === 0 ? [b, c] : [b, c, l];
          const w = rnd([shared ? 1 : c], seed + 1, 0.5);
          gradcheck(prelu, [rnd(shape, seed), w]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
  test('prelu validation', () => {
    const x = randn([2, 3, 4]);
    expect(() => prelu(x, randn([4]))).toThrow(ShapeError);
    expect(() => prelu(x, randn([4]))).toThrow(/prelu: weight \[4\].*3 channels/);
    expect(() => prelu(x, randn([3], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => prelu(randn([3]), randn([3]))).toThrow(/no channel dimension/);
  });

  test('elu forward', () => {
    const x = tensor([-1, 0, 2], [3], { dtype: 'float64' });
    expectClose(elu(x).data, [Math.exp(-1) - 1, 0, 2]);
    expectClose(elu(x, 0.5).data, [0.5 * (Math.exp(-1) - 1), 0, 2]);
  });
  test('grad: elu', () => gradcheckUnary((x) => elu(x, 1.3)));

  test('gelu forward (exact and tanh) against naive formulas', () => {
    const x = rnd([50], 3, 3);
    const exact = mapData(x, (v) => 0.5 * v * (1 + erfScalar(v / Math.SQRT2)));
    expectClose(gelu(x).data, exact);
    const approx = mapData(
      x,
      (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    );
    expectClose(gelu(x, 'tanh').data, approx);
    // Fixed values: gelu(1) = Φ(1) = 0.8413447460685429, gelu(−1) = −(1 − Φ(1)).
    const f = gelu(tensor([1, -1, 0], [3], { dtype: 'float64' }));
    expectClose(f.data, [0.8413447460685429, -0.15865525393145707, 0], 1e-15);
    expect(() => gelu(x, 'fast' as 'none')).toThrow(ValueError);
  });
  test('grad: gelu', () => {
    gradcheckUnary((x) => gelu(x), 2);
    gradcheckUnary((x) => gelu(x, 'tanh'), 2);
  });

  test('hardtanh forward and gradient mask', () => {
    const x = tensor([-2, -1, -0.5, 0.5, 1, 2], [6], { requiresGrad: true });
    const y = hardtanh(x);
    expectClose(y.data, [-1, -1, -0.5, 0.5, 1, 1], 0);
    sum(y).backward();
    // gradient 1 strictly inside (−1, 1), 0 at and beyond the bounds (PyTorch)
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 1, 1, 0, 0]);
    expectClose(hardtanh(tensor([-3, 0, 3]), -2, 2).data, [-2, 0, 2], 0);
    expect(() => hardtanh(x, 1, -1)).toThrow(ValueError);
  });
  test('grad: hardtanh', () => gradcheckUnary((x) => hardtanh(x, -0.8, 1.2), 1.5));

  test('softplus forward is stable and follows the threshold', () => {
    const x = tensor([-1000, -1, 0, 1, 30, 1000], [6], { dtype: 'float64' });
    const y = softplus(x);
    expectClose(y.data, [0, Math.log1p(Math.exp(-1)), Math.LN2, Math.log1p(Math.E), 30, 1000]);
    const yb = softplus(tensor([1], [1], { dtype: 'float64' }), 2);
    expectClose(yb.data, [Math.log1p(Math.exp(2)) / 2]);
  });
  test('grad: softplus', () => {
    gradcheckUnary((x) => softplus(x), 3);
    gradcheckUnary((x) => softplus(x, 2, 3), 3);
  });

  test('silu forward', () => {
    const x = rnd([20], 5, 3);
    expectClose(
      silu(x).data,
      mapData(x, (v) => v / (1 + Math.exp(-v))),
    );
  });
  test('grad: silu', () => gradcheckUnary(silu, 3));

  test('activations reject int tensors', () => {
    const i = tensor([1, 2], [2], { dtype: 'int32' });
    for (const f of [leakyRelu, elu, gelu, hardtanh, softplus, silu, erf] as Array<(x: Tensor) => Tensor>) {
      expect(() => f(i)).toThrow(DTypeError);
    }
  });
});

describe('softmax and logSoftmax', () => {
  test('forward on fixed values', () => {
    const x = tensor([1, 2, 3], [3], { dtype: 'float64' });
    expectClose(softmax(x).data, [0.09003057317038046, 0.24472847105479764, 0.6652409557748219], 1e-15);
    expectClose(logSoftmax(x).data, [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806], 1e-15);
  });

  test('stable for huge logits (no overflow)', () => {
    const x = tensor([1000, 1001, 1002, -1000], [4], { dtype: 'float64' });
    const s = softmax(x);
    expectClose(s.data, [0.09003057317038046, 0.24472847105479764, 0.6652409557748219, 0], 1e-15);
    const ls = logSoftmax(x);
    expect(Number.isFinite(ls.data[3])).toBe(true);
    expectClose(
      ls.data,
      [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806, -2002.4076059644444],
    );
    const f32 = softmax(tensor([100, 100]));
    expectClose(f32.data, [0.5, 0.5], 0);
  });

  test('matches the naive formula along every dim', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, fc.integer({ min: 0, max: 5 }), (shape, seed, dimPick) => {
        const x = rnd(shape, seed, 3);
        const dim = dimPick % shape.length;
        const naive = mul(exp(x), 1);
        const denom = sum(naive, dim, true);
        const ref = naive.data.map((v, i) => {
          // index of i's slice in denom
          const strides = shape.map((_, k) => shape.slice(k + 1).reduce((p, d) => p * d, 1));
          let rem = i;
          let off = 0;
          const dstrides = denom.shape.map((_, k) => denom.shape.slice(k + 1).reduce((p, d) => p * d, 1));
          for (let k = 0; k < shape.length; k++) {
            const c = Math.floor(rem / strides[k]);
            rem -= c * strides[k];
            if (k !== dim) off += c * dstrides[k];
          }
          return v / denom.data[off];
        });
        expectClose(softmax(x, dim).data, ref, 1e-13);
        expectClose(
          logSoftmax(x, dim - shape.length).data,
          Array.from(ref, (v) => Math.log(v)),
          1e-12,
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('grad: softmax', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, fc.integer({ min: 0, max: 5 }), (shape, seed, d) => {
        gradcheck((x) => softmax(x, d % shape.length), [rnd(shape, seed, 2)]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('grad: logSoftmax', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, fc.integer({ min: 0, max: 5 }), (shape, seed, d) => {
        gradcheck((x) => logSoftmax(x, d % shape.length), [rnd(shape, seed, 2)]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('errors', () => {
    expect(() => softmax(randn([2, 3]), 2)).toThrow(ShapeError);
    expect(() => softmax(tensor(1))).toThrow(/softmax: input must have at least one dimension/);
    expect(() => logSoftmax(tensor([1, 2], [2], { dtype: 'int32' }))).toThrow(DTypeError);
  });
});

describe('batchNorm', () => {
  const f64 = { dtype: 'float64' as const };

  test('training forward normalises with biased batch variance and updates running stats in place', () => {
    // channel 0: 1, 3, 5, 7 (mean 4, biased var 5, unbiased 20/3); channel 1: 2, 2, 4, 4 (mean 3, var 1)
    const x = tensor(
      [
        [1, 2],
        [3, 2],
        [5, 4],
        [7, 4],
      ],
      undefined,
      f64,
    );
    const rm = tensor([0, 10], [2], f64);
    const rv = tensor([1, 1], [2], f64);
    const w = tensor([2, 1], [2], f64);
    const b = tensor([0, -1], [2], f64);
    const y = batchNorm(x, rm, rv, w, b, { training: true, eps: 0 });
    const s5 = Math.sqrt(5);
    expectClose(y.data, [(-3 / s5) * 2, -2, (-1 / s5) * 2, -2, (1 / s5) * 2, 0, (3 / s5) * 2, 0]);
    // running = 0.9·running + 0.1·batch (unbiased variance)
    expectClose(rm.data, [0.4, 9.3]);
    expectClose(rv.data, [0.9 + (0.1 * 20) / 3, 0.9 + (0.1 * 4) / 3]);
    // momentum 0.5 on a second call
    batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5 });
    expectClose(rm.data, [0.5 * 0.4 + 0.5 * 4, 0.5 * 9.3 + 0.5 * 3]);
  });

  test('[B, C, L] statistics pool batch and length; eval uses running stats', () => {
    const x = rnd([3, 2, 5], 11, 2);
    const rm = tensor([0, 0], [2], f64);
    const rv = tensor([1, 1], [2], f64);
    const y = batchNorm(x, rm, rv, null, null, { training: true, momentum: 1, eps: 1e-5 });
    for (let c = 0; c < 2; c++) {
      const vals: number[] = [];
      const outs: number[] = [];
      for (let n = 0; n < 3; n++)
        for (let l = 0; l < 5; l++) {
          vals.push(x.data[(n * 2 + c) * 5 + l]);
          outs.push(y.data[(n * 2 + c) * 5 + l]);
        }
      const mu = vals.reduce((a, v) => a + v, 0) / vals.length;
      const v = vals.reduce((a, u) => a + (u - mu) ** 2, 0) / vals.length;
      expectClose(
        outs,
        vals.map((u) => (u - mu) / Math.sqrt(v + 1e-5)),
      );
      // momentum 1: running = batch statistics (variance unbiased: ·15/14)
      expectClose([rm.data[c], rv.data[c]], [mu, (v * 15) / 14]);
    }
    // eval: (x − rm)/√(rv + eps)·w + b, running stats untouched
    const w = tensor([1.5, -2], [2], f64);
    const b = tensor([0.25, 1], [2], f64);
    const before = Array.from(rm.data);
    const ye = batchNorm(x, rm, rv, w, b, { training: false });
    expect(Array.from(rm.data)).toEqual(before);
    const ref = Array.from(x.data, (u, i) => {
      const c = Math.floor(i / 5) % 2;
      return ((u - rm.data[c]) / Math.sqrt(rv.data[c] + 1e-5)) * w.data[c] + b.data[c];
    });
    expectClose(ye.data, ref);
  });

  test('grad: batchNorm', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.boolean(),
        seedArb,
        (b, c, l, training, affine, seed) => {
          const shape = l === 0 ? [b, c] : [b, c, l];
          if (training && b * Math.max(l, 1) < 2) shape[0] = 2;
          const rm = rnd([c], seed + 2, 0.3);
          const rv = tensor(
            Array.from({ length: c }, (_, i) => 0.5 + i),
            [c],
            f64,
          );
          const x = rnd(shape, seed, 2);
          if (affine) {
            gradcheck(
              (xx, w, bb) => batchNorm(xx, rm, rv, w, bb, { training, momentum: 0 }),
              [x, rnd([c], seed + 3), rnd([c], seed + 4)],
            );
          } else {
            gradcheck((xx) => batchNorm(xx, rm, rv, null, null, { training }), [x]);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('weight-only and bias-only gradients', () => {
    const x = rnd([4, 3], 1);
    gradcheck((xx, w) => batchNorm(xx, null, null, w, null, { training: true }), [x, rnd([3], 2)]);
    gradcheck((xx, bb) => batchNorm(xx, null, null, null, bb, { training: true }), [x, rnd([3], 3)]);
  });

  test('errors', () => {
    const rm = tensor([0, 0], [2]);
    const rv = tensor([1, 1], [2]);
    expect(() => batchNorm(randn([1, 2]), rm, rv, null, null, { training: true })).toThrow(ValueError);
    expect(() => batchNorm(randn([1, 2, 1]), rm, rv, null, null, { training: true })).toThrow(
      /more than 1 value per channel when training, got input \[1, 2, 1\]/,
    );
    // one sample is fine in eval, and with length > 1 in training
    expect(batchNorm(randn([1, 2]), rm, rv).shape).toEqual([1, 2]);
    expect(batchNorm(randn([1, 2, 3]), rm, rv, null, null, { training: true }).shape).toEqual([1, 2, 3]);
    expect(() => batchNorm(randn([4]), null, null)).toThrow(ShapeError);
    expect(() => batchNorm(randn([4, 3]), rm, rv)).toThrow(/runningMean must have shape \[3\]/);
    expect(() => batchNorm(randn([4, 2]), null, null)).toThrow(/eval mode/);
    expect(() => batchNorm(randn([4, 2]), rm, null)).toThrow(ValueError);
    expect(() => batchNorm(randn([4, 2]), rm, rv, randn([2], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => batchNorm(randn([4, 2]), rm, rv, null, null, { momentum: 2 })).toThrow(ValueError);
  });
});

describe('layerNorm', () => {
  test('forward against the naive formula', () => {
    const x = rnd([2, 3, 4], 7, 3);
    const w = rnd([3, 4], 8);
    const b = rnd([3, 4], 9);
    const y = layerNorm(x, [3, 4], w, b, 1e-5);
    const y1 = layerNorm(x, [4]);
    for (let r = 0; r < 2; r++) {
      const row = Array.from(x.data.subarray(r * 12, r * 12 + 12));
      const mu = row.reduce((a, v) => a + v, 0) / 12;
      const v = row.reduce((a, u) => a + (u - mu) ** 2, 0) / 12;
      expectClose(
        y.data.subarray(r * 12, r * 12 + 12),
        row.map((u, j) => ((u - mu) / Math.sqrt(v + 1e-5)) * w.data[j] + b.data[j]),
      );
    }
    for (let r = 0; r < 6; r++) {
      const row = Array.from(x.data.subarray(r * 4, r * 4 + 4));
      const mu = row.reduce((a, v) => a + v, 0) / 4;
      const v = row.reduce((a, u) => a + (u - mu) ** 2, 0) / 4;
      expectClose(
        y1.data.subarray(r * 4, r * 4 + 4),
        row.map((u) => (u - mu) / Math.sqrt(v + 1e-5)),
      );
    }
  });

  test('grad: layerNorm', () => {
    fc.assert(
      fc.property(
        shapeArb,
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        seedArb,
        (shape, k, affine, seed) => {
          const ns = shape.slice(shape.length - Math.min(k, shape.length));
          const x = rnd(shape, seed, 2);
          if (affine) {
            gradcheck((xx, w, b) => layerNorm(xx, ns, w, b), [x, rnd(ns, seed + 1), rnd(ns, seed + 2)]);
          } else {
            gradcheck((xx) => layerNorm(xx, ns, null, null, 1e-3), [x]);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('errors', () => {
    expect(() => layerNorm(randn([2, 3]), [2])).toThrow(/normalizedShape \[2\] does not match.*\[2, 3\]/);
    expect(() => layerNorm(randn([2, 3]), [3], randn([4]))).toThrow(ShapeError);
    expect(() => layerNorm(randn([2, 3]), [])).toThrow(ShapeError);
  });
});

describe('dropout', () => {
  test('inverted scaling, seeded determinism, and gradient = mask', () => {
    const x = tensor(
      Array.from({ length: 4000 }, (_, i) => 1 + (i % 7)),
      [40, 100],
      { dtype: 'float64', requiresGrad: true },
    );
    const y1 = dropout(x, 0.3, true, new Generator(42));
    const y2 = dropout(x, 0.3, true, new Generator(42));
    const y3 = dropout(x, 0.3, true, new Generator(43));
    expect(Array.from(y1.data)).toEqual(Array.from(y2.data));
    expect(Array.from(y1.data)).not.toEqual(Array.from(y3.data));
    let zeros = 0;
    for (let i = 0; i < x.size; i++) {
      if (y1.data[i] === 0) zeros++;
      else expect(y1.data[i]).toBeCloseTo(x.data[i] / 0.7, 12);
    }
    // 4000 Bernoulli(0.3) draws: mean 1200, sd ≈ 29
    expect(zeros).toBeGreaterThan(1050);
    expect(zeros).toBeLessThan(1350);
    sum(y1).backward();
    for (let i = 0; i < x.size; i++) expect(x.grad!.data[i]).toBeCloseTo(y1.data[i] === 0 ? 0 : 1 / 0.7, 12);
  });

  test('default generator is reseeded by manualSeed', () => {
    const x = randn([50]);
    manualSeed(7);
    const a = dropout(x, 0.5);
    manualSeed(7);
    const b = dropout(x, 0.5);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  test('identity in eval or p = 0, zeros at p = 1', () => {
    const x = randn([3, 4]);
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(dropout(x, 0)).toBe(x);
    expect(Array.from(dropout(x, 1).data).every((v) => v === 0)).toBe(true);
  });

  test('grad: dropout', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        // The same generator state on every evaluation, so the mask is fixed.
        gradcheck((x) => dropout(x, 0.4, true, new Generator(seed)), [rnd(shape, seed)]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('p outside [0, 1] is a ValueError', () => {
    const x = randn([3]);
    expect(() => dropout(x, -0.1)).toThrow(ValueError);
    expect(() => dropout(x, 1.5)).toThrow(/dropout: probability p must be in \[0, 1\], got 1.5/);
    expect(() => dropout(x, Number.NaN)).toThrow(ValueError);
    expect(() => dropout(x, 1.5, false)).toThrow(ValueError);
  });
});

test('every nn op is exported from @ecgnn/core', () => {
  const names = [
    'erf',
    'erfScalar',
    'leakyRelu',
    'prelu',
    'elu',
    'gelu',
    'hardtanh',
    'softplus',
    'silu',
    'softmax',
    'logSoftmax',
    'batchNorm',
    'layerNorm',
    'dropout',
    'scaledDotProductAttention',
    'multiHeadAttention',
    'causalMask',
    'sign',
    'signSte',
    'crossEntropy',
    'nllLoss',
    'klDiv',
    'binaryCrossEntropyWithLogits',
    'mseLoss',
    'distillationLoss',
  ];
  const table = core as unknown as Record<string, unknown>;
  expect(names.filter((n) => typeof table[n] !== 'function')).toEqual([]);
  for (const p of [
    'erf',
    'leakyRelu',
    'prelu',
    'elu',
    'gelu',
    'hardtanh',
    'softplus',
    'silu',
    'softmax',
    'logSoftmax',
    'batchNorm',
    'layerNorm',
  ]) {
    expect(core.primitiveNames).toContain(p);
  }
});
