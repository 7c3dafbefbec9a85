/**
 * The @ecgnn/infer graph → ONNX (default opset 13). Every infer op has an exact ONNX counterpart or a short
 * composition of standard ops, so a model file and its ONNX form compute the same function (up to float32
 * rounding order): the ONNX model is built from the decoded file (float16/int8 tensors widened as infer widens
 * them), so it runs what infer runs.
 *
 * Binary values (`bits`) become ±1 floats: `sign` is `Where(x < 0, −1, +1)` (sign(0) = +1, as THE binary
 * conventions say; ONNX's `Sign` gives 0 at 0), packed weights are unpacked to ±1, a binary convolution's pad
 * value +1 is an explicit `Pad`, and folded thresholds are `Where(y·d ≥ t·d, +1, −1)` with the direction d = ±1.
 */
import {
  type LoadedTensor,
  type ModelFile,
  type ModelSpec,
  type NodeSpec,
  readModel,
  saveModel,
} from '@ecgnn/infer';
import { resolvePadding1d } from '@ecgnn/kernels';
import { ExportError } from '../errors.js';
import { inferOutput, type ValueInfo } from '../shapes.js';
import type { OnnxInitializer, OnnxModel, OnnxNode, OnnxValue } from './writer.js';

/** Options of {@link toOnnx}. */
export interface OnnxOptions {
  /** The batch dimension of inputs and outputs: a fixed size, or a symbolic name (default 'N'). */
  batch?: number | string;
  /** Also output the probabilities (the model's output activation on the first output) as 'probabilities'. */
  probabilities?: boolean;
  /** Opset version of the default domain (default 13, the one the ops below are written for). */
  opset?: number;
}

type Padding = number | [number, number] | 'same' | 'valid';

/** ±1 floats of a packed `bits` tensor (stored layout: the logical shape with packAxis last, as words). */
function unpackBits(t: LoadedTensor): Float32Array {
  const shape = t.entry.shape;
  const axis = t.entry.packAxis ?? (shape.length > 1 ? 1 : 0);
  const C = shape[axis];
  const W = (C + 31) >>> 5;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const words = t.data as Uint32Array;
  const out = new Float32Array(outer * C * inner);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < inner; k++) {
        const bit = (words[(o * inner + k) * W + (c >>> 5)] >>> (c & 31)) & 1;
        out[(o * C + c) * inner + k] = bit ? -1 : 1;
      }
    }
  }
  return out;
}

class Lowering {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly inits = new Map<string, string>();
  private readonly values = new Map<string, ValueInfo>();
  private counter = 0;

  constructor(private readonly file: ModelFile) {}

  /** A fresh internal value name derived from `base`. */
  tmp(base: string): string {
    return `${base}::${++this.counter}`;
  }

  add(op: string, inputs: string[], outputs: string[], attributes?: OnnxNode['attributes']): string {
    this.nodes.push({ op, inputs, outputs, ...(attributes ? { attributes } : {}) });
    return outputs[0];
  }

  /** A float initializer under `key` (created once). */
  floatInit(key: string, dims: number[], data: () => Float32Array): string {
    let name = this.inits.get(key);
    if (name === undefined) {
      name = key;
      this.inits.set(key, name);
      this.initializers.push({ name, dims, data: data() });
    }
    return name;
  }

  /** An int64 initializer (axes, pads) under a name derived from its values. */
  int64Init(values: number[]): string {
    const key = `int64[${values.join(',')}]`;
    let name = this.inits.get(key);
    if (name === undefined) {
      name = key;
      this.inits.set(key, name);
      this.initializers.push({
        name,
        dims: [values.length],
        data: BigInt64Array.from(values, (v) => BigInt(v)),
      });
    }
    return name;
  }

  /** A float scalar initializer. */
  scalar(v: number): string {
    return this.floatInit(`scalar(${v})`, [], () => new Float32Array([v]));
  }

  /** A model tensor as float32 values (float16/int8 widened, bits unpacked, int32 converted). */
  values32(name: string): Float32Array {
    const t = this.file.tensors.get(name);
    if (t === undefined) throw new ExportError(`ONNX export: unknown tensor '${name}'`);
    if (t.entry.dtype === 'bits') return unpackBits(t);
    return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  }

