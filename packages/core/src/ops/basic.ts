/**
 * The basic primitives: elementwise arithmetic and maths, comparisons, reductions and shape ops.
 * Each primitive's forward and its one gradient rule (vjp) sit side by side; their vjps use each other,
 * which is why they share one module.
 */
import { kernels } from '../backend/backend.js';
import type { BinaryKernelOp, CompareKernelOp, UnaryKernelOp } from '../backend/kernels.js';
import { allocate, copyStorage, type DType, isFloat } from '../dtype.js';
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
import { noGrad, Tensor } from '../tensor.js';

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
  if (!(x instanceof Tensor)) {
    const got =
      x === null ? 'null' : typeof x === 'object' ? ((x as object).constructor?.name ?? 'object') : typeof x;
    throw new DTypeError(`${op}: expected a Tensor or a number, got ${got}`);
  }
  return x;
}

function binaryOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number')
    return [scalarLike(a, 'float32'), scalarLike(b, 'float32')];
  const ta =
    typeof a === 'number' ? toTensor(op, a, toTensor(op, b, b as Tensor)) : toTensor(op, a, a as Tensor);
  const tb = toTensor(op, b, ta);
  if (ta.dtype !== tb.dtype) {
    throw new DTypeError(`${op}: dtypes differ (${ta.dtype} and ${tb.dtype}); convert one with .to(dtype)`);
  }
  return [ta, tb];
}

function requireFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new DTypeError(
      `${op}: expected a float tensor, got ${t.dtype} ${fmtShape(t.shape)}; convert with .to('float32')`,
    );
  }
}

function requireTensor(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    const got = x === null ? 'null' : typeof x === 'object' ? (x.constructor?.name ?? 'object') : typeof x;
    throw new DTypeError(`${op}: expected a Tensor, got ${got}`);
  }
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
  // d(a^b) = b a^(b−1) da + a^b ln(a) db.
  // NOTE: as PyTorch: the da term is 0 where b = 0 (a^0 is constant, even at a = 0 where b·a^(b−1) = 0·∞);
  // the db term is 0 where a = 0 (a^b ln a → 0 for b > 0) and NaN where a < 0 (a^b is not real-differentiable
  // in b there).
  vjp: (g, { inputs: [a, b], output, needsGrad }) => [
    needsGrad[0] ? sumTo(mul(g, where(eq(b, 0), 0, mul(b, pow(a, sub(b, 1))))), a.shape) : null,
    needsGrad[1] ? sumTo(mul(g, where(eq(a, 0), 0, mul(output, log(a)))), b.shape) : null,
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
/** Elementwise a / b with broadcasting (float dtypes only: int32 storage cannot hold a true quotient). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const ops = binaryOperands('div', a, b);
  requireFloat('div', ops[0]);
  return run('div', divRule, ops, undefined);
}
/** Elementwise a ** b with broadcasting (float dtypes only). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const ops = binaryOperands('pow', a, b);
  requireFloat('pow', ops[0]);
  return run('pow', powRule, ops, undefined);
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

function unaryOp(name: string, rule: PrimitiveRule<undefined>, x: Tensor, intOk = false): Tensor {
  requireTensor(name, x);
  if (!intOk) requireFloat(name, x);
  return run(name, rule, [x], undefined);
}

/** −x. */
export function neg(x: Tensor): Tensor {
  return unaryOp('neg', negRule, x, true);
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
  return unaryOp('abs', absRule, x, true);
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
  return unaryOp('relu', reluRule, x, true);
}

const clampRule: PrimitiveRule<{ min: number; max: number }> = {
  forward: ([x], { min, max }) => {
    const out = allocate(x.dtype, x.size);
    const d = x.data;
    // NaN stays NaN (Math.max/min propagate it).
    for (let i = 0; i < d.length; i++) out[i] = Math.min(Math.max(d[i], min), max);
    return new Tensor(out, x.shape);
  },
  // Gradient passes where min ≤ x ≤ max (inclusive, as PyTorch).
  vjp: (g, { inputs: [x], attrs: { min, max } }) => [mul(g, mul(ge(x, min), le(x, max)))],
};

/** Clamps every element into [min, max] (either bound may be omitted; NaN elements stay NaN). */
export function clamp(x: Tensor, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): Tensor {
  requireTensor('clamp', x);
  requireFloat('clamp', x);
  if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max)) {
    throw new ValueError(`clamp: bounds must be numbers (not NaN), got min ${min} and max ${max}`);
  }
  if (min > max) throw new ValueError(`clamp: min (${min}) is greater than max (${max})`);
  return run('clamp', clampRule, [x], { min, max });
}

