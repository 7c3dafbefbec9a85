/**
 * Activation functions and (log-)softmax as fused primitives: each forward is one loop over the storage and
 * each gradient rule is the closed-form derivative, also one loop (no intermediate tensors).
 */
import { allocate, type FloatArray, isFloat } from '../dtype.js';
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
// erf

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π
const INV_SQRT_PI = 0.5641895835477563; // 1/√π
const INV_SQRT2 = Math.SQRT1_2; // 1/√2
const INV_SQRT_2PI = 0.3989422804014327; // 1/√(2π)
const SQRT_2_OVER_PI = 0.7978845608028654; // √(2/π)
const GELU_TANH_C = 0.044715;

/**
 * erfc(x) for x ≥ 2 by the continued fraction
 * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))),
 * evaluated with the modified Lentz method (Numerical Recipes §5.2); converges to full double precision
 * in well under 100 terms for x ≥ 2.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = f;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (Math.exp(-x * x) * INV_SQRT_PI) / f;
}

/**
 * Reference erf for x ≥ 0 (slow, ~1e-16): the series erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·5·…·(2n+1))
 * (Abramowitz & Stegun 7.1.6), whose terms are all positive so there is no cancellation, for x < 2.5;
 * 1 − erfc(x) with erfc from its continued fraction (A&S 7.1.14) above. Used once, at load time, to build
 * the Chebyshev tables of {@link erfScalar}.
 */
function erfReference(x: number): number {
  if (x < 2.5) {
    const x2 = x * x;
    let term = x;
    let s = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      s += term;
      if (term <= s * 1e-17) break;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * s;
  }
  return 1 - erfcContinuedFraction(x);
}

// Piecewise Chebyshev interpolation on intervals [k·w, (k+1)·w) of [0, 6), coefficients computed once from
// erfReference at the Chebyshev nodes. Below ERF_SPLIT the interpolant is erf(x)/x (smooth and even, which
// keeps the relative accuracy for tiny x); above, it is the scaled complement erfc(x)·e^(x²) (smooth, about
// 1/(x√π)), so that erf = 1 − e^(−x²)·h(x) is exact to about one ulp where erf approaches 1.
const ERF_W = 0.25;
const ERF_INTERVALS = 24;
const ERF_DEG = 12;
const ERF_SPLIT = 1;
const ERF_COEFFS = buildErfTables();

function erfInterpolated(x: number): number {
  if (x < ERF_SPLIT) return erfReference(x) / x;
  const erfc = x < 2.5 ? 1 - erfReference(x) : erfcContinuedFraction(x);
  return erfc * Math.exp(x * x);
}

function buildErfTables(): Float64Array {
  const c = new Float64Array(ERF_INTERVALS * ERF_DEG);
  const f = new Float64Array(ERF_DEG);
  for (let k = 0; k < ERF_INTERVALS; k++) {
    const mid = (k + 0.5) * ERF_W;
    const half = ERF_W / 2;
    for (let j = 0; j < ERF_DEG; j++) {
      f[j] = erfInterpolated(mid + half * Math.cos((Math.PI * (j + 0.5)) / ERF_DEG));
    }
    // c_i = 2/N Σ_j f(x_j)·cos(π·i·(j + ½)/N)  (Numerical Recipes §5.8)
    for (let i = 0; i < ERF_DEG; i++) {
      let acc = 0;
      for (let j = 0; j < ERF_DEG; j++) acc += f[j] * Math.cos((Math.PI * i * (j + 0.5)) / ERF_DEG);
      c[k * ERF_DEG + i] = (2 * acc) / ERF_DEG;
    }
  }
  return c;
}

/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, to within a few ulp in float64 (tested against libm
 * values). Piecewise Chebyshev interpolation (tables built at load time from a convergent series and a
 * continued fraction, see above) evaluated by Clenshaw's recurrence; erf = ±1 for |x| ≥ 6, where
 * 1 − erf(6) ≈ 2e-17 is below float64 resolution.
 */
