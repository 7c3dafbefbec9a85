/**
 * SNAIL, "A Simple Neural Attentive Meta-Learner" (Mishra, Rohaninejad, Chen, Abbeel, ICLR 2018), as the
 * meta-learning method's model (patent CN109700434A, methods.md §2):
 * - DenseBlock(R, D): two causal convolutions of kernel 2 and dilation R, f and g with D filters each; the
 *   activation tanh(f) ⊙ σ(g) is concatenated to the input (channels C → C + D).
 * - TCBlock(T, D): ⌈log₂ T⌉ dense blocks with dilations 1, 2, 4, … (receptive field ≥ T).
 * - AttentionBlock(K, V): linear query/key (K) and value (V) projections, causal softmax(QKᵀ/√K)V (softmax over
 *   the keys j ≤ i of query step i), concatenated to the input (C → C + V).
 * - Network: Att(k₁, v₁) → TC(T, D) → Att(k₂, v₂) → TC(T, D) → Att(k₃, v₃) → linear to M classes (the paper's
 *   mini-ImageNet model, with (64, 32), 128, (256, 128), 128, (512, 256)).
 * Each step of an episode sequence is a sample's embedding concatenated with its one-hot label; the query's
 * label slot is zero and the prediction at the last step is scored. Every layer is causal: the output at step
 * t depends on steps 1…t only.
 */
import {
  concat,
  nn,
  ShapeError,
  scaledDotProductAttention,
  sigmoid,
  type Tensor,
  tanh,
  tensor,
} from '@ecgnn/core';
import { ModelConfigError } from './config.js';
import type { BuildOptions } from './pooled.js';
import { EcgEmbeddingCnn, type EmbeddingConfig } from './snail-embedding.js';

/** Sequence `[N, T, C]` → channels-first `[N, C, T]` for the convolutions, and back. */
function swap(x: Tensor): Tensor {
  return x.transpose(1, 2);
}

function checkSequence(who: string, x: Tensor, channels: number): void {
  if (x.ndim !== 3 || x.shape[2] !== channels)
    throw new ShapeError(`${who}: input must be [N, T, ${channels}], got [${x.shape.join(', ')}]`);
}

/**
 * DenseBlock(R, D) of SNAIL: f = conv_f(x), g = conv_g(x), both kernel 2, dilation R, left padding R (so step t
 * reads steps t − R and t only); returns concat(x, tanh(f) ⊙ σ(g)) along the channels: `[N, T, C]` →
 * `[N, T, C + D]`.
 */
export class DenseBlock extends nn.Module {
  /** Filter convolution f. */
  declare readonly convF: nn.Conv1d;
  /** Gate convolution g. */
  declare readonly convG: nn.Conv1d;

  /** Creates the block on `inChannels` channels with dilation `dilation` and `filters` (D) outputs. */
  constructor(
    readonly inChannels: number,
    readonly dilation: number,
    readonly filters: number,
    opts: BuildOptions = {},
  ) {
    super();
    const o = { generator: opts.generator, dtype: opts.dtype, dilation, padding: [dilation, 0] as const };
    this.registerModule('convF', new nn.Conv1d(inChannels, filters, 2, o));
    this.registerModule('convG', new nn.Conv1d(inChannels, filters, 2, o));
  }

  /** `[N, T, C]` → `[N, T, C + D]`. */
  forward(x: Tensor): Tensor {
    checkSequence('DenseBlock', x, this.inChannels);
    const xt = swap(x);
    const act = tanh(this.convF.forward(xt)).mul(sigmoid(this.convG.forward(xt)));
    return concat([x, swap(act)], 2);
  }
}

/** Number of dense blocks of TCBlock(T, ·): ⌈log₂ T⌉ (at least 1). */
export function tcDepth(seqLength: number): number {
  if (!Number.isInteger(seqLength) || seqLength < 1)
    throw new ModelConfigError(`snail: sequence length must be a positive integer, got ${seqLength}`);
  return Math.max(1, Math.ceil(Math.log2(seqLength)));
}

/** TCBlock(T, D): ⌈log₂ T⌉ dense blocks with dilations 1, 2, 4, …; `[N, T, C]` → `[N, T, C + ⌈log₂T⌉·D]`. */
export class TCBlock extends nn.Module {
  /** The dense blocks in order. */
  declare readonly blocks: nn.Sequential;
  /** Output channels. */
  readonly outChannels: number;

