// Parity per layer type: a one-op model run by the @ecgnn/infer runtime vs an independent oracle.
// Oracle: the naive float64 reference in ./reference.ts (formulas written out, no shared code).
// Float ops: relative error ≤ 1e-5 (of the output's max magnitude). Binary ops: exactly equal (integer maths).
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelSpec, type NodeSpec, saveModel, type TensorSpec } from '../src/index.js';
import { randn, rng } from './fixtures.js';
import { refForward } from './reference.js';

interface Case {
  name: string;
  inShape: [number, number];
  nodes: NodeSpec[]; // from value 'x' to value 'y' ([C, L] or [F]); flatten is appended when needed
  tensors: TensorSpec[];
  exact?: boolean;
  /** Expected `metadata.planKernels` with WebAssembly kernels (checked in wasm mode when given). */
  wasmPlan?: ('wasm-simd' | 'typescript')[];
}

const r = rng(99);
const T = (name: string, shape: number[], opts: Partial<TensorSpec> = {}, scale = 0.5): TensorSpec => ({
  name,
  shape,
  data: randn(
    shape.reduce((a, b) => a * b, 1),
    r,
    scale,
  ),
  ...opts,
});
const pos = (name: string, n: number): TensorSpec => ({
  name,
  shape: [n],
  data: Float32Array.from({ length: n }, () => 0.5 + r()),
});

