/**
 * `@ecgnn/kernels/testing`: the naive-loop oracles of the kernels — each computed straight from its definition
 * in float64 with no tiling, packing or clipping of ranges, so that it is obviously right. Every fast kernel
 * (the register-tiled reference kernels of `ref/`, the WebAssembly set, any backend) is tested against these,
 * in this package and in the others (import from `@ecgnn/kernels/testing` in tests only: they are slow).
 *
 * Conventions are the contract's (`contract.ts`): NCL layout, weights `[outC, inC/groups, K]`, padding with
 * `padValue` for convolutions and −∞ (max) or excluded/zero (average) for pooling, PyTorch divisors.
 */
import type {
  BinaryConv1dParams,
  BinaryConvEpilogue,
  BinaryDenseParams,
  Conv1dParams,
  MatmulParams,
  Pool1dParams,
} from './contract.js';

/** `op(A[b])·op(B[b])` for every batch entry, `[batch, m, n]` (batch strides as {@link MatmulParams}). */
export function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, p: MatmulParams): Float64Array {
  const { batch, m, k, n, transA, transB } = p;
  const sa = p.batchStrideA ?? m * k;
  const sb = p.batchStrideB ?? k * n;
  const out = new Float64Array(batch * m * n);
  for (let bt = 0; bt < batch; bt++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = transA ? a[bt * sa + q * m + i] : a[bt * sa + i * k + q];
          const bv = transB ? b[bt * sb + j * k + q] : b[bt * sb + q * n + j];
          s += av * bv;
        }
        out[(bt * m + i) * n + j] = s;
      }
  return out;
}

/** Input value of channel `c` of batch entry `b` at padded position `i` (`padValue` outside `[0, L)`). */
function convInput(x: ArrayLike<number>, p: Conv1dParams, b: number, c: number, i: number): number {
  return i >= 0 && i < p.inLength ? x[(b * p.inChannels + c) * p.inLength + i] : p.padValue;
}

/**
 * Convolution forward: `out[b, o, t] = act(bias[o] + Σ_{c, j} w[o, c, j]·xpad[b, g·Cg + c, t·s + j·d − padLeft])`
 * with `act` the ReLU when `p.activation === 'relu'`.
 */
export function naiveConv1dForward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  p: Conv1dParams,
): Float64Array {
  const cg = p.inChannels / p.groups;
  const og = p.outChannels / p.groups;
  const out = new Float64Array(p.batch * p.outChannels * p.outLength);
  for (let b = 0; b < p.batch; b++)
    for (let o = 0; o < p.outChannels; o++)
      for (let t = 0; t < p.outLength; t++) {
        const g = Math.floor(o / og);
        let s = bias ? bias[o] : 0;
        for (let c = 0; c < cg; c++)
          for (let j = 0; j < p.kernelSize; j++)
            s +=
              w[(o * cg + c) * p.kernelSize + j] *
              convInput(x, p, b, g * cg + c, t * p.stride + j * p.dilation - p.padLeft);
        out[(b * p.outChannels + o) * p.outLength + t] = p.activation === 'relu' ? Math.max(0, s) : s;
      }
  return out;
}

/** Gradient of the convolution input: the adjoint of the forward over in-range positions (padding gets none). */
export function naiveConv1dBackwardInput(
  gradOut: ArrayLike<number>,
  w: ArrayLike<number>,
  p: Conv1dParams,
): Float64Array {
  const cg = p.inChannels / p.groups;
  const og = p.outChannels / p.groups;
  const gx = new Float64Array(p.batch * p.inChannels * p.inLength);
  for (let b = 0; b < p.batch; b++)
    for (let o = 0; o < p.outChannels; o++)
      for (let t = 0; t < p.outLength; t++) {
        const g = Math.floor(o / og);
        const go = gradOut[(b * p.outChannels + o) * p.outLength + t];
        for (let c = 0; c < cg; c++)
          for (let j = 0; j < p.kernelSize; j++) {
            const i = t * p.stride + j * p.dilation - p.padLeft;
            if (i >= 0 && i < p.inLength)
              gx[(b * p.inChannels + g * cg + c) * p.inLength + i] += w[(o * cg + c) * p.kernelSize + j] * go;
          }
      }
  return gx;
}