export function erfScalar(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  if (ax >= ERF_INTERVALS * ERF_W) return x < 0 ? -1 : 1;
  const k = Math.floor(ax / ERF_W);
  const t = (ax - (k + 0.5) * ERF_W) / (ERF_W / 2);
  const base = k * ERF_DEG;
  // Clenshaw: Σ' c_i T_i(t) = t·b₁ − b₂ + c₀/2
  let b1 = 0;
  let b2 = 0;
  const t2 = 2 * t;
  for (let i = ERF_DEG - 1; i >= 1; i--) {
    const tmp = t2 * b1 - b2 + ERF_COEFFS[base + i];
    b2 = b1;
    b1 = tmp;
  }
  const p = t * b1 - b2 + 0.5 * ERF_COEFFS[base];
  const r = ax < ERF_SPLIT ? ax * p : 1 - Math.exp(-ax * ax) * p;
  return x < 0 ? -r : r;
}

const erfRule: PrimitiveRule<undefined> = {
  forward: ([x]) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    for (let i = 0; i < xd.length; i++) out[i] = erfScalar(xd[i]);
    return new Tensor(out, x.shape);
  },
  // d erf(x)/dx = 2/√π · e^(−x²)
  vjp: (g, { inputs: [x] }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    const gd = g.data;
    for (let i = 0; i < xd.length; i++) out[i] = gd[i] * TWO_OVER_SQRT_PI * Math.exp(-xd[i] * xd[i]);
    return [new Tensor(out, x.shape)];
  },
};

/** Elementwise error function (like `torch.erf`), accurate to float64 precision. */
export function erf(x: Tensor): Tensor {
  requireFloatTensor('erf', x);
  return run('erf', erfRule, [x], undefined);
}

// ---------------------------------------------------------------------------------------------------------
// Pointwise activations

const leakyReluRule: PrimitiveRule<{ negativeSlope: number }> = {
  forward: ([x], { negativeSlope }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    for (let i = 0; i < xd.length; i++) {
      const v = xd[i];
      out[i] = v > 0 ? v : v * negativeSlope;
    }
    return new Tensor(out, x.shape);
  },
  // d/dx = 1 for x > 0, negativeSlope otherwise (PyTorch takes the slope at 0)
  vjp: (g, { inputs: [x], attrs: { negativeSlope } }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    const gd = g.data;
    for (let i = 0; i < xd.length; i++) out[i] = xd[i] > 0 ? gd[i] : gd[i] * negativeSlope;
    return [new Tensor(out, x.shape)];
  },
};

/** Leaky ReLU: x for x > 0, negativeSlope·x otherwise (`torch.nn.functional.leaky_relu`). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  requireFloatTensor('leakyRelu', x);
  requireFiniteNumber('leakyRelu', 'negativeSlope', negativeSlope);
  return run('leakyRelu', leakyReluRule, [x], { negativeSlope });
}

/** Channel layout of prelu: weight index = floor(i / inner) mod channels. */
function preluLayout(x: Tensor, w: Tensor): { channels: number; inner: number } {
  const channels = w.size;
  const inner = channels === 1 ? x.size : sizeOf(x.shape.slice(2));
  return { channels, inner: Math.max(inner, 1) };
}

const preluRule: PrimitiveRule<undefined> = {
  forward: ([x, w]) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    const wd = w.data;
    const { channels, inner } = preluLayout(x, w);
    if (channels === 1) {
      const a = wd[0];
      for (let i = 0; i < xd.length; i++) out[i] = xd[i] > 0 ? xd[i] : a * xd[i];
    } else {
      for (let base = 0, c = 0; base < xd.length; base += inner, c = c + 1 === channels ? 0 : c + 1) {
        const a = wd[c];
        for (let i = base; i < base + inner; i++) out[i] = xd[i] > 0 ? xd[i] : a * xd[i];
      }
    }
    return new Tensor(out, x.shape);
  },
  // y = max(0, x) + a_c·min(0, x):  dy/dx = 1 (x > 0) or a_c;  dy/da_c = Σ x over x ≤ 0 of channel c
  vjp: (g, { inputs: [x, w], needsGrad }) => {
    const gx = needsGrad[0] ? allocate(x.dtype, x.size) : null;
    const gw = needsGrad[1] ? new Float64Array(w.size) : null;
    const xd = x.data;
    const wd = w.data;
    const gd = g.data;
    const { channels, inner } = preluLayout(x, w);
    for (let base = 0, c = 0; base < xd.length; base += inner, c = c + 1 === channels ? 0 : c + 1) {
      const a = wd[c];
      let acc = 0;
      for (let i = base; i < base + inner; i++) {
        const v = xd[i];
        if (v > 0) {
          if (gx) gx[i] = gd[i];
        } else {
          if (gx) gx[i] = a * gd[i];
          acc += gd[i] * v;
        }
      }
      if (gw) gw[c] += acc;
    }
    let gwT: Tensor | null = null;
    if (gw) {
      const store = allocate(w.dtype, w.size);
      store.set(gw);
      gwT = new Tensor(store, w.shape);
    }
    return [gx ? new Tensor(gx, x.shape) : null, gwT];
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
  forward: ([x], { alpha }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    for (let i = 0; i < xd.length; i++) {
      const v = xd[i];
      out[i] = v > 0 ? v : alpha * Math.expm1(v);
    }
    return new Tensor(out, x.shape);
  },
  // d/dx = 1 for x > 0, α·eˣ otherwise
  vjp: (g, { inputs: [x], attrs: { alpha } }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    const gd = g.data;
    for (let i = 0; i < xd.length; i++) out[i] = xd[i] > 0 ? gd[i] : gd[i] * alpha * Math.exp(xd[i]);
    return [new Tensor(out, x.shape)];
  },
};

