/**
 * Convolution and pooling primitives over NCL tensors ([batch, channels, length]), with PyTorch semantics:
 * conv1d (stride, padding incl. 'same'/'valid'/asymmetric, dilation, groups, constant pad value), max/average
 * pooling, adaptive pooling and global average pooling. Each primitive's forward and gradient rule sit side by
 * side; all heavy compute goes through `kernels()` so another backend can take it over.
 */
import { conv1dOutputLength, resolvePadding1d, type Window1d } from '@ecgnn/kernels';
import { kernels } from '../backend/backend.js';
import type { Conv1dParams, Pool1dParams } from '../backend/kernels.js';
import { allocate, allocateUninitialized, type FloatArray, isFloat } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { Tensor } from '../tensor.js';
import { mean, squeeze, sum, unsqueeze } from './basic.js';

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    conv1d: Conv1dAttrs;
    maxPool1d: MaxPool1dAttrs;
    avgPool1d: AvgPool1dAttrs;
    adaptiveAvgPool1d: AdaptivePool1dAttrs;
    adaptiveMaxPool1d: AdaptivePool1dAttrs;
  }
}

/** Normalised attributes of the conv1d primitive. */
export interface Conv1dAttrs {
  /** Step between output positions. */
  stride: number;
  /** Padding before the signal. */
  padLeft: number;
  /** Padding after the signal. */
  padRight: number;
  /** Spacing between kernel taps. */
  dilation: number;
  /** Number of channel groups. */
  groups: number;
  /** Constant the input is padded with (0 normally, +1 for binary networks). */
  padValue: number;
}

/** Normalised attributes of the maxPool1d primitive. */
export interface MaxPool1dAttrs {
  /** Window length. */
  kernelSize: number;
  /** Step between windows. */
  stride: number;
  /** −∞ padding on each side. */
  padding: number;
  /** Spacing between window elements. */
  dilation: number;
  /** Output length rounded up (PyTorch ceil_mode). */
  ceilMode: boolean;
}

/** Normalised attributes of the avgPool1d primitive. */
export interface AvgPool1dAttrs {
  /** Window length. */
  kernelSize: number;
  /** Step between windows. */
  stride: number;
  /** Zero padding on each side. */
  padding: number;
  /** Output length rounded up (PyTorch ceil_mode). */
  ceilMode: boolean;
  /** Padded zeros count in the divisor. */
  countIncludePad: boolean;
}

/** Attributes of the adaptive pooling primitives. */
export interface AdaptivePool1dAttrs {
  /** Number of output positions. */
  outputSize: number;
}

/** Options of {@link conv1d}. */
export interface Conv1dOptions {
  /** Step between output positions (default 1). */
  stride?: number;
  /**
   * Padding: the same number on both sides, `[left, right]`, 'valid' (none) or 'same' (output length =
   * input length, stride 1 only; total d·(K−1), ⌊total/2⌋ on the left as PyTorch). Default 0.
   */
  padding?: number | 'same' | 'valid' | readonly [number, number];
  /** Spacing between kernel taps (default 1). */
  dilation?: number;
  /** Channel groups: input and output channels are split into `groups` independent blocks (default 1). */
  groups?: number;
  /**
   * Constant the input is padded with (default 0). Binary networks pad with +1 (see the binary conventions
   * of @ecgnn/infer); padded positions add padValue·w to the output and padValue·g to the weight gradient.
   */
  padValue?: number;
}

function requireInt(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    const what = min > 0 ? 'a positive integer' : 'a non-negative integer';
    throw new ValueError(`${op}: ${name} must be ${what}, got ${String(v)}`);
  }
  return v;
}

