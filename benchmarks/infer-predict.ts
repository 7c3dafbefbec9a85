// Benchmark: end-to-end `predict` latency of @ecgnn/infer models, batch 1, single thread, in both kernel sets
// (`loadModel(bytes, { kernels: 'wasm' | 'typescript' })`):
//  - the method 5 binary network (Pu et al. 2023: 1→8→16→32→32→64→5 channels, kernel 7, 3600-sample window,
//    random weights), fused (block 1's float conv → maxpool → PReLU → BN → sign folded into float thresholds,
//    each binary conv → maxpool → PReLU → BN → sign into integer thresholds, packed activations) and the same
//    graph kept unfused (float epilogue then sign), and its float twin;
//  - the float reference ECG CNN of the benchmark suite (`ecg-cnn-ref`, issue #15: 1×360 input, conv 1→16 k7 +
//    ReLU, maxpool 2, conv 16→32 k5 + ReLU, maxpool 2, depthwise k5, pointwise 32→64 + ReLU, global average
//    pool, dense 64→5, softmax; batchnorm folded at export), built as a model file from the suite's seeded weights
//    and checked against the suite's TypeScript reference before timing.
// Medians of interleaved rounds (every model × kernel set timed once per round, same background load).
// Run: pnpm exec tsx --conditions=@ecgnn/source benchmarks/infer-predict.ts [--quick]
import os from 'node:os';
import {
  loadModel,
  type Model,
  type ModelSpec,
  type NodeSpec,
  saveModel,
  type TensorSpec,
} from '@ecgnn/infer';
import { ECG, ecgFolded, ecgReference, relativeError, seeded } from './peers/common.js';

const quick = process.argv.includes('--quick');

