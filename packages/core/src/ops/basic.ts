/**
 * The basic primitives: elementwise arithmetic and maths, comparisons, reductions and shape ops.
 * Each primitive's forward and its one gradient rule (vjp) sit side by side; their vjps use each other,
 * which is why they share one module.
 */
import { kernels } from '../backend/backend.js';
import type { BinaryKernelOp, CompareKernelOp, UnaryKernelOp } from '../backend/kernels.js';
import { allocate, type DType, isFloat } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import {
  broadcastShapes,
  broadcastStrides,
  normalizeAxes,
  normalizeAxis,
  reducedShape,
  shapesEqual,
  sizeOf,
  stridesOf,
} from '../shape.js';
import { Tensor } from '../tensor.js';

/** A tensor or a plain number (broadcast as a scalar of the other operand's dtype). */
export type TensorLike = Tensor | number;

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    add: undefined;
    sub: undefined;
    mul: undefined;
    div: undefined;
    pow: undefined;
    maximum: undefined;
    minimum: undefined;
    neg: undefined;
    exp: undefined;
    log: undefined;
    sqrt: undefined;
    abs: undefined;
    tanh: undefined;
    sigmoid: undefined;
    relu: undefined;
    clamp: { min: number; max: number };
    where: undefined;
    sum: ReduceAttrs;
    max: ReduceAttrs;
    min: ReduceAttrs;
    reshape: { shape: number[] };
    permute: { perm: number[] };
    expand: { shape: number[] };
    slice: { starts: number[]; ends: number[]; steps: number[] };
    pad: { pads: Array<[number, number]>; value: number };
    concat: { axis: number };
    gather: { axis: number };
    indexSelect: { axis: number };
    cast: { dtype: DType };
  }
}

/** Attributes of reductions: normalised sorted axes and keepDims. */
export interface ReduceAttrs {
  axes: number[];
  keepDims: boolean;
}

function scalarLike(v: number, dtype: DType): Tensor {
  const s = allocate(dtype, 1);
  s[0] = v;
  return new Tensor(s, []);
}

function toTensor(op: string, x: TensorLike, like: Tensor): Tensor {
  if (typeof x === 'number') return scalarLike(x, like.dtype);
  if (!(x instanceof Tensor)) throw new DTypeError(`${op}: expected a Tensor or a number, got ${typeof x}`);
  return x;
}

function binaryOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number')
    return [scalarLike(a, 'float32'), scalarLike(b, 'float32')];
  const ta = typeof a === 'number' ? toTensor(op, a, b as Tensor) : toTensor(op, a, a);
  const tb = toTensor(op, b, ta);
  if (ta.dtype !== tb.dtype) {
    throw new DTypeError(`${op}: dtypes differ (${ta.dtype} and ${tb.dtype}); convert one with .to(dtype)`);
  }
  return [ta, tb];
}

function requireFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: expected a float tensor, got ${t.dtype}`);
}

function binaryForward(op: BinaryKernelOp): PrimitiveRule<undefined>['forward'] {
  return ([a, b]) => {
    const shape = broadcastShapes(op, a.shape, b.shape);
    const out = allocate(a.dtype, sizeOf(shape));
    kernels().binary(
      op,
      a.data,
      broadcastStrides(a.shape, shape),
      b.data,
      broadcastStrides(b.shape, shape),
      out,
      shape,
    );
    return new Tensor(out, shape);
  };
}

function unaryForward(op: UnaryKernelOp): PrimitiveRule<undefined>['forward'] {
  return ([x]) => {
    const out = allocate(x.dtype, x.size);
    kernels().unary(op, x.data, out);
    return new Tensor(out, x.shape);
  };
}

/**
 * Sums `g` down to `shape` (undoing broadcasting): leading extra dimensions and dimensions where `shape`
 * is 1 are summed.
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length > 0 ? sum(g, axes, true) : g;
  return reshape(s, shape);
}

// ---------------------------------------------------------------------------------------------------------
// Elementwise binary

const addRule: PrimitiveRule<undefined> = {
  forward: binaryForward('add'),
  vjp: (g, { inputs: [a, b] }) => [sumTo(g, a.shape), sumTo(g, b.shape)],
};
const subRule: PrimitiveRule<undefined> = {
  forward: binaryForward('sub'),
  vjp: (g, { inputs: [a, b], needsGrad }) => [
    sumTo(g, a.shape),
    needsGrad[1] ? sumTo(neg(g), b.shape) : null,
  ],
};
const mulRule: PrimitiveRule<undefined> = {
  forward: binaryForward('mul'),
  // d(ab) = b da + a db
  vjp: (g, { inputs: [a, b], needsGrad }) => [
    needsGrad[0] ? sumTo(mul(g, b), a.shape) : null,
    needsGrad[1] ? sumTo(mul(g, a), b.shape) : null,
  ],
};
const divRule: PrimitiveRule<undefined> = {
  forward: binaryForward('div'),
  // d(a/b) = da/b − a/b² db
  vjp: (g, { inputs: [a, b], output, needsGrad }) => [
    needsGrad[0] ? sumTo(div(g, b), a.shape) : null,
    needsGrad[1] ? sumTo(neg(div(mul(g, output), b)), b.shape) : null,
  ],
};
const powRule: PrimitiveRule<undefined> = {
  forward: binaryForward('pow'),
  // d(a^b) = b a^(b−1) da + a^b ln(a) db   (the db term is taken as 0 where a ≤ 0, as PyTorch does for a = 0)
  vjp: (g, { inputs: [a, b], output, needsGrad }) => [
    needsGrad[0] ? sumTo(mul(g, mul(b, pow(a, sub(b, 1)))), a.shape) : null,
    needsGrad[1] ? sumTo(mul(g, mul(output, where(gt(a, 0), log(a), 0))), b.shape) : null,
  ],
};
const maximumRule: PrimitiveRule<undefined> = {
  forward: binaryForward('maximum'),
  // Gradient goes to the larger operand; ties split it evenly.
  vjp: (g, { inputs: [a, b], needsGrad }) => {
    const ga = add(gt(a, b), mul(eq(a, b), 0.5));
    return [
      needsGrad[0] ? sumTo(mul(g, ga), a.shape) : null,
      needsGrad[1] ? sumTo(mul(g, sub(1, ga)), b.shape) : null,
    ];
  },
};
const minimumRule: PrimitiveRule<undefined> = {
  forward: binaryForward('minimum'),
  vjp: (g, { inputs: [a, b], needsGrad }) => {
    const ga = add(lt(a, b), mul(eq(a, b), 0.5));
    return [
      needsGrad[0] ? sumTo(mul(g, ga), a.shape) : null,
      needsGrad[1] ? sumTo(mul(g, sub(1, ga)), b.shape) : null,
    ];
  },
};

/** Elementwise a + b with broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return run('add', addRule, binaryOperands('add', a, b), undefined);
}
/** Elementwise a − b with broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return run('sub', subRule, binaryOperands('sub', a, b), undefined);
}
/** Elementwise a · b with broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return run('mul', mulRule, binaryOperands('mul', a, b), undefined);
}
/** Elementwise a / b with broadcasting. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return run('div', divRule, binaryOperands('div', a, b), undefined);
}
/** Elementwise a ** b with broadcasting. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return run('pow', powRule, binaryOperands('pow', a, b), undefined);
}
/** Elementwise maximum with broadcasting (NaN propagates). */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return run('maximum', maximumRule, binaryOperands('maximum', a, b), undefined);
}
/** Elementwise minimum with broadcasting (NaN propagates). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return run('minimum', minimumRule, binaryOperands('minimum', a, b), undefined);
}

// ---------------------------------------------------------------------------------------------------------
// Elementwise unary

function unaryRule(op: UnaryKernelOp, vjp: PrimitiveRule<undefined>['vjp']): PrimitiveRule<undefined> {
  return { forward: unaryForward(op), vjp };
}

const negRule = unaryRule('neg', (g) => [neg(g)]);
const expRule = unaryRule('exp', (g, { output }) => [mul(g, output)]);
const logRule = unaryRule('log', (g, { inputs: [x] }) => [div(g, x)]);
// d sqrt(x) = 1 / (2 sqrt(x))
const sqrtRule = unaryRule('sqrt', (g, { output }) => [div(g, mul(output, 2))]);
// d|x| = sign(x), with 0 at x = 0 (the subgradient PyTorch uses)
const absRule = unaryRule('abs', (g, { inputs: [x] }) => [mul(g, sub(gt(x, 0), lt(x, 0)))]);
// d tanh = 1 − tanh²
const tanhRule = unaryRule('tanh', (g, { output }) => [mul(g, sub(1, mul(output, output)))]);
// d σ = σ (1 − σ)
const sigmoidRule = unaryRule('sigmoid', (g, { output }) => [mul(g, mul(output, sub(1, output)))]);
// d relu = 1 where x > 0
const reluRule = unaryRule('relu', (g, { inputs: [x] }) => [mul(g, gt(x, 0))]);

function unaryOp(name: string, rule: PrimitiveRule<undefined>, x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(`${name}: expected a Tensor, got ${typeof x}`);
  requireFloat(name, x);
  return run(name, rule, [x], undefined);
}

/** −x. */
export function neg(x: Tensor): Tensor {
  return unaryOp('neg', negRule, x);
}
/** eˣ. */
export function exp(x: Tensor): Tensor {
  return unaryOp('exp', expRule, x);
}
/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unaryOp('log', logRule, x);
}
/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unaryOp('sqrt', sqrtRule, x);
}
/** |x|. */
export function abs(x: Tensor): Tensor {
  return unaryOp('abs', absRule, x);
}
/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return unaryOp('tanh', tanhRule, x);
}
/** Logistic sigmoid 1 / (1 + e⁻ˣ), computed stably. */
export function sigmoid(x: Tensor): Tensor {
  return unaryOp('sigmoid', sigmoidRule, x);
}
/** max(x, 0). */
export function relu(x: Tensor): Tensor {
  return unaryOp('relu', reluRule, x);
}

const clampRule: PrimitiveRule<{ min: number; max: number }> = {
  forward: ([x], { min, max }) => {
    const out = allocate(x.dtype, x.size);
    const d = x.data;
    for (let i = 0; i < d.length; i++) out[i] = d[i] < min ? min : d[i] > max ? max : d[i];
    return new Tensor(out, x.shape);
  },
  // Gradient passes where min ≤ x ≤ max (inclusive, as PyTorch).
  vjp: (g, { inputs: [x], attrs: { min, max } }) => [mul(g, mul(ge(x, min), le(x, max)))],
};

/** Clamps every element into [min, max] (either bound may be omitted). */
export function clamp(x: Tensor, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): Tensor {
  requireFloat('clamp', x);
  if (min > max) throw new ValueError(`clamp: min (${min}) is greater than max (${max})`);
  return run('clamp', clampRule, [x], { min, max });
}

const whereRule: PrimitiveRule<undefined> = {
  forward: ([c, a, b]) => {
    const shape = broadcastShapes('where', broadcastShapes('where', c.shape, a.shape), b.shape);
    const n = sizeOf(shape);
    const out = allocate(a.dtype, n);
    // Materialise the broadcast operands via the binary kernel trick: index arithmetic per element.
    const cs = broadcastStrides(c.shape, shape);
    const as = broadcastStrides(a.shape, shape);
    const bs = broadcastStrides(b.shape, shape);
    const nd = shape.length;
    const idx = new Array<number>(nd).fill(0);
    let ci = 0;
    let ai = 0;
    let bi = 0;
    for (let i = 0; i < n; i++) {
      out[i] = c.data[ci] !== 0 ? a.data[ai] : b.data[bi];
      for (let d = nd - 1; d >= 0; d--) {
        idx[d]++;
        ci += cs[d];
        ai += as[d];
        bi += bs[d];
        if (idx[d] < shape[d]) break;
        ci -= cs[d] * shape[d];
        ai -= as[d] * shape[d];
        bi -= bs[d] * shape[d];
        idx[d] = 0;
      }
    }
    return new Tensor(out, shape);
  },
  nonDifferentiable: [0],
  vjp: (g, { inputs: [c, a, b], needsGrad }) => {
    const z = zerosOf(g);
    return [
      null,
      needsGrad[1] ? sumTo(where(c, g, z), a.shape) : null,
      needsGrad[2] ? sumTo(where(c, z, g), b.shape) : null,
    ];
  },
};

function zerosOf(t: Tensor): Tensor {
  return new Tensor(allocate(t.dtype, 1), []);
}

/** Elementwise `cond ? a : b` with broadcasting; `cond` is any tensor, non-zero meaning true. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = binaryOperands('where', a, b);
  return run('where', whereRule, [cond, ta, tb], undefined);
}

// ---------------------------------------------------------------------------------------------------------
// Comparisons (no gradient): 1 where true, 0 where false, in the dtype of the operands.

function compareOp(op: CompareKernelOp, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = binaryOperands(op, a, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  const out = allocate(ta.dtype, sizeOf(shape));
  kernels().compare(
    op,
    ta.data,
    broadcastStrides(ta.shape, shape),
    tb.data,
    broadcastStrides(tb.shape, shape),
    out,
    shape,
  );
  return new Tensor(out, shape);
}

/** a == b (1/0). */
export function eq(a: TensorLike, b: TensorLike): Tensor {
  return compareOp('eq', a, b);
}
/** a != b (1/0). */
export function ne(a: TensorLike, b: TensorLike): Tensor {
  return compareOp('ne', a, b);
}
/** a < b (1/0). */
export function lt(a: TensorLike, b: TensorLike): Tensor {
  return compareOp('lt', a, b);
}
/** a <= b (1/0). */
export function le(a: TensorLike, b: TensorLike): Tensor {
  return compareOp('le', a, b);
}
/** a > b (1/0). */
export function gt(a: TensorLike, b: TensorLike): Tensor {
  return compareOp('gt', a, b);
}
/** a >= b (1/0). */
export function ge(a: TensorLike, b: TensorLike): Tensor {
  return compareOp('ge', a, b);
}

// ---------------------------------------------------------------------------------------------------------
// Reductions

/** Runs a reduction kernel over sorted axes; permutes first when the axes are not one contiguous block. */
function reduceForward(
  op: 'sum' | 'max' | 'min',
  x: Tensor,
  axes: readonly number[],
  argOut?: Int32Array,
): { data: ReturnType<typeof allocate>; outer: number; r: number; inner: number } {
  const nd = x.ndim;
  const contiguous = axes.length === 0 || axes[axes.length - 1] - axes[0] === axes.length - 1;
  let src = x.data;
  let shape = x.shape;
  let ax = axes;
  if (!contiguous) {
    const keep = [...Array(nd).keys()].filter((i) => !axes.includes(i));
    const perm = [...keep, ...axes];
    const p = allocate(x.dtype, x.size);
    kernels().permute(x.data, x.shape, perm, p);
    src = p;
    shape = perm.map((i) => x.shape[i]);
    ax = axes.map((_, i) => keep.length + i);
  }
  let outer = 1;
  let r = 1;
  let inner = 1;
  for (let i = 0; i < shape.length; i++) {
    if (ax.length > 0 && i < ax[0]) outer *= shape[i];
    else if (ax.includes(i)) r *= shape[i];
    else inner *= shape[i];
  }
  if (ax.length === 0) {
    outer = x.size;
    r = 1;
    inner = 1;
  }
  const out = allocate(x.dtype, outer * inner);
  if (r === 0 && op !== 'sum') {
    throw new ShapeError(`${op}: cannot reduce over an empty dimension (shape ${fmtShape(x.shape)})`);
  }
  kernels().reduce(op, src, out, outer, r, inner, argOut);
  return { data: out, outer, r, inner };
}

const sumRule: PrimitiveRule<ReduceAttrs> = {
  forward: ([x], { axes, keepDims }) =>
    new Tensor(reduceForward('sum', x, axes).data, reducedShape(x.shape, axes, keepDims)),
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
    new Tensor(reduceForward('max', x, axes).data, reducedShape(x.shape, axes, keepDims)),
  vjp: (g, { inputs: [x], output, attrs: { axes } }) => [extremumVjp(g, x, output, axes)],
};
const minRule: PrimitiveRule<ReduceAttrs> = {
  forward: ([x], { axes, keepDims }) =>
    new Tensor(reduceForward('min', x, axes).data, reducedShape(x.shape, axes, keepDims)),
  vjp: (g, { inputs: [x], output, attrs: { axes } }) => [extremumVjp(g, x, output, axes)],
};

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return run('sum', sumRule, [x], { axes: normalizeAxes('sum', axes, x.ndim), keepDims });
}
/** Maximum over `axes` (all when omitted); the gradient is shared among tied maxima. */
export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireFloat('max', x);
  return run('max', maxRule, [x], { axes: normalizeAxes('max', axes, x.ndim), keepDims });
}
/** Minimum over `axes` (all when omitted). */
export function min(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireFloat('min', x);
  return run('min', minRule, [x], { axes: normalizeAxes('min', axes, x.ndim), keepDims });
}

function argExtremum(op: 'max' | 'min', x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  if (axis === undefined) {
    const flat = reshape(x, [x.size]);
    return argExtremum(op, flat, 0, false);
  }
  const ax = normalizeAxis(`arg${op}`, axis, x.ndim);
  const outShape = reducedShape(x.shape, [ax], keepDims);
  const idx = new Int32Array(sizeOf(outShape));
  reduceForward(op, x, [ax], idx);
  return new Tensor(idx, outShape);
}

/** Index of the (first) maximum along `axis` (of the flattened tensor when omitted), as int32. */
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argExtremum('max', x, axis, keepDims);
}
/** Index of the (first) minimum along `axis`, as int32. */
export function argmin(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argExtremum('min', x, axis, keepDims);
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normalizeAxes('mean', axes, x.ndim);
  let n = 1;
  for (const a of ax) n *= x.shape[a];
  return div(sum(x, ax, keepDims), n);
}

/** Variance over `axes`; `correction` 1 gives the unbiased (Bessel) estimate, 0 the population variance. */
export function variance(
  x: Tensor,
  axes?: number | readonly number[],
  opts: { keepDims?: boolean; correction?: number } = {},
): Tensor {
  const ax = normalizeAxes('var', axes, x.ndim);
  let n = 1;
  for (const a of ax) n *= x.shape[a];
  const correction = opts.correction ?? 1;
  const d = sub(x, mean(x, ax, true));
  return div(sum(mul(d, d), ax, opts.keepDims ?? false), Math.max(n - correction, 0));
}

/** log Σ exp(x) over `axes`, stabilised by subtracting the maximum. */
export function logsumexp(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normalizeAxes('logsumexp', axes, x.ndim);
  const m = detachData(max(x, ax, true));
  // Infinite maxima (all −∞ rows) are replaced by 0 so the subtraction stays finite.
  for (let i = 0; i < m.data.length; i++) if (!Number.isFinite(m.data[i])) m.data[i] = 0;
  const s = log(sum(exp(sub(x, m)), ax, true));
  const r = add(s, m);
  return keepDims ? r : reshape(r, reducedShape(x.shape, ax, false));
}

function detachData(t: Tensor): Tensor {
  return new Tensor(t.data.slice(), t.shape);
}

// ---------------------------------------------------------------------------------------------------------
// Shape ops

const reshapeRule: PrimitiveRule<{ shape: number[] }> = {
  forward: ([x], { shape }) => new Tensor(x.data.slice(), shape),
  vjp: (g, { inputs: [x] }) => [reshape(g, x.shape)],
};

/** Same data, new shape; one dimension may be −1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const neg1 = shape.filter((d) => d === -1).length;
  if (neg1 > 1) throw new ShapeError(`reshape: only one dimension can be -1, got ${fmtShape(shape)}`);
  let target = [...shape];
  if (neg1 === 1) {
    const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
    }
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  for (const d of target) {
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`reshape: invalid target shape ${fmtShape(shape)}`);
  }
  if (sizeOf(target) !== x.size) {
    throw new ShapeError(
      `reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(target)} (${sizeOf(target)})`,
    );
  }
  if (shapesEqual(target, x.shape)) return x;
  return run('reshape', reshapeRule, [x], { shape: target });
}

const permuteRule: PrimitiveRule<{ perm: number[] }> = {
  forward: ([x], { perm }) => {
    const out = allocate(x.dtype, x.size);
    kernels().permute(x.data, x.shape, perm, out);
    return new Tensor(
      out,
      perm.map((p) => x.shape[p]),
    );
  },
  vjp: (g, { attrs: { perm } }) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inv[p] = i;
    });
    return [permute(g, inv)];
  },
};

/** Reorders dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.ndim) {
    throw new ShapeError(
      `permute: permutation [${perm.join(', ')}] has ${perm.length} entries for rank ${x.ndim}`,
    );
  }
  const p = perm.map((a) => normalizeAxis('permute', a, x.ndim));
  if (new Set(p).size !== p.length)
    throw new ShapeError(`permute: [${perm.join(', ')}] is not a permutation`);
  if (p.every((v, i) => v === i)) return x;
  return run('permute', permuteRule, [x], { perm: p });
}

/** Swaps two dimensions. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = normalizeAxis('transpose', dim0, x.ndim);
  const b = normalizeAxis('transpose', dim1, x.ndim);
  const perm = [...Array(x.ndim).keys()];
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

const expandRule: PrimitiveRule<{ shape: number[] }> = {
  forward: ([x], { shape }) => {
    const out = allocate(x.dtype, sizeOf(shape));
    const zero = new Tensor(allocate(x.dtype, 1), []);
    kernels().binary(
      'add',
      x.data,
      broadcastStrides(x.shape, shape),
      zero.data,
      shape.map(() => 0),
      out,
      shape,
    );
    return new Tensor(out, shape);
  },
  vjp: (g, { inputs: [x] }) => [sumTo(g, x.shape)],
};

/** Broadcasts `x` to `shape` (NumPy rules; −1 keeps a dimension), materialising the result. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const off = shape.length - x.ndim;
  if (off < 0)
    throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to fewer dimensions ${fmtShape(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= off ? x.shape[i - off] : d));
  const b = broadcastShapes('expand', x.shape, target);
  if (!shapesEqual(b, target))
    throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  if (shapesEqual(target, x.shape)) return x;
  return run('expand', expandRule, [x], { shape: target });
}

/** Inserts a size-1 dimension at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('unsqueeze', axis, x.ndim + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** Removes size-1 dimensions (all, or the given axes, which must have size 1). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  if (axes === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const ax = normalizeAxes('squeeze', axes, x.ndim);
  for (const a of ax) {
    if (x.shape[a] !== 1)
      throw new ShapeError(`squeeze: dimension ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
  }
  return reshape(
    x,
    x.shape.filter((_, i) => !ax.includes(i)),
  );
}