/** Gradient of the convolution weight: `Σ_{b, t} gradOut[b, o, t]·xpad[…]` (padded positions worth `padValue`). */
export function naiveConv1dBackwardWeight(
  x: ArrayLike<number>,
  gradOut: ArrayLike<number>,
  p: Conv1dParams,
): Float64Array {
  const cg = p.inChannels / p.groups;
  const og = p.outChannels / p.groups;
  const gw = new Float64Array(p.outChannels * cg * p.kernelSize);
  for (let b = 0; b < p.batch; b++)
    for (let o = 0; o < p.outChannels; o++)
      for (let t = 0; t < p.outLength; t++) {
        const g = Math.floor(o / og);
        const go = gradOut[(b * p.outChannels + o) * p.outLength + t];
        for (let c = 0; c < cg; c++)
          for (let j = 0; j < p.kernelSize; j++)
            gw[(o * cg + c) * p.kernelSize + j] +=
              go * convInput(x, p, b, g * cg + c, t * p.stride + j * p.dilation - p.padLeft);
      }
  return gw;
}

/**
 * Max pooling: each output is the first maximum of its window's in-range elements (a NaN wins and stays), −∞
 * with index −1 for a window of padding only; `arg` holds positions within the row.
 */
export function naiveMaxPool1d(
  x: ArrayLike<number>,
  p: Pool1dParams,
): { out: Float64Array; arg: Int32Array } {
  const rows = p.batch * p.channels;
  const out = new Float64Array(rows * p.outLength);
  const arg = new Int32Array(rows * p.outLength);
  for (let r = 0; r < rows; r++)
    for (let t = 0; t < p.outLength; t++) {
      let best = Number.NEGATIVE_INFINITY;
      let at = -1;
      for (let j = 0; j < p.kernelSize; j++) {
        const i = t * p.stride + j * p.dilation - p.padLeft;
        if (i < 0 || i >= p.inLength) continue;
        const v = x[r * p.inLength + i];
        if (Number.isNaN(best)) break;
        if (at < 0 || v > best || Number.isNaN(v)) {
          best = v;
          at = i;
        }
      }
      out[r * p.outLength + t] = best;
      arg[r * p.outLength + t] = at;
    }
  return { out, arg };
}

/**
 * Average pooling (PyTorch `avg_pool1d`, dilation 1): the sum of the window's in-range elements divided by the
 * window length clipped to `[−padLeft, inLength + padLeft)` with `countIncludePad`, else by the in-range count
 * (0 for a window without input).
 */
export function naiveAvgPool1d(
  x: ArrayLike<number>,
  p: Pool1dParams,
  countIncludePad: boolean,
): Float64Array {
  const rows = p.batch * p.channels;
  const out = new Float64Array(rows * p.outLength);
  for (let r = 0; r < rows; r++)
    for (let t = 0; t < p.outLength; t++) {
      let s = 0;
      let inRange = 0;
      let padded = 0;
      for (let j = 0; j < p.kernelSize; j++) {
        const i = t * p.stride + j - p.padLeft;
        if (i >= p.inLength + p.padLeft) break; // past the right padding: not part of the window
        padded++;
        if (i < 0 || i >= p.inLength) continue;
        s += x[r * p.inLength + i];
        inRange++;
      }
      const div = countIncludePad ? padded : inRange;
      out[r * p.outLength + t] = div > 0 ? s / div : 0;
    }
  return out;
}

/** Adjoint of {@link naiveAvgPool1d}: each input position gets `g/divisor` from every window holding it. */
export function naiveAvgPool1dBackward(
  g: ArrayLike<number>,
  p: Pool1dParams,
  countIncludePad: boolean,
): Float64Array {
  const rows = p.batch * p.channels;
  const gx = new Float64Array(rows * p.inLength);
  // The forward is linear: column i of its matrix is the forward of the unit vector e_i.
  const unit = new Float64Array(p.inLength);
  const one: Pool1dParams = { ...p, batch: 1, channels: 1 };
  for (let i = 0; i < p.inLength; i++) {
    unit.fill(0);
    unit[i] = 1;
    const col = naiveAvgPool1d(unit, one, countIncludePad);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let t = 0; t < p.outLength; t++) s += col[t] * g[r * p.outLength + t];
      gx[r * p.inLength + i] = s;
    }
  }
  return gx;
}

