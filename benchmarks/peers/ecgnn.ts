/**
 * ecgnn engines, each measuring a library through its public API only:
 *
 * - `ecgnn-wasm`: `@ecgnn/core` ops with `setBackend('wasm')` (WebAssembly SIMD kernels; operands copied into
 *   the kernel module's memory and the result out on every call).
 * - `ecgnn-ts`: the same `@ecgnn/core` calls with `setBackend('cpu')` (the TypeScript reference backend).
 * - `ecgnn-infer`: `@ecgnn/infer` models written with `saveModel(spec)`, read with `loadModel(bytes)` and run
 *   with `model.predict(...)` / `model.logits(...)`.
 * - `ecgnn-kernels`: for comparison only, the WebAssembly kernel functions of `@ecgnn/kernels/wasm` (a public
 *   subpath export) called directly into preallocated buffers — the floor under the two APIs above, showing how
 *   much of their time is API overhead (output allocation, copies, graph bookkeeping).
 *
 * Each timed run is one public call as an application would make it, including the output tensor's
 * allocation (core) or the per-window input/output copies of the model runtime (infer).
 */
import { readFileSync } from 'node:fs';
import { createWasmBackend, getBackend, setBackend } from '@ecgnn/core';
import { loadModel, type ModelSpec, saveModel, unpackConvWeights, unpackSigns } from '@ecgnn/infer';
import { getWasmKernels, type WasmKernels } from '@ecgnn/kernels/wasm';
import {
  BINARY,
  type CaseArrays,
  type CaseName,
  CONV1D,
  caseData,
  DEPTHWISE,
  ECG,
  type Engine,
  ecgFolded,
  FLOAT_SAME,
  type Prepared,
} from './common.js';
import { CORE_CASES, coreCase } from './core-case.js';

/** `@ecgnn/<pkg> <version>` from the package's package.json (the engine version of a row). */
export function version(pkg: 'core' | 'infer' | 'gpu'): string {
  const json = JSON.parse(
    readFileSync(new URL(`../../packages/${pkg}/package.json`, import.meta.url), 'utf8'),
  );
  return `@ecgnn/${pkg} ${json.version}`;
}

// ---------------------------------------------------------------------------------------------------------
// @ecgnn/infer (ecgnn-infer)

const INFER_CASES: CaseName[] = ['ecg-cnn-ref', 'binary-conv1d', 'float-conv1d-same-shape'];

const modelBase = {
  outputActivation: 'none' as const,
  provenance: { source: 'benchmarks/peers/ecgnn.ts (seeded weights)' },
};

/** The reference ECG CNN as an @ecgnn/infer model file (batchnorm folded into the convs, as an exporter does). */
function ecgModelSpec(): ModelSpec {
  const f = ecgFolded();
  const conv = (name: string, input: string, attrs: Record<string, unknown>, bias: boolean) => ({
    op: 'conv1d',
    inputs: [input],
    outputs: [name],
    attrs,
    tensors: bias ? { weight: `${name}.weight`, bias: `${name}.bias` } : { weight: `${name}.weight` },
  });
  const unary = (op: string, name: string, input: string, attrs?: Record<string, unknown>) => ({
    op,
    inputs: [input],
    outputs: [name],
    ...(attrs ? { attrs } : {}),
  });
  return {
    ...modelBase,
    name: 'ecg-cnn-ref',
    input: { channels: 1, length: ECG.length, sampleRate: 360 },
    classes: ['N', 'S', 'V', 'F', 'Q'],
    outputActivation: 'softmax',
    graph: {
      input: 'x',
      output: 'logits',
      nodes: [
        conv('conv1', 'x', { padding: 'same' }, true),
        unary('relu', 'relu1', 'conv1'),
        unary('maxPool1d', 'pool1', 'relu1', { kernelSize: 2 }),
        conv('conv2', 'pool1', {}, true),
        unary('relu', 'relu2', 'conv2'),
        unary('maxPool1d', 'pool2', 'relu2', { kernelSize: 2 }),
        conv('conv3', 'pool2', { groups: ECG.c2 }, false),
        conv('conv4', 'conv3', {}, true),
        unary('relu', 'relu4', 'conv4'),
        unary('globalAvgPool1d', 'gap', 'relu4'),
        {
          op: 'linear',
          inputs: ['gap'],
          outputs: ['logits'],
          tensors: { weight: 'dense.weight', bias: 'dense.bias' },
        },
      ],
    },
    tensors: [
      { name: 'conv1.weight', shape: [ECG.c1, 1, ECG.k1], data: f.w1 },
      { name: 'conv1.bias', shape: [ECG.c1], data: f.b1 },
      { name: 'conv2.weight', shape: [ECG.c2, ECG.c1, ECG.k2], data: f.w2 },
      { name: 'conv2.bias', shape: [ECG.c2], data: f.b2 },
      { name: 'conv3.weight', shape: [ECG.c2, 1, ECG.k3], data: f.w3 },
      { name: 'conv4.weight', shape: [ECG.c3, ECG.c2, 1], data: f.w4 },
      { name: 'conv4.bias', shape: [ECG.c3], data: f.b4 },
      { name: 'dense.weight', shape: [ECG.classes, ECG.c3], data: f.w5 },
      { name: 'dense.bias', shape: [ECG.classes], data: f.b5 },
    ],
  };
}

