import { allocate } from './dtype.js';
import { EcgnnError, fmtShape } from './errors.js';
import { Generator } from './random.js';
import { noGrad, Tensor } from './tensor.js';
import './tensor-methods.js';

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-4). */
  rtol?: number;
  /** Seed of the random projection of the output (default 0). */
  seed?: number;
  /** Inputs (by index) not to check (e.g. integer indices, masks). */
  skip?: readonly number[];
}

/** Raised when analytic and numerical gradients disagree. */
export class GradcheckError extends EcgnnError {}

/**
 * Compares autograd's gradient of `fn` with central finite differences, in float64.
 * The output is projected on a fixed random vector r (loss = Σ r·fn(x)), so every output element matters.
 * Throws a {@link GradcheckError} naming the input, element index and both values on the first mismatch;
 * returns the largest absolute error otherwise. Inputs must be float64 (except those in `skip`); `fn` may
 * return a float32 tensor (e.g. through a cast), in which case use a larger `eps` (about 1e-2) and looser
 * tolerances, since float32 rounding then dominates the finite differences.
 */
export function gradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): number {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const skip = new Set(opts.skip ?? []);
  for (const [i, x] of inputs.entries()) {
    if (!skip.has(i) && x.dtype !== 'float64') {
      throw new GradcheckError(
        `gradcheck: input ${i} must be float64 (got ${x.dtype}); finite differences need it`,
      );
    }
  }
  const leaves = inputs.map((x, i) => (skip.has(i) ? x : new Tensor(x.data.slice(), x.shape, true)));
  const out0 = fn(...leaves);
  const gen = new Generator(opts.seed ?? 0);
  const r = allocate('float64', out0.size);
  for (let i = 0; i < r.length; i++) r[i] = gen.normal();
  const proj = (t: Tensor): number => {
    let s = 0;
    for (let i = 0; i < t.size; i++) s += t.data[i] * r[i];
    return s;
  };
  if (!(out0 instanceof Tensor)) throw new GradcheckError('gradcheck: fn must return a Tensor');
  if (out0.dtype === 'int32')
    throw new GradcheckError('gradcheck: fn returned an int32 tensor (no gradient)');
  if (out0.requiresGrad) {
    // The seed has the output's dtype (a float32 output, e.g. after a cast, gets a float32 seed).
    const seed = allocate(out0.dtype, r.length);
    seed.set(r);
    out0.backward(new Tensor(seed, out0.shape));
  }
  let worst = 0;
  noGrad(() => {
    for (const [i, x] of leaves.entries()) {
      if (skip.has(i)) continue;
      const analytic = x.grad?.data ?? allocate('float64', x.size);
      for (let j = 0; j < x.size; j++) {
        const orig = x.data[j];
        x.data[j] = orig + eps;
        const fp = proj(fn(...leaves));
        x.data[j] = orig - eps;
        const fm = proj(fn(...leaves));
        x.data[j] = orig;
        const numeric = (fp - fm) / (2 * eps);
        const err = Math.abs(numeric - analytic[j]);
        worst = Math.max(worst, err);
        if (!(err <= atol + rtol * Math.abs(numeric))) {
          throw new GradcheckError(
            `gradcheck: input ${i} ${fmtShape(x.shape)} element ${j}: analytic ${analytic[j]} vs numerical ${numeric} (|diff| ${err})`,
          );
        }
      }
    }
  });
  return worst;
}
