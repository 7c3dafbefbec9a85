// The branch-free WebAssembly max pool (src/wasm/emit-pool.ts) and its TypeScript twin against the max pool with
// indices (the oracle): same values bit for bit, NaN / ±0 / ±∞ included, over random geometries.

import {
  getWasmKernels,
  KernelArgumentError,
  maxPool1dForwardTs,
  type Pool1dParams,
  tsKernels,
} from '@ecgnn/kernels/wasm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rng } from './fixtures.js';

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

function sameBits(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('maxPool1d without indices (WebAssembly and TypeScript) = maxPool1dForward values', () => {
  it('has WebAssembly SIMD here (Node 20)', () => {
    expect(wasm).not.toBeNull();
  });

  it('random geometries: strides 1–3, left and right padding, rows of any length', () => {
    fc.assert(
      fc.property(
        fc.record({
          rows: fc.integer({ min: 1, max: 40 }),
          L: fc.integer({ min: 1, max: 90 }),
          K: fc.integer({ min: 1, max: 7 }),
          stride: fc.integer({ min: 1, max: 3 }),
          padLeft: fc.nat(6),
          padRight: fc.nat(6),
          seed: fc.nat(1 << 20),
          special: fc.constantFrom(0, 0.05, 0.3),
        }),
        (g) => {
          const padLeft = Math.min(g.padLeft, g.K - 1);
          const padRight = Math.min(g.padRight, g.K - 1);
          fc.pre(g.L + padLeft + padRight >= g.K);
          const T = Math.floor((g.L + padLeft + padRight - g.K) / g.stride) + 1;
          const p: Pool1dParams = {
            batch: 1,
            channels: g.rows,
            inLength: g.L,
            outLength: T,
            kernelSize: g.K,
            stride: g.stride,
            padLeft,
          };
          const x = values(g.rows * g.L, g.seed, g.special);
          const want = new Float32Array(g.rows * T);
          maxPool1dForwardTs(x, want, new Int32Array(g.rows * T), p);
          // outputs start as NaN garbage: every element must be written
          const ts = new Float32Array(g.rows * T + 3).fill(Number.NaN);
          tsKernels.maxPool1d(x, ts, p);
          expect(sameBits(ts, want)).toBe(-1);
          const w = new Float32Array(g.rows * T + 3).fill(Number.NaN);
          wasm!.maxPool1d(x, w, p);
          expect(sameBits(w, want)).toBe(-1);
          // nothing written past the output
          for (let i = g.rows * T; i < w.length; i++) expect(Number.isNaN(w[i])).toBe(true);
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
      };
      const n = p.batch * p.channels;
      const x = values(n * p.inLength, K, 0.01);
      const want = new Float32Array(n * p.outLength);
      maxPool1dForwardTs(x, want, new Int32Array(want.length), p);
      const got = new Float32Array(want.length);
      wasm!.maxPool1d(x, got, p);
      expect(sameBits(got, want)).toBe(-1);
    }
  });

  it('rejects bad geometries and short buffers with KernelArgumentError', () => {
    const p: Pool1dParams = {
      batch: 2,
      channels: 3,
      inLength: 10,
      outLength: 5,
      kernelSize: 2,
      stride: 2,
      padLeft: 0,
    };
    for (const k of [wasm!, tsKernels]) {
      expect(() => k.maxPool1d(new Float32Array(59), new Float32Array(30), p)).toThrow(KernelArgumentError);
      expect(() => k.maxPool1d(new Float32Array(60), new Float32Array(29), p)).toThrow(KernelArgumentError);
      expect(() => k.maxPool1d(new Float32Array(60), new Float32Array(30), { ...p, padLeft: 2 })).toThrow(
        KernelArgumentError,
      );
    }
  });
});