  /** A model tensor as an initializer with `dims` (its own shape by default). */
  tensorInit(name: string, dims?: number[], form = ''): string {
    const t = this.file.tensors.get(name);
    if (t === undefined) throw new ExportError(`ONNX export: unknown tensor '${name}'`);
    return this.floatInit(`${name}${form}`, dims ?? [...t.entry.shape], () => this.values32(name));
  }

  shapeOf(v: string): number[] {
    const i = this.values.get(v);
    if (i === undefined) throw new ExportError(`ONNX export: unknown value '${v}'`);
    return i.shape;
  }

  setValue(v: string, info: ValueInfo): void {
    this.values.set(v, info);
  }

  /** Pads `[left, right]` of a window op, resolved as infer resolves them. */
  pads(attrs: Record<string, unknown>, kernelSize: number, defaultStride: number): [number, number] {
    return resolvePadding1d(
      (attrs.padding as Padding | undefined) ?? 0,
      kernelSize,
      (attrs.dilation as number | undefined) ?? 1,
      (attrs.stride as number | undefined) ?? defaultStride,
    );
  }

  /** Conv with explicit padding of value `padValue` (a constant Pad first when it is not 0). */
  conv(
    x: string,
    out: string,
    weight: string,
    bias: string | null,
    K: number,
    attrs: Record<string, unknown>,
    padValue: number,
  ): string {
    let [pl, pr] = this.pads(attrs, K, 1);
    let input = x;
    if (padValue !== 0 && pl + pr > 0) {
      // Pad's mode defaults to 'constant'; pads are [begin of each axis…, end of each axis…].
      input = this.add(
        'Pad',
        [x, this.int64Init([0, 0, pl, 0, 0, pr]), this.scalar(padValue)],
        [this.tmp(out)],
      );
      pl = 0;
      pr = 0;
    }
    return this.add('Conv', bias ? [input, weight, bias] : [input, weight], [out], {
      kernel_shape: [K],
      pads: [pl, pr],
      strides: [(attrs.stride as number | undefined) ?? 1],
      dilations: [(attrs.dilation as number | undefined) ?? 1],
      group: (attrs.groups as number | undefined) ?? 1,
    });
  }

