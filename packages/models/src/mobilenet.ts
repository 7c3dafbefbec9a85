/**
 * A 1-D MobileNet-style classifier (Howard et al. 2017, MobileNets), the baseline of the multi-scale attention
 * network of method 4: a strided convolution stem, then a plain stack of depthwise-separable convolutions (one
 * kernel size, channel widths and strides per block), each followed by BatchNorm and ReLU, global average
 * pooling, dropout and a linear head. It is built from the same layers as the multi-scale network
 * (multiscale.ts), so the comparison isolates the multi-scale branches, attention and dense connections.
 *
 * Departure from MobileNet v1: its BatchNorm + ReLU between the depthwise and the pointwise convolution is left
 * out (`nn.DepthwiseSeparableConv1d` is the pair without it), as in the multi-scale network's branches.
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
import { appendConvBlock, type BuildOptions, blockParams, PooledClassifier, tailParams } from './pooled.js';

/** The convolution stem shared by the MobileNet baseline and the multi-scale network. */
export interface StemConfig {
  /** Output channels of the stem convolution (default 16). */
  stem?: number;
  /** Kernel size of the stem convolution (odd; default 7). */
  stemKernel?: number;
  /** Stride of the stem convolution (default 2). */
  stemStride?: number;
  /** Max-pool width after the stem (default 2; 1 = none). */
  stemPool?: number;
}

/** {@link StemConfig} with its defaults filled. */
export type ResolvedStem = Required<StemConfig>;

/** Config fields of {@link StemConfig}, for the `allowed` list of a ConfigReader. */
export const STEM_FIELDS = ['stem', 'stemKernel', 'stemStride', 'stemPool'] as const;

/** An odd integer ≥ 1 (kernels centred by symmetric padding (k − 1)/2). */
export function oddKernel(r: ConfigReader, field: string, k: number): number {
  if (k % 2 !== 1) r.error(field, 'odd (centred kernels)', k);
  return k;
}

/** Reads the stem fields of a config. */
export function readStem(r: ConfigReader): ResolvedStem {
  return {
    stem: r.int('stem', 16),
    stemKernel: oddKernel(r, 'stemKernel', r.int('stemKernel', 7)),
    stemStride: r.int('stemStride', 2),
    stemPool: r.int('stemPool', 2),
  };
}

/**
 * Output length of a convolution with kernel k, stride s and symmetric padding p = (k − 1)/2:
 * ⌊(L + 2p − k)/s⌋ + 1 = ⌊(L − 1)/s⌋ + 1.
 */
export function stridedLength(length: number, stride: number): number {
  return Math.floor((length - 1) / stride) + 1;
}

/** Length after the stem: strided convolution, then max-pool of width and stride `stemPool` (⌊L/p⌋). */
export function stemLength(length: number, s: ResolvedStem): number {
  const l = stridedLength(length, s.stemStride);
  return s.stemPool > 1 ? Math.floor(l / s.stemPool) : l;
}

/** Appends the stem Conv(k, stride, no bias) → BN → ReLU (→ MaxPool) to `trunk`; returns its channels. */
export function appendStem(trunk: nn.Sequential, inC: number, s: ResolvedStem, opts: BuildOptions): number {
  const conv = new nn.Conv1d(inC, s.stem, s.stemKernel, {
    stride: s.stemStride,
    padding: (s.stemKernel - 1) / 2,
    bias: false,
    generator: opts.generator,
    dtype: opts.dtype,
  });
  appendConvBlock(trunk, conv, s.stem, s.stemPool, opts);
  return s.stem;
}

/** Parameters of the stem: Conv(inC → stem, k) without bias, BN. */
export function stemParams(inC: number, s: ResolvedStem): number {
  return blockParams(convParams(inC, s.stem, s.stemKernel), s.stem);
}

/** Throws a {@link ModelConfigError} when a model of `kind` reduces `length` to no sample. */
export function checkLength(kind: string, length: number, reduced: number, what: string): void {
  if (reduced < 1) {
    throw new ModelConfigError(`${kind}: length ${length} is too short for ${what} (no sample left)`);
  }
}

