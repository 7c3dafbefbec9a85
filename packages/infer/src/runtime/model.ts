/**
 * Graph runtime: compiles a validated model file into a list of kernel calls bound to buffers allocated once,
 * so `predict` allocates nothing per sample (only, optionally, its result array).
 *
 * Load-time fusion (exact, see docs/infer.md): a `binaryConv1d` (float output) followed by an optional unpadded
 * `maxPool1d`, a chain of per-channel elementwise ops (batchNorm, prelu, relu, …) and `sign`, where each
 * intermediate value feeds only the next node, becomes one kernel that keeps activations packed. The epilogue
 * is folded into integer thresholds by running its own kernels on every reachable integer dot (so the fused
 * path decides each bit exactly as the unfused float path would); if `sign ∘ epilogue` is not monotone on that
 * range for some channel, the nodes are left unfused.
 */
import {
  foldSignByEvaluation,
  type SignThresholds,
  unpackConvWeights,
  unpackSigns,
  wordsForChannels,
} from '../binary/conventions.js';
import { ArgumentError, ModelFormatError, ShapeError } from '../errors.js';
import { type LoadedTensor, type ModelFile, type ReadLimits, readModel } from '../format/reader.js';
import type { InputSpec, ModelHeader, NodeSpec, Preprocessing, Windowing } from '../format/types.js';
import { ELEMENTWISE_OPS, type NormalizedAttrs, type ValueInfo } from '../graph/ops.js';
import {
  type BinaryConv1dParams,
  binaryConv1d,
  binaryConv1dPacked,
  binaryConvScratchSize,
  binaryLinear,
  signPack,
} from '../kernels/binary.js';
import * as F from '../kernels/float.js';

/** Public description of a loaded model (everything in the header except the tensor table). */
export interface ModelMetadata {
  name: string | undefined;
  input: InputSpec;
  classes: string[];
  outputActivation: ModelHeader['outputActivation'];
  preprocessing: Preprocessing;
  windowing: Windowing;
  provenance: Record<string, unknown>;
  /** Operators after load-time fusion, in execution order (for inspection). */
  plan: string[];
}

type Buffer = Float32Array | Uint32Array;
type Step = () => void;

interface Value {
  info: ValueInfo;
  buf: Buffer;
}

function size(info: ValueInfo): number {
  if (info.kind === 'bits')
    return (info.shape.length === 2 ? info.shape[1] : 1) * wordsForChannels(info.shape[0]);
  return info.shape.reduce((a, b) => a * b, 1);
}

/** A loaded, ready-to-run model. Create with {@link loadModel}. Not safe for concurrent use from two threads. */
export class Model {
  /** Header metadata: classes, input window, preprocessing, provenance, … */
  readonly metadata: ModelMetadata;
  private readonly steps: Step[] = [];
  private readonly input: Float32Array;
  private readonly output: Float32Array;
  private readonly inputSize: number;
  private readonly classes: number;

  /** @internal Use {@link loadModel}. */
  constructor(file: ModelFile) {
    const { header, graph } = file;
    const values = new Map<string, Value>();
    const get = (name: string): Value => values.get(name)!;
    const inputInfo = graph.values.get(header.graph.input)!;
    this.input = new Float32Array(size(inputInfo));
    values.set(header.graph.input, { info: inputInfo, buf: this.input });
    const consumers = new Map<string, number>();
    for (const n of header.graph.nodes)
      for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
    consumers.set(header.graph.output, (consumers.get(header.graph.output) ?? 0) + 1);
    const plan: string[] = [];
    const nodes = header.graph.nodes;
    for (let i = 0; i < nodes.length; i++) {
      const fused = this.tryFuseBinary(file, i, values, consumers, plan);
      if (fused > 0) {
        i += fused - 1;
        continue;
      }
      const node = nodes[i];
      const info = graph.nodes[i].output;
      const out: Value = {
        info,
        buf: info.kind === 'bits' ? new Uint32Array(size(info)) : new Float32Array(size(info)),
      };
      values.set(node.outputs[0], out);
      this.steps.push(compileNode(node, graph.nodes[i].attrs, node.inputs.map(get), out, file.tensors));
      plan.push(node.op);
    }
    this.output = get(header.graph.output).buf as Float32Array;
    this.inputSize = this.input.length;
    this.classes = header.classes.length;
    this.metadata = {
      name: header.name,
      input: { ...header.input },
      classes: header.classes.slice(),
      outputActivation: header.outputActivation,
      preprocessing: { ...header.preprocessing },
      windowing: { ...header.windowing },
      provenance: header.provenance,
      plan,
    };
  }