function requireTensor(op: string, name: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${name} must be a Tensor, got ${typeof t}`);
  return t;
}

// ---------------------------------------------------------------------------------------------------------
// conv1d

function convParams(x: Tensor, w: Tensor, a: Conv1dAttrs): Conv1dParams {
  const [batch, inChannels, inLength] = x.shape;
  const [outChannels, , kernelSize] = w.shape;
  return {
    batch,
    inChannels,
    outChannels,
    inLength,
    outLength: conv1dOutputLength({ inLength, kernelSize, ...a }),
    kernelSize,
    stride: a.stride,
    dilation: a.dilation,
    padLeft: a.padLeft,
    groups: a.groups,
    padValue: a.padValue,
  };
}

const conv1dRule: PrimitiveRule<Conv1dAttrs> = {
  forward: (inputs, attrs) => {
    const [x, w, b] = inputs;
    const p = convParams(x, w, attrs);
    // every output element is assigned by the kernel (tested with NaN-poisoned recycled storage)
    const out = allocateUninitialized(x.dtype, p.batch * p.outChannels * p.outLength, 'conv1d', [
      p.batch,
      p.outChannels,
      p.outLength,
    ]) as FloatArray;
    kernels().conv1dForward(
      x.storage as FloatArray,
      w.storage as FloatArray,
      b === undefined ? null : (b.storage as FloatArray),
      out,
      p,
    );
    return new Tensor(out, [p.batch, p.outChannels, p.outLength]);
  },
  // Input gradient: transposed convolution of g (kernel conv1dBackwardInput); weight gradient: correlation
  // of g with the padded input (conv1dBackwardWeight); bias gradient: Σ over batch and length of g.
  vjp: (g, { inputs, attrs, needsGrad }) => {
    const [x, w, b] = inputs;
    const p = convParams(x, w, attrs);
    const gd = g.storage as FloatArray;
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    if (needsGrad[0]) {
      // Uninitialized: the contract's conv1dBackwardInput overwrites every element (padded positions get none).
      const d = allocateUninitialized(x.dtype, x.size) as FloatArray;
      kernels().conv1dBackwardInput(gd, w.storage as FloatArray, d, p);
      gx = new Tensor(d, x.shape);
    }
    if (needsGrad[1]) {
      const d = allocateUninitialized(w.dtype, w.size) as FloatArray; // overwritten (the contract's rule)
      kernels().conv1dBackwardWeight(x.storage as FloatArray, gd, d, p);
      gw = new Tensor(d, w.shape);
    }
    if (b === undefined) return [gx, gw];
    return [gx, gw, needsGrad[2] ? sum(g, [0, 2]) : null];
  },
};

/**
 * Checks a padding option (a {@link ValueError} naming the op and the bad value) and resolves it to
 * `[left, right]` with the one resolver of `@ecgnn/kernels` ('same': total d·(K−1), the smaller half on the left).
 */
function resolvePadding(
  op: string,
  padding: Conv1dOptions['padding'],
  kernelSize: number,
  dilation: number,
  stride: number,
): [number, number] {
  if (padding === undefined) return [0, 0];
  if (padding === 'same' && stride !== 1) {
    throw new ValueError(`${op}: padding 'same' needs stride 1 (got stride ${stride}), as in PyTorch`);
  }
  if (typeof padding === 'number') requireInt(op, 'padding', padding, 0);
  else if (Array.isArray(padding) && padding.length === 2) {
    requireInt(op, 'padding[0]', padding[0], 0);
    requireInt(op, 'padding[1]', padding[1], 0);
  } else if (padding !== 'same' && padding !== 'valid') {
    throw new ValueError(
      `${op}: padding must be a non-negative integer, [left, right], 'same' or 'valid', got ${JSON.stringify(padding)}`,
    );
  }
  return resolvePadding1d(padding, kernelSize, dilation, stride);
}

/**
 * 1-D convolution (cross-correlation, as PyTorch's `conv1d`): out[b, o, t] = bias[o] +
 * Σ_{c in group(o)} Σ_k weight[o, c, k] · x_pad[b, c, t·stride + k·dilation].
 *
 * @param x input [batch, inChannels, length] (or [inChannels, length], unbatched)
 * @param weight [outChannels, inChannels/groups, kernelSize]
 * @param bias optional [outChannels]
 * @returns [batch, outChannels, outLength] with outLength = ⌊(L + padL + padR − dilation·(K−1) − 1)/stride⌋ + 1
 * @throws ShapeError for ranks, channel counts, weight/bias shapes or a kernel longer than the padded input;
 *   ValueError for non-positive stride/dilation/groups, negative padding, 'same' with stride > 1;
 *   DTypeError for non-float or mismatched dtypes.
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  requireTensor(op, 'input', x);
  requireTensor(op, 'weight', weight);
  if (bias !== undefined && bias !== null) requireTensor(op, 'bias', bias);
  if (x.ndim === 2) return squeeze(conv1d(unsqueeze(x, 0), weight, bias, opts), 0);
  if (x.ndim !== 3) {
    throw new ShapeError(
      `${op}: input must be 3-D [batch, channels, length] (or 2-D unbatched), got ${fmtShape(x.shape)}`,
    );
  }
  if (weight.ndim !== 3) {
    throw new ShapeError(
      `${op}: weight must be 3-D [outChannels, inChannels/groups, kernelSize], got ${fmtShape(weight.shape)}`,
    );
  }
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a float input, got ${x.dtype}`);
  if (weight.dtype !== x.dtype) {
    throw new DTypeError(`${op}: weight dtype ${weight.dtype} differs from input dtype ${x.dtype}`);
  }
  if (bias && bias.dtype !== x.dtype) {
    throw new DTypeError(`${op}: bias dtype ${bias.dtype} differs from input dtype ${x.dtype}`);
  }
  const stride = requireInt(op, 'stride', opts.stride ?? 1, 1);
  const dilation = requireInt(op, 'dilation', opts.dilation ?? 1, 1);
  const groups = requireInt(op, 'groups', opts.groups ?? 1, 1);
  const padValue = opts.padValue ?? 0;
  if (typeof padValue !== 'number' || !Number.isFinite(padValue)) {
    throw new ValueError(`${op}: padValue must be a finite number, got ${String(padValue)}`);
  }
  const [, cin, length] = x.shape;
  const [cout, cinG, K] = weight.shape;
  const shapes = `input ${fmtShape(x.shape)}, weight ${fmtShape(weight.shape)}`;
  if (cin % groups !== 0) {
    throw new ShapeError(`${op}: input channels ${cin} are not divisible by groups ${groups} (${shapes})`);
  }
  if (cout % groups !== 0) {
    throw new ShapeError(`${op}: output channels ${cout} are not divisible by groups ${groups} (${shapes})`);
  }
  if (cinG !== cin / groups) {
    throw new ShapeError(
      `${op}: weight expects ${cinG} input channels per group but the input has ${cin}/${groups} = ${cin / groups} (${shapes})`,
    );
  }
  if (K < 1) throw new ShapeError(`${op}: kernel size must be at least 1 (${shapes})`);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== cout)) {
    throw new ShapeError(`${op}: bias ${fmtShape(bias.shape)} must be [${cout}] (${shapes})`);
  }
  const [padLeft, padRight] = resolvePadding(op, opts.padding, K, dilation, stride);
  const window = { inLength: length, kernelSize: K, stride, dilation, padLeft, padRight };
  if (conv1dOutputLength(window) < 1) {
    const span = dilation * (K - 1) + 1;
    throw new ShapeError(
      `${op}: kernel size ${K} (dilation ${dilation}, span ${span}) is larger than the padded input length ${length + padLeft + padRight} (${shapes}, padding [${padLeft}, ${padRight}])`,
    );
  }
  const attrs: Conv1dAttrs = { stride, padLeft, padRight, dilation, groups, padValue };
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return run('conv1d', conv1dRule, inputs, attrs);
}

