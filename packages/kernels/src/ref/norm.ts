/**
 * Reference normalisation kernels: batch statistics, batch norm and layer norm, forward and backward.
 * Statistics and gradient sums accumulate in float64 whatever the data's precision.
 */
import type { FloatArray } from '../contract.js';
import { Scratch } from './scratch.js';

// float64 accumulators of the layer-norm weight and bias gradients (summed over rows), reused across calls.
const layerNormGwAcc = new Scratch(Float64Array);
const layerNormGbAcc = new Scratch(Float64Array);

/**
 * Per-channel mean and biased variance of x seen as [batch, channels, inner] (m = batch·inner values per
 * channel), in float64 and in two passes (mean first, then Σ(x − μ)²/m: no cancellation).
 */
export function channelMoments(
  x: FloatArray,
  batch: number,
  channels: number,
  inner: number,
  mean: Float64Array,
  variance: Float64Array,
): void {
  const m = batch * inner;
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * inner;
      for (let i = base; i < base + inner; i++) s += x[i];
    }
    const mu = s / m;
    let ss = 0;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * inner;
      for (let i = base; i < base + inner; i++) {
        const d = x[i] - mu;
        ss += d * d;
      }
    }
    mean[c] = mu;
    variance[c] = ss / m;
  }
}

/**
 * Batch normalisation with given statistics over [batch, channels, inner]:
 * y = (x − μ_c)·invstd_c·γ_c + β_c, computed as x·scale_c + shift_c (γ = 1 and β = 0 when absent).
 */
export function batchNormForward(
  x: FloatArray,
  mean: Float64Array,
  invstd: Float64Array,
  weight: FloatArray | null,
  bias: FloatArray | null,
  out: FloatArray,
  batch: number,
  channels: number,
  inner: number,
): void {
  for (let c = 0; c < channels; c++) {
    const scale = invstd[c] * (weight ? weight[c] : 1);
    const shift = (bias ? bias[c] : 0) - mean[c] * scale;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * inner;
      for (let i = base; i < base + inner; i++) out[i] = x[i] * scale + shift;
    }
  }
}

/**
 * Gradients of batch normalisation. With x̂ = (x − μ)·invstd and m = batch·inner values per channel:
 *   dβ = Σ g,  dγ = Σ g·x̂,
 *   training (μ, σ² are the batch's):  dx = γ·invstd · (g − Σg/m − x̂·Σ(g·x̂)/m)
 *   eval (statistics are constants):   dx = γ·invstd·g
 */
export function batchNormBackward(
  x: FloatArray,
  g: FloatArray,
  mean: Float64Array,
  invstd: Float64Array,
  weight: FloatArray | null,
  gx: FloatArray | null,
  gw: FloatArray | null,
  gb: FloatArray | null,
  batch: number,
  channels: number,
  inner: number,
  training: boolean,
): void {
  const m = batch * inner;
  for (let c = 0; c < channels; c++) {
    const mu = mean[c];
    const is = invstd[c];
    const k = (weight ? weight[c] : 1) * is;
    if (gx !== null && !training && gw === null && gb === null) {
      // Eval mode with only dx wanted: no sums needed.
      for (let n = 0; n < batch; n++) {
        const base = (n * channels + c) * inner;
        for (let i = base; i < base + inner; i++) gx[i] = k * g[i];
      }
      continue;
    }
    let sumG = 0;
    let sumGXhat = 0;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * inner;
      for (let i = base; i < base + inner; i++) {
        sumG += g[i];
        sumGXhat += g[i] * (x[i] - mu) * is;
      }
    }
    if (gw !== null) gw[c] = sumGXhat;
    if (gb !== null) gb[c] = sumG;
    if (gx === null) continue;
    if (training) {
      const meanG = sumG / m;
      const meanGXhat = sumGXhat / m;
      for (let n = 0; n < batch; n++) {
        const base = (n * channels + c) * inner;
        for (let i = base; i < base + inner; i++) gx[i] = k * (g[i] - meanG - (x[i] - mu) * is * meanGXhat);
      }
    } else {
      for (let n = 0; n < batch; n++) {
        const base = (n * channels + c) * inner;
        for (let i = base; i < base + inner; i++) gx[i] = k * g[i];
      }
    }
  }
}

/**
 * Layer normalisation of `rows` rows of `cols` elements: per row, μ and biased σ² (float64, two passes),
 * invstd = 1/√(σ² + eps), y = (x − μ)·invstd·γ + β (γ, β of `cols` elements, optional). Saves μ and invstd.
 */
export function layerNormForward(
  x: FloatArray,
  weight: FloatArray | null,
  bias: FloatArray | null,
  out: FloatArray,
  mean: Float64Array,
  invstd: Float64Array,
  rows: number,
  cols: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[base + j];
    const mu = s / cols;
    let ss = 0;
    for (let j = 0; j < cols; j++) {
      const d = x[base + j] - mu;
      ss += d * d;
    }
    const is = 1 / Math.sqrt(ss / cols + eps);
    mean[r] = mu;
    invstd[r] = is;
    for (let j = 0; j < cols; j++) {
      const xh = (x[base + j] - mu) * is;
      out[base + j] = xh * (weight ? weight[j] : 1) + (bias ? bias[j] : 0);
    }
  }
}

/**
 * Gradients of {@link layerNormForward}. With x̂ = (x − μ)·invstd and h = g·γ, per row of n = cols:
 * dx = invstd · (h − Σh/n − x̂·Σ(h·x̂)/n); dγ = Σ_rows g·x̂, dβ = Σ_rows g (float64 sums).
 */
export function layerNormBackward(
  x: FloatArray,
  g: FloatArray,
  mean: Float64Array,
  invstd: Float64Array,
  weight: FloatArray | null,
  gx: FloatArray | null,
  gw: FloatArray | null,
  gb: FloatArray | null,
  rows: number,
  cols: number,
): void {
  const accW = gw !== null ? layerNormGwAcc.get(cols) : null;
  const accB = gb !== null ? layerNormGbAcc.get(cols) : null;
  if (accW !== null) accW.fill(0, 0, cols);
  if (accB !== null) accB.fill(0, 0, cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const mu = mean[r];
    const is = invstd[r];
    let sumH = 0;
    let sumHXhat = 0;
    for (let j = 0; j < cols; j++) {
      const xh = (x[base + j] - mu) * is;
      const gv = g[base + j];
      const h = weight ? gv * weight[j] : gv;
      sumH += h;
      sumHXhat += h * xh;
      if (accW !== null) accW[j] += gv * xh;
      if (accB !== null) accB[j] += gv;
    }
    if (gx === null) continue;
    const meanH = sumH / cols;
    const meanHXhat = sumHXhat / cols;
    for (let j = 0; j < cols; j++) {
      const xh = (x[base + j] - mu) * is;
      const h = weight ? g[base + j] * weight[j] : g[base + j];
      gx[base + j] = is * (h - meanH - xh * meanHXhat);
    }
  }
  if (gw !== null && accW !== null) for (let j = 0; j < cols; j++) gw[j] = accW[j];
  if (gb !== null && accB !== null) for (let j = 0; j < cols; j++) gb[j] = accB[j];
}