  /** Try to fuse binaryConv1d → [maxPool1d] → elementwise* → sign starting at node i; returns nodes consumed. */
  private tryFuseBinary(
    file: ModelFile,
    i: number,
    values: Map<string, Value>,
    consumers: Map<string, number>,
    plan: string[],
  ): number {
    const nodes = file.header.graph.nodes;
    const conv = nodes[i];
    if (conv.op !== 'binaryConv1d' || conv.tensors?.threshold !== undefined) return 0;
    const convAttrs = file.graph.nodes[i].attrs;
    if (convAttrs.pool) return 0;
    let j = i + 1;
    let prev = conv.outputs[0];
    const chainOk = (n: NodeSpec | undefined): n is NodeSpec =>
      n !== undefined && n.inputs.length === 1 && n.inputs[0] === prev && consumers.get(prev) === 1;
    let pool: { kernelSize: number; stride: number } | null = null;
    if (chainOk(nodes[j]) && nodes[j].op === 'maxPool1d') {
      const w = file.graph.nodes[j].attrs.window!;
      if (w.padLeft !== 0 || w.padRight !== 0) return 0;
      pool = { kernelSize: w.kernelSize, stride: w.stride };
      prev = nodes[j].outputs[0];
      j++;
    }
    const epilogue: number[] = [];
    while (chainOk(nodes[j]) && ELEMENTWISE_OPS.has(nodes[j].op)) {
      epilogue.push(j);
      prev = nodes[j].outputs[0];
      j++;
    }
    if (!chainOk(nodes[j]) || nodes[j].op !== 'sign') return 0;
    const signNode = nodes[j];
    // Reachable integer dots: |y| <= inC·K.
    const w = file.tensors.get(conv.tensors!.weight)!;
    const [O, C, K] = w.entry.shape;
    const lo = -C * K;
    const hi = C * K;
    const span = hi - lo + 1;
    if (O * span > 1 << 22) return 0; // too large to evaluate exhaustively (16 MiB): leave unfused
    const evalBuf = new Float32Array(O * span);
    for (let o = 0; o < O; o++) for (let s = 0; s < span; s++) evalBuf[o * span + s] = lo + s;
    const evalInfo: ValueInfo = { kind: 'float', shape: [O, span] };
    for (const e of epilogue) {
      const v: Value = { info: evalInfo, buf: evalBuf };
      compileNode(nodes[e], file.graph.nodes[e].attrs, [v], v, file.tensors)();
    }
    const folded = foldSignByEvaluation(evalBuf, O, lo, hi);
    if (!folded) return 0;
    const info = file.graph.nodes[j].output;
    const out: Value = { info, buf: new Uint32Array(size(info)) };
    values.set(signNode.outputs[0], out);
    const x = values.get(conv.inputs[0])!;
    this.steps.push(binaryConvStep(x, out, w, convAttrs, pool, folded));
    plan.push(
      `binaryConv1d+${[...(pool ? ['maxPool1d'] : []), ...epilogue.map((e) => nodes[e].op), 'sign'].join('+')}`,
    );
    return j - i + 1;
  }

  /** Number of floats in one input window: channels × length. */
  get windowSize(): number {
    return this.inputSize;
  }

  /**
   * Run the graph on a batch of windows and return raw graph outputs (logits), `[batch, classes]`.
   * `input` holds `batch` windows of `[channels, length]` back to back (NCL). `out` may be supplied to avoid
   * allocating the result.
   */
  logits(input: Float32Array, out?: Float32Array): Float32Array {
    return this.run(input, out, false);
  }

  /**
   * Probabilities for a batch of windows, `[batch, classes]`: the graph's logits through the model's output
   * activation (softmax over classes, or elementwise sigmoid for multi-label models).
   * `input`: Float32Array of `batch × channels × length` values (NCL); `shape`, if given, is checked.
   */
  predict(input: Float32Array, shape?: readonly number[], out?: Float32Array): Float32Array {
    if (shape !== undefined) {
      const { channels, length } = this.metadata.input;
      if (
        shape.length !== 3 ||
        shape[1] !== channels ||
        shape[2] !== length ||
        shape[0] * channels * length !== input.length
      ) {
        throw new ShapeError(
          `predict: shape [${shape}] does not match input length ${input.length} and model input [N, ${channels}, ${length}]`,
        );
      }
    }
    return this.run(input, out, true);
  }

