/**
 * BeatNet, the main job's model (moved from examples/lib/model.ts): a small 1-D CNN over one beat window,
 * global average pooling, the beat's RR features concatenated, and a linear layer to the classes.
 */
import { nn } from '@ecgnn/core';
import {
  type ClassifierIO,
  ConfigReader,
  convParams,
  IO_FIELDS,
  ModelConfigError,
  type ResolvedIO,
} from './config.js';
import type { ModelKind } from './kind.js';
import {
  appendConvBlock,
  type BuildOptions,
  blockParams,
  checkPooledLength,
  PooledClassifier,
  tailParams,
} from './pooled.js';

/** Config of {@link BeatNet}. */
export interface BeatNetConfig extends ClassifierIO {
  /** Registry kind. */
  kind: 'beatnet';
  /** Output channels of the conv blocks (default [8, 16, 32]). */
  channels?: number[];
  /** Kernel size of each conv block (default [7, 5, 5]); as many as `channels`. */
  kernels?: number[];
  /** Max-pool width after each block (default 2; 1 = no pooling). */
  pool?: number;
  /** Dropout probability on the pooled waveform features before the RR features join (default 0.3). */
  dropout?: number;
}

/** {@link BeatNetConfig} with every default filled in. */
export type ResolvedBeatNetConfig = Required<BeatNetConfig> & ResolvedIO;

/**
 * BeatNet: blocks of Conv1d('same' padding, no bias) → BatchNorm1d → ReLU → MaxPool1d(pool) over the window
 * `[N, C, L]`, global average pooling to `[N, F]`, dropout (training only; it keeps the classifier from
 * leaning on waveform details of the few training patients alone), concatenation with the RR features
 * `[N, R]`, and Linear(F + R → classes) giving logits.
 *
 * Parameters: Σᵢ (cᵢ₋₁·cᵢ·kᵢ + 2cᵢ) + (F + R + 1)·classes, with c₋₁ = inChannels and F the last channels.
 */
export class BeatNet extends PooledClassifier<ResolvedBeatNetConfig> {
  /** Builds the model from a resolved config (see {@link beatNetKind}). */
  constructor(config: ResolvedBeatNetConfig, opts: BuildOptions = {}) {
    const trunk = new nn.Sequential();
    let inC = config.inChannels;
    config.channels.forEach((c, i) => {
      const conv = new nn.Conv1d(inC, c, config.kernels[i], {
        padding: 'same',
        bias: false,
        generator: opts.generator,
        dtype: opts.dtype,
      });
      appendConvBlock(trunk, conv, c, config.pool, opts);
      inC = c;
    });
    super(config, trunk, inC, config.dropout, opts);
  }
}

/** The `'beatnet'` kind of the model registry. */
export const beatNetKind: ModelKind<ResolvedBeatNetConfig> = {
  kind: 'beatnet',
  description: 'BeatNet: conv/BN/ReLU/max-pool blocks, global average pooling, RR features, linear head',
  resolve(config: unknown): ResolvedBeatNetConfig {
    const r = new ConfigReader('beatnet', config, [...IO_FIELDS, 'channels', 'kernels', 'pool', 'dropout']);
    const channels = r.intArray('channels', [8, 16, 32]);
    const kernels = r.intArray('kernels', [7, 5, 5]);
    if (kernels.length !== channels.length) {
      throw new ModelConfigError(
        `beatnet: kernels has ${kernels.length} entries but channels has ${channels.length}`,
      );
    }
    const resolved: ResolvedBeatNetConfig = {
      kind: 'beatnet',
      ...r.io(),
      channels,
      kernels,
      pool: r.int('pool', 2),
      dropout: r.probability('dropout', 0.3),
    };
    checkPooledLength('beatnet', resolved.length, resolved.pool, channels.length);
    return resolved;
  },
  parameterCount(c: ResolvedBeatNetConfig): number {
    let n = 0;
    let inC = c.inChannels;
    c.channels.forEach((ch, i) => {
      n += blockParams(convParams(inC, ch, c.kernels[i]), ch);
      inC = ch;
    });
    return n + tailParams(inC, c);
  },
  layerCount(c: ResolvedBeatNetConfig): number {
    return c.channels.length + 1;
  },
  build(c: ResolvedBeatNetConfig, opts: BuildOptions): BeatNet {
    return new BeatNet(c, opts);
  },
};