let seed = 1;
function rnd(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
const vec = (n: number, lo: number, hi: number) =>
  Float32Array.from({ length: n }, () => lo + (hi - lo) * rnd());

/**
 * The method 5 network: `fused` and `unfused` binary (see above), or its full-precision twin `float` (the same
 * layers with float weights and float activations: conv1d everywhere, no sign), the baseline of issue #23's
 * "binary ≥ 5× faster than its float twin".
 */
function method5(variant: 'fused' | 'unfused' | 'float'): ModelSpec {
  const fused = variant === 'fused';
  const float = variant === 'float';
  seed = 1; // same weights for every variant
  const ch = [1, 8, 16, 32, 32, 64, 5];
  const nodes: NodeSpec[] = [];
  const tensors: TensorSpec[] = [];
  let prev = 'x';
  for (let b = 0; b < 6; b++) {
    const [cin, cout] = [ch[b], ch[b + 1]];
    const p = `b${b}`;
    tensors.push(
      float
        ? { name: `${p}.w`, shape: [cout, cin, 7], data: vec(cout * cin * 7, -0.3, 0.3) }
        : { name: `${p}.w`, shape: [cout, cin, 7], data: vec(cout * cin * 7, -1, 1), dtype: 'bits' },
      { name: `${p}.a`, shape: [cout], data: vec(cout, 0.05, 0.4) },
      { name: `${p}.m`, shape: [cout], data: vec(cout, -3, 3) },
      { name: `${p}.v`, shape: [cout], data: vec(cout, 1, 20) },
      { name: `${p}.g`, shape: [cout], data: vec(cout, -1, 1) },
      { name: `${p}.b`, shape: [cout], data: vec(cout, -0.3, 0.3) },
    );
    if (b === 0 || float) {
      nodes.push({
        op: 'conv1d',
        inputs: [prev],
        outputs: [`${p}.c`],
        attrs: b === 0 ? { stride: 2, padding: 5, padValue: 1 } : { padding: 5, padValue: 1 },
        tensors: { weight: `${p}.w` },
      });
    } else {
      nodes.push({ op: 'sign', inputs: [prev], outputs: [`${p}.s`] });
      // Unfused variant: a second consumer of the BN output blocks the fusion pattern.
      if (!fused) nodes.push({ op: 'identity', inputs: [prev], outputs: [`${p}.keep`] });
      nodes.push({
        op: 'binaryConv1d',
        inputs: [`${p}.s`],
        outputs: [`${p}.c`],
        attrs: { padding: 5, padValue: 1 },
        tensors: { weight: `${p}.w` },
      });
    }
    nodes.push(
      { op: 'maxPool1d', inputs: [`${p}.c`], outputs: [`${p}.p`], attrs: { kernelSize: 7, stride: 2 } },
      { op: 'prelu', inputs: [`${p}.p`], outputs: [`${p}.r`], tensors: { weight: `${p}.a` } },
      {
        op: 'batchNorm',
        inputs: [`${p}.r`],
        outputs: [`${p}.n`],
        tensors: { mean: `${p}.m`, var: `${p}.v`, weight: `${p}.g`, bias: `${p}.b` },
      },
    );
    prev = `${p}.n`;
  }
  nodes.push({ op: 'sumOverTime', inputs: [prev], outputs: ['logits'] });
  return {
    input: { channels: 1, length: 3600, sampleRate: 360 },
    classes: ['N', 'S', 'V', 'F', 'Q'],
    outputActivation: 'softmax',
    graph: { input: 'x', output: 'logits', nodes },
    tensors,
  };
}

/** The suite's reference ECG CNN as a model file (batchnorm folded into the convs, as an exporter emits it). */
function ecgCnnRef(): ModelSpec {
  const f = ecgFolded();
  const conv = (i: string, o: string, w: string, attrs: NodeSpec['attrs'], bias?: string): NodeSpec => ({
    op: 'conv1d',
    inputs: [i],
    outputs: [o],
    attrs,
    tensors: bias ? { weight: w, bias } : { weight: w },
  });
  return {
    input: { channels: 1, length: ECG.length, sampleRate: 360 },
    classes: ['N', 'S', 'V', 'F', 'Q'],
    outputActivation: 'softmax',
    graph: {
      input: 'x',
      output: 'logits',
      nodes: [
        conv('x', 'c1', 'w1', { padding: 3 }, 'b1'),
        { op: 'relu', inputs: ['c1'], outputs: ['r1'] },
        { op: 'maxPool1d', inputs: ['r1'], outputs: ['p1'], attrs: { kernelSize: 2, stride: 2 } },
        conv('p1', 'c2', 'w2', {}, 'b2'),
        { op: 'relu', inputs: ['c2'], outputs: ['r2'] },
        { op: 'maxPool1d', inputs: ['r2'], outputs: ['p2'], attrs: { kernelSize: 2, stride: 2 } },
        conv('p2', 'c3', 'w3', { groups: 32 }),
        conv('c3', 'c4', 'w4', {}, 'b4'),
        { op: 'relu', inputs: ['c4'], outputs: ['r4'] },
        { op: 'globalAvgPool1d', inputs: ['r4'], outputs: ['g'] },
        { op: 'linear', inputs: ['g'], outputs: ['logits'], tensors: { weight: 'w5', bias: 'b5' } },
      ],
    },
    tensors: [
      { name: 'w1', shape: [16, 1, 7], data: f.w1 },
      { name: 'b1', shape: [16], data: f.b1 },
      { name: 'w2', shape: [32, 16, 5], data: f.w2 },
      { name: 'b2', shape: [32], data: f.b2 },
      { name: 'w3', shape: [32, 1, 5], data: f.w3 },
      { name: 'w4', shape: [64, 32, 1], data: f.w4 },
      { name: 'b4', shape: [64], data: f.b4 },
      { name: 'w5', shape: [5, 64], data: f.w5 },
      { name: 'b5', shape: [5], data: f.b5 },
    ],
  };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

const MODES = ['wasm', 'typescript'] as const;
const fusedBytes = saveModel(method5('fused'));
const plainBytes = saveModel(method5('unfused'));
const floatBytes = saveModel(method5('float'));
const ecgBytes = saveModel(ecgCnnRef());
const x5 = vec(3600, -2, 2);
const xe = seeded(ECG.length, 101);
const out = new Float32Array(5);

interface Bench {
  label: string;
  mode: (typeof MODES)[number];
  model: Model;
  x: Float32Array;
}
const benches: Bench[] = [];
for (const mode of MODES) {
  const fused = loadModel(fusedBytes, { kernels: mode });
  const plain = loadModel(plainBytes, { kernels: mode });
  const float = loadModel(floatBytes, { kernels: mode });
  const ecg = loadModel(ecgBytes, { kernels: mode });
  benches.push(
    { label: 'method 5, fused (packed; float and integer thresholds)', mode, model: fused, x: x5 },
    { label: 'method 5, unfused (float epilogue, then sign)', mode, model: plain, x: x5 },
    { label: 'method 5, float twin (float weights and activations)', mode, model: float, x: x5 },
    { label: 'ecg-cnn-ref (float CNN, 1×360)', mode, model: ecg, x: xe },
  );
}
// Checks before timing: binary logits identical across kernel sets and fusion; the float CNN matches the suite's
// TypeScript reference (float32 rounding only).
const ref5 = Array.from(benches[0].model.logits(x5));
for (const b of benches)
  if (b.x === x5 && !b.label.includes('float twin') && b.model.logits(x5).some((v, i) => v !== ref5[i]))
    throw new Error(`method 5 logits differ (${b.label}, ${b.mode})`);
const refEcg = ecgReference(xe, 1);
for (const b of benches.filter((q) => q.x === xe)) {
  const e = relativeError(b.model.predict(xe), refEcg);
  if (!(e < 1e-4)) throw new Error(`ecg-cnn-ref (${b.mode}) differs from the reference: ${e}`);
}

const fns = benches.map((b) => () => b.model.predict(b.x, undefined, out));
const inner = 50;
for (const f of fns) for (let i = 0; i < 3 * inner; i++) f();
const samples: number[][] = fns.map(() => []);
const reps = quick ? 7 : 25;
for (let r = 0; r < reps; r++) {
  fns.forEach((f, k) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) f();
    samples[k].push(Number(process.hrtime.bigint() - t0) / inner / 1e6);
  });
}
const t = samples.map(median);
console.log('# @ecgnn/infer predict latency, batch 1, 1 thread, both kernel sets');
console.log(
  `node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, load average ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')}`,
);
console.log(
  `command: pnpm exec tsx --conditions=@ecgnn/source benchmarks/infer-predict.ts${quick ? ' --quick' : ''}`,
);
console.log(
  `median of ${reps} interleaved rounds × ${inner} calls; method 5 file ${fusedBytes.length} bytes, ecg-cnn-ref file ${ecgBytes.length} bytes`,
);
for (const b of benches.filter(
  (q) =>
    (q.mode === 'wasm' && q.label.startsWith('method 5, fused')) ||
    (q.mode === 'wasm' && q.label.startsWith('ecg')),
))
  console.log(
    `plan (${b.label}): ${b.model.metadata.plan.map((p, i) => `${p} [${b.model.metadata.planKernels[i] === 'wasm-simd' ? 'wasm' : 'ts'}]`).join(', ')}`,
  );
console.log(
  '\n| model | typescript (ms / window) | wasm-simd (ms / window) | typescript ÷ wasm |\n|---|---|---|---|',
);
const n = benches.length / MODES.length;
for (let i = 0; i < n; i++) {
  const tw = t[i];
  const tt = t[n + i];
  console.log(`| ${benches[i].label} | ${tt.toFixed(3)} | ${tw.toFixed(3)} | ${(tt / tw).toFixed(1)}× |`);
}
// Issue #23: the binary network against its float twin, each kernel set (same interleaved rounds).
const at = (label: string, mode: (typeof MODES)[number]) =>
  t[benches.findIndex((b) => b.mode === mode && b.label.startsWith(label))];
for (const mode of MODES)
  console.log(
    `${mode}: method 5 binary (fused) ${(at('method 5, float twin', mode) / at('method 5, fused', mode)).toFixed(1)}× faster than its float twin`,
  );
