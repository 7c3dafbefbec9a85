/** Convolution layers: Conv1d and DepthwiseSeparableConv1d (state here, compute in ops/conv.ts). */
import { ValueError } from '../errors.js';
import { conv1d } from '../ops/conv.js';
import type { Tensor } from '../tensor.js';
import {
  checkInput,
  checkNonNegativeInt,
  checkPositiveInt,
  type LayerOptions,
  newParameter,
} from './common.js';
import { kaimingUniform, uniform } from './init.js';
import { Module } from './module.js';

/** Padding of a convolution: symmetric amount, `'same'`, `'valid'` (none), or `[left, right]`. */
export type Conv1dPadding = number | 'same' | 'valid' | readonly [number, number];

/** Options of {@link Conv1d}. */
export interface Conv1dOptions extends LayerOptions {
  /** Step between output positions (default 1). */
  stride?: number;
  /** Padding (default 0). `'same'` requires stride 1. */
  padding?: Conv1dPadding;
  /** Spacing between kernel taps (default 1). */
  dilation?: number;
  /** Channel groups: inChannels and outChannels must be divisible by it (default 1). */
  groups?: number;
  /** Learn a per-output-channel bias (default true). */
  bias?: boolean;
  /** Value used for padding (default 0; binary networks use +1, see `BinaryConv1d`). */
  padValue?: number;
}

/** Validated convolution hyper-parameters, shared with binary convolutions. */
export interface ConvHyper {
  stride: number;
  padding: Conv1dPadding;
  dilation: number;
  groups: number;
  padValue: number;
}

/** Checks convolution options and fills defaults. */
export function convHyper(
  layer: string,
  inC: number,
  outC: number,
  k: number,
  opts: Conv1dOptions,
): ConvHyper {
  checkPositiveInt(layer, 'inChannels', inC);
  checkPositiveInt(layer, 'outChannels', outC);
  checkPositiveInt(layer, 'kernelSize', k);
  const stride = opts.stride ?? 1;
  const dilation = opts.dilation ?? 1;
  const groups = opts.groups ?? 1;
  const padding = opts.padding ?? 0;
  const padValue = opts.padValue ?? 0;
  checkPositiveInt(layer, 'stride', stride);
  checkPositiveInt(layer, 'dilation', dilation);
  checkPositiveInt(layer, 'groups', groups);
  if (inC % groups !== 0 || outC % groups !== 0) {
    throw new ValueError(
      `${layer}: inChannels ${inC} and outChannels ${outC} must both be divisible by groups ${groups}`,
    );
  }
  if (typeof padding === 'number') checkNonNegativeInt(layer, 'padding', padding);
  else if (Array.isArray(padding)) {
    if (padding.length !== 2) throw new ValueError(`${layer}: padding pair must be [left, right]`);
    checkNonNegativeInt(layer, 'padding[0]', padding[0]);
    checkNonNegativeInt(layer, 'padding[1]', padding[1]);
  } else if (padding !== 'same' && padding !== 'valid') {
    throw new ValueError(
      `${layer}: padding must be a number, 'same', 'valid' or [left, right], got ${String(padding)}`,
    );
  }
  if (padding === 'same' && stride !== 1)
    throw new ValueError(`${layer}: padding 'same' requires stride 1, got ${stride}`);
  if (!Number.isFinite(padValue)) throw new ValueError(`${layer}: padValue must be finite, got ${padValue}`);
  return { stride, padding, dilation, groups, padValue };
}

/** Describes non-default convolution options for `toString`. */
export function convRepr(inC: number, outC: number, k: number, h: ConvHyper, bias: boolean): string {
  const parts = [`${inC}, ${outC}, kernelSize=${k}`];
  if (h.stride !== 1) parts.push(`stride=${h.stride}`);
  if (h.padding !== 0)
    parts.push(`padding=${Array.isArray(h.padding) ? `[${h.padding.join(', ')}]` : h.padding}`);
  if (h.dilation !== 1) parts.push(`dilation=${h.dilation}`);
  if (h.groups !== 1) parts.push(`groups=${h.groups}`);
  if (h.padValue !== 0) parts.push(`padValue=${h.padValue}`);
  parts.push(`bias=${bias}`);
  return parts.join(', ');
}

