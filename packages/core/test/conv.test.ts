import {
  conv1d,
  DTypeError,
  depthwiseConv1d,
  Generator,
  gradcheck,
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
const seq = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
const values = (t: Tensor): number[] => Array.from(t.data);

describe('conv1d forward on hand-computed values', () => {
  const x = tensor([[seq(5)]]); // [1, 1, 5] = 1 2 3 4 5

  test('padding 1 with zero and with +1 pad value', () => {
    const w = tensor([[[1, 0, -1]]]);
    // out[t] = x[t−1] − x[t+1]
    expect(values(conv1d(x, w, null, { padding: 1 }))).toEqual([-2, -2, -2, -2, 4]);
    // padValue 1: the missing neighbours are +1 instead of 0.
    expect(values(conv1d(x, w, null, { padding: 1, padValue: 1 }))).toEqual([-1, -2, -2, -2, 3]);
  });

  test('dilation', () => {
    // out[t] = x[t] + 2·x[t+2]
    const y = conv1d(x, tensor([[[1, 2]]]), null, { dilation: 2 });
    expect(y.shape).toEqual([1, 1, 3]);
    expect(values(y)).toEqual([7, 10, 13]);
  });

  test('stride and bias', () => {
    const y = conv1d(x, tensor([[[1, 1]]]), tensor([10]), { stride: 2 });
    expect(y.shape).toEqual([1, 1, 2]);
    expect(values(y)).toEqual([13, 17]);
  });

  test("'same' with an even kernel pads 1 left and 2 right (PyTorch)", () => {
    const y = conv1d(x, tensor([[[1, 1, 1, 1]]]), null, { padding: 'same' });
    expect(values(y)).toEqual([6, 10, 14, 12, 9]);
    expect(values(conv1d(x, tensor([[[1, 1, 1]]]), null, { padding: 'valid' }))).toEqual([6, 9, 12]);
  });

  test('asymmetric [left, right] padding', () => {
    const y = conv1d(tensor([[[1, 2, 3]]]), tensor([[[1, 2, 3]]]), null, { padding: [2, 0] });
    expect(values(y)).toEqual([3, 8, 14]);
    const z = conv1d(tensor([[[1, 2, 3]]]), tensor([[[1, 2, 3]]]), null, { padding: [0, 1], padValue: 1 });
    expect(values(z)).toEqual([14, 11]);
  });

  test('channels, groups and depthwise', () => {
    const x2 = tensor([
      [
        [1, 2, 3],
        [10, 20, 30],
      ],
    ]);
    expect(values(conv1d(x2, tensor([[[1], [-1]]])))).toEqual([-9, -18, -27]);
    const g = conv1d(x2, tensor([[[2]], [[3]]]), null, { groups: 2 });
    expect(g.shape).toEqual([1, 2, 3]);
    expect(values(g)).toEqual([2, 4, 6, 30, 60, 90]);
    // Depthwise with multiplier 2: output channel o reads input channel ⌊o/2⌋.
    const d = depthwiseConv1d(x2, tensor([[[1]], [[2]], [[3]], [[4]]]));
    expect(values(d)).toEqual([1, 2, 3, 2, 4, 6, 30, 60, 90, 40, 80, 120]);
  });

  test('unbatched 2-D input and float64', () => {
    const y = conv1d(tensor([seq(4)], undefined, f64), tensor([[[1, -1]]], undefined, f64));
    expect(y.shape).toEqual([1, 3]);
    expect(y.dtype).toBe('float64');
    expect(values(y)).toEqual([-1, -1, -1]);
  });
});

describe('conv1d gradients', () => {
  test('padValue reaches the weight gradient as padValue·g, not the input', () => {
    const x = tensor([[[1, 2]]], undefined, { ...f64, requiresGrad: true });
    const w = tensor([[[1, 1, 1]]], undefined, { ...f64, requiresGrad: true });
    sum(conv1d(x, w, null, { padding: 1, padValue: 3 })).backward();
    // Windows: [3,1,2], [1,2,3] → dW = [4, 3, 5]; each x element appears in both windows → dx = [2, 2].
    expect(values(w.grad!)).toEqual([4, 3, 5]);
    expect(values(x.grad!)).toEqual([2, 2]);
  });

  const caseArb = fc.record({
    batch: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cinG: fc.integer({ min: 1, max: 3 }),
    coutG: fc.integer({ min: 1, max: 5 }),
    k: fc.integer({ min: 1, max: 4 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 3 }),
    padL: fc.integer({ min: 0, max: 3 }),
    padR: fc.integer({ min: 0, max: 3 }),
    length: fc.integer({ min: 1, max: 9 }),
    padValue: fc.constantFrom(0, 1, -0.5),
    withBias: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1e6 }),
  });

  test('grad: conv1d', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const span = c.dilation * (c.k - 1) + 1;
        fc.pre(span <= c.length + c.padL + c.padR);
        const generator = new Generator(c.seed);
        const x = randn([c.batch, c.cinG * c.groups, c.length], { ...f64, generator });
        const w = randn([c.coutG * c.groups, c.cinG, c.k], { ...f64, generator });
        const b = randn([c.coutG * c.groups], { ...f64, generator });
        const opts = {
          stride: c.stride,
          dilation: c.dilation,
          groups: c.groups,
          padding: [c.padL, c.padR] as [number, number],
          padValue: c.padValue,
        };
        if (c.withBias) gradcheck((xx, ww, bb) => conv1d(xx, ww, bb, opts), [x, w, b]);
        else gradcheck((xx, ww) => conv1d(xx, ww, null, opts), [x, w]);
      }),
      { numRuns: 40 },
    );
  });

  test("grad: conv1d with 'same' padding and depthwise", () => {
    const generator = new Generator(7);
    const x = randn([2, 3, 7], { ...f64, generator });
    gradcheck(
      (xx, ww, bb) => conv1d(xx, ww, bb, { padding: 'same', dilation: 2 }),
      [x, randn([4, 3, 4], { ...f64, generator }), randn([4], { ...f64, generator })],
    );
    gradcheck(
      (xx, ww) => depthwiseConv1d(xx, ww, null, { padding: 2, stride: 2, padValue: 1 }),
      [x, randn([6, 1, 5], { ...f64, generator })],
    );
  });
});

