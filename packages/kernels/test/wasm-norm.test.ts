// The WebAssembly batch normalisation of training (src/wasm/part-norm.ts: channelMoments, batchNormForward,
// batchNormBackward in training mode) against the reference kernels (src/ref/norm.ts) over random geometries —
// row lengths that are and are not multiples of four, one block and several (rows split across blocks), with
// and without weight and bias: the affine forward bit for bit given the same statistics; the sums (means,
// variances, γ/β gradients, and through them the input gradient) equal up to float64 rounding of another
// summation order. Float64 data, eval-mode backward and tiny tensors run the reference inside the set.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KernelArgumentError } from '../src/contract.js';
import * as ref from '../src/ref/norm.js';
import { mulberry32 as rng } from '../src/testing.js';
import { buildPartsModule, getWasmKernels, NORM_BLOCK, WASM_NORM_PARTS } from '../src/wasm/index.js';

const wasmOrNull = getWasmKernels();
if (wasmOrNull === null) throw new Error('these tests need WebAssembly SIMD (Node 20 has it)');
const wasm = wasmOrNull;

/** Values around `offset` (a large offset makes the two-pass variance matter). */
function values(n: number, seed: number, offset = 0): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => offset + (r() * 2 - 1) * 3);
}

/** Largest |a − b| / (|b| + floor) over the elements. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor: number): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor);
    if (!(d <= m)) m = d;
  }
  return m;
}

const geometry = fc.record({
  batch: fc.integer({ min: 1, max: 9 }),
  channels: fc.integer({ min: 1, max: 12 }),
  inner: fc.integer({ min: 1, max: 300 }),
  affine: fc.boolean(),
  offset: fc.constantFrom(0, 0, 100),
  seed: fc.nat(1 << 20),
});

/** Moments, normalised output and gradients of one geometry, by the reference and by the set. */
function both(g: {
  batch: number;
  channels: number;
  inner: number;
  affine: boolean;
  offset: number;
  seed: number;
}) {
  const { batch: b, channels: c, inner: l } = g;
  const n = b * c * l;
  const x = values(n, g.seed, g.offset);
  const grad = values(n, g.seed + 1);
  const weight = g.affine ? values(c, g.seed + 2) : null;
  const bias = g.affine ? values(c, g.seed + 3) : null;
  const run = (k: Pick<typeof wasm, 'channelMoments' | 'batchNormForward' | 'batchNormBackward'>) => {
    const mean = new Float64Array(c);
    const variance = new Float64Array(c);
    k.channelMoments(x, b, c, l, mean, variance);
    const invstd = variance.map((v) => 1 / Math.sqrt(v + 1e-5));
    const out = new Float32Array(n);
    k.batchNormForward(x, mean, invstd, weight, bias, out, b, c, l);
    const gx = new Float32Array(n);
    const gw = weight ? new Float32Array(c) : null;
    const gb = bias ? new Float32Array(c) : null;
    k.batchNormBackward(x, grad, mean, invstd, weight, gx, gw, gb, b, c, l, true);
    return { mean, variance, invstd, out, gx, gw, gb };
  };
  return { x, weight, bias, e: run(ref), a: run(wasm) };
}

describe('WebAssembly batch normalisation against the reference', () => {
  it('moments and gradients equal up to summation order; the forward bit for bit on the same statistics', () => {
    fc.assert(
      fc.property(geometry, (g) => {
        const { x, weight, bias, e, a } = both(g);
        expect(relErr(a.mean, e.mean, 1e-9)).toBeLessThan(1e-12);
        expect(relErr(a.variance, e.variance, 1e-9)).toBeLessThan(1e-10);
        // Forward on the reference's statistics: the same float64 operations, one rounding.
        const n = x.length;
        const [fe, fa] = [new Float32Array(n), new Float32Array(n)];
        ref.batchNormForward(x, e.mean, e.invstd, weight, bias, fe, g.batch, g.channels, g.inner);
        wasm.batchNormForward(x, e.mean, e.invstd, weight, bias, fa, g.batch, g.channels, g.inner);
        expect(fa).toEqual(fe);
        expect(relErr(a.out, e.out, 1e-3)).toBeLessThan(1e-5);
        // Gradients: float32 outputs of float64 sums over up to 2,700 values.
        expect(relErr(a.gx, e.gx, 1e-2)).toBeLessThan(1e-4);
        if (e.gw && a.gw) expect(relErr(a.gw, e.gw, 1)).toBeLessThan(1e-5);
        if (e.gb && a.gb) expect(relErr(a.gb, e.gb, 1)).toBeLessThan(1e-5);
      }),
      { numRuns: 60 },
    );
  });

  it('tensors larger than a block are split by rows with the same results', () => {
    // 3 items × 5 channels × (NORM_BLOCK/4 + 3) floats: four rows per block at most, a tail in every row.
    const g = { batch: 3, channels: 5, inner: NORM_BLOCK / 4 + 3, affine: true, offset: 50, seed: 7 };
    const { e, a } = both(g);
    expect(relErr(a.mean, e.mean, 1e-9)).toBeLessThan(1e-12);
    expect(relErr(a.variance, e.variance, 1e-9)).toBeLessThan(1e-9);
    expect(relErr(a.out, e.out, 1e-3)).toBeLessThan(1e-5);
    expect(relErr(a.gx, e.gx, 1e-2)).toBeLessThan(1e-4);
  });

  it('float64 data, eval-mode backward and tiny tensors run the reference (identical results)', () => {
    const [b, c, l] = [4, 3, 200];
    const x64 = Float64Array.from(values(b * c * l, 3));
    const [m1, v1, m2, v2] = [
      new Float64Array(c),
      new Float64Array(c),
      new Float64Array(c),
      new Float64Array(c),
    ];
    ref.channelMoments(x64, b, c, l, m1, v1);
    wasm.channelMoments(x64, b, c, l, m2, v2);
    expect(m2).toEqual(m1);
    expect(v2).toEqual(v1);
    const x = values(b * c * l, 4);
    const g = values(b * c * l, 5);
    const invstd = Float64Array.from([0.5, 2, 1]);
    const [ge, ga] = [new Float32Array(x.length), new Float32Array(x.length)];
    ref.batchNormBackward(x, g, m1, invstd, null, ge, null, null, b, c, l, false);
    wasm.batchNormBackward(x, g, m1, invstd, null, ga, null, null, b, c, l, false);
    expect(ga).toEqual(ge);
  });

  it('names a short output', () => {
    const x = values(2000, 1);
    expect(() =>
      wasm.batchNormForward(
        x,
        new Float64Array(2),
        new Float64Array(2),
        null,
        null,
        new Float32Array(10),
        10,
        2,
        100,
      ),
    ).toThrow(KernelArgumentError);
  });

  it('its module validates and stays under 4 KiB', () => {
    const bytes = buildPartsModule(WASM_NORM_PARTS);
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
  });
});
