/**
 * The ultra-lightweight binary network of method 5 (Pu et al. 2023, arXiv 2304.01568) and its full-precision
 * twin: six blocks `pad (value +1) → conv → MaxPool → PReLU → BatchNorm`, channels 1→8→16→32→32→64→classes,
 * kernel 7, stride 2 in the first block, no dense layer: dropout, then the sum over time is the logits.
 * Binary: block 1 has sign weights on the float input, blocks 2–6 sign weights and sign activations (the sign of
 * the previous block's BatchNorm output); no scaling factors, no bias. BatchNorm and PReLU stay float.
 */
import { nn, ShapeError, sum, type Tensor } from '@ecgnn/core';
import { batchNormParams, ConfigReader, convParams, ModelConfigError } from './config.js';
import type { ModelKind } from './kind.js';
import { type BuildOptions, EcgClassifier } from './pooled.js';

/** Surrogate gradients of sign the binary network may train with (see `nn.SteEstimator`). */
export type BnnEstimator = 'clipped' | 'triangular';

/** Config of {@link BinaryEcgNet}. */
export interface BnnConfig {
  /** Registry kind. */
  kind: 'bnn';
  /** Output classes (channels of the last block). */
  classes: number;
  /** Samples per window (default 3600: 10 s at 360 Hz). */
  length?: number;
  /** Channels (leads) of the window (default 1). */
  inChannels?: number;
  /** RR features: this network takes none; only 0 is accepted (the field exists for the common IO shape). */
  rrFeatures?: number;
  /** Output channels of blocks 1 … 5 (default [8, 16, 32, 32, 64]); block 6 outputs `classes`. */
  channels?: number[];
  /** Kernel size of every convolution (default 7). */
  kernel?: number;
  /** Stride of the first convolution (default 2; the others have stride 1). */
  firstStride?: number;
  /** Padding on each side of every convolution (default 5). */
  padding?: number;
  /** Padding value (default +1: keeps padded activations binary, bit 0 of the packed format). */
  padValue?: number;
  /** Max-pool window after every convolution (default 7). */
  poolKernel?: number;
  /** Max-pool stride (default 2). */
  poolStride?: number;
  /** Dropout on the last block's output before the sum over time (default 0.3). */
  dropout?: number;
  /** Initial PReLU slope, one per channel (default 0.25). */
  preluInit?: number;
  /** true (default): the binary network; false: the full-precision twin (float Conv1d, same shapes). */
  binary?: boolean;
  /** Per-output-channel scale α = mean|w| of the binary weights (XNOR-Net); 'none' (default) is the method's. */
  scale?: 'none' | 'channel';
  /**
   * Surrogate gradient of sign (default 'clipped': 1 on |x| ≤ 1). 'triangular' is 2s·max(0, 1 − s|x|) with
   * a sharpness s that a schedule raises during training (`nn.setQuantizerSharpness`).
   */
  estimator?: BnnEstimator;
  /**
   * 'free' (default, the method's): PReLU slopes are unconstrained. 'nonNegative': each slope is clipped to
   * ≥ 0 after every optimizer step, so PReLU is monotone, the sign of BatchNorm∘PReLU is a single threshold on
   * the integer dot, and every binary block folds into thresholds on export (a negative slope makes the
   * activation V-shaped: two thresholds, which the model file cannot hold).
   */
  preluSlopes?: 'free' | 'nonNegative';
}

/** {@link BnnConfig} with every default filled in. */
export type ResolvedBnnConfig = Required<BnnConfig>;

/** Defaults of the method's architecture. */
export const BNN_DEFAULTS = {
  length: 3600,
  channels: [8, 16, 32, 32, 64],
  kernel: 7,
  firstStride: 2,
  padding: 5,
  padValue: 1,
  poolKernel: 7,
  poolStride: 2,
  dropout: 0.3,
  preluInit: 0.25,
} as const;

/** Output length of a convolution or pooling window: ⌊(L + 2p − k)/s⌋ + 1. */
function windowOut(length: number, kernel: number, stride: number, pad = 0): number {
  return Math.floor((length + 2 * pad - kernel) / stride) + 1;
}

/**
 * The time length after each block of `config` (3600 → 898 → 448 → 223 → 111 → 55 → 27 for the method's
 * defaults): conv ⌊(L + 2p − k)/s⌋ + 1, then max pool ⌊(L − k_p)/s_p⌋ + 1.
 */