/** Flattens dimensions startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startDim, x.ndim);
  const e = normalizeAxis('flatten', endDim, x.ndim);
  const shape = [
    ...x.shape.slice(0, s),
    x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1),
    ...x.shape.slice(e + 1),
  ];
  return reshape(x, shape);
}

/** Strided copy between an n-d box of `src` and an n-d box of `dst` (used by slice and pad). */
function copyBox(
  src: ReturnType<typeof allocate>,
  srcShape: readonly number[],
  srcStart: readonly number[],
  srcStep: readonly number[],
  dst: ReturnType<typeof allocate>,
  dstShape: readonly number[],
  dstStart: readonly number[],
  box: readonly number[],
  accumulate: boolean,
): void {
  const nd = box.length;
  const n = sizeOf(box);
  if (n === 0) return;
  const ss = stridesOf(srcShape);
  const ds = stridesOf(dstShape);
  let si = 0;
  let di = 0;
  for (let d = 0; d < nd; d++) {
    si += srcStart[d] * ss[d];
    di += dstStart[d] * ds[d];
  }
  const sStep = ss.map((s, d) => s * srcStep[d]);
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < n; i++) {
    if (accumulate) dst[di] += src[si];
    else dst[di] = src[si];
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      si += sStep[d];
      di += ds[d];
      if (idx[d] < box[d]) break;
      si -= sStep[d] * box[d];
      di -= ds[d] * box[d];
      idx[d] = 0;
    }
  }
}

