/**
 * Tensor construction and interop: factories and dtypes, seeded random determinism, item/toArray/toString,
 * scijs ndarray round trips including non-contiguous views (transpose, hi/lo, negative steps, offsets).
 */
import {
  arange,
  eye,
  fromNdarray,
  full,
  fullLike,
  Generator,
  linspace,
  manualSeed,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  randnLike,
  randperm,
  ShapeError,
  Tensor,
  tensor,
  toNdarray,
  zeros,
  zerosLike,
} from '@ecgnn/core';
import fc from 'fast-check';
import ndarray from 'ndarray';
import { describe, expect, test } from 'vitest';

const vals = (t: Tensor) => Array.from(t.data);

describe('tensor()', () => {
  test('numbers, nested arrays, flat arrays with shape, typed arrays', () => {
    const s = tensor(3.5);
    expect(s.shape).toEqual([]);
    expect(s.ndim).toBe(0);
    expect(s.item()).toBe(3.5);
    const m = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(m.shape).toEqual([2, 3]);
    expect(m.dtype).toBe('float32');
    expect(m.strides).toEqual([3, 1]);
    expect(m.size).toBe(6);
    expect(vals(tensor([1, 2, 3, 4, 5, 6], [3, 2]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensor([1, 2, 3, 4, 5, 6], [3, 2]).shape).toEqual([3, 2]);
    // nested data with an explicit shape is reshaped
    expect(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        [4],
      ).shape,
    ).toEqual([4]);
    const typed = tensor(new Float64Array([1, 2, 3]));
    expect(typed.shape).toEqual([3]);
    expect(typed.dtype).toBe('float32'); // float32 unless asked
    expect(tensor(new Float64Array([1, 2]), undefined, { dtype: 'float64' }).dtype).toBe('float64');
    expect(tensor(new Int32Array([1, 2, 3, 4]), [2, 2], { dtype: 'int32' }).shape).toEqual([2, 2]);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[]]).shape).toEqual([1, 0]);
    expect(tensor([1.9, -1.9], undefined, { dtype: 'int32' }).toArray()).toEqual([1, -1]);
  });

  test('data is copied: the tensor never aliases caller memory', () => {
    const src = new Float32Array([1, 2]);
    const t = tensor(src);
    src[0] = 99;
    expect(t.data[0]).toBe(1);
  });

  test('float64 keeps full precision; float32 rounds', () => {
    expect(tensor([0.1], undefined, { dtype: 'float64' }).data[0]).toBe(0.1);
    expect(tensor([0.1]).data[0]).toBe(Math.fround(0.1));
  });
});

