/**
 * Per-sample output shapes of the @ecgnn/infer graph ops the exporter emits (docs/model-format.md, op table),
 * so emitters can look at the shape of the value they receive (a BatchNorm on `[C]` or `[C, L]`, a Flatten that
 * is a no-op, the length an adaptive pool divides). Only what an emitter needs is checked here; the reader's
 * graph checker (run by `saveModel`) is the authority on validity.
 */
import { conv1dOutputLength, resolvePadding1d } from '@ecgnn/kernels';
import { ExportError } from './errors.js';

/** Kind and per-sample shape of a graph value: `[channels, length]` or `[features]`. */
export interface ValueInfo {
  /** `float` values, or `bits` (±1 values packed along channels, the output of `sign`). */
  kind: 'float' | 'bits';
  /** Per-sample shape (no batch axis). */
  shape: number[];
}

type Padding = number | [number, number] | 'same' | 'valid';

function windowLength(
  where: string,
  inLength: number,
  kernelSize: number,
  attrs: Record<string, unknown>,
  defaultStride: number,
): number {
  const stride = (attrs.stride as number | undefined) ?? defaultStride;
  const dilation = (attrs.dilation as number | undefined) ?? 1;
  const [padLeft, padRight] = resolvePadding1d(
    (attrs.padding as Padding | undefined) ?? 0,
    kernelSize,
    dilation,
    stride,
  );
  const out = conv1dOutputLength({ inLength, kernelSize, stride, dilation, padLeft, padRight });
  if (out < 1) throw new ExportError(`${where}: a window of ${kernelSize} does not fit ${inLength} samples`);
  return out;
}

function rank(where: string, v: ValueInfo, r: number): void {
  if (v.shape.length !== r) {
    throw new ExportError(`${where}: expects a rank-${r} value per sample, got [${v.shape}]`);
  }
}

/**
 * The output of node `op` on `inputs`, or null for an op this table does not know (the emitter must then say
 * the output itself). Throws {@link ExportError} prefixed with `where` on inconsistent shapes.
 */
export function inferOutput(
  where: string,
  op: string,
  inputs: readonly ValueInfo[],
  attrs: Record<string, unknown>,
  tensors: Readonly<Record<string, { readonly shape: readonly number[] }>>,
): ValueInfo | null {
  const x = inputs[0];
  const same = (kind: ValueInfo['kind'] = 'float'): ValueInfo => ({ kind, shape: x.shape.slice() });
  switch (op) {
    case 'conv1d':
    case 'binaryConv1d': {
      rank(where, x, 2);
      const [O, , K] = tensors.weight.shape;
      let L = windowLength(where, x.shape[1], K, attrs, 1);
      const pool = attrs.pool as { kernelSize: number; stride?: number } | undefined;
      if (pool) L = Math.floor((L - pool.kernelSize) / (pool.stride ?? pool.kernelSize)) + 1;
      return { kind: tensors.threshold ? 'bits' : 'float', shape: [O, L] };
    }
    case 'maxPool1d':
    case 'avgPool1d': {
      rank(where, x, 2);
      const K = attrs.kernelSize as number;
      return { kind: 'float', shape: [x.shape[0], windowLength(where, x.shape[1], K, attrs, K)] };
    }
    case 'batchNorm':
    case 'relu':
    case 'prelu':
    case 'leakyRelu':
    case 'sigmoid':
    case 'tanh':
    case 'softmax':
    case 'squeezeExcitation':
      return same();
    case 'identity':
    case 'dropout':
      return same(x.kind);
    case 'sign':
      return same('bits');
    case 'globalAvgPool1d':
    case 'globalMaxPool1d':
    case 'sumOverTime':
      rank(where, x, 2);
      return { kind: 'float', shape: [x.shape[0]] };
    case 'flatten':
      return { kind: 'float', shape: [x.shape.reduce((a, b) => a * b, 1)] };
    case 'linear':
    case 'binaryLinear':
      rank(where, x, 1);
      return { kind: 'float', shape: [tensors.weight.shape[0]] };
    case 'add':
      return same();
    case 'concat': {
      const total = inputs.reduce((s, v) => s + v.shape[0], 0);
      for (const v of inputs) {
        if (v.shape.length !== x.shape.length || (x.shape.length === 2 && v.shape[1] !== x.shape[1])) {
          throw new ExportError(`${where}: cannot concatenate [${v.shape}] with [${x.shape}]`);
        }
      }
      return { kind: 'float', shape: x.shape.length === 2 ? [total, x.shape[1]] : [total] };
    }
    case 'attention': {
      rank(where, x, 2);
      const V = tensors.wv.shape[0];
      return { kind: 'float', shape: [attrs.concat ? x.shape[0] + V : V, x.shape[1]] };
    }
    default:
      return null;
  }
}
