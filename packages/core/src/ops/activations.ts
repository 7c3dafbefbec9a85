/**
 * Activation functions and (log-)softmax as fused primitives: each forward is one call of the backend's
 * unary / prelu / softmax kernel and each gradient rule one call of its closed-form backward kernel
 * (no intermediate tensors).
 */
import { unary as referenceUnary, type UnaryGradKernelOp } from '@ecgnn/kernels';
import { kernels } from '../backend/backend.js';
import type { UnaryKernelOp } from '../backend/kernels.js';
import { allocate, allocateUninitialized, type FloatArray, isFloat } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { normalizeAxis, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    erf: undefined;
    leakyRelu: { negativeSlope: number };
    prelu: undefined;
    elu: { alpha: number };
    gelu: { approximate: GeluApproximate };
    hardtanh: { min: number; max: number };
    softplus: { beta: number; threshold: number };
    silu: undefined;
    softmax: { axis: number };
    logSoftmax: { axis: number };
  }
}

/** How {@link gelu} computes the Gaussian CDF: exactly with erf, or with the tanh approximation. */
export type GeluApproximate = 'none' | 'tanh';

function requireFloatTensor(op: string, x: Tensor): void {
  if (!(x instanceof Tensor)) throw new DTypeError(`${op}: expected a Tensor, got ${typeof x}`);
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a float tensor, got ${x.dtype}`);
}

function requireFiniteNumber(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ValueError(`${op}: ${name} must be a finite number, got ${v}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Kernel calls shared by the rules

/** `op(x; p0, p1)` by the backend's unary kernel, into a new tensor shaped like x. */
function unaryForward(x: Tensor, op: UnaryKernelOp, p0 = 0, p1 = 0): Tensor {
  const out = allocate(x.dtype, x.size);
  kernels().unary(op, x.storage, out, p0, p1);
  return new Tensor(out, x.shape);
}

/** `g · op'(x)` by the backend's unaryBackward kernel (`y` = op(x), the forward output). */
export function unaryGrad(op: UnaryGradKernelOp, x: Tensor, y: Tensor, g: Tensor, p0 = 0, p1 = 0): Tensor {
  const gx = allocateUninitialized(x.dtype, x.size) as FloatArray; // unaryBackward assigns every element
  kernels().unaryBackward(
    op,
    x.storage as FloatArray,
    y.storage as FloatArray,
    g.storage as FloatArray,
    gx,
    p0,
    p1,
  );
  return new Tensor(gx, x.shape);
}

// ---------------------------------------------------------------------------------------------------------
// erf

// One-element float64 buffer through which erfScalar calls the reference 'erf' kernel.
const erfScratch = new Float64Array(1);

/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt of one number, to within a few ulp in float64: the
 * reference 'erf' kernel of `@ecgnn/kernels` (piecewise Chebyshev interpolation, see there) on one value.
 */
export function erfScalar(x: number): number {
  erfScratch[0] = x;
  referenceUnary('erf', erfScratch, erfScratch);
  return erfScratch[0];
}

const erfRule: PrimitiveRule<undefined> = {
  forward: ([x]) => unaryForward(x, 'erf'),
  // d erf(x)/dx = 2/√π · e^(−x²)
  vjp: (g, { inputs: [x], output }) => [unaryGrad('erf', x, output, g)],
};

/** Elementwise error function (like `torch.erf`), accurate to float64 precision. */
export function erf(x: Tensor): Tensor {
  requireFloatTensor('erf', x);
  return run('erf', erfRule, [x], undefined);
}

// ---------------------------------------------------------------------------------------------------------
// Pointwise activations

const leakyReluRule: PrimitiveRule<{ negativeSlope: number }> = {
  forward: ([x], { negativeSlope }) => unaryForward(x, 'leakyRelu', negativeSlope),
  // d/dx = 1 for x > 0, negativeSlope otherwise (PyTorch takes the slope at 0)
  vjp: (g, { inputs: [x], output, attrs: { negativeSlope } }) => [
    unaryGrad('leakyRelu', x, output, g, negativeSlope),
  ],
};

/** Leaky ReLU: x for x > 0, negativeSlope·x otherwise (`torch.nn.functional.leaky_relu`). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  requireFloatTensor('leakyRelu', x);
  requireFiniteNumber('leakyRelu', 'negativeSlope', negativeSlope);
  return run('leakyRelu', leakyReluRule, [x], { negativeSlope });
}

/**
 * x seen as [outer, channels, inner] for the prelu kernels: the channels are dimension 1 (one slope each),
 * or one shared slope over the whole tensor.
 */
function preluLayout(x: Tensor, w: Tensor): { outer: number; channels: number; inner: number } {
  if (w.size === 1) return { outer: 1, channels: 1, inner: x.size };
  return { outer: x.shape[0], channels: w.size, inner: sizeOf(x.shape.slice(2)) };
}

const preluRule: PrimitiveRule<undefined> = {
  forward: ([x, w]) => {
    const out = allocate(x.dtype, x.size) as FloatArray;
    const { outer, channels, inner } = preluLayout(x, w);
    kernels().prelu(x.storage as FloatArray, w.storage as FloatArray, out, outer, channels, inner);
    return new Tensor(out, x.shape);
  },
  // y = max(0, x) + a_c·min(0, x):  dy/dx = 1 (x > 0) or a_c;  dy/da_c = Σ x over x ≤ 0 of channel c
  vjp: (g, { inputs: [x, w], needsGrad }) => {
    const gx = needsGrad[0] ? (allocate(x.dtype, x.size) as FloatArray) : null;
    const gw = needsGrad[1] ? (allocate(w.dtype, w.size) as FloatArray) : null;
    const { outer, channels, inner } = preluLayout(x, w);
    kernels().preluBackward(
      x.storage as FloatArray,
      w.storage as FloatArray,
      g.storage as FloatArray,
      gx,
      gw,
      outer,
      channels,
      inner,
    );
    return [gx ? new Tensor(gx, x.shape) : null, gw ? new Tensor(gw, w.shape) : null];
  },
};

/**
 * Parametric ReLU (`torch.nn.functional.prelu`): max(0, x) + a·min(0, x) with a learnable slope `weight`
 * of shape [1] (shared) or [C], applied along dimension 1 (channels) of `x`.
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  requireFloatTensor('prelu', x);
  requireFloatTensor('prelu', weight);
  if (weight.dtype !== x.dtype) {
    throw new DTypeError(`prelu: weight dtype ${weight.dtype} differs from input dtype ${x.dtype}`);
  }
  if (weight.ndim !== 1 || weight.size === 0) {
    throw new ShapeError(`prelu: weight must have shape [1] or [C], got ${fmtShape(weight.shape)}`);
  }
  if (weight.size !== 1 && (x.ndim < 2 || x.shape[1] !== weight.size)) {
    throw new ShapeError(
      `prelu: weight ${fmtShape(weight.shape)} has ${weight.size} slopes but input ${fmtShape(x.shape)} has ${x.ndim < 2 ? 'no channel dimension' : `${x.shape[1]} channels (dim 1)`}`,
    );
  }
  return run('prelu', preluRule, [x, weight], undefined);
}

const eluRule: PrimitiveRule<{ alpha: number }> = {
  forward: ([x], { alpha }) => unaryForward(x, 'elu', alpha),
  // d/dx = 1 for x > 0, α·eˣ = y + α otherwise
  vjp: (g, { inputs: [x], output, attrs: { alpha } }) => [unaryGrad('elu', x, output, g, alpha)],
};

/** Exponential linear unit: x for x > 0, α·(eˣ − 1) otherwise (`torch.nn.functional.elu`). */
export function elu(x: Tensor, alpha = 1): Tensor {
  requireFloatTensor('elu', x);
  requireFiniteNumber('elu', 'alpha', alpha);
  return run('elu', eluRule, [x], { alpha });
}

/** The kernel op of each GELU variant. */
const GELU_KERNEL_OP = { none: 'gelu', tanh: 'geluTanh' } as const;

const geluRule: PrimitiveRule<{ approximate: GeluApproximate }> = {
  // exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2));  tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  forward: ([x], { approximate }) => unaryForward(x, GELU_KERNEL_OP[approximate]),
  // exact: Φ(x) + x·φ(x);  tanh: 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)
  vjp: (g, { inputs: [x], output, attrs: { approximate } }) => [
    unaryGrad(GELU_KERNEL_OP[approximate], x, output, g),
  ],
};

/**
 * Gaussian error linear unit x·Φ(x) (Hendrycks & Gimpel 2016), `torch.nn.functional.gelu`. With
 * `approximate: 'tanh'`, Φ is replaced by 0.5·(1 + tanh(√(2/π)(x + 0.044715x³))).
 */
export function gelu(x: Tensor, approximate: GeluApproximate = 'none'): Tensor {
  requireFloatTensor('gelu', x);
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ValueError(`gelu: approximate must be 'none' or 'tanh', got '${approximate}'`);
  }
  return run('gelu', geluRule, [x], { approximate });
}

