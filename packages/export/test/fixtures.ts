// The method 5 binary network as a hand-written @ecgnn/infer spec (copied from @ecgnn/infer's test fixtures, so
// that parity-core.test.ts, moved here, does not reach into another package's tests).
import type { ModelSpec, NodeSpec, TensorSpec } from '@ecgnn/infer';
import { randn, rng } from './helpers.js';

function uniform(n: number, r: () => number, lo: number, hi: number): Float32Array {
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