export function bnnLengths(config: ResolvedBnnConfig): number[] {
  const out: number[] = [];
  let l = config.length;
  const blocks = config.channels.length + 1;
  for (let b = 0; b < blocks; b++) {
    l = windowOut(l, config.kernel, b === 0 ? config.firstStride : 1, config.padding);
    l = windowOut(l, config.poolKernel, config.poolStride);
    out.push(l);
  }
  return out;
}

/** Input → output channels of every block: [[in, c₁], [c₁, c₂], …, [c₅, classes]]. */
export function bnnBlockChannels(config: ResolvedBnnConfig): Array<[number, number]> {
  const chans = [config.inChannels, ...config.channels, config.classes];
  return chans.slice(1).map((c, i) => [chans[i], c]);
}

/**
 * Storage of the binary weights of `config`: one bit per convolution weight, Σ c_in·c_out·k (33,656 bits =
 * 4,207 bytes for 17 classes, 28,280 bits for 5 classes with the method's defaults). 0 for the float twin.
 */
export function bnnWeightBits(config: ResolvedBnnConfig): number {
  if (!config.binary) return 0;
  return bnnBlockChannels(config).reduce((n, [i, o]) => n + convParams(i, o, config.kernel), 0);
}

/**
 * The binary ECG network (see the module comment), or its full-precision twin with `binary: false`.
 * Members: `features` (one Sequential of the six blocks' 24 modules, so an exporter sees each convolution
 * next to its epilogue and the next convolution) and `drop`; `forward` returns Σ_t drop(features(x))[:, :, t].
 *
 * Parameters: Σ_blocks c_in·c_out·k (latent weights) + c_out (PReLU slopes) + 2c_out (BatchNorm γ, β);
 * 34,163 for 17 classes and 28,751 for 5 classes with the defaults (α of `scale: 'channel'` is computed from
 * the weights, not learnt).
 */
export class BinaryEcgNet extends EcgClassifier<ResolvedBnnConfig> {
  /** The six blocks, flattened: [conv, pool, prelu, batchNorm] × 6. */
  declare readonly features: nn.Sequential;
  /** Dropout before the sum over time (identity in evaluation mode). */
  declare readonly drop: nn.Dropout;

  /** Builds the model from a resolved config (see {@link bnnKind}). */
  constructor(config: ResolvedBnnConfig, opts: BuildOptions = {}) {
    super(config);
    const c = config;
    const g = opts.generator;
    const trunk = new nn.Sequential();
    bnnBlockChannels(c).forEach(([inC, outC], b) => {
      const conv = {
        stride: b === 0 ? c.firstStride : 1,
        padding: c.padding,
        padValue: c.padValue,
        bias: false,
        generator: g,
        dtype: opts.dtype,
      };
      const estimator = c.estimator === 'triangular' ? 'triangularSign' : 'steSign';
      trunk.append(
        c.binary
          ? new nn.BinaryConv1d(inC, outC, c.kernel, {
              ...conv,
              inputQuantizer: b === 0 ? 'none' : estimator,
              weightQuantizer: estimator,
              scale: c.scale,
            })
          : new nn.Conv1d(inC, outC, c.kernel, conv),
      );
      trunk.append(new nn.MaxPool1d(c.poolKernel, { stride: c.poolStride }));
      const prelu = new nn.PReLU({ numParameters: outC, init: c.preluInit, dtype: opts.dtype });
      if (c.preluSlopes === 'nonNegative') {
        (prelu.weight as nn.Parameter).constraint = nn.clipConstraint(0, Number.POSITIVE_INFINITY);
      }
      trunk.append(prelu);
      trunk.append(new nn.BatchNorm1d(outC, { dtype: opts.dtype }));
    });
    this.registerModule('features', trunk);
    this.registerModule('drop', new nn.Dropout(c.dropout, { generator: g }));
  }

  /** `window` `[N, inChannels, length]` → logits `[N, classes]` (the sum over time of the last block). */
  forward(window: Tensor, rr: Tensor | null = null): Tensor {
    const { inChannels } = this.config;
    if (window.ndim !== 3 || window.shape[1] !== inChannels) {
      throw new ShapeError(`bnn: window must be [N, ${inChannels}, L], got [${window.shape.join(', ')}]`);
    }
    if (rr !== null) throw new ShapeError('bnn: this model takes no RR features');
    return sum(this.drop.call(this.features.call(window)), 2);
  }
}