const hardtanhRule: PrimitiveRule<{ min: number; max: number }> = {
  forward: ([x], { min, max }) => unaryForward(x, 'hardtanh', min, max),
  // d/dx = 1 strictly inside (min, max), 0 outside and at the kinks (as PyTorch's hardtanh_backward)
  vjp: (g, { inputs: [x], output, attrs: { min, max } }) => [unaryGrad('hardtanh', x, output, g, min, max)],
};

/** Clips to [min, max] with gradient 1 strictly inside, 0 outside (`torch.nn.functional.hardtanh`). */
export function hardtanh(x: Tensor, min = -1, max = 1): Tensor {
  requireFloatTensor('hardtanh', x);
  if (!(min <= max)) throw new ValueError(`hardtanh: min (${min}) must not exceed max (${max})`);
  return run('hardtanh', hardtanhRule, [x], { min, max });
}

const softplusRule: PrimitiveRule<{ beta: number; threshold: number }> = {
  // log(1 + e^(βx))/β computed stably, x where βx > threshold
  forward: ([x], { beta, threshold }) => unaryForward(x, 'softplus', beta, threshold),
  // d/dx log(1 + e^(βx))/β = σ(βx); 1 in the linear region βx > threshold
  vjp: (g, { inputs: [x], output, attrs: { beta, threshold } }) => [
    unaryGrad('softplus', x, output, g, beta, threshold),
  ],
};

