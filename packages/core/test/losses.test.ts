import {
  binaryCrossEntropyWithLogits,
  crossEntropy,
  DTypeError,
  distillationLoss,
  Generator,
  gradcheck,
  klDiv,
  logSoftmax,
  mseLoss,
  nllLoss,
  permute,
  randn,
  reshape,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const NUM_RUNS = 15;
const f64 = { dtype: 'float64' as const };
const i32 = { dtype: 'int32' as const };

function rnd(shape: number[], seed: number, scale = 1): Tensor {
  const t = randn(shape, { dtype: 'float64', generator: new Generator(seed) });
  for (let i = 0; i < t.size; i++) t.data[i] *= scale;
  return t;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]} (|diff| ${err})`);
    }
  }
}

/** log softmax of one row, naively. */
function logSoftmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

/**
 * PyTorch's documented cross-entropy for class indices on [N, C] logits:
 * ℓₙ = −Σ_c w_c·log pₙ[c]·((1 − ε)·[c = yₙ] + ε/C)·[yₙ ≠ ignore];  mean = Σ ℓₙ / Σₙ w_{yₙ}·[yₙ ≠ ignore].
 */
function naiveCe(
  logits: number[][],
  target: number[],
  w: number[] | null,
  eps: number,
  ignore: number,
): { perSample: number[]; mean: number } {
  const c = logits[0].length;
  let denom = 0;
  const perSample = logits.map((row, n) => {
    const y = target[n];
    if (y === ignore) return 0;
    const lp = logSoftmaxRow(row);
    denom += w ? w[y] : 1;
    let l = 0;
    for (let k = 0; k < c; k++) l -= (w ? w[k] : 1) * lp[k] * ((1 - eps) * (k === y ? 1 : 0) + eps / c);
    return l;
  });
  return { perSample, mean: perSample.reduce((a, v) => a + v, 0) / denom };
}

function rows(t: Tensor): number[][] {
  const [n, c] = t.shape;
  return Array.from({ length: n }, (_, i) => Array.from(t.data.slice(i * c, i * c + c)));
}

describe('crossEntropy', () => {
  test('hand-computed values', () => {
    const logits = tensor(
      [
        [1, 2, 3],
        [1, 1, 1],
      ],
      undefined,
      f64,
    );
    const target = tensor([2, 0], [2], i32);
    // −log softmax: 0.40760596444438 (row 0, class 2), log 3 (row 1)
    const l0 = 0.4076059644443806;
    const l1 = Math.log(3);
    expectClose(crossEntropy(logits, target).data, [(l0 + l1) / 2]);
    expectClose(crossEntropy(logits, target, { reduction: 'sum' }).data, [l0 + l1]);
    expectClose(crossEntropy(logits, target, { reduction: 'none' }).data, [l0, l1]);
    // weighted mean: (3·l0 + 1·l1) / (3 + 1)
    const w = tensor([1, 2, 3], [3], f64);
    expectClose(crossEntropy(logits, target, { weight: w }).data, [(3 * l0 + l1) / 4]);
    // ignoreIndex: row 1 dropped from sum and count
    const ti = tensor([2, -100], [2], i32);
    expectClose(crossEntropy(logits, ti).data, [l0]);
    expectClose(crossEntropy(logits, ti, { reduction: 'none' }).data, [l0, 0]);
    // label smoothing on two equal logits: −log ½ whatever ε
    const half = crossEntropy(tensor([[0, 0]], undefined, f64), tensor([0], [1], i32), {
      labelSmoothing: 0.2,
    });
    expectClose(half.data, [Math.LN2]);
  });

  test('class indices match the documented PyTorch formula (weights, ignoreIndex, smoothing)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.constantFrom(0, 0.1, 0.5),
        fc.integer({ min: 0, max: 100000 }),
        (n, c, weighted, eps, seed) => {
          const gen = new Generator(seed);
          const logits = rnd([n, c], seed, 3);
          const tv = Array.from({ length: n }, (_, i) => (i > 0 && gen.random() < 0.25 ? 7 : gen.randint(c)));
          const target = tensor(tv, [n], i32);
          const w = weighted
            ? tensor(
                Array.from({ length: c }, () => 0.2 + gen.random()),
                [c],
                f64,
              )
            : null;
          const ref = naiveCe(rows(logits), tv, w ? Array.from(w.data) : null, eps, 7);
          const opts = { weight: w, labelSmoothing: eps, ignoreIndex: 7 };
          expectClose(crossEntropy(logits, target, opts).data, [ref.mean]);
          expectClose(crossEntropy(logits, target, { ...opts, reduction: 'none' }).data, ref.perSample);
          expectClose(crossEntropy(logits, target, { ...opts, reduction: 'sum' }).data, [
            ref.perSample.reduce((a, v) => a + v, 0),
          ]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('probability targets: one-hot equals indices; smoothing and weights follow PyTorch', () => {
    const logits = rnd([4, 3], 1, 2);
    const idx = [2, 0, 1, 1];
    const onehot = tensor(
      idx.flatMap((y) => [0, 1, 2].map((k) => (k === y ? 1 : 0))),
      [4, 3],
      f64,
    );
    const ti = tensor(idx, [4], i32);
    expectClose(crossEntropy(logits, onehot).data, crossEntropy(logits, ti).data);
    expectClose(
      crossEntropy(logits, onehot, { labelSmoothing: 0.3 }).data,
      crossEntropy(logits, ti, { labelSmoothing: 0.3 }).data,
    );
    // Weighted with probability targets: mean over samples (not over weights), ℓ = −Σ w_c q_c log p_c.
    const w = [0.5, 1, 2];
    const soft = rnd([4, 3], 2);
    for (let i = 0; i < soft.size; i++) soft.data[i] = Math.abs(soft.data[i]);
    const lp = rows(logits).map(logSoftmaxRow);
    let total = 0;
    for (let n = 0; n < 4; n++) for (let k = 0; k < 3; k++) total -= w[k] * soft.data[n * 3 + k] * lp[n][k];
    expectClose(crossEntropy(logits, soft, { weight: tensor(w, [3], f64) }).data, [total / 4]);
  });

  test('[B, C, L] logits equal the flattened [B·L, C] problem', () => {
    const logits = rnd([2, 4, 3], 3, 2);
    const tv = [0, 3, 1, 2, 2, -100];
    const target = tensor(tv, [2, 3], i32);
    const flat = reshape(permute(logits, [0, 2, 1]), [6, 4]);
    const tflat = tensor(tv, [6], i32);
    const w = tensor([1, 2, 0.5, 1.5], [4], f64);
    for (const opts of [{}, { weight: w, labelSmoothing: 0.2 }]) {
      expectClose(crossEntropy(logits, target, opts).data, crossEntropy(flat, tflat, opts).data);
      const none = crossEntropy(logits, target, { ...opts, reduction: 'none' });
      expect(none.shape).toEqual([2, 3]);
      expectClose(none.data, crossEntropy(flat, tflat, { ...opts, reduction: 'none' }).data);
    }
    // probability targets [B, C, L]
    const pBLC = logSoftmax(rnd([2, 3, 4], 4), -1).exp(); // [B, L, C], rows sum to 1
    const probs = permute(pBLC, [0, 2, 1]); // [B, C, L]
    const pflat = reshape(pBLC, [6, 4]);
    expectClose(crossEntropy(logits, probs).data, crossEntropy(flat, pflat).data);
  });

  test('unbatched [C] logits with a scalar target', () => {
    const logits = tensor([1, 2, 3], [3], f64);
    expectClose(crossEntropy(logits, tensor(2, [], i32)).data, [0.4076059644443806]);
    expect(crossEntropy(logits, tensor(2, [], i32), { reduction: 'none' }).shape).toEqual([]);
  });

  test('grad: crossEntropy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        fc.constantFrom(0, 0.2),
        fc.integer({ min: 0, max: 100000 }),
        (n, c, l, weighted, eps, seed) => {
          const gen = new Generator(seed);
          const shape = l === 0 ? [n, c] : [n, c, l];
          const tshape = l === 0 ? [n] : [n, l];
          const count = tshape.reduce((a, d) => a * d, 1);
          const target = tensor(
            Array.from({ length: count }, () => gen.randint(c)),
            tshape,
            i32,
          );
          const w = weighted
            ? tensor(
                Array.from({ length: c }, () => 0.5 + gen.random()),
                [c],
                f64,
              )
            : null;
          gradcheck(
            (x) => crossEntropy(x, target, { weight: w, labelSmoothing: eps }),
            [rnd(shape, seed, 2)],
          );
          gradcheck((x) => crossEntropy(x, target, { reduction: 'none' }), [rnd(shape, seed, 2)]);
          // probability targets: gradient with respect to both logits and target
          gradcheck(
            (x, t) => crossEntropy(x, t, { weight: w, labelSmoothing: eps, reduction: 'sum' }),
            [rnd(shape, seed, 2), rnd(shape, seed + 1)],
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('validation', () => {
    const logits = randn([4, 3]);
    expect(() => crossEntropy(logits, tensor([0, 1, 2], [3], i32))).toThrow(ShapeError);
    expect(() => crossEntropy(logits, tensor([0, 1, 2], [3], i32))).toThrow(
      /crossEntropy: class-index target shape \[3\] does not match input \[4, 3\] \(expected \[4\]\)/,
    );
    expect(() => crossEntropy(logits, tensor([0, 1, 3, 0], [4], i32))).toThrow(ValueError);
    expect(() => crossEntropy(logits, tensor([0, 1, 3, 0], [4], i32))).toThrow(
      /target class 3 at position 2 is out of range for 3 classes/,
    );
    expect(() => crossEntropy(logits, tensor([0, -1, 2, 0], [4], i32))).toThrow(/target class -1/);
    // float indices instead of int32
    expect(() => crossEntropy(logits, tensor([0, 1, 2, 0], [4]))).toThrow(
      /class-index targets must be int32/,
    );
    expect(() => crossEntropy(logits, randn([4, 3], f64))).toThrow(DTypeError);
    expect(() => crossEntropy(logits, tensor([0, 1, 2, 0], [4], i32), { labelSmoothing: 1.5 })).toThrow(
      ValueError,
    );
    expect(() => crossEntropy(logits, tensor([0, 1, 2, 0], [4], i32), { weight: randn([4]) })).toThrow(
      /weight must have shape \[3\]/,
    );
    expect(() =>
      crossEntropy(logits, tensor([0, 1, 2, 0], [4], i32), { reduction: 'avg' as 'mean' }),
    ).toThrow(ValueError);
    expect(() => crossEntropy(tensor([1, 2], [2], i32), tensor([0], [1], i32))).toThrow(DTypeError);
  });
});

describe('nllLoss', () => {
  test('forward and gradient', () => {
    const x = rnd([3, 4], 5);
    const lp = logSoftmax(x, 1);
    const target = tensor([3, 0, 2], [3], i32);
    const ref = -(lp.data[3] + lp.data[4] + lp.data[10]) / 3;
    expectClose(nllLoss(lp, target).data, [ref]);
    const w = tensor([1, 2, 3, 4], [4], f64);
    expectClose(nllLoss(lp, target, { weight: w }).data, [
      -(4 * lp.data[3] + 1 * lp.data[4] + 3 * lp.data[10]) / 8,
    ]);
    expectClose(nllLoss(lp, target, { reduction: 'none' }).data, [-lp.data[3], -lp.data[4], -lp.data[10]]);
    gradcheck((a) => nllLoss(a, target, { weight: w }), [x]);
    expect(() => nllLoss(lp, tensor([0, 1, 2], [3]))).toThrow(/nllLoss: class-index target must be int32/);
  });

  test('grad: nllLoss', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.nat(), (n, c, seed) => {
        const gen = new Generator(seed);
        const target = tensor(
          Array.from({ length: n }, () => gen.randint(c)),
          [n],
          i32,
        );
        gradcheck((a) => nllLoss(a, target, { reduction: 'sum' }), [rnd([n, c], seed)]);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('klDiv', () => {
  test('hand-computed value and reductions', () => {
    const input = tensor([Math.log(0.5), Math.log(0.5)], [1, 2], f64);
    const target = tensor([0.25, 0.75], [1, 2], f64);
    // Σ t·(log t − input) = 0.25·ln 0.5 + 0.75·ln 1.5
    const kl = 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5);
    expectClose(klDiv(input, target, { reduction: 'sum' }).data, [kl]);
    expectClose(klDiv(input, target, { reduction: 'batchmean' }).data, [kl]);
    expectClose(klDiv(input, target).data, [kl / 2]);
    expectClose(klDiv(input, target, { reduction: 'none' }).data, [
      0.25 * Math.log(0.5),
      0.75 * Math.log(1.5),
    ]);
    // log target gives the same result
    const lt = tensor([Math.log(0.25), Math.log(0.75)], [1, 2], f64);
    expectClose(klDiv(input, lt, { reduction: 'sum', logTarget: true }).data, [kl]);
  });

  test('zero target probabilities contribute 0 (and a finite gradient)', () => {
    const input = tensor([[-1, -2, -3]], undefined, f64);
    const target = tensor([[0, 0.5, 0.5]], undefined, f64);
    const v = klDiv(input, target, { reduction: 'sum' });
    expectClose(v.data, [0.5 * (Math.log(0.5) + 2) + 0.5 * (Math.log(0.5) + 3)]);
    gradcheck((a) => klDiv(a, target, { reduction: 'sum' }), [rnd([1, 3], 1)]);
  });

  test('grad: klDiv', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(),
        fc.boolean(),
        (n, c, seed, lt) => {
          const input = logSoftmax(rnd([n, c], seed), 1);
          const tgt = lt ? logSoftmax(rnd([n, c], seed + 1), 1) : logSoftmax(rnd([n, c], seed + 1), 1).exp();
          gradcheck((a, t) => klDiv(a, t, { reduction: 'batchmean', logTarget: lt }), [input, tgt]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('validation', () => {
    expect(() => klDiv(randn([2, 3]), randn([3, 2]))).toThrow(ShapeError);
    expect(() => klDiv(randn([2, 3]), randn([2, 3]), { reduction: 'avg' as 'mean' })).toThrow(ValueError);
  });
});

describe('binaryCrossEntropyWithLogits', () => {
  /** −w·[pw·y·log σ(x) + (1 − y)·log(1 − σ(x))], naive (fine for moderate x). */
  function naiveBce(x: number, y: number, w = 1, pw = 1): number {
    const s = 1 / (1 + Math.exp(-x));
    return -w * (pw * y * Math.log(s) + (1 - y) * Math.log(1 - s));
  }

  test('forward against the naive formula with weight and posWeight', () => {
    const x = rnd([3, 4], 1, 2);
    const y = rnd([3, 4], 2);
    for (let i = 0; i < y.size; i++) y.data[i] = y.data[i] > 0 ? 1 : Math.abs(y.data[i]) / 4;
    const w = rnd([3, 1], 3);
    const pw = tensor([0.5, 1, 2, 3], [4], f64);
    const ref = Array.from(x.data, (v, i) =>
      naiveBce(v, y.data[i], w.data[Math.floor(i / 4)], pw.data[i % 4]),
    );
    const none = binaryCrossEntropyWithLogits(x, y, { weight: w, posWeight: pw, reduction: 'none' });
    expectClose(none.data, ref);
    expectClose(binaryCrossEntropyWithLogits(x, y, { weight: w, posWeight: pw }).data, [
      ref.reduce((a, v) => a + v, 0) / 12,
    ]);
    const plain = Array.from(x.data, (v, i) => naiveBce(v, y.data[i]));
    expectClose(binaryCrossEntropyWithLogits(x, y, { reduction: 'sum' }).data, [
      plain.reduce((a, v) => a + v, 0),
    ]);
  });

  test('stable for huge logits', () => {
    const x = tensor([1000, -1000, 1000, -1000, 0], [5], f64);
    const y = tensor([1, 1, 0, 0, 1], [5], f64);
    const l = binaryCrossEntropyWithLogits(x, y, { reduction: 'none' });
    expectClose(l.data, [0, 1000, 1000, 0, Math.LN2]);
    const lf = binaryCrossEntropyWithLogits(tensor([100, -100]), tensor([1, 1]), { reduction: 'none' });
    expect(Array.from(lf.data).every(Number.isFinite)).toBe(true);
  });

  test('grad: binaryCrossEntropyWithLogits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(),
        fc.boolean(),
        (n, c, seed, pw) => {
          const y = rnd([n, c], seed + 1);
          for (let i = 0; i < y.size; i++) y.data[i] = 1 / (1 + Math.exp(-y.data[i]));
          const posWeight = pw
            ? tensor(
                Array.from({ length: c }, (_, i) => 0.5 + i),
                [c],
                f64,
              )
            : null;
          gradcheck(
            (x, t, w) => binaryCrossEntropyWithLogits(x, t, { weight: w, posWeight }),
            [rnd([n, c], seed, 3), y, rnd([c], seed + 2)],
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('validation', () => {
    expect(() => binaryCrossEntropyWithLogits(randn([2, 3]), randn([2, 4]))).toThrow(ShapeError);
    expect(() =>
      binaryCrossEntropyWithLogits(randn([2, 3]), randn([2, 3]), { posWeight: randn([4]) }),
    ).toThrow(ShapeError);
    expect(() =>
      binaryCrossEntropyWithLogits(randn([2, 3]), tensor([0, 1, 0, 1, 0, 1], [2, 3], i32)),
    ).toThrow(DTypeError);
  });
});

describe('mseLoss', () => {
  test('forward, reductions and gradient', () => {
    const a = tensor([1, 2, 3], [3], f64);
    const b = tensor([1, 0, 6], [3], f64);
    expectClose(mseLoss(a, b).data, [13 / 3]);
    expectClose(mseLoss(a, b, { reduction: 'sum' }).data, [13]);
    expectClose(mseLoss(a, b, { reduction: 'none' }).data, [0, 4, 9]);
    expect(() => mseLoss(a, tensor([1, 2], [2], f64))).toThrow(ShapeError);
  });
  test('grad: mseLoss', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        (shape, seed) => {
          gradcheck((x, y) => mseLoss(x, y), [rnd(shape, seed), rnd(shape, seed + 1)]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('distillationLoss', () => {
  /** (1 − α)·CE(y, p_s) + α·T²·mean_n KL(p_t^T ‖ p_s^T), naively. */
  function naiveDistill(s: number[][], t: number[][], y: number[], temp: number, alpha: number): number {
    const n = s.length;
    let ce = 0;
    let kl = 0;
    for (let i = 0; i < n; i++) {
      ce -= logSoftmaxRow(s[i])[y[i]];
      const lps = logSoftmaxRow(s[i].map((v) => v / temp));
      const lpt = logSoftmaxRow(t[i].map((v) => v / temp));
      for (let k = 0; k < lpt.length; k++) kl += Math.exp(lpt[k]) * (lpt[k] - lps[k]);
    }
    return ((1 - alpha) * ce) / n + (alpha * temp * temp * kl) / n;
  }

  test('matches the Hinton formula for several T and α', () => {
    const s = rnd([4, 5], 1, 2);
    const t = rnd([4, 5], 2, 3);
    const yv = [0, 4, 2, 2];
    const y = tensor(yv, [4], i32);
    for (const [temp, alpha] of [
      [1, 0.5],
      [2, 0.3],
      [4, 0.9],
      [3, 0],
      [3, 1],
    ]) {
      expectClose(distillationLoss(s, t, y, { temperature: temp, alpha }).data, [
        naiveDistill(rows(s), rows(t), yv, temp, alpha),
      ]);
      // per-sample losses (for hard-example scoring) and their sum
      const perSample = rows(s).map((row, i) => naiveDistill([row], [rows(t)[i]], [yv[i]], temp, alpha));
      const none = distillationLoss(s, t, y, { temperature: temp, alpha, reduction: 'none' });
      expect(none.shape).toEqual([4]);
      expectClose(none.data, perSample);
      expectClose(distillationLoss(s, t, y, { temperature: temp, alpha, reduction: 'sum' }).data, [
        perSample.reduce((a, v) => a + v, 0),
      ]);
    }
  });

  test('defaults (T = 1, α = 0.5) are half the patent loss CE(y, p) + CE(z, p), less the constant H(z)', () => {
    const s = rnd([3, 4], 3, 2);
    const t = rnd([3, 4], 4, 2);
    const yv = [1, 3, 0];
    const patent = rows(s).map((row, i) => {
      const lps = logSoftmaxRow(row);
      const z = logSoftmaxRow(rows(t)[i]).map(Math.exp);
      const ceHard = -lps[yv[i]];
      const ceSoft = -z.reduce((a, zk, k) => a + zk * lps[k], 0);
      const entropy = -z.reduce((a, zk) => a + (zk > 0 ? zk * Math.log(zk) : 0), 0);
      return ceHard + ceSoft - entropy;
    });
    const meanPatent = patent.reduce((a, v) => a + v, 0) / 3;
    expectClose(distillationLoss(s, t, tensor(yv, [3], i32)).data, [meanPatent / 2]);
  });

  test('no gradient flows into the teacher; student gradient checks', () => {
    const s = rnd([3, 4], 5);
    const t = rnd([3, 4], 6);
    const sv = s.detach();
    sv.requiresGrad = true;
    const tv = t.detach();
    tv.requiresGrad = true;
    distillationLoss(sv, tv, tensor([0, 1, 2], [3], i32), { temperature: 2 }).backward();
    expect(tv.grad).toBeNull();
    expect(sv.grad).not.toBeNull();
  });

  test('grad: distillationLoss', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0.5, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(),
        (n, c, temp, alpha, seed) => {
          const gen = new Generator(seed);
          const y = tensor(
            Array.from({ length: n }, () => gen.randint(c)),
            [n],
            i32,
          );
          const teacher = rnd([n, c], seed + 1, 2);
          gradcheck(
            (x) => distillationLoss(x, teacher, y, { temperature: temp, alpha }),
            [rnd([n, c], seed, 2)],
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('validation', () => {
    const y = tensor([0, 1], [2], i32);
    expect(() => distillationLoss(randn([2, 3]), randn([2, 4]), y)).toThrow(ShapeError);
    expect(() => distillationLoss(randn([2, 3]), randn([2, 3]), y, { temperature: 0 })).toThrow(ValueError);
    expect(() => distillationLoss(randn([2, 3]), randn([2, 3]), y, { alpha: 1.5 })).toThrow(ValueError);
    expect(() => distillationLoss(randn([2, 3]), randn([2, 3], f64), y)).toThrow(DTypeError);
  });
});
