// Naive float64 reference evaluator of a ModelSpec, written from the formulas (no code shared with the runtime;
// convolution and pooling are the naive oracles of @ecgnn/kernels/testing).
// Packed-bit values are represented as ±1 floats. Used as the oracle for the runtime and kernel tests.
import { naiveAvgPool1d, naiveConv1dForward, naiveMaxPool1d } from '@ecgnn/kernels/testing';
import {
  fromFloat16Bits,
  type GraphSpec,
  type ModelSpec,
  type NodeSpec,
  toFloat16Bits,
} from '../src/index.js';

export interface RefTensor {
  shape: number[]; // [C, L] or [F]
  data: Float64Array;
}

const sgn = (v: number): number => (v < 0 ? -1 : 1);

/** Convolution of one `[C, L]` sample: the naive float64 oracle of `@ecgnn/kernels/testing`. */
export function refConv1d(
  x: RefTensor,
  w: ArrayLike<number>,
  wShape: number[],
  bias: ArrayLike<number> | null,
  o: {
    stride: number;
    padLeft: number;
    padRight: number;
    dilation: number;
    groups: number;
    padValue: number;
  },
): RefTensor {
  const [C, L] = x.shape;
  const [O, , K] = wShape;
  const Lout = Math.floor((L + o.padLeft + o.padRight - o.dilation * (K - 1) - 1) / o.stride) + 1;
  const data = naiveConv1dForward(x.data, w, bias, {
    batch: 1,
    inChannels: C,
    outChannels: O,
    inLength: L,
    outLength: Lout,
    kernelSize: K,
    stride: o.stride,
    dilation: o.dilation,
    padLeft: o.padLeft,
    groups: o.groups,
    padValue: o.padValue,
  });
  return { shape: [O, Lout], data };
}

/**
 * Max or average pooling of one `[C, L]` sample with symmetric padding `pad` (the average divides by K, padding
 * counted): the naive oracles of `@ecgnn/kernels/testing`.
 */
export function refPool(x: RefTensor, K: number, S: number, pad: number, kind: 'max' | 'avg'): RefTensor {
  const [C, L] = x.shape;
  const Lout = Math.floor((L + 2 * pad - K) / S) + 1;
  const p = {
    batch: 1,
    channels: C,
    inLength: L,
    outLength: Lout,
    kernelSize: K,
    stride: S,
    padLeft: pad,
    dilation: 1,
  };
  const data = kind === 'max' ? naiveMaxPool1d(x.data, p).out : naiveAvgPool1d(x.data, p, true);
  return { shape: [C, Lout], data };
}

function padOf(p: unknown, K: number, dil: number): [number, number] {
  if (p === undefined || p === 'valid') return [0, 0];
  if (p === 'same') {
    const tot = dil * (K - 1);
    return [Math.floor(tot / 2), tot - Math.floor(tot / 2)];
  }
  if (typeof p === 'number') return [p, p];
  return p as [number, number];
}

/** The graph of a spec in its version-2 form (named inputs and outputs). */
export function graphV2(spec: ModelSpec): GraphSpec {
  const g = spec.graph;
  if ('inputs' in g) return g;
  return {
    inputs: [{ name: g.input, shape: [spec.input.channels, spec.input.length], source: { kind: 'window' } }],
    outputs: [g.output],
    nodes: g.nodes,
  };
}

/**
 * Evaluate the graph of `spec` on one sample: `input` is the one input's values (single-input models) or the
 * values of each input by name; returns the first graph output (logits).
 */
