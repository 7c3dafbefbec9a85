/** Pooling layers over the last axis of NCL input. */
import { mean } from '../ops/basic.js';
import { adaptiveAvgPool1d, avgPool1d, maxPool1d } from '../ops/conv.js';
import type { Tensor } from '../tensor.js';
import { checkInput, checkNonNegativeInt, checkPositiveInt } from './common.js';
import { Module } from './module.js';

/** Options of {@link MaxPool1d} and {@link AvgPool1d}. */
export interface Pool1dOptions {
  /** Step between windows (default: kernelSize). */
  stride?: number;
  /** Implicit padding on both sides (default 0): −∞ for max pooling, 0 for average pooling. */
  padding?: number;
}

function poolRepr(k: number, stride: number, padding: number): string {
  return `kernelSize=${k}, stride=${stride}${padding !== 0 ? `, padding=${padding}` : ''}`;
}

/** Maximum over sliding windows: `[N, C, L]` → `[N, C, ⌊(L + 2p − k)/s⌋ + 1]`. */
export class MaxPool1d extends Module {
  /** Step between windows. */
  readonly stride: number;
  /** Padding each side. */
  readonly padding: number;

  /** Creates the layer. */
  constructor(
    readonly kernelSize: number,
    opts: Pool1dOptions = {},
  ) {
    super();
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    checkPositiveInt('MaxPool1d', 'kernelSize', kernelSize);
    checkPositiveInt('MaxPool1d', 'stride', this.stride);
    checkNonNegativeInt('MaxPool1d', 'padding', this.padding);
  }

  /** Pools `x`. */
  forward(x: Tensor): Tensor {
    checkInput('MaxPool1d', x, [3], null, null, '[N, C, L]');
    return maxPool1d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }

  override extraRepr(): string {
    return poolRepr(this.kernelSize, this.stride, this.padding);
  }
}

/** Mean over sliding windows (padding counted as zeros unless `countIncludePad` is false). */
export class AvgPool1d extends Module {
  /** Step between windows. */
  readonly stride: number;
  /** Padding each side. */
  readonly padding: number;
  /** Whether padded zeros count in the divisor (default true, as PyTorch). */
  readonly countIncludePad: boolean;

  /** Creates the layer. */
  constructor(
    readonly kernelSize: number,
    opts: Pool1dOptions & { countIncludePad?: boolean } = {},
  ) {
    super();
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.countIncludePad = opts.countIncludePad ?? true;
    checkPositiveInt('AvgPool1d', 'kernelSize', kernelSize);
    checkPositiveInt('AvgPool1d', 'stride', this.stride);
    checkNonNegativeInt('AvgPool1d', 'padding', this.padding);
  }

  /** Pools `x`. */
  forward(x: Tensor): Tensor {
    checkInput('AvgPool1d', x, [3], null, null, '[N, C, L]');
    return avgPool1d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      countIncludePad: this.countIncludePad,
    });
  }

  override extraRepr(): string {
    return poolRepr(this.kernelSize, this.stride, this.padding);
  }
}

/** Average pooling to a fixed output length (bins as PyTorch: [⌊iL/out⌋, ⌈(i+1)L/out⌉)). */
export class AdaptiveAvgPool1d extends Module {
  /** Creates the layer. */
  constructor(readonly outputSize: number) {
    super();
    checkPositiveInt('AdaptiveAvgPool1d', 'outputSize', outputSize);
  }

  /** `[N, C, L]` → `[N, C, outputSize]`. */
  forward(x: Tensor): Tensor {
    checkInput('AdaptiveAvgPool1d', x, [3], null, null, '[N, C, L]');
    return adaptiveAvgPool1d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `outputSize=${this.outputSize}`;
  }
}

/** Mean over the whole length: `[N, C, L]` → `[N, C]` (or `[N, C, 1]` with `keepDim`). */
export class GlobalAvgPool1d extends Module {
  /** Creates the layer. */
  constructor(readonly keepDim = false) {
    super();
  }

  /** Averages over the last axis. */
  forward(x: Tensor): Tensor {
    checkInput('GlobalAvgPool1d', x, [3], null, null, '[N, C, L]');
    return mean(x, 2, this.keepDim);
  }

  override extraRepr(): string {
    return this.keepDim ? 'keepDim=true' : '';
  }
}