  private run(input: Float32Array, out: Float32Array | undefined, activate: boolean): Float32Array {
    if (!(input instanceof Float32Array)) throw new ShapeError('input must be a Float32Array');
    const n = this.inputSize;
    if (input.length === 0 || input.length % n !== 0) {
      throw new ShapeError(
        `input has ${input.length} values, not a positive multiple of the window size ${n} (channels × length)`,
      );
    }
    const batch = input.length / n;
    const M = this.classes;
    const result = out ?? new Float32Array(batch * M);
    if (result.length < batch * M)
      throw new ShapeError(`output buffer has ${result.length} values, need ${batch * M}`);
    for (let b = 0; b < batch; b++) {
      this.input.set(input.subarray(b * n, (b + 1) * n));
      for (let s = 0; s < this.steps.length; s++) this.steps[s]();
      const dst = result.subarray(b * M, (b + 1) * M);
      dst.set(this.output.subarray(0, M));
      if (activate) {
        if (this.metadata.outputActivation === 'softmax') F.softmax(dst, M, 1, dst);
        else if (this.metadata.outputActivation === 'sigmoid') F.sigmoid(dst, M, dst);
      }
    }
    return result;
  }
}

function floatData(t: LoadedTensor | undefined): Float32Array | null {
  if (!t) return null;
  if (t.entry.dtype === 'bits') {
    const s = t.entry.shape;
    if (s.length === 3) return unpackConvWeights(t.data as Uint32Array, s[0], s[1], s[2]);
    if (s.length === 2) return unpackSigns(t.data as Uint32Array, s[1], s[0]);
    return unpackSigns(t.data as Uint32Array, s[0], 1);
  }
  if (t.data instanceof Float32Array) return t.data;
  return Float32Array.from(t.data);
}

function binaryParams(
  x: ValueInfo,
  w: LoadedTensor,
  a: NormalizedAttrs,
  pool: BinaryConv1dParams['pool'],
): BinaryConv1dParams {
  const win = a.window!;
  return {
    inChannels: x.shape[0],
    inLength: x.shape[1],
    outChannels: w.entry.shape[0],
    kernelSize: win.kernelSize,
    stride: win.stride,
    dilation: win.dilation,
    padLeft: win.padLeft,
    padRight: win.padRight,
    padValue: a.padValue === 0 ? 0 : 1,
    pool,
  };
}

function binaryConvStep(
  x: Value,
  out: Value,
  w: LoadedTensor,
  a: NormalizedAttrs,
  pool: BinaryConv1dParams['pool'],
  folded: SignThresholds | null,
): Step {
  const p = binaryParams(x.info, w, a, pool);
  const sc = binaryConvScratchSize(p);
  const words = new Uint32Array(sc.words);
  const ints = new Int32Array(sc.ints);
  const xb = x.buf as Uint32Array;
  const wb = w.data as Uint32Array;
  if (folded) {
    const ob = out.buf as Uint32Array;
    return () => binaryConv1dPacked(xb, wb, p, folded.threshold, folded.direction, ob, words, ints);
  }
  const ob = out.buf as Float32Array;
  return () => binaryConv1d(xb, wb, p, ob, words, ints);
}