export function refForward(
  spec: ModelSpec,
  input: ArrayLike<number> | Record<string, ArrayLike<number>>,
): Float64Array {
  const tensors = new Map(spec.tensors.map((t) => [t.name, t]));
  const vals = new Map<string, RefTensor>();
  const graph = graphV2(spec);
  for (const inp of graph.inputs) {
    const v = isArrayLike(input) ? input : input[inp.name];
    vals.set(inp.name, { shape: inp.shape.slice(), data: Float64Array.from(v) });
  }
  const T = (n: NodeSpec, role: string) => {
    const name = n.tensors?.[role];
    if (name === undefined) return null;
    const t = tensors.get(name)!;
    // Storage dtypes change values: emulate them.
    if (t.dtype === 'bits') return Float64Array.from(t.data, sgn);
    if (t.dtype === 'float16') return Float64Array.from(t.data, (v) => fromFloat16Bits(toFloat16Bits(v)));
    if (t.dtype === 'int8') {
      let m = 0;
      for (let i = 0; i < t.data.length; i++) m = Math.max(m, Math.abs(t.data[i]));
      const scale = t.scale ?? (m > 0 ? m / 127 : 1);
      return Float64Array.from(
        t.data,
        (v) => Math.max(-127, Math.min(127, Math.round(v / scale))) * Math.fround(scale),
      );
    }
    return Float64Array.from(t.data);
  };
  const shapeOf = (n: NodeSpec, role: string) => tensors.get(n.tensors![role])!.shape;
  for (const n of graph.nodes) {
    const x = vals.get(n.inputs[0])!;
    const a = (n.attrs ?? {}) as Record<string, unknown>;
    const [C, L] = x.shape.length === 2 ? x.shape : [x.shape[0], 1];
    let y: RefTensor;
    const map = (f: (v: number, c: number) => number): RefTensor => ({
      shape: x.shape.slice(),
      data: Float64Array.from(x.data, (v, i) => f(v, Math.floor(i / L))),
    });
    switch (n.op) {
      case 'conv1d':
      case 'binaryConv1d': {
        const ws = shapeOf(n, 'weight');
        const dil = (a.dilation as number) ?? 1;
        const [pl, pr] = padOf(a.padding, ws[2], dil);
        y = refConv1d(x, T(n, 'weight')!, ws, T(n, 'bias'), {
          stride: (a.stride as number) ?? 1,
          dilation: dil,
          padLeft: pl,
          padRight: pr,
          groups: (a.groups as number) ?? 1,
          padValue: (a.padValue as number) ?? (n.op === 'binaryConv1d' ? 1 : 0),
        });
        const pool = a.pool as { kernelSize: number; stride?: number } | undefined;
        if (pool) y = refPool(y, pool.kernelSize, pool.stride ?? pool.kernelSize, 0, 'max');
        const thr = T(n, 'threshold');
        if (thr) {
          const dir = T(n, 'direction')!;
          const Lo = y.shape[1];
          y = {
            shape: y.shape,
            data: Float64Array.from(y.data, (v, i) => {
              const o = Math.floor(i / Lo);
              return (dir[o] > 0 ? v >= thr[o] : v <= thr[o]) ? 1 : -1;
            }),
          };
        }
        break;
      }
      case 'maxPool1d':
      case 'avgPool1d': {
        const K = a.kernelSize as number;
        y = refPool(
          x,
          K,
          (a.stride as number) ?? K,
          (a.padding as number) ?? 0,
          n.op === 'maxPool1d' ? 'max' : 'avg',
        );
        break;
      }
      case 'batchNorm': {
        const m = T(n, 'mean')!;
        const v = T(n, 'var')!;
        const g = T(n, 'weight');
        const b = T(n, 'bias');
        const eps = (a.eps as number) ?? 1e-5;
        y = map((s, c) => ((s - m[c]) / Math.sqrt(v[c] + eps)) * (g ? g[c] : 1) + (b ? b[c] : 0));
        break;
      }
      case 'prelu': {
        const w = T(n, 'weight')!;
        y = map((s, c) => (s >= 0 ? s : (w.length === 1 ? w[0] : w[c]) * s));
        break;
      }
      case 'relu':
        y = map((s) => Math.max(0, s));
        break;
      case 'leakyRelu':
        y = map((s) => (s >= 0 ? s : ((a.negativeSlope as number) ?? 0.01) * s));
        break;
      case 'sigmoid':
        y = map((s) => 1 / (1 + Math.exp(-s)));
        break;
      case 'tanh':
        y = map(Math.tanh);
        break;
      case 'identity':
      case 'dropout':
        y = x;
        break;
      case 'sign':
        y = map(sgn);
        break;
      case 'sumOverTime':
      case 'globalAvgPool1d':
      case 'globalMaxPool1d': {
        const out = new Float64Array(C);
        for (let c = 0; c < C; c++) {
          const row = Array.from(x.data.subarray(c * L, c * L + L));
          out[c] =
            n.op === 'globalMaxPool1d'
              ? Math.max(...row)
              : row.reduce((p, q) => p + q, 0) / (n.op === 'sumOverTime' ? 1 : L);
        }
        y = { shape: [C], data: out };
        break;
      }
      case 'flatten':
        y = { shape: [x.data.length], data: x.data };
        break;
      case 'linear':
      case 'binaryLinear': {
        const w = T(n, 'weight')!;
        const b = T(n, 'bias');
        const [O, Fi] = shapeOf(n, 'weight');
        const out = new Float64Array(O);
        for (let o = 0; o < O; o++) {
          let s = b ? b[o] : 0;
          for (let i = 0; i < Fi; i++) s += w[o * Fi + i] * x.data[i];
          out[o] = s;
        }
        y = { shape: [O], data: out };
        break;
      }
      case 'add': {
        const z = vals.get(n.inputs[1])!;
        y = { shape: x.shape, data: Float64Array.from(x.data, (v, i) => v + z.data[i]) };
        break;
      }
      case 'concat': {
        const parts = n.inputs.map((i) => vals.get(i)!);
        const data = new Float64Array(parts.reduce((s, p) => s + p.data.length, 0));
        let off = 0;
        for (const p of parts) {
          data.set(p.data, off);
          off += p.data.length;
        }
        const total = parts.reduce((s, p) => s + p.shape[0], 0);
        y = { shape: x.shape.length === 2 ? [total, L] : [total], data };
        break;
      }
      case 'squeezeExcitation': {
        const w1 = T(n, 'w1')!;
        const w2 = T(n, 'w2')!;
        const b1 = T(n, 'b1');
        const b2 = T(n, 'b2');
        const R = shapeOf(n, 'w1')[0];
        const z = Array.from(
          { length: C },
          (_, c) => x.data.subarray(c * L, c * L + L).reduce((p, q) => p + q, 0) / L,
        );
        const h = Array.from({ length: R }, (_, r) =>
          Math.max(0, (b1 ? b1[r] : 0) + z.reduce((s, zc, c) => s + w1[r * C + c] * zc, 0)),
        );
        const s = Array.from(
          { length: C },
          (_, c) =>
            1 / (1 + Math.exp(-((b2 ? b2[c] : 0) + h.reduce((q, hr, r) => q + w2[c * R + r] * hr, 0)))),
        );
        y = map((v, c) => v * s[c]);
        break;
      }
      case 'attention': {
        const proj = (wr: string, br: string) => {
          const w = T(n, wr)!;
          const b = T(n, br);
          const D = shapeOf(n, wr)[0];
          return Array.from({ length: L }, (_, t) =>
            Array.from({ length: D }, (_, d) => {
              let s = b ? b[d] : 0;
              for (let c = 0; c < C; c++) s += w[d * C + c] * x.data[c * L + t];
              return s;
            }),
          );
        };
        const q = proj('wq', 'bq');
        const k = proj('wk', 'bk');
        const v = proj('wv', 'bv');
        const D = q[0].length;
        const V = v[0].length;
        const att = new Float64Array(V * L);
        for (let t = 0; t < L; t++) {
          const last = a.causal ? t : L - 1;
          const sc = Array.from(
            { length: last + 1 },
            (_, j) => q[t].reduce((s, qd, d) => s + qd * k[j][d], 0) / Math.sqrt(D),
          );
          const m = Math.max(...sc);
          const e = sc.map((s) => Math.exp(s - m));
          const z = e.reduce((p, q2) => p + q2, 0);
          for (let r = 0; r < V; r++) att[r * L + t] = e.reduce((s, ej, j) => s + ej * v[j][r], 0) / z;
        }
        if (a.concat) {
          const data = new Float64Array((C + V) * L);
          data.set(x.data, 0);
          data.set(att, C * L);
          y = { shape: [C + V, L], data };
        } else y = { shape: [V, L], data: att };
        break;
      }
      case 'softmax': {
        const data = new Float64Array(x.data.length);
        for (let t = 0; t < L; t++) {
          let m = -Infinity;
          for (let c = 0; c < C; c++) m = Math.max(m, x.data[c * L + t]);
          let z = 0;
          for (let c = 0; c < C; c++) z += Math.exp(x.data[c * L + t] - m);
          for (let c = 0; c < C; c++) data[c * L + t] = Math.exp(x.data[c * L + t] - m) / z;
        }
        y = { shape: x.shape, data };
        break;
      }
      default:
        throw new Error(`reference: op ${n.op} not implemented`);
    }
    vals.set(n.outputs[0], y);
  }
  return vals.get(graph.outputs[0])!.data;
}

function isArrayLike(v: ArrayLike<number> | Record<string, ArrayLike<number>>): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) || Array.isArray(v);
}