const cases: Case[] = [
  {
    name: 'conv1d stride 2, padding [3,1] value 0.25, dilation 2, bias',
    inShape: [6, 50],
    nodes: [
      {
        op: 'conv1d',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { stride: 2, padding: [3, 1], dilation: 2, padValue: 0.25 },
        tensors: { weight: 'w', bias: 'b' },
      },
    ],
    tensors: [T('w', [10, 6, 5]), T('b', [10])],
  },
  {
    name: 'conv1d depthwise (groups = C) + pointwise',
    inShape: [8, 40],
    nodes: [
      {
        op: 'conv1d',
        inputs: ['x'],
        outputs: ['d'],
        attrs: { groups: 8, padding: 'same' },
        tensors: { weight: 'dw' },
      },
      { op: 'conv1d', inputs: ['d'], outputs: ['y'], tensors: { weight: 'pw', bias: 'pb' } },
    ],
    tensors: [T('dw', [8, 1, 7]), T('pw', [12, 8, 1]), T('pb', [12])],
  },
  {
    name: 'conv1d groups 2 with float16 and int8 storage',
    inShape: [4, 30],
    nodes: [
      {
        op: 'conv1d',
        inputs: ['x'],
        outputs: ['a'],
        attrs: { groups: 2, padding: 1 },
        tensors: { weight: 'w16' },
      },
      { op: 'conv1d', inputs: ['a'], outputs: ['y'], attrs: { padding: 1 }, tensors: { weight: 'w8' } },
    ],
    tensors: [T('w16', [6, 2, 3], { dtype: 'float16' }), T('w8', [5, 6, 3], { dtype: 'int8' })],
  },
  {
    name: 'batchNorm (inference)',
    inShape: [5, 20],
    nodes: [
      {
        op: 'batchNorm',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { eps: 1e-3 },
        tensors: { mean: 'm', var: 'v', weight: 'g', bias: 'b' },
      },
    ],
    tensors: [T('m', [5]), pos('v', 5), T('g', [5]), T('b', [5])],
  },
  ...(['relu', 'sigmoid', 'tanh'] as const).map(
    (op): Case => ({
      name: op,
      inShape: [3, 17],
      nodes: [{ op, inputs: ['x'], outputs: ['y'] }],
      tensors: [],
    }),
  ),
  {
    name: 'prelu per channel and leakyRelu',
    inShape: [4, 16],
    nodes: [
      { op: 'prelu', inputs: ['x'], outputs: ['a'], tensors: { weight: 'a' } },
      { op: 'leakyRelu', inputs: ['a'], outputs: ['y'], attrs: { negativeSlope: 0.2 } },
    ],
    tensors: [T('a', [4])],
  },
  {
    name: 'maxPool1d and avgPool1d with padding',
    inShape: [3, 31],
    nodes: [
      { op: 'maxPool1d', inputs: ['x'], outputs: ['a'], attrs: { kernelSize: 3, stride: 2, padding: 1 } },
      { op: 'avgPool1d', inputs: ['a'], outputs: ['y'], attrs: { kernelSize: 4, stride: 3, padding: 2 } },
    ],
    tensors: [],
  },
  ...(['globalAvgPool1d', 'globalMaxPool1d', 'sumOverTime'] as const).map(
    (op): Case => ({
      name: op,
      inShape: [6, 23],
      nodes: [{ op, inputs: ['x'], outputs: ['y'] }],
      tensors: [],
    }),
  ),
  {
    name: 'linear (dense) after flatten',
    inShape: [3, 10],
    nodes: [
      { op: 'flatten', inputs: ['x'], outputs: ['f'] },
      { op: 'linear', inputs: ['f'], outputs: ['y'], tensors: { weight: 'w', bias: 'b' } },
    ],
    tensors: [T('w', [7, 30]), T('b', [7])],
  },
  {
    name: 'softmax over channels',
    inShape: [5, 9],
    nodes: [{ op: 'softmax', inputs: ['x'], outputs: ['y'] }],
    tensors: [],
  },
  {
    name: 'squeeze-excitation',
    inShape: [8, 25],
    nodes: [
      {
        op: 'squeezeExcitation',
        inputs: ['x'],
        outputs: ['y'],
        tensors: { w1: 'w1', b1: 'b1', w2: 'w2', b2: 'b2' },
      },
    ],
    tensors: [T('w1', [2, 8]), T('b1', [2]), T('w2', [8, 2]), T('b2', [8])],
  },
  {
    name: 'attention (non-causal)',
    inShape: [6, 12],
    nodes: [
      { op: 'attention', inputs: ['x'], outputs: ['y'], tensors: { wq: 'q', wk: 'k', wv: 'v', bk: 'bk' } },
    ],
    tensors: [T('q', [4, 6]), T('k', [4, 6]), T('v', [5, 6]), T('bk', [4])],
  },
  {
    name: 'attention (causal, concatenated to the input, SNAIL)',
    inShape: [6, 12],
    nodes: [
      {
        op: 'attention',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { causal: true, concat: true },
        tensors: { wq: 'q', wk: 'k', wv: 'v' },
      },
    ],
    tensors: [T('q', [3, 6]), T('k', [3, 6]), T('v', [2, 6])],
  },
  {
    name: 'residual add + concat',
    inShape: [4, 10],
    nodes: [
      { op: 'relu', inputs: ['x'], outputs: ['a'] },
      { op: 'add', inputs: ['a', 'x'], outputs: ['s'] },
      { op: 'concat', inputs: ['s', 'x', 'a'], outputs: ['y'] },
    ],
    tensors: [],
  },
  {
    name: 'binary: sign → binaryConv1d (pad +1), float output',
    inShape: [40, 30],
    nodes: [
      { op: 'sign', inputs: ['x'], outputs: ['s'] },
      {
        op: 'binaryConv1d',
        inputs: ['s'],
        outputs: ['y'],
        attrs: { padding: 3, padValue: 1, stride: 2 },
        tensors: { weight: 'w' },
      },
    ],
    tensors: [T('w', [9, 40, 7], { dtype: 'bits' })],
    exact: true,
  },
  {
    name: 'binary: binaryConv1d pad 0 (terms shrink at the edges), dilation 2',
    inShape: [33, 20],
    nodes: [
      { op: 'sign', inputs: ['x'], outputs: ['s'] },
      {
        op: 'binaryConv1d',
        inputs: ['s'],
        outputs: ['y'],
        attrs: { padding: 'same', padValue: 0, dilation: 2 },
        tensors: { weight: 'w' },
      },
    ],
    tensors: [T('w', [5, 33, 3], { dtype: 'bits' })],
    exact: true,
  },
  {
    name: 'binary: fused conv → maxPool → PReLU → BN → sign → binaryConv',
    inShape: [16, 60],
    nodes: [
      { op: 'sign', inputs: ['x'], outputs: ['s'] },
      { op: 'binaryConv1d', inputs: ['s'], outputs: ['c'], attrs: { padding: 2 }, tensors: { weight: 'w1' } },
      { op: 'maxPool1d', inputs: ['c'], outputs: ['p'], attrs: { kernelSize: 3, stride: 2 } },
      { op: 'prelu', inputs: ['p'], outputs: ['a'], tensors: { weight: 'pa' } },
      {
        op: 'batchNorm',
        inputs: ['a'],
        outputs: ['n'],
        tensors: { mean: 'm', var: 'v', weight: 'g', bias: 'b' },
      },
      { op: 'sign', inputs: ['n'], outputs: ['s2'] },
      {
        op: 'binaryConv1d',
        inputs: ['s2'],
        outputs: ['y'],
        attrs: { padding: 1 },
        tensors: { weight: 'w2' },
      },
    ],
    tensors: [
      T('w1', [24, 16, 5], { dtype: 'bits' }),
      pos('pa', 24),
      T('m', [24], {}, 4),
      pos('v', 24),
      T('g', [24]),
      T('b', [24]),
      T('w2', [7, 24, 3], { dtype: 'bits' }),
    ],
    exact: true,
  },
  {
    name: 'binary: exporter-folded thresholds (int32) with pool, then binaryLinear',
    inShape: [20, 30],
    nodes: [
      { op: 'sign', inputs: ['x'], outputs: ['s'] },
      {
        op: 'binaryConv1d',
        inputs: ['s'],
        outputs: ['c'],
        attrs: { padding: 1, pool: { kernelSize: 2, stride: 2 } },
        tensors: { weight: 'w', threshold: 'thr', direction: 'dir' },
      },
      { op: 'binaryConv1d', inputs: ['c'], outputs: ['d'], tensors: { weight: 'w2' } },
      { op: 'globalMaxPool1d', inputs: ['d'], outputs: ['g'] },
      { op: 'sign', inputs: ['g'], outputs: ['gs'] },
      { op: 'binaryLinear', inputs: ['gs'], outputs: ['y'], tensors: { weight: 'fc' } },
    ],
    tensors: [
      T('w', [12, 20, 3], { dtype: 'bits' }),
      {
        name: 'thr',
        shape: [12],
        data: Array.from({ length: 12 }, (_, i) => (i % 5) * 3 - 6),
        dtype: 'int32',
      },
      {
        name: 'dir',
        shape: [12],
        data: Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? -1 : 1)),
        dtype: 'int8',
        scale: 1,
      },
      T('w2', [10, 12, 3], { dtype: 'bits' }),
      T('fc', [6, 10], { dtype: 'bits' }),
    ],
    exact: true,
  },
  {
    name: 'conv1d with left padding beyond the receptive field (WebAssembly refuses: TypeScript fallback)',
    inShape: [3, 20],
    nodes: [
      {
        op: 'conv1d',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { padding: [5, 1], padValue: -0.5 },
        tensors: { weight: 'w', bias: 'b' },
      },
    ],
    tensors: [T('w', [4, 3, 3]), T('b', [4])],
    wasmPlan: ['typescript', 'typescript'],
  },
  {
    name: 'conv1d → relu fused, stride 3, right padding only',
    inShape: [5, 37],
    nodes: [
      {
        op: 'conv1d',
        inputs: ['x'],
        outputs: ['c'],
        attrs: { stride: 3, padding: [0, 4] },
        tensors: { weight: 'w', bias: 'b' },
      },
      { op: 'relu', inputs: ['c'], outputs: ['y'] },
    ],
    tensors: [T('w', [6, 5, 4]), T('b', [6])],
    wasmPlan: ['wasm-simd', 'typescript'],
  },
  {
    name: 'linear 96→40 (WebAssembly matmul, output padded to the tile width)',
    inShape: [4, 24],
    nodes: [
      { op: 'flatten', inputs: ['x'], outputs: ['f'] },
      { op: 'linear', inputs: ['f'], outputs: ['y'], tensors: { weight: 'w', bias: 'b' } },
    ],
    tensors: [T('w', [40, 96]), T('b', [40])],
    wasmPlan: ['typescript', 'wasm-simd', 'typescript'],
  },
  {
    name: 'binary: binaryConv1d with left padding beyond the receptive field (TypeScript fallback)',
    inShape: [35, 16],
    nodes: [
      { op: 'sign', inputs: ['x'], outputs: ['s'] },
      {
        op: 'binaryConv1d',
        inputs: ['s'],
        outputs: ['y'],
        attrs: { padding: [4, 0], padValue: 1 },
        tensors: { weight: 'w' },
      },
    ],
    tensors: [T('w', [6, 35, 3], { dtype: 'bits' })],
    exact: true,
    // sign packing runs in WebAssembly; the conv falls back
    wasmPlan: ['wasm-simd', 'typescript', 'typescript'],
  },
  {
    name: 'binary: 70 channels (3 words, odd word count), stride 2, pad 0, with a pool',
    inShape: [70, 41],
    nodes: [
      { op: 'sign', inputs: ['x'], outputs: ['s'] },
      {
        op: 'binaryConv1d',
        inputs: ['s'],
        outputs: ['y'],
        attrs: { padding: 2, padValue: 0, stride: 2, pool: { kernelSize: 3, stride: 2 } },
        tensors: { weight: 'w' },
      },
    ],
    tensors: [T('w', [9, 70, 5], { dtype: 'bits' })],
    exact: true,
    // sign → binaryConv1d as one WebAssembly step (the float input sign-packed in the kernel's memory)
    wasmPlan: ['wasm-simd', 'typescript'],
  },
];

