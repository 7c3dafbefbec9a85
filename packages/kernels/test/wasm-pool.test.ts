// The branch-free WebAssembly max pool (src/wasm/emit-pool.ts, used without indices) and the reference max pool
// (with and without indices) against the naive oracle: same values bit for bit, NaN / ±0 / ±∞ included, over
// random geometries; geometries the WebAssembly kernel does not take run the reference inside the set.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Pool1dParams } from '../src/contract.js';
import { maxPool1d as refMaxPool1d } from '../src/ref/pool.js';
import { naiveMaxPool1d, mulberry32 as rng } from '../src/testing.js';
import { getWasmKernels } from '../src/wasm/index.js';

const wasm = getWasmKernels();

/** Random values with ties, signed zeros, infinities and NaNs mixed in. */
function values(n: number, seed: number, special: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < special) out[i] = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][i % 5];
    else if (u < 2 * special)
      out[i] = Math.round(r() * 4) - 2; // ties
    else out[i] = r() * 2 - 1;
  }
  return out;
}

/** Index of the first element whose bits differ (`Object.is`), or −1. */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('maxPool1d: WebAssembly (no indices) and reference (with and without) = the naive oracle', () => {
  it('has WebAssembly SIMD here (Node 20)', () => {
    expect(wasm).not.toBeNull();
  });

  it('random geometries: strides 1–3, dilation, left and right padding, rows of any length', () => {
    fc.assert(
      fc.property(
        fc.record({
          rows: fc.integer({ min: 1, max: 40 }),
          L: fc.integer({ min: 1, max: 90 }),
          K: fc.integer({ min: 1, max: 7 }),
          stride: fc.integer({ min: 1, max: 3 }),
          dilation: fc.constantFrom(1, 1, 1, 2, 3),
          padLeft: fc.nat(6),
          padRight: fc.nat(6),
          seed: fc.nat(1 << 20),
          special: fc.constantFrom(0, 0.05, 0.3),
        }),
        (g) => {
          const span = g.dilation * (g.K - 1) + 1;
          const padLeft = Math.min(g.padLeft, span - 1);
          const padRight = Math.min(g.padRight, span - 1);
          fc.pre(g.L + padLeft + padRight >= span);
          const T = Math.floor((g.L + padLeft + padRight - span) / g.stride) + 1;
          const p: Pool1dParams = {
            batch: 1,
            channels: g.rows,
            inLength: g.L,
            outLength: T,
            kernelSize: g.K,
            stride: g.stride,
            padLeft,
            dilation: g.dilation,
          };
          const x = values(g.rows * g.L, g.seed, g.special);
          const want = naiveMaxPool1d(x, p);
          // outputs start as NaN garbage: every element must be written, nothing past the output
          const ref = new Float32Array(g.rows * T + 3).fill(Number.NaN);
          const arg = new Int32Array(g.rows * T + 3).fill(-9);
          refMaxPool1d(x, ref, arg, p);
          expect(sameBits(ref, Float32Array.from(want.out))).toBe(-1);
          expect(Array.from(arg.subarray(0, g.rows * T))).toEqual(Array.from(want.arg));
          const refNoArg = new Float32Array(g.rows * T).fill(Number.NaN);
          refMaxPool1d(x, refNoArg, null, p);
          expect(sameBits(refNoArg, Float32Array.from(want.out))).toBe(-1);
          const w = new Float32Array(g.rows * T + 3).fill(Number.NaN);
          wasm!.maxPool1d(x, w, null, p);
          expect(sameBits(w, Float32Array.from(want.out))).toBe(-1);
          for (let i = g.rows * T; i < w.length; i++) {
            expect(Number.isNaN(w[i])).toBe(true);
            expect(Number.isNaN(ref[i])).toBe(true);
            expect(arg[i]).toBe(-9);
          }
        },
      ),
      { numRuns: 300, seed: 424242 },
    );
  });

  it('large inputs (several blocks), batch × channels rows, kernel 2 stride 2 and kernel 7 stride 2', () => {
    for (const [K, s, pl] of [
      [2, 2, 0],
      [7, 2, 0],
      [3, 1, 1],
    ]) {
      const p: Pool1dParams = {
        batch: 9,
        channels: 16,
        inLength: 361,
        outLength: Math.floor((361 + 2 * pl - K) / s) + 1,
        kernelSize: K,
        stride: s,
        padLeft: pl,
        dilation: 1,
      };
      const n = p.batch * p.channels;
      const x = values(n * p.inLength, K, 0.01);
      const want = Float32Array.from(naiveMaxPool1d(x, p).out);
      const got = new Float32Array(n * p.outLength);
      wasm!.maxPool1d(x, got, null, p);
      expect(sameBits(got, want)).toBe(-1);
      const ref = new Float32Array(n * p.outLength);
      refMaxPool1d(x, ref, new Int32Array(ref.length), p);
      expect(sameBits(ref, want)).toBe(-1);
    }
  });

  it('rejects short buffers with KernelArgumentError (WebAssembly)', () => {
    const p: Pool1dParams = {
      batch: 2,
      channels: 3,
      inLength: 10,
      outLength: 5,
      kernelSize: 2,
      stride: 2,
      padLeft: 0,
      dilation: 1,
    };
    expect(() => wasm!.maxPool1d(new Float32Array(59), new Float32Array(30), null, p)).toThrow(
      /input has 59/,
    );
    expect(() => wasm!.maxPool1d(new Float32Array(60), new Float32Array(29), null, p)).toThrow(
      /output has 29/,
    );
  });
});
