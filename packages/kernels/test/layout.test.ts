/**
 * The reference layout kernels (copyStrided, gather, gatherBackward, indexSelect, indexSelectBackward): fixed
 * values (a slice, a pad, a broadcast, a diagonal), and fast-check properties against naive loops written here
 * (one multi-index per element, by division) over float32, float64 and int32 storage, with rows long enough to
 * take the native-copy paths.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { TypedArray } from '../src/contract.js';
import { Generator } from '../src/random.js';
import { copyStrided, gather, gatherBackward, indexSelect, indexSelectBackward } from '../src/ref/layout.js';

type DTypeName = 'float32' | 'float64' | 'int32';

function make(dtype: DTypeName, n: number): TypedArray {
  return dtype === 'float32'
    ? new Float32Array(n)
    : dtype === 'float64'
      ? new Float64Array(n)
      : new Int32Array(n);
}

function randArray(dtype: DTypeName, n: number, gen: Generator): TypedArray {
  const a = make(dtype, n);
  for (let i = 0; i < n; i++) a[i] = dtype === 'int32' ? gen.randint(200) - 100 : gen.normal();
  return a;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

function dot(idx: readonly number[], strides: readonly number[]): number {
  let s = 0;
  for (let d = 0; d < idx.length; d++) s += idx[d] * strides[d];
  return s;
}

function expectSame(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`element ${i}: got ${got[i]}, want ${want[i]}`);
    }
  }
}

const dtypeArb = fc.constantFrom<DTypeName>('float32', 'float64', 'int32');
const floatArb = fc.constantFrom<'float32' | 'float64'>('float32', 'float64');
const seedArb = fc.integer({ min: 0, max: 1e6 });

describe('copyStrided', () => {
  test('fixed values: slice, pad, broadcast, diagonal, accumulate', () => {
    const x = Float32Array.from({ length: 12 }, (_, i) => i); // [3, 4]
    // x[1:3, ::2] → [2, 2]
    const s = new Float32Array(4);
    copyStrided(x, 4, [4, 2], s, 0, [2, 1], [2, 2]);
    expect(Array.from(s)).toEqual([4, 6, 8, 10]);
    // x into the interior of a [5, 6] buffer of −1 (pad by 1)
    const p = new Float32Array(30).fill(-1);
    copyStrided(x, 0, [4, 1], p, 7, [6, 1], [3, 4]);
    expect(Array.from(p.subarray(6, 12))).toEqual([-1, 0, 1, 2, 3, -1]);
    expect(Array.from(p.subarray(18, 24))).toEqual([-1, 8, 9, 10, 11, -1]);
    // a column broadcast over 3 columns (source stride 0)
    const b = new Float64Array(6);
    copyStrided(Float64Array.of(7, 8), 0, [1, 0], b, 0, [3, 1], [2, 3]);
    expect(Array.from(b)).toEqual([7, 7, 7, 8, 8, 8]);
    // a diagonal of ones into int32 zeros
    const eye = new Int32Array(9);
    copyStrided(Float64Array.of(1), 0, [0], eye, 0, [4], [3]);
    expect(Array.from(eye)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    // reversed (negative stride), added into the destination
    const acc = Float32Array.of(10, 20, 30);
    copyStrided(Float32Array.of(1, 2, 3), 2, [-1], acc, 0, [1], [3], true);
    expect(Array.from(acc)).toEqual([13, 22, 31]);
    // a zero-size shape copies nothing, a rank-0 one copies one element
    copyStrided(x, 0, [1, 1], acc, 0, [1, 1], [0, 3]);
    expect(Array.from(acc)).toEqual([13, 22, 31]);
    copyStrided(x, 5, [], acc, 1, [], []);
    expect(Array.from(acc)).toEqual([13, 5, 31]);
  });

  test('long contiguous rows and broadcast rows take the native paths and agree with the loop', () => {
    const gen = new Generator(3);
    const x = randArray('float64', 3 * 200, gen);
    const out = new Float32Array(3 * 150);
    copyStrided(x, 10, [200, 1], out, 0, [150, 1], [3, 150]);
    for (let r = 0; r < 3; r++)
      for (let j = 0; j < 150; j++) expect(out[r * 150 + j]).toBe(Math.fround(x[r * 200 + 10 + j]));
    const row = new Int32Array(100);
    copyStrided(Float64Array.of(-2.9), 0, [0], row, 0, [1], [100]);
    expect(row.every((v) => v === -2)).toBe(true);
  });

  // Random geometry: source strides are any of contiguous, permuted, stepped, broadcast (0) or reversed;
  // destination strides are a permutation of a contiguous layout (distinct positions), optionally stepped.
  const copyCase = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 4 }).chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      longInner: fc.boolean(),
      srcKinds: fc.array(fc.constantFrom('contig', 'step', 'zero', 'neg'), {
        minLength: shape.length,
        maxLength: shape.length,
      }),
      dstPerm: fc.shuffledSubarray(
        shape.map((_, i) => i),
        { minLength: shape.length, maxLength: shape.length },
      ),
      dstStep: fc.integer({ min: 1, max: 2 }),
      from: dtypeArb,
      to: dtypeArb,
      accumulate: fc.boolean(),
      seed: seedArb,
    }),
  );

  test('matches the naive per-element copy over random strides, dtypes and accumulate', () => {
    fc.assert(
      fc.property(copyCase, (c) => {
        const shape = [...c.shape];
        if (c.longInner && shape.length > 0) shape[shape.length - 1] = 70 + shape[shape.length - 1];
        const gen = new Generator(c.seed);
        // Source: a contiguous base layout whose strides are then modified per dimension.
        const base = stridesOf(shape);
        const srcStrides = shape.map((_, d) => {
          switch (c.srcKinds[d]) {
            case 'step':
              return base[d] * 2;
            case 'zero':
              return 0;
            case 'neg':
              return -base[d];
            default:
              return base[d];
          }
        });
        // Offset so that every reached position is ≥ 0, and the storage size so that it is in range.
        let lo = 0;
        let hi = 0;
        shape.forEach((n, d) => {
          const span = (n - 1) * srcStrides[d];
          if (span < 0) lo += span;
          else hi += span;
        });
        const srcOffset = -lo + gen.randint(3);
        const src = randArray(c.from, srcOffset + hi + 3, gen);
        // Destination: dimensions laid out in the order dstPerm, spaced by dstStep in the innermost one.
        const dstStrides = new Array<number>(shape.length);
        let s = c.dstStep;
        for (let k = c.dstPerm.length - 1; k >= 0; k--) {
          dstStrides[c.dstPerm[k]] = s;
          s *= shape[c.dstPerm[k]];
        }
        const dstOffset = gen.randint(4);
        const dst = randArray(c.to, dstOffset + s + 2, gen);
        const want = make(c.to, dst.length);
        want.set(dst);
        for (let i = 0; i < sizeOf(shape); i++) {
          const idx = unravel(i, shape);
          const v = src[srcOffset + dot(idx, srcStrides)];
          const j = dstOffset + dot(idx, dstStrides);
          if (c.accumulate) want[j] += v;
          else want[j] = v;
        }
        copyStrided(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape, c.accumulate);
        expectSame(dst, want);
      }),
    );
  });
});

/** A gather case: x shape, axis, index shape (≤ x outside the axis) and in-range indices. */
const gatherCase = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }).chain((xShape) =>
  fc.record({
    xShape: fc.constant(xShape),
    axis: fc.integer({ min: 0, max: xShape.length - 1 }),
    shrink: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: xShape.length, maxLength: xShape.length }),
    seed: seedArb,
  }),
);

