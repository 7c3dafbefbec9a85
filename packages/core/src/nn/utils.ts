/** Training utilities: gradient clipping and parameter constraints. */
import { kernels } from '../backend/backend.js';
import { allocate } from '../dtype.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { type AnyModule, Module } from './module.js';
import type { Parameter } from './parameter.js';

function gradsOf(params: Iterable<Tensor>): Tensor[] {
  const out: Tensor[] = [];
  for (const p of params) if (p.grad !== null) out.push(p.grad);
  return out;
}

/**
 * max |g| (q = ∞) or Σ |g|^q of one gradient, in float64: |g| and its power by the unary / binary kernels
 * on a float64 copy, the sum or maximum by the reduce kernel.
 */
function normPart(g: Tensor, normType: number): number {
  const k = kernels();
  const n = g.size;
  const a = Float64Array.from(g.data);
  const out = new Float64Array(1);
  k.unary('abs', a, a);
  if (normType === Number.POSITIVE_INFINITY) {
    k.reduce('max', a, out, 1, n, 1);
    return out[0];
  }
  k.binary('pow', a, [1], Float64Array.of(normType), [0], a, [n]);
  k.reduce('sum', a, out, 1, n, 1);
  return out[0];
}

/**
 * Scales the gradients of `params` in place so that their joint norm is at most `maxNorm`
 * (torch.nn.utils.clip_grad_norm_): total = (Σ‖g‖_q^q)^{1/q} (max |g| for q = ∞), and if
 * total > maxNorm every gradient is multiplied by maxNorm / (total + 1e-6). Returns the total norm before
 * clipping. With `errorIfNonfinite`, a NaN/∞ norm throws instead of corrupting the gradients.
 */
export function clipGradNorm(
  params: Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  opts: { errorIfNonfinite?: boolean } = {},
): number {
  if (!(maxNorm >= 0)) throw new ValueError(`clipGradNorm: maxNorm must be non-negative, got ${maxNorm}`);
  if (!(normType > 0)) throw new ValueError(`clipGradNorm: normType must be positive, got ${normType}`);
  const grads = gradsOf(params).filter((g) => g.size > 0);
  let total = 0;
  if (normType === Number.POSITIVE_INFINITY) {
    for (const g of grads) total = Math.max(total, normPart(g, normType));
  } else {
    let acc = 0;
    for (const g of grads) acc += normPart(g, normType);
    total = acc ** (1 / normType);
  }
  if (!Number.isFinite(total)) {
    if (opts.errorIfNonfinite) {
      throw new ValueError(`clipGradNorm: the total gradient norm is ${total}; gradients cannot be clipped`);
    }
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const g of grads) {
      // g ← g·coef in place (coef as a one-element array of g's dtype, broadcast)
      const c = allocate(g.dtype, 1);
      c[0] = coef;
      kernels().binary('mul', g.storage, [1], c, [0], g.storage, [g.size]);
    }
  }
  return total;
}

/** Clamps every gradient element of `params` into [−clipValue, clipValue], in place. */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0))
    throw new ValueError(`clipGradValue: clipValue must be non-negative, got ${clipValue}`);
  // min(max(g, −clipValue), clipValue) in place; NaN stays NaN
  for (const g of gradsOf(params)) kernels().unary('clamp', g.storage, g.storage, -clipValue, clipValue);
}

/**
 * Applies every parameter's constraint (e.g. the |w| ≤ 1 clip of binary layers) in place. The optimizers
 * in `optim` do this after each `step()` by themselves; call this only in a hand-written update loop.
 */
export function applyConstraints(modelOrParams: AnyModule | Iterable<Parameter>): void {
  const params = modelOrParams instanceof Module ? modelOrParams.parameters() : modelOrParams;
  for (const p of params) p.constraint?.apply(p.data);
}

/** All parameters concatenated into one Float64Array (for analysis, e.g. weight distance from init). */
export function parametersToVector(params: Iterable<Tensor>): Float64Array {
  const ps = [...params];
  const out = new Float64Array(ps.reduce((s, p) => s + p.size, 0));
  let off = 0;
  for (const p of ps) {
    out.set(p.data, off);
    off += p.size;
  }
  return out;
}
