/** Activation modules (thin wrappers over the functional activations), including PReLU with learned slopes. */

import { ValueError } from '../errors.js';
import { relu, sigmoid, tanh } from '../ops/basic.js';
import { elu, gelu, hardtanh, leakyRelu, logSoftmax, prelu, silu, softmax, softplus } from '../ops/nn.js';
import type { Tensor } from '../tensor.js';
import { checkPositiveInt, type LayerOptions, newParameter } from './common.js';
import { Module } from './module.js';

/** max(0, x). */
export class ReLU extends Module {
  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** x for x ≥ 0, negativeSlope·x otherwise. */
export class LeakyReLU extends Module {
  /** Creates the layer. */
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** Options of {@link PReLU}. */
export interface PReLUOptions extends Omit<LayerOptions, 'generator'> {
  /** Number of learned slopes: 1 (shared) or the channel count (axis 1) (default 1). */
  numParameters?: number;
  /** Initial slope (default 0.25, as He et al. 2015). */
  init?: number;
}

/**
 * Parametric ReLU (He et al. 2015): x for x ≥ 0, a·x otherwise, with a learned slope a shared or one per
 * channel (axis 1).
 */
export class PReLU extends Module {
  /** Slopes `[numParameters]`. */
  declare readonly weight: Tensor;
  /** Number of slopes (the `numParameters` option). */
  readonly numSlopes: number;

  /** Creates the layer. */
  constructor(opts: PReLUOptions = {}) {
    super();
    this.numSlopes = opts.numParameters ?? 1;
    checkPositiveInt('PReLU', 'numParameters', this.numSlopes);
    const w = newParameter([this.numSlopes], opts.dtype);
    w.data.fill(opts.init ?? 0.25);
    this.registerParameter('weight', w);
  }

  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return prelu(x, this.weight);
  }

  override extraRepr(): string {
    return `numParameters=${this.numSlopes}`;
  }
}

/** x for x > 0, α(eˣ − 1) otherwise (Clevert et al. 2016). */
export class ELU extends Module {
  /** Creates the layer. */
  constructor(readonly alpha = 1) {
    super();
  }

  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** x·Φ(x) (Hendrycks & Gimpel 2016); `approximate: 'tanh'` uses the tanh approximation. */
export class GELU extends Module {
  /** Creates the layer. */
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh')
      throw new ValueError(`GELU: approximate must be 'none' or 'tanh', got ${String(approximate)}`);
  }

  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }

  override extraRepr(): string {
    return this.approximate === 'none' ? '' : `approximate=${this.approximate}`;
  }
}

/** 1 / (1 + e⁻ˣ). */
export class Sigmoid extends Module {
  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** tanh x. */
export class Tanh extends Module {
  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** x clipped to [minVal, maxVal] (gradient 1 inside, 0 outside). */
export class Hardtanh extends Module {
  /** Creates the layer. */
  constructor(
    readonly minVal = -1,
    readonly maxVal = 1,
  ) {
    super();
    if (!(minVal <= maxVal))
      throw new ValueError(`Hardtanh: minVal ${minVal} must not exceed maxVal ${maxVal}`);
  }

  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return hardtanh(x, this.minVal, this.maxVal);
  }

  override extraRepr(): string {
    return `minVal=${this.minVal}, maxVal=${this.maxVal}`;
  }
}

/** Softmax along `dim` (default the last). */
export class Softmax extends Module {
  /** Creates the layer. */
  constructor(readonly dim = -1) {
    super();
  }

  /** Applies softmax. */
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log-softmax along `dim` (default the last). */
export class LogSoftmax extends Module {
  /** Creates the layer. */
  constructor(readonly dim = -1) {
    super();
  }

  /** Applies log-softmax. */
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** x·σ(x) (SiLU / Swish, Elfwing et al. 2018). */
export class SiLU extends Module {
  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** (1/β)·log(1 + e^{βx}), linear above `threshold`/β (as PyTorch). */
export class Softplus extends Module {
  /** Creates the layer. */
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }

  /** Applies the activation. */
  forward(x: Tensor): Tensor {
    return softplus(x, this.beta, this.threshold);
  }

  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}
