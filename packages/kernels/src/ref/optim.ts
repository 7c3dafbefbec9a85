/**
 * Reference optimizer kernels: one SGD / Adam(W) step over a parameter, in place, in one pass, with
 * PyTorch's semantics (`torch.optim.SGD`, `Adam`, `AdamW`, single-tensor path). Arithmetic is float64 (JS
 * numbers); state arrays have the parameter's dtype and are read back after each store, as PyTorch's
 * float32 state would be.
 */
import {
  type AdamStepParams,
  type FloatArray,
  KernelArgumentError,
  type SgdStepParams,
} from '../contract.js';

/**
 * One SGD step: g ← ±∇ + λθ (− with `maximize`); with momentum μ (buf non-null), b ← g on the first
 * step, else b ← μ·b + (1 − d)·g, then g ← g + μ·b (Nesterov) or g ← b; finally θ ← θ − lr·g.
 */
export function sgdStep(param: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdStepParams): void {
  const { lr, momentum, dampening, weightDecay, nesterov, maximize, firstStep } = p;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    let g = maximize ? -grad[i] : grad[i];
    if (weightDecay !== 0) g += weightDecay * param[i];
    if (buf !== null) {
      buf[i] = firstStep ? g : momentum * buf[i] + (1 - dampening) * g;
      g = nesterov ? g + momentum * buf[i] : buf[i];
    }
    param[i] -= lr * g;
  }
}

/**
 * One Adam step (Kingma & Ba 2015) at 1-based step t: g ← ±∇ (+ λθ unless decoupled); m ← β₁m + (1−β₁)g;
 * v ← β₂v + (1−β₂)g²; v̂ = max(v̂, v) with AMSGrad, else v;
 * θ ← θ − (lr/(1 − β₁ᵗ))·m / (√v̂/√(1 − β₂ᵗ) + eps).
 * AdamW (`decoupled`, Loshchilov & Hutter 2019) decays the weights directly first: θ ← θ·(1 − lr·λ).
 */
export function adamStep(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  v: FloatArray,
  vMax: FloatArray | null,
  p: AdamStepParams,
): void {
  const { lr, beta1: b1, beta2: b2, eps, weightDecay, decoupled, maximize, step: t } = p;
  if (p.amsgrad && vMax === null) throw new KernelArgumentError('adamStep: amsgrad needs the vMax array');
  const vmax = p.amsgrad ? vMax : null;
  const bc1 = 1 - b1 ** t;
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  const stepSize = lr / bc1;
  const decay = decoupled ? 1 - lr * weightDecay : 1;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    let g = maximize ? -grad[i] : grad[i];
    if (decoupled) param[i] *= decay;
    else if (weightDecay !== 0) g += weightDecay * param[i];
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    let second = v[i];
    if (vmax !== null) {
      if (second > vmax[i]) vmax[i] = second;
      second = vmax[i];
    }
    param[i] -= (stepSize * m[i]) / (Math.sqrt(second) / bc2Sqrt + eps);
  }
}
