// Random two-layer binary models through the runtime: the WebAssembly kernel set (sign packing, prepared
// binary convs with folded thresholds) against the TypeScript kernels and the float64 reference, bit for bit.
// The kernel-level tests of prepared binary convs and sign packing live in packages/kernels/test.

import { wasmSimdSupported } from '@ecgnn/kernels/wasm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelSpec, type NodeSpec, saveModel } from '../src/index.js';
import { refForward } from './reference.js';

/** Deterministic floats in [−1, 1) with some exact zeros, −0 and NaN (they all have sign +1). */
function floats(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s % 29;
    a[i] = r === 0 ? 0 : r === 1 ? -0 : r === 2 ? Number.NaN : s / 2 ** 31 - 1;
  }
  return a;
}

describe('runtime: random two-layer binary models, WebAssembly vs TypeScript vs the float64 reference', () => {
  it.runIf(wasmSimdSupported())(
    'sign → binaryConv1d → [maxPool] → batchNorm → sign → binaryConv1d: bit-identical',
    () => {
      fc.assert(
        fc.property(
          fc.record({
            C: fc.integer({ min: 1, max: 70 }),
            O1: fc.integer({ min: 1, max: 40 }),
            O2: fc.integer({ min: 1, max: 6 }),
            L: fc.integer({ min: 12, max: 60 }),
            K: fc.integer({ min: 1, max: 7 }),
            stride: fc.integer({ min: 1, max: 2 }),
            dilation: fc.integer({ min: 1, max: 2 }),
            padFrac: fc.double({ min: 0, max: 1, noNaN: true }),
            padRight: fc.integer({ min: 0, max: 3 }),
            padValue: fc.constantFrom(0, 1),
            pool: fc.option(
              fc.record({
                kernelSize: fc.integer({ min: 1, max: 4 }),
                stride: fc.integer({ min: 1, max: 3 }),
              }),
              { nil: null },
            ),
            seed: fc.integer({ min: 1, max: 2 ** 30 }),
          }),
          (g) => {
            const span = g.dilation * (g.K - 1);
            const padLeft = Math.floor(g.padFrac * span);
            const T1 = Math.floor((g.L + padLeft + g.padRight - span - 1) / g.stride) + 1;
            fc.pre(T1 >= 3 && (!g.pool || g.pool.kernelSize <= T1));
            const L2 = g.pool ? Math.floor((T1 - g.pool.kernelSize) / g.pool.stride) + 1 : T1;
            // Weights without NaN (model files hold finite values); zeros stay (sign +1).
            const finite = (a: Float32Array) => a.map((v) => (Number.isNaN(v) ? 0.5 : v));
            const w1 = finite(floats(g.O1 * g.C * g.K, g.seed));
            const w2 = finite(floats(g.O2 * g.O1 * 3, g.seed + 1));
            // BatchNorm whose sign never sits on an integer dot: mean = integer + 0.5, beta = 0 (float32 and
            // float64 agree on every sign), gamma of both signs and one exact 0 (a constant +1 channel).
            const mean = Float32Array.from({ length: g.O1 }, (_, o) => ((o * 7 + g.seed) % 9) - 4 + 0.5);
            const gamma = Float32Array.from({ length: g.O1 }, (_, o) =>
              o === 1 ? 0 : o % 3 === 0 ? -0.7 : 1.3,
            );
            const nodes: NodeSpec[] = [
              { op: 'sign', inputs: ['x'], outputs: ['s1'] },
              {
                op: 'binaryConv1d',
                inputs: ['s1'],
                outputs: ['c1'],
                attrs: {
                  padding: [padLeft, g.padRight],
                  padValue: g.padValue,
                  stride: g.stride,
                  dilation: g.dilation,
                },
                tensors: { weight: 'w1' },
              },
              ...(g.pool
                ? [{ op: 'maxPool1d', inputs: ['c1'], outputs: ['p1'], attrs: { ...g.pool } }]
                : [{ op: 'identity', inputs: ['c1'], outputs: ['p1'] }]),
              {
                op: 'batchNorm',
                inputs: ['p1'],
                outputs: ['b1'],
                tensors: { mean: 'mean', var: 'var', weight: 'gamma', bias: 'beta' },
              },
              { op: 'sign', inputs: ['b1'], outputs: ['s2'] },
              {
                op: 'binaryConv1d',
                inputs: ['s2'],
                outputs: ['c2'],
                attrs: { padding: 'same', padValue: 0 },
                tensors: { weight: 'w2' },
              },
              { op: 'flatten', inputs: ['c2'], outputs: ['y'] },
            ];
            const spec: ModelSpec = {
              name: 'random-binary',
              input: { channels: g.C, length: g.L, sampleRate: 360 },
              classes: Array.from({ length: g.O2 * L2 }, (_, i) => `y${i}`),
              outputActivation: 'none',
              graph: { input: 'x', output: 'y', nodes },
              tensors: [
                { name: 'w1', shape: [g.O1, g.C, g.K], data: w1, dtype: 'bits' },
                { name: 'w2', shape: [g.O2, g.O1, 3], data: w2, dtype: 'bits' },
                { name: 'mean', shape: [g.O1], data: mean },
                { name: 'var', shape: [g.O1], data: new Float32Array(g.O1).fill(1) },
                { name: 'gamma', shape: [g.O1], data: gamma },
                { name: 'beta', shape: [g.O1], data: new Float32Array(g.O1) },
              ],
            };
            const bytes = saveModel(spec);
            const mw = loadModel(bytes, { kernels: 'wasm', checkFinite: false });
            const mt = loadModel(bytes, { kernels: 'typescript', checkFinite: false });
            // The input sign, the first conv and its epilogue (folded into thresholds) run as one WebAssembly
            // step; the second conv reads its packed output.
            expect(mw.metadata.plan[0]).toBe(
              `sign+binaryConv1d+${g.pool ? 'maxPool1d' : 'identity'}+batchNorm+sign`,
            );
            expect(mw.metadata.plan[1]).toBe('binaryConv1d');
            expect(mw.metadata.planKernels.slice(0, 2)).toEqual(['wasm-simd', 'wasm-simd']);
            const x = floats(2 * g.C * g.L, g.seed + 2);
            const a = Array.from(mw.logits(x));
            expect(a).toEqual(Array.from(mt.logits(x)));
            const n = g.C * g.L;
            for (let b = 0; b < 2; b++)
              expect(a.slice(b * g.O2 * L2, (b + 1) * g.O2 * L2)).toEqual(
                Array.from(refForward(spec, x.subarray(b * n, (b + 1) * n))),
              );
          },
        ),
        { numRuns: 80 },
      );
    },
  );
});

