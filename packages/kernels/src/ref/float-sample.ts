/**
 * Float32 kernels on one sample, layout `[channels][length]` (NCL without N). They never allocate: callers pass
 * output and scratch buffers (the runtime allocates them once per model). Inputs and outputs must not alias
 * unless a kernel says it works in place.
 */

/** Padding/stride/dilation of a 1-D window op (`padLeft`/`padRight` in samples). */
export interface Conv1dParams {
  inChannels: number;
  inLength: number;
  outChannels: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  padLeft: number;
  padRight: number;
  groups: number;
  /** Constant value of padded positions (PyTorch `padding_mode='zeros'` is 0). */
  padValue: number;
}

/** Output length of a conv/pool window: floor((L + pl + pr − dil·(K−1) − 1)/stride) + 1. */
export function conv1dOutputLength(
  p: Pick<Conv1dParams, 'inLength' | 'kernelSize' | 'stride' | 'dilation' | 'padLeft' | 'padRight'>,
): number {
  return (
    Math.floor((p.inLength + p.padLeft + p.padRight - p.dilation * (p.kernelSize - 1) - 1) / p.stride) + 1
  );
}

// Working buffers of conv1d, grown on demand and reused across calls (no allocation once warm).
// Float64 storage avoids a float32→float64 conversion per multiply in the inner loop.
let srcCache: Float64Array = new Float64Array(0);
let wCache: Float64Array = new Float64Array(0);
let offCache: Int32Array = new Int32Array(0);

function grow64(buf: Float64Array, n: number): Float64Array {
  return buf.length >= n ? buf : new Float64Array(Math.max(n, buf.length * 2));
}

/**
 * 1-D convolution (cross-correlation, as PyTorch):
 * `y[o, t] = b[o] + Σ_{i ∈ group(o)} Σ_k w[o, i, k] · xpad[i, t·stride + k·dilation]`,
 * weights `[outC, inC/groups, K]`, padded positions equal `padValue`. Depthwise = groups = inC.
 * Register tile of 4 output channels × 3 time steps (12 float64 accumulators) over the reduction index
 * j = (i, k), on a float64 copy of the padded input and of the weights packed `[tile][j][4]`.
 * Uses module-level working buffers that grow to the largest shape seen (not re-entrant across threads; JS
 * workers each have their own module instance).
 */
export function conv1d(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  p: Conv1dParams,
  out: Float32Array,
): void {
  const { inChannels: C, inLength: L, outChannels: O, kernelSize: K, stride: S, dilation: D, groups: G } = p;
  const Lout = conv1dOutputLength(p);
  const Lp = L + p.padLeft + p.padRight;
  srcCache = grow64(srcCache, C * Lp);
  const xp = srcCache;
  for (let c = 0; c < C; c++) {
    const row = c * Lp;
    xp.fill(p.padValue, row, row + p.padLeft);
    for (let t = 0; t < L; t++) xp[row + p.padLeft + t] = x[c * L + t];
    xp.fill(p.padValue, row + p.padLeft + L, row + Lp);
  }
  const Cg = C / G;
  const Og = O / G;
  const J = Cg * K;
  if (offCache.length < J) offCache = new Int32Array(Math.max(J, offCache.length * 2));
  const off = offCache;
  // Tap offsets relative to a group's first input row: off[i·K + k] = i·Lp + k·D.
  for (let i = 0; i < Cg; i++) for (let k = 0; k < K; k++) off[i * K + k] = i * Lp + k * D;
  const tiles = Math.ceil(Og / 4);
  wCache = grow64(wCache, tiles * J * 4);
  const wp = wCache;
  const T3 = Lout - (Lout % 3);
  const span = K * D;
  for (let g = 0; g < G; g++) {
    const xg = g * Cg * Lp;
    // Pack this group's weights: wp[(tile·J + j)·4 + r] = w[(g·Og + 4·tile + r)·J + j], zero rows past Og.
    for (let tb = 0; tb < tiles; tb++) {
      for (let r = 0; r < 4; r++) {
        const oc = tb * 4 + r;
        const src = (g * Og + oc) * J;
        const dst = tb * J * 4 + r;
        if (oc < Og) for (let j = 0; j < J; j++) wp[dst + j * 4] = w[src + j];
        else for (let j = 0; j < J; j++) wp[dst + j * 4] = 0;
      }
    }
    for (let tb = 0; tb < tiles; tb++) {
      const o = g * Og + tb * 4;
      const rows = Math.min(4, Og - tb * 4);
      const wt = tb * J * 4;
      // NOTE: a stride-1 copy of the micro-kernel (constant offsets +1, +2) measured no faster (within ±3 %).
      tile4x3(xp, xg, Lp, Cg, span, D, S, wp, wt, out, o * Lout, Lout, T3, rows, bias, o);
      // Time tail (< 3 steps): one step at a time.
      for (let t = T3; t < Lout; t++) {
        const xt = xg + t * S;
        for (let r = 0; r < rows; r++) {
          let c = bias ? bias[o + r] : 0;
          for (let j = 0; j < J; j++) c += wp[wt + j * 4 + r] * xp[xt + off[j]];
          out[(o + r) * Lout + t] = c;
        }
      }
    }
  }
}