/**
 * Adaptive average pooling (PyTorch bins `[⌊i·L/T⌋, ⌈(i+1)·L/T⌉)`): each bin's mean, summed left to right in
 * float64 — the order the reference kernel keeps, so float32 results agree exactly after rounding.
 */
export function naiveAdaptiveAvgPool1d(
  x: ArrayLike<number>,
  rows: number,
  inLength: number,
  outLength: number,
): Float64Array {
  const out = new Float64Array(rows * outLength);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < outLength; i++) {
      const a = Math.floor((i * inLength) / outLength);
      const e = Math.ceil(((i + 1) * inLength) / outLength);
      let s = 0;
      for (let j = a; j < e; j++) s += x[r * inLength + j];
      out[r * outLength + i] = s / (e - a);
    }
  return out;
}

/** Population count of a 32-bit word, bit by bit. */
function bitCount(v: number): number {
  let n = 0;
  for (let b = 0; b < 32; b++) n += (v >>> b) & 1;
  return n;
}

/**
 * Binary convolution on packed words, in plain loops: `out[b, o, t] = Σ_k (C − 2·popcount(x[b, i_k] ^ w[o, k]))`
 * over the taps `i_k = t·s + k·d − padLeft`; a padded tap counts as all-zero words (+1) with `padValue` 1 and
 * not at all with 0. Input words `[batch, L, W]`, weights `[O, K, W]`, `W = ceil(C/32)`, unused bits 0.
 */
export function naivePackedBinaryConv1d(
  xPacked: ArrayLike<number>,
  wPacked: ArrayLike<number>,
  p: BinaryConv1dParams,
): Int32Array {
  const { batch, inChannels: C, outChannels: O, inLength: L, outLength: T, kernelSize: K } = p;
  const W = Math.ceil(C / 32);
  const out = new Int32Array(batch * O * T);
  for (let b = 0; b < batch; b++)
    for (let o = 0; o < O; o++)
      for (let t = 0; t < T; t++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const i = t * p.stride + k * p.dilation - p.padLeft;
          const inside = i >= 0 && i < L;
          if (!inside && p.padValue === 0) continue;
          let pc = 0;
          for (let j = 0; j < W; j++)
            pc += bitCount((inside ? xPacked[(b * L + i) * W + j] : 0) ^ wPacked[(o * K + k) * W + j]);
          s += C - 2 * pc;
        }
        out[(b * O + o) * T + t] = s;
      }
  return out;
}

/** The sign of the binary conventions: −1 iff `v < 0` (so 0, −0 and NaN are +1). */
function sign(v: number): number {
  return v < 0 ? -1 : 1;
}

/** Sign bits of `x` `[batch, C, L]` as words `[batch, L, ceil(C/32)]` (bit = `x < 0`, LSB-first, unused bits 0). */
export function naiveSignPack(x: ArrayLike<number>, batch: number, C: number, L: number): Uint32Array {
  const W = Math.ceil(C / 32);
  const out = new Uint32Array(batch * L * W);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < L; t++)
      for (let c = 0; c < C; c++)
        if (sign(x[(b * C + c) * L + t]) < 0) out[(b * L + t) * W + (c >> 5)] += 2 ** (c & 31);
  return out;
}

/**
 * Threshold packing (conventions.ts §7) in plain loops: each window's maximum (`Math.max`: a NaN wins), then
 * `+1 ⇔ NaN, or for ∓∞ its bit 0 (`minusInf` / `plusInf`), or (direction > 0 ? y >= t : y <= t)`, packed as
 * {@link naiveSignPack} packs signs.
 */
