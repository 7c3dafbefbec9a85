/**
 * The reference elementwise kernels (binary, compare, where, cast, fill, arange, firstNonFinite) and the
 * reductions and permutation of the same file (reduce, permute): fixed values, and fast-check properties
 * against naive loops written here (one multi-index per output element, no odometers or fast paths), over
 * float32, float64 and int32 storage.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { BinaryKernelOp, CompareKernelOp, TypedArray } from '../src/contract.js';
import { Generator } from '../src/random.js';
import {
  arange,
  binary,
  cast,
  compare,
  fill,
  firstNonFinite,
  permute,
  reduce,
  where,
} from '../src/ref/elementwise.js';

type DTypeName = 'float32' | 'float64' | 'int32';

function make(dtype: DTypeName, n: number): TypedArray {
  return dtype === 'float32'
    ? new Float32Array(n)
    : dtype === 'float64'
      ? new Float64Array(n)
      : new Int32Array(n);
}

/** Random values (small integers for int32; some exact ties so comparisons and extrema see equal values). */
function randArray(dtype: DTypeName, n: number, gen: Generator): TypedArray {
  const a = make(dtype, n);
  for (let i = 0; i < n; i++)
    a[i] = dtype === 'int32' ? gen.randint(7) - 3 : gen.randint(4) === 0 ? 1 : gen.normal();
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

/** Multi-index of flat position `i` in `shape` (row-major), by division: the oracle's way. */
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

/** An operand shape broadcastable to `out`: some dimensions set to 1, maybe fewer leading dimensions. */
function operandShape(out: readonly number[], gen: Generator): number[] {
  const drop = gen.randint(out.length + 1);
  return out.slice(drop).map((d) => (gen.randint(3) === 0 ? 1 : d));
}

/** Strides of `shape` broadcast to `out` (0 on broadcast dimensions), as the contract wants them. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const st = stridesOf(shape);
  const res = new Array<number>(out.length).fill(0);
  const off = out.length - shape.length;
  for (let i = 0; i < shape.length; i++) res[i + off] = shape[i] === 1 ? 0 : st[i];
  return res;
}

/** Same values and same NaNs (Object.is also tells −0 from +0, which none of these kernels may change). */
function expectSame(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      throw new Error(`element ${i}: got ${got[i]}, want ${want[i]}`);
    }
  }
}

/** Stores `values` into an array of `dtype` (rounding as the kernel's store does). */
function stored(dtype: DTypeName, values: ArrayLike<number>): TypedArray {
  const a = make(dtype, values.length);
  for (let i = 0; i < values.length; i++) a[i] = values[i];
  return a;
}

function naiveBinary(op: BinaryKernelOp, x: number, y: number): number {
  switch (op) {
    case 'add':
      return x + y;
    case 'sub':
      return x - y;
    case 'mul':
      return x * y;
    case 'div':
      return x / y;
    case 'pow':
      return x ** y;
    case 'maximum':
      return Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.max(x, y);
    case 'minimum':
      return Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.min(x, y);
  }
}

function naiveCompare(op: CompareKernelOp, x: number, y: number): number {
  const r = { eq: x === y, ne: x !== y, lt: x < y, le: x <= y, gt: x > y, ge: x >= y }[op];
  return r ? 1 : 0;
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 });
const dtypeArb = fc.constantFrom<DTypeName>('float32', 'float64', 'int32');
const floatArb = fc.constantFrom<DTypeName>('float32', 'float64');
const seedArb = fc.integer({ min: 0, max: 1e6 });

/** A broadcast case: output shape, operand shapes and values. */
function broadcastCase(shape: number[], dtype: DTypeName, seed: number, operands: number) {
  const gen = new Generator(seed);
  const shapes = Array.from({ length: operands }, () => operandShape(shape, gen));
  const data = shapes.map((s) => randArray(dtype, sizeOf(s), gen));
  const strides = shapes.map((s) => broadcastStrides(s, shape));
  return { shapes, data, strides };
}

