/**
 * ONNX Runtime engines: `ort-web` (onnxruntime-web, WebAssembly SIMD, 1 thread) and `ort-node`
 * (onnxruntime-node, native CPU provider, 1 intra-op and 1 inter-op thread). Models come from our
 * own ONNX writer (`writeOnnx` of @ecgnn/export). Each timed run is one `session.run` including the output copy.
 */
import { readFileSync } from 'node:fs';
import { type OnnxModel, writeOnnx } from '@ecgnn/export';
import {
  type CaseName,
  CONV1D,
  caseData,
  DEPTHWISE,
  ECG,
  type Engine,
  ecgFolded,
  type Prepared,
} from './common.js';

/** The ONNX model and input of a case. */
function modelFor(name: CaseName, batch: number): { model: OnnxModel; input: Float32Array; dims: number[] } {
  const d = caseData(name, batch) as unknown as Record<string, Float32Array>;
  switch (name) {
    case 'matmul-256':
      return {
        model: {
          nodes: [{ op: 'MatMul', inputs: ['x', 'b'], outputs: ['y'] }],
          initializers: [{ name: 'b', dims: [256, 256], data: d.b }],
          inputs: [{ name: 'x', dims: [256, 256] }],
          outputs: [{ name: 'y', dims: [256, 256] }],
        },
        input: d.a,
        dims: [256, 256],
      };
    case 'conv1d':
    case 'depthwise-conv1d': {
      const p = name === 'conv1d' ? CONV1D : DEPTHWISE;
      const padRight =
        (p.outLength - 1) * p.stride + (p.kernelSize - 1) * p.dilation + 1 - p.inLength - p.padLeft;
      return {
        model: {
          nodes: [
            {
              op: 'Conv',
              inputs: ['x', 'w'],
              outputs: ['y'],
              attributes: {
                kernel_shape: [p.kernelSize],
                pads: [p.padLeft, padRight],
                strides: [p.stride],
                dilations: [p.dilation],
                group: p.groups,
              },
            },
          ],
          initializers: [
            { name: 'w', dims: [p.outChannels, p.inChannels / p.groups, p.kernelSize], data: d.w },
          ],
          inputs: [{ name: 'x', dims: [p.batch, p.inChannels, p.inLength] }],
          outputs: [{ name: 'y', dims: [p.batch, p.outChannels, p.outLength] }],
        },
        input: d.x,
        dims: [p.batch, p.inChannels, p.inLength],
      };
    }
    case 'ecg-cnn-ref': {
      const f = ecgFolded();
      const conv = (
        x: string,
        w: string,
        b: string | null,
        y: string,
        k: number,
        pad: number,
        group = 1,
      ) => ({
        op: 'Conv',
        inputs: b ? [x, w, b] : [x, w],
        outputs: [y],
        attributes: { kernel_shape: [k], pads: [pad, pad], strides: [1], dilations: [1], group },
      });
      const pool = (x: string, y: string) => ({
        op: 'MaxPool',
        inputs: [x],
        outputs: [y],
        attributes: { kernel_shape: [2], strides: [2] },
      });
      return {
        model: {
          nodes: [
            conv('x', 'w1', 'b1', 'c1', ECG.k1, 3),
            { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
            pool('r1', 'p1'),
            conv('p1', 'w2', 'b2', 'c2', ECG.k2, 0),
            { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
            pool('r2', 'p2'),
            conv('p2', 'w3', null, 'c3', ECG.k3, 0, 32),
            conv('c3', 'w4', 'b4', 'c4', 1, 0),
            { op: 'Relu', inputs: ['c4'], outputs: ['r4'] },
            { op: 'GlobalAveragePool', inputs: ['r4'], outputs: ['g'] },
            { op: 'Flatten', inputs: ['g'], outputs: ['feat'], attributes: { axis: 1 } },
            { op: 'Gemm', inputs: ['feat', 'w5', 'b5'], outputs: ['logits'], attributes: { transB: 1 } },
            { op: 'Softmax', inputs: ['logits'], outputs: ['y'], attributes: { axis: 1 } },
          ],
          initializers: [
            { name: 'w1', dims: [16, 1, ECG.k1], data: f.w1 },
            { name: 'b1', dims: [16], data: f.b1 },
            { name: 'w2', dims: [32, 16, ECG.k2], data: f.w2 },
            { name: 'b2', dims: [32], data: f.b2 },
            { name: 'w3', dims: [32, 1, ECG.k3], data: f.w3 },
            { name: 'w4', dims: [64, 32, 1], data: f.w4 },
            { name: 'b4', dims: [64], data: f.b4 },
            { name: 'w5', dims: [5, 64], data: f.w5 },
            { name: 'b5', dims: [5], data: f.b5 },
          ],
          inputs: [{ name: 'x', dims: [batch, 1, ECG.length] }],
          outputs: [{ name: 'y', dims: [batch, 5] }],
        },
        input: d.x,
        dims: [batch, 1, ECG.length],
      };
    }
    default:
      throw new Error(`unsupported case ${name}`);
  }
}

interface OrtLike {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
  InferenceSession: {
    create(
      bytes: Uint8Array,
      options: Record<string, unknown>,
    ): Promise<{
      run(feeds: Record<string, unknown>): Promise<Record<string, { data: ArrayLike<number> }>>;
      release(): Promise<void>;
    }>;
  };
  env: { wasm: { numThreads?: number; simd?: boolean } };
}

/** `ort-web` or `ort-node`. */
export function ortEngine(kind: 'web' | 'node'): Engine {
  const pkg = kind === 'web' ? 'onnxruntime-web' : 'onnxruntime-node';
  const cases: CaseName[] = ['matmul-256', 'conv1d', 'depthwise-conv1d', 'ecg-cnn-ref'];
  return {
    name: `ort-${kind}`,
    version: () =>
      `${pkg} ${JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version}`,
    supports: (c) => cases.includes(c),
    async prepare(name, batch): Promise<Prepared> {
      const ort = (await import(pkg)) as unknown as OrtLike & { default?: OrtLike };
      const rt: OrtLike = ort.InferenceSession ? ort : (ort.default as OrtLike);
      let options: Record<string, unknown>;
      if (kind === 'web') {
        rt.env.wasm.numThreads = 1;
        options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
      } else {
        options = {
          executionProviders: ['cpu'],
          intraOpNumThreads: 1,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
        };
      }
      const { model, input, dims } = modelFor(name, batch);
      const session = await rt.InferenceSession.create(writeOnnx(model), options);
      const feeds = { x: new rt.Tensor('float32', input, dims) };
      let last: ArrayLike<number> = new Float32Array(0);
      return {
        run: async () => {
          const out = await session.run(feeds);
          last = out.y.data;
        },
        output: () => last,
        dispose: () => session.release(),
        note:
          kind === 'web'
            ? 'onnxruntime-web wasm EP, SIMD, numThreads 1'
            : 'onnxruntime-node CPU EP, intra/inter-op threads 1',
      };
    },
  };
}
