/**
 * ecgnn engines. Until @ecgnn/core's autograd backend is wired to the WASM kernels, `ecgnn-wasm`
 * and `ecgnn-ts` call the kernel functions directly (WASM SIMD vs TypeScript implementation of the
 * same interface); `ecgnn-infer` runs the inference graph (ECG CNN, binary/float conv) on the WASM
 * kernels with preallocated buffers.
 */
import { readFileSync } from 'node:fs';
import {
  BINARY,
  type CaseArrays,
  type CaseName,
  CONV1D,
  caseData,
  DEPTHWISE,
  type Engine,
  ecgPipeline,
  FLOAT_SAME,
  type Prepared,
} from './common.js';
import { createKernels, type Kernels, tsKernels } from './kernels.js';

function ecgnnVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../packages/infer/package.json', import.meta.url), 'utf8'));
  return `@ecgnn/infer ${pkg.version}`;
}

function kernelCase(k: Kernels, name: CaseName, batch: number): Prepared {
  const d = caseData(name, batch) as unknown as CaseArrays;
  const note = `${k.kind} kernel calls (core autograd backend not wired yet)`;
  switch (name) {
    case 'matmul-256': {
      const o = new Float32Array(256 * 256);
      return { run: () => k.matmul(d.a, d.b, o, 1, 256, 256, 256, false, false), output: () => o, note };
    }
    case 'conv1d': {
      const o = new Float32Array(8 * 32 * 1000);
      return { run: () => k.conv1dForward(d.x, d.w, null, o, CONV1D), output: () => o, note };
    }
    case 'conv1d-backward-input': {
      const o = new Float32Array(d.x.length);
      return { run: () => k.conv1dBackwardInput(d.g, d.w, o, CONV1D), output: () => o, note };
    }
    case 'conv1d-backward-weight': {
      const o = new Float32Array(d.w.length);
      return { run: () => k.conv1dBackwardWeight(d.x, d.g, o, CONV1D), output: () => o, note };
    }
    case 'depthwise-conv1d': {
      const o = new Float32Array(8 * 32 * 1000);
      return { run: () => k.conv1dForward(d.x, d.w, null, o, DEPTHWISE), output: () => o, note };
    }
    case 'float-conv1d-same-shape': {
      const o = new Float32Array(64 * 1000);
      return {
        run: () => k.conv1dForward(d.x, d.w, null, o, FLOAT_SAME),
        output: () => o,
        note: `${k.kind} float conv`,
      };
    }
    case 'binary-conv1d': {
      const o = new Int32Array(64 * 1000);
      return {
        run: () => k.binaryConv1d(d.xw, d.ww, o, BINARY),
        output: () => o,
        note: `${k.kind} XOR/popcount on packed words (input already packed)`,
      };
    }
    case 'ecg-cnn-ref': {
      const f = ecgPipeline(k, batch);
      let out: Float32Array = new Float32Array(0);
      return {
        run: () => {
          out = f(d.x);
        },
        output: () => out,
        note: `${k.kind} kernels, batchnorm folded, fused bias+ReLU; pooling/head in TypeScript`,
      };
    }
  }
}

const KERNEL_CASES: CaseName[] = [
  'matmul-256',
  'conv1d',
  'depthwise-conv1d',
  'conv1d-backward-input',
  'conv1d-backward-weight',
];
const INFER_CASES: CaseName[] = ['ecg-cnn-ref', 'binary-conv1d', 'float-conv1d-same-shape'];

/** `ecgnn-wasm`, `ecgnn-ts` or `ecgnn-infer`. */
export function ecgnnEngine(name: 'ecgnn-wasm' | 'ecgnn-ts' | 'ecgnn-infer'): Engine {
  return {
    name,
    version: ecgnnVersion,
    supports: (c) =>
      name === 'ecgnn-infer'
        ? INFER_CASES.includes(c)
        : KERNEL_CASES.includes(c) || (name === 'ecgnn-ts' && c === 'ecg-cnn-ref'),
    async prepare(c, batch) {
      const k = name === 'ecgnn-ts' ? tsKernels : createKernels();
      if (name !== 'ecgnn-ts' && k.kind !== 'wasm-simd') throw new Error('WebAssembly SIMD unavailable');
      return kernelCase(k, c, batch);
    },
  };
}