/**
 * Softplus log(1 + e^(βx))/β, reverting to x where βx > threshold (`torch.nn.functional.softplus`).
 * Computed stably for any x; pass `threshold = Infinity` for the exact function everywhere.
 */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  requireFloatTensor('softplus', x);
  requireFiniteNumber('softplus', 'beta', beta);
  if (beta === 0) throw new ValueError('softplus: beta must be non-zero');
  if (Number.isNaN(threshold)) throw new ValueError('softplus: threshold must be a number, got NaN');
  return run('softplus', softplusRule, [x], { beta, threshold });
}

const siluRule: PrimitiveRule<undefined> = {
  forward: ([x]) => unaryForward(x, 'silu'),
  // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
  vjp: (g, { inputs: [x], output }) => [unaryGrad('silu', x, output, g)],
};

/** Sigmoid-weighted linear unit x·σ(x), also called swish (`torch.nn.functional.silu`). */
export function silu(x: Tensor): Tensor {
  requireFloatTensor('silu', x);
  return run('silu', siluRule, [x], undefined);
}

// ---------------------------------------------------------------------------------------------------------
// Softmax and log-softmax

/** x seen as [outer, r, inner] around `axis`. */
function axisLayout(shape: readonly number[], axis: number): { outer: number; r: number; inner: number } {
  return {
    outer: sizeOf(shape.slice(0, axis)),
    r: shape[axis],
    inner: sizeOf(shape.slice(axis + 1)),
  };
}

/** Softmax (or log-softmax) rule: forward and backward are the backend's (stable, float64-sum) kernels. */
function softmaxRuleOf(log: boolean): PrimitiveRule<{ axis: number }> {
  return {
    forward: ([x], { axis }) => {
      const { outer, r, inner } = axisLayout(x.shape, axis);
      const out = allocate(x.dtype, x.size) as FloatArray;
      kernels().softmax(x.storage as FloatArray, out, outer, r, inner, log);
      return new Tensor(out, x.shape);
    },
    // softmax y:  dx = y ⊙ (g − Σ_axis g ⊙ y);  log-softmax y:  dx = g − e^y · Σ_axis g
    vjp: (g, { output, attrs: { axis } }) => {
      const { outer, r, inner } = axisLayout(output.shape, axis);
      const gx = allocate(output.dtype, output.size) as FloatArray;
      kernels().softmaxBackward(
        output.storage as FloatArray,
        g.storage as FloatArray,
        gx,
        outer,
        r,
        inner,
        log,
      );
      return [new Tensor(gx, output.shape)];
    },
  };
}

const softmaxRule = softmaxRuleOf(false);
const logSoftmaxRule = softmaxRuleOf(true);

function softmaxAxis(op: string, x: Tensor, dim: number): number {
  requireFloatTensor(op, x);
  if (x.ndim === 0) throw new ShapeError(`${op}: input must have at least one dimension, got a scalar`);
  return normalizeAxis(op, dim, x.ndim);
}

/**
 * Softmax along `dim` (`torch.softmax`): e^(xᵢ − max) / Σⱼ e^(xⱼ − max), fused and numerically stable.
 * A slice that is entirely −∞ gives NaN, as in PyTorch.
 */
export function softmax(x: Tensor, dim = -1): Tensor {
  const axis = softmaxAxis('softmax', x, dim);
  return run('softmax', softmaxRule, [x], { axis });
}

/** Log-softmax along `dim` (`torch.log_softmax`): x − max − log Σ e^(x − max), fused and stable. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  const axis = softmaxAxis('logSoftmax', x, dim);
  return run('logSoftmax', logSoftmaxRule, [x], { axis });
}

/** The rules of this module, for the op table. */
export const activationRules = {
  erf: erfRule,
  leakyRelu: leakyReluRule,
  prelu: preluRule,
  elu: eluRule,
  gelu: geluRule,
  hardtanh: hardtanhRule,
  softplus: softplusRule,
  silu: siluRule,
  softmax: softmaxRule,
  logSoftmax: logSoftmaxRule,
};