const whereRule: PrimitiveRule<undefined> = {
  forward: ([c, a, b]) => {
    const shape = broadcastShapes('where', broadcastShapes('where', c.shape, a.shape), b.shape);
    const n = sizeOf(shape);
    const out = allocate(a.dtype, n);
    // Odometer over the output carrying one offset per operand (stride 0 on broadcast dimensions).
    const cs = broadcastStrides(c.shape, shape);
    const as = broadcastStrides(a.shape, shape);
    const bs = broadcastStrides(b.shape, shape);
    const nd = shape.length;
    const idx = new Array<number>(nd).fill(0);
    const cd = c.data;
    const ad = a.data;
    const bd = b.data;
    let ci = 0;
    let ai = 0;
    let bi = 0;
    for (let i = 0; i < n; i++) {
      out[i] = cd[ci] !== 0 ? ad[ai] : bd[bi];
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

/**
 * Elementwise `cond ? a : b` with broadcasting over all three. `cond` is a tensor of any dtype, non-zero
 * (and NaN) meaning true. `a` and `b` may be numbers: a number takes the other operand's dtype, or the
 * dtype of a float `cond` when both are numbers (float32 otherwise). Only `a` and `b` get gradients.
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (!(cond instanceof Tensor)) throw new DTypeError(`where: cond must be a Tensor, got ${typeof cond}`);
  let ta: Tensor;
  let tb: Tensor;
  if (typeof a === 'number' && typeof b === 'number') {
    const dt: DType = isFloat(cond.dtype) ? cond.dtype : 'float32';
    ta = scalarLike(a, dt);
    tb = scalarLike(b, dt);
  } else [ta, tb] = binaryOperands('where', a, b);
  broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
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
      ? new Tensor(
          r.data,
          x.shape.map(() => 1),
        )
      : r;
  }
  const ax = normalizeAxis(name, axis, x.ndim);
  if (x.shape[ax] === 0) {
    throw new ShapeError(`${name}: cannot reduce over empty axis ${ax} of ${fmtShape(x.shape)}`);
  }
  const outShape = reducedShape(x.shape, [ax], keepDims);
  const idx = new Int32Array(sizeOf(outShape));
  reduceForward(op, x, [ax], idx);
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
  for (let i = 0; i < m.data.length; i++) if (!Number.isFinite(m.data[i])) m.data[i] = 0;
  const s = log(sum(exp(sub(x, m)), ax, true));
  const r = add(s, m);
  return keepDims ? r : reshape(r, reducedShape(x.shape, ax, false));
}

function detachData(t: Tensor): Tensor {
  return new Tensor(copyStorage(t.data), t.shape);
}

// ---------------------------------------------------------------------------------------------------------
// Shape ops

const reshapeRule: PrimitiveRule<{ shape: number[] }> = {
  forward: ([x], { shape }) => new Tensor(copyStorage(x.data), shape),
  vjp: (g, { inputs: [x] }) => [reshape(g, x.shape)],
};

/** Same data, new shape (a copy); one dimension may be −1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  requireTensor('reshape', x);
  if (!Array.isArray(shape as unknown))
    throw new ShapeError(`reshape: shape must be an array, got ${typeof shape}`);
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
  requireTensor('permute', x);
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
    const n = sizeOf(shape);
    const out = allocate(x.dtype, n);
    if (n === 0) return new Tensor(out, shape);
    // Broadcast copy: odometer over the output with the input's strides (0 on broadcast dimensions).
    // A plain copy (not x + 0) so that −0 and NaN payloads survive unchanged.
    const st = broadcastStrides(x.shape, shape);
    const nd = shape.length;
    const src = x.data;
    if (nd === 0) {
      out[0] = src[0];
      return new Tensor(out, shape);
    }
    const len = shape[nd - 1];
    const s = st[nd - 1];
    const idx = new Array<number>(nd).fill(0);
    let si = 0;
    for (let o = 0; o < n; o += len) {
      for (let i = 0; i < len; i++) out[o + i] = src[si + i * s];
      for (let d = nd - 2; d >= 0; d--) {
        idx[d]++;
        si += st[d];
        if (idx[d] < shape[d]) break;
        si -= st[d] * shape[d];
        idx[d] = 0;
      }
    }
    return new Tensor(out, shape);
  },
  vjp: (g, { inputs: [x] }) => [sumTo(g, x.shape)],
};

/**
 * Broadcasts `x` to `shape` (NumPy rules: size-1 dimensions repeat, new dimensions are added in front),
 * materialising the result. −1 keeps an existing dimension; it is not allowed for new leading dimensions.
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  requireTensor('expand', x);
  if (!Array.isArray(shape as unknown))
    throw new ShapeError(`expand: shape must be an array, got ${typeof shape}`);
  const off = shape.length - x.ndim;
  if (off < 0)
    throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to fewer dimensions ${fmtShape(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= off ? x.shape[i - off] : d));
  for (const d of target) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(
        `expand: invalid target ${fmtShape(shape)} for ${fmtShape(x.shape)}: sizes must be non-negative integers (−1 only for existing dimensions)`,
      );
    }
  }
  for (let i = off; i < target.length; i++) {
    const d = x.shape[i - off];
    if (d !== 1 && d !== target[i])
      throw new ShapeError(
        `expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (dimension ${i})`,
      );
  }
  if (shapesEqual(target, x.shape)) return x;
  return run('expand', expandRule, [x], { shape: target });
}

/** Inserts a size-1 dimension at `axis` (in [−ndim−1, ndim]). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  requireTensor('unsqueeze', x);
  const a = normalizeAxis('unsqueeze', axis, x.ndim + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** Removes size-1 dimensions (all, or the given axes, which must have size 1). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  requireTensor('squeeze', x);
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

/** Flattens dimensions startDim..endDim (inclusive, startDim ≤ endDim after normalising) into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  requireTensor('flatten', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startDim, x.ndim);
  const e = normalizeAxis('flatten', endDim, x.ndim);
  if (s > e) {
    throw new ShapeError(
      `flatten: startDim ${startDim} comes after endDim ${endDim} for a tensor of shape ${fmtShape(x.shape)}`,
    );
  }
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
  requireTensor('slice', x);
  if (!Array.isArray(spec as unknown))
    throw new ValueError(`slice: spec must be an array of [start, end, step] entries`);
  if (spec.length > x.ndim)
    throw new ShapeError(`slice: ${spec.length} axes given for ${fmtShape(x.shape)} (rank ${x.ndim})`);
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  for (let d = 0; d < x.ndim; d++) {
    const n = x.shape[d];
    const s = spec[d] ?? null;
    if (s !== null && (!Array.isArray(s) || s.length > 3)) {
      throw new ValueError(`slice: entry for axis ${d} must be [start?, end?, step?] or null`);
    }
    const step = s?.[2] ?? 1;
    if (!Number.isInteger(step) || step <= 0)
      throw new ValueError(`slice: step must be a positive integer, got ${step} for axis ${d}`);
    const norm = (v: number | undefined | null, dflt: number) => {
      if (v === undefined || v === null) return dflt;
      if (!Number.isInteger(v)) throw new ValueError(`slice: index ${v} for axis ${d} is not an integer`);
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

/** The `length` elements from `start` along `axis` (like `torch.narrow`; start ≥ 0). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  requireTensor('narrow', x);
  const a = normalizeAxis('narrow', axis, x.ndim);
  if (!Number.isInteger(start) || !Number.isInteger(length)) {
    throw new ValueError(`narrow: start (${start}) and length (${length}) must be integers`);
  }
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
  requireTensor('pad', x);
  if (!Array.isArray(pads as unknown))
    throw new ValueError('pad: pads must be an array of [before, after] pairs');
  if (pads.length > x.ndim)
    throw new ShapeError(`pad: ${pads.length} pad pairs for ${fmtShape(x.shape)} (rank ${x.ndim})`);
  if (typeof value !== 'number') throw new ValueError(`pad: value must be a number, got ${typeof value}`);
  const full: Array<[number, number]> = x.shape.map(() => [0, 0]);
  pads.forEach((p, i) => {
    const axis = opts.allAxes ? i : x.ndim - 1 - i;
    if (!Array.isArray(p) || p.length !== 2) {
      throw new ValueError(`pad: entry ${i} must be a [before, after] pair, got ${JSON.stringify(p)}`);
    }
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

/** Joins tensors (same dtype, same shape outside `axis`) along an existing axis, into a new tensor. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs as unknown) || xs.length === 0)
    throw new ValueError('concat: needs a non-empty array of tensors');
  for (let i = 0; i < xs.length; i++) requireTensor(`concat (tensor ${i})`, xs[i]);
  if (xs[0].ndim === 0) throw new ShapeError('concat: rank-0 tensors cannot be concatenated; use stack');
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
  return run('concat', concatRule, xs, { axis: a });
}

/** Joins tensors of equal shape along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs as unknown) || xs.length === 0)
    throw new ValueError('stack: needs a non-empty array of tensors');
  for (let i = 0; i < xs.length; i++) requireTensor(`stack (tensor ${i})`, xs[i]);
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
  requireTensor('split', x);
  const a = normalizeAxis('split', axis, x.ndim);
  if (!Number.isInteger(size) || size <= 0)
    throw new ValueError(`split: size must be a positive integer, got ${size}`);
  const out: Tensor[] = [];
  for (let s = 0; s < x.shape[a]; s += size) out.push(narrow(x, a, s, Math.min(size, x.shape[a] - s)));
  return out;
}

function checkIndex(op: string, x: Tensor, index: Tensor): void {
  requireTensor(op, x);
  if (!(index instanceof Tensor))
    throw new DTypeError(`${op}: index must be an int32 Tensor, got ${typeof index}`);
  if (index.dtype !== 'int32') throw new DTypeError(`${op}: index must be int32, got ${index.dtype}`);
  if (x.ndim === 0) throw new ShapeError(`${op}: input must have at least one dimension, got shape []`);
}

/**
 * Flat offsets into x of every gathered element: off[i] = Σ_{d≠axis} idx_d(i)·stride_d + index[i]·stride_axis,
 * with an odometer over the index shape (no per-element division).
 */
function gatherOffsets(x: Tensor, index: Tensor, axis: number): Int32Array {
  const n = index.size;
  const offs = new Int32Array(n);
  if (n === 0) return offs;
  const shape = index.shape;
  const nd = shape.length;
  const xs = stridesOf(x.shape);
  const idx = index.data;
  const step = xs.map((s, d) => (d === axis ? 0 : s));
  const pos = new Array<number>(nd).fill(0);
  const sa = xs[axis];
  let base = 0;
  for (let i = 0; i < n; i++) {
    offs[i] = base + idx[i] * sa;
    for (let d = nd - 1; d >= 0; d--) {
      pos[d]++;
      base += step[d];
      if (pos[d] < shape[d]) break;
      base -= step[d] * shape[d];
      pos[d] = 0;
    }
  }
  return offs;
}

const gatherRule: PrimitiveRule<{ axis: number }> = {
  nonDifferentiable: [1],
  forward: ([x, index], { axis }, ctx) => {
    const offs = gatherOffsets(x, index, axis);
    ctx.save(offs);
    const out = allocate(x.dtype, offs.length);
    const src = x.data;
    for (let i = 0; i < offs.length; i++) out[i] = src[offs[i]];
    return new Tensor(out, index.shape);
  },
  // Scatter-add: repeated indices accumulate.
  vjp: (g, { inputs: [x], saved }) => {
    const offs = saved as Int32Array;
    const gx = allocate(g.dtype, x.size);
    const gd = g.data;
    for (let i = 0; i < offs.length; i++) gx[offs[i]] += gd[i];
    return [new Tensor(gx, x.shape), null];
  },
};

/**
 * `torch.gather`: out[i][j][k] = x[index[i][j][k]][j][k] for axis 0, etc. `index` is int32 with the same
 * rank as `x` and no larger in any dimension but `axis`.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('gather', x, index);
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
    if (v < 0 || v >= x.shape[a]) {
      throw new ShapeError(
        `gather: index ${v} out of range for axis ${a} of size ${x.shape[a]} (input ${fmtShape(x.shape)})`,
      );
    }
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
    const xd = x.data;
    const id = index.data;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const src = (o * n + id[j]) * inner;
        const dst = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) out[dst + i] = xd[src + i];
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
    const gd = g.data;
    const id = index.data;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const dst = (o * n + id[j]) * inner;
        const src = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) gx[dst + i] += gd[src + i];
      }
    }
    return [new Tensor(gx, x.shape), null];
  },
};

/** Selects entries `index` (1-D int32) along `axis` (like `torch.index_select`; embeddings use this). */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('indexSelect', x, index);
  if (index.ndim !== 1) throw new ShapeError(`indexSelect: index must be 1-D, got ${fmtShape(index.shape)}`);
  const a = normalizeAxis('indexSelect', axis, x.ndim);
  for (const v of index.data) {
    if (v < 0 || v >= x.shape[a]) {
      throw new ShapeError(
        `indexSelect: index ${v} out of range for axis ${a} of size ${x.shape[a]} (input ${fmtShape(x.shape)})`,
      );
    }
  }
  return run('indexSelect', indexSelectRule, [x, index], { axis: a });
}

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

/**
 * Converts to another dtype (a new tensor; the same tensor when the dtype already matches, as PyTorch).
 * Gradients flow between float dtypes; a cast to int32 truncates toward zero (NaN and ±∞ become 0, values
 * outside the int32 range wrap) and is not recorded for autograd.
 */
export function to(x: Tensor, dtype: DType): Tensor {
  requireTensor('to', x);
  if (!DTYPES.includes(dtype)) {
    throw new DTypeError(`to: unknown dtype '${String(dtype)}'; expected one of ${DTYPES.join(', ')}`);
  }
  if (dtype === x.dtype) return x;
  return run('cast', castRule, [x], { dtype });
}

const castRule: PrimitiveRule<{ dtype: DType }> = {
  forward: ([x], { dtype }) => {
    const out = allocate(dtype, x.size);
    // Int32Array assignment applies ToInt32 (truncation toward zero, NaN → 0); float targets convert.
    out.set(x.data);
    return new Tensor(out, x.shape);
  },
  // Identity on values: the gradient is cast back to the input's dtype.
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