function sliceLen(start: number, end: number, step: number): number {
  return Math.max(0, Math.ceil((end - start) / step));
}

const sliceRule: PrimitiveRule<{ starts: number[]; ends: number[]; steps: number[] }> = {
  forward: ([x], { starts, ends, steps }) => {
    const box = starts.map((s, d) => sliceLen(s, ends[d], steps[d]));
    const out = allocate(x.dtype, sizeOf(box));
    copyBox(
      x.data,
      x.shape,
      starts,
      steps,
      out,
      box,
      box.map(() => 0),
      box,
      false,
    );
    return new Tensor(out, box);
  },
  vjp: (g, { inputs: [x], attrs: { starts, steps } }) => {
    const gx = allocate(g.dtype, x.size);
    // Scatter g back into the strided positions: walk g contiguously, dst with steps.
    scatterStrided(g.data, g.shape, gx, x.shape, starts, steps);
    return [new Tensor(gx, x.shape)];
  },
};

function scatterStrided(
  src: ReturnType<typeof allocate>,
  box: readonly number[],
  dst: ReturnType<typeof allocate>,
  dstShape: readonly number[],
  dstStart: readonly number[],
  dstStep: readonly number[],
): void {
  const nd = box.length;
  const n = sizeOf(box);
  if (n === 0) return;
  const ds = stridesOf(dstShape);
  let di = 0;
  for (let d = 0; d < nd; d++) di += dstStart[d] * ds[d];
  const dStep = ds.map((s, d) => s * dstStep[d]);
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < n; i++) {
    dst[di] += src[i];
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      di += dStep[d];
      if (idx[d] < box[d]) break;
      di -= dStep[d] * box[d];
      idx[d] = 0;
    }
  }
}