describe('binary', () => {
  test('fixed values: broadcasting a row against a column, NaN through maximum/minimum', () => {
    const out = new Float64Array(6);
    binary('sub', Float64Array.of(10, 20), [1, 0], Float64Array.of(1, 2, 3), [0, 1], out, [2, 3]);
    expect(Array.from(out)).toEqual([9, 8, 7, 19, 18, 17]);
    const m = new Float32Array(3);
    binary('maximum', Float32Array.of(1, Number.NaN, 3), [1], Float32Array.of(2, 0, Number.NaN), [1], m, [3]);
    expectSame(m, [2, Number.NaN, Number.NaN]);
    binary('minimum', Float32Array.of(1, Number.NaN, 3), [1], Float32Array.of(2, 0, Number.NaN), [1], m, [3]);
    expectSame(m, [1, Number.NaN, Number.NaN]);
  });

  test('out may alias an operand (in-place accumulation)', () => {
    const acc = Float64Array.of(1, 2, 3);
    binary('add', acc, [1], Float64Array.of(10, 20, 30), [1], acc, [3]);
    expect(Array.from(acc)).toEqual([11, 22, 33]);
  });

  test('matches the naive loop over random broadcast shapes, every op and dtype', () => {
    const ops: BinaryKernelOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'];
    fc.assert(
      fc.property(shapeArb, dtypeArb, fc.constantFrom(...ops), seedArb, (shape, dtype, op, seed) => {
        if (dtype === 'int32' && (op === 'div' || op === 'pow')) return;
        const { data, strides } = broadcastCase(shape, dtype, seed, 2);
        const out = make(dtype, sizeOf(shape));
        binary(op, data[0], strides[0], data[1], strides[1], out, shape);
        const want = Array.from({ length: out.length }, (_, i) => {
          const idx = unravel(i, shape);
          return naiveBinary(op, data[0][dot(idx, strides[0])], data[1][dot(idx, strides[1])]);
        });
        expectSame(out, stored(dtype, want));
      }),
    );
  });
});

describe('compare', () => {
  test('fixed values: 1 where true, NaN compares unequal', () => {
    const out = new Float32Array(3);
    compare('le', Float32Array.of(1, 2, Number.NaN), [1], Float32Array.of(2), [0], out, [3]);
    expect(Array.from(out)).toEqual([1, 1, 0]);
    compare('ne', Float32Array.of(1, 2, Number.NaN), [1], Float32Array.of(2), [0], out, [3]);
    expect(Array.from(out)).toEqual([1, 0, 1]);
  });

  test('matches the naive loop over random broadcast shapes, every op and dtype', () => {
    const ops: CompareKernelOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];
    fc.assert(
      fc.property(shapeArb, dtypeArb, fc.constantFrom(...ops), seedArb, (shape, dtype, op, seed) => {
        const { data, strides } = broadcastCase(shape, dtype, seed, 2);
        const out = make(dtype, sizeOf(shape));
        compare(op, data[0], strides[0], data[1], strides[1], out, shape);
        const want = Array.from({ length: out.length }, (_, i) => {
          const idx = unravel(i, shape);
          return naiveCompare(op, data[0][dot(idx, strides[0])], data[1][dot(idx, strides[1])]);
        });
        expectSame(out, want);
      }),
    );
  });
});

describe('where', () => {
  test('fixed values: non-zero and NaN conditions pick a, zero picks b; broadcasting', () => {
    const out = new Float64Array(6);
    // cond [3] over columns, a [2, 1] over rows, b a scalar
    where(
      Float32Array.of(1, 0, Number.NaN),
      [0, 1],
      Float64Array.of(5, 6),
      [1, 0],
      Float64Array.of(-1),
      [0, 0],
      out,
      [2, 3],
    );
    expect(Array.from(out)).toEqual([5, -1, 5, 6, -1, 6]);
  });

  test('out may alias an operand', () => {
    const a = Float32Array.of(1, 2, 3);
    where(Int32Array.of(0, 1, 0), [1], a, [1], Float32Array.of(9, 9, 9), [1], a, [3]);
    expect(Array.from(a)).toEqual([9, 2, 9]);
  });

  test('matches the naive loop over random broadcast shapes and dtypes', () => {
    fc.assert(
      fc.property(shapeArb, dtypeArb, dtypeArb, seedArb, (shape, dtype, condType, seed) => {
        const gen = new Generator(seed + 1);
        const { data, strides } = broadcastCase(shape, dtype, seed, 2);
        const cShape = operandShape(shape, gen);
        const cond = make(condType, sizeOf(cShape));
        for (let i = 0; i < cond.length; i++)
          cond[i] = [0, 1, -2, Number.NaN][gen.randint(condType === 'int32' ? 3 : 4)];
        const cStrides = broadcastStrides(cShape, shape);
        const out = make(dtype, sizeOf(shape));
        where(cond, cStrides, data[0], strides[0], data[1], strides[1], out, shape);
        const want = Array.from({ length: out.length }, (_, i) => {
          const idx = unravel(i, shape);
          const c = cond[dot(idx, cStrides)];
          return c !== 0 ? data[0][dot(idx, strides[0])] : data[1][dot(idx, strides[1])];
        });
        expectSame(out, want);
      }),
    );
  });
});

