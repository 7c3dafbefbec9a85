import {
  causalMask,
  DTypeError,
  Generator,
  gradcheck,
  multiHeadAttention,
  narrow,
  randn,
  ShapeError,
  scaledDotProductAttention,
  Tensor,
  tensor,
  ValueError,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const NUM_RUNS = 12;
const f64 = { dtype: 'float64' as const };

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

/**
 * Naive attention with plain loops on q [N, Lq, D], k [N, Lk, D], v [N, Lk, Dv] and an optional additive
 * mask [Lq, Lk]: softmax over keys of q·k·scale (+ mask), times v.
 */
function naiveAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  scale: number,
  causal: boolean,
  mask: Tensor | null,
): number[] {
  const [n, lq, d] = q.shape;
  const lk = k.shape[1];
  const dv = v.shape[2];
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < lq; i++) {
      const s: number[] = [];
      for (let j = 0; j < lk; j++) {
        let dot = 0;
        for (let e = 0; e < d; e++) dot += q.data[(b * lq + i) * d + e] * k.data[(b * lk + j) * d + e];
        let val = dot * scale;
        if (mask) val += mask.data[i * lk + j];
        if (causal && j > i) val = Number.NEGATIVE_INFINITY;
        s.push(val);
      }
      const m = Math.max(...s);
      const w = s.map((x) => Math.exp(x - m));
      const z = w.reduce((a, x) => a + x, 0);
      for (let e = 0; e < dv; e++) {
        let acc = 0;
        for (let j = 0; j < lk; j++) acc += (w[j] / z) * v.data[(b * lk + j) * dv + e];
        out.push(acc);
      }
    }
  }
  return out;
}

