/**
 * Binary layers following Larq's design (Geiger & Team 2020): the layer keeps latent float weights; on read
 * they pass through a weight quantizer, and the layer's input through an input quantizer, each independently
 * none or sign with a straight-through estimator (STE). Latent weights are clipped to |w| ≤ clip after each
 * optimizer step (a parameter constraint that optimizers apply). Optional per-output-channel scale
 * α = mean|w| (XNOR-Net, Rastegari et al. 2016). The padding value is explicit: +1 keeps padded inputs
 * binary (bit 0 = +1 in our packed format; Pu et al. 2023 pad with +1), 0 is ordinary zero padding.
 * Pruned binary layers (see `prune`) have ternary weights: the mask is applied after quantisation.
 */
import { ValueError } from '../errors.js';
import { abs, mean, mul } from '../ops/basic.js';
import { conv1d } from '../ops/conv.js';
import { linear } from '../ops/matmul.js';
import { signSte } from '../ops/nn.js';
import type { Tensor } from '../tensor.js';
import { checkInput, checkPositiveInt, type LayerOptions, newParameter } from './common.js';
import { type Conv1dOptions, type ConvHyper, convHyper, convRepr } from './conv.js';
import { kaimingUniform, uniform } from './init.js';
import { type AnyModule, Module } from './module.js';
import { clipConstraint } from './parameter.js';

/** Surrogate gradients of sign: clipped (1 on |x| ≤ 1), triangular (sharpening), identity. */
export type SteEstimator = 'clipped' | 'triangular' | 'identity';

/** Options of {@link SignQuantizer}. */
export interface SignQuantizerOptions {
  /** Surrogate gradient (default 'clipped'). */
  estimator?: SteEstimator;
  /** Sharpness of the triangular surrogate (default 1); a schedule may change it during training. */
  sharpness?: number;
}

/**
 * sign(x) with sign(0) = +1 in the forward pass and a straight-through surrogate gradient in the backward
 * pass (see the functional `signSte`). `sharpness` is mutable so a schedule can sharpen the triangular
 * surrogate during training (Pu et al. 2023); see {@link setQuantizerSharpness}.
 */
export class SignQuantizer {
  /** Surrogate gradient. */
  estimator: SteEstimator;
  /** Sharpness of the triangular surrogate. */
  sharpness: number;

  /** Creates the quantizer. */
  constructor(opts: SignQuantizerOptions = {}) {
    this.estimator = opts.estimator ?? 'clipped';
    this.sharpness = opts.sharpness ?? 1;
    if (!['clipped', 'triangular', 'identity'].includes(this.estimator))
      throw new ValueError(`SignQuantizer: unknown estimator '${String(this.estimator)}'`);
    if (!(this.sharpness > 0))
      throw new ValueError(`SignQuantizer: sharpness must be positive, got ${this.sharpness}`);
  }

  /** Quantizes `x` to ±1. */
  quantize(x: Tensor): Tensor {
    return signSte(x, { estimator: this.estimator, sharpness: this.sharpness });
  }

  /** Short description. */
  toString(): string {
    return `sign(${this.estimator}${this.estimator === 'triangular' ? `, sharpness=${this.sharpness}` : ''})`;
  }
}

/**
 * A quantizer choice: `'none'`/null (identity, float), `'steSign'` (sign with the clipped STE, Larq's
 * `ste_sign`), `'triangularSign'` (sign with the triangular surrogate), or a {@link SignQuantizer}.
 */
export type QuantizerSpec = 'none' | 'steSign' | 'triangularSign' | SignQuantizer | null;

/** Resolves a {@link QuantizerSpec} (null means no quantisation). */
export function makeQuantizer(spec: QuantizerSpec): SignQuantizer | null {
  if (spec === null || spec === 'none') return null;
  if (spec instanceof SignQuantizer) return spec;
  if (spec === 'steSign') return new SignQuantizer({ estimator: 'clipped' });
  if (spec === 'triangularSign') return new SignQuantizer({ estimator: 'triangular' });
  throw new ValueError(
    `unknown quantizer '${String(spec)}' (use 'none', 'steSign', 'triangularSign' or a SignQuantizer)`,
  );
}

/** Per-output-channel weight scaling of binary layers. */
export type BinaryScale = 'none' | 'channel';

/** Options shared by {@link BinaryConv1d} and {@link BinaryLinear}. */
export interface BinaryOptions {
  /** Quantizer of the layer's input (default 'steSign'; 'none' keeps a float input, as a first layer). */
  inputQuantizer?: QuantizerSpec;
  /** Quantizer of the latent weights (default 'steSign'). */
  weightQuantizer?: QuantizerSpec;
  /** 'channel': multiply each output channel's binary weights by α = mean|w| (default 'none'). */
  scale?: BinaryScale;
  /**
   * Whether gradients flow through α = mean|w| (default true, as XNOR-Net's derivation: ∂α/∂w = sign(w)/n).
   * false treats α as a constant.
   */
  scaleGradient?: boolean;
  /** Clip latent weights to [−c, c] after each optimizer step (default 1; null disables). */
  weightClip?: number | null;
}

