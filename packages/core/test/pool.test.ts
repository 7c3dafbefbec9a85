import {
  adaptiveAvgPool1d,
  adaptiveMaxPool1d,
  avgPool1d,
  DTypeError,
  Generator,
  globalAvgPool1d,
  gradcheck,
  maxPool1d,
  randn,
  ShapeError,
  sum,
  type Tensor,
  tensor,
  ValueError,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const f64 = { dtype: 'float64' } as const;
const values = (t: Tensor): number[] => Array.from(t.data);
const row = (v: number[], dtype: 'float32' | 'float64' = 'float32') =>
  tensor([[v]], undefined, { dtype, requiresGrad: dtype === 'float64' });

function expectError(fn: () => unknown, cls: new (...a: never[]) => Error, ...parts: string[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(cls);
  for (const p of parts) expect((err as Error).message).toContain(p);
}

describe('pooling forward on hand-computed values', () => {
  const x = row([3, 1, 4, 1, 5, 9, 2, 6]);

  test('maxPool1d: default stride, padding (−∞), dilation, ceil mode', () => {
    expect(values(maxPool1d(x, 2))).toEqual([3, 4, 9, 6]);
    expect(values(maxPool1d(x, 3, { stride: 2, padding: 1 }))).toEqual([3, 4, 9, 9]);
    // Padding with −∞: a negative row keeps its own values at the border.
    expect(values(maxPool1d(row([-5, -7, -1]), 3, { stride: 1, padding: 1 }))).toEqual([-5, -1, -1]);
    // Dilation 2: windows {t, t+2, t+4}.
    expect(values(maxPool1d(x, 3, { stride: 1, dilation: 2 }))).toEqual([5, 9, 5, 9]);
    // ceilMode keeps the partial last window [6]: ⌈(8 − 3)/3⌉ + 1 = 3 windows.
    expect(values(maxPool1d(x, 3, { ceilMode: true }))).toEqual([4, 9, 6]);
    expect(values(maxPool1d(x, 3))).toEqual([4, 9]);
  });

  test('maxPool1d: ties send the gradient to the first maximum', () => {
    const t = row([2, 2, 1, 7, 7], 'float64');
    const y = maxPool1d(t, 2, { stride: 1 });
    expect(values(y)).toEqual([2, 2, 7, 7]);
    sum(y).backward();
    expect(values(t.grad!)).toEqual([1, 1, 0, 2, 0]);
  });

  test('avgPool1d: countIncludePad true (default) and false, ceil mode', () => {
    expect(values(avgPool1d(x, 2))).toEqual([2, 2.5, 7, 4]);
    // Windows [pad,3,1], [1,4,1], [1,5,9], [9,2,6]: pad counts in the divisor by default.
    const inc = values(avgPool1d(x, 3, { stride: 2, padding: 1 }));
    expect(inc).toHaveLength(4);
    expect(inc[0]).toBeCloseTo(4 / 3, 6);
    expect(inc[1]).toBeCloseTo(2, 6);
    expect(inc[2]).toBeCloseTo(5, 6);
    expect(inc[3]).toBeCloseTo(17 / 3, 6);
    const exc = values(avgPool1d(x, 3, { stride: 2, padding: 1, countIncludePad: false }));
    expect(exc[0]).toBeCloseTo(2, 6);
    expect(exc[3]).toBeCloseTo(17 / 3, 6);
    // ceilMode: last window [2, 6] clipped at the input end (no padding), divisor 2.
    expect(values(avgPool1d(row([1, 2, 3, 4, 5]), 2, { ceilMode: true }))).toEqual([1.5, 3.5, 5]);
  });

  test('adaptiveAvgPool1d and adaptiveMaxPool1d use PyTorch bins', () => {
    // L = 5, out = 3: bins [0,2), [1,4), [3,5).
    const y = row([1, 2, 3, 4, 5]);
    const a = values(adaptiveAvgPool1d(y, 3));
    expect(a[0]).toBeCloseTo(1.5, 6);
    expect(a[1]).toBeCloseTo(3, 6);
    expect(a[2]).toBeCloseTo(4.5, 6);
    expect(values(adaptiveMaxPool1d(row([5, 1, 2, 8, 3]), 3))).toEqual([5, 8, 8]);
    // Output longer than input: bins repeat elements.
    // L = 2, out = 4: bins [0,1), [0,1), [1,2), [1,2).
    expect(values(adaptiveAvgPool1d(row([1, 2]), 4))).toEqual([1, 1, 2, 2]);
  });

  test('unbatched 2-D input [channels, length]', () => {
    const u = tensor([
      [1, 5, 2, 2],
      [0, -1, 3, 3],
    ]);
    expect(maxPool1d(u, 2).shape).toEqual([2, 2]);
    expect(values(maxPool1d(u, 2))).toEqual([5, 2, 0, 3]);
    expect(values(avgPool1d(u, 4))).toEqual([2.5, 1.25]);
    expect(values(adaptiveMaxPool1d(u, 1))).toEqual([5, 3]);
    expect(values(adaptiveAvgPool1d(u, 2))).toEqual([3, 2, -0.5, 3]);
    expect(values(globalAvgPool1d(u))).toEqual([2.5, 1.25]);
  });

  test('globalAvgPool1d', () => {
    const g = globalAvgPool1d(
      tensor([
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
      ]),
    );
    expect(g.shape).toEqual([1, 2]);
    expect(values(g)).toEqual([2, 5]);
  });
});

const poolArb = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  channels: fc.integer({ min: 1, max: 3 }),
  length: fc.integer({ min: 1, max: 11 }),
  k: fc.integer({ min: 1, max: 4 }),
  stride: fc.integer({ min: 1, max: 4 }),
  padding: fc.integer({ min: 0, max: 2 }),
  dilation: fc.integer({ min: 1, max: 3 }),
  ceilMode: fc.boolean(),
  countIncludePad: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

function input(c: { batch: number; channels: number; length: number; seed: number }): Tensor {
  return randn([c.batch, c.channels, c.length], { ...f64, generator: new Generator(c.seed) });
}

/** PyTorch's output length (also used to filter shapes the op must reject). */
function outLen(L: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const num = L + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  if (ceil && (o - 1) * s >= L + p) o--;
  return o;
}

describe('pooling gradients (float64 finite differences)', () => {
  test('grad: maxPool1d', () => {
    fc.assert(
      fc.property(poolArb, (c) => {
        fc.pre(c.padding <= Math.floor((c.dilation * (c.k - 1) + 1) / 2));
        fc.pre(outLen(c.length, c.k, c.stride, c.padding, c.dilation, c.ceilMode) >= 1);
        const x = input(c);
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode };
        // Windows made only of padding give −∞ (as PyTorch); finite differences need finite outputs.
        fc.pre(values(maxPool1d(x, c.k, opts)).every(Number.isFinite));
        gradcheck((t) => maxPool1d(t, c.k, opts), [x]);
      }),
      { numRuns: 40 },
    );
  });

  test('grad: avgPool1d', () => {
    fc.assert(
      fc.property(poolArb, (c) => {
        fc.pre(c.padding <= Math.floor(c.k / 2));
        fc.pre(outLen(c.length, c.k, c.stride, c.padding, 1, c.ceilMode) >= 1);
        const opts = {
          stride: c.stride,
          padding: c.padding,
          ceilMode: c.ceilMode,
          countIncludePad: c.countIncludePad,
        };
        gradcheck((t) => avgPool1d(t, c.k, opts), [input(c)]);
      }),
      { numRuns: 40 },
    );
  });

  test('grad: adaptiveAvgPool1d', () => {
    fc.assert(
      fc.property(poolArb, fc.integer({ min: 1, max: 7 }), (c, out) => {
        gradcheck((t) => adaptiveAvgPool1d(t, out), [input(c)]);
      }),
      { numRuns: 30 },
    );
  });

  test('grad: adaptiveMaxPool1d', () => {
    fc.assert(
      fc.property(poolArb, fc.integer({ min: 1, max: 7 }), (c, out) => {
        gradcheck((t) => adaptiveMaxPool1d(t, out), [input(c)]);
      }),
      { numRuns: 30 },
    );
  });

  test('grad: globalAvgPool1d (composite of mean)', () => {
    gradcheck((t) => globalAvgPool1d(t), [randn([2, 3, 5], { ...f64, generator: new Generator(3) })]);
  });
});

describe('pooling rejects bad input', () => {
  const x = randn([2, 3, 8]);

  test('rank and dtype', () => {
    expectError(() => maxPool1d(randn([8]), 2), ShapeError, 'maxPool1d', '[8]');
    expectError(() => avgPool1d(randn([1, 1, 3, 8]), 2), ShapeError, 'avgPool1d', '[1, 1, 3, 8]');
    expectError(() => adaptiveAvgPool1d(randn([8]), 2), ShapeError, 'adaptiveAvgPool1d', '[8]');
    expectError(() => globalAvgPool1d(randn([2, 2, 2, 8])), ShapeError, 'globalAvgPool1d', '[2, 2, 2, 8]');
    expectError(
      () => maxPool1d(tensor([[[1, 2]]], undefined, { dtype: 'int32' }), 2),
      DTypeError,
      'maxPool1d',
      'int32',
    );
  });

  test('kernel, stride, padding values', () => {
    expectError(() => maxPool1d(x, 0), ValueError, 'kernelSize', '0');
    expectError(() => maxPool1d(x, 2, { stride: -1 }), ValueError, 'stride');
    expectError(() => maxPool1d(x, 3, { padding: 2 }), ValueError, 'padding 2', '[2, 3, 8]');
    expectError(() => avgPool1d(x, 2, { padding: 2 }), ValueError, 'padding 2');
    expectError(() => maxPool1d(x, 9), ShapeError, 'kernel size 9', '[2, 3, 8]');
    expectError(() => adaptiveMaxPool1d(x, 0), ValueError, 'outputSize');
    expectError(() => adaptiveAvgPool1d(randn([1, 2, 0]), 3), ShapeError, '[1, 2, 0]');
  });
});