describe('scaledDotProductAttention', () => {
  test('hand-computed case', () => {
    // One query [1, 0] against keys [1, 0] and [0, 1], scale 1: weights softmax([1, 0]) = [e, 1]/(e + 1).
    const q = tensor([[[1, 0]]], undefined, f64);
    const k = tensor(
      [
        [
          [1, 0],
          [0, 1],
        ],
      ],
      undefined,
      f64,
    );
    const v = tensor([[[10], [20]]], undefined, f64);
    const y = scaledDotProductAttention(q, k, v, { scale: 1 });
    const w0 = Math.E / (Math.E + 1);
    expectClose(y.data, [10 * w0 + 20 * (1 - w0)]);
    expect(y.shape).toEqual([1, 1, 1]);
    // Default scale 1/√D = 1/√2
    const y2 = scaledDotProductAttention(q, k, v);
    const a = Math.exp(Math.SQRT1_2);
    expectClose(y2.data, [(10 * a + 20) / (a + 1)]);
  });

  test('causal: query i attends keys j ≤ i (top-left aligned, also when Lq ≠ Lk)', () => {
    const m = causalMask(2, 3, 'float64');
    expect(Array.from(m.data)).toEqual([0, -Infinity, -Infinity, 0, 0, -Infinity]);
    // v = identity rows: the output row i is the attention weights of query i.
    const q = rnd([1, 3, 2], 1);
    const k = rnd([1, 4, 2], 2);
    const v = tensor([[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]], [1, 4, 4], f64);
    const w = scaledDotProductAttention(q, k, v, { isCausal: true });
    expect(w.data[0]).toBeCloseTo(1, 14);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 4; j++) {
        if (j > i) expect(w.data[i * 4 + j]).toBe(0);
        else expect(w.data[i * 4 + j]).toBeGreaterThan(0);
      }
  });

  test('forward matches naive loops (random shapes, causal, masks)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 100000 }),
        (n, lq, lk, d, dv, causal, withMask, seed) => {
          const q = rnd([n, lq, d], seed);
          const k = rnd([n, lk, d], seed + 1);
          const v = rnd([n, lk, dv], seed + 2);
          const mask = withMask ? rnd([lq, lk], seed + 3) : null;
          const y = scaledDotProductAttention(q, k, v, { isCausal: causal, attnMask: mask });
          expect(y.shape).toEqual([n, lq, dv]);
          expectClose(y.data, naiveAttention(q, k, v, 1 / Math.sqrt(d), causal, mask));
          const y2 = scaledDotProductAttention(q, k, v, { scale: 0.3, attnMask: mask });
          expectClose(y2.data, naiveAttention(q, k, v, 0.3, false, mask));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('batch dimensions broadcast (4-D heads, shared key/value)', () => {
    const q = rnd([2, 3, 4, 5], 1);
    const k = rnd([1, 3, 6, 5], 2);
    const v = rnd([3, 6, 2], 3);
    const y = scaledDotProductAttention(q, k, v);
    expect(y.shape).toEqual([2, 3, 4, 2]);
    // batch (1, 2) equals the 3-D computation on that slice
    const qs = new Tensor(q.data.slice((1 * 3 + 2) * 20, (1 * 3 + 2) * 20 + 20), [1, 4, 5]);
    const ks = new Tensor(k.data.slice(2 * 30, 2 * 30 + 30), [1, 6, 5]);
    const vs = new Tensor(v.data.slice(2 * 12, 2 * 12 + 12), [1, 6, 2]);
    expectClose(
      y.data.slice((1 * 3 + 2) * 8, (1 * 3 + 2) * 8 + 8),
      naiveAttention(qs, ks, vs, 1 / Math.sqrt(5), false, null),
    );
  });

  test('grad: scaledDotProductAttention', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 100000 }),
        (n, lq, lk, d, causal, withMask, seed) => {
          const mask = withMask ? rnd([lq, lk], seed + 3) : null;
          gradcheck(
            (q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: causal, attnMask: mask }),
            [rnd([n, lq, d], seed), rnd([n, lk, d], seed + 1), rnd([n, lk, 2], seed + 2)],
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('dropout on the weights is seeded and off by default', () => {
    const q = rnd([2, 4, 3], 1);
    const k = rnd([2, 5, 3], 2);
    const v = rnd([2, 5, 3], 3);
    const a = scaledDotProductAttention(q, k, v, { dropoutP: 0.5, generator: new Generator(9) });
    const b = scaledDotProductAttention(q, k, v, { dropoutP: 0.5, generator: new Generator(9) });
    const c = scaledDotProductAttention(q, k, v);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
    gradcheck(
      (qq) => scaledDotProductAttention(qq, k, v, { dropoutP: 0.3, generator: new Generator(4) }),
      [q],
    );
  });

  test('errors', () => {
    const q = randn([2, 3, 4]);
    expect(() => scaledDotProductAttention(q, randn([2, 5, 3]), randn([2, 5, 4]))).toThrow(ShapeError);
    expect(() => scaledDotProductAttention(q, randn([2, 5, 4]), randn([2, 6, 4]))).toThrow(
      /key \[2, 5, 4\] and value \[2, 6, 4\] differ in sequence length/,
    );
    expect(() => scaledDotProductAttention(q, randn([3, 5, 4]), randn([3, 5, 4]))).toThrow(ShapeError);
    expect(() => scaledDotProductAttention(q, q, q, { attnMask: randn([4, 3]) })).toThrow(ShapeError);
    expect(() =>
      scaledDotProductAttention(q, q, q, { attnMask: tensor([1], [1, 1], { dtype: 'int32' }) }),
    ).toThrow(DTypeError);
    expect(() => scaledDotProductAttention(q, q, randn([2, 3, 4], f64))).toThrow(DTypeError);
    expect(() => scaledDotProductAttention(q, q, q, { dropoutP: 2 })).toThrow(ValueError);
    expect(() => scaledDotProductAttention(randn([4]), q, q)).toThrow(ShapeError);
  });
});

/** Naive multi-head attention: per head h, project with rows of the packed weight and attend. */
function naiveMha(
  query: Tensor,
  key: Tensor,
  value: Tensor,
  h: number,
  wIn: Tensor,
  bIn: Tensor | null,
  wOut: Tensor,
  bOut: Tensor | null,
  causal: boolean,
): number[] {
  const [bsz, lq, e] = query.shape;
  const lk = key.shape[1];
  const hd = e / h;
  const proj = (x: Tensor, len: number, which: number): number[][][] => {
    // [B][L][E]
    const res: number[][][] = [];
    for (let b = 0; b < bsz; b++) {
      const rows: number[][] = [];
      for (let l = 0; l < len; l++) {
        const row: number[] = [];
        for (let o = 0; o < e; o++) {
          let acc = bIn ? bIn.data[which * e + o] : 0;
          for (let i = 0; i < e; i++)
            acc += wIn.data[(which * e + o) * e + i] * x.data[(b * len + l) * e + i];
          row.push(acc);
        }
        rows.push(row);
      }
      res.push(rows);
    }
    return res;
  };
  const Q = proj(query, lq, 0);
  const K = proj(key, lk, 1);
  const V = proj(value, lk, 2);
  const out: number[] = [];
  for (let b = 0; b < bsz; b++) {
    for (let i = 0; i < lq; i++) {
      const concat: number[] = new Array(e).fill(0);
      for (let hh = 0; hh < h; hh++) {
        const s: number[] = [];
        for (let j = 0; j < lk; j++) {
          let dot = 0;
          for (let t = 0; t < hd; t++) dot += Q[b][i][hh * hd + t] * K[b][j][hh * hd + t];
          s.push(causal && j > i ? Number.NEGATIVE_INFINITY : dot / Math.sqrt(hd));
        }
        const m = Math.max(...s);
        const w = s.map((x) => Math.exp(x - m));
        const z = w.reduce((a, x) => a + x, 0);
        for (let t = 0; t < hd; t++) {
          let acc = 0;
          for (let j = 0; j < lk; j++) acc += (w[j] / z) * V[b][j][hh * hd + t];
          concat[hh * hd + t] = acc;
        }
      }
      for (let o = 0; o < e; o++) {
        let acc = bOut ? bOut.data[o] : 0;
        for (let t = 0; t < e; t++) acc += wOut.data[o * e + t] * concat[t];
        out.push(acc);
      }
    }
  }
  return out;
}

describe('multiHeadAttention', () => {
  test('forward matches naive per-head loops (cross- and self-attention, causal)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom<[number, number]>([1, 2], [2, 4], [3, 6], [1, 3], [2, 2]),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 100000 }),
        (bsz, lq, lk, [h, e], causal, biases, seed) => {
          const query = rnd([bsz, lq, e], seed);
          const key = rnd([bsz, lk, e], seed + 1);
          const value = rnd([bsz, lk, e], seed + 2);
          const wIn = rnd([3 * e, e], seed + 3, 0.5);
          const wOut = rnd([e, e], seed + 4, 0.5);
          const bIn = biases ? rnd([3 * e], seed + 5) : null;
          const bOut = biases ? rnd([e], seed + 6) : null;
          const opts = {
            numHeads: h,
            inProjWeight: wIn,
            inProjBias: bIn,
            outProjWeight: wOut,
            outProjBias: bOut,
            isCausal: causal,
          };
          const y = multiHeadAttention(query, key, value, opts);
          expect(y.shape).toEqual([bsz, lq, e]);
          expectClose(y.data, naiveMha(query, key, value, h, wIn, bIn, wOut, bOut, causal));
          // Self-attention goes through the packed projection; same result as three distinct tensors.
          const self = multiHeadAttention(query, query, query, opts);
          const copies = multiHeadAttention(query, query.detach(), query.detach(), opts);
          expectClose(self.data, copies.data);
          expectClose(self.data, naiveMha(query, query, query, h, wIn, bIn, wOut, bOut, causal));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('grad: multiHeadAttention', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 100000 }),
        (bsz, l, causal, selfAttn, seed) => {
          const e = 4;
          const fn = (x: Tensor, kv: Tensor, wIn: Tensor, bIn: Tensor, wOut: Tensor, bOut: Tensor) =>
            multiHeadAttention(x, selfAttn ? x : kv, selfAttn ? x : kv, {
              numHeads: 2,
              inProjWeight: wIn,
              inProjBias: bIn,
              outProjWeight: wOut,
              outProjBias: bOut,
              isCausal: causal,
            });
          gradcheck(fn, [
            rnd([bsz, l, e], seed),
            rnd([bsz, l + 1, e], seed + 1),
            rnd([3 * e, e], seed + 2, 0.5),
            rnd([3 * e], seed + 3),
            rnd([e, e], seed + 4, 0.5),
            rnd([e], seed + 5),
          ]);
        },
      ),
      { numRuns: 8 },
    );
  });

  test('additive attnMask broadcast over batch and heads', () => {
    const x = rnd([2, 3, 4], 1);
    const wIn = rnd([12, 4], 2);
    const wOut = rnd([4, 4], 3);
    const opts = { numHeads: 2, inProjWeight: wIn, outProjWeight: wOut };
    const causal = multiHeadAttention(x, x, x, { ...opts, isCausal: true });
    const masked = multiHeadAttention(x, x, x, { ...opts, attnMask: causalMask(3, 3, 'float64') });
    expectClose(masked.data, causal.data);
    // Per-batch key mask [B, 1, 1, Lk]: batch 0 unmasked, batch 1 blocks key 2.
    const m = tensor([0, 0, 0, 0, 0, Number.NEGATIVE_INFINITY], [2, 1, 1, 3], f64);
    const y = multiHeadAttention(x, x, x, { ...opts, attnMask: m });
    const plain = multiHeadAttention(x, x, x, opts);
    expectClose(y.data.slice(0, 12), plain.data.slice(0, 12));
    const x1 = narrow(x, 0, 1, 1);
    const kv = narrow(x1, 1, 0, 2);
    expectClose(y.data.slice(12), multiHeadAttention(x1, kv, kv, opts).data);
  });

  test('errors', () => {
    const x = randn([2, 3, 4]);
    const wIn = randn([12, 4]);
    const wOut = randn([4, 4]);
    expect(() =>
      multiHeadAttention(x, x, x, { numHeads: 3, inProjWeight: wIn, outProjWeight: wOut }),
    ).toThrow(/embedding size 4 must be divisible by numHeads \(got 3\)/);
    expect(() =>
      multiHeadAttention(x, x, x, { numHeads: 2, inProjWeight: randn([8, 4]), outProjWeight: wOut }),
    ).toThrow(/inProjWeight must be \[12, 4\], got \[8, 4\]/);
    expect(() =>
      multiHeadAttention(randn([3, 4]), x, x, { numHeads: 2, inProjWeight: wIn, outProjWeight: wOut }),
    ).toThrow(ShapeError);
    expect(() =>
      multiHeadAttention(x, randn([2, 5, 4]), randn([2, 4, 4]), {
        numHeads: 2,
        inProjWeight: wIn,
        outProjWeight: wOut,
      }),
    ).toThrow(ShapeError);
    expect(() =>
      multiHeadAttention(x, x, x, {
        numHeads: 2,
        inProjWeight: wIn,
        outProjWeight: wOut,
        inProjBias: randn([4]),
      }),
    ).toThrow(/inProjBias must be \[12\]/);
  });
});
