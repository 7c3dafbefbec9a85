/**
 * The register-tiled reference kernels (conv1d forward / backward-input / backward-weight, matmul) against the
 * naive oracles of @ecgnn/kernels/testing, over random shapes whose lengths are not multiples of the tiles.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Conv1dParams } from '../src/contract.js';
import { Generator } from '../src/random.js';
import { conv1dBackwardInput, conv1dBackwardWeight, conv1dForward } from '../src/ref/conv.js';
import { matmul } from '../src/ref/matmul.js';
import {
  naiveConv1dBackwardInput,
  naiveConv1dBackwardWeight,
  naiveConv1dForward,
  naiveMatmul,
} from '../src/testing.js';

type F = Float32Array | Float64Array;

/** The three convolution oracles of @ecgnn/kernels/testing at once. */
function convOracle(x: F, w: F, bias: F | null, g: F, p: Conv1dParams) {
  return {
    out: naiveConv1dForward(x, w, bias, p),
    gx: naiveConv1dBackwardInput(g, w, p),
    gw: naiveConv1dBackwardWeight(x, g, p),
  };
}

function rand(n: number, gen: Generator, f64: boolean): F {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen.normal();
  return a;
}

/** Largest |a − b| / (1 + |b|). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

const convCase = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  groups: fc.integer({ min: 1, max: 3 }),
  cinG: fc.integer({ min: 1, max: 6 }),
  coutG: fc.integer({ min: 1, max: 11 }),
  k: fc.integer({ min: 1, max: 8 }),
  stride: fc.integer({ min: 1, max: 4 }),
  dilation: fc.integer({ min: 1, max: 4 }),
  padL: fc.integer({ min: 0, max: 5 }),
  padR: fc.integer({ min: 0, max: 5 }),
  length: fc.integer({ min: 1, max: 61 }),
  padValue: fc.constantFrom(0, 1, -1, 0.25),
  withBias: fc.boolean(),
  f64: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('fast conv1d kernels match the naive oracles', () => {
  test('forward, backward-input, backward-weight over random shapes (float32 rel 1e-4, float64 rel 1e-12)', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const span = c.dilation * (c.k - 1) + 1;
        fc.pre(span <= c.length + c.padL + c.padR);
        const T = Math.floor((c.length + c.padL + c.padR - span) / c.stride) + 1;
        const p: Conv1dParams = {
          batch: c.batch,
          inChannels: c.cinG * c.groups,
          outChannels: c.coutG * c.groups,
          inLength: c.length,
          outLength: T,
          kernelSize: c.k,
          stride: c.stride,
          dilation: c.dilation,
          padLeft: c.padL,
          groups: c.groups,
          padValue: c.padValue,
        };
        const gen = new Generator(c.seed);
        const x = rand(p.batch * p.inChannels * p.inLength, gen, c.f64);
        const w = rand(p.outChannels * c.cinG * c.k, gen, c.f64);
        const bias = c.withBias ? rand(p.outChannels, gen, c.f64) : null;
        const g = rand(p.batch * p.outChannels * T, gen, c.f64);
        const ref = convOracle(x, w, bias, g, p);
        const Ctor = c.f64 ? Float64Array : Float32Array;
        // Outputs are pre-filled with garbage: kernels must overwrite every element.
        const out = new Ctor(ref.out.length).fill(Number.NaN);
        const gx = new Ctor(x.length).fill(Number.NaN);
        const gw = new Ctor(w.length).fill(Number.NaN);
        conv1dForward(x, w, bias, out, p);
        conv1dBackwardInput(g, w, gx, p);
        conv1dBackwardWeight(x, g, gw, p);
        const tol = c.f64 ? 1e-12 : 1e-4;
        expect(relErr(out, ref.out)).toBeLessThanOrEqual(tol);
        expect(relErr(gx, ref.gx)).toBeLessThanOrEqual(tol);
        expect(relErr(gw, ref.gw)).toBeLessThanOrEqual(tol);
      }),
      { numRuns: 200 },
    );
  });

  test('the benchmark channel shapes (16→32, K = 7 and depthwise 32, K = 5; L = 1000, same) at batch 2', () => {
    for (const [cin, cout, groups, k] of [
      [16, 32, 1, 7],
      [32, 32, 32, 5],
    ]) {
      const pad = (k - 1) >> 1;
      const p: Conv1dParams = {
        batch: 2,
        inChannels: cin,
        outChannels: cout,
        inLength: 1000,
        outLength: 1000,
        kernelSize: k,
        stride: 1,
        dilation: 1,
        padLeft: pad,
        groups,
        padValue: 0,
      };
      const gen = new Generator(1);
      const x = rand(p.batch * cin * 1000, gen, false);
      const w = rand((cout * cin * k) / groups, gen, false);
      const b = rand(cout, gen, false);
      const g = rand(p.batch * cout * 1000, gen, false);
      const ref = convOracle(x, w, b, g, p);
      const out = new Float32Array(ref.out.length);
      const gx = new Float32Array(x.length);
      const gw = new Float32Array(w.length);
      conv1dForward(x, w, b, out, p);
      conv1dBackwardInput(g, w, gx, p);
      conv1dBackwardWeight(x, g, gw, p);
      expect(relErr(out, ref.out)).toBeLessThanOrEqual(1e-4);
      expect(relErr(gx, ref.gx)).toBeLessThanOrEqual(1e-4);
      expect(relErr(gw, ref.gw)).toBeLessThanOrEqual(1e-4);
    }
  });
});

describe('fast matmul kernel matches the naive oracle', () => {
  test('random shapes, transposes and batch broadcasting', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          m: fc.integer({ min: 1, max: 19 }),
          k: fc.integer({ min: 1, max: 19 }),
          n: fc.integer({ min: 1, max: 19 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          broadcastA: fc.boolean(),
          broadcastB: fc.boolean(),
          f64: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1e6 }),
        }),
        (c) => {
          const gen = new Generator(c.seed);
          const aCount = c.broadcastA ? 1 : c.batch;
          const bCount = c.broadcastB ? 1 : c.batch;
          const a = rand(aCount * c.m * c.k, gen, c.f64);
          const b = rand(bCount * c.k * c.n, gen, c.f64);
          const aStride = c.broadcastA ? 0 : c.m * c.k;
          const bStride = c.broadcastB ? 0 : c.k * c.n;
          const ref = naiveMatmul(a, b, { ...c, batchStrideA: aStride, batchStrideB: bStride });
          const out = c.f64 ? new Float64Array(ref.length) : new Float32Array(ref.length);
          out.fill(Number.NaN);
          matmul(a, b, out, { ...c, batchStrideA: aStride, batchStrideB: bStride });
          expect(relErr(out, ref)).toBeLessThanOrEqual(c.f64 ? 1e-12 : 1e-4);
        },
      ),
      { numRuns: 100 },
    );
  });
});