/** Config of {@link MobileNet1d}. */
export interface MobileNetConfig extends ClassifierIO, StemConfig {
  /** Registry kind. */
  kind: 'mobilenet';
  /** Output channels of the depthwise-separable blocks (default [32, 64, 64, 128, 128]). */
  channels?: number[];
  /** Stride of each block's depthwise convolution (default [1, 2, 1, 2, 1]); as many as `channels`. */
  strides?: number[];
  /** Kernel size of every depthwise convolution (odd; default 9). */
  kernel?: number;
  /** Dropout on the pooled features (default 0.2). */
  dropout?: number;
}

/** {@link MobileNetConfig} with every default filled in. */
export type ResolvedMobileNetConfig = Required<MobileNetConfig> & ResolvedIO;

/** Length after the trunk of a MobileNet config. */
function trunkLength(c: ResolvedMobileNetConfig): number {
  let l = stemLength(c.length, c);
  for (const s of c.strides) l = stridedLength(l, s);
  return l;
}

/**
 * MobileNet1d: stem Conv(k₀, stride) → BN → ReLU → MaxPool, then for each block i
 * DepthwiseSeparableConv1d(cᵢ₋₁ → cᵢ, k, stride sᵢ, padding (k − 1)/2, no bias) → BN → ReLU; global average
 * pooling, dropout, Linear.
 *
 * Parameters: stem C·c₀·k₀ + 2c₀; block i cᵢ₋₁·k + cᵢ₋₁·cᵢ + 2cᵢ; head (c_last + R + 1)·classes.
 */
export class MobileNet1d extends PooledClassifier<ResolvedMobileNetConfig> {
  /** Builds the model from a resolved config (see {@link mobileNetKind}). */
  constructor(config: ResolvedMobileNetConfig, opts: BuildOptions = {}) {
    const trunk = new nn.Sequential();
    let inC = appendStem(trunk, config.inChannels, config, opts);
    config.channels.forEach((c, i) => {
      const conv = new nn.DepthwiseSeparableConv1d(inC, c, config.kernel, {
        stride: config.strides[i],
        padding: (config.kernel - 1) / 2,
        bias: false,
        generator: opts.generator,
        dtype: opts.dtype,
      });
      appendConvBlock(trunk, conv, c, 1, opts);
      inC = c;
    });
    super(config, trunk, inC, config.dropout, opts);
  }
}

/** The `'mobilenet'` kind of the model registry. */
export const mobileNetKind: ModelKind<ResolvedMobileNetConfig> = {
  kind: 'mobilenet',
  description: '1-D MobileNet-style baseline: strided stem, depthwise-separable conv/BN/ReLU blocks, head',
  resolve(config: unknown): ResolvedMobileNetConfig {
    const r = new ConfigReader('mobilenet', config, [
      ...IO_FIELDS,
      ...STEM_FIELDS,
      'channels',
      'strides',
      'kernel',
      'dropout',
    ]);
    const channels = r.intArray('channels', [32, 64, 64, 128, 128]);
    const strides = r.intArray('strides', [1, 2, 1, 2, 1]);
    if (strides.length !== channels.length) {
      throw new ModelConfigError(
        `mobilenet: strides has ${strides.length} entries but channels has ${channels.length}`,
      );
    }
    const resolved: ResolvedMobileNetConfig = {
      kind: 'mobilenet',
      ...r.io(),
      ...readStem(r),
      channels,
      strides,
      kernel: oddKernel(r, 'kernel', r.int('kernel', 9)),
      dropout: r.probability('dropout', 0.2),
    };
    checkLength('mobilenet', resolved.length, trunkLength(resolved), 'the stem and the block strides');
    return resolved;
  },
  parameterCount(c: ResolvedMobileNetConfig): number {
    let n = stemParams(c.inChannels, c);
    let inC = c.stem;
    for (const ch of c.channels) {
      n += blockParams(separableParams(inC, ch, c.kernel), ch);
      inC = ch;
    }
    return n + tailParams(inC, c);
  },
  layerCount(c: ResolvedMobileNetConfig): number {
    // Stem, two weight layers (depthwise, pointwise) per block, head.
    return 1 + 2 * c.channels.length + 1;
  },
  build(c: ResolvedMobileNetConfig, opts: BuildOptions): MobileNet1d {
    return new MobileNet1d(c, opts);
  },
};