/**
 * Depthwise 1-D convolution: each input channel is convolved with its own `multiplier` filters
 * (groups = inChannels; output channel o reads input channel ⌊o/multiplier⌋). Weight
 * [inChannels·multiplier, 1, kernelSize]; options and errors as {@link conv1d}.
 */
export function depthwiseConv1d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: Omit<Conv1dOptions, 'groups'> = {},
): Tensor {
  requireTensor('depthwiseConv1d', 'input', x);
  requireTensor('depthwiseConv1d', 'weight', weight);
  if (x.ndim !== 3 && x.ndim !== 2) {
    throw new ShapeError(
      `depthwiseConv1d: input must be 3-D [batch, channels, length], got ${fmtShape(x.shape)}`,
    );
  }
  const cin = x.shape[x.ndim - 2];
  if (weight.ndim !== 3 || weight.shape[1] !== 1 || weight.shape[0] % cin !== 0 || weight.shape[0] === 0) {
    throw new ShapeError(
      `depthwiseConv1d: weight must be [${cin}·multiplier, 1, kernelSize] for input ${fmtShape(x.shape)}, got ${fmtShape(weight.shape)}`,
    );
  }
  return conv1d(x, weight, bias, { ...opts, groups: cin });
}

// ---------------------------------------------------------------------------------------------------------
// Pooling