/** A slice along one or more axes: `[start, end, step?]` per axis (Python semantics, negatives allowed). */
export type SliceSpec = Array<[number?, number?, number?] | null>;

/**
 * Slices `x`. `spec[i]` is `[start, end, step]` for axis i (null or missing = whole axis). Negative indices
 * count from the end; out-of-range bounds are clipped; step must be positive.
 */
export function slice(x: Tensor, spec: SliceSpec): Tensor {
  if (spec.length > x.ndim) throw new ShapeError(`slice: ${spec.length} axes given for rank ${x.ndim}`);
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  for (let d = 0; d < x.ndim; d++) {
    const n = x.shape[d];
    const s = spec[d] ?? null;
    const step = s?.[2] ?? 1;
    if (!Number.isInteger(step) || step <= 0)
      throw new ValueError(`slice: step must be a positive integer, got ${step}`);
    const norm = (v: number | undefined, dflt: number) => {
      if (v === undefined) return dflt;
      const w = v < 0 ? v + n : v;
      return Math.min(Math.max(w, 0), n);
    };
    const start = norm(s?.[0], 0);
    const end = Math.max(norm(s?.[1], n), start);
    starts.push(start);
    ends.push(end);
    steps.push(step);
  }
  return run('slice', sliceRule, [x], { starts, ends, steps });
}

