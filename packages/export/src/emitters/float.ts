/**
 * Emitters of the float layers: Conv1d, Linear, BatchNorm1d, activations, pools, Flatten, Dropout/Identity.
 * Each maps the module's evaluation-mode forward onto one @ecgnn/infer op (or none, for the identities).
 */
import { nn } from '@ecgnn/core';
import type { EmitContext, Emitter, ModuleClass } from '../context.js';
import { atPath, ExportError } from '../errors.js';
import { foldBatchNormIntoConv } from '../fold.js';
import { batchedAxis, floats, single } from './common.js';

/** The running statistics and affine parameters of an evaluation-mode BatchNorm1d (ExportError without them). */
function batchNormStats(
  bn: nn.BatchNorm1d,
  path: string,
): { mean: Float32Array; variance: Float32Array; gamma: Float32Array | null; beta: Float32Array | null } {
  if (bn.runningMean === null || bn.runningVar === null) {
    throw new ExportError(
      atPath(
        path,
        'BatchNorm1d without running statistics (trackRunningStats: false) normalises with batch statistics at inference; @ecgnn/infer has no such op',
      ),
    );
  }
  return {
    mean: floats(bn.runningMean),
    variance: floats(bn.runningVar),
    gamma: bn.weight ? floats(bn.weight) : null,
    beta: bn.bias ? floats(bn.bias) : null,
  };
}

/**
 * Weight and bias of a Conv1d or Linear with `bn` (the BatchNorm1d right after it) folded in, or null when
 * folding is not exact here: the BatchNorm has no running statistics or a different channel count, or the
 * folded values are not finite (a zero variance with eps 0).
 */
function foldedParams(
  weight: Float32Array,
  bias: Float32Array | null,
  outChannels: number,
  bn: nn.BatchNorm1d,
): { weight: Float32Array; bias: Float32Array } | null {
  if (bn.runningMean === null || bn.runningVar === null || bn.numFeatures !== outChannels) return null;
  const s = batchNormStats(bn, '');
  const f = foldBatchNormIntoConv(weight, bias, outChannels, s.mean, s.variance, s.gamma, s.beta, bn.eps);
  for (const v of f.weight) if (!Number.isFinite(v)) return null;
  for (const v of f.bias) if (!Number.isFinite(v)) return null;
  return f;
}

/** The attributes of a conv1d node for convolution hyper-parameters (defaults left out). */
export function convAttrs(h: nn.ConvHyper): Record<string, unknown> {
  const padding = typeof h.padding === 'object' ? [h.padding[0], h.padding[1]] : h.padding;
  return {
    stride: h.stride !== 1 ? h.stride : undefined,
    padding: padding !== 0 ? padding : undefined,
    dilation: h.dilation !== 1 ? h.dilation : undefined,
    groups: h.groups !== 1 ? h.groups : undefined,
    padValue: h.padValue !== 0 ? h.padValue : undefined,
  };
}

/**
 * A Conv1d as one `conv1d` node; with `batchNorm` (an evaluation-mode BatchNorm1d right after it) folded into
 * its weights and bias when that is exact, else followed by a standalone `batchNorm` node.
 */
export function emitConv1d(
  ctx: EmitContext,
  conv: nn.Conv1d,
  x: string,
  path: string,
  batchNorm?: { module: nn.BatchNorm1d; path: string },
): string {
  const [C] = ctx.graph.shape(x);
  if (C !== conv.inChannels) {
    throw new ExportError(
      atPath(path, `Conv1d expects ${conv.inChannels} input channels, the value has ${C}`),
    );
  }
  let weight = floats(conv.weight);
  let bias = conv.bias ? floats(conv.bias) : null;
  const folded = batchNorm ? foldedParams(weight, bias, conv.outChannels, batchNorm.module) : null;
  if (folded) ({ weight, bias } = folded);
  const g = ctx.graph;
  const tensors: Record<string, string> = {
    weight: g.floatTensor(`${path}.weight`, conv.weight.shape, weight, 'weight'),
  };
  if (bias) tensors.bias = g.floatTensor(`${path}.bias`, [conv.outChannels], bias, 'param');
  const y = g.node('conv1d', [x], path, { attrs: convAttrs(conv.hyper), tensors });
  return batchNorm && !folded ? emitBatchNorm(ctx, batchNorm.module, y, batchNorm.path) : y;
}

