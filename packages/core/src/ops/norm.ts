/**
 * Normalisation primitives: batch normalisation and layer normalisation, each a fused forward kernel with
 * its closed-form backward kernel (mean and inverse standard deviation saved, no intermediate graph).
 */
import { kernels } from '../backend/backend.js';
import { allocate, allocateUninitialized, type FloatArray, isFloat, type TypedArray } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    batchNorm: BatchNormAttrs;
    layerNorm: LayerNormAttrs;
  }
}

/**
 * Attributes of the batchNorm primitive. `mean` and `invstd` (1/√(var + eps)) per channel are computed by
 * {@link batchNorm} before the primitive runs (batch statistics in training, running ones in eval).
 */
export interface BatchNormAttrs {
  /** Whether the statistics are those of this batch (then they depend on x in the gradient). */
  training: boolean;
  /** Per-channel mean used for normalisation. */
  mean: Float64Array;
  /** Per-channel 1/√(var + eps). */
  invstd: Float64Array;
  /** Whether inputs include a weight (γ). */
  hasWeight: boolean;
  /** Whether inputs include a bias (β). */
  hasBias: boolean;
}

/** Attributes of the layerNorm primitive. */
export interface LayerNormAttrs {
  /** Number of elements normalised together (product of normalizedShape). */
  n: number;
  /** Added to the variance. */
  eps: number;
  /** Whether inputs include a weight (γ). */
  hasWeight: boolean;
  /** Whether inputs include a bias (β). */
  hasBias: boolean;
}

function affineInputs(
  inputs: readonly Tensor[],
  hasWeight: boolean,
  hasBias: boolean,
): { w: Tensor | null; b: Tensor | null } {
  const w = hasWeight ? inputs[1] : null;
  const b = hasBias ? inputs[hasWeight ? 2 : 1] : null;
  return { w, b };
}

/**
 * A gradient array for `t` when `wanted`, else null; not zero-filled: `batchNormBackward` assigns every element of
 * each gradient it is given (storage.test.ts checks it on NaN-poisoned storage).
 */
function gradArray(t: Tensor | null, wanted: boolean): FloatArray | null {
  return t !== null && wanted ? (allocateUninitialized(t.dtype, t.size) as FloatArray) : null;
}

/** The gradients of (x, weight?, bias?) as the rule returns them: one per input present. */
function gradTensors(
  x: Tensor,
  w: Tensor | null,
  b: Tensor | null,
  gx: FloatArray | null,
  gw: FloatArray | null,
  gb: FloatArray | null,
): Array<Tensor | null> {
  const grads: Array<Tensor | null> = [gx ? new Tensor(gx, x.shape) : null];
  if (w) grads.push(gw ? new Tensor(gw, w.shape) : null);
  if (b) grads.push(gb ? new Tensor(gb, b.shape) : null);
  return grads;
}

/** x [B, C, *] seen as batch × channels × inner. */
function bnLayout(x: Tensor): { batch: number; channels: number; inner: number } {
  return { batch: x.shape[0], channels: x.shape[1], inner: sizeOf(x.shape.slice(2)) };
}

// ---------------------------------------------------------------------------------------------------------
// Batch normalisation

const batchNormRule: PrimitiveRule<BatchNormAttrs> = {
  // y = (x − μ_c)·invstd_c·γ_c + β_c
  forward: (inputs, { mean, invstd, hasWeight, hasBias }) => {
    const x = inputs[0];
    const { w, b } = affineInputs(inputs, hasWeight, hasBias);
    const { batch, channels, inner } = bnLayout(x);
    const out = allocateUninitialized(x.dtype, x.size) as FloatArray; // every element assigned
    kernels().batchNormForward(
      x.storage as FloatArray,
      mean,
      invstd,
      w ? (w.storage as FloatArray) : null,
      b ? (b.storage as FloatArray) : null,
      out,
      batch,
      channels,
      inner,
    );
    return new Tensor(out, x.shape);
  },
  // With x̂ = (x − μ)·invstd and m = B·L values per channel:
  //   dβ = Σ g,  dγ = Σ g·x̂,
  //   training (μ, σ² from the batch):  dx = γ·invstd/m · (m·g − Σ g − x̂·Σ g·x̂)
  //   eval (running statistics are constants):  dx = γ·invstd·g
  vjp: (g, { inputs, attrs: { training, mean, invstd, hasWeight, hasBias }, needsGrad }) => {
    const x = inputs[0];
    const { w, b } = affineInputs(inputs, hasWeight, hasBias);
    const { batch, channels, inner } = bnLayout(x);
    const gx = gradArray(x, needsGrad[0]);
    const gw = gradArray(w, needsGrad[1]);
    const gb = gradArray(b, needsGrad[hasWeight ? 2 : 1]);
    kernels().batchNormBackward(
      x.storage as FloatArray,
      g.storage as FloatArray,
      mean,
      invstd,
      w ? (w.storage as FloatArray) : null,
      gx,
      gw,
      gb,
      batch,
      channels,
      inner,
      training,
    );
    return gradTensors(x, w, b, gx, gw, gb);
  },
};

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Use (and update) batch statistics; otherwise normalise with the running ones. Default false. */
  training?: boolean;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  /** Added to the variance for stability (default 1e-5). */
  eps?: number;
}