  node(n: NodeSpec): void {
    const a = n.attrs ?? {};
    const t = n.tensors ?? {};
    const x = n.inputs[0];
    const out = n.outputs[0];
    const rank = this.shapeOf(x).length;
    const channelsShape = (C: number): number[] => (rank === 2 ? [C, 1] : [C]);
    switch (n.op) {
      case 'conv1d':
      case 'binaryConv1d': {
        const wShape = this.file.tensors.get(t.weight)!.entry.shape;
        const K = wShape[2];
        const bias = t.bias ? this.tensorInit(t.bias) : null;
        const padValue = (a.padValue as number | undefined) ?? (n.op === 'binaryConv1d' ? 1 : 0);
        const pool = a.pool as { kernelSize: number; stride?: number } | undefined;
        const thr = t.threshold;
        const convOut = pool || thr ? this.tmp(out) : out;
        let y = this.conv(x, convOut, this.tensorInit(t.weight), bias, K, a, padValue);
        if (pool) {
          y = this.add('MaxPool', [y], [thr ? this.tmp(out) : out], {
            kernel_shape: [pool.kernelSize],
            strides: [pool.stride ?? pool.kernelSize],
          });
        }
        if (thr) {
          const O = wShape[0];
          const dir = this.values32(t.direction);
          const th = this.file.tensors.get(thr)!.data as Int32Array;
          const d = this.floatInit(`${t.direction}(±1)`, [O, 1], () =>
            Float32Array.from(dir, (v) => (v < 0 ? -1 : 1)),
          );
          const td = this.floatInit(`${thr}·direction`, [O, 1], () =>
            Float32Array.from(th, (v, o) => (dir[o] < 0 ? -v : v)),
          );
          const yd = this.add('Mul', [y, d], [this.tmp(out)]);
          const cond = this.add('GreaterOrEqual', [yd, td], [this.tmp(out)]);
          this.add('Where', [cond, this.scalar(1), this.scalar(-1)], [out]);
        }
        break;
      }
      case 'sign': {
        const neg = this.add('Less', [x, this.scalar(0)], [this.tmp(out)]);
        this.add('Where', [neg, this.scalar(-1), this.scalar(1)], [out]);
        break;
      }
      case 'batchNorm': {
        const C = this.shapeOf(x)[0];
        const param = (role: string, fill: number): string =>
          t[role]
            ? this.tensorInit(t[role])
            : this.floatInit(`fill(${fill})[${C}]`, [C], () => new Float32Array(C).fill(fill));
        this.add(
          'BatchNormalization',
          [x, param('weight', 1), param('bias', 0), this.tensorInit(t.mean), this.tensorInit(t.var)],
          [out],
          { epsilon: { float: (a.eps as number | undefined) ?? 1e-5 } },
        );
        break;
      }
      case 'relu':
        this.add('Relu', [x], [out]);
        break;
      case 'sigmoid':
        this.add('Sigmoid', [x], [out]);
        break;
      case 'tanh':
        this.add('Tanh', [x], [out]);
        break;
      case 'identity':
      case 'dropout':
        this.add('Identity', [x], [out]);
        break;
      case 'leakyRelu':
        this.add('LeakyRelu', [x], [out], {
          alpha: { float: (a.negativeSlope as number | undefined) ?? 0.01 },
        });
        break;
      case 'prelu': {
        const n1 = this.file.tensors.get(t.weight)!.entry.shape[0];
        this.add('PRelu', [x, this.tensorInit(t.weight, channelsShape(n1), `[${channelsShape(n1)}]`)], [out]);
        break;
      }
      case 'softmax':
        this.add('Softmax', [x], [out], { axis: 1 });
        break;
      case 'maxPool1d':
      case 'avgPool1d': {
        const K = a.kernelSize as number;
        const stride = (a.stride as number | undefined) ?? K;
        const attributes: OnnxNode['attributes'] = {
          kernel_shape: [K],
          strides: [stride],
          pads: this.pads({ ...a, dilation: 1, stride }, K, K),
        };
        if (n.op === 'avgPool1d') attributes.count_include_pad = 1;
        this.add(n.op === 'maxPool1d' ? 'MaxPool' : 'AveragePool', [x], [out], attributes);
        break;
      }
      case 'globalAvgPool1d':
        this.add('ReduceMean', [x], [out], { axes: [2], keepdims: 0 });
        break;
      case 'globalMaxPool1d':
        this.add('ReduceMax', [x], [out], { axes: [2], keepdims: 0 });
        break;
      case 'sumOverTime':
        this.add('ReduceSum', [x, this.int64Init([2])], [out], { keepdims: 0 });
        break;
      case 'flatten':
        this.add('Flatten', [x], [out], { axis: 1 });
        break;
      case 'linear':
      case 'binaryLinear': {
        const ins = [x, this.tensorInit(t.weight)];
        if (t.bias) ins.push(this.tensorInit(t.bias));
        this.add('Gemm', ins, [out], { transB: 1 });
        break;
      }
      case 'add':
        this.add('Add', [x, n.inputs[1]], [out]);
        break;
      case 'concat':
        this.add('Concat', [...n.inputs], [out], { axis: 1 });
        break;
      case 'squeezeExcitation': {
        const m = this.add('ReduceMean', [x], [this.tmp(out)], { axes: [2], keepdims: 0 });
        const h = this.add(
          'Gemm',
          [m, this.tensorInit(t.w1), ...(t.b1 ? [this.tensorInit(t.b1)] : [])],
          [this.tmp(out)],
          {
            transB: 1,
          },
        );
        const r = this.add('Relu', [h], [this.tmp(out)]);
        const z = this.add(
          'Gemm',
          [r, this.tensorInit(t.w2), ...(t.b2 ? [this.tensorInit(t.b2)] : [])],
          [this.tmp(out)],
          {
            transB: 1,
          },
        );
        const s = this.add('Sigmoid', [z], [this.tmp(out)]);
        const s3 = this.add('Unsqueeze', [s, this.int64Init([2])], [this.tmp(out)]);
        this.add('Mul', [x, s3], [out]);
        break;
      }
      case 'attention':
        this.attention(n, x, out);
        break;
      default:
        throw new ExportError(`ONNX export: op '${n.op}' has no ONNX lowering`);
    }
  }

