/**
 * Binarisation: sign with the ecgnn binary convention sign(0) = +1, and straight-through estimators (STE)
 * for training binary networks. They are custom ops built with {@link defineOp}, the documented mechanism
 * for differentiable ops with a hand-chosen gradient.
 */
import type { UnaryGradKernelOp } from '@ecgnn/kernels';
import { kernels } from '../backend/backend.js';
import { allocate, isFloat } from '../dtype.js';
import { DTypeError, ValueError } from '../errors.js';
import { defineOp } from '../runtime.js';
import { Tensor } from '../tensor.js';
import { unaryGrad } from './activations.js';

/**
 * Surrogate gradient of {@link signSte}:
 * - `'clipped'`: 1 where |x| ≤ 1, else 0 (Hubara et al. 2016, the standard baseline);
 * - `'triangular'`: 2s·max(0, 1 − s|x|), a triangle of area 2 (the jump of sign) that sharpens with s;
 *   s = 1 is Bi-Real Net's ApproxSign (Liu et al. 2018), Pu et al. 2023 anneal s upward during training;
 * - `'identity'`: 1 everywhere (plain straight-through).
 */
export type SignEstimator = 'clipped' | 'triangular' | 'identity';

/** Options of {@link signSte}. */
export interface SignSteOptions {
  /** Surrogate gradient (default 'clipped'). */
  estimator?: SignEstimator;
  /** Sharpness s > 0 of the triangular surrogate (default 1; ignored by the other estimators). */
  sharpness?: number;
}

// NOTE: the binary convention sign(0) = +1 is defined in @ecgnn/kernels binary/conventions.ts; training
// must match the exported model bit for bit. Inside core it is implemented once, by the backend's 'sign'
// kernel (+1 for x ≥ 0, −1 for x < 0), so a backend that accelerates it keeps the convention.
function signForward(x: Tensor): Tensor {
  const out = allocate(x.dtype, x.size);
  kernels().unary('sign', x.storage, out);
  return new Tensor(out, x.shape);
}

/** `g · d(x)` for the surrogate derivative d of `op` (parameter p0), by the unaryBackward kernel. */
function signGrad(op: UnaryGradKernelOp, g: Tensor, x: Tensor, y: Tensor, p0 = 0): Tensor {
  return unaryGrad(op, x, y, g, p0);
}

const signOp = defineOp<[Tensor]>({
  name: 'sign',
  forward: ([x]) => signForward(x),
  // The true derivative of sign is 0 almost everywhere (as torch.sign's gradient).
  backward: (g, { inputs: [x], output }) => [signGrad('sign', g, x, output)],
});

const signClippedOp = defineOp<[Tensor]>({
  name: 'signSte',
  forward: ([x]) => signForward(x),
  // d/dx ≈ 1 where |x| ≤ 1, else 0
  backward: (g, { inputs: [x], output }) => [signGrad('signSteClipped', g, x, output, 1)],
});

const signIdentityOp = defineOp<[Tensor]>({
  name: 'signSte',
  forward: ([x]) => signForward(x),
  // d/dx ≈ 1
  backward: (g, { inputs: [x], output }) => [signGrad('signSteIdentity', g, x, output)],
});

function signTriangularOp(s: number): (x: Tensor) => Tensor {
  return defineOp<[Tensor]>({
    name: 'signSte',
    forward: ([x]) => signForward(x),
    // d/dx ≈ 2s·max(0, 1 − s|x|)
    backward: (g, { inputs: [x], output }) => [signGrad('signSteTriangular', g, x, output, s)],
  });
}

/**
 * sign(x) with the binary convention: +1 for x ≥ 0 (so sign(0) = +1), −1 for x < 0. Its gradient is 0;
 * use {@link signSte} to train through it.
 */
export function sign(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(`sign: expected a Tensor, got ${typeof x}`);
  return signOp(x);
}

/**
 * sign(x) (+1 for x ≥ 0, −1 otherwise) whose backward uses a straight-through surrogate gradient instead
 * of the true derivative (0 almost everywhere); see {@link SignEstimator} for the choices.
 */
export function signSte(x: Tensor, opts: SignSteOptions = {}): Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(`signSte: expected a Tensor, got ${typeof x}`);
  if (!isFloat(x.dtype)) throw new DTypeError(`signSte: expected a float tensor, got ${x.dtype}`);
  const estimator = opts.estimator ?? 'clipped';
  switch (estimator) {
    case 'clipped':
      return signClippedOp(x);
    case 'identity':
      return signIdentityOp(x);
    case 'triangular': {
      const s = opts.sharpness ?? 1;
      if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) {
        throw new ValueError(`signSte: sharpness must be a finite number > 0, got ${s}`);
      }
      return signTriangularOp(s)(x);
    }
    default:
      throw new ValueError(
        `signSte: estimator must be 'clipped', 'triangular' or 'identity', got '${String(estimator)}'`,
      );
  }
}
