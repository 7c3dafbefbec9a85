/**
 * Compact students of the distillation method (patent CN110558972A S4: fewer layers AND fewer parameters than
 * the teacher): a short plain CNN, optionally with depthwise-separable convolutions after the first block.
 */
import { nn } from '@ecgnn/core';
import {
  type ClassifierIO,
  ConfigReader,
  convParams,
  IO_FIELDS,
  ModelConfigError,
  type ResolvedIO,
  separableParams,
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

/** Config of {@link Student}. */
export interface StudentConfig extends ClassifierIO {
  /** Registry kind. */
  kind: 'student';
  /** Output channels of the conv blocks (default [8, 16]). */
  channels?: number[];
  /** Kernel size of each conv block (default [7, 5]); as many as `channels`. */
  kernels?: number[];
  /**
   * Depthwise-separable convolutions (per-channel conv, then 1×1 mixing; Howard et al. 2017, MobileNets) in
   * every block after the first (default false). The first block's input has too few channels to gain.
   */
  separable?: boolean;
  /** Max-pool width after each block (default 2; 1 = none). */
  pool?: number;
  /** Dropout on the pooled features before the RR features join (default 0.1). */
  dropout?: number;
}

/** {@link StudentConfig} with every default filled in. */
export type ResolvedStudentConfig = Required<StudentConfig> & ResolvedIO;

/**
 * Student: blocks of Conv('same', no bias) → BN → ReLU → MaxPool, global average pooling, dropout, RR
 * features, Linear. With `separable`, blocks after the first use DepthwiseSeparableConv1d (depthwise k taps
 * per channel, then pointwise a → b; no biases).
 *
 * Parameters: first block C·c₀·k₀ + 2c₀; block i: cᵢ₋₁·cᵢ·kᵢ + 2cᵢ, or cᵢ₋₁·kᵢ + cᵢ₋₁·cᵢ + 2cᵢ when
 * separable; head (F + R + 1)·classes.
 */
export class Student extends PooledClassifier<ResolvedStudentConfig> {
  /** Builds the model from a resolved config (see {@link studentKind}). */
  constructor(config: ResolvedStudentConfig, opts: BuildOptions = {}) {
    const trunk = new nn.Sequential();
    const common = { bias: false, generator: opts.generator, dtype: opts.dtype };
    let inC = config.inChannels;
    config.channels.forEach((c, i) => {
      const k = config.kernels[i];
      const conv =
        config.separable && i > 0
          ? new nn.DepthwiseSeparableConv1d(inC, c, k, { ...common, padding: 'same' })
          : new nn.Conv1d(inC, c, k, { ...common, padding: 'same' });
      appendConvBlock(trunk, conv, c, config.pool, opts);
      inC = c;
    });
    super(config, trunk, inC, config.dropout, opts);
  }
}

/** The `'student'` kind of the model registry. */
export const studentKind: ModelKind<ResolvedStudentConfig> = {
  kind: 'student',
  description:
    'compact student CNN: few conv/BN/ReLU/max-pool blocks (optionally separable), RR features, head',
  resolve(config: unknown): ResolvedStudentConfig {
    const r = new ConfigReader('student', config, [
      ...IO_FIELDS,
      'channels',
      'kernels',
      'separable',
      'pool',
      'dropout',
    ]);
    const channels = r.intArray('channels', [8, 16]);
    const kernels = r.intArray('kernels', [7, 5]);
    if (kernels.length !== channels.length) {
      throw new ModelConfigError(
        `student: kernels has ${kernels.length} entries but channels has ${channels.length}`,
      );
    }
    const resolved: ResolvedStudentConfig = {
      kind: 'student',
      ...r.io(),
      channels,
      kernels,
      separable: r.bool('separable', false),
      pool: r.int('pool', 2),
      dropout: r.probability('dropout', 0.1),
    };
    checkPooledLength('student', resolved.length, resolved.pool, channels.length);
    return resolved;
  },
  parameterCount(c: ResolvedStudentConfig): number {
    let n = 0;
    let inC = c.inChannels;
    c.channels.forEach((ch, i) => {
      const k = c.kernels[i];
      const conv = c.separable && i > 0 ? separableParams(inC, ch, k) : convParams(inC, ch, k);
      n += blockParams(conv, ch);
      inC = ch;
    });
    return n + tailParams(inC, c);
  },
  layerCount(c: ResolvedStudentConfig): number {
    // A separable convolution is two weight layers (depthwise and pointwise).
    const separable = c.separable ? c.channels.length - 1 : 0;
    return c.channels.length + separable + 1;
  },
  build(c: ResolvedStudentConfig, opts: BuildOptions): Student {
    return new Student(c, opts);
  },
};
