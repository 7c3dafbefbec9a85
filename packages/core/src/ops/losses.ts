/**
 * Loss functions with PyTorch semantics (`torch.nn.functional.*`), as composites of primitives: the fused
 * log-softmax carries the numerically delicate part, so gradients come from the primitives' rules.
 */
import { isFloat } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { broadcastShapes, shapesEqual } from '../shape.js';
import { noGrad, Tensor } from '../tensor.js';
import { logSoftmax, softplus } from './activations.js';
import {
  add,
  argmax,
  div,
  exp,
  gather,
  ge,
  gt,
  indexSelect,
  log,
  lt,
  mean,
  mul,
  ne,
  neg,
  reshape,
  squeeze,
  sub,
  sum,
  to,
  unsqueeze,
  where,
} from './basic.js';

/** How a loss reduces its per-element values: mean, sum, or none (per-element losses returned). */
export type Reduction = 'mean' | 'sum' | 'none';

function checkReduction(op: string, r: string, allowed: readonly string[]): void {
  if (!allowed.includes(r)) {
    throw new ValueError(
      `${op}: reduction must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${r}'`,
    );
  }
}

function checkFloatTensor(op: string, what: string, t: Tensor, like?: Tensor): void {
  if (!(t instanceof Tensor)) throw new DTypeError(`${op}: ${what} must be a Tensor, got ${typeof t}`);
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: ${what} must be a float tensor, got ${t.dtype}`);
  if (like && t.dtype !== like.dtype) {
    throw new DTypeError(`${op}: ${what} dtype ${t.dtype} differs from input dtype ${like.dtype}`);
  }
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'sum') return sum(loss);
  if (reduction === 'mean') return mean(loss);
  return loss;
}

/** Per-class weight reshaped to broadcast along dimension 1 of a [B, C, *] tensor. */
function classWeightAlongDim1(weight: Tensor, ndim: number): Tensor {
  const shape = new Array<number>(ndim).fill(1);
  shape[1] = weight.shape[0];
  return reshape(weight, shape);
}

function checkClassWeight(op: string, weight: Tensor | null | undefined, logits: Tensor, c: number): void {
  if (weight === null || weight === undefined) return;
  checkFloatTensor(op, 'weight', weight, logits);
  if (weight.ndim !== 1 || weight.shape[0] !== c) {
    throw new ShapeError(
      `${op}: weight must have shape [${c}] (one per class of input ${fmtShape(logits.shape)}), got ${fmtShape(weight.shape)}`,
    );
  }
}

/**
 * The per-target bookkeeping of the negative log-likelihood, on constants (call under noGrad): `valid` =
 * 1 where y ≠ ignoreIndex (compared as numbers), `idx` = y where valid else 0 (any class: its weight is 0),
 * `wt` = valid·w[idx] (w ≡ 1 without weights), `wsum` = Σ wt. Throws on the first valid target outside
 * [0, C), naming its (flat) position.
 */
function targetWeights(
  op: string,
  logp: Tensor,
  target: Tensor,
  weight: Tensor | null,
  ignoreIndex: number,
): { idx: Tensor; wt: Tensor; valid: Tensor; anyIgnored: boolean; wsum: number } {
  const n = target.size;
  const c = logp.shape[1];
  // float64 holds every int32 exactly and compares with any ignoreIndex as a number
  const y = to(target, 'float64');
  const valid = ne(y, ignoreIndex);
  const bad = mul(valid, add(lt(y, 0), ge(y, c)));
  if (n > 0) {
    const first = argmax(bad).item();
    if (bad.data[first] !== 0) {
      throw new ValueError(
        `${op}: target class ${target.data[first]} at position ${first} is out of range for ${c} classes (input ${fmtShape(logp.shape)})`,
      );
    }
  }
  const idx = where(valid, target, 0);
  const validF = to(valid, logp.dtype);
  const wt = weight ? mul(reshape(indexSelect(weight, 0, reshape(idx, [n])), target.shape), validF) : validF;
  return { idx, wt, valid: validF, anyIgnored: sum(valid).item() < n, wsum: sum(wt).item() };
}

/**
 * Negative log-likelihood of class indices on log-probabilities `logp` [B, C, *] with optional label
 * smoothing ε (cross-entropy's formula):
 *   ℓᵢ = (1 − ε)·w[yᵢ]·(−logp[i, yᵢ]) + ε/C · Σ_c w[c]·(−logp[i, c]),  ℓᵢ = 0 where yᵢ = ignoreIndex;
 * mean = Σ ℓᵢ / Σ_{i not ignored} w[yᵢ]  (PyTorch's weighted mean; w ≡ 1 without weights).
 */
function nllCore(
  op: string,
  logp: Tensor,
  target: Tensor,
  weight: Tensor | null,
  ignoreIndex: number,
  reduction: Reduction,
  eps: number,
): Tensor {
  const c = logp.shape[1];
  const expected = [logp.shape[0], ...logp.shape.slice(2)];
  if (!shapesEqual(target.shape, expected)) {
    throw new ShapeError(
      `${op}: class-index target shape ${fmtShape(target.shape)} does not match input ${fmtShape(logp.shape)} (expected ${fmtShape(expected)})`,
    );
  }
  const { idx, wt, valid, anyIgnored, wsum } = noGrad(() =>
    targetWeights(op, logp, target, weight, ignoreIndex),
  );
  const idxShape = [logp.shape[0], 1, ...logp.shape.slice(2)];
  const picked = squeeze(gather(logp, 1, reshape(idx, idxShape)), 1);
  let loss = neg(mul(picked, wt));
  if (eps > 0) {
    const wl = weight ? mul(logp, classWeightAlongDim1(weight, logp.ndim)) : logp;
    let smooth = neg(sum(wl, 1));
    if (anyIgnored) smooth = mul(smooth, valid);
    loss = add(mul(loss, 1 - eps), mul(smooth, eps / c));
  }
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return sum(loss);
  // NOTE: PyTorch: weighted mean divides by the total weight of the non-ignored targets (NaN if none).
  return div(sum(loss), wsum);
}

/** Options of {@link nllLoss}. */
export interface NllLossOptions {
  /** Per-class weight [C]. */
  weight?: Tensor | null;
  /** Target value that contributes nothing (default −100, as PyTorch). */
  ignoreIndex?: number;
  /** Reduction (default 'mean', the weighted mean). */
  reduction?: Reduction;
}

/** Handles unbatched [C] inputs by adding a batch dimension of 1. */
function batchify(input: Tensor, target: Tensor, intTarget: boolean): [Tensor, Tensor, boolean] {
  if (input.ndim !== 1) return [input, target, false];
  return [unsqueeze(input, 0), intTarget ? reshape(target, [1]) : unsqueeze(target, 0), true];
}

function checkIntTarget(op: string, target: Tensor): void {
  if (!(target instanceof Tensor))
    throw new DTypeError(`${op}: target must be a Tensor, got ${typeof target}`);
  if (target.dtype !== 'int32') {
    throw new DTypeError(`${op}: class-index target must be int32, got ${target.dtype}`);
  }
}

/**
 * Negative log-likelihood loss (`torch.nn.functional.nll_loss`) of log-probabilities `input` [B, C] or
 * [B, C, L] (or unbatched [C]) against int32 class indices `target` [B] or [B, L] (or []).
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  const op = 'nllLoss';
  checkFloatTensor(op, 'input', input);
  checkIntTarget(op, target);
  if (input.ndim === 0) throw new ShapeError(`${op}: input must be [C], [B, C] or [B, C, L], got a scalar`);
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction, ['mean', 'sum', 'none']);
  const c = input.ndim === 1 ? input.shape[0] : input.shape[1];
  checkClassWeight(op, opts.weight, input, c);
  if (input.ndim === 1 && target.ndim !== 0) {
    throw new ShapeError(
      `${op}: unbatched input ${fmtShape(input.shape)} needs a scalar target, got ${fmtShape(target.shape)}`,
    );
  }
  const [x, t, unbatched] = batchify(input, target, true);
  const out = nllCore(op, x, t, opts.weight ?? null, opts.ignoreIndex ?? -100, reduction, 0);
  return unbatched && reduction === 'none' ? reshape(out, []) : out;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Label smoothing ε in [0, 1]: targets become (1 − ε)·onehot + ε/C (default 0). */
  labelSmoothing?: number;
}

/**
 * Cross-entropy of logits (`torch.nn.functional.cross_entropy`): log-softmax over dimension 1, then
 * - int32 class indices `target` [B] / [B, L]: negative log-likelihood with optional class `weight`,
 *   `ignoreIndex` and label smoothing, ℓᵢ = (1 − ε)·w[yᵢ]·(−log pᵢ[yᵢ]) + ε/C·Σ_c w[c]·(−log pᵢ[c]),
 *   mean = Σ ℓᵢ / Σ w[yᵢ] over non-ignored targets;
 * - float class probabilities `target` (same shape as logits): ℓᵢ = −Σ_c w[c]·qᵢ[c]·log pᵢ[c] with
 *   q = (1 − ε)·target + ε/C, mean over the B (·L) samples.
 * Logits are [B, C], [B, C, L] (classes on dimension 1) or unbatched [C].
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkFloatTensor(op, 'logits', logits);
  if (!(target instanceof Tensor))
    throw new DTypeError(`${op}: target must be a Tensor, got ${typeof target}`);
  if (logits.ndim === 0) throw new ShapeError(`${op}: logits must be [C], [B, C] or [B, C, L], got a scalar`);
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction, ['mean', 'sum', 'none']);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new ValueError(`${op}: labelSmoothing must be in [0, 1], got ${eps}`);
  const c = logits.ndim === 1 ? logits.shape[0] : logits.shape[1];
  checkClassWeight(op, opts.weight, logits, c);
  const weight = opts.weight ?? null;
  const intTarget = target.dtype === 'int32';
  if (intTarget) {
    if (logits.ndim === 1 && target.ndim !== 0) {
      throw new ShapeError(
        `${op}: unbatched logits ${fmtShape(logits.shape)} need a scalar class-index target, got ${fmtShape(target.shape)}`,
      );
    }
  } else {
    if (target.dtype !== logits.dtype) {
      throw new DTypeError(
        `${op}: probability target dtype ${target.dtype} differs from logits dtype ${logits.dtype} (class indices must be int32)`,
      );
    }
    if (!shapesEqual(target.shape, logits.shape)) {
      throw new ShapeError(
        `${op}: probability target shape ${fmtShape(target.shape)} differs from logits ${fmtShape(logits.shape)}; class-index targets must be int32`,
      );
    }
  }
  const [x, t, unbatched] = batchify(logits, target, intTarget);
  const logp = logSoftmax(x, 1);
  let out: Tensor;
  if (intTarget) {
    out = nllCore(op, logp, t, weight, opts.ignoreIndex ?? -100, reduction, eps);
  } else {
    const q = eps > 0 ? add(mul(t, 1 - eps), eps / c) : t;
    let prod = mul(logp, q);
    if (weight) prod = mul(prod, classWeightAlongDim1(weight, logp.ndim));
    const perSample = neg(sum(prod, 1));
    out = reduce(perSample, reduction);
  }
  return unbatched && reduction === 'none' ? reshape(out, []) : out;
}

/** Options of {@link klDiv}. */
export interface KlDivOptions {
  /**
   * 'batchmean' (sum / batch size: the mathematically correct KL per sample), 'mean' (over all elements,
   * PyTorch's default), 'sum' or 'none'.
   */
  reduction?: 'batchmean' | 'mean' | 'sum' | 'none';
  /** Whether `target` is given as log-probabilities (default false). */
  logTarget?: boolean;
}

/**
 * Kullback–Leibler divergence (`torch.nn.functional.kl_div`) with `input` as log-probabilities of the
 * model and `target` as probabilities (or log-probabilities with `logTarget`): pointwise
 * target·(log target − input), with 0·log 0 = 0.
 */
export function klDiv(input: Tensor, target: Tensor, opts: KlDivOptions = {}): Tensor {
  const op = 'klDiv';
  checkFloatTensor(op, 'input', input);
  checkFloatTensor(op, 'target', target, input);
  if (!shapesEqual(input.shape, target.shape)) {
    throw new ShapeError(
      `${op}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape`,
    );
  }
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction, ['batchmean', 'mean', 'sum', 'none']);
  let pointwise: Tensor;
  if (opts.logTarget) {
    // e^t·(t − input)
    pointwise = mul(exp(target), sub(target, input));
  } else {
    // xlogy(t, t) − t·input, the log taken of 1 where t ≤ 0 so that 0·log 0 = 0 and its gradient is finite
    const safeLog = log(where(gt(target, 0), target, 1));
    pointwise = sub(mul(target, safeLog), mul(target, input));
  }
  if (reduction === 'batchmean') {
    const s = sum(pointwise);
    return input.ndim === 0 ? s : div(s, input.shape[0]);
  }
  return reduce(pointwise, reduction);
}

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BceWithLogitsOptions {
  /** Per-element rescaling weight, broadcastable to the logits. */
  weight?: Tensor | null;
  /** Weight of positive examples per class (broadcast along the last dimension, e.g. [C]). */
  posWeight?: Tensor | null;
  /** Reduction (default 'mean' over all elements). */
  reduction?: Reduction;
}

/**
 * Binary cross-entropy on logits for multi-label classification
 * (`torch.nn.functional.binary_cross_entropy_with_logits`):
 * ℓ = −w·[pw·y·log σ(x) + (1 − y)·log(1 − σ(x))], computed stably as
 * ℓ = w·[(1 − y)·x + (1 + (pw − 1)·y)·softplus(−x)], softplus(z) = max(z, 0) + log1p(e^(−|z|)).
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  opts: BceWithLogitsOptions = {},
): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkFloatTensor(op, 'logits', logits);
  checkFloatTensor(op, 'target', target, logits);
  if (!shapesEqual(logits.shape, target.shape)) {
    throw new ShapeError(
      `${op}: target shape ${fmtShape(target.shape)} differs from logits ${fmtShape(logits.shape)}`,
    );
  }
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction, ['mean', 'sum', 'none']);
  const checkBroadcast = (what: string, t: Tensor) => {
    checkFloatTensor(op, what, t, logits);
    const b = broadcastShapes(op, t.shape, logits.shape);
    if (!shapesEqual(b, logits.shape)) {
      throw new ShapeError(
        `${op}: ${what} ${fmtShape(t.shape)} does not broadcast to logits ${fmtShape(logits.shape)}`,
      );
    }
  };
  if (opts.weight) checkBroadcast('weight', opts.weight);
  if (opts.posWeight) checkBroadcast('posWeight', opts.posWeight);
  const spNeg = softplus(neg(logits), 1, Number.POSITIVE_INFINITY);
  const coef = opts.posWeight ? add(mul(sub(opts.posWeight, 1), target), 1) : null;
  let loss = add(mul(sub(1, target), logits), coef ? mul(coef, spNeg) : spNeg);
  if (opts.weight) loss = mul(loss, opts.weight);
  return reduce(loss, reduction);
}

/** Options of {@link mseLoss}. */
export interface MseLossOptions {
  /** Reduction (default 'mean'). */
  reduction?: Reduction;
}

/** Mean squared error (`torch.nn.functional.mse_loss`): (input − target)², reduced. */
export function mseLoss(input: Tensor, target: Tensor, opts: MseLossOptions = {}): Tensor {
  const op = 'mseLoss';
  checkFloatTensor(op, 'input', input);
  checkFloatTensor(op, 'target', target, input);
  if (!shapesEqual(input.shape, target.shape)) {
    throw new ShapeError(
      `${op}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape`,
    );
  }
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction, ['mean', 'sum', 'none']);
  const d = sub(input, target);
  return reduce(mul(d, d), reduction);
}

/** Options of {@link distillationLoss}. */
export interface DistillationLossOptions {
  /** Softmax temperature T > 0 applied to both student and teacher logits (default 1). */
  temperature?: number;
  /** Weight α ∈ [0, 1] of the soft (teacher) term; the hard term gets 1 − α (default 0.5). */
  alpha?: number;
  /** 'mean' over samples (default), 'sum', or 'none' for per-sample losses [B] / [B, L] (hard-example scoring). */
  reduction?: Reduction;
}

/**
 * Knowledge-distillation loss (Hinton, Vinyals & Dean 2015) of student logits against teacher logits and
 * the true labels, for logits [B, C] (or [B, C, L]):
 *
 *   L = (1 − α)·CE(y, softmax(z_s)) + α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)),
 *
 * per sample, with CE the cross-entropy ({@link crossEntropy}; `target` int32 indices or float
 * probabilities) and KL summed over the classes; then averaged over the samples (or summed, or returned
 * per sample with `reduction`). The teacher is a constant: no gradient flows into `teacherLogits`.
 *
 * // NOTE: Hinton 2015: soft loss scaled by T², so its gradient magnitude does not shrink as 1/T².
 * // NOTE: patent CN110558972A S5: Loss_G = CE(y, p) + CE(z, p), where CE(z, p) = KL(z ‖ p) + H(z) and
 * // H(z) is constant in the student. With T = 1 and α = 0.5 (the defaults) this loss is half the patent's
 * // loss up to that constant (per sample: the patent sums, we average), so it has the same minimiser.
 * A teacher that outputs probabilities z can pass log(z) as `teacherLogits` (softmax(log z) = z at T = 1).
 */
export function distillationLoss(
  studentLogits: Tensor,
  teacherLogits: Tensor,
  target: Tensor,
  opts: DistillationLossOptions = {},
): Tensor {
  const op = 'distillationLoss';
  checkFloatTensor(op, 'studentLogits', studentLogits);
  checkFloatTensor(op, 'teacherLogits', teacherLogits, studentLogits);
  if (studentLogits.ndim < 2) {
    throw new ShapeError(`${op}: logits must be [B, C] or [B, C, L], got ${fmtShape(studentLogits.shape)}`);
  }
  if (!shapesEqual(studentLogits.shape, teacherLogits.shape)) {
    throw new ShapeError(
      `${op}: teacher logits ${fmtShape(teacherLogits.shape)} differ from student logits ${fmtShape(studentLogits.shape)}`,
    );
  }
  const t = opts.temperature ?? 1;
  const alpha = opts.alpha ?? 0.5;
  if (!(t > 0) || !Number.isFinite(t)) throw new ValueError(`${op}: temperature must be > 0, got ${t}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new ValueError(`${op}: alpha must be in [0, 1], got ${alpha}`);
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction, ['mean', 'sum', 'none']);
  // Per sample: hard CE [B, *] and KL summed over the classes [B, *].
  const hard = crossEntropy(studentLogits, target, { reduction: 'none' });
  const logPs = logSoftmax(t === 1 ? studentLogits : div(studentLogits, t), 1);
  const logPt = noGrad(() => logSoftmax(t === 1 ? teacherLogits : div(teacherLogits, t), 1));
  const kl = sum(klDiv(logPs, logPt, { logTarget: true, reduction: 'none' }), 1);
  // NOTE: Hinton 2015: soft loss scaled by T².
  return reduce(add(mul(hard, 1 - alpha), mul(kl, alpha * t * t)), reduction);
}