  /** Creates the block for sequences up to `seqLength` steps. */
  constructor(inChannels: number, seqLength: number, filters: number, opts: BuildOptions = {}) {
    super();
    const blocks = new nn.Sequential();
    let c = inChannels;
    for (let i = 0; i < tcDepth(seqLength); i++) {
      blocks.append(new DenseBlock(c, 2 ** i, filters, opts));
      c += filters;
    }
    this.registerModule('blocks', blocks);
    this.outChannels = c;
  }

  /** `[N, T, C]` → `[N, T, C + ⌈log₂T⌉·D]`. */
  forward(x: Tensor): Tensor {
    return this.blocks.forward(x);
  }
}

/**
 * AttentionBlock(K, V) of SNAIL: q = xW_q, k = xW_k (K features), v = xW_v (V features), read =
 * softmax(qkᵀ/√K + causal mask)·v (core `scaledDotProductAttention` with `isCausal`); returns concat(x, read):
 * `[N, T, C]` → `[N, T, C + V]`.
 */
export class AttentionBlock extends nn.Module {
  /** Query projection C → K. */
  declare readonly query: nn.Linear;
  /** Key projection C → K. */
  declare readonly key: nn.Linear;
  /** Value projection C → V. */
  declare readonly value: nn.Linear;

  /** Creates the block on `inChannels` channels. */
  constructor(
    readonly inChannels: number,
    readonly keySize: number,
    readonly valueSize: number,
    opts: BuildOptions = {},
  ) {
    super();
    const o = { generator: opts.generator, dtype: opts.dtype };
    this.registerModule('query', new nn.Linear(inChannels, keySize, o));
    this.registerModule('key', new nn.Linear(inChannels, keySize, o));
    this.registerModule('value', new nn.Linear(inChannels, valueSize, o));
  }

  /** `[N, T, C]` → `[N, T, C + V]`. */
  forward(x: Tensor): Tensor {
    checkSequence('AttentionBlock', x, this.inChannels);
    const read = scaledDotProductAttention(
      this.query.forward(x),
      this.key.forward(x),
      this.value.forward(x),
      {
        isCausal: true,
      },
    );
    return concat([x, read], 2);
  }
}

/** Config of {@link Snail}. */
export interface SnailConfig {
  /** M: classes per episode (label slots and outputs); episodes with fewer classes use the first slots. */
  ways: number;
  /** k: largest number of shots per class; sequences have at most T = M·k + 1 steps. */
  shots: number;
  /** The per-sample embedding CNN. */
  embedding: EmbeddingConfig;
  /** (K, V) of the three attention blocks (the paper's [[64, 32], [256, 128], [512, 256]]). */
  attention: [number, number][];
  /** Filters D of the dense blocks of both TC blocks (the paper's 128). */
  tcFilters: number;
}

/** The paper's SNAIL widths (mini-ImageNet): Att(64,32), TC(·,128), Att(256,128), TC(·,128), Att(512,256). */
export const SNAIL_METHOD_WIDTHS = {
  attention: [
    [64, 32],
    [256, 128],
    [512, 256],
  ],
  tcFilters: 128,
} as const;

/** Checks a SNAIL config; a {@link ModelConfigError} names the field. */
export function checkSnailConfig(c: SnailConfig): void {
  const bad = (field: string, v: unknown, want: string): never => {
    throw new ModelConfigError(`snail: ${field} must be ${want}, got ${JSON.stringify(v)}`);
  };
  if (!Number.isInteger(c.ways) || c.ways < 2) bad('ways', c.ways, 'an integer ≥ 2');
  if (!Number.isInteger(c.shots) || c.shots < 1) bad('shots', c.shots, 'a positive integer');
  if (!Number.isInteger(c.tcFilters) || c.tcFilters < 1) bad('tcFilters', c.tcFilters, 'a positive integer');
  if (!Array.isArray(c.attention) || c.attention.length !== 3)
    bad('attention', c.attention, 'three [K, V] pairs');
  c.attention.forEach((kv, i) => {
    if (!Array.isArray(kv) || kv.length !== 2 || !kv.every((v) => Number.isInteger(v) && v >= 1))
      bad(`attention[${i}]`, kv, 'a pair [K, V] of positive integers');
  });
}

/**
 * The SNAIL few-shot classifier: `embed` (the per-sample CNN) and the causal sequence network (`att1`, `tc1`,
 * `att2`, `tc2`, `att3`, `out`). {@link Snail.forward} runs the sequence network on
 * `[N, T, embedDim + ways]` steps and returns logits at every step; {@link Snail.classify} builds the steps
 * from beats and labels (−1 = query, zero label slot) and returns the last step's logits.
 */