/** Elements `start..end-1` (step 1) along `axis` (like `torch.narrow` with an end). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normalizeAxis('narrow', axis, x.ndim);
  if (start < 0 || length < 0 || start + length > x.shape[a]) {
    throw new ShapeError(
      `narrow: [${start}, ${start + length}) is outside axis ${a} of ${fmtShape(x.shape)}`,
    );
  }
  const spec: SliceSpec = x.shape.map(() => null);
  spec[a] = [start, start + length, 1];
  return slice(x, spec);
}

const padRule: PrimitiveRule<{ pads: Array<[number, number]>; value: number }> = {
  forward: ([x], { pads, value }) => {
    const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
    const out = allocate(x.dtype, sizeOf(shape));
    if (value !== 0) out.fill(value);
    copyBox(
      x.data,
      x.shape,
      x.shape.map(() => 0),
      x.shape.map(() => 1),
      out,
      shape,
      pads.map((p) => p[0]),
      x.shape,
      false,
    );
    return new Tensor(out, shape);
  },
  vjp: (g, { inputs: [x], attrs: { pads } }) => [
    slice(
      g,
      pads.map((p, i) => [p[0], p[0] + x.shape[i], 1]),
    ),
  ],
};

/**
 * Pads with a constant. `pads` lists `[before, after]` for the LAST dimensions (pads[0] is the last axis,
 * as torch.nn.functional.pad), or pass one pair per axis with `{allAxes: true}`.
 */
