/**
 * Reference activation kernels: the unary ops and their gradients (incl. the sign straight-through
 * estimators), PReLU, softmax / log-softmax. Every kernel is one pass per row or element, computes in
 * float64 (JS numbers) and rounds once on store; the switch on the op is outside the loops.
 */
import type { FloatArray, TypedArray, UnaryGradKernelOp, UnaryKernelOp } from '../contract.js';

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π
const INV_SQRT_PI = 0.5641895835477563; // 1/√π
const INV_SQRT2 = Math.SQRT1_2; // 1/√2
const INV_SQRT_2PI = 0.3989422804014327; // 1/√(2π)
const SQRT_2_OVER_PI = 0.7978845608028654; // √(2/π)
const GELU_TANH_C = 0.044715;

// ---------------------------------------------------------------------------------------------------------
// erf

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
 * 1 − erfc(x) with erfc from its continued fraction (A&S 7.1.14) above. Used once, on first use of erf, to
 * build the Chebyshev tables of {@link erfScalar}.
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
// Built on first use (not at load time: a bundle that never calls erf pays nothing).
let erfCoeffs: Float64Array | null = null;

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
 * values). Piecewise Chebyshev interpolation (tables built on first use from a convergent series and a
 * continued fraction, see above) evaluated by Clenshaw's recurrence; erf = ±1 for |x| ≥ 6, where
 * 1 − erf(6) ≈ 2e-17 is below float64 resolution.
 */
export function erfScalar(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  if (ax >= ERF_INTERVALS * ERF_W) return x < 0 ? -1 : 1;
  if (erfCoeffs === null) erfCoeffs = buildErfTables();
  const coeffs = erfCoeffs;
  const k = Math.floor(ax / ERF_W);
  const t = (ax - (k + 0.5) * ERF_W) / (ERF_W / 2);
  const base = k * ERF_DEG;
  // Clenshaw: Σ' c_i T_i(t) = t·b₁ − b₂ + c₀/2
  let b1 = 0;
  let b2 = 0;
  const t2 = 2 * t;
  for (let i = ERF_DEG - 1; i >= 1; i--) {
    const tmp = t2 * b1 - b2 + coeffs[base + i];
    b2 = b1;
    b1 = tmp;
  }
  const p = t * b1 - b2 + 0.5 * coeffs[base];
  const r = ax < ERF_SPLIT ? ax * p : 1 - Math.exp(-ax * ax) * p;
  return x < 0 ? -r : r;
}

// ---------------------------------------------------------------------------------------------------------
// Scalar helpers (plain functions, inlined by the JIT; no closure is created per call)

/** Stable logistic function 1/(1 + e^(−z)): never exponentiates a large positive number. */
function sigmoidScalar(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + eᶻ) without overflow or loss of precision: max(z, 0) + log1p(e^(−|z|)). */
function softplusScalar(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** The tanh-approximation GELU's inner argument √(2/π)·(x + 0.044715·x³). */
function geluTanhArg(v: number): number {
  return SQRT_2_OVER_PI * (v + GELU_TANH_C * v * v * v);
}

// ---------------------------------------------------------------------------------------------------------
// Unary forward

/** The activations of inference graphs: the unary ops {@link activation} computes. */
export type ActivationOp = Extract<UnaryKernelOp, 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh'>;

/**
 * {@link unary} for the activations of inference graphs (relu, leakyRelu with slope `p0`, sigmoid, tanh): the
 * same loops, in a function of their own so that a bundle running only these ops (e.g. `@ecgnn/infer`'s) does
 * not take every unary op.
 */
export function activation(op: ActivationOp, x: TypedArray, out: TypedArray, p0 = 0): void {
  const n = x.length;
  switch (op) {
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = sigmoidScalar(x[i]);
      return;
    case 'relu':
      // max(x, 0) with NaN propagating (as PyTorch): NaN > 0 is false, so test NaN explicitly.
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v > 0 || Number.isNaN(v) ? v : 0;
      }
      return;
    case 'leakyRelu':
      // x for x > 0, p0·x otherwise
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v > 0 ? v : v * p0;
      }
      return;
  }
}