/**
 * Micro-kernel of {@link conv1d}: 4 output channels × 3 time steps, 12 accumulators — with 4 weights and 3
 * inputs this fits the 16 SSE registers V8 uses on x86-64 (a 4×4 tile spills). Covers t ∈ [0, T3).
 */
function tile4x3(
  xp: Float64Array,
  xg: number,
  Lp: number,
  Cg: number,
  span: number,
  D: number,
  S: number,
  wp: Float64Array,
  wt: number,
  out: Float32Array,
  o0: number,
  Lout: number,
  T3: number,
  rows: number,
  bias: Float32Array | null,
  o: number,
): void {
  const S2 = 2 * S;
  for (let t = 0; t < T3; t += 3) {
    let c00 = 0;
    let c01 = 0;
    let c02 = 0;
    let c10 = 0;
    let c11 = 0;
    let c12 = 0;
    let c20 = 0;
    let c21 = 0;
    let c22 = 0;
    let c30 = 0;
    let c31 = 0;
    let c32 = 0;
    let wi = wt;
    for (let i = 0; i < Cg; i++) {
      const xs = xg + i * Lp + t * S;
      const xe = xs + span;
      for (let xo = xs; xo < xe; xo += D) {
        const x0 = xp[xo];
        const x1 = xp[xo + S];
        const x2 = xp[xo + S2];
        const w0 = wp[wi];
        const w1 = wp[wi + 1];
        const w2 = wp[wi + 2];
        const w3 = wp[wi + 3];
        wi += 4;
        c00 += w0 * x0;
        c01 += w0 * x1;
        c02 += w0 * x2;
        c10 += w1 * x0;
        c11 += w1 * x1;
        c12 += w1 * x2;
        c20 += w2 * x0;
        c21 += w2 * x1;
        c22 += w2 * x2;
        c30 += w3 * x0;
        c31 += w3 * x1;
        c32 += w3 * x2;
      }
    }
    let q = o0 + t;
    let b = bias ? bias[o] : 0;
    out[q] = c00 + b;
    out[q + 1] = c01 + b;
    out[q + 2] = c02 + b;
    if (rows > 1) {
      q += Lout;
      b = bias ? bias[o + 1] : 0;
      out[q] = c10 + b;
      out[q + 1] = c11 + b;
      out[q + 2] = c12 + b;
    }
    if (rows > 2) {
      q += Lout;
      b = bias ? bias[o + 2] : 0;
      out[q] = c20 + b;
      out[q + 1] = c21 + b;
      out[q + 2] = c22 + b;
    }
    if (rows > 3) {
      q += Lout;
      b = bias ? bias[o + 3] : 0;
      out[q] = c30 + b;
      out[q + 1] = c31 + b;
      out[q + 2] = c32 + b;
    }
  }
}