function makeGather(c: { xShape: number[]; axis: number; shrink: number[]; seed: number }) {
  const gen = new Generator(c.seed);
  const indexShape = c.xShape.map((d, i) => (i === c.axis ? 1 + c.shrink[i] : Math.max(1, d - c.shrink[i])));
  const index = new Int32Array(sizeOf(indexShape));
  for (let i = 0; i < index.length; i++) index[i] = gen.randint(c.xShape[c.axis]);
  return { gen, indexShape, index };
}

/** Offset into x of gathered element i (its index-space position with the axis coordinate replaced). */
function gatherOffset(i: number, xShape: number[], indexShape: number[], index: Int32Array, axis: number) {
  const idx = unravel(i, indexShape);
  idx[axis] = index[i];
  return dot(idx, stridesOf(xShape));
}

describe('gather', () => {
  test('fixed values (torch.gather along each axis)', () => {
    const x = Float32Array.of(0, 1, 2, 3, 4, 5); // [2, 3]
    const out = new Float32Array(4);
    gather(x, [2, 3], Int32Array.of(2, 0, 1, 1), [2, 2], 1, out);
    expect(Array.from(out)).toEqual([2, 0, 4, 4]);
    const o0 = new Float32Array(3);
    gather(x, [2, 3], Int32Array.of(1, 0, 1), [1, 3], 0, o0);
    expect(Array.from(o0)).toEqual([3, 1, 5]);
    const gx = Float32Array.of(9, 9, 9, 9, 9, 9);
    gatherBackward(Float32Array.of(1, 2, 3, 4), [2, 3], Int32Array.of(2, 0, 1, 1), [2, 2], 1, gx);
    expect(Array.from(gx)).toEqual([2, 0, 1, 0, 7, 0]);
  });

  test('forward and adjoint match naive loops over random shapes (repeated indices accumulate)', () => {
    fc.assert(
      fc.property(gatherCase, dtypeArb, (c, dtype) => {
        const { gen, indexShape, index } = makeGather(c);
        const x = randArray(dtype, sizeOf(c.xShape), gen);
        const out = make(dtype, index.length);
        gather(x, c.xShape, index, indexShape, c.axis, out);
        const want = Array.from(index, (_, i) => x[gatherOffset(i, c.xShape, indexShape, index, c.axis)]);
        expectSame(out, want);
      }),
    );
    fc.assert(
      fc.property(gatherCase, floatArb, (c, dtype) => {
        const { gen, indexShape, index } = makeGather(c);
        const g = randArray(dtype, index.length, gen);
        const gx = randArray(dtype, sizeOf(c.xShape), gen); // garbage: overwritten
        gatherBackward(g as Float32Array, c.xShape, index, indexShape, c.axis, gx as Float32Array);
        const want = new Float64Array(gx.length);
        for (let i = 0; i < index.length; i++)
          want[gatherOffset(i, c.xShape, indexShape, index, c.axis)] += g[i];
        expectClose(gx, want, dtype === 'float32' ? 1e-6 : 1e-14);
      }),
    );
  });
});

