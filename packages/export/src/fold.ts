/**
 * Folding an evaluation-mode BatchNorm into the layer before it. BatchNorm with running mean μ, running variance
 * σ², scale γ and shift β computes `y = (x − μ)·γ/√(σ² + ε) + β = x·s + (β − μ·s)` per channel, `s = γ/√(σ² + ε)`;
 * after a convolution or linear layer `x = Σ w·u + b` this is the same layer with `w' = w·s`, `b' = b·s + β − μ·s`
 * (exact in real arithmetic; in float32 the result differs from BN∘conv by rounding only).
 */

/** Per-channel scale and shift of an evaluation-mode BatchNorm: `y = x·scale + shift`. */
export function batchNormScaleShift(
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
  eps: number,
): { scale: Float32Array; shift: Float32Array } {
  const C = mean.length;
  if (variance.length !== C || (gamma && gamma.length !== C) || (beta && beta.length !== C)) {
    throw new RangeError('batchNormScaleShift: mean, variance, gamma and beta must have the same length');
  }
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
 * Folds an evaluation-mode BatchNorm that follows a convolution (weight `[O, C/groups, K]`) or a linear layer
 * (weight `[O, F]`) into its weights and bias: `w'[o, …] = w[o, …]·scale[o]`,
 * `b'[o] = b[o]·scale[o] + shift[o]` with scale and shift from {@link batchNormScaleShift}. Returns new arrays.
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
  if (mean.length !== outChannels || weight.length % outChannels !== 0) {
    throw new RangeError(
      `foldBatchNormIntoConv: ${mean.length} BatchNorm channels for a layer of ${outChannels} outputs (${weight.length} weights)`,
    );
  }
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