  /**
   * Single-head self-attention over time on `[N, C, L]`: q/k/v projections of xᵀ, softmax(q·kᵀ/√D) (keys after
   * the query masked with −∞ when causal), times v, transposed back to `[N, V, L]` (after x when `concat`).
   */
  private attention(n: NodeSpec, x: string, out: string): void {
    const a = n.attrs ?? {};
    const t = n.tensors ?? {};
    const [, L] = this.shapeOf(x);
    const xt = this.add('Transpose', [x], [this.tmp(out)], { perm: [0, 2, 1] });
    const project = (w: string, b: string | undefined): string => {
      const [rows, cols] = this.file.tensors.get(w)!.entry.shape;
      const wv = this.values32(w);
      const wT = this.floatInit(`${w}ᵀ`, [cols, rows], () => {
        const o = new Float32Array(rows * cols);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) o[c * rows + r] = wv[r * cols + c];
        return o;
      });
      const p = this.add('MatMul', [xt, wT], [this.tmp(out)]);
      return b ? this.add('Add', [p, this.tensorInit(b)], [this.tmp(out)]) : p;
    };
    const D = this.file.tensors.get(t.wq)!.entry.shape[0];
    const q = project(t.wq, t.bq);
    const k = project(t.wk, t.bk);
    const v = project(t.wv, t.bv);
    const kT = this.add('Transpose', [k], [this.tmp(out)], { perm: [0, 2, 1] });
    const dots = this.add('MatMul', [q, kT], [this.tmp(out)]);
    let scores = this.add('Mul', [dots, this.scalar(1 / Math.sqrt(D))], [this.tmp(out)]);
    if (a.causal === true) {
      const mask = this.floatInit(`causalMask[${L}]`, [L, L], () => {
        const m = new Float32Array(L * L);
        for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) m[i * L + j] = Number.NEGATIVE_INFINITY;
        return m;
      });
      scores = this.add('Add', [scores, mask], [this.tmp(out)]);
    }
    const p = this.add('Softmax', [scores], [this.tmp(out)], { axis: 2 });
    const av = this.add('MatMul', [p, v], [this.tmp(out)]);
    if (a.concat === true) {
      const at = this.add('Transpose', [av], [this.tmp(out)], { perm: [0, 2, 1] });
      this.add('Concat', [x, at], [out], { axis: 1 });
    } else this.add('Transpose', [av], [out], { perm: [0, 2, 1] });
  }
}

function toFile(model: Uint8Array | ModelSpec | ModelFile): ModelFile {
  if (model instanceof Uint8Array) return readModel(model);
  if ('header' in model) return model;
  return readModel(saveModel(model));
}

/**
 * The ONNX form of an @ecgnn/infer model (a spec, file bytes or a read file): one ONNX input per graph input
 * (`[batch, …shape]`), the graph outputs (logits first), and optionally the probabilities.
 */
export function toOnnx(model: Uint8Array | ModelSpec | ModelFile, opts: OnnxOptions = {}): OnnxModel {
  const file = toFile(model);
  const h = file.header;
  const batch = opts.batch ?? 'N';
  const low = new Lowering(file);
  const shapes = new Map<string, { shape: number[] }>();
  for (const [name, t] of file.tensors) shapes.set(name, { shape: t.entry.shape });
  const inputs: OnnxValue[] = h.graph.inputs.map((i) => {
    low.setValue(i.name, { kind: 'float', shape: i.shape.slice() });
    return { name: i.name, dims: [batch, ...i.shape] };
  });
  h.graph.nodes.forEach((n, i) => {
    low.node(n);
    const roles: Record<string, { shape: number[] }> = {};
    for (const [role, name] of Object.entries(n.tensors ?? {})) {
      const s = shapes.get(name);
      if (s) roles[role] = s;
    }
    const info = inferOutput(
      `graph node ${i} (${n.op})`,
      n.op,
      n.inputs.map((v) => ({ kind: 'float', shape: low.shapeOf(v) })),
      n.attrs ?? {},
      roles,
    );
    if (info === null) throw new ExportError(`ONNX export: op '${n.op}' has no ONNX lowering`);
    low.setValue(n.outputs[0], info);
  });
  const outputs: OnnxValue[] = h.graph.outputs.map((o) => ({ name: o, dims: [batch, ...low.shapeOf(o)] }));
  if (opts.probabilities && h.outputActivation !== 'none') {
    const logits = h.graph.outputs[0];
    low.add(h.outputActivation === 'softmax' ? 'Softmax' : 'Sigmoid', [logits], ['probabilities'], {
      ...(h.outputActivation === 'softmax' ? { axis: 1 } : {}),
    });
    outputs.push({ name: 'probabilities', dims: [batch, h.classes.length] });
  }
  return {
    nodes: low.nodes,
    initializers: low.initializers,
    inputs,
    outputs,
    opset: opts.opset ?? 13,
    name: h.name ?? 'ecgnn',
  };
}
