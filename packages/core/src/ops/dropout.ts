/** Dropout: random zeroing with inverted scaling, seeded through core's {@link Generator}. */
import { kernels } from '../backend/backend.js';
import { allocateUninitialized, type FloatArray, isFloat } from '../dtype.js';
import { DTypeError, ValueError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import { Tensor } from '../tensor.js';
import { mul } from './elementwise.js';

/**
 * Inverted dropout (`torch.nn.functional.dropout`): each element is zeroed with probability `p` and the
 * survivors are scaled by 1/(1 − p), so the expectation is unchanged and evaluation needs no rescaling.
 * Identity (the same tensor) when `training` is false or p = 0; all zeros when p = 1.
 *
 * The mask is drawn from `generator` (the global default generator when omitted): element i is dropped
 * when the generator's i-th `random()` is below p, so the same seed gives the same mask.
 * The gradient is the same mask times the output gradient.
 *
 * @throws ValueError when p is outside [0, 1].
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator?: Generator): Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(`dropout: expected a Tensor, got ${typeof x}`);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new ValueError(`dropout: probability p must be in [0, 1], got ${p}`);
  }
  if (!training || p === 0) return x;
  if (!isFloat(x.dtype)) throw new DTypeError(`dropout: expected a float tensor, got ${x.dtype}`);
  const gen = generator ?? defaultGenerator();
  const mask = allocateUninitialized(x.dtype, x.size, 'dropout', x.shape) as FloatArray;
  kernels().dropoutMask(mask, gen, p);
  return mul(x, new Tensor(mask, x.shape));
}
