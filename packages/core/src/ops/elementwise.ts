/**
 * Elementwise primitives: arithmetic with broadcasting (add … minimum), unary maths (neg … relu, clamp) and
 * comparisons (eq … ge). Each forward is one kernel call; each primitive's gradient rule (vjp) sits next to it.
 */
import { kernels } from '../backend/backend.js';
import type { BinaryKernelOp, CompareKernelOp, UnaryKernelOp } from '../backend/kernels.js';
import { ValueError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { broadcastShapes, broadcastStrides } from '../shape.js';
import { Tensor } from '../tensor.js';
import { unaryGrad } from './activations.js';
import { where } from './indexing.js';
import {
  binaryOperands,
  outputStorage,
  requireFloat,
  requireTensor,
  sumToShape as sumTo,
  type TensorLike,
} from './operands.js';

export type { TensorLike } from './operands.js';

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
  }
}

function binaryForward(op: BinaryKernelOp): PrimitiveRule<undefined>['forward'] {
  return ([a, b]) => {
    const shape = broadcastShapes(op, a.shape, b.shape);
    const out = outputStorage(op, a.dtype, shape);
    kernels().binary(
      op,
      a.storage,
      broadcastStrides(a.shape, shape),
      b.storage,
      broadcastStrides(b.shape, shape),
      out,
      shape,
    );
    return new Tensor(out, shape);
  };
}

function unaryForward(op: UnaryKernelOp): PrimitiveRule<undefined>['forward'] {
  return ([x]) => {
    const out = outputStorage(op, x.dtype, x.shape);
    kernels().unary(op, x.storage, out);
    return new Tensor(out, x.shape);
  };
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
// d|x| = sign(x), with 0 at x = 0 (the subgradient PyTorch uses): g·([x > 0] − [x < 0]) in one unaryBackward
// call (the same products by ±1 or 0 as the composition; test/elementwise-grad.test.ts checks against it)
const absRule = unaryRule('abs', (g, { inputs: [x], output }) => [unaryGrad('abs', x, output, g)]);
// d tanh = 1 − tanh²
const tanhRule = unaryRule('tanh', (g, { output }) => [mul(g, sub(1, mul(output, output)))]);
// d σ = σ (1 − σ)
const sigmoidRule = unaryRule('sigmoid', (g, { output }) => [mul(g, mul(output, sub(1, output)))]);
// d relu = 1 where x > 0 (0 at the kink, as PyTorch): g·[x > 0] in one unaryBackward call instead of the
// comparison, its mask tensor and a product (test/elementwise-grad.test.ts checks it against that composition)
const reluRule = unaryRule('relu', (g, { inputs: [x], output }) => [unaryGrad('relu', x, output, g)]);

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
    const out = outputStorage('clamp', x.dtype, x.shape);
    // min(max(x, lo), hi); NaN stays NaN.
    kernels().unary('clamp', x.storage, out, min, max);
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

// ---------------------------------------------------------------------------------------------------------
// Comparisons (no gradient): 1 where true, 0 where false, in the dtype of the operands.

function compareOp(op: CompareKernelOp, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = binaryOperands(op, a, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  const out = outputStorage(op, ta.dtype, shape);
  kernels().compare(
    op,
    ta.storage,
    broadcastStrides(ta.shape, shape),
    tb.storage,
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

/** The rules of this module, for the op table. */
export const elementwiseRules = {
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
};
