import { splitKernelCall } from '@ecgnn/kernels/wasm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  backward,
  conv1d,
  createWasmBackend,
  matmul,
  setBackend,
  type Tensor,
  tensor,
  ValueError,
  withBackend,
} from '../src/index.js';

const one = createWasmBackend();
const two = createWasmBackend({ threads: 2 });
afterAll(() => {
  two?.dispose();
  setBackend('cpu');
});

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function same(a: Float32Array, b: Float32Array): boolean {
  return firstDifference(a, b) === null;
}

/** The first element where `a` and `b` differ (Object.is: signed zeros and NaN count), or null. */
function firstDifference(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  let count = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    if (first < 0) first = i;
    count++;
  }
  return first < 0 ? null : `${count} of ${a.length} differ, first at ${first}: ${a[first]} vs ${b[first]}`;
}

describe('WebAssembly backend with worker threads', () => {
  it.runIf(one !== null)('is named wasm×2 and refuses bad thread counts', () => {
    expect(two?.name).toBe('wasm×2');
    expect(two?.threads).toBe(2);
    expect(() => createWasmBackend({ threads: 0 })).toThrow(ValueError);
    expect(() => createWasmBackend({ threads: 1.5 })).toThrow(/integer from 1 to 64/);
  });

  it.runIf(one !== null)(
    'conv1d forward and both gradients, and matmul, are bit-identical to one thread (fast-check shapes, split and unsplit)',
    () => {
      fc.assert(
        fc.property(
          fc.record({
            batch: fc.integer({ min: 1, max: 4 }),
            cin: fc.integer({ min: 1, max: 24 }),
            cout: fc.integer({ min: 1, max: 40 }),
            length: fc.integer({ min: 8, max: 700 }),
            k: fc.integer({ min: 1, max: 7 }),
            stride: fc.integer({ min: 1, max: 2 }),
            seed: fc.nat(),
          }),
          ({ batch, cin, cout, length, k, stride, seed }) => {
            const x = rand(batch * cin * length, seed);
            const w = rand(cout * cin * k, seed + 1);
            const run = () => {
              const xt = tensor(x, [batch, cin, length], { requiresGrad: true });
              const wt = tensor(w, [cout, cin, k], { requiresGrad: true });
              const y = conv1d(xt, wt, null, { padding: Math.floor(k / 2), stride });
              backward(y, tensor(rand(y.size, seed + 2), y.shape));
              const m = matmul(
                tensor(rand(16 * cin, seed + 3), [16, cin]),
                tensor(rand(cin * cout, seed + 4), [cin, cout]),
              );
              return [y, xt.grad as Tensor, wt.grad as Tensor, m].map((t) => t.data as Float32Array);
            };
            const a = withBackend(one!, run);
            const b = withBackend(two!, run);
            // A second threaded run: a difference between the two threaded runs would be a race, not arithmetic.
            const c = withBackend(two!, run);
            const names = ['y', 'x.grad', 'w.grad', 'matmul'];
            for (let i = 0; i < a.length; i++) {
              expect(firstDifference(b[i], c[i]), `${names[i]}: two threaded runs`).toBeNull();
              expect(firstDifference(a[i], b[i]), `${names[i]}: one thread vs two`).toBeNull();
            }
          },
        ),
        { numRuns: 25 },
      );
    },
  );

  it.runIf(one !== null)('a large matmul (split over both threads) matches one thread exactly', () => {
    const a = tensor(rand(300 * 260, 7), [300, 260]);
    const b = tensor(rand(260 * 130, 8), [260, 130]);
    const r1 = withBackend(one!, () => matmul(a, b)).data as Float32Array;
    const r2 = withBackend(two!, () => matmul(a, b)).data as Float32Array;
    expect(same(r1, r2)).toBe(true);
  });

  it('splitKernelCall partitions the row panels exactly once, pointers moved to each block', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5 }), (panels, parts) => {
        // gemm: aPtr, bPtr, cPtr, panels, n, aRow, aK, nOuter, nInner, strideOuter, strideInner, ldc, flags
        const args = [1000, 2000, 3000, panels, 32, 40, 4, 1, 10, 0, 128, 128, 0];
        const blocks = splitKernelCall('gemm', args, parts);
        expect(blocks.length).toBe(Math.min(parts, panels));
        let p0 = 0;
        for (const x of blocks) {
          expect(x[0]).toBe(1000 + p0 * 2 * 40);
          expect(x[2]).toBe(3000 + p0 * 2 * 128);
          expect(x[1]).toBe(2000);
          expect(x[3]).toBeGreaterThan(0);
          p0 += x[3];
        }
        expect(p0).toBe(panels);
      }),
    );
  });
});