/**
 * One conv layer as a whole model: input `[C, L]` → (sign →) conv → flatten → `[O·L]` "logits". The graph
 * output must be a vector, hence the flatten and one class name per output value.
 */
function oneLayerSpec(binary: boolean, weight: Float32Array): ModelSpec {
  const p = binary ? BINARY : FLOAT_SAME;
  const n = p.outChannels * p.outLength;
  const nodes = [
    ...(binary ? [{ op: 'sign', inputs: ['x'], outputs: ['bits'] }] : []),
    {
      op: binary ? 'binaryConv1d' : 'conv1d',
      inputs: [binary ? 'bits' : 'x'],
      outputs: ['conv'],
      attrs: binary ? { padding: 'same', padValue: p.padValue } : { padding: 'same' },
      tensors: { weight: 'conv.weight' },
    },
    { op: 'flatten', inputs: ['conv'], outputs: ['out'] },
  ];
  return {
    ...modelBase,
    name: binary ? 'binary-conv1d' : 'float-conv1d-same-shape',
    input: { channels: p.inChannels, length: p.inLength, sampleRate: 360 },
    classes: Array.from({ length: n }, (_, i) => `y${i}`),
    graph: { input: 'x', output: 'out', nodes },
    tensors: [
      {
        name: 'conv.weight',
        shape: [p.outChannels, p.inChannels, p.kernelSize],
        data: weight,
        ...(binary ? { dtype: 'bits' as const } : {}),
      },
    ],
  };
}

