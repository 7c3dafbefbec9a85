/**
 * The `@ecgnn/core` cases of the ecgnn engines (`ecgnn-wasm`, `ecgnn-ts`, peers/ecgnn.ts) and of the gpu.js engines
 * (peers/ecgnn-gpu.ts, peers/ecgnn-gpu-browser.ts): each case as public core calls on the current backend. No Node
 * API here: the browser engines bundle this file into their page.
 */
import {
  backward,
  batchNorm,
  conv1d,
  globalAvgPool1d,
  linear,
  matmul,
  maxPool1d,
  noGrad,
  relu,
  softmax,
  type Tensor,
  tensor,
  tidy,
} from '@ecgnn/core';
import {
  type CaseArrays,
  type CaseName,
  CONV1D,
  caseData,
  DEPTHWISE,
  ECG,
  ecgWeights,
  type Prepared,
} from './common.js';
import { coreTrainCase } from './train.js';

/** Cases of the `@ecgnn/core` engines. */
export const CORE_CASES: CaseName[] = [
  'matmul-256',
  'conv1d',
  'depthwise-conv1d',
  'conv1d-backward-input',
  'conv1d-backward-weight',
  'ecg-cnn-ref',
  'train-step',
  'train-step-teacher',
];

/** The ECG CNN in @ecgnn/core functional ops, eval mode (running batchnorm statistics), no autograd graph. */
function coreEcgCnn(batch: number): () => Tensor {
  const w = ecgWeights();
  const t = (a: Float32Array, shape: number[]) => tensor(a, shape);
  const w1 = t(w.w1, [ECG.c1, 1, ECG.k1]);
  const w2 = t(w.w2, [ECG.c2, ECG.c1, ECG.k2]);
  const w3 = t(w.w3, [ECG.c2, 1, ECG.k3]);
  const w4 = t(w.w4, [ECG.c3, ECG.c2, 1]);
  const b4 = t(w.b4, [ECG.c3]);
  const w5 = t(w.w5, [ECG.classes, ECG.c3]);
  const b5 = t(w.b5, [ECG.classes]);
  const bn = (p: typeof w.bn1, c: number) => ({
    mean: t(p.mean, [c]),
    variance: t(p.variance, [c]),
    gamma: t(p.gamma, [c]),
    beta: t(p.beta, [c]),
  });
  const bn1 = bn(w.bn1, ECG.c1);
  const bn2 = bn(w.bn2, ECG.c2);
  const x = t(caseData('ecg-cnn-ref', batch).x as Float32Array, [batch, 1, ECG.length]);
  const eval_ = { training: false, eps: ECG.eps };
  return () =>
    noGrad(() => {
      let y = conv1d(x, w1, null, { padding: 'same' });
      y = relu(batchNorm(y, bn1.mean, bn1.variance, bn1.gamma, bn1.beta, eval_));
      y = maxPool1d(y, 2);
      y = conv1d(y, w2, null);
      y = relu(batchNorm(y, bn2.mean, bn2.variance, bn2.gamma, bn2.beta, eval_));
      y = maxPool1d(y, 2);
      y = conv1d(y, w3, null, { groups: ECG.c2 });
      y = relu(conv1d(y, w4, b4));
      return softmax(linear(globalAvgPool1d(y), w5, b5), -1);
    });
}

/**
 * A case on `@ecgnn/core`'s public ops with the current backend (ecgnn-wasm, ecgnn-ts, and the gpu.js engines of
 * ecgnn-gpu.ts); `backendNote` opens the row's note.
 */
export function coreCase(name: CaseName, batch: number, backendNote: string): Prepared {
  if (name === 'train-step' || name === 'train-step-teacher') return coreTrainCase(name, batch, backendNote);
  const d = caseData(name, batch) as unknown as CaseArrays;
  let out: Tensor | null = null;
  const output = () => (out as Tensor).data;
  switch (name) {
    case 'matmul-256': {
      const a = tensor(d.a, [256, 256]);
      const b = tensor(d.b, [256, 256]);
      return {
        run: () => {
          out?.dispose(); // as an application loop does: the previous result's storage is reused
          out = matmul(a, b);
        },
        output,
        note: `${backendNote}: matmul(a, b) on tensors; the previous output disposed before each call`,
      };
    }
    case 'conv1d':
    case 'depthwise-conv1d': {
      const p = name === 'conv1d' ? CONV1D : DEPTHWISE;
      const x = tensor(d.x, [p.batch, p.inChannels, p.inLength]);
      const w = tensor(d.w, [p.outChannels, p.inChannels / p.groups, p.kernelSize]);
      return {
        run: () => {
          out?.dispose();
          out = conv1d(x, w, null, { padding: 'same', groups: p.groups });
        },
        output,
        note: `${backendNote}: conv1d(x, w, null, { padding: 'same'${p.groups > 1 ? `, groups: ${p.groups}` : ''} }), no grad; the previous output disposed before each call`,
      };
    }
    case 'conv1d-backward-input':
    case 'conv1d-backward-weight': {
      const p = CONV1D;
      const wantInput = name === 'conv1d-backward-input';
      const x = tensor(d.x, [p.batch, p.inChannels, p.inLength], { requiresGrad: wantInput });
      const w = tensor(d.w, [p.outChannels, p.inChannels, p.kernelSize], { requiresGrad: !wantInput });
      const g = tensor(d.g, [p.batch, p.outChannels, p.outLength]);
      // The forward graph is built once; each timed run is one backward() through it (retained), so it times
      // the conv1d vjp for the one input that requires grad plus autograd's seed/gradient copies.
      const y = conv1d(x, w, null, { padding: 'same' });
      const leaf = wantInput ? x : w;
      return {
        run: () => {
          leaf.grad?.dispose(); // storage recycled for the next gradient, as a training loop would
          leaf.grad = null;
          backward(y, g, { retainGraph: true });
        },
        output: () => (leaf.grad as Tensor).data,
        note: `${backendNote}: backward(y, g, { retainGraph: true }) of y = conv1d(x, w) with only ${
          wantInput ? 'x' : 'w'
        } requiring grad (forward not timed); the previous .grad disposed first`,
      };
    }
    case 'ecg-cnn-ref': {
      const f = coreEcgCnn(batch);
      return {
        run: () => {
          out?.dispose();
          out = tidy(f); // intermediates disposed, their storage reused by the next call
        },
        output,
        note: `${backendNote}: functional ops under noGrad and tidy(), batchnorm in eval mode (not folded); the previous output disposed before each call`,
      };
    }
    default:
      throw new Error(`case ${name} is not run on @ecgnn/core`);
  }
}
