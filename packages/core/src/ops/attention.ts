/**
 * Attention as composites of primitives (matmul, softmax, dropout): scaled dot-product attention and
 * batch-first functional multi-head attention. Gradients come from the primitives' rules.
 */
import { isFloat } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Generator } from '../random.js';
import { broadcastShapes } from '../shape.js';
import { Tensor } from '../tensor.js';
import { softmax } from './activations.js';
import { add, gt, mul, narrow, permute, reshape, where } from './basic.js';
import { arange } from './creation.js';
import { dropout } from './dropout.js';
import { linear, matmul, matmulT } from './matmul.js';

/** Options of {@link scaledDotProductAttention}. */
export interface ScaledDotProductAttentionOptions {
  /** Additive float mask broadcastable to [..., Lq, Lk] (0 to keep, −∞ to block), added to the scores. */
  attnMask?: Tensor | null;
  /** Causal masking with top-left alignment: query i attends key j iff j ≤ i (as PyTorch's is_causal). */
  isCausal?: boolean;
  /** Score scale; 1/√D by default. */
  scale?: number;
  /** Dropout probability on the attention weights (0 by default; pass 0 in evaluation). */
  dropoutP?: number;
  /** Generator of the dropout mask (the global default when omitted). */
  generator?: Generator;
}

/**
 * A [Lq, Lk] additive causal mask: 0 where key j ≤ query i, −∞ elsewhere (top-left aligned, like
 * `torch.ones(Lq, Lk).tril()` in PyTorch's `is_causal`).
 */
export function causalMask(lq: number, lk: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  // key index j [1, Lk] against query index i [Lq, 1], broadcast to [Lq, Lk]
  const later = gt(
    reshape(arange(lk, undefined, 1, { dtype }), [1, lk]),
    reshape(arange(lq, undefined, 1, { dtype }), [lq, 1]),
  );
  return where(later, Number.NEGATIVE_INFINITY, 0);
}

