// Test fixtures: seeded random numbers and model specs (method 5 binary net, a float CNN with every layer type).

import { mulberry32 } from '@ecgnn/kernels/testing';
import type { ModelSpec, NodeSpec, TensorSpec } from '../src/index.js';

/** mulberry32 (@ecgnn/kernels/testing): small deterministic PRNG, uniform in [0, 1). */
export const rng = mulberry32;

/** Standard normal samples (Box–Muller). */
export function randn(n: number, r: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()) * scale;
  }
  return out;
}

export function uniform(n: number, r: () => number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/**
 * Method 5 (Pu et al. 2023) binary network: six blocks 1→8→16→32→32→64→C, kernel 7, stride 2 in block 1,
 * block = pad 5 with +1 → conv → MaxPool(7, 2) → PReLU → BatchNorm; blocks 2–6 binarise activations (sign);
 * all conv weights binary; sum over time = logits.
 */
export function method5Spec(opts: { classes?: number; length?: number; seed?: number } = {}): ModelSpec {
  const classes = opts.classes ?? 5;
  const length = opts.length ?? 3600;
  const r = rng(opts.seed ?? 1);
  const chans = [1, 8, 16, 32, 32, 64, classes];
  const nodes: NodeSpec[] = [];
  const tensors: TensorSpec[] = [];
  let prev = 'input';
  for (let b = 0; b < 6; b++) {
    const cin = chans[b];
    const cout = chans[b + 1];
    const p = `b${b + 1}`;
    tensors.push({ name: `${p}.w`, shape: [cout, cin, 7], data: randn(cout * cin * 7, r), dtype: 'bits' });
    tensors.push({ name: `${p}.prelu`, shape: [cout], data: uniform(cout, r, 0.05, 0.4) });
    tensors.push({ name: `${p}.mean`, shape: [cout], data: randn(cout, r, b === 0 ? 0.5 : 4) });
    tensors.push({ name: `${p}.var`, shape: [cout], data: uniform(cout, r, 1, b === 0 ? 2 : 30) });
    // gamma of both signs (and one exact 0 in block 3) to exercise every threshold case.
    const gamma = randn(cout, r);
    if (b === 2) gamma[3] = 0;
    tensors.push({ name: `${p}.gamma`, shape: [cout], data: gamma });
    tensors.push({ name: `${p}.beta`, shape: [cout], data: randn(cout, r, 0.3) });
    if (b === 0) {
      nodes.push({
        op: 'conv1d',
        inputs: [prev],
        outputs: [`${p}.conv`],
        attrs: { stride: 2, padding: 5, padValue: 1 },
        tensors: { weight: `${p}.w` },
      });
    } else {
      nodes.push({ op: 'sign', inputs: [prev], outputs: [`${p}.sign`] });
      nodes.push({
        op: 'binaryConv1d',
        inputs: [`${p}.sign`],
        outputs: [`${p}.conv`],
        attrs: { padding: 5, padValue: 1 },
        tensors: { weight: `${p}.w` },
      });
    }
    nodes.push({
      op: 'maxPool1d',
      inputs: [`${p}.conv`],
      outputs: [`${p}.pool`],
      attrs: { kernelSize: 7, stride: 2 },
    });
    nodes.push({
      op: 'prelu',
      inputs: [`${p}.pool`],
      outputs: [`${p}.act`],
      tensors: { weight: `${p}.prelu` },
    });
    nodes.push({
      op: 'batchNorm',
      inputs: [`${p}.act`],
      outputs: [`${p}.bn`],
      attrs: { eps: 1e-5 },
      tensors: { mean: `${p}.mean`, var: `${p}.var`, weight: `${p}.gamma`, bias: `${p}.beta` },
    });
    prev = `${p}.bn`;
  }
  nodes.push({ op: 'dropout', inputs: [prev], outputs: ['drop'] });
  nodes.push({ op: 'sumOverTime', inputs: ['drop'], outputs: ['logits'] });
  return {
    name: 'method5-binary-test',
    input: { channels: 1, length, sampleRate: 360 },
    classes: Array.from({ length: classes }, (_, i) => `class${i}`),
    outputActivation: 'softmax',
    preprocessing: { normalize: 'zscore' },
    windowing: { mode: 'segment', hop: length },
    graph: {
      inputs: [{ name: 'input', shape: [1, length], source: { kind: 'window' } }],
      outputs: ['logits'],
      nodes,
    },
    tensors,
    provenance: { method: 'Pu et al. 2023 (test fixture, random weights)' },
  };
}

/** A float CNN touching every float op: conv (stride/dilation/groups/'same'), BN, SE, attention, pools, dense. */
export function floatZooSpec(seed = 2, length = 64): ModelSpec {
  const r = rng(seed);
  const t: TensorSpec[] = [];
  const add = (name: string, shape: number[], scale = 0.3, extra: Partial<TensorSpec> = {}) => {
    t.push({
      name,
      shape,
      data: randn(
        shape.reduce((a, b) => a * b, 1),
        r,
        scale,
      ),
      ...extra,
    });
    return name;
  };
  const nodes: NodeSpec[] = [
    {
      op: 'conv1d',
      inputs: ['x'],
      outputs: ['c1'],
      attrs: { padding: 'same', dilation: 2 },
      tensors: { weight: add('c1.w', [8, 2, 5]), bias: add('c1.b', [8]) },
    },
    {
      op: 'batchNorm',
      inputs: ['c1'],
      outputs: ['bn1'],
      tensors: { mean: add('bn.m', [8]), var: 'bn.v', weight: add('bn.g', [8]), bias: add('bn.b', [8]) },
    },
    { op: 'relu', inputs: ['bn1'], outputs: ['r1'] },
    {
      op: 'conv1d',
      inputs: ['r1'],
      outputs: ['dw'],
      attrs: { groups: 8, padding: [2, 1], padValue: 0.5 },
      tensors: { weight: add('dw.w', [8, 1, 4], 0.3, { dtype: 'float16' }) },
    },
    {
      op: 'conv1d',
      inputs: ['dw'],
      outputs: ['pw'],
      attrs: { stride: 2, padding: 1 },
      tensors: { weight: add('pw.w', [12, 8, 3], 0.3, { dtype: 'int8' }), bias: add('pw.b', [12]) },
    },
    { op: 'leakyRelu', inputs: ['pw'], outputs: ['lr'], attrs: { negativeSlope: 0.1 } },
    {
      op: 'squeezeExcitation',
      inputs: ['lr'],
      outputs: ['se'],
      tensors: {
        w1: add('se.w1', [3, 12]),
        b1: add('se.b1', [3]),
        w2: add('se.w2', [12, 3]),
        b2: add('se.b2', [12]),
      },
    },
    { op: 'maxPool1d', inputs: ['se'], outputs: ['mp'], attrs: { kernelSize: 3, stride: 2, padding: 1 } },
    { op: 'avgPool1d', inputs: ['mp'], outputs: ['ap'], attrs: { kernelSize: 2, stride: 1, padding: 1 } },
    { op: 'tanh', inputs: ['ap'], outputs: ['th'] },
    {
      op: 'attention',
      inputs: ['th'],
      outputs: ['att'],
      attrs: { causal: true, concat: true },
      tensors: {
        wq: add('a.q', [4, 12]),
        wk: add('a.k', [4, 12]),
        wv: add('a.v', [6, 12]),
        bq: add('a.bq', [4]),
        bv: add('a.bv', [6]),
      },
    },
    { op: 'prelu', inputs: ['att'], outputs: ['pr'], tensors: { weight: add('pr.w', [1]) } },
    {
      op: 'conv1d',
      inputs: ['th'],
      outputs: ['skip'],
      attrs: { padding: 'same' },
      tensors: { weight: add('sk.w', [18, 12, 1]) },
    },
    { op: 'add', inputs: ['pr', 'skip'], outputs: ['sum'] },
    { op: 'concat', inputs: ['sum', 'th'], outputs: ['cat'] },
    { op: 'sigmoid', inputs: ['cat'], outputs: ['sg'] },
    { op: 'globalAvgPool1d', inputs: ['sg'], outputs: ['gap'] },
    { op: 'globalMaxPool1d', inputs: ['cat'], outputs: ['gmp'] },
    { op: 'concat', inputs: ['gap', 'gmp'], outputs: ['feat'] },
    {
      op: 'linear',
      inputs: ['feat'],
      outputs: ['h'],
      tensors: { weight: add('fc1.w', [16, 60]), bias: add('fc1.b', [16]) },
    },
    { op: 'sign', inputs: ['h'], outputs: ['hb'] },
    {
      op: 'binaryLinear',
      inputs: ['hb'],
      outputs: ['hb2'],
      tensors: { weight: add('bl.w', [40, 16], 1, { dtype: 'bits' }) },
    },
    { op: 'linear', inputs: ['hb2'], outputs: ['logits'], tensors: { weight: add('fc2.w', [4, 40], 0.1) } },
  ];
  t.push({ name: 'bn.v', shape: [8], data: uniform(8, r, 0.5, 2) });
  return {
    input: { channels: 2, length, sampleRate: 250 },
    classes: ['a', 'b', 'c', 'd'],
    outputActivation: 'sigmoid',
    graph: {
      inputs: [{ name: 'x', shape: [2, length], source: { kind: 'window' } }],
      outputs: ['logits'],
      nodes,
    },
    tensors: t,
  };
}

/** RR features of {@link beatRrSpec}'s `rr` input (de Chazal's normalised intervals). */
export const BEAT_RR_FEATURES = ['pre/local-1', 'post/local-1', 'local/record-1', 'pre/record-1'] as const;

/**
 * A two-input beat model: a conv trunk over the beat window `beat` `[1, length]` (conv → ReLU → max pool → conv
 * → global average pool), its features concatenated with the RR vector `rr` `[4]`, then two dense layers.
 */
export function beatRrSpec(seed = 7, length = 64, before = 24): ModelSpec {
  const r = rng(seed);
  const t: TensorSpec[] = [];
  const add = (name: string, shape: number[], scale = 0.4) => {
    t.push({
      name,
      shape,
      data: randn(
        shape.reduce((a, b) => a * b, 1),
        r,
        scale,
      ),
    });
    return name;
  };
  const nodes: NodeSpec[] = [
    {
      op: 'conv1d',
      inputs: ['beat'],
      outputs: ['c1'],
      attrs: { padding: 'same' },
      tensors: { weight: add('c1.w', [6, 1, 5]), bias: add('c1.b', [6]) },
    },
    { op: 'relu', inputs: ['c1'], outputs: ['r1'] },
    { op: 'maxPool1d', inputs: ['r1'], outputs: ['p1'], attrs: { kernelSize: 2 } },
    {
      op: 'conv1d',
      inputs: ['p1'],
      outputs: ['c2'],
      attrs: { stride: 2, padding: 1 },
      tensors: { weight: add('c2.w', [8, 6, 3]), bias: add('c2.b', [8]) },
    },
    { op: 'relu', inputs: ['c2'], outputs: ['r2'] },
    { op: 'globalAvgPool1d', inputs: ['r2'], outputs: ['g'] },
    { op: 'concat', inputs: ['g', 'rr'], outputs: ['feat'] },
    {
      op: 'linear',
      inputs: ['feat'],
      outputs: ['h'],
      tensors: { weight: add('fc1.w', [10, 12]), bias: add('fc1.b', [10]) },
    },
    { op: 'tanh', inputs: ['h'], outputs: ['ht'] },
    {
      op: 'linear',
      inputs: ['ht'],
      outputs: ['logits'],
      tensors: { weight: add('fc2.w', [3, 10]), bias: add('fc2.b', [3]) },
    },
  ];
  return {
    name: 'beat-rr-test',
    input: { channels: 1, length, sampleRate: 360 },
    classes: ['N', 'S', 'V'],
    outputActivation: 'softmax',
    preprocessing: { normalize: 'zscore' },
    windowing: { mode: 'beat', before },
    graph: {
      inputs: [
        { name: 'beat', shape: [1, length], source: { kind: 'window' } },
        {
          name: 'rr',
          shape: [BEAT_RR_FEATURES.length],
          source: { kind: 'rr', features: [...BEAT_RR_FEATURES], localHalfWidth: 5 },
        },
      ],
      outputs: ['logits', 'g'],
      nodes,
    },
    tensors: t,
    provenance: { note: 'test fixture, random weights' },
  };
}
