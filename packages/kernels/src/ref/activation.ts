/**
 * Reference activation kernels: the unary ops and their gradients (incl. the sign straight-through
 * estimators), PReLU, softmax / log-softmax.
 */
import type { FloatArray, TypedArray, UnaryGradKernelOp, UnaryKernelOp } from '../contract.js';
import { notImplemented } from './pending.js';

export function unary(op: UnaryKernelOp, x: TypedArray, out: TypedArray, p0 = 0, p1 = 0): void {
  const n = x.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -x[i];
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      return;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
      return;
    case 'sign':
      // NOTE: ecgnn binary convention (@ecgnn/infer binary/conventions.ts): sign(x) = −1 iff x < 0, else +1;
      // so sign(0) = +1 and sign(NaN) = +1, exactly what the bit packer stores (bit 1 iff x < 0).
      for (let i = 0; i < n; i++) out[i] = x[i] < 0 ? -1 : 1;
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      return;
    case 'sigmoid':
      // Numerically stable logistic: never exponentiates a large positive number.
      for (let i = 0; i < n; i++) {
        const v = x[i];
        if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          out[i] = e / (1 + e);
        }
      }
      return;
    case 'relu':
      // max(x, 0) with NaN propagating (as PyTorch): NaN > 0 is false, so test NaN explicitly.
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v > 0 || Number.isNaN(v) ? v : 0;
      }
      return;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
      return;
    case 'reciprocal':
      for (let i = 0; i < n; i++) out[i] = 1 / x[i];
      return;
    default:
      notImplemented(`unary '${op}'`, p0, p1);
  }
}

export function unaryBackward(
  op: UnaryGradKernelOp,
  x: FloatArray,
  y: FloatArray,
  g: FloatArray,
  gx: FloatArray,
  p0 = 0,
  p1 = 0,
): void {
  notImplemented('unaryBackward', op, x, y, g, gx, p0, p1);
}

export function prelu(
  x: FloatArray,
  w: FloatArray,
  out: FloatArray,
  outer: number,
  channels: number,
  inner: number,
): void {
  notImplemented('prelu', x, w, out, outer, channels, inner);
}

export function preluBackward(
  x: FloatArray,
  w: FloatArray,
  g: FloatArray,
  gx: FloatArray | null,
  gw: FloatArray | null,
  outer: number,
  channels: number,
  inner: number,
): void {
  notImplemented('preluBackward', x, w, g, gx, gw, outer, channels, inner);
}

export function softmax(
  x: FloatArray,
  out: FloatArray,
  outer: number,
  reduce: number,
  inner: number,
  log: boolean,
): void {
  notImplemented('softmax', x, out, outer, reduce, inner, log);
}

export function softmaxBackward(
  y: FloatArray,
  g: FloatArray,
  gx: FloatArray,
  outer: number,
  reduce: number,
  inner: number,
  log: boolean,
): void {
  notImplemented('softmaxBackward', y, g, gx, outer, reduce, inner, log);
}
