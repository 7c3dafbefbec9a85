/**
 * Reductions: the primitives sum, max and min (one `reduce` kernel call each, over any set of axes) and what
 * is built from them (argmax/argmin, mean, variance, logsumexp, sumTo).
 */
import { kernels } from '../backend/backend.js';
import { copyStorage } from '../dtype.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { normalizeAxes, normalizeAxis, reducedShape, shapesEqual } from '../shape.js';
import { noGrad, Tensor } from '../tensor.js';
import { add, div, eq, exp, log, mul, sub } from './elementwise.js';
import { outputStorage, reduceAxes, requireFloat, requireTensor } from './operands.js';
import { expand, reshape } from './shape.js';

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    sum: ReduceAttrs;
    max: ReduceAttrs;
    min: ReduceAttrs;
  }
}

/** Attributes of reductions: normalised sorted axes and keepDims. */
export interface ReduceAttrs {
  axes: number[];
  keepDims: boolean;
}

/**
 * Sums `g` down to `shape` (undoing broadcasting): leading extra dimensions and dimensions where `shape`
 * is 1 are summed.
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0 || shape.some((d, i) => d !== 1 && d !== g.shape[i + lead])) {
    throw new ShapeError(`sumTo: ${fmtShape(g.shape)} cannot be summed down to ${fmtShape(shape)}`);
  }
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length > 0 ? sum(g, axes, true) : g;
  return reshape(s, shape);
}

const sumRule: PrimitiveRule<ReduceAttrs> = {
  forward: ([x], { axes, keepDims }) =>
    new Tensor(reduceAxes('sum', x, axes), reducedShape(x.shape, axes, keepDims)),
  vjp: (g, { inputs: [x], attrs: { axes } }) => [
    expand(reshape(g, reducedShape(x.shape, axes, true)), x.shape),
  ],
};

function extremumVjp(g: Tensor, x: Tensor, output: Tensor, axes: readonly number[]): Tensor {
  // Gradient is shared evenly among the elements equal to the extremum (as torch.amax).
  const keep = reducedShape(x.shape, axes, true);
  const mask = eq(x, reshape(output, keep));
  const count = sum(mask, axes, true);
  return mul(mask, div(reshape(g, keep), count));
}

const maxRule: PrimitiveRule<ReduceAttrs> = {
  forward: ([x], { axes, keepDims }) =>
    new Tensor(reduceAxes('max', x, axes), reducedShape(x.shape, axes, keepDims)),
  vjp: (g, { inputs: [x], output, attrs: { axes } }) => [extremumVjp(g, x, output, axes)],
};
const minRule: PrimitiveRule<ReduceAttrs> = {
  forward: ([x], { axes, keepDims }) =>
    new Tensor(reduceAxes('min', x, axes), reducedShape(x.shape, axes, keepDims)),
  vjp: (g, { inputs: [x], output, attrs: { axes } }) => [extremumVjp(g, x, output, axes)],
};

/**
 * Sum over `axes` (all when omitted; negative axes count from the end; `[]` reduces nothing, as NumPy's
 * `axis=()`). With `keepDims` the reduced axes stay as size 1.
 */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireTensor('sum', x);
  return run('sum', sumRule, [x], { axes: normalizeAxes('sum', axes, x.ndim), keepDims });
}
/**
 * Maximum over `axes` (all when omitted), like `torch.amax`. NaN propagates. The gradient is shared evenly
 * among tied maxima. Reducing an empty axis raises a ShapeError.
 */
export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireTensor('max', x);
  return run('max', maxRule, [x], { axes: normalizeAxes('max', axes, x.ndim), keepDims });
}
/** Minimum over `axes` (all when omitted), like `torch.amin`; see {@link max}. */
export function min(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireTensor('min', x);
  return run('min', minRule, [x], { axes: normalizeAxes('min', axes, x.ndim), keepDims });
}