export function pad(
  x: Tensor,
  pads: ReadonlyArray<readonly [number, number]>,
  value = 0,
  opts: { allAxes?: boolean } = {},
): Tensor {
  if (pads.length > x.ndim) throw new ShapeError(`pad: ${pads.length} pad pairs for rank ${x.ndim}`);
  const full: Array<[number, number]> = x.shape.map(() => [0, 0]);
  pads.forEach((p, i) => {
    const axis = opts.allAxes ? i : x.ndim - 1 - i;
    for (const v of p)
      if (!Number.isInteger(v) || v < 0)
        throw new ValueError(`pad: pad sizes must be non-negative integers, got [${p.join(', ')}]`);
    full[axis] = [p[0], p[1]];
  });
  return run('pad', padRule, [x], { pads: full, value });
}

const concatRule: PrimitiveRule<{ axis: number }> = {
  forward: (xs, { axis }) => {
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((s, t) => s + t.shape[axis], 0);
    const out = allocate(xs[0].dtype, sizeOf(shape));
    let off = 0;
    for (const t of xs) {
      const start = shape.map((_, i) => (i === axis ? off : 0));
      copyBox(
        t.data,
        t.shape,
        t.shape.map(() => 0),
        t.shape.map(() => 1),
        out,
        shape,
        start,
        t.shape,
        false,
      );
      off += t.shape[axis];
    }
    return new Tensor(out, shape);
  },
  vjp: (g, { inputs, attrs: { axis }, needsGrad }) => {
    let off = 0;
    return inputs.map((t, i) => {
      const n = t.shape[axis];
      const r = needsGrad[i] ? narrow(g, axis, off, n) : null;
      off += n;
      return r;
    });
  },
};

/** Joins tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ValueError('concat: needs at least one tensor');
  const a = normalizeAxis('concat', axis, xs[0].ndim);
  for (const t of xs) {
    if (t.dtype !== xs[0].dtype)
      throw new DTypeError(`concat: dtypes differ (${xs[0].dtype} and ${t.dtype})`);
    if (t.ndim !== xs[0].ndim || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new ShapeError(
        `concat: shapes ${xs.map((u) => fmtShape(u.shape)).join(', ')} differ outside axis ${a}`,
      );
    }
  }
  if (xs.length === 1) return xs[0];
  return run('concat', concatRule, xs, { axis: a });
}

/** Joins tensors of equal shape along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ValueError('stack: needs at least one tensor');
  for (const t of xs) {
    if (!shapesEqual(t.shape, xs[0].shape)) {
      throw new ShapeError(`stack: shapes differ: ${xs.map((u) => fmtShape(u.shape)).join(', ')}`);
    }
  }
  const a = normalizeAxis('stack', axis, xs[0].ndim + 1);
  return concat(
    xs.map((t) => unsqueeze(t, a)),
    a,
  );
}

/** Splits into chunks of `size` along `axis` (the last may be smaller). */
export function split(x: Tensor, size: number, axis = 0): Tensor[] {
  const a = normalizeAxis('split', axis, x.ndim);
  if (!Number.isInteger(size) || size <= 0)
    throw new ValueError(`split: size must be a positive integer, got ${size}`);
  const out: Tensor[] = [];
  for (let s = 0; s < x.shape[a]; s += size) out.push(narrow(x, a, s, Math.min(size, x.shape[a] - s)));
  return out;
}

function checkIndex(op: string, index: Tensor): void {
  if (index.dtype !== 'int32') throw new DTypeError(`${op}: index must be int32, got ${index.dtype}`);
}