/** A Linear on a `[F]` value as one `linear` node, with a following BatchNorm1d folded in as {@link emitConv1d}. */
export function emitLinear(
  ctx: EmitContext,
  lin: nn.Linear,
  x: string,
  path: string,
  batchNorm?: { module: nn.BatchNorm1d; path: string },
): string {
  const shape = ctx.graph.shape(x);
  if (shape.length !== 1) {
    throw new ExportError(
      atPath(
        path,
        `Linear on a [${shape}] value applies over the last (time) axis; @ecgnn/infer's linear takes a [features] vector (pool or flatten first)`,
      ),
    );
  }
  if (shape[0] !== lin.inFeatures) {
    throw new ExportError(
      atPath(path, `Linear expects ${lin.inFeatures} features, the value has ${shape[0]}`),
    );
  }
  let weight = floats(lin.weight);
  let bias = lin.bias ? floats(lin.bias) : null;
  const folded = batchNorm ? foldedParams(weight, bias, lin.outFeatures, batchNorm.module) : null;
  if (folded) ({ weight, bias } = folded);
  const g = ctx.graph;
  const tensors: Record<string, string> = {
    weight: g.floatTensor(`${path}.weight`, [lin.outFeatures, lin.inFeatures], weight, 'weight'),
  };
  if (bias) tensors.bias = g.floatTensor(`${path}.bias`, [lin.outFeatures], bias, 'param');
  const y = g.node('linear', [x], path, { tensors });
  return batchNorm && !folded ? emitBatchNorm(ctx, batchNorm.module, y, batchNorm.path) : y;
}

/** A standalone evaluation-mode BatchNorm1d on a `[C, L]` or `[C]` value: one `batchNorm` node. */
export function emitBatchNorm(ctx: EmitContext, bn: nn.BatchNorm1d, x: string, path: string): string {
  const shape = ctx.graph.shape(x);
  if (shape[0] !== bn.numFeatures) {
    throw new ExportError(atPath(path, `BatchNorm1d(${bn.numFeatures}) on a value of shape [${shape}]`));
  }
  const s = batchNormStats(bn, path);
  const g = ctx.graph;
  const C = bn.numFeatures;
  const tensors: Record<string, string> = {
    mean: g.floatTensor(`${path}.runningMean`, [C], s.mean, 'param'),
    var: g.floatTensor(`${path}.runningVar`, [C], s.variance, 'param'),
  };
  if (s.gamma) tensors.weight = g.floatTensor(`${path}.weight`, [C], s.gamma, 'param');
  if (s.beta) tensors.bias = g.floatTensor(`${path}.bias`, [C], s.beta, 'param');
  return g.node('batchNorm', [x], path, { attrs: { eps: bn.eps }, tensors });
}

const conv1d: Emitter<nn.Conv1d> = (ctx, m, inputs, path) =>
  emitConv1d(ctx, m, single(inputs, path, 'Conv1d'), path);

const linear: Emitter<nn.Linear> = (ctx, m, inputs, path) =>
  emitLinear(ctx, m, single(inputs, path, 'Linear'), path);

const batchNorm: Emitter<nn.BatchNorm1d> = (ctx, m, inputs, path) =>
  emitBatchNorm(ctx, m, single(inputs, path, 'BatchNorm1d'), path);

/** An op without tensors or attributes (relu, sigmoid, tanh). */
function plain(op: string, what: string): Emitter {
  return (ctx, _m, inputs, path) => ctx.graph.node(op, [single(inputs, path, what)], path);
}

const leakyRelu: Emitter<nn.LeakyReLU> = (ctx, m, inputs, path) =>
  ctx.graph.node('leakyRelu', [single(inputs, path, 'LeakyReLU')], path, {
    attrs: { negativeSlope: m.negativeSlope },
  });

const prelu: Emitter<nn.PReLU> = (ctx, m, inputs, path) => {
  const x = single(inputs, path, 'PReLU');
  const C = ctx.graph.shape(x)[0];
  if (m.numSlopes !== 1 && m.numSlopes !== C) {
    throw new ExportError(atPath(path, `PReLU with ${m.numSlopes} slopes on a value with ${C} channels`));
  }
  const weight = ctx.graph.floatTensor(`${path}.weight`, [m.numSlopes], floats(m.weight), 'param');
  return ctx.graph.node('prelu', [x], path, { tensors: { weight } });
};