function inferCase(name: CaseName, batch: number): Prepared {
  const load = (spec: ModelSpec) => {
    const model = loadModel(saveModel(spec), { kernels: 'wasm' });
    if (model.metadata.kernels !== 'wasm-simd') throw new Error('loadModel did not pick the WASM kernels');
    return model;
  };
  switch (name) {
    case 'ecg-cnn-ref': {
      const model = load(ecgModelSpec());
      const x = caseData('ecg-cnn-ref', batch).x as Float32Array;
      const out = new Float32Array(batch * ECG.classes);
      const shape = [batch, 1, ECG.length];
      return {
        run: () => {
          model.predict(x, shape, out);
        },
        output: () => out,
        note: `loadModel(saveModel(spec)) then predict(x, [${batch}, 1, 360], out); batchnorm folded; plan ${model.metadata.plan.join(' → ')}`,
      };
    }
    case 'float-conv1d-same-shape': {
      const d = caseData(name, batch) as unknown as CaseArrays;
      const model = load(oneLayerSpec(false, d.w));
      const out = new Float32Array(FLOAT_SAME.outChannels * FLOAT_SAME.outLength);
      return {
        run: () => {
          model.logits(d.x, out);
        },
        output: () => out,
        note: 'one-layer float model (conv1d → flatten) via loadModel + logits(x, out); includes the runtime’s input/output copies',
      };
    }
    case 'binary-conv1d': {
      const d = caseData(name, batch) as unknown as CaseArrays;
      const p = BINARY;
      // The case's packed words as ±1 floats: input [L][C] → [C, L] (NCL), weight [O, C, K].
      const xt = unpackSigns(d.xw, p.inChannels, p.inLength);
      const x = new Float32Array(p.inChannels * p.inLength);
      for (let t = 0; t < p.inLength; t++)
        for (let c = 0; c < p.inChannels; c++) x[c * p.inLength + t] = xt[t * p.inChannels + c];
      const w = unpackConvWeights(d.ww, p.outChannels, p.inChannels, p.kernelSize);
      const model = load(oneLayerSpec(true, w));
      const out = new Float32Array(p.outChannels * p.outLength);
      return {
        run: () => {
          model.logits(x, out);
        },
        output: () => out,
        note: 'one-layer binary model (sign → binaryConv1d, +1 padding → flatten) via loadModel + logits(x, out); includes sign-packing the float input and the runtime’s copies',
      };
    }
    default:
      throw new Error(`case ${name} is not run on @ecgnn/infer`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Raw WASM kernels of @ecgnn/kernels/wasm (ecgnn-kernels)

const KERNEL_CASES: CaseName[] = [
  'matmul-256',
  'conv1d',
  'depthwise-conv1d',
  'conv1d-backward-input',
  'conv1d-backward-weight',
  'binary-conv1d',
  'float-conv1d-same-shape',
];

function kernelCase(k: WasmKernels, name: CaseName, batch: number): Prepared {
  const d = caseData(name, batch) as unknown as CaseArrays;
  const note = 'WASM kernel function of @ecgnn/kernels/wasm into a preallocated buffer (no API around it)';
  switch (name) {
    case 'matmul-256': {
      const o = new Float32Array(256 * 256);
      const p = { batch: 1, m: 256, k: 256, n: 256, transA: false, transB: false };
      return { run: () => k.matmul(d.a, d.b, o, p), output: () => o, note };
    }
    case 'conv1d':
    case 'depthwise-conv1d':
    case 'float-conv1d-same-shape': {
      const p = name === 'conv1d' ? CONV1D : name === 'depthwise-conv1d' ? DEPTHWISE : FLOAT_SAME;
      const o = new Float32Array(p.batch * p.outChannels * p.outLength);
      return { run: () => k.conv1dForward(d.x, d.w, null, o, p), output: () => o, note };
    }
    case 'conv1d-backward-input': {
      const o = new Float32Array(d.x.length);
      return { run: () => k.conv1dBackwardInput(d.g, d.w, o, CONV1D), output: () => o, note };
    }
    case 'conv1d-backward-weight': {
      const o = new Float32Array(d.w.length);
      return { run: () => k.conv1dBackwardWeight(d.x, d.g, o, CONV1D), output: () => o, note };
    }
    case 'binary-conv1d': {
      const o = new Int32Array(BINARY.outChannels * BINARY.outLength);
      return {
        run: () => k.binaryConv1d(d.xw, d.ww, o, BINARY),
        output: () => o,
        note: `${note}; input already packed`,
      };
    }
    default:
      throw new Error(`case ${name} has no single kernel`);
  }
}

/** `ecgnn-wasm`, `ecgnn-ts`, `ecgnn-infer` or `ecgnn-kernels`. */
export function ecgnnEngine(name: 'ecgnn-wasm' | 'ecgnn-ts' | 'ecgnn-infer' | 'ecgnn-kernels'): Engine {
  const infer = name === 'ecgnn-infer';
  const raw = name === 'ecgnn-kernels';
  return {
    name,
    version: () => version(infer || raw ? 'infer' : 'core'),
    supports: (c) => (infer ? INFER_CASES : raw ? KERNEL_CASES : CORE_CASES).includes(c),
    async prepare(c, batch, threads) {
      if (infer) return inferCase(c, batch);
      if (raw) {
        const k = getWasmKernels();
        if (k === null) throw new Error('WebAssembly SIMD unavailable');
        return kernelCase(k, c, batch);
      }
      if (threads > 1) {
        if (name !== 'ecgnn-wasm') throw new Error(`${name} has no threaded mode`);
        const b = createWasmBackend({ threads });
        if (b === null) throw new Error('WebAssembly SIMD unavailable');
        setBackend(b);
        return coreCase(
          c,
          batch,
          `@ecgnn/core, createWasmBackend({ threads: ${threads} }) (large kernels split by rows over ${threads} threads: the caller + ${threads - 1} worker)`,
        );
      }
      // setBackend('wasm') throws where the engine has no WebAssembly SIMD: the row then reports the error.
      setBackend(name === 'ecgnn-wasm' ? 'wasm' : 'cpu');
      return coreCase(c, batch, `@ecgnn/core, backend '${getBackend().name}'`);
    },
  };
}
