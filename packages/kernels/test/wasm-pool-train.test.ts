// The WebAssembly max pooling of training (src/wasm/part-pool-train.ts: maxPool1d with indices, maxPool1dBackward)
// against the reference kernels: the same values and indices bit for bit, NaN / ±0 / ±∞ and ties included, over
// random geometries; padded windows, dilation and other strides run the reference inside the set.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KernelArgumentError, type Pool1dParams } from '../src/contract.js';
import { maxPool1d as refMaxPool1d, maxPool1dBackward as refMaxPool1dBackward } from '../src/ref/pool.js';
import { mulberry32 as rng } from '../src/testing.js';
import { getWasmKernels } from '../src/wasm/index.js';

const wasmOrNull = getWasmKernels();
if (wasmOrNull === null) throw new Error('these tests need WebAssembly SIMD (Node 20 has it)');
const wasm = wasmOrNull;

/** Random values with ties, signed zeros, infinities and NaNs mixed in (a share `special` of each kind). */
function values(n: number, seed: number, special: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < special) out[i] = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][i % 5];
    else if (u < 2 * special) out[i] = Math.round(r() * 4) - 2;
    else out[i] = r() * 2 - 1;
  }
  return out;
}

/** Index of the first element whose bits differ (`Object.is`, so −0 ≠ +0 and NaN = NaN), or −1. */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const geometry = fc.record({
  rows: fc.integer({ min: 1, max: 70 }),
  L: fc.integer({ min: 1, max: 400 }),
  K: fc.integer({ min: 1, max: 6 }),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.constantFrom(1, 1, 1, 2),
  padLeft: fc.constantFrom(0, 0, 0, 1, 2),
  seed: fc.nat(1 << 20),
  special: fc.constantFrom(0, 0.05, 0.3),
});

function params(g: {
  rows: number;
  L: number;
  K: number;
  stride: number;
  dilation: number;
  padLeft: number;
}) {
  const span = g.dilation * (g.K - 1) + 1;
  const padLeft = Math.min(g.padLeft, span - 1);
  if (g.L + padLeft < span) return null;
  const T = Math.floor((g.L + padLeft - span) / g.stride) + 1;
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
  return p;
}

describe('maxPool1d with indices and maxPool1dBackward: WebAssembly = reference', () => {
  it('random geometries (with and without padding, strides 1–3, dilation), same values and indices', () => {
    fc.assert(
      fc.property(geometry, (g) => {
        const p = params(g);
        fc.pre(p !== null);
        if (p === null) return;
        const x = values(g.rows * g.L, g.seed, g.special);
        const n = g.rows * p.outLength;
        const [eOut, aOut] = [new Float32Array(n), new Float32Array(n)];
        const [eArg, aArg] = [new Int32Array(n), new Int32Array(n)];
        refMaxPool1d(x, eOut, eArg, p);
        wasm.maxPool1d(x, aOut, aArg, p);
        const i = sameBits(aOut, eOut);
        if (i >= 0) throw new Error(`${JSON.stringify(p)}: out[${i}] ${aOut[i]} vs ${eOut[i]}`);
        expect(Array.from(aArg)).toEqual(Array.from(eArg));
        // The gradient through those indices (NaN / ±∞ in g too).
        const gOut = values(n, g.seed + 1, g.special);
        const [eGx, aGx] = [new Float32Array(g.rows * g.L), new Float32Array(g.rows * g.L)];
        refMaxPool1dBackward(gOut, eArg, eGx, g.rows, g.L, p.outLength);
        aGx.fill(7); // overwritten
        wasm.maxPool1dBackward(gOut, eArg, aGx, g.rows, g.L, p.outLength);
        const j = sameBits(aGx, eGx);
        if (j >= 0) throw new Error(`${JSON.stringify(p)}: gradX[${j}] ${aGx[j]} vs ${eGx[j]}`);
      }),
      { numRuns: 200 },
    );
  });

  it('the shapes of the benchmark CNN (64 × 16 rows of 360, kernel 2 stride 2), blocks of rows', () => {
    const rows = 64 * 16;
    const p: Pool1dParams = {
      batch: 64,
      channels: 16,
      inLength: 360,
      outLength: 180,
      kernelSize: 2,
      stride: 2,
      padLeft: 0,
      dilation: 1,
    };
    const x = values(rows * 360, 3, 0.01);
    const [eOut, aOut] = [new Float32Array(rows * 180), new Float32Array(rows * 180)];
    const [eArg, aArg] = [new Int32Array(rows * 180), new Int32Array(rows * 180)];
    refMaxPool1d(x, eOut, eArg, p);
    wasm.maxPool1d(x, aOut, aArg, p);
    expect(sameBits(aOut, eOut)).toBe(-1);
    expect(sameBits(aArg, eArg)).toBe(-1);
    const g = values(rows * 180, 4, 0.01);
    const [eGx, aGx] = [new Float32Array(rows * 360), new Float32Array(rows * 360)];
    refMaxPool1dBackward(g, eArg, eGx, rows, 360, 180);
    wasm.maxPool1dBackward(g, eArg, aGx, rows, 360, 180);
    expect(sameBits(aGx, eGx)).toBe(-1);
  });

  it('indices of windows without input (−1) add nothing; short buffers are a KernelArgumentError', () => {
    const g = Float32Array.from([1, 2, 3, 4]);
    const arg = Int32Array.from([-1, 0, 0, 2]);
    const gx = new Float32Array(3).fill(9);
    wasm.maxPool1dBackward(g, arg, gx, 1, 3, 4);
    expect(Array.from(gx)).toEqual([5, 0, 4]);
    expect(() => wasm.maxPool1dBackward(g, arg, new Float32Array(2), 1, 3, 4)).toThrow(KernelArgumentError);
    const p: Pool1dParams = {
      batch: 1,
      channels: 1,
      inLength: 8,
      outLength: 4,
      kernelSize: 2,
      stride: 2,
      padLeft: 0,
      dilation: 1,
    };
    expect(() => wasm.maxPool1d(new Float32Array(8), new Float32Array(4), new Int32Array(3), p)).toThrow(
      KernelArgumentError,
    );
  });
});