interface BinaryState {
  inputQuantizer: SignQuantizer | null;
  weightQuantizer: SignQuantizer | null;
  scale: BinaryScale;
  scaleGradient: boolean;
  weightClip: number | null;
}

function binaryState(layer: string, opts: BinaryOptions): BinaryState {
  const scale = opts.scale ?? 'none';
  if (scale !== 'none' && scale !== 'channel')
    throw new ValueError(`${layer}: scale must be 'none' or 'channel', got ${String(scale)}`);
  const weightClip = opts.weightClip === undefined ? 1 : opts.weightClip;
  if (weightClip !== null && !(weightClip > 0))
    throw new ValueError(`${layer}: weightClip must be positive or null, got ${weightClip}`);
  return {
    inputQuantizer: makeQuantizer(opts.inputQuantizer === undefined ? 'steSign' : opts.inputQuantizer),
    weightQuantizer: makeQuantizer(opts.weightQuantizer === undefined ? 'steSign' : opts.weightQuantizer),
    scale,
    scaleGradient: opts.scaleGradient ?? true,
    weightClip,
  };
}

/**
 * q_w(W)·α. A pruned layer (weight = weightOrig ⊙ weightMask) quantizes the latent weights and multiplies
 * the mask in afterwards, giving ternary weights {−1, 0, +1}: quantizing the masked weight would turn
 * pruned zeros into sign(0) = +1.
 */
function quantizeWeight(layer: BinaryConv1d | BinaryLinear, s: BinaryState): Tensor {
  const w = layer.weight;
  const orig = layer.getParameter('weightOrig');
  const mask = layer.getBuffer('weightMask');
  const pruned = orig != null && mask != null;
  let q = s.weightQuantizer === null ? w : s.weightQuantizer.quantize(pruned ? orig : w);
  if (pruned && s.weightQuantizer !== null) q = mul(q, mask);
  if (s.scale === 'channel') {
    // NOTE: XNOR-Net: α_o = ‖W_o‖₁ / n over the n = (Cin/groups)·K weights of output channel o.
    const axes = Array.from({ length: w.ndim - 1 }, (_, i) => i + 1);
    let alpha = mean(abs(w), axes, true);
    if (!s.scaleGradient) alpha = alpha.detach();
    q = mul(q, alpha);
  }
  return q;
}

function binaryRepr(s: BinaryState): string {
  const parts = [
    `inputQuantizer=${s.inputQuantizer?.toString() ?? 'none'}`,
    `weightQuantizer=${s.weightQuantizer?.toString() ?? 'none'}`,
  ];
  if (s.scale !== 'none') parts.push(`scale=${s.scale}${s.scaleGradient ? '' : ' (constant)'}`);
  parts.push(`weightClip=${s.weightClip}`);
  return parts.join(', ');
}

/** Options of {@link BinaryConv1d}. */
export interface BinaryConv1dOptions extends Conv1dOptions, BinaryOptions {}

/**
 * Binary 1-D convolution: conv1d(q_in(x), q_w(W)·α, b) with explicit `padValue` (default +1; allowed −1, 0,
 * +1), no bias by default. The latent weight `weight` is a float parameter with a clip constraint.
 */
export class BinaryConv1d extends Module {
  /** Latent float weights `[outChannels, inChannels/groups, kernelSize]`. */
  declare readonly weight: Tensor;
  /** Bias `[outChannels]` or null (default none). */
  declare readonly bias: Tensor | null;
  /** Convolution hyper-parameters. */
  readonly hyper: ConvHyper;
  private readonly q: BinaryState;

