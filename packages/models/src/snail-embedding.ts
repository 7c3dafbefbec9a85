/**
 * The per-sample embedding CNN of the meta-learning method (patent CN109700434A, after SNAIL's mini-ImageNet
 * embedding, Mishra et al. 2018, made 1-D): residual blocks of {3-wide conv, BatchNorm, ReLU, dropout, 2-wide
 * max-pool}, then global average pooling over time and a fully connected layer to the embedding. The patent's
 * filters are 64, 96, 128, 256 and a 384-unit layer; smaller widths are allowed (the config holds them).
 */
import { add, globalAvgPool1d, nn, relu, ShapeError, type Tensor } from '@ecgnn/core';
import { ModelConfigError } from './config.js';
import type { BuildOptions } from './pooled.js';

/** Config of {@link EcgEmbeddingCnn}. */
export interface EmbeddingConfig {
  /** Samples per beat window (input length). */
  length: number;
  /** Output channels of the residual blocks (the method's: [64, 96, 128, 256]). */
  filters: number[];
  /** Size of the embedding (the fully connected layer's outputs; the method's 384). */
  embedDim: number;
  /** Dropout probability after each block's ReLU (training only). */
  dropout: number;
}

/** The method's widths (patent CN109700434A): four blocks of 64, 96, 128, 256 filters, a 384-unit layer. */
export const EMBEDDING_METHOD_WIDTHS = { filters: [64, 96, 128, 256], embedDim: 384 } as const;

/** Checks an embedding config; a {@link ModelConfigError} names the field. */
export function checkEmbeddingConfig(c: EmbeddingConfig): void {
  const bad = (field: string, v: unknown, want: string): never => {
    throw new ModelConfigError(`embedding: ${field} must be ${want}, got ${JSON.stringify(v)}`);
  };
  if (!Number.isInteger(c.embedDim) || c.embedDim < 1) bad('embedDim', c.embedDim, 'a positive integer');
  if (!Array.isArray(c.filters) || c.filters.length < 1) bad('filters', c.filters, 'a non-empty array');
  c.filters.forEach((f, i) => {
    if (!Number.isInteger(f) || f < 1) bad(`filters[${i}]`, f, 'a positive integer');
  });
  if (!(c.dropout >= 0 && c.dropout < 1)) bad('dropout', c.dropout, 'in [0, 1)');
  // each block halves the length (⌊L/2⌋); the last block must keep at least one sample
  if (!Number.isInteger(c.length) || c.length >> c.filters.length < 1)
    bad('length', c.length, `an integer ≥ ${2 ** c.filters.length} for ${c.filters.length} blocks`);
}

/**
 * One residual block: y = maxPool₂(dropout(ReLU(BN(conv₃(x)) + skip(x)))), where skip is the identity when the
 * channel counts agree and a 1×1 convolution otherwise (the patent's residual blocks with one 3-wide
 * convolution each, kept to one for CPU cost).
 */
export class ResidualConvBlock extends nn.Module {
  /** The 3-wide convolution (padding 1, no bias: BatchNorm follows). */
  declare readonly conv: nn.Conv1d;
  /** BatchNorm of the convolution's output. */
  declare readonly bn: nn.BatchNorm1d;
  /** The 1×1 projection of the shortcut, or null for the identity. */
  declare readonly skip: nn.Conv1d | null;
  /** Dropout after the ReLU. */
  declare readonly drop: nn.Dropout;
  /** 2-wide max-pool, stride 2. */
  declare readonly pool: nn.MaxPool1d;

  /** Creates the block `inChannels → outChannels`. */
  constructor(inChannels: number, outChannels: number, dropout: number, opts: BuildOptions = {}) {
    super();
    const o = { generator: opts.generator, dtype: opts.dtype };
    this.registerModule('conv', new nn.Conv1d(inChannels, outChannels, 3, { ...o, padding: 1, bias: false }));
    this.registerModule('bn', new nn.BatchNorm1d(outChannels, { dtype: opts.dtype }));
    this.registerModule(
      'skip',
      inChannels === outChannels ? null : new nn.Conv1d(inChannels, outChannels, 1, o),
    );
    this.registerModule('drop', new nn.Dropout(dropout, { generator: opts.generator }));
    this.registerModule('pool', new nn.MaxPool1d(2));
  }

  /** `[N, C_in, L]` → `[N, C_out, ⌊L/2⌋]`. */
  forward(x: Tensor): Tensor {
    const main = this.bn.forward(this.conv.forward(x));
    const short = this.skip === null ? x : this.skip.forward(x);
    return this.pool.forward(this.drop.forward(relu(add(main, short))));
  }
}

/**
 * The embedding CNN: beat windows `[N, L]` (or `[N, 1, L]`) → embeddings `[N, embedDim]`. Parameters:
 * Σ_blocks (3·c_in·c_out + 2·c_out + [c_in ≠ c_out]·(c_in·c_out + c_out)) + (c_last + 1)·embedDim.
 */
export class EcgEmbeddingCnn extends nn.Module {
  /** The residual blocks in order. */
  declare readonly blocks: nn.Sequential;
  /** The fully connected layer after global average pooling. */
  declare readonly fc: nn.Linear;
  /** The config the network was built from. */
  readonly config: EmbeddingConfig;

  /** Builds the network; throws {@link ModelConfigError} for a bad config. */
  constructor(config: EmbeddingConfig, opts: BuildOptions = {}) {
    super();
    checkEmbeddingConfig(config);
    this.config = { ...config, filters: [...config.filters] };
    const blocks = new nn.Sequential();
    let c = 1;
    for (const f of config.filters) {
      blocks.append(new ResidualConvBlock(c, f, config.dropout, opts));
      c = f;
    }
    this.registerModule('blocks', blocks);
    this.registerModule(
      'fc',
      new nn.Linear(c, config.embedDim, { generator: opts.generator, dtype: opts.dtype }),
    );
  }

  /** Beat windows `[N, L]` or `[N, 1, L]` → `[N, embedDim]`. */
  forward(x: Tensor): Tensor {
    const L = this.config.length;
    const ok = (x.ndim === 2 && x.shape[1] === L) || (x.ndim === 3 && x.shape[1] === 1 && x.shape[2] === L);
    if (!ok)
      throw new ShapeError(
        `EcgEmbeddingCnn: input must be [N, ${L}] or [N, 1, ${L}], got [${x.shape.join(', ')}]`,
      );
    const x3 = x.ndim === 2 ? x.reshape([x.shape[0], 1, L]) : x;
    return this.fc.forward(globalAvgPool1d(this.blocks.forward(x3)));
  }
}
