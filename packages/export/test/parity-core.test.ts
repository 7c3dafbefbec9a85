// Parity with @ecgnn/core, op by op: the same weights through @ecgnn/infer's runtime (one-op graphs written by
// hand) and through core's functional ops (float32 both). Float: relative error ≤ 1e-5 of the output's magnitude;
// binary conv: exactly equal dots. Each case names the core ops it calls: one that core does not export fails the
// case by name (never a skip). Moved here from @ecgnn/infer (which no longer depends on core for its tests); the
// module-level parity of every exporter emitter is in emitters.test.ts, binary.test.ts and onnx.test.ts.
import * as coreModule from '@ecgnn/core';
import {
  type LoadOptions,
  loadModel,
  type ModelSpec,
  type NodeSpec,
  saveModel,
  type TensorSpec,
} from '@ecgnn/infer';
import { beforeAll, describe, expect, it } from 'vitest';
import { method5Spec } from './fixtures.js';
import { randn, rng } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: dynamic lookup of ops that may not be exported yet
type Fn = (...args: any[]) => any;
const core = coreModule as unknown as Record<string, Fn | undefined>;
interface CT {
  data: ArrayLike<number>;
  shape: readonly number[];
}
const missing = (...names: string[]) => names.filter((n) => typeof core[n] !== 'function');
const t = (data: ArrayLike<number>, shape: number[]): CT =>
  core.tensor!(Float32Array.from(data), shape, { dtype: 'float32' });

function close(got: ArrayLike<number>, want: ArrayLike<number>, rel = 1e-5): void {
  expect(got.length).toBe(want.length);
  let scale = 1e-12;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
  expect(err / scale).toBeLessThanOrEqual(rel);
}

/** Kernel set of the infer runtime for the cases being run (each describe block below sets it). */
let loadOpts: LoadOptions = {};

/** Run a one-op infer model on x [C, L]; returns the flattened output. */
function inferOp(
  inShape: [number, number],
  nodes: NodeSpec[],
  tensors: TensorSpec[],
  outSize: number,
  x: Float32Array,
): Float32Array {
  const spec: ModelSpec = {
    input: { channels: inShape[0], length: inShape[1], sampleRate: 100 },
    classes: Array.from({ length: outSize }, (_, i) => `o${i}`),
    outputActivation: 'none',
    graph: {
      inputs: [{ name: 'x', shape: [...inShape], source: { kind: 'window' } }],
      outputs: ['out'],
      nodes: [...nodes, { op: 'flatten', inputs: ['y'], outputs: ['out'] }],
    },
    tensors,
  };
  return loadModel(saveModel(spec), loadOpts).logits(x);
}

const r = rng(1234);
const W = (name: string, shape: number[], scale = 0.5, extra: Partial<TensorSpec> = {}): TensorSpec => ({
  name,
  shape,
  data: randn(
    shape.reduce((a, b) => a * b, 1),
    r,
    scale,
  ),
  ...extra,
});
const td = (s: TensorSpec) => s.data as Float32Array;

interface CoreCase {
  name: string;
  needs: string[];
  run: () => void;
}

