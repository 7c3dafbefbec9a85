/**
 * `sum` over axes that are not adjacent (e.g. a conv bias gradient, Σ over axes 0 and 2 of [B, C, L]) runs one
 * `reduce` call per run of adjacent axes, with float64 partial sums (ops/operands.ts, sumOverRuns) instead of a
 * permuted copy. Oracle: a float64 sum by explicit index loops, rounded once to the dtype; integer-valued data
 * (exact in any order) must agree exactly, random data within float32 rounding.
 */
import { sum, tensor } from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

/** Σ of `x` (shape `shape`) over `axes` by index loops in float64; the kept axes in order. */
function naiveSum(x: ArrayLike<number>, shape: number[], axes: number[]): number[] {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outSize = kept.reduce((a, i) => a * shape[i], 1);
  const out = new Array<number>(outSize).fill(0);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < x.length; flat++) {
    let o = 0;
    for (const i of kept) o = o * shape[i] + idx[i];
    out[o] += x[flat];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

describe('sum over axes that are not adjacent', () => {
  test('random shapes and axis sets, float32 and float64, integer and real data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 3, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        fc.constantFrom('float32' as const, 'float64' as const),
        fc.boolean(),
        fc.nat(1 << 20),
        (shape, pick, dtype, integers, seed) => {
          const axes = shape.map((_, i) => i).filter((i) => pick[i]);
          fc.pre(axes.length >= 2 && axes[axes.length - 1] - axes[0] !== axes.length - 1);
          const n = shape.reduce((a, b) => a * b, 1);
          const data = Array.from({ length: n }, (_, i) => {
            const h = (Math.imul(seed + i, 2654435761) >>> 0) % 2001;
            return integers ? h - 1000 : (h - 1000) / 997;
          });
          const x = tensor(data, shape, { dtype });
          const got = Array.from(sum(x, axes).data);
          const rounded = naiveSum(x.data, shape, axes).map((v) =>
            dtype === 'float32' ? Math.fround(v) : v,
          );
          if (integers) expect(got).toEqual(rounded);
          else
            for (const [i, v] of rounded.entries())
              expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(v)));
        },
      ),
      { numRuns: 80 },
    );
  });

  test('a conv bias gradient: [B, C, L] over axes 0 and 2, fixed values', () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 3]);
    expect(Array.from(sum(x, [0, 2]).data)).toEqual([1 + 2 + 3 + 7 + 8 + 9, 4 + 5 + 6 + 10 + 11 + 12]);
    expect(sum(x, [0, 2], true).shape).toEqual([1, 2, 1]);
  });
});
