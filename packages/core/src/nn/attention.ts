/** Multi-head attention and squeeze-and-excitation (channel attention). */

import { ValueError } from '../errors.js';
import { mean, mul, relu, sigmoid, unsqueeze } from '../ops/basic.js';
import { multiHeadAttention } from '../ops/nn.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { checkInput, checkPositiveInt, type LayerOptions, newParameter } from './common.js';
import { xavierUniform } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/** Options of {@link MultiheadAttention}. */
export interface MultiheadAttentionOptions extends LayerOptions {
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Dropout probability on the attention weights, in training mode only (default 0). */
  dropout?: number;
}

/** Per-call options of {@link MultiheadAttention.forward}. */
export interface AttentionCallOptions {
  /** Mask out future positions (query i sees keys j ≤ i), e.g. SNAIL's causal attention. */
  isCausal?: boolean;
  /** Additive mask `[Lq, Lk]` (−∞ to block) or boolean-like 0/1 mask as the functional op accepts. */
  attnMask?: Tensor | null;
}

/**
 * Multi-head attention (Vaswani et al. 2017), batch-first: inputs `[N, L, E]`. Q, K, V are projected by one
 * packed weight `inProjWeight [3E, E]` (+ `inProjBias [3E]`), split into `numHeads` heads of E/numHeads,
 * combined by softmax(QKᵀ/√d)V, and projected by `outProj` (Linear E→E). Initialised as PyTorch: Xavier
 * uniform in-projection, zero biases.
 */
export class MultiheadAttention extends Module<[Tensor, Tensor?, Tensor?, AttentionCallOptions?], Tensor> {
  /** Packed Q/K/V projection `[3E, E]`. */
  declare readonly inProjWeight: Tensor;
  /** Packed Q/K/V bias `[3E]` or null. */
  declare readonly inProjBias: Tensor | null;
  /** Output projection. */
  declare readonly outProj: Linear;
  /** Dropout probability on the attention weights (training only). */
  readonly dropout: number;
  /** Generator of the dropout masks (the global default when undefined). */
  generator: Generator | undefined;

  /** Creates the layer; `embedDim` must be divisible by `numHeads`. */
  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    checkPositiveInt('MultiheadAttention', 'embedDim', embedDim);
    checkPositiveInt('MultiheadAttention', 'numHeads', numHeads);
    if (embedDim % numHeads !== 0)
      throw new ValueError(
        `MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`,
      );
    const bias = opts.bias ?? true;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1))
      throw new ValueError(`MultiheadAttention: dropout must be in [0, 1), got ${this.dropout}`);
    this.generator = opts.generator;
    const w = newParameter([3 * embedDim, embedDim], opts.dtype);
    xavierUniform(w, { generator: opts.generator });
    this.registerParameter('inProjWeight', w);
    this.registerParameter('inProjBias', bias ? newParameter([3 * embedDim], opts.dtype) : null);
    const out = new Linear(embedDim, embedDim, { bias, generator: opts.generator, dtype: opts.dtype });
    out.bias?.data.fill(0);
    this.registerModule('outProj', out);
  }

  /**
   * Self-attention with `forward(x)`, or cross-attention with `forward(query, key, value)`;
   * `[N, Lq, E]` → `[N, Lq, E]`.
   */
  forward(query: Tensor, key?: Tensor, value?: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const e = this.embedDim;
    checkInput('MultiheadAttention', query, [3], 2, e, `query [N, L, ${e}]`);
    const k = key ?? query;
    const v = value ?? k;
    checkInput('MultiheadAttention', k, [3], 2, e, `key [N, L, ${e}]`);
    checkInput('MultiheadAttention', v, [3], 2, e, `value [N, L, ${e}]`);
    return multiHeadAttention(query, k, v, {
      numHeads: this.numHeads,
      inProjWeight: this.inProjWeight,
      inProjBias: this.inProjBias,
      outProjWeight: this.outProj.weight,
      outProjBias: this.outProj.bias,
      isCausal: opts.isCausal ?? false,
      attnMask: opts.attnMask ?? null,
      dropoutP: this.training ? this.dropout : 0,
      generator: this.generator,
    });
  }

  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}${this.dropout > 0 ? `, dropout=${this.dropout}` : ''}, batchFirst=true`;
  }
}

/** Options of {@link SqueezeExcitation1d}. */
export interface SqueezeExcitationOptions extends LayerOptions {
  /** Hidden width (default max(1, ⌊channels / reduction⌋)). */
  squeezeChannels?: number;
  /** Channel reduction ratio r (default 16, Hu et al. 2018). */
  reduction?: number;
}

/**
 * Squeeze-and-excitation channel attention (Hu et al. 2018) for NCL input: s = σ(W₂ ReLU(W₁ mean_L(x)));
 * y = x · s per channel.
 */
export class SqueezeExcitation1d extends Module {
  /** Squeeze C → S. */
  declare readonly fc1: Linear;
  /** Excite S → C. */
  declare readonly fc2: Linear;
  /** Hidden width. */
  readonly squeezeChannels: number;

  /** Creates the block. */
  constructor(
    readonly channels: number,
    opts: SqueezeExcitationOptions = {},
  ) {
    super();
    checkPositiveInt('SqueezeExcitation1d', 'channels', channels);
    const r = opts.reduction ?? 16;
    checkPositiveInt('SqueezeExcitation1d', 'reduction', r);
    this.squeezeChannels = opts.squeezeChannels ?? Math.max(1, Math.floor(channels / r));
    checkPositiveInt('SqueezeExcitation1d', 'squeezeChannels', this.squeezeChannels);
    const lo = { generator: opts.generator, dtype: opts.dtype };
    this.registerModule('fc1', new Linear(channels, this.squeezeChannels, lo));
    this.registerModule('fc2', new Linear(this.squeezeChannels, channels, lo));
  }

  /** `[N, C, L]` → `[N, C, L]`, each channel scaled by its gate in (0, 1). */
  forward(x: Tensor): Tensor {
    checkInput('SqueezeExcitation1d', x, [3], 1, this.channels, `[N, ${this.channels}, L]`);
    const s = sigmoid(this.fc2.call(relu(this.fc1.call(mean(x, 2)))));
    return mul(x, unsqueeze(s, 2));
  }

  override extraRepr(): string {
    return `channels=${this.channels}, squeezeChannels=${this.squeezeChannels}`;
  }
}
