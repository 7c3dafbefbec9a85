/**
 * The lightweight multi-scale attention network of method 4 (LAMSCN, J. Hebei Univ. Tech. 2024; see
 * ../shared/methods.md §4) for multi-label ECG: depthwise-separable convolutions in parallel branches with
 * different kernel sizes (multi-scale), squeeze-and-excitation channel attention (Hu et al. 2018), dense
 * connections (Huang et al. 2017, DenseNet: each layer's output is concatenated to its input), transitions
 * (1×1 convolution compressing the channels, max-pool) between stages, global average pooling and a linear
 * head whose logits go through a sigmoid per label (binary cross-entropy in training).
 *
 * The paper's exact widths are not known here; the defaults are the CPU-sized choice of docs/multiscale.md.
 */
import { nn } from '@ecgnn/core';
import {
  batchNormParams,
  type ClassifierIO,
  ConfigReader,
  convParams,
  IO_FIELDS,
  linearParams,
  type ResolvedIO,
  separableParams,
} from './config.js';
import type { ModelKind } from './kind.js';
import {
  appendStem,
  checkLength,
  oddKernel,
  readStem,
  STEM_FIELDS,
  type StemConfig,
  stemLength,
  stemParams,
} from './mobilenet.js';
import { appendConvBlock, type BuildOptions, blockParams, PooledClassifier, tailParams } from './pooled.js';

/** Config of {@link MultiScaleNet}. */
export interface MultiScaleConfig extends ClassifierIO, StemConfig {
  /** Registry kind. */
  kind: 'multiscale';
  /** Kernel sizes of the parallel branches of every multi-scale layer (odd; default [3, 5, 9, 15]). */
  kernels?: number[];
  /** Output channels of each branch (default 4): a layer adds `kernels.length · branchChannels` channels. */
  branchChannels?: number;
  /** Dense stages (default 3); a transition follows every stage but the last. */
  stages?: number;
  /** Densely connected multi-scale layers per stage (default 2). */
  layers?: number;
  /** Channels kept by a transition: ⌊compression · C⌋, at least 1 (in (0, 1]; default 0.5, DenseNet-BC). */
  compression?: number;
  /** Max-pool width of the transitions (default 2; 1 = none). */
  pool?: number;
  /** Squeeze-and-excitation reduction r: hidden width max(1, ⌊C/r⌋) (default 4). */
  reduction?: number;
  /** Dropout on the pooled features (default 0.2). */
  dropout?: number;
}

/** {@link MultiScaleConfig} with every default filled in. */
export type ResolvedMultiScaleConfig = Required<MultiScaleConfig> & ResolvedIO;

/** The channels through the trunk: input of each layer, per stage, and after each transition. */
export interface MultiScaleChannels {
  /** `layers[s][l]`: input channels of layer l of stage s. */
  layers: number[][];
  /** `transitions[s]`: [in, out] channels of the transition after stage s (all stages but the last). */
  transitions: Array<[number, number]>;
  /** Channels of the trunk's output (what the head sees). */
  out: number;
}

/** The channel widths a config gives (see {@link MultiScaleChannels}). */
export function multiScaleChannels(c: ResolvedMultiScaleConfig): MultiScaleChannels {
  const growth = c.kernels.length * c.branchChannels;
  const layers: number[][] = [];
  const transitions: Array<[number, number]> = [];
  let ch = c.stem;
  for (let s = 0; s < c.stages; s++) {
    const stage: number[] = [];
    for (let l = 0; l < c.layers; l++) {
      stage.push(ch);
      ch += growth;
    }
    layers.push(stage);
    if (s < c.stages - 1) {
      const t = Math.max(1, Math.floor(c.compression * ch));
      transitions.push([ch, t]);
      ch = t;
    }
  }
  return { layers, transitions, out: ch };
}

/**
 * One multi-scale attention layer on `inChannels` channels: parallel branches
 * DepthwiseSeparableConv1d(C → b, kⱼ, 'same', no bias) → BN → ReLU, one per kernel size kⱼ, concatenated
 * (K·b channels), then squeeze-and-excitation s = σ(W₂ ReLU(W₁ mean_t(y))), y · s per channel. Used inside
 * `nn.ConcatSkip` (dense connection: output = [x, layer(x)]).
 */
export function multiScaleLayer(
  inChannels: number,
  c: Pick<ResolvedMultiScaleConfig, 'kernels' | 'branchChannels' | 'reduction'>,
  opts: BuildOptions,
): nn.Sequential {
  const branches = c.kernels.map((k) => {
    const branch = new nn.Sequential();
    const conv = new nn.DepthwiseSeparableConv1d(inChannels, c.branchChannels, k, {
      padding: 'same',
      bias: false,
      generator: opts.generator,
      dtype: opts.dtype,
    });
    appendConvBlock(branch, conv, c.branchChannels, 1, opts);
    return branch;
  });
  const width = c.kernels.length * c.branchChannels;
  return new nn.Sequential(
    new nn.Parallel(branches, 'concat', 1),
    new nn.SqueezeExcitation1d(width, {
      reduction: c.reduction,
      generator: opts.generator,
      dtype: opts.dtype,
    }),
  );
}

