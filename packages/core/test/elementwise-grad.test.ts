/**
 * The gradients of relu and abs run as one `unaryBackward` kernel call (ops/elementwise.ts); the compositions
 * they replace are the oracle here: relu' = g·[x > 0] (`mul(g, gt(x, 0))`), abs' = g·([x > 0] − [x < 0])
 * (`mul(g, sub(gt(x, 0), lt(x, 0)))`). Same values bit for bit (a NaN for a NaN), float32 and float64, with
 * NaN, ±0 and ±∞ in x and in g, on every available backend.
 */
import {
  abs,
  findBackend,
  gt,
  listBackends,
  lt,
  mul,
  relu,
  sub,
  type Tensor,
  tensor,
  withBackend,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const backends = listBackends().filter((n) => findBackend(n) !== null);
const SPECIAL = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

/** `n` values from fast-check's integers: finite ones in [−2, 2), with a special value every `every`. */
function valuesOf(raw: readonly number[], every: number): number[] {
  return raw.map((r, i) => (i % every === every - 1 ? SPECIAL[r % SPECIAL.length] : (r % 4000) / 1000 - 2));
}

/** The gradient of `f` at x for the output gradient g, through autograd. */
function gradOf(f: (x: Tensor) => Tensor, x: Tensor, g: Tensor): Float32Array | Float64Array {
  const leaf = x.detach().requiresGrad_();
  f(leaf).backward(g);
  return leaf.grad?.data as Float32Array | Float64Array;
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      throw new Error(`${what}: element ${i} is ${a[i]}, the composition gives ${b[i]}`);
    }
  }
}

describe.each(backends)('relu and abs gradients = their compositions (backend %s)', (backend) => {
  const cases = [
    { name: 'relu', f: relu, composition: (x: Tensor, g: Tensor) => mul(g, gt(x, 0)) },
    { name: 'abs', f: abs, composition: (x: Tensor, g: Tensor) => mul(g, sub(gt(x, 0), lt(x, 0))) },
  ];
  for (const { name, f, composition } of cases) {
    test(`${name}: random shapes, float32 and float64, NaN/±0/±∞ in x and g`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 }),
          fc.integer({ min: 1, max: 400 }),
          fc.constantFrom('float32' as const, 'float64' as const),
          fc.integer({ min: 2, max: 9 }),
          fc.nat(1 << 20),
          (dims, last, dtype, every, seed) => {
            const shape = [...dims, last];
            const n = shape.reduce((a, b) => a * b, 1);
            const raw = Array.from(
              { length: 2 * n },
              (_, i) => (Math.imul(seed + i, 2654435761) >>> 0) % 100003,
            );
            const x = tensor(valuesOf(raw.slice(0, n), every), shape, { dtype });
            const g = tensor(valuesOf(raw.slice(n), every + 1), shape, { dtype });
            withBackend(backend, () => {
              const got = gradOf(f, x, g);
              const expected = composition(x, g).data;
              sameValues(got, expected, `${name} ${dtype} [${shape}]`);
            });
          },
        ),
        { numRuns: 30 },
      );
    });
  }

  test('relu: fixed values (0 at the kink and for NaN inputs, a true product with g)', () => {
    withBackend(backend, () => {
      const x = tensor([-1, 0, 2, Number.NaN, -0, 3, -2], [7]);
      const g = tensor([5, 5, 5, 5, Number.POSITIVE_INFINITY, -1, -4], [7]);
      const got = Array.from(gradOf(relu, x, g));
      expect(got.slice(0, 4)).toEqual([0, 0, 5, 0]);
      expect(Number.isNaN(got[4])).toBe(true); // ∞·0
      expect(got[5]).toBe(-1);
      expect(Object.is(got[6], -0)).toBe(true); // −4·0
    });
  });
});