describe('runtime: binary convs the WebAssembly plans do not take', () => {
  it.runIf(wasmSimdSupported())(
    'more than 4096 bits per output run the reference plan, unfused and labelled so, with the same bits',
    () => {
      // 1024 channels × K 5 = 5120 bits per output (binaryPlanTakes: at most 4096).
      const [C, L, O, K] = [1024, 9, 3, 5];
      const nodes: NodeSpec[] = [
        { op: 'sign', inputs: ['x'], outputs: ['b'] },
        {
          op: 'binaryConv1d',
          inputs: ['b'],
          outputs: ['c'],
          attrs: { padding: 2 },
          tensors: { weight: 'w' },
        },
        { op: 'flatten', inputs: ['c'], outputs: ['y'] },
      ];
      const spec: ModelSpec = {
        name: 'wide',
        input: { channels: C, length: L, sampleRate: 360 },
        classes: Array.from({ length: O * L }, (_, i) => `y${i}`),
        outputActivation: 'none',
        graph: { input: 'x', output: 'y', nodes },
        tensors: [
          {
            name: 'w',
            shape: [O, C, K],
            data: floats(O * C * K, 3).map((v) => (Number.isNaN(v) ? 0 : v)),
            dtype: 'bits',
          },
        ],
      };
      const bytes = saveModel(spec);
      const mw = loadModel(bytes, { kernels: 'wasm' });
      expect(mw.metadata.plan).toEqual(['sign', 'binaryConv1d', 'flatten']);
      expect(mw.metadata.planKernels).toEqual(['wasm-simd', 'typescript', 'typescript']);
      const x = floats(C * L, 4).map((v) => (Number.isNaN(v) ? 0 : v));
      expect(Array.from(mw.logits(x))).toEqual(Array.from(refForward(spec, x)));
    },
  );
});