const gatherRule: PrimitiveRule<{ axis: number }> = {
  nonDifferentiable: [1],
  forward: ([x, index], { axis }) => {
    const shape = index.shape;
    const out = allocate(x.dtype, index.size);
    const xs = stridesOf(x.shape);
    const is = stridesOf(shape);
    const n = index.size;
    const nd = shape.length;
    for (let i = 0; i < n; i++) {
      let rem = i;
      let off = 0;
      for (let d = 0; d < nd; d++) {
        const c = Math.floor(rem / is[d]);
        rem -= c * is[d];
        off += (d === axis ? index.data[i] : c) * xs[d];
      }
      out[i] = x.data[off];
    }
    return new Tensor(out, shape);
  },
  vjp: (g, { inputs: [x, index], attrs: { axis } }) => {
    const gx = allocate(g.dtype, x.size);
    const xs = stridesOf(x.shape);
    const is = stridesOf(index.shape);
    const nd = index.ndim;
    for (let i = 0; i < index.size; i++) {
      let rem = i;
      let off = 0;
      for (let d = 0; d < nd; d++) {
        const c = Math.floor(rem / is[d]);
        rem -= c * is[d];
        off += (d === axis ? index.data[i] : c) * xs[d];
      }
      gx[off] += g.data[i];
    }
    return [new Tensor(gx, x.shape), null];
  },
};

/**
 * `torch.gather`: out[i][j][k] = x[index[i][j][k]][j][k] for axis 0, etc. `index` is int32 with the same
 * rank as `x` and no larger in any dimension but `axis`.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('gather', index);
  const a = normalizeAxis('gather', axis, x.ndim);
  if (index.ndim !== x.ndim)
    throw new ShapeError(`gather: index rank ${index.ndim} differs from input rank ${x.ndim}`);
  for (let d = 0; d < x.ndim; d++) {
    if (d !== a && index.shape[d] > x.shape[d]) {
      throw new ShapeError(
        `gather: index shape ${fmtShape(index.shape)} exceeds input ${fmtShape(x.shape)} at dim ${d}`,
      );
    }
  }
  for (const v of index.data) {
    if (v < 0 || v >= x.shape[a])
      throw new ShapeError(`gather: index ${v} out of range for axis ${a} of size ${x.shape[a]}`);
  }
  return run('gather', gatherRule, [x, index], { axis: a });
}

const indexSelectRule: PrimitiveRule<{ axis: number }> = {
  nonDifferentiable: [1],
  forward: ([x, index], { axis }) => {
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const n = x.shape[axis];
    const k = index.size;
    const out = allocate(x.dtype, outer * k * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const src = (o * n + index.data[j]) * inner;
        const dst = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) out[dst + i] = x.data[src + i];
      }
    }
    const shape = [...x.shape];
    shape[axis] = k;
    return new Tensor(out, shape);
  },
  vjp: (g, { inputs: [x, index], attrs: { axis } }) => {
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const n = x.shape[axis];
    const k = index.size;
    const gx = allocate(g.dtype, x.size);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const dst = (o * n + index.data[j]) * inner;
        const src = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) gx[dst + i] += g.data[src + i];
      }
    }
    return [new Tensor(gx, x.shape), null];
  },
};

/** Selects entries `index` (1-D int32) along `axis` (like `torch.index_select`; embeddings use this). */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('indexSelect', index);
  if (index.ndim !== 1) throw new ShapeError(`indexSelect: index must be 1-D, got ${fmtShape(index.shape)}`);
  const a = normalizeAxis('indexSelect', axis, x.ndim);
  for (const v of index.data) {
    if (v < 0 || v >= x.shape[a]) {
      throw new ShapeError(`indexSelect: index ${v} out of range for axis ${a} of size ${x.shape[a]}`);
    }
  }
  return run('indexSelect', indexSelectRule, [x, index], { axis: a });
}

/** Converts to another dtype (a copy; gradients flow between float dtypes). */
export function to(x: Tensor, dtype: DType): Tensor {
  if (dtype === x.dtype) return x;
  return run('cast', castRule, [x], { dtype });
}

const castRule: PrimitiveRule<{ dtype: DType }> = {
  forward: ([x], { dtype }) => {
    const out = allocate(dtype, x.size);
    if (dtype === 'int32') for (let i = 0; i < x.size; i++) out[i] = Math.trunc(x.data[i]);
    else out.set(x.data);
    return new Tensor(out, x.shape);
  },
  vjp: (g, { inputs: [x] }) => (isFloat(x.dtype) ? [to(g, x.dtype)] : [null]),
};

/** The rules of this module, for the op table. */
export const basicRules = {
  add: addRule,
  sub: subRule,
  mul: mulRule,
  div: divRule,
  pow: powRule,
  maximum: maximumRule,
  minimum: minimumRule,
  neg: negRule,
  exp: expRule,
  log: logRule,
  sqrt: sqrtRule,
  abs: absRule,
  tanh: tanhRule,
  sigmoid: sigmoidRule,
  relu: reluRule,
  clamp: clampRule,
  where: whereRule,
  sum: sumRule,
  max: maxRule,
  min: minRule,
  reshape: reshapeRule,
  permute: permuteRule,
  expand: expandRule,
  slice: sliceRule,
  pad: padRule,
  concat: concatRule,
  gather: gatherRule,
  indexSelect: indexSelectRule,
  cast: castRule,
};