const softmax: Emitter<nn.Softmax> = (ctx, m, inputs, path) => {
  const x = single(inputs, path, 'Softmax');
  const rank = ctx.graph.shape(x).length;
  if (batchedAxis(m.dim, rank) !== 1) {
    throw new ExportError(
      atPath(
        path,
        `Softmax over axis ${m.dim} of a rank-${rank + 1} batch; @ecgnn/infer's softmax is over channels (axis 1)`,
      ),
    );
  }
  return ctx.graph.node('softmax', [x], path);
};

/** MaxPool1d / AvgPool1d: one pooling node (infer needs padding ≤ kernel/2, as PyTorch). */
function pool(op: 'maxPool1d' | 'avgPool1d'): Emitter<nn.MaxPool1d | nn.AvgPool1d> {
  return (ctx, m, inputs, path) => {
    const x = single(inputs, path, m.constructor.name);
    if (m instanceof nn.AvgPool1d && m.padding > 0 && !m.countIncludePad) {
      throw new ExportError(
        atPath(
          path,
          'AvgPool1d with countIncludePad false and padding: @ecgnn/infer counts the padded zeros',
        ),
      );
    }
    return ctx.graph.node(op, [x], path, {
      attrs: {
        kernelSize: m.kernelSize,
        stride: m.stride,
        padding: m.padding !== 0 ? m.padding : undefined,
      },
    });
  };
}

const adaptiveAvgPool: Emitter<nn.AdaptiveAvgPool1d> = (ctx, m, inputs, path) => {
  const x = single(inputs, path, 'AdaptiveAvgPool1d');
  const [, L] = ctx.graph.shape(x);
  if (L % m.outputSize !== 0) {
    throw new ExportError(
      atPath(
        path,
        `AdaptiveAvgPool1d(${m.outputSize}) on ${L} samples has unequal bins; exportable only when the length is a multiple of the output size`,
      ),
    );
  }
  const k = L / m.outputSize;
  return ctx.graph.node('avgPool1d', [x], path, { attrs: { kernelSize: k, stride: k } });
};

const globalAvgPool: Emitter<nn.GlobalAvgPool1d> = (ctx, m, inputs, path) => {
  if (m.keepDim) {
    throw new ExportError(
      atPath(
        path,
        'GlobalAvgPool1d with keepDim gives [C, 1]; @ecgnn/infer pools to a [C] vector (keepDim false)',
      ),
    );
  }
  return ctx.graph.node('globalAvgPool1d', [single(inputs, path, 'GlobalAvgPool1d')], path);
};

const flatten: Emitter<nn.Flatten> = (ctx, m, inputs, path) => {
  const x = single(inputs, path, 'Flatten');
  const rank = ctx.graph.shape(x).length;
  const start = batchedAxis(m.startDim, rank);
  const end = batchedAxis(m.endDim, rank);
  if (start === end) return x;
  if (start === 1 && end === rank) return rank === 1 ? x : ctx.graph.node('flatten', [x], path);
  throw new ExportError(
    atPath(
      path,
      `Flatten(${m.startDim}, ${m.endDim}) of a rank-${rank + 1} batch; @ecgnn/infer flattens all per-sample axes only`,
    ),
  );
};

/** Dropout and Identity: the identity at inference, so no node. */
const passThrough: Emitter = (_ctx, m, inputs, path) => single(inputs, path, m.constructor.name);

/** The float-layer emitters, by module class. */
export const FLOAT_EMITTERS: ReadonlyArray<readonly [ModuleClass, Emitter]> = [
  [nn.Conv1d, conv1d as Emitter],
  [nn.Linear, linear as Emitter],
  [nn.BatchNorm1d, batchNorm as Emitter],
  [nn.ReLU, plain('relu', 'ReLU')],
  [nn.Sigmoid, plain('sigmoid', 'Sigmoid')],
  [nn.Tanh, plain('tanh', 'Tanh')],
  [nn.LeakyReLU, leakyRelu as Emitter],
  [nn.PReLU, prelu as Emitter],
  [nn.Softmax, softmax as Emitter],
  [nn.MaxPool1d, pool('maxPool1d') as Emitter],
  [nn.AvgPool1d, pool('avgPool1d') as Emitter],
  [nn.AdaptiveAvgPool1d, adaptiveAvgPool as Emitter],
  [nn.GlobalAvgPool1d, globalAvgPool as Emitter],
  [nn.Flatten, flatten as Emitter],
  [nn.Dropout, passThrough],
  [nn.Identity, passThrough],
];