  /** Creates the layer. */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: BinaryConv1dOptions = {},
  ) {
    super();
    this.hyper = convHyper('BinaryConv1d', inChannels, outChannels, kernelSize, {
      ...opts,
      padValue: opts.padValue ?? 1,
    });
    if (![-1, 0, 1].includes(this.hyper.padValue))
      throw new ValueError(`BinaryConv1d: padValue must be +1, 0 or −1, got ${this.hyper.padValue}`);
    this.q = binaryState('BinaryConv1d', opts);
    const w = newParameter([outChannels, inChannels / this.hyper.groups, kernelSize], opts.dtype);
    kaimingUniform(w, { a: Math.sqrt(5), generator: opts.generator });
    if (this.q.weightClip !== null) w.constraint = clipConstraint(-this.q.weightClip, this.q.weightClip);
    this.registerParameter('weight', w);
    if (opts.bias ?? false) {
      const bound = 1 / Math.sqrt((inChannels / this.hyper.groups) * kernelSize);
      const b = newParameter([outChannels], opts.dtype);
      uniform(b, -bound, bound, opts);
      this.registerParameter('bias', b);
    } else this.registerParameter('bias', null);
  }

  /** The input quantizer (null: float input). */
  get inputQuantizer(): SignQuantizer | null {
    return this.q.inputQuantizer;
  }

  /** The weight quantizer (null: float weights). */
  get weightQuantizer(): SignQuantizer | null {
    return this.q.weightQuantizer;
  }

  /**
   * The weights the convolution uses: q_w(W), times α per output channel with `scale: 'channel'`
   * (α = mean|W| of the effective weights, pruned ones counting as 0).
   */
  quantizedWeight(): Tensor {
    return quantizeWeight(this, this.q);
  }

  /** `[N, inChannels, L]` → `[N, outChannels, L']`. */
  forward(x: Tensor): Tensor {
    checkInput('BinaryConv1d', x, [3], 1, this.inChannels, `[N, ${this.inChannels}, L]`);
    const xq = this.q.inputQuantizer === null ? x : this.q.inputQuantizer.quantize(x);
    return conv1d(xq, this.quantizedWeight(), this.bias, this.hyper);
  }

  override extraRepr(): string {
    return `${convRepr(this.inChannels, this.outChannels, this.kernelSize, this.hyper, this.bias !== null)}, ${binaryRepr(this.q)}`;
  }
}

/** Options of {@link BinaryLinear}. */
export interface BinaryLinearOptions extends LayerOptions, BinaryOptions {
  /** Learn a bias (default false). */
  bias?: boolean;
}

/** Binary fully connected layer: linear(q_in(x), q_w(W)·α, b). Latent weight `[out, in]` with a clip constraint. */
export class BinaryLinear extends Module {
  /** Latent float weights `[outFeatures, inFeatures]`. */
  declare readonly weight: Tensor;
  /** Bias `[outFeatures]` or null (default none). */
  declare readonly bias: Tensor | null;
  private readonly q: BinaryState;

  /** Creates the layer. */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: BinaryLinearOptions = {},
  ) {
    super();
    checkPositiveInt('BinaryLinear', 'inFeatures', inFeatures);
    checkPositiveInt('BinaryLinear', 'outFeatures', outFeatures);
    this.q = binaryState('BinaryLinear', opts);
    const w = newParameter([outFeatures, inFeatures], opts.dtype);
    kaimingUniform(w, { a: Math.sqrt(5), generator: opts.generator });
    if (this.q.weightClip !== null) w.constraint = clipConstraint(-this.q.weightClip, this.q.weightClip);
    this.registerParameter('weight', w);
    if (opts.bias ?? false) {
      const bound = 1 / Math.sqrt(inFeatures);
      const b = newParameter([outFeatures], opts.dtype);
      uniform(b, -bound, bound, opts);
      this.registerParameter('bias', b);
    } else this.registerParameter('bias', null);
  }

  /** The input quantizer (null: float input). */
  get inputQuantizer(): SignQuantizer | null {
    return this.q.inputQuantizer;
  }

  /** The weight quantizer (null: float weights). */
  get weightQuantizer(): SignQuantizer | null {
    return this.q.weightQuantizer;
  }

  /** The weights the layer uses: q_w(W), times α per output row with `scale: 'channel'`. */
  quantizedWeight(): Tensor {
    return quantizeWeight(this, this.q);
  }

  /** `[..., inFeatures]` → `[..., outFeatures]`. */
  forward(x: Tensor): Tensor {
    checkInput('BinaryLinear', x, [1, 2, 3, 4, 5, 6], -1, this.inFeatures, `[..., ${this.inFeatures}]`);
    const xq = this.q.inputQuantizer === null ? x : this.q.inputQuantizer.quantize(x);
    return linear(xq, this.quantizedWeight(), this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}, ${binaryRepr(this.q)}`;
  }
}

/**
 * Sets the sharpness of every triangular sign quantizer in `model` (input and weight quantizers of binary
 * layers), e.g. from an epoch schedule that sharpens the surrogate gradient. Returns how many were set.
 */
export function setQuantizerSharpness(model: AnyModule, sharpness: number): number {
  if (!(sharpness > 0))
    throw new ValueError(`setQuantizerSharpness: sharpness must be positive, got ${sharpness}`);
  const seen = new Set<SignQuantizer>();
  for (const m of model.modules()) {
    if (m instanceof BinaryConv1d || m instanceof BinaryLinear) {
      for (const q of [m.inputQuantizer, m.weightQuantizer]) {
        if (q !== null && q.estimator === 'triangular' && !seen.has(q)) {
          q.sharpness = sharpness;
          seen.add(q);
        }
      }
    }
  }
  return seen.size;
}