function specOf(c: Case): ModelSpec {
  const nodes = c.nodes.slice();
  // Work out the output size by loading once without flatten is not possible (output must be [classes]);
  // instead append flatten (a no-op for [F]) and size classes from the reference.
  nodes.push({ op: 'flatten', inputs: ['y'], outputs: ['out'] });
  const base: ModelSpec = {
    input: { channels: c.inShape[0], length: c.inShape[1], sampleRate: 100 },
    classes: ['?'],
    outputActivation: 'none',
    graph: { input: 'x', output: 'out', nodes },
    tensors: c.tensors,
  };
  const n = refForward(base, new Float32Array(c.inShape[0] * c.inShape[1])).length;
  return { ...base, classes: Array.from({ length: n }, (_, i) => `o${i}`) };
}

describe.each(['wasm', 'typescript'] as const)(
  'parity: infer runtime (%s kernels) vs naive float64 reference, per layer type',
  (mode) => {
    for (const c of cases) {
      it(c.name, () => {
        const spec = specOf(c);
        const model = loadModel(saveModel(spec), { kernels: mode });
        // Kernel set per step (WebAssembly steps may fuse nodes that run as separate TypeScript steps).
        if (c.wasmPlan && mode === 'wasm') expect(model.metadata.planKernels).toEqual(c.wasmPlan);
        if (mode === 'typescript')
          expect(model.metadata.planKernels.every((k) => k === 'typescript')).toBe(true);
        const rr = rng(c.name.length);
        for (let s = 0; s < 3; s++) {
          const x = randn(c.inShape[0] * c.inShape[1], rr);
          const got = model.logits(x);
          const ref = refForward(spec, x);
          expect(got.length).toBe(ref.length);
          if (c.exact) {
            expect(Array.from(got)).toEqual(Array.from(ref));
          } else {
            let scale = 1e-12;
            for (const v of ref) scale = Math.max(scale, Math.abs(v));
            for (let i = 0; i < ref.length; i++)
              expect(Math.abs(got[i] - ref[i]) / scale).toBeLessThanOrEqual(1e-5);
          }
        }
      });
    }
  },
);