function checkChannelVector(op: string, what: string, t: Tensor | null, x: Tensor, sameDtype: boolean): void {
  if (t === null) return;
  if (!(t instanceof Tensor)) throw new DTypeError(`${op}: ${what} must be a Tensor or null`);
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: ${what} must be a float tensor, got ${t.dtype}`);
  if (sameDtype && t.dtype !== x.dtype) {
    throw new DTypeError(`${op}: ${what} dtype ${t.dtype} differs from input dtype ${x.dtype}`);
  }
  if (t.ndim !== 1 || t.shape[0] !== x.shape[1]) {
    throw new ShapeError(
      `${op}: ${what} must have shape [${x.shape[1]}] (channels of input ${fmtShape(x.shape)}), got ${fmtShape(t.shape)}`,
    );
  }
}

/** 1/√(variance + eps), elementwise in float64 (the batch-norm inverse standard deviation). */
function inverseStd(variance: Float64Array, eps: number): Float64Array {
  const k = kernels();
  const n = variance.length;
  const out = new Float64Array(n);
  k.binary('add', variance, [1], Float64Array.of(eps), [0], out, [n]);
  k.unary('sqrt', out, out);
  k.unary('reciprocal', out, out);
  return out;
}

/**
 * Updates a running statistic in place: running ← (1 − momentum)·running + momentum·scale·stat, computed
 * in float64 and rounded once into the buffer's dtype.
 */
function updateRunning(running: TypedArray, stat: Float64Array, momentum: number, scale: number): void {
  const k = kernels();
  const n = stat.length;
  const acc = Float64Array.from(running);
  const update = new Float64Array(n);
  k.binary('mul', acc, [1], Float64Array.of(1 - momentum), [0], acc, [n]);
  k.binary('mul', stat, [1], Float64Array.of(momentum), [0], update, [n]);
  if (scale !== 1) k.binary('mul', update, [1], Float64Array.of(scale), [0], update, [n]);
  k.binary('add', acc, [1], update, [1], acc, [n]);
  running.set(acc);
}

/**
 * Batch normalisation over the channel dimension 1 of x [B, C] or [B, C, L] (any [B, C, *]), as
 * `torch.nn.functional.batch_norm`: y = (x − μ)/√(σ² + eps)·γ + β.
 *
 * In training, μ and σ² are the batch statistics (biased variance) and the running statistics, when given,
 * are updated IN PLACE: running = (1 − momentum)·running + momentum·batch, the running variance with the
 * unbiased estimate σ²·m/(m − 1) (m = B·L values per channel). They are buffers, not graph inputs. In eval,
 * the running statistics are used and required. Gradients flow to x, weight (γ) and bias (β).
 *
 * @throws ValueError when training with a single value per channel (the variance is undefined).
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormOptions = {},
): Tensor {
  const op = 'batchNorm';
  if (!(x instanceof Tensor)) throw new DTypeError(`${op}: expected a Tensor input, got ${typeof x}`);
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a float input, got ${x.dtype}`);
  if (x.ndim < 2) {
    throw new ShapeError(`${op}: expected input [B, C] or [B, C, L], got ${fmtShape(x.shape)}`);
  }
  const training = opts.training ?? false;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (!(momentum >= 0 && momentum <= 1))
    throw new ValueError(`${op}: momentum must be in [0, 1], got ${momentum}`);
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new ValueError(`${op}: eps must be ≥ 0, got ${eps}`);
  checkChannelVector(op, 'weight', weight, x, true);
  checkChannelVector(op, 'bias', bias, x, true);
  checkChannelVector(op, 'runningMean', runningMean, x, false);
  checkChannelVector(op, 'runningVar', runningVar, x, false);
  if ((runningMean === null) !== (runningVar === null)) {
    throw new ValueError(`${op}: pass both runningMean and runningVar, or neither`);
  }
  const { batch, channels, inner } = bnLayout(x);
  const m = batch * inner;
  let mean: Float64Array;
  let invstd: Float64Array;
  if (training) {
    if (m <= 1) {
      throw new ValueError(
        `${op}: expected more than 1 value per channel when training, got input ${fmtShape(x.shape)}`,
      );
    }
    mean = new Float64Array(channels);
    const variance = new Float64Array(channels);
    kernels().channelMoments(x.storage as FloatArray, batch, channels, inner, mean, variance);
    invstd = inverseStd(variance, eps);
    if (runningMean !== null && runningVar !== null) {
      // NOTE: PyTorch: running stats use the unbiased variance σ²·m/(m − 1), normalisation the biased one.
      updateRunning(runningMean.data, mean, momentum, 1);
      updateRunning(runningVar.data, variance, momentum, m / (m - 1));
    }
  } else {
    if (runningMean === null || runningVar === null) {
      throw new ValueError(
        `${op}: eval mode (training: false) needs runningMean and runningVar; pass training: true to use batch statistics`,
      );
    }
    mean = Float64Array.from(runningMean.data);
    invstd = inverseStd(Float64Array.from(runningVar.data), eps);
  }
  const inputs = [x];
  if (weight) inputs.push(weight);
  if (bias) inputs.push(bias);
  return run(op, batchNormRule, inputs, {
    training,
    mean,
    invstd,
    hasWeight: weight !== null,
    hasBias: bias !== null,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Layer normalisation

interface LayerNormSaved {
  mean: Float64Array;
  invstd: Float64Array;
}

const layerNormRule: PrimitiveRule<LayerNormAttrs> = {
  // Per row of n elements: y = (x − μ)·invstd·γ + β, μ and biased σ² over the row.
  forward: (inputs, { n, eps, hasWeight, hasBias }, ctx) => {
    const x = inputs[0];
    const { w, b } = affineInputs(inputs, hasWeight, hasBias);
    const rows = n === 0 ? 0 : x.size / n;
    const out = allocate(x.dtype, x.size) as FloatArray;
    const mean = new Float64Array(rows);
    const invstd = new Float64Array(rows);
    kernels().layerNormForward(
      x.storage as FloatArray,
      w ? (w.storage as FloatArray) : null,
      b ? (b.storage as FloatArray) : null,
      out,
      mean,
      invstd,
      rows,
      n,
      eps,
    );
    ctx.save({ mean, invstd } satisfies LayerNormSaved);
    return new Tensor(out, x.shape);
  },
  // With x̂ = (x − μ)·invstd and h = g·γ:  dx = invstd/n · (n·h − Σ h − x̂·Σ h·x̂),
  // dγ = Σ_rows g·x̂,  dβ = Σ_rows g.
  vjp: (g, { inputs, attrs: { n, hasWeight, hasBias }, saved, needsGrad }) => {
    const x = inputs[0];
    const { w, b } = affineInputs(inputs, hasWeight, hasBias);
    const { mean, invstd } = saved as LayerNormSaved;
    const gx = gradArray(x, needsGrad[0]);
    const gw = gradArray(w, needsGrad[1]);
    const gb = gradArray(b, needsGrad[hasWeight ? 2 : 1]);
    kernels().layerNormBackward(
      x.storage as FloatArray,
      g.storage as FloatArray,
      mean,
      invstd,
      w ? (w.storage as FloatArray) : null,
      gx,
      gw,
      gb,
      mean.length,
      n,
    );
    return gradTensors(x, w, b, gx, gw, gb);
  },
};

function checkAffine(what: string, t: Tensor | null | undefined, x: Tensor, normalizedShape: number[]): void {
  if (t === null || t === undefined) return;
  if (!(t instanceof Tensor)) throw new DTypeError(`layerNorm: ${what} must be a Tensor`);
  if (t.dtype !== x.dtype) {
    throw new DTypeError(`layerNorm: ${what} dtype ${t.dtype} differs from input dtype ${x.dtype}`);
  }
  if (t.ndim !== normalizedShape.length || t.shape.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(
      `layerNorm: ${what} shape ${fmtShape(t.shape)} differs from normalizedShape ${fmtShape(normalizedShape)}`,
    );
  }
}

/**
 * Layer normalisation over the trailing dimensions `normalizedShape` (`torch.nn.functional.layer_norm`):
 * y = (x − μ)/√(σ² + eps)·γ + β with μ, σ² (biased) over those dimensions, γ and β of shape
 * `normalizedShape`.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const op = 'layerNorm';
  if (!(x instanceof Tensor)) throw new DTypeError(`${op}: expected a Tensor input, got ${typeof x}`);
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a float input, got ${x.dtype}`);
  const ns = [...normalizedShape];
  if (ns.length === 0) throw new ShapeError(`${op}: normalizedShape must not be empty`);
  const tail = x.shape.slice(x.ndim - ns.length);
  if (ns.length > x.ndim || tail.some((d, i) => d !== ns[i])) {
    throw new ShapeError(
      `${op}: normalizedShape ${fmtShape(ns)} does not match the trailing dimensions of input ${fmtShape(x.shape)}`,
    );
  }
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new ValueError(`${op}: eps must be ≥ 0, got ${eps}`);
  checkAffine('weight', weight, x, ns);
  checkAffine('bias', bias, x, ns);
  const inputs = [x];
  if (weight) inputs.push(weight);
  if (bias) inputs.push(bias);
  return run(op, layerNormRule, inputs, {
    n: sizeOf(ns),
    eps,
    hasWeight: !!weight,
    hasBias: !!bias,
  });
}

/** The rules of this module, for the op table. */
export const normRules = {
  batchNorm: batchNormRule,
  layerNorm: layerNormRule,
};