const FIELDS = [
  'classes',
  'length',
  'inChannels',
  'rrFeatures',
  'channels',
  'kernel',
  'firstStride',
  'padding',
  'padValue',
  'poolKernel',
  'poolStride',
  'dropout',
  'preluInit',
  'binary',
  'scale',
  'estimator',
  'preluSlopes',
] as const;

function oneOf<T extends string>(r: ConfigReader, field: string, allowed: readonly T[], fallback: T): T {
  const v = r.raw(field) ?? fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    r.error(field, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
  }
  return v as T;
}

/** The `'bnn'` kind of the model registry. */
export const bnnKind: ModelKind<ResolvedBnnConfig> = {
  kind: 'bnn',
  description:
    'binary ECG network of method 5 (Pu et al. 2023): 6 × [pad +1, conv k7, max-pool 7/2, PReLU, BN], sum over time; or its float twin',
  resolve(config: unknown): ResolvedBnnConfig {
    const r = new ConfigReader('bnn', config, FIELDS);
    if (r.int('rrFeatures', 0, 0) !== 0)
      r.error('rrFeatures', '0 (bnn takes no RR features)', r.raw('rrFeatures'));
    const padValue = r.raw('padValue') ?? BNN_DEFAULTS.padValue;
    if (padValue !== 1 && padValue !== 0 && padValue !== -1) r.error('padValue', '+1, 0 or −1', padValue);
    const preluInit = r.raw('preluInit') ?? BNN_DEFAULTS.preluInit;
    if (typeof preluInit !== 'number' || !Number.isFinite(preluInit)) {
      r.error('preluInit', 'a finite number', preluInit);
    }
    if (r.raw('preluSlopes') === 'nonNegative' && (preluInit as number) < 0) {
      r.error('preluInit', "≥ 0 with preluSlopes 'nonNegative'", preluInit);
    }
    const resolved: ResolvedBnnConfig = {
      kind: 'bnn',
      classes: r.int('classes'),
      length: r.int('length', BNN_DEFAULTS.length),
      inChannels: r.int('inChannels', 1),
      rrFeatures: 0,
      channels: r.intArray('channels', BNN_DEFAULTS.channels),
      kernel: r.int('kernel', BNN_DEFAULTS.kernel),
      firstStride: r.int('firstStride', BNN_DEFAULTS.firstStride),
      padding: r.int('padding', BNN_DEFAULTS.padding, 0),
      padValue: padValue as number,
      poolKernel: r.int('poolKernel', BNN_DEFAULTS.poolKernel),
      poolStride: r.int('poolStride', BNN_DEFAULTS.poolStride),
      dropout: r.probability('dropout', BNN_DEFAULTS.dropout),
      preluInit: preluInit as number,
      binary: r.bool('binary', true),
      scale: oneOf(r, 'scale', ['none', 'channel'] as const, 'none'),
      estimator: oneOf(r, 'estimator', ['clipped', 'triangular'] as const, 'clipped'),
      preluSlopes: oneOf(r, 'preluSlopes', ['free', 'nonNegative'] as const, 'free'),
    };
    const lengths = bnnLengths(resolved);
    const bad = lengths.findIndex((l) => l < 1);
    if (bad >= 0) {
      throw new ModelConfigError(
        `bnn: length ${resolved.length} is too short: block ${bad + 1} leaves no sample (lengths ${lengths.join(' → ')})`,
      );
    }
    return resolved;
  },
  parameterCount(c: ResolvedBnnConfig): number {
    // Per block: conv weights, PReLU slopes (one per channel), BatchNorm γ and β.
    return bnnBlockChannels(c).reduce(
      (n, [i, o]) => n + convParams(i, o, c.kernel) + o + batchNormParams(o),
      0,
    );
  },
  layerCount(c: ResolvedBnnConfig): number {
    return c.channels.length + 1;
  },
  build(c: ResolvedBnnConfig, opts: BuildOptions): BinaryEcgNet {
    return new BinaryEcgNet(c, opts);
  },
};
