/**
 * Export of @ecgnn/core models to the @ecgnn/infer model format (docs/model-format.md).
 *
 * {@link GraphBuilder} turns modules into graph nodes and tensors: Conv1d (with a following BatchNorm1d folded
 * into its weights and bias), BatchNorm1d, ReLU/LeakyReLU/Sigmoid/Tanh/PReLU, MaxPool1d/AvgPool1d,
 * GlobalAvgPool1d, Flatten, Linear, Dropout/Identity (dropped: they are the identity at inference) and
 * Sequential (recursively). {@link exportBeatNet} uses it for the main job's model.
 *
 * The infer graph has ONE input per sample, `[channels, length]`. A model that also takes per-beat side
 * features (RR intervals) is exported with a packed input: channel 0 holds the waveform, channel 1 holds the
 * side features in its first samples and zeros after (see {@link packBeatInput}). The graph selects them with
 * exact 0/1 weights: a 1×1 convolution with weight [1, 0] for the waveform channel, and a sparse 0/1 linear
 * layer over the flattened input for the features — so the exported graph computes the same function as the
 * core model.
 */
import { nn } from '@ecgnn/core';
import {
  foldBatchNormIntoConv,
  type ModelSpec,
  type NodeSpec,
  type Preprocessing,
  type TensorSpec,
  type Windowing,
} from '@ecgnn/infer';
import type { BeatNet } from './model.js';

/** A module the exporter cannot translate, named by its path in the model. */
export class ExportError extends Error {
  override name = 'ExportError';
}

function floats(t: { data: ArrayLike<number> }): Float32Array {
  return Float32Array.from(t.data);
}

function convPadding(p: nn.Conv1dPadding): number | string | [number, number] {
  if (typeof p === 'number' || typeof p === 'string') return p;
  return [p[0], p[1]];
}