/** `out[i] = op(x[i]; p0, p1)`; see {@link UnaryKernelOp} for the ops and their parameters. */
export function unary(op: UnaryKernelOp, x: TypedArray, out: TypedArray, p0 = 0, p1 = 0): void {
  const n = x.length;
  switch (op) {
    case 'tanh':
    case 'sigmoid':
    case 'relu':
    case 'leakyRelu':
      activation(op, x, out, p0);
      return;
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -x[i];
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      return;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
      return;
    case 'sign':
      // NOTE: ecgnn binary convention (binary/conventions.ts): sign(x) = −1 iff x < 0, else +1; so
      // sign(0) = +1 and sign(NaN) = +1, exactly what the bit packer stores (bit 1 iff x < 0).
      for (let i = 0; i < n; i++) out[i] = x[i] < 0 ? -1 : 1;
      return;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
      return;
    case 'reciprocal':
      for (let i = 0; i < n; i++) out[i] = 1 / x[i];
      return;
    case 'erf':
      for (let i = 0; i < n; i++) out[i] = erfScalar(x[i]);
      return;
    case 'elu':
      // x for x > 0, α·(eˣ − 1) otherwise (expm1: exact near 0)
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v > 0 ? v : p0 * Math.expm1(v);
      }
      return;
    case 'gelu':
      // x·Φ(x) = 0.5·x·(1 + erf(x/√2))
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = 0.5 * v * (1 + erfScalar(v * INV_SQRT2));
      }
      return;
    case 'geluTanh':
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = 0.5 * v * (1 + Math.tanh(geluTanhArg(v)));
      }
      return;
    case 'hardtanh':
    case 'clamp':
      // min(max(x, p0), p1); NaN stays NaN (Math.max/min propagate it)
      for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(x[i], p0), p1);
      return;
    case 'softplus':
      // log(1 + e^(βx))/β, x where βx > threshold (β = p0, threshold = p1)
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const z = p0 * v;
        out[i] = z > p1 ? v : softplusScalar(z) / p0;
      }
      return;
    case 'silu':
      // x·σ(x)
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v * sigmoidScalar(v);
      }
      return;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Unary backward

/**
 * `gx[i] = g[i] · op'(x[i])` (with `y = op(x)` read where cheaper), and the sign straight-through
 * estimators; see {@link UnaryGradKernelOp}. Each element reads x, y, g before writing gx, so `gx` may be
 * the same array as `g`.
 */