export function naiveThresholdPack(
  x: ArrayLike<number>,
  batch: number,
  C: number,
  L: number,
  pool: { kernelSize: number; stride: number } | null,
  threshold: ArrayLike<number>,
  direction: ArrayLike<number>,
  minusInf: ArrayLike<number>,
  plusInf: ArrayLike<number>,
): Uint32Array {
  const k = pool ? pool.kernelSize : 1;
  const s = pool ? pool.stride : 1;
  const T = Math.floor((L - k) / s) + 1;
  const W = Math.ceil(C / 32);
  const out = new Uint32Array(batch * T * W);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < C; c++)
      for (let u = 0; u < T; u++) {
        let y = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < k; j++) y = Math.max(y, x[(b * C + c) * L + u * s + j]);
        const plus =
          Number.isNaN(y) ||
          (y === Number.NEGATIVE_INFINITY
            ? minusInf[c] === 0
            : y === Number.POSITIVE_INFINITY
              ? plusInf[c] === 0
              : direction[c] > 0
                ? y >= threshold[c]
                : y <= threshold[c]);
        if (!plus) out[(b * T + u) * W + (c >> 5)] += 2 ** (c & 31);
      }
  return out;
}

/**
 * Binary convolution as a ±1 float convolution: signs of `x` `[batch, C, L]` and `w` `[O, C, K]`, padded
 * positions worth `padValue` (+1, or 0: the tap contributes nothing). Integer dots `[batch, O, outLength]`.
 */
export function naiveBinaryConv1d(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  p: BinaryConv1dParams,
): Int32Array {
  const { batch, inChannels: C, outChannels: O, inLength: L, outLength: T, kernelSize: K } = p;
  const out = new Int32Array(batch * O * T);
  for (let b = 0; b < batch; b++)
    for (let o = 0; o < O; o++)
      for (let t = 0; t < T; t++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const i = t * p.stride + k * p.dilation - p.padLeft;
          for (let c = 0; c < C; c++) {
            const xv = i >= 0 && i < L ? sign(x[(b * C + c) * L + i]) : p.padValue;
            s += xv * sign(w[(o * C + c) * K + k]);
          }
        }
        out[(b * O + o) * T + t] = s;
      }
  return out;
}

/**
 * A prepared binary conv (`prepareBinaryConv1d`) from its definition: the dots of {@link naiveBinaryConv1d},
 * max-pooled, then either the value (float output `[batch, O, Lout]`) or the packed bit of the threshold rule
 * (+1 ⇔ direction > 0 ? y ≥ threshold : y ≤ threshold; words `[batch, Lout, ceil(O/32)]`).
 */
export function naiveBinaryConvPlan(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  p: BinaryConv1dParams,
  e: BinaryConvEpilogue,
): { outLength: number; out: number[] } {
  const { batch, outChannels: O, outLength: T } = p;
  const dots = naiveBinaryConv1d(x, w, p);
  const pk = e.pool?.kernelSize ?? 1;
  const ps = e.pool?.stride ?? 1;
  const Lout = Math.floor((T - pk) / ps) + 1;
  const Wo = Math.ceil(O / 32);
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const entry = new Array<number>(e.thresholds ? Lout * Wo : O * Lout).fill(0);
    for (let o = 0; o < O; o++)
      for (let u = 0; u < Lout; u++) {
        let y = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < pk; j++) y = Math.max(y, dots[(b * O + o) * T + u * ps + j]);
        if (!e.thresholds) entry[o * Lout + u] = y;
        else {
          const thr = e.thresholds.threshold[o];
          const plus = e.thresholds.direction[o] > 0 ? y >= thr : y <= thr;
          if (!plus) entry[u * Wo + (o >> 5)] += 2 ** (o & 31);
        }
      }
    out.push(...entry);
  }
  return { outLength: Lout, out };
}

/** Binary dense as a ±1 float product: signs of `x` `[batch, F]` and `w` `[O, F]`, dots `[batch, O]`. */
export function naiveBinaryDense(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  p: BinaryDenseParams,
): Int32Array {
  const { batch, inFeatures: F, outFeatures: O } = p;
  const out = new Int32Array(batch * O);
  for (let b = 0; b < batch; b++)
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < F; i++) s += sign(x[b * F + i]) * sign(w[o * F + i]);
      out[b * O + o] = s;
    }
  return out;
}

/**
 * Mulberry32 (Tommy Ettinger's 32-bit generator): a tiny seeded source of floats in [0, 1) for test data —
 * not the library's PRNG (`Generator`, xoshiro128**), so test inputs do not move when that one changes.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
