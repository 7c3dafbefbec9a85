import { kernels } from '../backend/backend.js';
import { allocateUninitialized, type FloatArray, isFloat } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { broadcastShapes, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add as addBias, expand, reshape, squeeze, sumTo, unsqueeze } from './basic.js';

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    matmul: MatmulAttrs;
  }
}

/** Attributes of the matmul primitive: out = op(A) · op(B), op = transpose of the last two dims when set. */
export interface MatmulAttrs {
  transA: boolean;
  transB: boolean;
}

function dims(t: Tensor, trans: boolean): [number, number] {
  const r = t.shape[t.ndim - 2];
  const c = t.shape[t.ndim - 1];
  return trans ? [c, r] : [r, c];
}

const matmulRule: PrimitiveRule<MatmulAttrs> = {
  forward: ([a, b], { transA, transB }) => {
    const [m, k] = dims(a, transA);
    const [, n] = dims(b, transB);
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const batchShape = broadcastShapes('matmul', batchA, batchB);
    const batch = sizeOf(batchShape);
    let A = a;
    let B = b;
    let aStride = m * k;
    let bStride = k * n;
    // One operand broadcast over the whole batch uses stride 0; partial broadcasts are materialised.
    if (sizeOf(batchA) === 1) aStride = 0;
    else if (sizeOf(batchA) !== batch) A = expand(a, [...batchShape, ...a.shape.slice(-2)]);
    if (sizeOf(batchB) === 1) bStride = 0;
    else if (sizeOf(batchB) !== batch) B = expand(b, [...batchShape, ...b.shape.slice(-2)]);
    // every output element is assigned by the kernel (tested with NaN-poisoned recycled storage)
    const out = allocateUninitialized(a.dtype, batch * m * n, 'matmul', [...batchShape, m, n]) as FloatArray;
    kernels().matmul(A.storage as FloatArray, B.storage as FloatArray, out, {
      batch,
      m,
      k,
      n,
      transA,
      transB,
      batchStrideA: aStride,
      batchStrideB: bStride,
    });
    return new Tensor(out, [...batchShape, m, n]);
  },
  // out = op(A)·op(B):  dop(A) = g·op(B)ᵀ,  dop(B) = op(A)ᵀ·g, transposed back when op is a transpose.
  vjp: (g, { inputs: [a, b], attrs: { transA, transB }, needsGrad }) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needsGrad[0]) {
      ga = transA ? matmulT(b, g, transB, true) : matmulT(g, b, false, !transB);
      ga = sumTo(ga, a.shape);
    }
    if (needsGrad[1]) {
      gb = transB ? matmulT(g, a, true, transA) : matmulT(a, g, !transA, false);
      gb = sumTo(gb, b.shape);
    }
    return [ga, gb];
  },
};

/** op(a) · op(b) for tensors of rank ≥ 2 (batch dimensions broadcast). */
export function matmulT(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  if (a.dtype !== b.dtype) throw new DTypeError(`matmul: dtypes differ (${a.dtype} and ${b.dtype})`);
  if (!isFloat(a.dtype)) throw new DTypeError(`matmul: expected float tensors, got ${a.dtype}`);
  if (a.ndim < 2 || b.ndim < 2) {
    throw new ShapeError(`matmul: operands need rank ≥ 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const [, ka] = dims(a, transA);
  const [kb] = dims(b, transB);
  if (ka !== kb) {
    throw new ShapeError(
      `matmul: inner dimensions differ: ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} · ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''} (${ka} vs ${kb})`,
    );
  }
  return run('matmul', matmulRule, [a, b], { transA, transB });
}

/**
 * Matrix product with NumPy/PyTorch semantics: 1-D operands are promoted (and the added dimension
 * removed), batch dimensions broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(`matmul: scalars are not allowed (${fmtShape(a.shape)}, ${fmtShape(b.shape)})`);
  }
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b;
  let out = matmulT(a2, b2);
  if (a.ndim === 1) out = squeeze(out, out.ndim - 2);
  if (b.ndim === 1) out = squeeze(out, out.ndim - 1);
  return out;
}

/** y = x · Wᵀ + b with W of shape [out, in] (PyTorch's layout). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2)
    throw new ShapeError(`linear: weight must be 2-D [out, in], got ${fmtShape(weight.shape)}`);
  if (x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new ShapeError(
      `linear: input features ${x.shape[x.ndim - 1]} (input ${fmtShape(x.shape)}) differ from weight in-features ${weight.shape[1]} (weight ${fmtShape(weight.shape)})`,
    );
  }
  const x2 = x.ndim === 1 ? unsqueeze(x, 0) : x;
  const lead = x2.shape.slice(0, -1);
  const flat = reshape(x2, [sizeOf(lead), x2.shape[x2.ndim - 1]]);
  let y = matmulT(flat, weight, false, true);
  if (bias) {
    if (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]) {
      throw new ShapeError(
        `linear: bias ${fmtShape(bias.shape)} does not match out-features ${weight.shape[0]}`,
      );
    }
    y = addBias(y, bias);
  }
  const out = reshape(y, [...lead, weight.shape[0]]);
  return x.ndim === 1 ? squeeze(out, 0) : out;
}

/** The rules of this module, for the op table. */
export const matmulRules = { matmul: matmulRule };