/** Max pooling over time; padded positions are −∞ and NaN propagates (PyTorch). */
export function maxPool1d(
  x: Float32Array,
  C: number,
  L: number,
  kernelSize: number,
  stride: number,
  padLeft: number,
  padRight: number,
  out: Float32Array,
): void {
  const Lout = Math.floor((L + padLeft + padRight - kernelSize) / stride) + 1;
  // Windows fully inside the input: t ∈ [tA, tB).
  const tA = Math.min(Lout, Math.ceil(padLeft / stride));
  const tB = Math.max(tA, Math.min(Lout, Math.floor((L - kernelSize + padLeft) / stride) + 1));
  for (let c = 0; c < C; c++) {
    const row = c * L;
    const orow = c * Lout;
    for (let t = 0; t < tA; t++) out[orow + t] = maxWindow(x, row, L, t * stride - padLeft, kernelSize);
    for (let t = tB; t < Lout; t++) out[orow + t] = maxWindow(x, row, L, t * stride - padLeft, kernelSize);
    // Interior windows: a conditional expression, not an `if` (measured about 1.5× faster on random-looking
    // rows). `v > m || v !== v` takes a NaN and keeps it (nothing compares greater than NaN), as PyTorch, and keeps
    // the first of equal values (so −0 vs +0 is as PyTorch's; Math.max would give +0).
    for (let t = tA; t < tB; t++) {
      const s = row + t * stride - padLeft;
      let m = x[s];
      for (let j = 1; j < kernelSize; j++) {
        const v = x[s + j];
        // biome-ignore lint/suspicious/noSelfCompare: v !== v is the NaN test without a call
        m = v > m || v !== v ? v : m;
      }
      out[orow + t] = m;
    }
  }
}

/** Max of x[row + start … row + start + K − 1] clipped to [0, L) (the rest is −∞ padding). */
function maxWindow(x: Float32Array, row: number, L: number, start: number, K: number): number {
  const lo = Math.max(start, 0);
  const hi = Math.min(start + K, L);
  let m = Number.NEGATIVE_INFINITY;
  for (let j = lo; j < hi; j++) {
    const v = x[row + j];
    // biome-ignore lint/suspicious/noSelfCompare: m !== m is the NaN test (NaN propagates) without a call
    if (v > m || v !== v) m = m !== m ? m : v;
  }
  return m;
}

/** Average pooling over time; padded positions count as zeros in the average (PyTorch `count_include_pad`). */
export function avgPool1d(
  x: Float32Array,
  C: number,
  L: number,
  kernelSize: number,
  stride: number,
  padLeft: number,
  padRight: number,
  out: Float32Array,
): void {
  const Lout = Math.floor((L + padLeft + padRight - kernelSize) / stride) + 1;
  for (let c = 0; c < C; c++) {
    const row = c * L;
    for (let t = 0; t < Lout; t++) {
      const start = t * stride - padLeft;
      const lo = Math.max(0, start);
      const hi = Math.min(L, start + kernelSize);
      let s = 0;
      for (let j = lo; j < hi; j++) s += x[row + j];
      out[c * Lout + t] = s / kernelSize;
    }
  }
}

/** `out[c] = mean_t x[c, t]` (global average pooling). */
export function globalAvgPool1d(x: Float32Array, C: number, L: number, out: Float32Array): void {
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let t = 0; t < L; t++) s += x[c * L + t];
    out[c] = s / L;
  }
}

/** `out[c] = max_t x[c, t]` (global max pooling). */
export function globalMaxPool1d(x: Float32Array, C: number, L: number, out: Float32Array): void {
  for (let c = 0; c < C; c++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < L; t++) {
      const v = x[c * L + t];
      // biome-ignore lint/suspicious/noSelfCompare: v !== v is the NaN test (NaN propagates, as PyTorch) without a call
      if (v > m || v !== v) m = v;
    }
    out[c] = m;
  }
}

/** `out[c] = Σ_t x[c, t]` (sum-over-time head, method 5). */
export function sumOverTime(x: Float32Array, C: number, L: number, out: Float32Array): void {
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let t = 0; t < L; t++) s += x[c * L + t];
    out[c] = s;
  }
}

/** Per-channel affine map `y[c, t] = x[c, t]·scale[c] + shift[c]` (inference BatchNorm, pre-folded). In place OK. */
export function channelAffine(
  x: Float32Array,
  C: number,
  L: number,
  scale: Float32Array,
  shift: Float32Array,
  out: Float32Array,
): void {
  for (let c = 0; c < C; c++) {
    const a = scale[c];
    const b = shift[c];
    for (let t = c * L; t < c * L + L; t++) out[t] = x[t] * a + b;
  }
}