function argExtremum(op: 'max' | 'min', x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  const name = `arg${op}`;
  requireTensor(name, x);
  if (x.size === 0) {
    throw new ShapeError(`${name}: cannot take the ${op} of an empty tensor (shape ${fmtShape(x.shape)})`);
  }
  if (axis === undefined || x.ndim === 0) {
    if (axis !== undefined) normalizeAxes(name, axis, 0);
    const flat = noGrad(() => reshape(x, [x.size]));
    const r = argExtremum(op, flat, 0, false);
    return keepDims
      ? // a copy: a tensor sharing r's storage would be recycled with r by tidy()
        new Tensor(
          copyStorage(r.storage),
          x.shape.map(() => 1),
        )
      : r;
  }
  const ax = normalizeAxis(name, axis, x.ndim);
  if (x.shape[ax] === 0) {
    throw new ShapeError(`${name}: cannot reduce over empty axis ${ax} of ${fmtShape(x.shape)}`);
  }
  const outShape = reducedShape(x.shape, [ax], keepDims);
  const idx = outputStorage(name, 'int32', outShape) as Int32Array;
  reduceAxes(op, x, [ax], idx);
  return new Tensor(idx, outShape);
}

/**
 * Index of the first maximum along `axis` (of the flattened tensor when omitted; `keepDims` then keeps
 * every axis as size 1), as int32. A NaN counts as the maximum (first NaN wins), as PyTorch.
 */
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argExtremum('max', x, axis, keepDims);
}
/** Index of the first minimum along `axis`, as int32; see {@link argmax}. */
export function argmin(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argExtremum('min', x, axis, keepDims);
}

/** Mean over `axes` (all when omitted; float tensors only). An empty reduction gives NaN (0/0). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireTensor('mean', x);
  requireFloat('mean', x);
  const ax = normalizeAxes('mean', axes, x.ndim);
  let n = 1;
  for (const a of ax) n *= x.shape[a];
  return div(sum(x, ax, keepDims), n);
}

/**
 * Variance over `axes` (all when omitted): Σ(x − mean)² / (n − correction). `correction` 1 (default) gives
 * the unbiased (Bessel) estimate, 0 the population variance, as `torch.var`. When n ≤ correction the result
 * is ±∞ or NaN (division by zero), as PyTorch.
 */
export function variance(
  x: Tensor,
  axes?: number | readonly number[],
  opts: { keepDims?: boolean; correction?: number } = {},
): Tensor {
  requireTensor('var', x);
  requireFloat('var', x);
  const ax = normalizeAxes('var', axes, x.ndim);
  let n = 1;
  for (const a of ax) n *= x.shape[a];
  const correction = opts.correction ?? 1;
  if (!Number.isFinite(correction) || correction < 0) {
    throw new ValueError(`var: correction must be a finite non-negative number, got ${correction}`);
  }
  const d = sub(x, mean(x, ax, true));
  return div(sum(mul(d, d), ax, opts.keepDims ?? false), Math.max(n - correction, 0));
}

/**
 * log Σ exp(x) over `axes` (all when omitted), stabilised by subtracting the (constant) maximum:
 * lse(x) = m + log Σ exp(x − m), exact for any m, so the gradient is softmax(x). Rows of all −∞ give −∞.
 */
export function logsumexp(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireTensor('logsumexp', x);
  requireFloat('logsumexp', x);
  const ax = normalizeAxes('logsumexp', axes, x.ndim);
  const m = noGrad(() => detachData(max(x, ax, true)));
  // Infinite maxima (all −∞ rows) are replaced by 0 so the subtraction stays finite.
  const k = kernels();
  for (let i = k.firstNonFinite(m.data); i >= 0; i = k.firstNonFinite(m.data, i + 1)) m.data[i] = 0;
  const s = log(sum(exp(sub(x, m)), ax, true));
  const r = add(s, m);
  return keepDims ? r : reshape(r, reducedShape(x.shape, ax, false));
}

function detachData(t: Tensor): Tensor {
  return new Tensor(copyStorage(t.storage), t.shape);
}

/** The rules of this module, for the op table. */
export const reduceRules = {
  sum: sumRule,
  max: maxRule,
  min: minRule,
};
