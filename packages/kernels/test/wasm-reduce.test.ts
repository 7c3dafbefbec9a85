// The WebAssembly `reduce` (src/wasm/part-reduce.ts: float32 row sums on `rowsum`) against the reference kernel
// (src/ref/elementwise.ts): bit for bit (Object.is, so signed zeros and NaN count) over random geometries — one
// block and several, rows longer than a block, the four-row groups and the single rows after them — with values
// that cancel, signed zeros, NaN and ±∞; the cases it leaves to the reference (max/min, an inner axis, argmax,
// float64, tiny inputs) give the reference's results; short arrays are argument errors.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KernelArgumentError, type ReduceKernelOp } from '../src/contract.js';
import { reduce as refReduce } from '../src/ref/elementwise.js';
import { mulberry32 as rng } from '../src/testing.js';
import { getWasmKernels, REDUCE_BLOCK, REDUCE_MIN_WASM } from '../src/wasm/index.js';

const wasmOrNull = getWasmKernels();
if (wasmOrNull === null) throw new Error('these tests need WebAssembly SIMD (Node 20 has it)');
const wasm = wasmOrNull;

/** Values of very different magnitudes (sums that lose bits in float32 and cancel), and some special values. */
function values(n: number, seed: number, special: boolean): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => {
    const u = r();
    if (special && u < 0.01)
      return [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0][(u * 400) | 0];
    return (r() * 2 - 1) * 10 ** Math.floor(r() * 12 - 4);
  });
}

/** Index of the first element where a and b differ (Object.is), or −1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function bothWays(
  op: ReduceKernelOp,
  x: Float32Array,
  outer: number,
  r: number,
  inner: number,
): [Float32Array, Float32Array] {
  const got = new Float32Array(outer * inner).fill(12345);
  const want = new Float32Array(outer * inner).fill(12345);
  wasm.reduce(op, x, got, outer, r, inner);
  refReduce(op, x, want, outer, r, inner);
  return [got, want];
}

describe('WebAssembly reduce (row sums)', () => {
  it('sums rows on fixed values, rounding each float64 sum once', () => {
    // 2^24 + 1 + 1 is exact in float64; summed in float32 it would stay 2^24.
    const outer = 5;
    const r = 256;
    const x = new Float32Array(outer * r);
    x[0] = 2 ** 24;
    x[1] = 1;
    x[2] = 1;
    for (let k = 0; k < r; k++) x[r + k] = k; // row 1: 0 + 1 + … + 255
    x[2 * r] = -0; // row 2: −0 alone, +0 + −0 = +0 as in the reference
    x[3 * r + 7] = Number.NaN;
    x[4 * r] = Number.POSITIVE_INFINITY;
    x[4 * r + 1] = Number.NEGATIVE_INFINITY;
    const out = new Float32Array(outer);
    wasm.reduce('sum', x, out, outer, r, 1);
    expect([...out]).toEqual([2 ** 24 + 2, (255 * 256) / 2, 0, Number.NaN, Number.NaN]);
    expect(Object.is(out[2], 0)).toBe(true);
  });

  it('equals the reference bit for bit (random rows and row counts, blocks, special values)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 900 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (outer, r, special, seed) => {
          const x = values(outer * r, seed, special);
          const [got, want] = bothWays('sum', x, outer, r, 1);
          const at = firstDiff(got, want);
          expect(at, `outer ${outer}, r ${r}: row ${at} ${got[at]} vs ${want[at]}`).toBe(-1);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rows longer than a block, and many blocks of rows', () => {
    for (const [outer, r] of [
      [3, REDUCE_BLOCK + 5],
      [1, 3 * REDUCE_BLOCK],
      [4096, 84], // the global average pool of the bench's train-step
      [7, REDUCE_BLOCK / 4 + 1],
    ]) {
      const x = values(outer * r, outer + r, false);
      const [got, want] = bothWays('sum', x, outer, r, 1);
      expect(firstDiff(got, want), `outer ${outer}, r ${r}`).toBe(-1);
    }
  });

  it('leaves max, min, inner axes, argmax, float64 and tiny inputs to the reference (same results)', () => {
    const x = values(40 * 60, 3, true);
    for (const op of ['max', 'min', 'sum'] as const) {
      for (const [outer, r, inner] of [
        [40, 60, 1],
        [4, 60, 10],
        [2, 3, 1],
      ]) {
        const [got, want] = bothWays(op, x, outer, r, inner);
        expect(firstDiff(got, want), `${op} [${outer}, ${r}, ${inner}]`).toBe(-1);
      }
    }
    const arg = new Int32Array(40);
    const argRef = new Int32Array(40);
    wasm.reduce('sum', x, new Float32Array(40), 40, 60, 1, arg);
    refReduce('sum', x, new Float32Array(40), 40, 60, 1, argRef);
    expect([...arg]).toEqual([...argRef]);
    const x64 = Float64Array.from(x);
    const o64 = new Float64Array(40);
    const r64 = new Float64Array(40);
    wasm.reduce('sum', x64, o64, 40, 60, 1);
    refReduce('sum', x64, r64, 40, 60, 1);
    expect([...o64]).toEqual([...r64]);
    expect(40 * 60).toBeGreaterThanOrEqual(REDUCE_MIN_WASM);
  });

  it('short input or output arrays are argument errors, not reads past the end', () => {
    const x = new Float32Array(2000);
    expect(() => wasm.reduce('sum', x, new Float32Array(10), 10, 201, 1)).toThrow(KernelArgumentError);
    expect(() => wasm.reduce('sum', x, new Float32Array(9), 10, 200, 1)).toThrow(/output has 9 elements/);
  });
});