describe('cast', () => {
  test('fixed values: float → int32 truncates toward zero, NaN/±∞ → 0, wraps modulo 2³²', () => {
    const out = new Int32Array(7);
    cast(Float64Array.of(2.7, -2.7, Number.NaN, Number.POSITIVE_INFINITY, -0.5, 2 ** 31, 2 ** 32 + 5), out);
    expect(Array.from(out)).toEqual([2, -2, 0, 0, 0, -(2 ** 31), 5]);
    const f = new Float32Array(2);
    cast(Float64Array.of(0.1, 1e40), f);
    expect(Array.from(f)).toEqual([Math.fround(0.1), Number.POSITIVE_INFINITY]);
  });

  test('matches per-element conversion between every pair of dtypes', () => {
    fc.assert(
      fc.property(
        dtypeArb,
        dtypeArb,
        fc.array(fc.double({ min: -3e9, max: 3e9 }), { maxLength: 40 }),
        (from, to, values) => {
          const x = stored(from, values);
          const out = make(to, x.length);
          cast(x, out);
          const want = Array.from(x, (v) => (to === 'int32' ? v | 0 : to === 'float32' ? Math.fround(v) : v));
          expectSame(out, want);
        },
      ),
    );
  });
});

describe('fill and arange', () => {
  test('fill: the whole array, or a range', () => {
    const a = new Float32Array(5);
    fill(a, 2.5);
    expect(Array.from(a)).toEqual([2.5, 2.5, 2.5, 2.5, 2.5]);
    fill(a, -1, 1, 2);
    expect(Array.from(a)).toEqual([2.5, -1, -1, 2.5, 2.5]);
    fill(a, 7, 3);
    expect(Array.from(a)).toEqual([2.5, -1, -1, 7, 7]);
    const i = new Int32Array(2);
    fill(i, 3.9);
    expect(Array.from(i)).toEqual([3, 3]);
  });

  test('fill: only [offset, offset + length) changes', () => {
    fc.assert(
      fc.property(
        dtypeArb,
        fc.nat(30),
        fc.nat(30),
        fc.nat(30),
        fc.double({ noNaN: true }),
        (dtype, n, o, l, v) => {
          const offset = Math.min(o, n);
          const length = Math.min(l, n - offset);
          const a = make(dtype, n);
          for (let i = 0; i < n; i++) a[i] = i + 1;
          fill(a, v, offset, length);
          const want = Array.from({ length: n }, (_, i) => (i >= offset && i < offset + length ? v : i + 1));
          expectSame(a, stored(dtype, want));
        },
      ),
    );
  });

  test('arange: start + i·step rounded once', () => {
    const a = new Float32Array(4);
    arange(a, 0.5, 0.1);
    expect(Array.from(a)).toEqual([0.5, 0.6, 0.7, 0.8].map((_, i) => Math.fround(0.5 + i * 0.1)));
    fc.assert(
      fc.property(
        dtypeArb,
        fc.nat(50),
        fc.double({ min: -1e6, max: 1e6 }),
        fc.double({ min: -10, max: 10 }),
        (dtype, n, start, step) => {
          const out = make(dtype, n);
          arange(out, start, step);
          expectSame(
            out,
            stored(
              dtype,
              Array.from({ length: n }, (_, i) => start + i * step),
            ),
          );
        },
      ),
    );
  });
});

describe('firstNonFinite', () => {
  test('fixed values: index into x of the first NaN or ±∞, −1 when all finite', () => {
    const x = Float32Array.of(1, 2, Number.POSITIVE_INFINITY, Number.NaN, 3);
    expect(firstNonFinite(x)).toBe(2);
    expect(firstNonFinite(x, 3)).toBe(3);
    expect(firstNonFinite(x, 4)).toBe(-1);
    expect(firstNonFinite(x, 0, 2)).toBe(-1);
    expect(firstNonFinite(Float64Array.of(Number.NEGATIVE_INFINITY))).toBe(0);
    expect(firstNonFinite(Float64Array.of(-0, 1e308, -1e308))).toBe(-1);
    expect(firstNonFinite(Int32Array.of(1, 2))).toBe(-1);
    expect(firstNonFinite(new Float32Array(0))).toBe(-1);
  });

  test('matches a linear search with Number.isFinite over random arrays and ranges', () => {
    const special = fc.constantFrom(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      0,
      1,
      -2.5,
    );
    fc.assert(
      fc.property(
        floatArb,
        fc.array(special, { maxLength: 30 }),
        fc.nat(30),
        fc.nat(30),
        (dtype, values, o, l) => {
          const x = stored(dtype, values);
          const offset = Math.min(o, x.length);
          const length = Math.min(l, x.length - offset);
          let want = -1;
          for (let i = offset; i < offset + length; i++) {
            if (!Number.isFinite(x[i])) {
              want = i;
              break;
            }
          }
          expect(firstNonFinite(x, offset, length)).toBe(want);
        },
      ),
    );
  });
});

