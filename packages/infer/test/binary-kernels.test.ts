import { binarySample } from '@ecgnn/kernels';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BinaryConv1dParams,
  binaryConv1d,
  binaryConv1dPacked,
  binaryConvOutputLength,
  binaryConvScratchSize,
  binaryLinear,
  packConvWeights,
  packSigns,
  signPack,
  thresholdBit,
  unpackSigns,
  wordsForChannels,
} from '../src/index.js';

const { binaryConvLength, binaryEpilogueFloat, binaryEpiloguePacked } = binarySample;

import { getWasmKernels, tsKernels } from '@ecgnn/kernels/wasm';
import { refConv1d, refPool } from './reference.js';

/** Integer dots as the runtime's WebAssembly path computes them (TypeScript kernel set if no SIMD). */
const dotKernels = getWasmKernels() ?? tsKernels;

const pm1 = (n: number, seed: number) =>
  Float64Array.from({ length: n }, (_, i) =>
    (Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453) % 1 < 0 ? -1 : 1,
  );

const geometry = fc.record({
  C: fc.integer({ min: 1, max: 80 }),
  L: fc.integer({ min: 1, max: 40 }),
  O: fc.integer({ min: 1, max: 40 }),
  K: fc.integer({ min: 1, max: 7 }),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 3 }),
  padLeft: fc.integer({ min: 0, max: 6 }),
  padRight: fc.integer({ min: 0, max: 6 }),
  padValue: fc.constantFrom(0 as const, 1 as const),
  pool: fc.option(
    fc.record({ kernelSize: fc.integer({ min: 1, max: 4 }), stride: fc.integer({ min: 1, max: 3 }) }),
    { nil: null },
  ),
  seed: fc.nat(1000),
});

describe('binary conv1d (XOR/popcount) equals the float conv on ±1 values', () => {
  it('integer dots, every padding mode, stride, dilation, pool; packed output obeys the thresholds', () => {
    fc.assert(
      fc.property(geometry, (g) => {
        const span = g.dilation * (g.K - 1) + 1;
        fc.pre(g.L + g.padLeft + g.padRight >= span);
        const p: BinaryConv1dParams = {
          inChannels: g.C,
          inLength: g.L,
          outChannels: g.O,
          kernelSize: g.K,
          stride: g.stride,
          dilation: g.dilation,
          padLeft: g.padLeft,
          padRight: g.padRight,
          padValue: g.padValue,
          pool: g.pool,
        };
        const Lconv = Math.floor((g.L + g.padLeft + g.padRight - span) / g.stride) + 1;
        fc.pre(!g.pool || g.pool.kernelSize <= Lconv);
        const x = pm1(g.C * g.L, g.seed);
        const w = pm1(g.O * g.C * g.K, g.seed + 1);
        // Reference: float conv with padded positions = padValue (+1, or 0 = contributes nothing).
        let ref = refConv1d({ shape: [g.C, g.L], data: x }, w, [g.O, g.C, g.K], null, { ...p, groups: 1 });
        if (g.pool) ref = refPool(ref, g.pool.kernelSize, g.pool.stride, 0, 'max');
        const Lout = binaryConvOutputLength(p);
        expect(ref.shape[1]).toBe(Lout);
        // Activations [C, L] → packed [L][W] (transpose to time-major then pack along channels).
        const xt = new Float32Array(g.L * g.C);
        for (let c = 0; c < g.C; c++) for (let t = 0; t < g.L; t++) xt[t * g.C + c] = x[c * g.L + t];
        const xp = packSigns(xt, g.C);
        const xs = new Uint32Array(g.L * wordsForChannels(g.C));
        signPack(Float32Array.from(x), g.C, g.L, xs);
        expect(Array.from(xs)).toEqual(Array.from(xp));
        const wp = packConvWeights(w, g.O, g.C, g.K);
        const sc = binaryConvScratchSize(p);
        const out = new Float32Array(g.O * Lout);
        binaryConv1d(xp, wp, p, out, new Uint32Array(sc.words), new Int32Array(sc.ints));
        expect(Array.from(out)).toEqual(Array.from(ref.data));
        // Packed output with per-channel thresholds of both directions.
        // Thresholds of both directions, including the extremes ±2³¹ of constant channels (gamma = 0).
        const thr = Int32Array.from({ length: g.O }, (_, o) =>
          o % 11 === 9 ? -(2 ** 31) : o % 11 === 10 ? 2 ** 31 - 1 : ((o * 7) % 9) - 4,
        );
        const dir = Int8Array.from({ length: g.O }, (_, o) => (o % 3 === 0 ? -1 : 1));
        const packed = new Uint32Array(Lout * wordsForChannels(g.O));
        binaryConv1dPacked(xp, wp, p, thr, dir, packed, new Uint32Array(sc.words), new Int32Array(sc.ints));
        const bits = unpackSigns(packed, g.O, Lout);
        for (let o = 0; o < g.O; o++)
          for (let t = 0; t < Lout; t++) {
            const expected = thresholdBit(ref.data[o * Lout + t], thr[o], dir[o]) ? -1 : 1;
            expect(bits[t * g.O + o]).toBe(expected);
          }
        // The runtime's WebAssembly path: integer dots from the kernel set, then the shared epilogues — bit-identical.
        if (g.padLeft <= g.dilation * (g.K - 1)) {
          const Lc = binaryConvLength(p);
          const dots = new Int32Array(g.O * Lc);
          dotKernels.binaryConv1d(xp, wp, dots, {
            batch: 1,
            inChannels: g.C,
            outChannels: g.O,
            inLength: g.L,
            outLength: Lc,
            kernelSize: g.K,
            stride: g.stride,
            dilation: g.dilation,
            padLeft: g.padLeft,
            padValue: g.padValue,
          });
          const fo = new Float32Array(g.O * Lout);
          binaryEpilogueFloat(dots, g.O, Lc, g.pool, fo);
          expect(Array.from(fo)).toEqual(Array.from(out));
          const po = new Uint32Array(packed.length).fill(0xffffffff);
          binaryEpiloguePacked(dots, g.O, Lc, g.pool, thr, dir, po);
          expect(Array.from(po)).toEqual(Array.from(packed));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('binaryLinear equals the ±1 dense product', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 150 }),
        fc.integer({ min: 1, max: 20 }),
        fc.nat(100),
        (Fin, O, seed) => {
          const x = pm1(Fin, seed);
          const w = pm1(O * Fin, seed + 3);
          const out = new Float32Array(O);
          binaryLinear(packSigns(x, Fin), packSigns(w, Fin), Fin, O, out);
          for (let o = 0; o < O; o++) {
            let s = 0;
            for (let i = 0; i < Fin; i++) s += x[i] * w[o * Fin + i];
            expect(out[o]).toBe(s);
          }
        },
      ),
    );
  });
});