/** Checks a pooling input; returns true when it is unbatched ([channels, length], handled as batch 1). */
function requirePoolInput(op: string, x: Tensor): boolean {
  requireTensor(op, 'input', x);
  if (x.ndim !== 3 && x.ndim !== 2) {
    throw new ShapeError(
      `${op}: input must be 3-D [batch, channels, length] (or 2-D unbatched), got ${fmtShape(x.shape)}`,
    );
  }
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a float input, got ${x.dtype}`);
  return x.ndim === 2;
}

/** The sliding window of a pooling op over `x` (symmetric padding), for {@link conv1dOutputLength}. */
function poolWindow(
  x: Tensor,
  kernelSize: number,
  stride: number,
  padding: number,
  dilation: number,
): Window1d {
  return { inLength: x.shape[2], kernelSize, stride, dilation, padLeft: padding, padRight: padding };
}

function poolParams(
  x: Tensor,
  a: { kernelSize: number; stride: number; padding: number },
  outLength: number,
) {
  const p: Pool1dParams = {
    batch: x.shape[0],
    channels: x.shape[1],
    inLength: x.shape[2],
    outLength,
    kernelSize: a.kernelSize,
    stride: a.stride,
    padLeft: a.padding,
    dilation: 1,
  };
  return p;
}

interface MaxSaved {
  arg: Int32Array;
}

const maxPool1dRule: PrimitiveRule<MaxPool1dAttrs> = {
  forward: ([x], a, ctx) => {
    const L = conv1dOutputLength(poolWindow(x, a.kernelSize, a.stride, a.padding, a.dilation), a.ceilMode);
    const p: Pool1dParams = { ...poolParams(x, a, L), dilation: a.dilation };
    const n = p.batch * p.channels * L;
    const out = allocateUninitialized(x.dtype, n) as FloatArray; // every window's maximum assigned
    // Positions only when a gradient can be asked for (a device backend then need not send them to the host);
    // recycled storage owned by the graph node (every position assigned by the kernel).
    const arg = x.requiresGrad ? (allocateUninitialized('int32', n) as Int32Array) : null;
    kernels().maxPool1d(x.storage as FloatArray, out, arg, p);
    if (arg !== null) {
      ctx.save({ arg } satisfies MaxSaved);
      ctx.own(arg);
    }
    return new Tensor(out, [p.batch, p.channels, L]);
  },
  // The gradient goes to the (first) maximum of each window, saved in the forward.
  vjp: (g, { inputs: [x], saved }) => {
    const gx = allocateUninitialized(x.dtype, x.size) as FloatArray; // overwritten (the contract's rule)
    const [B, C, L] = x.shape;
    kernels().maxPool1dBackward(g.storage as FloatArray, (saved as MaxSaved).arg, gx, B * C, L, g.shape[2]);
    return [new Tensor(gx, x.shape)];
  },
};

/** Options of {@link maxPool1d}. */
export interface MaxPool1dOptions {
  /** Step between windows (default kernelSize). */
  stride?: number;
  /** Implicit −∞ padding on both sides, at most half the effective kernel (default 0). */
  padding?: number;
  /** Spacing between window elements (default 1). */
  dilation?: number;
  /** Round the output length up (PyTorch ceil_mode, default false). */
  ceilMode?: boolean;
}

function checkPoolPadding(
  op: string,
  x: Tensor,
  kernelSize: number,
  padding: number,
  dilation: number,
): void {
  const span = dilation * (kernelSize - 1) + 1;
  // NOTE: PyTorch: "pad should be at most half of effective kernel size".
  if (padding > Math.floor(span / 2)) {
    throw new ValueError(
      `${op}: padding ${padding} must be at most half the effective kernel size ${span} (input ${fmtShape(x.shape)})`,
    );
  }
}

function checkPoolOut(op: string, x: Tensor, outLength: number, kernelSize: number, padding: number): void {
  if (outLength < 1) {
    throw new ShapeError(
      `${op}: kernel size ${kernelSize} with padding ${padding} does not fit input ${fmtShape(x.shape)} (output length ${outLength})`,
    );
  }
}

/**
 * 1-D max pooling (PyTorch `max_pool1d`): out[b, c, t] = max_k x[b, c, t·stride + k·dilation − padding],
 * padded positions counting as −∞. The gradient flows to the first maximum of each window (the argmax
 * indices are saved by the forward). Input [batch, channels, length] or unbatched [channels, length].
 * @throws ShapeError (rank, window larger than the padded input), ValueError (kernel/stride/dilation not
 *   positive, padding negative or above half the effective kernel), DTypeError (non-float input).
 */
export function maxPool1d(x: Tensor, kernelSize: number, opts: MaxPool1dOptions = {}): Tensor {
  const op = 'maxPool1d';
  if (requirePoolInput(op, x)) return squeeze(maxPool1d(unsqueeze(x, 0), kernelSize, opts), 0);
  const k = requireInt(op, 'kernelSize', kernelSize, 1);
  const stride = requireInt(op, 'stride', opts.stride ?? k, 1);
  const padding = requireInt(op, 'padding', opts.padding ?? 0, 0);
  const dilation = requireInt(op, 'dilation', opts.dilation ?? 1, 1);
  const ceilMode = opts.ceilMode ?? false;
  checkPoolPadding(op, x, k, padding, dilation);
  const outLength = conv1dOutputLength(poolWindow(x, k, stride, padding, dilation), ceilMode);
  checkPoolOut(op, x, outLength, k, padding);
  return run('maxPool1d', maxPool1dRule, [x], { kernelSize: k, stride, padding, dilation, ceilMode });
}

const avgPool1dRule: PrimitiveRule<AvgPool1dAttrs> = {
  forward: ([x], a) => {
    const L = conv1dOutputLength(poolWindow(x, a.kernelSize, a.stride, a.padding, 1), a.ceilMode);
    const p = poolParams(x, a, L);
    const out = allocate(x.dtype, p.batch * p.channels * L) as FloatArray;
    kernels().avgPool1d(x.storage as FloatArray, out, p, a.countIncludePad);
    return new Tensor(out, [p.batch, p.channels, L]);
  },
  // Each output spreads g/divisor evenly over the input positions of its window (the adjoint).
  vjp: (g, { inputs: [x], attrs: a }) => {
    const p = poolParams(x, a, g.shape[2]);
    const gx = allocate(x.dtype, x.size) as FloatArray;
    kernels().avgPool1dBackward(g.storage as FloatArray, gx, p, a.countIncludePad);
    return [new Tensor(gx, x.shape)];
  },
};

/** Options of {@link avgPool1d}. */
export interface AvgPool1dOptions {
  /** Step between windows (default kernelSize). */
  stride?: number;
  /** Implicit zero padding on both sides, at most half the kernel (default 0). */
  padding?: number;
  /** Round the output length up (PyTorch ceil_mode, default false). */
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

/**
 * 1-D average pooling (PyTorch `avg_pool1d`): the mean of each window; with `countIncludePad` (default) the
 * zero padding counts in the divisor. Input [batch, channels, length] or unbatched [channels, length].
 * @throws ShapeError, ValueError, DTypeError as {@link maxPool1d}.
 */
export function avgPool1d(x: Tensor, kernelSize: number, opts: AvgPool1dOptions = {}): Tensor {
  const op = 'avgPool1d';
  if (requirePoolInput(op, x)) return squeeze(avgPool1d(unsqueeze(x, 0), kernelSize, opts), 0);
  const k = requireInt(op, 'kernelSize', kernelSize, 1);
  const stride = requireInt(op, 'stride', opts.stride ?? k, 1);
  const padding = requireInt(op, 'padding', opts.padding ?? 0, 0);
  const ceilMode = opts.ceilMode ?? false;
  checkPoolPadding(op, x, k, padding, 1);
  const outLength = conv1dOutputLength(poolWindow(x, k, stride, padding, 1), ceilMode);
  checkPoolOut(op, x, outLength, k, padding);
  return run('avgPool1d', avgPool1dRule, [x], {
    kernelSize: k,
    stride,
    padding,
    ceilMode,
    countIncludePad: opts.countIncludePad ?? true,
  });
}

const adaptiveAvgPool1dRule: PrimitiveRule<AdaptivePool1dAttrs> = {
  forward: ([x], { outputSize }) => {
    const [B, C, L] = x.shape;
    const out = allocate(x.dtype, B * C * outputSize) as FloatArray;
    kernels().adaptiveAvgPool1d(x.storage as FloatArray, out, B * C, L, outputSize);
    return new Tensor(out, [B, C, outputSize]);
  },
  vjp: (g, { inputs: [x], attrs: { outputSize } }) => {
    const [B, C, L] = x.shape;
    const gx = allocate(x.dtype, x.size) as FloatArray;
    kernels().adaptiveAvgPool1dBackward(g.storage as FloatArray, gx, B * C, L, outputSize);
    return [new Tensor(gx, x.shape)];
  },
};

const adaptiveMaxPool1dRule: PrimitiveRule<AdaptivePool1dAttrs> = {
  forward: ([x], { outputSize }, ctx) => {
    const [B, C, L] = x.shape;
    const n = B * C * outputSize;
    const out = allocate(x.dtype, n) as FloatArray;
    // Positions only for a gradient, in recycled storage owned by the graph node, as maxPool1d.
    const arg = x.requiresGrad ? (allocate('int32', n) as Int32Array) : null;
    kernels().adaptiveMaxPool1d(x.storage as FloatArray, out, arg, B * C, L, outputSize);
    if (arg !== null) {
      ctx.save({ arg } satisfies MaxSaved);
      ctx.own(arg);
    }
    return new Tensor(out, [B, C, outputSize]);
  },
  vjp: (g, { inputs: [x], saved, attrs: { outputSize } }) => {
    const [B, C, L] = x.shape;
    const gx = allocate(x.dtype, x.size) as FloatArray;
    kernels().maxPool1dBackward(g.storage as FloatArray, (saved as MaxSaved).arg, gx, B * C, L, outputSize);
    return [new Tensor(gx, x.shape)];
  },
};

function checkAdaptive(op: string, x: Tensor, outputSize: number): number {
  requirePoolInput(op, x);
  const n = requireInt(op, 'outputSize', outputSize, 1);
  if (x.shape[x.ndim - 1] < 1) {
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} has an empty length dimension`);
  }
  return n;
}