describe('reduce', () => {
  test('fixed values: sums, max/min with NaN propagating and ties keeping the first index', () => {
    const x = Float32Array.of(1, 5, 5, 2, Number.NaN, 0);
    const out = new Float32Array(2);
    const arg = new Int32Array(2);
    reduce('max', x, out, 2, 3, 1, arg);
    expectSame(out, [5, Number.NaN]);
    expect(Array.from(arg)).toEqual([1, 1]);
    reduce('min', x, out, 2, 3, 1, arg);
    expectSame(out, [1, Number.NaN]);
    expect(Array.from(arg)).toEqual([0, 1]);
    // [1, 3, 2] along the middle axis
    const y = Float64Array.of(1, 2, 3, 4, 5, 6);
    const s = new Float64Array(2);
    reduce('sum', y, s, 1, 3, 2);
    expect(Array.from(s)).toEqual([9, 12]);
  });

  test('float32 sums accumulate in float64 and round once', () => {
    const n = 100_003;
    const x = new Float32Array(n).fill(0.1);
    const out = new Float32Array(1);
    reduce('sum', x, out, 1, n, 1);
    let want = 0;
    for (let i = 0; i < n; i++) want += Math.fround(0.1);
    expect(out[0]).toBe(Math.fround(want));
  });

  test('matches naive loops over random [outer, r, inner] views and dtypes', () => {
    fc.assert(
      fc.property(
        dtypeArb,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        seedArb,
        (dtype, outer, r, inner, seed) => {
          const gen = new Generator(seed);
          const x = randArray(dtype, outer * r * inner, gen);
          if (dtype !== 'int32' && gen.randint(3) === 0) x[gen.randint(x.length)] = Number.NaN;
          for (const op of ['sum', 'max', 'min'] as const) {
            const out = make(dtype, outer * inner);
            const arg = new Int32Array(outer * inner);
            reduce(op, x, out, outer, r, inner, op === 'sum' ? undefined : arg);
            for (let o = 0; o < outer; o++) {
              for (let j = 0; j < inner; j++) {
                const vals = Array.from({ length: r }, (_, k) => x[(o * r + k) * inner + j]);
                let want: number;
                let wantArg = 0;
                if (op === 'sum') want = vals.reduce((p, v) => p + v, 0);
                else {
                  const nan = vals.findIndex((v) => Number.isNaN(v));
                  if (nan >= 0) {
                    want = Number.NaN;
                    wantArg = nan;
                  } else {
                    want = op === 'max' ? Math.max(...vals) : Math.min(...vals);
                    wantArg = vals.indexOf(want);
                  }
                }
                expectSame([out[o * inner + j]], stored(dtype, [want]));
                if (op !== 'sum') expect(arg[o * inner + j]).toBe(wantArg);
              }
            }
          }
        },
      ),
    );
  });
});

describe('permute', () => {
  test('fixed values: a transpose', () => {
    const out = new Float32Array(6);
    permute(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3], [1, 0], out);
    expect(Array.from(out)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  test('matches the naive gather over random shapes and permutations', () => {
    const caseArb = shapeArb.chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        perm: fc.shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        ),
        dtype: dtypeArb,
        seed: seedArb,
      }),
    );
    fc.assert(
      fc.property(caseArb, ({ shape, perm, dtype, seed }) => {
        const x = randArray(dtype, sizeOf(shape), new Generator(seed));
        const outShape = perm.map((p) => shape[p]);
        const out = make(dtype, x.length);
        permute(x, shape, perm, out);
        const st = stridesOf(shape);
        const want = Array.from({ length: x.length }, (_, i) => {
          const idx = unravel(i, outShape);
          let off = 0;
          for (let d = 0; d < perm.length; d++) off += idx[d] * st[perm[d]];
          return x[off];
        });
        expectSame(out, want);
      }),
    );
  });
});