export function unaryBackward(
  op: UnaryGradKernelOp,
  x: FloatArray,
  y: FloatArray,
  g: FloatArray,
  gx: FloatArray,
  p0 = 0,
  p1 = 0,
): void {
  const n = x.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) gx[i] = -g[i];
      return;
    case 'exp':
      // d eˣ = eˣ = y
      for (let i = 0; i < n; i++) gx[i] = g[i] * y[i];
      return;
    case 'log':
      for (let i = 0; i < n; i++) gx[i] = g[i] / x[i];
      return;
    case 'sqrt':
      // d √x = 1/(2√x) = 1/(2y)
      for (let i = 0; i < n; i++) gx[i] = g[i] / (y[i] * 2);
      return;
    case 'abs':
      // d|x| = sign(x), with 0 at x = 0 (the subgradient PyTorch uses)
      for (let i = 0; i < n; i++) {
        const v = x[i];
        gx[i] = g[i] * (v > 0 ? 1 : v < 0 ? -1 : 0);
      }
      return;
    case 'sign':
      // The true derivative of sign is 0 almost everywhere (as torch.sign's gradient).
      gx.fill(0);
      return;
    case 'tanh':
      // d tanh = 1 − tanh²
      for (let i = 0; i < n; i++) gx[i] = g[i] * (1 - y[i] * y[i]);
      return;
    case 'sigmoid':
      // d σ = σ·(1 − σ)
      for (let i = 0; i < n; i++) gx[i] = g[i] * (y[i] * (1 - y[i]));
      return;
    case 'relu':
      // 1 where x > 0, else 0 (0 at the kink, as PyTorch)
      for (let i = 0; i < n; i++) gx[i] = g[i] * (x[i] > 0 ? 1 : 0);
      return;
    case 'square':
      for (let i = 0; i < n; i++) gx[i] = g[i] * (2 * x[i]);
      return;
    case 'reciprocal':
      // d (1/x) = −1/x² = −y²
      for (let i = 0; i < n; i++) gx[i] = -g[i] * (y[i] * y[i]);
      return;
    case 'erf':
      // d erf(x)/dx = 2/√π · e^(−x²)
      for (let i = 0; i < n; i++) gx[i] = g[i] * TWO_OVER_SQRT_PI * Math.exp(-x[i] * x[i]);
      return;
    case 'leakyRelu':
      // 1 for x > 0, the slope p0 otherwise (PyTorch takes the slope at 0)
      for (let i = 0; i < n; i++) gx[i] = x[i] > 0 ? g[i] : g[i] * p0;
      return;
    case 'elu':
      // 1 for x > 0, α·eˣ = y + α otherwise
      for (let i = 0; i < n; i++) gx[i] = x[i] > 0 ? g[i] : g[i] * (y[i] + p0);
      return;
    case 'gelu':
      // d/dx x·Φ(x) = Φ(x) + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const cdf = 0.5 * (1 + erfScalar(v * INV_SQRT2));
        gx[i] = g[i] * (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
      }
      return;
    case 'geluTanh':
      // d/dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²),  t = tanh(u)
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const t = Math.tanh(geluTanhArg(v));
        const du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * v * v);
        gx[i] = g[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
      }
      return;
    case 'hardtanh':
      // 1 strictly inside (min, max), 0 outside and at the kinks (PyTorch's hardtanh_backward)
      for (let i = 0; i < n; i++) {
        const v = x[i];
        gx[i] = v > p0 && v < p1 ? g[i] : 0;
      }
      return;
    case 'clamp':
      // 1 on [min, max] inclusive (PyTorch's clamp_backward), 0 outside
      for (let i = 0; i < n; i++) {
        const v = x[i];
        gx[i] = v >= p0 && v <= p1 ? g[i] : 0;
      }
      return;
    case 'softplus':
      // d/dx log(1 + e^(βx))/β = σ(βx); 1 in the linear region βx > threshold
      for (let i = 0; i < n; i++) {
        const z = p0 * x[i];
        gx[i] = z > p1 ? g[i] : g[i] * sigmoidScalar(z);
      }
      return;
    case 'silu':
      // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const s = sigmoidScalar(v);
        gx[i] = g[i] * s * (1 + v * (1 - s));
      }
      return;
    case 'signSteIdentity':
      // d/dx ≈ 1
      if (gx !== g) gx.set(g);
      return;
    case 'signSteClipped':
      // d/dx ≈ 1 where −p0 ≤ x ≤ p0, else 0 (Hubara et al. 2016 with p0 = 1)
      for (let i = 0; i < n; i++) {
        const v = x[i];
        gx[i] = v >= -p0 && v <= p0 ? g[i] : 0;
      }
      return;
    case 'signSteTriangular':
      // d/dx ≈ 2s·max(0, 1 − s|x|), s = p0 (a triangle of area 2, the jump of sign)
      for (let i = 0; i < n; i++) {
        const t = 1 - p0 * Math.abs(x[i]);
        gx[i] = t > 0 ? g[i] * 2 * p0 * t : 0;
      }
      return;
  }
}

// ---------------------------------------------------------------------------------------------------------
// PReLU

/**
 * PReLU over `x` seen as [outer, channels, inner]: `out = x > 0 ? x : w[c]·x`, with one slope per channel
 * or, when `w` has one element, one shared slope.
 */
export function prelu(
  x: FloatArray,
  w: FloatArray,
  out: FloatArray,
  outer: number,
  channels: number,
  inner: number,
): void {
  const shared = w.length === 1;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const a = shared ? w[0] : w[c];
      const base = (o * channels + c) * inner;
      const end = base + inner;
      for (let i = base; i < end; i++) {
        const v = x[i];
        out[i] = v > 0 ? v : a * v;
      }
    }
  }
}