/** Exponential linear unit: x for x > 0, α·(eˣ − 1) otherwise (`torch.nn.functional.elu`). */
export function elu(x: Tensor, alpha = 1): Tensor {
  requireFloatTensor('elu', x);
  requireFiniteNumber('elu', 'alpha', alpha);
  return run('elu', eluRule, [x], { alpha });
}

const geluRule: PrimitiveRule<{ approximate: GeluApproximate }> = {
  forward: ([x], { approximate }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    if (approximate === 'tanh') {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      for (let i = 0; i < xd.length; i++) {
        const v = xd[i];
        out[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + GELU_TANH_C * v * v * v)));
      }
    } else {
      // x·Φ(x) = 0.5·x·(1 + erf(x/√2))
      for (let i = 0; i < xd.length; i++) {
        const v = xd[i];
        out[i] = 0.5 * v * (1 + erfScalar(v * INV_SQRT2));
      }
    }
    return new Tensor(out, x.shape);
  },
  vjp: (g, { inputs: [x], attrs: { approximate } }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    const gd = g.data;
    if (approximate === 'tanh') {
      // d/dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²),  t = tanh(u)
      for (let i = 0; i < xd.length; i++) {
        const v = xd[i];
        const t = Math.tanh(SQRT_2_OVER_PI * (v + GELU_TANH_C * v * v * v));
        const du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * v * v);
        out[i] = gd[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
      }
    } else {
      // d/dx x·Φ(x) = Φ(x) + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)
      for (let i = 0; i < xd.length; i++) {
        const v = xd[i];
        const cdf = 0.5 * (1 + erfScalar(v * INV_SQRT2));
        out[i] = gd[i] * (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
      }
    }
    return [new Tensor(out, x.shape)];
  },
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
  forward: ([x], { min, max }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    for (let i = 0; i < xd.length; i++) out[i] = Math.min(Math.max(xd[i], min), max);
    return new Tensor(out, x.shape);
  },
  // d/dx = 1 strictly inside (min, max), 0 outside and at the kinks (as PyTorch's hardtanh_backward)
  vjp: (g, { inputs: [x], attrs: { min, max } }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    const gd = g.data;
    for (let i = 0; i < xd.length; i++) out[i] = xd[i] > min && xd[i] < max ? gd[i] : 0;
    return [new Tensor(out, x.shape)];
  },
};

/** Clips to [min, max] with gradient 1 strictly inside, 0 outside (`torch.nn.functional.hardtanh`). */
export function hardtanh(x: Tensor, min = -1, max = 1): Tensor {
  requireFloatTensor('hardtanh', x);
  if (!(min <= max)) throw new ValueError(`hardtanh: min (${min}) must not exceed max (${max})`);
  return run('hardtanh', hardtanhRule, [x], { min, max });
}