/**
 * Fold inference BatchNorm into per-channel scale/shift:
 * `BN(x) = (x − mean)/sqrt(var + eps)·gamma + beta = x·scale + shift`, `scale = gamma/sqrt(var+eps)`,
 * `shift = beta − mean·scale`. Missing gamma/beta mean 1/0.
 */
export function batchNormScaleShift(
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
  eps: number,
): { scale: Float32Array; shift: Float32Array } {
  const C = mean.length;
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const s = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    scale[c] = s;
    shift[c] = (beta ? beta[c] : 0) - mean[c] * s;
  }
  return { scale, shift };
}

/**
 * Fold an inference BatchNorm that follows a conv into the conv's weights and bias (done at export):
 * `w'[o,·,·] = w[o,·,·]·scale[o]`, `b'[o] = b[o]·scale[o] + shift[o]` with scale/shift from
 * {@link batchNormScaleShift}. Returns new arrays.
 */
export function foldBatchNormIntoConv(
  weight: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  outChannels: number,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
  eps: number,
): { weight: Float32Array; bias: Float32Array } {
  const { scale, shift } = batchNormScaleShift(mean, variance, gamma, beta, eps);
  const per = weight.length / outChannels;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    for (let j = 0; j < per; j++) w[o * per + j] = weight[o * per + j] * scale[o];
    b[o] = (bias ? bias[o] : 0) * scale[o] + shift[o];
  }
  return { weight: w, bias: b };
}

/** ReLU, in place OK. */
export function relu(x: Float32Array, n: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) out[i] = Math.max(x[i], 0);
}

/** PReLU: `y = x` if x >= 0 else `a[c]·x`; `a` has 1 or C entries. In place OK. */
export function prelu(x: Float32Array, C: number, L: number, a: Float32Array, out: Float32Array): void {
  for (let c = 0; c < C; c++) {
    const s = a.length === 1 ? a[0] : a[c];
    for (let t = c * L; t < c * L + L; t++) {
      const v = x[t];
      out[t] = v >= 0 ? v : s * v;
    }
  }
}

/** Leaky ReLU with a fixed slope. In place OK. */
export function leakyRelu(x: Float32Array, n: number, slope: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) out[i] = x[i] >= 0 ? x[i] : slope * x[i];
}

/** Logistic sigmoid `1/(1+e^−x)`, in place OK. */
export function sigmoid(x: Float32Array, n: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
}

/** Hyperbolic tangent, in place OK. */
export function tanh(x: Float32Array, n: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
}

/**
 * Softmax over axis 0 of a `[C, L]` (or `[C]`, L = 1) array, i.e. over channels at each time step:
 * `y[c,t] = exp(x[c,t] − m_t) / Σ_c exp(x[c,t] − m_t)`, m_t = max_c x[c,t] for stability. In place OK.
 */
export function softmax(x: Float32Array, C: number, L: number, out: Float32Array): void {
  for (let t = 0; t < L; t++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) m = Math.max(m, x[c * L + t]);
    let s = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(x[c * L + t] - m);
      out[c * L + t] = e;
      s += e;
    }
    for (let c = 0; c < C; c++) out[c * L + t] /= s;
  }
}

/** Dense layer `y[o] = b[o] + Σ_i w[o, i]·x[i]`, weights `[out, in]`. */
export function linear(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  inF: number,
  outF: number,
  out: Float32Array,
): void {
  for (let o = 0; o < outF; o++) {
    let s = bias ? bias[o] : 0;
    const row = o * inF;
    for (let i = 0; i < inF; i++) s += w[row + i] * x[i];
    out[o] = s;
  }
}