const selectCase = fc.record({
  outer: fc.integer({ min: 1, max: 4 }),
  axisLen: fc.integer({ min: 1, max: 6 }),
  inner: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 60, max: 80 })),
  k: fc.integer({ min: 0, max: 8 }),
  seed: seedArb,
});

describe('indexSelect', () => {
  test('fixed values (torch.index_select)', () => {
    const x = Float64Array.of(0, 1, 2, 3, 4, 5); // [2, 3]
    const out = new Float64Array(6);
    indexSelect(x, 2, 3, 1, Int32Array.of(2, 2, 0), out);
    expect(Array.from(out)).toEqual([2, 2, 0, 5, 5, 3]);
    const gx = new Float64Array(6).fill(4);
    indexSelectBackward(Float64Array.of(1, 2, 3, 4, 5, 6), 2, 3, 1, Int32Array.of(2, 2, 0), gx);
    expect(Array.from(gx)).toEqual([3, 0, 3, 6, 0, 9]);
  });

  test('forward and adjoint match naive loops over random views, short and long rows', () => {
    fc.assert(
      fc.property(selectCase, dtypeArb, floatArb, (c, dtype, gradType) => {
        const gen = new Generator(c.seed);
        const index = Int32Array.from({ length: c.k }, () => gen.randint(c.axisLen));
        const x = randArray(dtype, c.outer * c.axisLen * c.inner, gen);
        const out = make(dtype, c.outer * c.k * c.inner);
        indexSelect(x, c.outer, c.axisLen, c.inner, index, out);
        const want = make(dtype, out.length);
        for (let o = 0; o < c.outer; o++)
          for (let j = 0; j < c.k; j++)
            for (let i = 0; i < c.inner; i++)
              want[(o * c.k + j) * c.inner + i] = x[(o * c.axisLen + index[j]) * c.inner + i];
        expectSame(out, want);

        const g = randArray(gradType, out.length, gen) as Float32Array;
        const gx = randArray(gradType, x.length, gen) as Float32Array; // garbage: overwritten
        indexSelectBackward(g, c.outer, c.axisLen, c.inner, index, gx);
        const wantG = new Float64Array(gx.length);
        for (let o = 0; o < c.outer; o++)
          for (let j = 0; j < c.k; j++)
            for (let i = 0; i < c.inner; i++)
              wantG[(o * c.axisLen + index[j]) * c.inner + i] += g[(o * c.k + j) * c.inner + i];
        expectClose(gx, wantG, gradType === 'float32' ? 1e-6 : 1e-14);
      }),
    );
  });
});