describe('factories', () => {
  test('zeros, ones, full, *Like', () => {
    expect(vals(zeros([2, 2]))).toEqual([0, 0, 0, 0]);
    expect(vals(ones([3]))).toEqual([1, 1, 1]);
    expect(vals(full([2], 7, { dtype: 'int32' }))).toEqual([7, 7]);
    expect(full([2], 7, { dtype: 'int32' }).dtype).toBe('int32');
    expect(zeros([0, 3]).size).toBe(0);
    expect(zeros([]).shape).toEqual([]);
    const t = tensor([1, 2, 3], [3], { dtype: 'float64' });
    expect(zerosLike(t).dtype).toBe('float64');
    expect(vals(onesLike(t))).toEqual([1, 1, 1]);
    expect(fullLike(t, 4, { dtype: 'int32' }).dtype).toBe('int32');
    expect(zerosLike(t, { requiresGrad: true }).requiresGrad).toBe(true);
    expect(randnLike(t, { generator: new Generator(1) }).shape).toEqual([3]);
    expect(randnLike(t).dtype).toBe('float64');
  });

  test('arange, linspace, eye', () => {
    expect(vals(arange(5))).toEqual([0, 1, 2, 3, 4]);
    expect(vals(arange(2, 5))).toEqual([2, 3, 4]);
    expect(vals(arange(0, 1, 0.25))).toEqual([0, 0.25, 0.5, 0.75]);
    expect(vals(arange(5, 0, -2))).toEqual([5, 3, 1]);
    expect(arange(5, 0).shape).toEqual([0]);
    expect(arange(3, undefined, 1, { dtype: 'int32' }).dtype).toBe('int32');
    expect(vals(linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(vals(linspace(2, 3, 1))).toEqual([2]);
    expect(linspace(0, 1, 0).shape).toEqual([0]);
    expect(eye(3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  test('same seed → same randn/rand/randint/randperm; different seeds differ', () => {
    const a = randn([50], { generator: new Generator(42) });
    const b = randn([50], { generator: new Generator(42) });
    const c = randn([50], { generator: new Generator(43) });
    expect(vals(a)).toEqual(vals(b));
    expect(vals(a)).not.toEqual(vals(c));
    manualSeed(7);
    const g1 = [randn([5]), rand([5]), randint(0, 10, [5]), randperm(6)].map(vals);
    manualSeed(7);
    const g2 = [randn([5]), rand([5]), randint(0, 10, [5]), randperm(6)].map(vals);
    expect(g1).toEqual(g2);
    // float64 draws the same underlying numbers as float32 (before rounding)
    const d = randn([4], { generator: new Generator(3), dtype: 'float64' });
    const f = randn([4], { generator: new Generator(3) });
    expect(vals(f)).toEqual(vals(d).map(Math.fround));
  });

  test('random values have the right ranges and rough moments', () => {
    const g = new Generator(123);
    const n = randn([20000], { generator: g, dtype: 'float64' });
    const mean = vals(n).reduce((s, v) => s + v, 0) / n.size;
    const varr = vals(n).reduce((s, v) => s + (v - mean) ** 2, 0) / n.size;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(varr - 1)).toBeLessThan(0.05);
    const u = rand([5000], { generator: g, low: -2, high: 3 });
    expect(Math.min(...vals(u))).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...vals(u))).toBeLessThan(3);
    const r = randint(-3, 4, [5000], { generator: g });
    expect(r.dtype).toBe('int32');
    expect(new Set(vals(r))).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    const p = randperm(20, { generator: g });
    expect([...vals(p)].sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
  });
});

describe('Tensor accessors', () => {
  test('item() on any one-element tensor, error otherwise', () => {
    expect(tensor([[5]]).item()).toBe(5);
    expect(tensor([7], [1], { dtype: 'int32' }).item()).toBe(7);
    expect(() => tensor([1, 2]).item()).toThrow(ShapeError);
    expect(() => tensor([1, 2]).item()).toThrow(/item: tensor of shape \[2\] has 2 elements/);
    expect(() => zeros([0]).item()).toThrow(/0 elements/);
  });

  test('toArray() for every rank, zero-size dims, round trip through tensor()', () => {
    expect(tensor(4).toArray()).toBe(4);
    expect(arange(3).toArray()).toEqual([0, 1, 2]);
    expect(arange(6).reshape(2, 3, 1).toArray()).toEqual([
      [[0], [1], [2]],
      [[3], [4], [5]],
    ]);
    expect(zeros([2, 0]).toArray()).toEqual([[], []]);
    expect(zeros([0, 2]).toArray()).toEqual([]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 4 }), (shape) => {
        const t = randn(shape, { generator: new Generator(shape.length) });
        const back = tensor(t.toArray() as number[], shape);
        expect(back.shape).toEqual(shape);
        expect(vals(back)).toEqual(vals(t));
      }),
      { numRuns: 30 },
    );
  });

  test('toString shows shape, dtype and a preview', () => {
    const s = tensor([1, 2, 3], [3], { requiresGrad: true }).toString();
    expect(s).toContain('shape=[3]');
    expect(s).toContain('float32');
    expect(s).toContain('requiresGrad');
    expect(arange(20).toString()).toContain('…');
  });

  test('the constructor wraps storage and validates it', () => {
    const data = new Float64Array([1, 2, 3, 4]);
    const t = new Tensor(data, [2, 2]);
    expect(t.data).toBe(data);
    expect(t.dtype).toBe('float64');
    expect(Object.isFrozen(t.shape)).toBe(true);
    expect(() => new Tensor(new Float32Array(4), [2, -2])).toThrow(/invalid shape \[2, -2\]/);
  });
});

describe('scijs ndarray interop', () => {
  test('round trip keeps values, shape and dtype', () => {
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const t = tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype });
      const nd = toNdarray(t);
      expect(nd.shape).toEqual([2, 3]);
      expect(nd.get(1, 2)).toBe(6);
      const back = fromNdarray(nd);
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([2, 3]);
      expect(vals(back)).toEqual([1, 2, 3, 4, 5, 6]);
      // toNdarray copies
      nd.set(0, 0, 100);
      expect(t.data[0]).toBe(1);
    }
  });

  test('non-contiguous views: transpose, hi/lo, negative steps, offsets', () => {
    const base = ndarray(new Float64Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), [3, 4]);
    const tr = fromNdarray(base.transpose(1, 0));
    expect(tr.shape).toEqual([4, 3]);
    expect(tr.toArray()).toEqual([
      [0, 4, 8],
      [1, 5, 9],
      [2, 6, 10],
      [3, 7, 11],
    ]);
    // rows 1..2, columns 1..3 (hi then lo gives an offset view)
    const win = fromNdarray(base.hi(3, 4).lo(1, 1));
    expect(win.toArray()).toEqual([
      [5, 6, 7],
      [9, 10, 11],
    ]);
    const stepped = fromNdarray(base.step(-1, 2));
    expect(stepped.toArray()).toEqual([
      [8, 10],
      [4, 6],
      [0, 2],
    ]);
    const picked = fromNdarray(base.pick(null, 1));
    expect(vals(picked)).toEqual([1, 5, 9]);
    expect(fromNdarray(base, { dtype: 'float32' }).dtype).toBe('float32');
    // plain-array storage becomes float32
    expect(fromNdarray(ndarray([1, 2, 3, 4], [2, 2])).dtype).toBe('float32');
  });

  test('property: fromNdarray matches element-wise get() on random strided views', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        (r, c, sr, sc, flip) => {
          const data = new Float32Array(r * c).map((_, i) => i * 1.5);
          let v = ndarray(data, [r, c]).step(flip ? -sr : sr, sc);
          if (flip) v = v.transpose(1, 0);
          const t = fromNdarray(v);
          expect(t.shape).toEqual(v.shape);
          for (let i = 0; i < v.shape[0]; i++) {
            for (let j = 0; j < v.shape[1]; j++) expect(t.data[i * v.shape[1] + j]).toBe(v.get(i, j));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('malformed ndarray-likes are rejected', () => {
    expect(() => fromNdarray({ data: [1, 2], shape: [3], stride: [1], offset: 0 })).toThrow(
      /outside storage/,
    );
    expect(() => fromNdarray({ data: [1, 2], shape: [2], stride: [1, 1], offset: 0 })).toThrow(
      /scijs ndarray/,
    );
    expect(() => fromNdarray(null as never)).toThrow(/scijs ndarray/);
  });
});