/** Builds the node list and tensor table of an infer graph, one module at a time. */
export class GraphBuilder {
  /** Nodes in execution order. */
  readonly nodes: NodeSpec[] = [];
  /** Tensors referenced by the nodes. */
  readonly tensors: TensorSpec[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name. */
  value(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Adds a tensor (float32 unless `dtype` says otherwise) and returns its name. */
  tensor(name: string, shape: number[], data: ArrayLike<number>, extra: Partial<TensorSpec> = {}): string {
    if (this.tensors.some((t) => t.name === name)) throw new ExportError(`duplicate tensor name ${name}`);
    this.tensors.push({ name, shape, data, ...extra });
    return name;
  }

  /** Appends a node with one output named from `hint`; returns the output value name. */
  node(
    op: string,
    inputs: string[],
    hint: string,
    attrs?: Record<string, unknown>,
    tensors?: Record<string, string>,
  ): string {
    const out = this.value(hint);
    const n: NodeSpec = { op, inputs, outputs: [out] };
    if (attrs && Object.keys(attrs).length > 0) n.attrs = attrs;
    if (tensors && Object.keys(tensors).length > 0) n.tensors = tensors;
    this.nodes.push(n);
    return out;
  }

  /**
   * A Conv1d, with `bn` (an evaluation-mode BatchNorm1d right after it) folded in:
   * w' = w·γ/√(σ² + ε), b' = (b − μ)·γ/√(σ² + ε) + β.
   */
  conv1d(x: string, conv: nn.Conv1d, path: string, bn?: nn.BatchNorm1d): string {
    const h = conv.hyper;
    let weight = floats(conv.weight);
    let bias: Float32Array | null = conv.bias ? floats(conv.bias) : null;
    if (bn) {
      if (bn.numFeatures !== conv.outChannels) {
        throw new ExportError(`${path}: BatchNorm1d(${bn.numFeatures}) after Conv1d(→${conv.outChannels})`);
      }
      if (bn.runningMean === null || bn.runningVar === null) {
        throw new ExportError(`${path}: BatchNorm1d without running statistics cannot be folded`);
      }
      const folded = foldBatchNormIntoConv(
        weight,
        bias,
        conv.outChannels,
        bn.runningMean.data,
        bn.runningVar.data,
        bn.weight?.data ?? null,
        bn.bias?.data ?? null,
        bn.eps,
      );
      weight = folded.weight;
      bias = folded.bias;
    }
    const tensors: Record<string, string> = {
      weight: this.tensor(`${path}.weight`, [...conv.weight.shape], weight),
    };
    if (bias) tensors.bias = this.tensor(`${path}.bias`, [conv.outChannels], bias);
    const attrs: Record<string, unknown> = {};
    if (h.stride !== 1) attrs.stride = h.stride;
    if (h.padding !== 0) attrs.padding = convPadding(h.padding);
    if (h.dilation !== 1) attrs.dilation = h.dilation;
    if (h.groups !== 1) attrs.groups = h.groups;
    if (h.padValue !== 0) attrs.padValue = h.padValue;
    return this.node('conv1d', [x], path, attrs, tensors);
  }

  /** A Linear layer on a `[F]` value. */
  linear(x: string, lin: nn.Linear, path: string): string {
    const tensors: Record<string, string> = {
      weight: this.tensor(`${path}.weight`, [lin.outFeatures, lin.inFeatures], floats(lin.weight)),
    };
    if (lin.bias) tensors.bias = this.tensor(`${path}.bias`, [lin.outFeatures], floats(lin.bias));
    return this.node('linear', [x], path, {}, tensors);
  }

  /** A standalone BatchNorm1d (evaluation mode: running statistics). */
  batchNorm(x: string, bn: nn.BatchNorm1d, path: string): string {
    if (bn.runningMean === null || bn.runningVar === null) {
      throw new ExportError(`${path}: BatchNorm1d without running statistics is not supported`);
    }
    const C = bn.numFeatures;
    const tensors: Record<string, string> = {
      mean: this.tensor(`${path}.runningMean`, [C], floats(bn.runningMean)),
      var: this.tensor(`${path}.runningVar`, [C], floats(bn.runningVar)),
    };
    if (bn.weight) tensors.weight = this.tensor(`${path}.weight`, [C], floats(bn.weight));
    if (bn.bias) tensors.bias = this.tensor(`${path}.bias`, [C], floats(bn.bias));
    return this.node('batchNorm', [x], path, { eps: bn.eps }, tensors);
  }

  /**
   * One module (recursing into Sequential). Inside a Sequential a Conv1d directly followed by a BatchNorm1d
   * becomes one folded conv1d node when `foldBatchNorm` is true.
   */
  module(x: string, m: nn.AnyModule, path: string, foldBatchNorm = true): string {
    if (m instanceof nn.Sequential) {
      const kids = [...m];
      let v = x;
      for (let i = 0; i < kids.length; i++) {
        const k = kids[i];
        const p = `${path}.${i}`;
        const next = kids[i + 1];
        if (foldBatchNorm && k instanceof nn.Conv1d && next instanceof nn.BatchNorm1d) {
          v = this.conv1d(v, k, p, next);
          i++;
        } else v = this.module(v, k, p, foldBatchNorm);
      }
      return v;
    }
    if (m instanceof nn.Conv1d) return this.conv1d(x, m, path);
    if (m instanceof nn.BatchNorm1d) return this.batchNorm(x, m, path);
    if (m instanceof nn.Linear) return this.linear(x, m, path);
    if (m instanceof nn.ReLU) return this.node('relu', [x], path);
    if (m instanceof nn.Sigmoid) return this.node('sigmoid', [x], path);
    if (m instanceof nn.Tanh) return this.node('tanh', [x], path);
    if (m instanceof nn.LeakyReLU) {
      return this.node('leakyRelu', [x], path, { negativeSlope: m.negativeSlope });
    }
    if (m instanceof nn.PReLU) {
      const w = m.weight;
      return this.node(
        'prelu',
        [x],
        path,
        {},
        { weight: this.tensor(`${path}.weight`, [...w.shape], floats(w)) },
      );
    }
    if (m instanceof nn.MaxPool1d || m instanceof nn.AvgPool1d) {
      if (m instanceof nn.AvgPool1d && m.padding > 0 && !m.countIncludePad) {
        throw new ExportError(
          `${path}: AvgPool1d with countIncludePad false is not supported by @ecgnn/infer`,
        );
      }
      const attrs: Record<string, unknown> = { kernelSize: m.kernelSize, stride: m.stride };
      if (m.padding !== 0) attrs.padding = m.padding;
      return this.node(m instanceof nn.MaxPool1d ? 'maxPool1d' : 'avgPool1d', [x], path, attrs);
    }
    if (m instanceof nn.GlobalAvgPool1d) {
      if (m.keepDim) throw new ExportError(`${path}: GlobalAvgPool1d with keepDim is not supported`);
      return this.node('globalAvgPool1d', [x], path);
    }
    if (m instanceof nn.Flatten) {
      if (m.startDim !== 1 || m.endDim !== -1) {
        throw new ExportError(`${path}: only Flatten(1, -1) (all but the batch axis) is supported`);
      }
      return this.node('flatten', [x], path);
    }
    if (m instanceof nn.Dropout || m instanceof nn.Identity) return x;
    throw new ExportError(`${path}: cannot export module ${m.constructor.name}`);
  }

  /**
   * Selects input channel `channel` of a `[C, L]` value as `[1, L]`: a 1×1 conv1d with weight 1 on that
   * channel and exact zeros elsewhere.
   */
  selectChannel(x: string, channels: number, channel: number, name: string): string {
    const w = new Float32Array(channels);
    w[channel] = 1;
    const weight = this.tensor(`${name}.weight`, [1, channels, 1], w, { sparse: false });
    return this.node('conv1d', [x], name, {}, { weight });
  }

  /**
   * Selects the elements `positions` of the flattened `[C, L]` value as a `[positions.length]` vector: flatten,
   * then a linear layer whose rows are one-hot (stored sparse: one stored value per row).
   */
  selectElements(x: string, size: number, positions: readonly number[], name: string): string {
    const flat = this.node('flatten', [x], `${name}.flatten`);
    const w = new Float32Array(positions.length * size);
    positions.forEach((p, r) => {
      if (!Number.isInteger(p) || p < 0 || p >= size)
        throw new ExportError(`${name}: position ${p} out of range`);
      w[r * size + p] = 1;
    });
    const weight = this.tensor(`${name}.weight`, [positions.length, size], w);
    return this.node('linear', [flat], name, {}, { weight });
  }
}

/** Input layout of an exported {@link BeatNet}: what {@link packBeatInput} builds. */
export interface PackedInputLayout {
  /** Channels of the packed input (1 without RR features, 2 with). */
  channels: number;
  /** Samples per channel (the beat window length). */
  length: number;
  /** Human-readable description, stored in the model's provenance. */
  description: string;
}

/** The packed input layout of a BeatNet (see the module comment). */
export function beatNetInputLayout(model: BeatNet): PackedInputLayout {
  const { length, rrFeatures } = model.options;
  if (rrFeatures > length)
    throw new ExportError(`BeatNet: ${rrFeatures} RR features do not fit in ${length} samples`);
  return rrFeatures > 0
    ? {
        channels: 2,
        length,
        description:
          `[2, ${length}]: channel 0 = z-scored beat window; channel 1 = the ${rrFeatures} RR features in ` +
          `samples 0..${rrFeatures - 1}, zeros after`,
      }
    : { channels: 1, length, description: `[1, ${length}]: z-scored beat window` };
}

/**
 * Packs beats `[n, L]` and RR features `[n, R]` into the exported model's input `[n, 2, L]` (channel 0 the
 * beat, channel 1 the R features then zeros), or `[n, 1, L]` when R = 0.
 */
export function packBeatInput(
  beats: Float32Array,
  rr: Float32Array | null,
  count: number,
  length: number,
  rrFeatures: number,
): Float32Array {
  if (beats.length !== count * length) {
    throw new RangeError(`packBeatInput: ${beats.length} beat samples for ${count} × ${length}`);
  }
  if (rrFeatures === 0) return beats.slice();
  if (rr === null || rr.length !== count * rrFeatures) {
    throw new RangeError(`packBeatInput: need ${count} × ${rrFeatures} RR features`);
  }
  const out = new Float32Array(count * 2 * length);
  for (let i = 0; i < count; i++) {
    out.set(beats.subarray(i * length, (i + 1) * length), i * 2 * length);
    out.set(rr.subarray(i * rrFeatures, (i + 1) * rrFeatures), i * 2 * length + length);
  }
  return out;
}

/** Header fields of an exported model that the model itself does not know. */
export interface ExportInfo {
  /** Model name. */
  name: string;
  /** Class names (one per output). */
  classes: string[];
  /** Sampling rate of the input windows. */
  sampleRate: number;
  /** Samples before the R peak in a beat window. */
  beatBefore: number;
  /** Free-form provenance (dataset, split, metrics, commit…). */
  provenance: Record<string, unknown>;
  /** Store BatchNorm folded into the preceding convolution (default true). */
  foldBatchNorm?: boolean;
}

/**
 * The @ecgnn/infer model spec of a trained {@link BeatNet} (call in evaluation mode: BatchNorm uses its
 * running statistics). Graph: [select beat channel] → trunk (conv+BN folded, ReLU, max-pool) → global average
 * pool → [concat RR features selected from channel 1] → linear → logits; output activation softmax.
 */
export function exportBeatNet(model: BeatNet, info: ExportInfo): ModelSpec {
  const layout = beatNetInputLayout(model);
  const { length, rrFeatures } = model.options;
  const g = new GraphBuilder();
  const input = g.value('x');
  const beat = rrFeatures > 0 ? g.selectChannel(input, 2, 0, 'selectBeat') : input;
  const trunk = g.module(beat, model.features, 'features', info.foldBatchNorm ?? true);
  let feats = g.module(g.module(trunk, model.pool, 'pool'), model.drop, 'drop');
  if (rrFeatures > 0) {
    const positions = Array.from({ length: rrFeatures }, (_, r) => length + r);
    const rr = g.selectElements(input, 2 * length, positions, 'selectRR');
    feats = g.node('concat', [feats, rr], 'features_rr');
  }
  const logits = g.module(feats, model.head, 'head');
  // Preprocessing is applied by the streaming classifier only; this model's input needs RR features computed
  // outside the window, so no normalisation is declared here (callers z-score the beat channel themselves).
  const preprocessing: Preprocessing = { normalize: 'none' };
  const windowing: Windowing = { mode: 'beat', before: info.beatBefore };
  return {
    name: info.name,
    input: { channels: layout.channels, length: layout.length, sampleRate: info.sampleRate },
    classes: info.classes,
    outputActivation: 'softmax',
    preprocessing,
    windowing,
    graph: { input, output: logits, nodes: g.nodes },
    tensors: g.tensors,
    provenance: { inputLayout: layout.description, ...info.provenance },
  };
}