/** Bind one node to its kernel. */
function compileNode(
  node: NodeSpec,
  a: NormalizedAttrs,
  ins: Value[],
  out: Value,
  tensors: Map<string, LoadedTensor>,
): Step {
  const t = (role: string): LoadedTensor | undefined => {
    const name = node.tensors?.[role];
    return name === undefined ? undefined : tensors.get(name);
  };
  const fw = (role: string): Float32Array | null => floatData(t(role));
  const x = ins[0];
  const xf = x.buf as Float32Array;
  const of = out.buf as Float32Array;
  const [C, L] = x.info.shape.length === 2 ? x.info.shape : [x.info.shape[0], 1];
  const n = size(x.info);
  switch (node.op) {
    case 'conv1d': {
      const w = fw('weight')!;
      const win = a.window!;
      const p: F.Conv1dParams = {
        inChannels: C,
        inLength: L,
        outChannels: t('weight')!.entry.shape[0],
        kernelSize: win.kernelSize,
        stride: win.stride,
        dilation: win.dilation,
        padLeft: win.padLeft,
        padRight: win.padRight,
        groups: a.groups ?? 1,
        padValue: a.padValue ?? 0,
      };
      const bias = fw('bias');
      return () => F.conv1d(xf, w, bias, p, of);
    }
    case 'binaryConv1d': {
      const thr = t('threshold');
      const folded: SignThresholds | null = thr
        ? {
            threshold: thr.data as Int32Array,
            direction: Int8Array.from(fw('direction')!, (v) => (v < 0 ? -1 : 1)),
          }
        : null;
      return binaryConvStep(x, out, t('weight')!, a, a.pool ?? null, folded);
    }
    case 'batchNorm': {
      const { scale, shift } = F.batchNormScaleShift(
        fw('mean')!,
        fw('var')!,
        fw('weight'),
        fw('bias'),
        a.eps ?? 1e-5,
      );
      return () => F.channelAffine(xf, C, L, scale, shift, of);
    }
    case 'relu':
      return () => F.relu(xf, n, of);
    case 'prelu': {
      const w = fw('weight')!;
      return () => F.prelu(xf, C, L, w, of);
    }
    case 'leakyRelu': {
      const s = a.negativeSlope ?? 0.01;
      return () => F.leakyRelu(xf, n, s, of);
    }
    case 'sigmoid':
      return () => F.sigmoid(xf, n, of);
    case 'tanh':
      return () => F.tanh(xf, n, of);
    case 'identity':
    case 'dropout':
      return () => (out.buf as Float32Array | Uint32Array).set(x.buf.subarray(0, n) as never);
    case 'maxPool1d':
    case 'avgPool1d': {
      const win = a.window!;
      const k = node.op === 'maxPool1d' ? F.maxPool1d : F.avgPool1d;
      return () => k(xf, C, L, win.kernelSize, win.stride, win.padLeft, win.padRight, of);
    }
    case 'globalAvgPool1d':
      return () => F.globalAvgPool1d(xf, C, L, of);
    case 'globalMaxPool1d':
      return () => F.globalMaxPool1d(xf, C, L, of);
    case 'sumOverTime':
      return () => F.sumOverTime(xf, C, L, of);
    case 'flatten':
      return () => of.set(xf.subarray(0, n));
    case 'linear': {
      const w = fw('weight')!;
      const b = fw('bias');
      const O = t('weight')!.entry.shape[0];
      return () => F.linear(xf, w, b, n, O, of);
    }
    case 'binaryLinear': {
      const w = t('weight')!;
      const xb = x.buf as Uint32Array;
      const wb = w.data as Uint32Array;
      const [O, Fin] = w.entry.shape;
      return () => binaryLinear(xb, wb, Fin, O, of);
    }
    case 'add': {
      const yf = ins[1].buf as Float32Array;
      return () => F.add(xf, yf, n, of);
    }
    case 'concat': {
      const offsets: number[] = [];
      let off = 0;
      for (const v of ins) {
        offsets.push(off);
        off += size(v.info);
      }
      // Channel-axis concat of [C_i, L] arrays is a plain concatenation of their row-major data.
      return () => {
        for (let k = 0; k < ins.length; k++) of.set(ins[k].buf as Float32Array, offsets[k]);
      };
    }
    case 'squeezeExcitation': {
      const w1 = fw('w1')!;
      const w2 = fw('w2')!;
      const b1 = fw('b1');
      const b2 = fw('b2');
      const R = t('w1')!.entry.shape[0];
      const scratch = new Float32Array(2 * C + R);
      return () => F.squeezeExcitation(xf, C, L, w1, b1, w2, b2, R, of, scratch);
    }
    case 'attention': {
      const wq = fw('wq')!;
      const wk = fw('wk')!;
      const wv = fw('wv')!;
      const bq = fw('bq');
      const bk = fw('bk');
      const bv = fw('bv');
      const D = t('wq')!.entry.shape[0];
      const V = t('wv')!.entry.shape[0];
      const scratch = new Float32Array(F.attentionScratchSize(L, D, V));
      const causal = a.causal ?? false;
      const concat = a.concat ?? false;
      return () => F.attention(xf, C, L, wq, bq, wk, bk, wv, bv, D, V, causal, concat, of, scratch);
    }
    case 'softmax':
      return () => F.softmax(xf, C, L, of);
    case 'sign': {
      const ob = out.buf as Uint32Array;
      return () => signPack(xf, C, L, ob);
    }
    default:
      throw new ModelFormatError(`op ${node.op} has no kernel`);
  }
}

/** Options of {@link loadModel}. */
export interface LoadOptions extends ReadLimits {}

/**
 * Load a model from the bytes of a model file (see docs/model-format.md). Validates the whole file first and
 * throws {@link ModelFormatError} on anything malformed. Works the same in Node and browsers.
 */
export function loadModel(bytes: Uint8Array | ArrayBuffer, options: LoadOptions = {}): Model {
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new ArgumentError('loadModel: bytes must be a Uint8Array or ArrayBuffer');
  }
  return new Model(readModel(bytes, options));
}
