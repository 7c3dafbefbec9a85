// The WebAssembly firstNonFinite (part-finite.ts: blocks copied into linear memory, SIMD scan, the block holding
// the value searched by the reference) against the reference kernel: same index for NaN, ±∞ and negative NaNs
// anywhere (head searched in TypeScript, block boundaries, tails not a multiple of the vector block), offsets and
// lengths, and stepping from one non-finite value to the next.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstNonFinite as refFirstNonFinite } from '../src/ref/elementwise.js';
import { emitNonFinite, getWasmKernels, ModuleBuilder } from '../src/wasm/index.js';

const wasm = getWasmKernels();

/** Deterministic finite floats in [−1e30, 1e30) with `bad` non-finite values at random places. */
function data(n: number, seed: number, bad: number): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const a = Float32Array.from({ length: n }, () => (next() * 2 - 1) * 10 ** Math.floor(next() * 31));
  const u = new Uint32Array(a.buffer);
  for (let k = 0; k < bad; k++) {
    const i = Math.floor(next() * n);
    const kind = Math.floor(next() * 4);
    if (kind === 3)
      u[i] = 0xffc00000 + Math.floor(next() * 0x3fffff); // a negative NaN
    else a[i] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][kind];
  }
  return a;
}

describe.runIf(wasm !== null)('firstNonFinite (WebAssembly set)', () => {
  it('the nonfinite kernel validates', () => {
    const mb = new ModuleBuilder().importMemory('env', 'memory', 1);
    emitNonFinite(mb);
    expect(WebAssembly.validate(mb.build())).toBe(true);
  });

  it('equals the reference: any length, offset, count and place of non-finite values', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 16000, max: 40000 })),
        fc.integer({ min: 0, max: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (n, bad, fo, fl, seed) => {
          const x = data(n, seed, bad);
          const offset = Math.floor(fo * n * 0.3);
          const length = Math.floor(fl * (n - offset));
          expect(wasm!.firstNonFinite(x, offset, length)).toBe(refFirstNonFinite(x, offset, length));
          expect(wasm!.firstNonFinite(x)).toBe(refFirstNonFinite(x));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('finds one value at every place of a long array, and steps through many', () => {
    const n = 40000 + 13;
    const x = data(n, 5, 0);
    for (const at of [0, 1023, 1024, 1025, 2047, 17407, 17408, 17409, 33791, 33792, n - 16, n - 1]) {
      const v = x[at];
      x[at] = Number.NaN;
      expect(wasm!.firstNonFinite(x)).toBe(at);
      expect(wasm!.firstNonFinite(x, at + 1)).toBe(-1);
      x[at] = v;
    }
    const many = data(n, 6, 300);
    const want: number[] = [];
    for (let i = refFirstNonFinite(many); i >= 0; i = refFirstNonFinite(many, i + 1)) want.push(i);
    const got: number[] = [];
    for (let i = wasm!.firstNonFinite(many); i >= 0; i = wasm!.firstNonFinite(many, i + 1)) got.push(i);
    expect(got).toEqual(want);
    expect(got.length).toBeGreaterThan(250);
  });

  it('float64 and int32 arrays run the reference', () => {
    expect(wasm!.firstNonFinite(Float64Array.of(1, 2, Number.POSITIVE_INFINITY))).toBe(2);
    const big = new Float64Array(5000);
    big[4000] = Number.NaN;
    expect(wasm!.firstNonFinite(big)).toBe(4000);
    expect(wasm!.firstNonFinite(new Int32Array(5000))).toBe(-1);
  });
});
