/** Dropout layer. */
import { ValueError } from '../errors.js';
import { dropout } from '../ops/nn.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/**
 * Inverted dropout (Srivastava et al. 2014): in training, zeroes each element with probability p and
 * scales the survivors by 1/(1 − p); in evaluation, the identity.
 */
export class Dropout extends Module {
  /** Generator of the masks (the global default when omitted, read at each call). */
  generator: Generator | undefined;

  /** Creates the layer. */
  constructor(
    readonly p = 0.5,
    opts: { generator?: Generator } = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ValueError(`Dropout: p must be in [0, 1], got ${p}`);
    this.generator = opts.generator;
  }

  /** Applies dropout in training mode; identity in evaluation. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.generator);
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
