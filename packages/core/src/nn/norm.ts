/** Normalisation layers: BatchNorm1d (running statistics are buffers) and LayerNorm. */
import type { FloatDType } from '../dtype.js';
import { ValueError } from '../errors.js';
import { full, zeros } from '../ops/creation.js';
import { batchNorm, layerNorm } from '../ops/nn.js';
import { Tensor } from '../tensor.js';
import { checkInput, checkPositiveInt, newParameter } from './common.js';
import { Module } from './module.js';

/** Options of {@link BatchNorm1d}. */
export interface BatchNorm1dOptions {
  /** Added to the variance for stability (default 1e-5). */
  eps?: number;
  /**
   * Weight of the new batch in the running averages: running = (1 − m)·running + m·batch (default 0.1).
   * `null` gives the cumulative average over all batches seen (m = 1/numBatchesTracked), as PyTorch.
   */
  momentum?: number | null;
  /** Learn per-channel scale γ and shift β (default true). */
  affine?: boolean;
  /** Keep running mean/variance for evaluation (default true); without them, batch statistics always. */
  trackRunningStats?: boolean;
  /** Dtype of parameters and running statistics (default float32). */
  dtype?: FloatDType;
}

/**
 * Batch normalisation (Ioffe & Szegedy 2015) over `[N, C]` or `[N, C, L]`: per channel,
 * y = (x − μ) / √(σ² + eps) · γ + β. In training, μ and σ² (biased) are the batch's, and the running
 * statistics are updated with the unbiased variance (PyTorch's convention); in evaluation, the running
 * statistics are used. `runningMean`, `runningVar` and `numBatchesTracked` are persistent buffers.
 */
export class BatchNorm1d extends Module {
  /** γ `[C]` or null. */
  declare readonly weight: Tensor | null;
  /** β `[C]` or null. */
  declare readonly bias: Tensor | null;
  /** Running mean `[C]` or null. */
  declare readonly runningMean: Tensor | null;
  /** Running (unbiased) variance `[C]` or null. */
  declare readonly runningVar: Tensor | null;
  /** Number of training batches seen (int32 scalar) or null. */
  declare readonly numBatchesTracked: Tensor | null;
  /** eps. */
  readonly eps: number;
  /** Momentum (null: cumulative average). */
  momentum: number | null;
  /** Whether γ, β are learned. */
  readonly affine: boolean;
  /** Whether running statistics are kept. */
  readonly trackRunningStats: boolean;

  /** Creates the layer. */
  constructor(
    readonly numFeatures: number,
    opts: BatchNorm1dOptions = {},
  ) {
    super();
    checkPositiveInt('BatchNorm1d', 'numFeatures', numFeatures);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    if (!(this.eps >= 0)) throw new ValueError(`BatchNorm1d: eps must be non-negative, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1))
      throw new ValueError(`BatchNorm1d: momentum must be in [0, 1] or null, got ${this.momentum}`);
    const dtype = opts.dtype ?? 'float32';
    if (this.affine) {
      const w = newParameter([numFeatures], dtype);
      w.data.fill(1);
      this.registerParameter('weight', w);
      this.registerParameter('bias', newParameter([numFeatures], dtype));
    } else {
      this.registerParameter('weight', null);
      this.registerParameter('bias', null);
    }
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', zeros([numFeatures], { dtype }));
      this.registerBuffer('runningVar', full([numFeatures], 1, { dtype }));
      this.registerBuffer('numBatchesTracked', new Tensor(new Int32Array(1), []));
    } else {
      this.registerBuffer('runningMean', null);
      this.registerBuffer('runningVar', null);
      this.registerBuffer('numBatchesTracked', null);
    }
  }

  /** Resets running statistics to mean 0, variance 1, no batches. */
  resetRunningStats(): void {
    this.runningMean?.data.fill(0);
    this.runningVar?.data.fill(1);
    this.numBatchesTracked?.data.fill(0);
  }

  /** `x`: `[N, C]` or `[N, C, L]`, same shape out. */
  forward(x: Tensor): Tensor {
    checkInput(
      'BatchNorm1d',
      x,
      [2, 3],
      1,
      this.numFeatures,
      `[N, ${this.numFeatures}] or [N, ${this.numFeatures}, L]`,
    );
    let factor = 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked !== null) {
      this.numBatchesTracked.data[0] += 1;
      factor = this.momentum === null ? 1 / this.numBatchesTracked.data[0] : this.momentum;
    }
    // NOTE: as torch: batch statistics in training or when no running statistics are kept; the running
    // statistics are passed (and updated in training) whenever they exist.
    const useBatch = this.training || this.runningMean === null;
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: useBatch,
      momentum: factor,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn per-element γ and β (default true). */
  elementwiseAffine?: boolean;
  /** Learn β when affine (default true). */
  bias?: boolean;
  /** Dtype of γ, β (default float32). */
  dtype?: FloatDType;
}

/**
 * Layer normalisation (Ba et al. 2016) over the trailing `normalizedShape` axes:
 * y = (x − mean) / √(var + eps) · γ + β, statistics per sample, same in training and evaluation.
 */
export class LayerNorm extends Module {
  /** γ of shape `normalizedShape`, or null. */
  declare readonly weight: Tensor | null;
  /** β of shape `normalizedShape`, or null. */
  declare readonly bias: Tensor | null;
  /** The normalised trailing shape. */
  readonly normalizedShape: readonly number[];
  /** eps. */
  readonly eps: number;

  /** Creates the layer. */
  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    for (const d of this.normalizedShape) checkPositiveInt('LayerNorm', 'normalizedShape', d);
    this.eps = opts.eps ?? 1e-5;
    const dtype = opts.dtype ?? 'float32';
    if (opts.elementwiseAffine ?? true) {
      const w = newParameter(this.normalizedShape, dtype);
      w.data.fill(1);
      this.registerParameter('weight', w);
      this.registerParameter('bias', (opts.bias ?? true) ? newParameter(this.normalizedShape, dtype) : null);
    } else {
      this.registerParameter('weight', null);
      this.registerParameter('bias', null);
    }
  }

  /** Normalises the trailing axes of `x`. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}