/** Parameters of {@link multiScaleLayer}: branches Σⱼ (C·kⱼ + C·b + 2b), SE (W·S + S) + (S·W + W). */
export function multiScaleLayerParams(
  inChannels: number,
  c: Pick<ResolvedMultiScaleConfig, 'kernels' | 'branchChannels' | 'reduction'>,
): number {
  let n = 0;
  for (const k of c.kernels)
    n += separableParams(inChannels, c.branchChannels, k) + batchNormParams(c.branchChannels);
  const w = c.kernels.length * c.branchChannels;
  const s = Math.max(1, Math.floor(w / c.reduction));
  return n + linearParams(w, s) + linearParams(s, w);
}

/** Length after the trunk: stem, then one max-pool per transition. */
function trunkLength(c: ResolvedMultiScaleConfig): number {
  let l = stemLength(c.length, c);
  for (let s = 0; s < c.stages - 1; s++) if (c.pool > 1) l = Math.floor(l / c.pool);
  return l;
}

/**
 * MultiScaleNet: stem Conv(k₀, stride) → BN → ReLU → MaxPool; `stages` dense stages of `layers`
 * ConcatSkip(multi-scale layer) each (channels grow by K·b per layer); between stages a transition
 * Conv1×1(C → ⌊compression·C⌋, no bias) → BN → ReLU → MaxPool; global average pooling, dropout, Linear.
 * Parameters: {@link multiScaleKind}.parameterCount.
 */
export class MultiScaleNet extends PooledClassifier<ResolvedMultiScaleConfig> {
  /** Builds the model from a resolved config (see {@link multiScaleKind}). */
  constructor(config: ResolvedMultiScaleConfig, opts: BuildOptions = {}) {
    const trunk = new nn.Sequential();
    appendStem(trunk, config.inChannels, config, opts);
    const ch = multiScaleChannels(config);
    ch.layers.forEach((stage, s) => {
      for (const inC of stage) trunk.append(new nn.ConcatSkip(multiScaleLayer(inC, config, opts), 1));
      if (s < ch.transitions.length) {
        const [a, b] = ch.transitions[s];
        const conv = new nn.Conv1d(a, b, 1, { bias: false, generator: opts.generator, dtype: opts.dtype });
        appendConvBlock(trunk, conv, b, config.pool, opts);
      }
    });
    super(config, trunk, ch.out, config.dropout, opts);
  }
}

/** The `'multiscale'` kind of the model registry. */
export const multiScaleKind: ModelKind<ResolvedMultiScaleConfig> = {
  kind: 'multiscale',
  description:
    'lightweight multi-scale attention network: parallel separable branches, squeeze-excitation, dense stages',
  resolve(config: unknown): ResolvedMultiScaleConfig {
    const r = new ConfigReader('multiscale', config, [
      ...IO_FIELDS,
      ...STEM_FIELDS,
      'kernels',
      'branchChannels',
      'stages',
      'layers',
      'compression',
      'pool',
      'reduction',
      'dropout',
    ]);
    const kernels = r.intArray('kernels', [3, 5, 9, 15]);
    kernels.forEach((k, i) => {
      oddKernel(r, `kernels[${i}]`, k);
    });
    const compression = r.raw('compression') ?? 0.5;
    if (typeof compression !== 'number' || !(compression > 0 && compression <= 1)) {
      return r.error('compression', 'a number in (0, 1]', compression);
    }
    const resolved: ResolvedMultiScaleConfig = {
      kind: 'multiscale',
      ...r.io(),
      ...readStem(r),
      kernels,
      branchChannels: r.int('branchChannels', 4),
      stages: r.int('stages', 3),
      layers: r.int('layers', 2),
      compression,
      pool: r.int('pool', 2),
      reduction: r.int('reduction', 4),
      dropout: r.probability('dropout', 0.2),
    };
    checkLength('multiscale', resolved.length, trunkLength(resolved), 'the stem and the transition pools');
    return resolved;
  },
  parameterCount(c: ResolvedMultiScaleConfig): number {
    const ch = multiScaleChannels(c);
    let n = stemParams(c.inChannels, c);
    for (const stage of ch.layers) for (const inC of stage) n += multiScaleLayerParams(inC, c);
    for (const [a, b] of ch.transitions) n += blockParams(convParams(a, b, 1), b);
    return n + tailParams(ch.out, c);
  },
  layerCount(c: ResolvedMultiScaleConfig): number {
    // Stem; per layer two weight layers per branch and the two SE linears; transitions; head.
    const perLayer = 2 * c.kernels.length + 2;
    return 1 + c.stages * c.layers * perLayer + (c.stages - 1) + 1;
  },
  build(c: ResolvedMultiScaleConfig, opts: BuildOptions): MultiScaleNet {
    return new MultiScaleNet(c, opts);
  },
};