/**
 * 1-D convolution over NCL input. Weight `[outChannels, inChannels/groups, kernelSize]`. All options of the
 * functional `conv1d` (stride, padding incl. 'same' and asymmetric, dilation, groups, pad value).
 * PyTorch's initialisation: W ~ kaimingUniform(a = √5), b ~ U(±1/√fanIn), fanIn = inChannels/groups·K.
 */
export class Conv1d extends Module {
  /** `[outChannels, inChannels/groups, kernelSize]`. */
  declare readonly weight: Tensor;
  /** `[outChannels]` or null. */
  declare readonly bias: Tensor | null;
  /** Validated hyper-parameters. */
  readonly hyper: ConvHyper;

  /** Creates the layer. */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: Conv1dOptions = {},
  ) {
    super();
    this.hyper = convHyper('Conv1d', inChannels, outChannels, kernelSize, opts);
    const w = newParameter([outChannels, inChannels / this.hyper.groups, kernelSize], opts.dtype);
    kaimingUniform(w, { a: Math.sqrt(5), generator: opts.generator });
    this.registerParameter('weight', w);
    if (opts.bias ?? true) {
      const bound = 1 / Math.sqrt((inChannels / this.hyper.groups) * kernelSize);
      const b = newParameter([outChannels], opts.dtype);
      uniform(b, -bound, bound, opts);
      this.registerParameter('bias', b);
    } else this.registerParameter('bias', null);
  }

  /** `x`: `[N, inChannels, L]` → `[N, outChannels, L']`. */
  forward(x: Tensor): Tensor {
    checkInput('Conv1d', x, [3], 1, this.inChannels, `[N, ${this.inChannels}, L]`);
    return conv1d(x, this.weight, this.bias, this.hyper);
  }

  override extraRepr(): string {
    return convRepr(this.inChannels, this.outChannels, this.kernelSize, this.hyper, this.bias !== null);
  }
}

/** Options of {@link DepthwiseSeparableConv1d}. */
export interface DepthwiseSeparableConv1dOptions extends Omit<Conv1dOptions, 'groups'> {
  /** Output channels of the depthwise stage per input channel (default 1). */
  depthMultiplier?: number;
}

/**
 * Depthwise-separable convolution (Howard et al. 2017, MobileNet): a depthwise convolution (one filter per
 * input channel, `groups = inChannels`) followed by a pointwise 1×1 convolution mixing channels.
 * Parameters: C·m·K (+C·m) + C·m·outC (+outC) instead of C·outC·K.
 */
export class DepthwiseSeparableConv1d extends Module {
  /** The per-channel convolution. */
  declare readonly depthwise: Conv1d;
  /** The 1×1 channel-mixing convolution. */
  declare readonly pointwise: Conv1d;

  /** Creates the layer. */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: DepthwiseSeparableConv1dOptions = {},
  ) {
    super();
    const m = opts.depthMultiplier ?? 1;
    checkPositiveInt('DepthwiseSeparableConv1d', 'depthMultiplier', m);
    const { depthMultiplier: _m, ...rest } = opts;
    this.registerModule(
      'depthwise',
      new Conv1d(inChannels, inChannels * m, kernelSize, { ...rest, groups: inChannels }),
    );
    this.registerModule(
      'pointwise',
      new Conv1d(inChannels * m, outChannels, 1, {
        bias: opts.bias,
        generator: opts.generator,
        dtype: opts.dtype,
      }),
    );
  }

  /** `x`: `[N, inChannels, L]` → `[N, outChannels, L']`. */
  forward(x: Tensor): Tensor {
    return this.pointwise.call(this.depthwise.call(x));
  }
}