export class Snail extends nn.Module {
  /** The per-sample embedding. */
  declare readonly embed: EcgEmbeddingCnn;
  /** Att(k₁, v₁). */
  declare readonly att1: AttentionBlock;
  /** TC(T, D). */
  declare readonly tc1: TCBlock;
  /** Att(k₂, v₂). */
  declare readonly att2: AttentionBlock;
  /** TC(T, D). */
  declare readonly tc2: TCBlock;
  /** Att(k₃, v₃). */
  declare readonly att3: AttentionBlock;
  /** Linear layer to the M classes (applied at every step). */
  declare readonly out: nn.Linear;
  /** The config the model was built from. */
  readonly config: SnailConfig;

  /** Builds the model; throws {@link ModelConfigError} for a bad config. */
  constructor(config: SnailConfig, opts: BuildOptions = {}) {
    super();
    checkSnailConfig(config);
    this.config = structuredClone(config);
    const T = config.ways * config.shots + 1;
    this.registerModule('embed', new EcgEmbeddingCnn(config.embedding, opts));
    let c = config.embedding.embedDim + config.ways;
    const [a1, a2, a3] = config.attention;
    const att1 = new AttentionBlock(c, a1[0], a1[1], opts);
    c += a1[1];
    const tc1 = new TCBlock(c, T, config.tcFilters, opts);
    c = tc1.outChannels;
    const att2 = new AttentionBlock(c, a2[0], a2[1], opts);
    c += a2[1];
    const tc2 = new TCBlock(c, T, config.tcFilters, opts);
    c = tc2.outChannels;
    const att3 = new AttentionBlock(c, a3[0], a3[1], opts);
    c += a3[1];
    this.registerModule('att1', att1);
    this.registerModule('tc1', tc1);
    this.registerModule('att2', att2);
    this.registerModule('tc2', tc2);
    this.registerModule('att3', att3);
    this.registerModule(
      'out',
      new nn.Linear(c, config.ways, { generator: opts.generator, dtype: opts.dtype }),
    );
  }

  /** Largest sequence length T = M·k + 1 the TC blocks cover. */
  get maxSteps(): number {
    return this.config.ways * this.config.shots + 1;
  }

  /** Steps `[N, T, embedDim + ways]` → logits `[N, T, ways]` (causal: step t sees steps ≤ t). */
  forward(steps: Tensor): Tensor {
    checkSequence('Snail', steps, this.config.embedding.embedDim + this.config.ways);
    let h = this.att1.forward(steps);
    h = this.tc1.forward(h);
    h = this.att2.forward(h);
    h = this.tc2.forward(h);
    h = this.att3.forward(h);
    return this.out.forward(h);
  }

  /**
   * Builds the steps of N sequences from embeddings `[N, T, embedDim]` and labels (N·T episode-local labels,
   * row-major; −1 leaves the label slot zero, as for the query): each step is concat(embedding, onehot(label)).
   */
  steps(embeddings: Tensor, labels: ArrayLike<number>): Tensor {
    const { ways } = this.config;
    const [n, t] = embeddings.shape;
    if (labels.length !== n * t) throw new ShapeError(`Snail: ${labels.length} labels for ${n}×${t} steps`);
    const onehot = new Float32Array(n * t * ways);
    for (let i = 0; i < n * t; i++) {
      const l = labels[i];
      if (!Number.isInteger(l) || l < -1 || l >= ways)
        throw new ShapeError(`Snail: label ${l} at step ${i} is outside −1…${ways - 1}`);
      if (l >= 0) onehot[i * ways + l] = 1;
    }
    const slots = tensor(onehot, [n, t, ways], { dtype: embeddings.dtype });
    return concat([embeddings, slots], 2);
  }

  /**
   * Few-shot classification of N sequences of T beats: beats `[N·T, L]` (sequence-major) and their labels
   * (−1 for the query, normally the last step) → logits `[N, ways]` of the last step.
   */
  classify(beats: Tensor, labels: ArrayLike<number>, steps: number): Tensor {
    if (!Number.isInteger(steps) || steps < 1 || steps > this.maxSteps)
      throw new ShapeError(`Snail: sequences must have 1…${this.maxSteps} steps, got ${steps}`);
    if (beats.shape[0] % steps !== 0)
      throw new ShapeError(`Snail: ${beats.shape[0]} beats do not split into sequences of ${steps}`);
    const n = beats.shape[0] / steps;
    const e = this.embed.forward(beats).reshape([n, steps, this.config.embedding.embedDim]);
    const logits = this.forward(this.steps(e, labels));
    return logits.narrow(1, steps - 1, 1).reshape([n, this.config.ways]);
  }
}