describe('conv1d rejects bad input with the shapes in the message', () => {
  const x = randn([2, 4, 10]);
  const w = randn([6, 2, 3]);

  const expectError = (fn: () => unknown, cls: new (...a: never[]) => Error, ...parts: string[]) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(cls);
    for (const p of parts) expect((err as Error).message).toContain(p);
  };

  test('ranks', () => {
    expectError(() => conv1d(randn([4, 10, 1, 1]), w), ShapeError, 'conv1d', '[4, 10, 1, 1]');
    expectError(() => conv1d(x, randn([6, 6])), ShapeError, 'conv1d', '[6, 6]');
  });

  test('channels vs groups and weight shape', () => {
    expectError(() => conv1d(x, randn([6, 1, 3]), null, { groups: 3 }), ShapeError, 'groups 3', '[2, 4, 10]');
    expectError(() => conv1d(x, randn([5, 2, 3]), null, { groups: 2 }), ShapeError, '[5, 2, 3]', 'groups 2');
    expectError(
      () => conv1d(x, randn([6, 3, 3]), null, { groups: 2 }),
      ShapeError,
      '[6, 3, 3]',
      '[2, 4, 10]',
    );
    expectError(() => conv1d(x, w), ShapeError, '[6, 2, 3]', '[2, 4, 10]');
    expectError(() => conv1d(x, w, randn([5]), { groups: 2 }), ShapeError, 'bias [5]');
    expectError(() => depthwiseConv1d(x, randn([6, 1, 3])), ShapeError, '[6, 1, 3]', '[2, 4, 10]');
  });

  test('kernel larger than the padded input', () => {
    expectError(
      () => conv1d(randn([1, 1, 4]), randn([1, 1, 3]), null, { dilation: 2, padding: [0, 0] }),
      ShapeError,
      'span 5',
      '[1, 1, 4]',
      '[1, 1, 3]',
    );
  });

  test('stride, dilation, groups, padding values', () => {
    expectError(() => conv1d(x, w, null, { stride: 0, groups: 2 }), ValueError, 'stride', '0');
    expectError(() => conv1d(x, w, null, { dilation: -1, groups: 2 }), ValueError, 'dilation');
    expectError(() => conv1d(x, w, null, { groups: 0 }), ValueError, 'groups');
    expectError(() => conv1d(x, w, null, { padding: -1, groups: 2 }), ValueError, 'padding');
    expectError(() => conv1d(x, w, null, { padding: [1, -2], groups: 2 }), ValueError, 'padding[1]');
    expectError(() => conv1d(x, w, null, { padding: 1.5, groups: 2 }), ValueError, 'padding');
    expectError(
      () => conv1d(x, w, null, { padding: 'same', stride: 2, groups: 2 }),
      ValueError,
      "'same'",
      'stride 2',
    );
    expectError(() => conv1d(x, w, null, { groups: 2, padValue: Number.NaN }), ValueError, 'padValue');
  });

  test('dtypes', () => {
    expectError(
      () => conv1d(x, randn([6, 2, 3], f64), null, { groups: 2 }),
      DTypeError,
      'float64',
      'float32',
    );
    expectError(
      () => conv1d(x, w, randn([6], f64), { groups: 2 }),
      DTypeError,
      'bias dtype float64',
      'float32',
    );
    expectError(
      () =>
        conv1d(
          tensor([[[1, 2, 3]]], undefined, { dtype: 'int32' }),
          tensor([[[1]]], undefined, { dtype: 'int32' }),
        ),
      DTypeError,
      'int32',
    );
  });
});