/** log(1 + eᶻ) without overflow or loss of precision: max(z, 0) + log1p(e^(−|z|)). */
function softplusScalar(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** Stable logistic function 1/(1 + e^(−z)). */
function sigmoidScalar(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

const softplusRule: PrimitiveRule<{ beta: number; threshold: number }> = {
  forward: ([x], { beta, threshold }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    for (let i = 0; i < xd.length; i++) {
      const z = beta * xd[i];
      out[i] = z > threshold ? xd[i] : softplusScalar(z) / beta;
    }
    return new Tensor(out, x.shape);
  },
  // d/dx log(1 + e^(βx))/β = σ(βx); 1 in the linear region βx > threshold
  vjp: (g, { inputs: [x], attrs: { beta, threshold } }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    const gd = g.data;
    for (let i = 0; i < xd.length; i++) {
      const z = beta * xd[i];
      out[i] = z > threshold ? gd[i] : gd[i] * sigmoidScalar(z);
    }
    return [new Tensor(out, x.shape)];
  },
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
  forward: ([x]) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    for (let i = 0; i < xd.length; i++) out[i] = xd[i] * sigmoidScalar(xd[i]);
    return new Tensor(out, x.shape);
  },
  // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
  vjp: (g, { inputs: [x] }) => {
    const out = allocate(x.dtype, x.size);
    const xd = x.data;
    const gd = g.data;
    for (let i = 0; i < xd.length; i++) {
      const s = sigmoidScalar(xd[i]);
      out[i] = gd[i] * s * (1 + xd[i] * (1 - s));
    }
    return [new Tensor(out, x.shape)];
  },
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

function softmaxForward(x: Tensor, axis: number, logOut: boolean): Tensor {
  const { outer, r, inner } = axisLayout(x.shape, axis);
  const xd = x.data as FloatArray;
  const out = allocate(x.dtype, x.size) as FloatArray;
  for (let o = 0; o < outer; o++) {
    const rowBase = o * r * inner;
    for (let j = 0; j < inner; j++) {
      const base = rowBase + j;
      const end = base + r * inner;
      // Subtract the maximum so that exp never overflows (softmax is shift-invariant).
      let m = Number.NEGATIVE_INFINITY;
      for (let k = base; k < end; k += inner) if (xd[k] > m) m = xd[k];
      let s = 0;
      if (logOut) {
        for (let k = base; k < end; k += inner) s += Math.exp(xd[k] - m);
        // log softmax = x − (m + log Σ e^(x − m))
        const lse = m + Math.log(s);
        for (let k = base; k < end; k += inner) out[k] = xd[k] - lse;
      } else {
        for (let k = base; k < end; k += inner) {
          const e = Math.exp(xd[k] - m);
          out[k] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let k = base; k < end; k += inner) out[k] *= inv;
      }
    }
  }
  return new Tensor(out, x.shape);
}

const softmaxRule: PrimitiveRule<{ axis: number }> = {
  forward: ([x], { axis }) => softmaxForward(x, axis, false),
  // y = softmax(x):  dx = y ⊙ (g − Σ_axis g ⊙ y)
  vjp: (g, { output, attrs: { axis } }) => {
    const { outer, r, inner } = axisLayout(output.shape, axis);
    const y = output.data;
    const gd = g.data;
    const gx = allocate(output.dtype, output.size);
    for (let o = 0; o < outer; o++) {
      const rowBase = o * r * inner;
      for (let j = 0; j < inner; j++) {
        const base = rowBase + j;
        const end = base + r * inner;
        let dot = 0;
        for (let k = base; k < end; k += inner) dot += gd[k] * y[k];
        for (let k = base; k < end; k += inner) gx[k] = y[k] * (gd[k] - dot);
      }
    }
    return [new Tensor(gx, output.shape)];
  },
};

const logSoftmaxRule: PrimitiveRule<{ axis: number }> = {
  forward: ([x], { axis }) => softmaxForward(x, axis, true),
  // y = log softmax(x):  dx = g − softmax(x) · Σ_axis g,  softmax(x) = e^y
  vjp: (g, { output, attrs: { axis } }) => {
    const { outer, r, inner } = axisLayout(output.shape, axis);
    const y = output.data;
    const gd = g.data;
    const gx = allocate(output.dtype, output.size);
    for (let o = 0; o < outer; o++) {
      const rowBase = o * r * inner;
      for (let j = 0; j < inner; j++) {
        const base = rowBase + j;
        const end = base + r * inner;
        let s = 0;
        for (let k = base; k < end; k += inner) s += gd[k];
        for (let k = base; k < end; k += inner) gx[k] = gd[k] - Math.exp(y[k]) * s;
      }
    }
    return [new Tensor(gx, output.shape)];
  },
};

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