/**
 * Adaptive average pooling to `outputSize` positions (PyTorch `adaptive_avg_pool1d`): bin i averages
 * x[⌊i·L/out⌋ … ⌈(i+1)·L/out⌉ − 1].
 */
export function adaptiveAvgPool1d(x: Tensor, outputSize: number): Tensor {
  const n = checkAdaptive('adaptiveAvgPool1d', x, outputSize);
  if (x.ndim === 2) return squeeze(adaptiveAvgPool1d(unsqueeze(x, 0), n), 0);
  return run('adaptiveAvgPool1d', adaptiveAvgPool1dRule, [x], { outputSize: n });
}

/** Adaptive max pooling to `outputSize` positions (PyTorch bins); the gradient goes to each bin's first maximum. */
export function adaptiveMaxPool1d(x: Tensor, outputSize: number): Tensor {
  const n = checkAdaptive('adaptiveMaxPool1d', x, outputSize);
  if (x.ndim === 2) return squeeze(adaptiveMaxPool1d(unsqueeze(x, 0), n), 0);
  return run('adaptiveMaxPool1d', adaptiveMaxPool1dRule, [x], { outputSize: n });
}

/** Global average pooling over the length: [batch, channels, length] → [batch, channels] (or [C, L] → [C]). */
export function globalAvgPool1d(x: Tensor): Tensor {
  requirePoolInput('globalAvgPool1d', x);
  if (x.shape[x.ndim - 1] < 1) {
    throw new ShapeError(`globalAvgPool1d: input ${fmtShape(x.shape)} has an empty length dimension`);
  }
  return mean(x, -1);
}

/** The rules of this module, for the op table. */
export const convRules = {
  conv1d: conv1dRule,
  maxPool1d: maxPool1dRule,
  avgPool1d: avgPool1dRule,
  adaptiveAvgPool1d: adaptiveAvgPool1dRule,
  adaptiveMaxPool1d: adaptiveMaxPool1dRule,
};