const cases: CoreCase[] = [
  {
    name: 'conv1d: stride 2, padding [3, 1] with value 0.25, dilation 2, groups 2, bias',
    needs: ['tensor', 'conv1d'],
    run: () => {
      const w = W('w', [6, 2, 5]);
      const b = W('b', [6]);
      const x = randn(4 * 40, r);
      const attrs = {
        stride: 2,
        padding: [3, 1] as [number, number],
        dilation: 2,
        groups: 2,
        padValue: 0.25,
      };
      const want = core.conv1d!(t(x, [1, 4, 40]), t(td(w), w.shape), t(td(b), b.shape), attrs) as CT;
      const got = inferOp(
        [4, 40],
        [{ op: 'conv1d', inputs: ['x'], outputs: ['y'], attrs, tensors: { weight: 'w', bias: 'b' } }],
        [w, b],
        want.data.length,
        x,
      );
      close(got, want.data);
    },
  },
  {
    name: 'depthwise conv1d, padding same',
    needs: ['tensor', 'conv1d'],
    run: () => {
      const w = W('w', [8, 1, 7]);
      const x = randn(8 * 33, r);
      const want = core.conv1d!(t(x, [1, 8, 33]), t(td(w), w.shape), null, {
        groups: 8,
        padding: 'same',
      }) as CT;
      const got = inferOp(
        [8, 33],
        [
          {
            op: 'conv1d',
            inputs: ['x'],
            outputs: ['y'],
            attrs: { groups: 8, padding: 'same' },
            tensors: { weight: 'w' },
          },
        ],
        [w],
        want.data.length,
        x,
      );
      close(got, want.data);
    },
  },
  {
    name: 'maxPool1d / avgPool1d with padding',
    needs: ['tensor', 'maxPool1d', 'avgPool1d'],
    run: () => {
      const x = randn(3 * 31, r);
      const m = core.maxPool1d!(t(x, [1, 3, 31]), 3, { stride: 2, padding: 1 }) as CT;
      close(
        inferOp(
          [3, 31],
          [
            {
              op: 'maxPool1d',
              inputs: ['x'],
              outputs: ['y'],
              attrs: { kernelSize: 3, stride: 2, padding: 1 },
            },
          ],
          [],
          m.data.length,
          x,
        ),
        m.data,
      );
      const a = core.avgPool1d!(t(x, [1, 3, 31]), 4, { stride: 3, padding: 2 }) as CT;
      close(
        inferOp(
          [3, 31],
          [
            {
              op: 'avgPool1d',
              inputs: ['x'],
              outputs: ['y'],
              attrs: { kernelSize: 4, stride: 3, padding: 2 },
            },
          ],
          [],
          a.data.length,
          x,
        ),
        a.data,
      );
    },
  },
  {
    name: 'batchNorm (eval)',
    needs: ['tensor', 'batchNorm'],
    run: () => {
      const [m, g, b] = [W('m', [5]), W('g', [5]), W('b', [5])];
      const v: TensorSpec = {
        name: 'v',
        shape: [5],
        data: Float32Array.from({ length: 5 }, () => 0.5 + r()),
      };
      const x = randn(5 * 20, r);
      const want = core.batchNorm!(
        t(x, [1, 5, 20]),
        t(td(m), [5]),
        t(td(v), [5]),
        t(td(g), [5]),
        t(td(b), [5]),
        { training: false, eps: 1e-3 },
      ) as CT;
      const node: NodeSpec = {
        op: 'batchNorm',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { eps: 1e-3 },
        tensors: { mean: 'm', var: 'v', weight: 'g', bias: 'b' },
      };
      close(inferOp([5, 20], [node], [m, v, g, b], 100, x), want.data);
    },
  },
  {
    name: 'prelu, relu, leakyRelu, sigmoid, tanh',
    needs: ['tensor', 'prelu', 'relu', 'leakyRelu', 'sigmoid', 'tanh'],
    run: () => {
      const a = W('a', [4]);
      const x = randn(4 * 16, r);
      const X = () => t(x, [1, 4, 16]);
      close(
        inferOp(
          [4, 16],
          [{ op: 'prelu', inputs: ['x'], outputs: ['y'], tensors: { weight: 'a' } }],
          [a],
          64,
          x,
        ),
        (core.prelu!(X(), t(td(a), [4])) as CT).data,
      );
      close(
        inferOp([4, 16], [{ op: 'relu', inputs: ['x'], outputs: ['y'] }], [], 64, x),
        (core.relu!(X()) as CT).data,
      );
      close(
        inferOp(
          [4, 16],
          [{ op: 'leakyRelu', inputs: ['x'], outputs: ['y'], attrs: { negativeSlope: 0.2 } }],
          [],
          64,
          x,
        ),
        (core.leakyRelu!(X(), 0.2) as CT).data,
      );
      close(
        inferOp([4, 16], [{ op: 'sigmoid', inputs: ['x'], outputs: ['y'] }], [], 64, x),
        (core.sigmoid!(X()) as CT).data,
      );
      close(
        inferOp([4, 16], [{ op: 'tanh', inputs: ['x'], outputs: ['y'] }], [], 64, x),
        (core.tanh!(X()) as CT).data,
      );
    },
  },
  {
    name: 'softmax over channels',
    needs: ['tensor', 'softmax'],
    run: () => {
      const x = randn(5 * 9, r, 3);
      close(
        inferOp([5, 9], [{ op: 'softmax', inputs: ['x'], outputs: ['y'] }], [], 45, x),
        (core.softmax!(t(x, [1, 5, 9]), 1) as CT).data,
      );
    },
  },
  {
    name: 'linear, global average pooling, sum over time',
    needs: ['tensor', 'linear', 'globalAvgPool1d', 'sum'],
    run: () => {
      const w = W('w', [7, 6]);
      const b = W('b', [7]);
      const x = randn(6 * 11, r);
      const gap = core.globalAvgPool1d!(t(x, [1, 6, 11])) as CT;
      close(inferOp([6, 11], [{ op: 'globalAvgPool1d', inputs: ['x'], outputs: ['y'] }], [], 6, x), gap.data);
      const sot = core.sum!(t(x, [1, 6, 11]), 2) as CT;
      close(inferOp([6, 11], [{ op: 'sumOverTime', inputs: ['x'], outputs: ['y'] }], [], 6, x), sot.data);
      const lin = core.linear!(t(gap.data, [1, 6]), t(td(w), [7, 6]), t(td(b), [7])) as CT;
      const nodes: NodeSpec[] = [
        { op: 'globalAvgPool1d', inputs: ['x'], outputs: ['g'] },
        { op: 'linear', inputs: ['g'], outputs: ['y'], tensors: { weight: 'w', bias: 'b' } },
      ];
      close(inferOp([6, 11], nodes, [w, b], 7, x), lin.data);
    },
  },
  {
    name: 'squeeze-excitation via mean → linear → relu → linear → sigmoid → mul; global max pooling',
    needs: ['tensor', 'mean', 'linear', 'relu', 'sigmoid', 'mul', 'reshape', 'max'],
    run: () => {
      const [w1, b1, w2, b2] = [W('w1', [3, 8]), W('b1', [3]), W('w2', [8, 3]), W('b2', [8])];
      const x = randn(8 * 21, r);
      const X = t(x, [8, 21]);
      const z = core.reshape!(core.mean!(X, 1), [1, 8]);
      const h = core.relu!(core.linear!(z, t(td(w1), [3, 8]), t(td(b1), [3])));
      const g = core.sigmoid!(core.linear!(h, t(td(w2), [8, 3]), t(td(b2), [8])));
      const want = core.mul!(X, core.reshape!(g, [8, 1])) as CT;
      const node: NodeSpec = {
        op: 'squeezeExcitation',
        inputs: ['x'],
        outputs: ['y'],
        tensors: { w1: 'w1', b1: 'b1', w2: 'w2', b2: 'b2' },
      };
      close(inferOp([8, 21], [node], [w1, b1, w2, b2], 168, x), want.data);
      const gmp = core.max!(X, 1) as CT;
      close(inferOp([8, 21], [{ op: 'globalMaxPool1d', inputs: ['x'], outputs: ['y'] }], [], 8, x), gmp.data);
    },
  },
  {
    name: 'binary dense: sign → linear with ±1 weights — exactly equal',
    needs: ['tensor', 'linear', 'sign'],
    run: () => {
      const w = W('w', [11, 70], 1, { dtype: 'bits' });
      const x = randn(70, r);
      const want = core.linear!(core.sign!(t(x, [1, 70])), core.sign!(t(td(w), [11, 70]))) as CT;
      const nodes: NodeSpec[] = [
        { op: 'flatten', inputs: ['x'], outputs: ['f'] },
        { op: 'sign', inputs: ['f'], outputs: ['s'] },
        { op: 'binaryLinear', inputs: ['s'], outputs: ['y'], tensors: { weight: 'w' } },
      ];
      expect(Array.from(inferOp([70, 1], nodes, [w], 11, x))).toEqual(Array.from(want.data));
    },
  },
  {
    name: 'attention (causal) via scaledDotProductAttention on linear projections',
    needs: ['tensor', 'linear', 'transpose', 'scaledDotProductAttention'],
    run: () => {
      const [wq, wk, wv, bq] = [W('q', [4, 6]), W('k', [4, 6]), W('v', [5, 6]), W('bq', [4])];
      const x = randn(6 * 12, r);
      const xT = core.transpose!(t(x, [6, 12]), 0, 1);
      const q = core.linear!(xT, t(td(wq), [4, 6]), t(td(bq), [4]));
      const k = core.linear!(xT, t(td(wk), [4, 6]));
      const v = core.linear!(xT, t(td(wv), [5, 6]));
      const a = core.transpose!(core.scaledDotProductAttention!(q, k, v, { isCausal: true }), 0, 1) as CT;
      const node: NodeSpec = {
        op: 'attention',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { causal: true },
        tensors: { wq: 'q', wk: 'k', wv: 'v', bq: 'bq' },
      };
      const got = inferOp([6, 12], [node], [wq, wk, wv, bq], 60, x);
      // transpose may return a strided view: read it in logical order through contiguous data if provided.
      const want = (core.contiguous ? (core.contiguous(a) as CT) : a).data;
      close(got, want);
    },
  },
  {
    name: 'binary conv: sign → conv1d with ±1 weights, pad +1 — dots exactly equal',
    needs: ['tensor', 'conv1d', 'sign'],
    run: () => {
      const w = W('w', [9, 40, 7], 1, { dtype: 'bits' });
      const x = randn(40 * 30, r);
      const xs = core.sign!(t(x, [1, 40, 30]));
      const ws = core.sign!(t(td(w), [9, 40, 7]));
      const want = core.conv1d!(xs, ws, null, { padding: 3, padValue: 1, stride: 2 }) as CT;
      const nodes: NodeSpec[] = [
        { op: 'sign', inputs: ['x'], outputs: ['s'] },
        {
          op: 'binaryConv1d',
          inputs: ['s'],
          outputs: ['y'],
          attrs: { padding: 3, padValue: 1, stride: 2 },
          tensors: { weight: 'w' },
        },
      ];
      expect(Array.from(inferOp([40, 30], nodes, [w], want.data.length, x))).toEqual(Array.from(want.data));
    },
  },
  {
    name: 'method 5 binary network end to end (logits)',
    needs: ['tensor', 'conv1d', 'maxPool1d', 'prelu', 'batchNorm', 'sign', 'sum'],
    run: () => {
      const spec = method5Spec({ seed: 23, length: 3600 });
      const byName = new Map(spec.tensors.map((s) => [s.name, s]));
      const T = (n: string) => {
        const s = byName.get(n)!;
        return t(s.data, s.shape);
      };
      const x = randn(3600, rng(3));
      let h: unknown = t(x, [1, 1, 3600]);
      for (let b = 1; b <= 6; b++) {
        const p = `b${b}`;
        const w = core.sign!(T(`${p}.w`));
        h = core.conv1d!(b === 1 ? h : core.sign!(h), w, null, {
          stride: b === 1 ? 2 : 1,
          padding: 5,
          padValue: 1,
        });
        h = core.maxPool1d!(h, 7, { stride: 2 });
        h = core.prelu!(h, T(`${p}.prelu`));
        h = core.batchNorm!(h, T(`${p}.mean`), T(`${p}.var`), T(`${p}.gamma`), T(`${p}.beta`), {
          training: false,
          eps: 1e-5,
        });
      }
      const logits = core.sum!(h, 2) as CT;
      close(loadModel(saveModel(spec), loadOpts).logits(x), logits.data);
    },
  },
];

describe.each(['wasm', 'typescript'] as const)('parity with @ecgnn/core (infer on %s kernels)', (mode) => {
  beforeAll(() => {
    loadOpts = { kernels: mode };
  });
  for (const c of cases) {
    it(c.name, () => {
      expect(missing(...c.needs), '@ecgnn/core ops this case calls').toEqual([]);
      c.run();
    });
  }
});