function checkFloat(op: string, what: string, t: Tensor, like?: Tensor): void {
  if (!(t instanceof Tensor)) throw new DTypeError(`${op}: ${what} must be a Tensor, got ${typeof t}`);
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: ${what} must be a float tensor, got ${t.dtype}`);
  if (like && t.dtype !== like.dtype) {
    throw new DTypeError(`${op}: ${what} dtype ${t.dtype} differs from query dtype ${like.dtype}`);
  }
}

/**
 * Scaled dot-product attention (`torch.nn.functional.scaled_dot_product_attention`):
 * softmax(q·kᵀ·scale + mask)·v for q [..., Lq, D], k [..., Lk, D], v [..., Lk, Dv] → [..., Lq, Dv]
 * (batch dimensions broadcast). With both `isCausal` and `attnMask`, both masks are applied.
 * A query row whose keys are all masked gives NaN, as in PyTorch.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: ScaledDotProductAttentionOptions = {},
): Tensor {
  const op = 'scaledDotProductAttention';
  checkFloat(op, 'query', q);
  checkFloat(op, 'key', k, q);
  checkFloat(op, 'value', v, q);
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) {
    throw new ShapeError(
      `${op}: query, key and value need rank ≥ 2 ([..., L, D]), got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`,
    );
  }
  const lq = q.shape[q.ndim - 2];
  const d = q.shape[q.ndim - 1];
  const lk = k.shape[k.ndim - 2];
  if (k.shape[k.ndim - 1] !== d) {
    throw new ShapeError(
      `${op}: query ${fmtShape(q.shape)} and key ${fmtShape(k.shape)} differ in the feature dimension (${d} vs ${k.shape[k.ndim - 1]})`,
    );
  }
  if (v.shape[v.ndim - 2] !== lk) {
    throw new ShapeError(
      `${op}: key ${fmtShape(k.shape)} and value ${fmtShape(v.shape)} differ in sequence length (${lk} vs ${v.shape[v.ndim - 2]})`,
    );
  }
  const batchQK = broadcastShapes(op, q.shape.slice(0, -2), k.shape.slice(0, -2));
  broadcastShapes(op, batchQK, v.shape.slice(0, -2));
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  if (!Number.isFinite(scale)) throw new ValueError(`${op}: scale must be finite, got ${scale}`);
  const p = opts.dropoutP ?? 0;
  if (!(p >= 0 && p <= 1)) throw new ValueError(`${op}: dropoutP must be in [0, 1], got ${p}`);

  let scores = mul(matmulT(q, k, false, true), scale);
  if (opts.isCausal) scores = add(scores, causalMask(lq, lk, q.dtype === 'float64' ? 'float64' : 'float32'));
  if (opts.attnMask) {
    const mask = opts.attnMask;
    if (!(mask instanceof Tensor) || !isFloat(mask.dtype)) {
      throw new DTypeError(
        `${op}: attnMask must be an additive float mask (0 to keep, -Infinity to block), got ${mask instanceof Tensor ? mask.dtype : typeof mask}`,
      );
    }
    if (mask.dtype !== q.dtype) {
      throw new DTypeError(`${op}: attnMask dtype ${mask.dtype} differs from query dtype ${q.dtype}`);
    }
    const target = [...batchQK, lq, lk];
    const b = broadcastShapes(op, mask.shape, target);
    if (b.length !== target.length || b.some((dd, i) => dd !== target[i])) {
      throw new ShapeError(
        `${op}: attnMask ${fmtShape(mask.shape)} does not broadcast to the scores ${fmtShape(target)}`,
      );
    }
    scores = add(scores, mask);
  }
  let weights = softmax(scores, -1);
  if (p > 0) weights = dropout(weights, p, true, opts.generator);
  return matmul(weights, v);
}

/** Options of {@link multiHeadAttention}. */
export interface MultiHeadAttentionOptions {
  /** Number of heads H; the embedding size E must be divisible by it. */
  numHeads: number;
  /** Packed query/key/value projection [3E, E] (rows 0..E−1 for queries, then keys, then values). */
  inProjWeight: Tensor;
  /** Packed projection bias [3E]. */
  inProjBias?: Tensor | null;
  /** Output projection [E, E]. */
  outProjWeight: Tensor;
  /** Output projection bias [E]. */
  outProjBias?: Tensor | null;
  /** Causal masking (query i attends keys j ≤ i). */
  isCausal?: boolean;
  /** Additive float mask broadcastable to [B, H, Lq, Lk] (e.g. [Lq, Lk]). */
  attnMask?: Tensor | null;
  /** Dropout on the attention weights (training only; default 0). */
  dropoutP?: number;
  /** Generator of the dropout mask. */
  generator?: Generator;
}

/**
 * Functional multi-head attention, batch-first (`torch.nn.MultiheadAttention` with batch_first=True,
 * kdim = vdim = E): query [B, Lq, E], key and value [B, Lk, E] → [B, Lq, E].
 * Q, K, V = linear projections with the packed `inProjWeight`; each of the H heads attends with
 * {@link scaledDotProductAttention} on E/H features; the heads are concatenated and projected by
 * `outProjWeight`. Self-attention (query === key === value) uses one packed projection.
 */
export function multiHeadAttention(
  query: Tensor,
  key: Tensor,
  value: Tensor,
  opts: MultiHeadAttentionOptions,
): Tensor {
  const op = 'multiHeadAttention';
  checkFloat(op, 'query', query);
  checkFloat(op, 'key', key, query);
  checkFloat(op, 'value', value, query);
  if (query.ndim !== 3 || key.ndim !== 3 || value.ndim !== 3) {
    throw new ShapeError(
      `${op}: expected batch-first query [B, Lq, E], key and value [B, Lk, E], got ${fmtShape(query.shape)}, ${fmtShape(key.shape)}, ${fmtShape(value.shape)}`,
    );
  }
  const [bsz, lq, e] = query.shape;
  const lk = key.shape[1];
  if (key.shape[0] !== bsz || value.shape[0] !== bsz || key.shape[2] !== e || value.shape[2] !== e) {
    throw new ShapeError(
      `${op}: key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must be [${bsz}, Lk, ${e}] to match query ${fmtShape(query.shape)}`,
    );
  }
  if (value.shape[1] !== lk) {
    throw new ShapeError(
      `${op}: key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} differ in sequence length`,
    );
  }
  const h = opts.numHeads;
  if (!Number.isInteger(h) || h <= 0 || e % h !== 0) {
    throw new ValueError(`${op}: embedding size ${e} must be divisible by numHeads (got ${h})`);
  }
  const { inProjWeight: wIn, outProjWeight: wOut } = opts;
  const bIn = opts.inProjBias ?? null;
  const bOut = opts.outProjBias ?? null;
  checkFloat(op, 'inProjWeight', wIn, query);
  checkFloat(op, 'outProjWeight', wOut, query);
  if (wIn.ndim !== 2 || wIn.shape[0] !== 3 * e || wIn.shape[1] !== e) {
    throw new ShapeError(`${op}: inProjWeight must be [${3 * e}, ${e}], got ${fmtShape(wIn.shape)}`);
  }
  if (wOut.ndim !== 2 || wOut.shape[0] !== e || wOut.shape[1] !== e) {
    throw new ShapeError(`${op}: outProjWeight must be [${e}, ${e}], got ${fmtShape(wOut.shape)}`);
  }
  if (bIn) {
    checkFloat(op, 'inProjBias', bIn, query);
    if (bIn.ndim !== 1 || bIn.shape[0] !== 3 * e)
      throw new ShapeError(`${op}: inProjBias must be [${3 * e}], got ${fmtShape(bIn.shape)}`);
  }
  if (bOut) {
    checkFloat(op, 'outProjBias', bOut, query);
    if (bOut.ndim !== 1 || bOut.shape[0] !== e)
      throw new ShapeError(`${op}: outProjBias must be [${e}], got ${fmtShape(bOut.shape)}`);
  }

  let q: Tensor;
  let k: Tensor;
  let v: Tensor;
  if (query === key && key === value) {
    // One packed projection [B, L, 3E], then split along the features.
    const qkv = linear(query, wIn, bIn);
    q = narrow(qkv, 2, 0, e);
    k = narrow(qkv, 2, e, e);
    v = narrow(qkv, 2, 2 * e, e);
  } else {
    const part = (t: Tensor | null, i: number) => (t === null ? null : narrow(t, 0, i * e, e));
    q = linear(query, part(wIn, 0) as Tensor, part(bIn, 0));
    k = linear(key, part(wIn, 1) as Tensor, part(bIn, 1));
    v = linear(value, part(wIn, 2) as Tensor, part(bIn, 2));
  }
  const hd = e / h;
  // [B, L, E] → [B, L, H, hd] → [B, H, L, hd]
  const heads = (t: Tensor, len: number) => permute(reshape(t, [bsz, len, h, hd]), [0, 2, 1, 3]);
  const attn = scaledDotProductAttention(heads(q, lq), heads(k, lk), heads(v, lk), {
    attnMask: opts.attnMask ?? null,
    isCausal: opts.isCausal ?? false,
    dropoutP: opts.dropoutP ?? 0,
    generator: opts.generator,
  });
  // [B, H, Lq, hd] → [B, Lq, H, hd] → [B, Lq, E]
  const merged = reshape(permute(attn, [0, 2, 1, 3]), [bsz, lq, e]);
  return linear(merged, wOut, bOut);
}