/** Elementwise sum, in place OK. */
export function add(a: Float32Array, b: Float32Array, n: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/**
 * Squeeze-and-excitation (Hu et al. 2018): `z = mean_t x`, `s = σ(W2·relu(W1·z + b1) + b2)`, `y[c,t] = x[c,t]·s[c]`.
 * `scratch` needs `2C + R` elements.
 */
export function squeezeExcitation(
  x: Float32Array,
  C: number,
  L: number,
  w1: Float32Array,
  b1: Float32Array | null,
  w2: Float32Array,
  b2: Float32Array | null,
  R: number,
  out: Float32Array,
  scratch: Float32Array,
): void {
  // scratch = [z (C) | h (R) | s (C)], addressed by offset (no views: nothing allocated per call). Every
  // intermediate is stored as float32, as a chain of the separate kernels would.
  for (let c = 0; c < C; c++) {
    let acc = 0;
    for (let t = 0; t < L; t++) acc += x[c * L + t];
    scratch[c] = acc / L;
  }
  for (let r = 0; r < R; r++) {
    let acc = b1 ? b1[r] : 0;
    for (let c = 0; c < C; c++) acc += w1[r * C + c] * scratch[c];
    scratch[C + r] = Math.max(Math.fround(acc), 0);
  }
  for (let c = 0; c < C; c++) {
    let acc = b2 ? b2[c] : 0;
    for (let r = 0; r < R; r++) acc += w2[c * R + r] * scratch[C + r];
    scratch[C + R + c] = 1 / (1 + Math.exp(-Math.fround(acc)));
  }
  for (let c = 0; c < C; c++) {
    const g = scratch[C + R + c];
    for (let t = c * L; t < c * L + L; t++) out[t] = x[t] * g;
  }
}

/** `dst[at + t·rows + r] = b[r] + Σ_c w[r, c]·x[c, t]`: a projection of x `[C, L]`, stored time-major. */
function project(
  x: Float32Array,
  C: number,
  L: number,
  w: Float32Array,
  b: Float32Array | null,
  rows: number,
  dst: Float32Array,
  at: number,
): void {
  for (let t = 0; t < L; t++) {
    for (let r = 0; r < rows; r++) {
      let s = b ? b[r] : 0;
      for (let c = 0; c < C; c++) s += w[r * C + c] * x[c * L + t];
      dst[at + t * rows + r] = s;
    }
  }
}

/** Scratch elements {@link attention} needs: `L·(2D + V) + L`. */
export function attentionScratchSize(L: number, D: number, V: number): number {
  return L * (2 * D + V) + L;
}

/**
 * Single-head scaled dot-product self-attention over time (Vaswani et al. 2017; SNAIL's attention block):
 * for x `[C, L]`, `q_t = Wq·x_t + bq`, `k_t`, `v_t` likewise; `a_t = Σ_j softmax_j(q_t·k_j / √D) v_j`, with
 * `j ≤ t` when causal. Output `[V, L]`, or `[C + V, L]` (x then a) when `concat`.
 */
export function attention(
  x: Float32Array,
  C: number,
  L: number,
  wq: Float32Array,
  bq: Float32Array | null,
  wk: Float32Array,
  bk: Float32Array | null,
  wv: Float32Array,
  bv: Float32Array | null,
  D: number,
  V: number,
  causal: boolean,
  concat: boolean,
  out: Float32Array,
  scratch: Float32Array,
): void {
  // scratch = [q (L·D) | k (L·D) | v (L·V) | p (L)], projections time-major (q[t·D + d]), addressed by offset
  // (no views or closures: nothing allocated per call).
  const q = 0;
  const k = L * D;
  const v = 2 * L * D;
  const p = 2 * L * D + L * V;
  project(x, C, L, wq, bq, D, scratch, q);
  project(x, C, L, wk, bk, D, scratch, k);
  project(x, C, L, wv, bv, V, scratch, v);
  const inv = 1 / Math.sqrt(D);
  const off = concat ? C * L : 0;
  if (concat) for (let i = 0; i < C * L; i++) out[i] = x[i];
  for (let t = 0; t < L; t++) {
    const last = causal ? t : L - 1;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j <= last; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += scratch[q + t * D + d] * scratch[k + j * D + d];
      s *= inv;
      scratch[p + j] = s;
      if (s > m) m = s;
    }
    let z = 0;
    for (let j = 0; j <= last; j++) {
      const e = Math.exp(scratch[p + j] - m);
      scratch[p + j] = e;
      z += e;
    }
    for (let r = 0; r < V; r++) {
      let s = 0;
      for (let j = 0; j <= last; j++) s += scratch[p + j] * scratch[v + j * V + r];
      out[off + r * L + t] = s / z;
    }
  }
}