/**
 * Gradients of {@link prelu}. With y = max(0, x) + a_c·min(0, x): dy/dx = 1 (x > 0) or a_c, and
 * dy/da_c = x where x ≤ 0; so `gx = g` or `a_c·g`, and `gw[c] = Σ g·x` over the non-positive x of channel c
 * (over every channel for a shared slope), accumulated in float64 (one partial sum per [outer, c] block).
 */
export function preluBackward(
  x: FloatArray,
  w: FloatArray,
  g: FloatArray,
  gx: FloatArray | null,
  gw: FloatArray | null,
  outer: number,
  channels: number,
  inner: number,
): void {
  const shared = w.length === 1;
  let sharedAcc = 0;
  for (let c = 0; c < channels; c++) {
    const a = shared ? w[0] : w[c];
    let channelAcc = 0;
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      const end = base + inner;
      let acc = 0;
      if (gx !== null) {
        for (let i = base; i < end; i++) {
          const v = x[i];
          const gv = g[i];
          if (v > 0) gx[i] = gv;
          else {
            gx[i] = a * gv;
            acc += gv * v;
          }
        }
      } else {
        for (let i = base; i < end; i++) if (!(x[i] > 0)) acc += g[i] * x[i];
      }
      channelAcc += acc;
    }
    if (gw !== null && !shared) gw[c] = channelAcc;
    sharedAcc += channelAcc;
  }
  if (gw !== null && shared) gw[0] = sharedAcc;
}

// ---------------------------------------------------------------------------------------------------------
// Softmax and log-softmax

/**
 * Softmax (or log-softmax with `log`) of x seen as [outer, reduce, inner] along the middle dimension. The
 * row maximum m is subtracted so that exp never overflows (softmax is shift-invariant); sums are float64:
 * softmax = e^(x − m) / Σ e^(x − m),  log-softmax = x − (m + log Σ e^(x − m)). A row that is entirely −∞
 * gives NaN, as in PyTorch.
 */
export function softmax(
  x: FloatArray,
  out: FloatArray,
  outer: number,
  reduce: number,
  inner: number,
  log: boolean,
): void {
  for (let o = 0; o < outer; o++) {
    const rowBase = o * reduce * inner;
    for (let j = 0; j < inner; j++) {
      const base = rowBase + j;
      const end = base + reduce * inner;
      let m = Number.NEGATIVE_INFINITY;
      for (let k = base; k < end; k += inner) if (x[k] > m) m = x[k];
      let s = 0;
      if (log) {
        for (let k = base; k < end; k += inner) s += Math.exp(x[k] - m);
        const lse = m + Math.log(s);
        for (let k = base; k < end; k += inner) out[k] = x[k] - lse;
      } else {
        for (let k = base; k < end; k += inner) {
          const e = Math.exp(x[k] - m);
          out[k] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let k = base; k < end; k += inner) out[k] *= inv;
      }
    }
  }
}

/**
 * Gradient of {@link softmax} from its output y, per row: softmax `gx = y·(g − Σ g·y)`; log-softmax
 * (y = log p) `gx = g − e^y·Σ g`. Sums are float64.
 */
export function softmaxBackward(
  y: FloatArray,
  g: FloatArray,
  gx: FloatArray,
  outer: number,
  reduce: number,
  inner: number,
  log: boolean,
): void {
  for (let o = 0; o < outer; o++) {
    const rowBase = o * reduce * inner;
    for (let j = 0; j < inner; j++) {
      const base = rowBase + j;
      const end = base + reduce * inner;
      if (log) {
        let s = 0;
        for (let k = base; k < end; k += inner) s += g[k];
        for (let k = base; k < end; k += inner) gx[k] = g[k] - Math.exp(y[k]) * s;
      } else {
        let dot = 0;
        for (let k = base; k < end; k += inner) dot += g[k] * y[k];
        for (let k = base; k < end; k += inner) gx[k] = y[k] * (g[k] - dot);
      }
    }
  }
}
