/**
 * Operator table: for every graph op, which inputs/tensors it takes and how its output shape follows from its
 * input shapes. Used by the file reader (to validate a graph before allocating anything) and by the runtime
 * (which gets the normalised attributes from here). Layout per sample is `[channels, length]` (NCL without N)
 * or `[features]`.
 */
import { ModelFormatError } from '../errors.js';
import type { NodeSpec, TensorEntry } from '../format/types.js';

/** Shape and kind of a value flowing through the graph (per sample). */
export interface ValueInfo {
  /** `float`: Float32 values; `bits`: ±1 values packed along channels (time-major `[L][W]` words). */
  kind: 'float' | 'bits';
  /** `[channels, length]` or `[features]`. */
  shape: number[];
}

/** Normalised padding/stride attributes of a 1-D sliding-window op. */
export interface WindowAttrs {
  kernelSize: number;
  stride: number;
  dilation: number;
  padLeft: number;
  padRight: number;
}

/** Normalised attributes of every op (only the fields an op uses are set). */
export interface NormalizedAttrs {
  window?: WindowAttrs;
  groups?: number;
  padValue?: number;
  eps?: number;
  negativeSlope?: number;
  causal?: boolean;
  concat?: boolean;
  /** binaryConv1d: optional max pooling applied to the integer dot before the output. */
  pool?: { kernelSize: number; stride: number };
}

/** Result of checking one node. */
export interface InferredNode {
  output: ValueInfo;
  attrs: NormalizedAttrs;
}

/** Every op name the runtime implements. */
export const OPS = [
  'conv1d',
  'binaryConv1d',
  'batchNorm',
  'relu',
  'prelu',
  'leakyRelu',
  'sigmoid',
  'tanh',
  'identity',
  'dropout',
  'maxPool1d',
  'avgPool1d',
  'globalAvgPool1d',
  'globalMaxPool1d',
  'sumOverTime',
  'flatten',
  'linear',
  'binaryLinear',
  'add',
  'concat',
  'squeezeExcitation',
  'attention',
  'softmax',
  'sign',
] as const;

/** Name of a supported op. */
export type OpName = (typeof OPS)[number];

const OP_SET: ReadonlySet<string> = new Set(OPS);

/** Elementwise ops (same shape out, per-channel at most) that may sit in a binary epilogue. */
export const ELEMENTWISE_OPS: ReadonlySet<string> = new Set([
  'batchNorm',
  'relu',
  'prelu',
  'leakyRelu',
  'sigmoid',
  'tanh',
  'identity',
  'dropout',
]);

/** Largest activation (elements per sample) a graph may declare. */
export const MAX_ACTIVATION_ELEMENTS = 1 << 24;

class NodeChecker {
  constructor(
    readonly node: NodeSpec,
    readonly index: number,
    readonly tensors: ReadonlyMap<string, TensorEntry>,
  ) {}

  fail(msg: string): never {
    throw new ModelFormatError(`graph node ${this.index} (${this.node.op}): ${msg}`);
  }

  attr(name: string): unknown {
    return this.node.attrs?.[name];
  }

  int(name: string, def: number, min: number, max = 1 << 24): number {
    const v = this.attr(name);
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`attribute ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
    return v;
  }

  num(name: string, def: number): number {
    const v = this.attr(name);
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`attribute ${name} must be a finite number`);
    return v;
  }

  bool(name: string, def: boolean): boolean {
    const v = this.attr(name);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.fail(`attribute ${name} must be a boolean`);
    return v;
  }

  tensor(role: string, required: true): TensorEntry;
  tensor(role: string, required: boolean): TensorEntry | undefined;
  tensor(role: string, required: boolean): TensorEntry | undefined {
    const name = this.node.tensors?.[role];
    if (name === undefined) {
      if (required) this.fail(`missing tensor "${role}"`);
      return undefined;
    }
    const t = this.tensors.get(name);
    if (!t) this.fail(`tensor "${role}" refers to unknown tensor "${name}"`);
    return t;
  }

  shapeIs(t: TensorEntry | undefined, role: string, shape: number[]): void {
    if (!t) return;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      this.fail(`tensor "${role}" (${t.name}) has shape [${t.shape}], expected [${shape}]`);
    }
  }

  floatTensor(t: TensorEntry | undefined, role: string): void {
    if (t && t.dtype === 'int32') this.fail(`tensor "${role}" must be a float dtype, not int32`);
  }

  windowAttrs(kernelSize: number, allowDilation: boolean, inLength: number, channels: number): WindowAttrs {
    const stride = this.int('stride', this.node.op.endsWith('Pool1d') ? kernelSize : 1, 1);
    const dilation = allowDilation ? this.int('dilation', 1, 1) : 1;
    const span = dilation * (kernelSize - 1) + 1;
    const p = this.attr('padding');
    let padLeft = 0;
    let padRight = 0;
    if (p === undefined || p === 'valid') {
      // no padding
    } else if (p === 'same') {
      if (stride !== 1) this.fail(`padding 'same' needs stride 1`);
      padLeft = (span - 1) >> 1;
      padRight = span - 1 - padLeft;
    } else if (typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 1 << 20) {
      padLeft = padRight = p;
    } else if (
      Array.isArray(p) &&
      p.length === 2 &&
      p.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 1 << 20)
    ) {
      padLeft = p[0] as number;
      padRight = p[1] as number;
    } else {
      this.fail(`attribute padding must be 'same', 'valid', a non-negative integer or [left, right]`);
    }
    const padded = inLength + padLeft + padRight;
    if (padded < span)
      this.fail(`input length ${inLength} (padded ${padded}) is shorter than the window ${span}`);
    // Kernels copy the padded input into scratch: bound it like an activation.
    if (padded * channels > MAX_ACTIVATION_ELEMENTS)
      this.fail(`padded input of ${padded * channels} values is too large`);
    return { kernelSize, stride, dilation, padLeft, padRight };
  }
}

/** Output length of a sliding window: floor((L + pl + pr − dil·(K−1) − 1) / stride) + 1. */
export function windowOutputLength(inLength: number, w: WindowAttrs): number {
  return Math.floor((inLength + w.padLeft + w.padRight - w.dilation * (w.kernelSize - 1) - 1) / w.stride) + 1;
}

function checkedSize(c: NodeChecker, shape: number[]): void {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) c.fail(`output shape [${shape}] has a non-positive dimension`);
    n *= d;
  }
  if (n > MAX_ACTIVATION_ELEMENTS)
    c.fail(`output of ${n} elements exceeds the limit ${MAX_ACTIVATION_ELEMENTS}`);
}

/**
 * Check one node against its input value infos and the tensor table; return its output info and normalised
 * attributes. Throws {@link ModelFormatError} naming the node on any inconsistency.
 */
export function inferNode(
  node: NodeSpec,
  index: number,
  inputs: ValueInfo[],
  tensors: ReadonlyMap<string, TensorEntry>,
): InferredNode {
  const c = new NodeChecker(node, index, tensors);
  if (!OP_SET.has(node.op)) c.fail('unknown op');
  const op = node.op as OpName;
  const nIn = op === 'add' ? 2 : op === 'concat' ? -1 : 1;
  if (nIn > 0 && inputs.length !== nIn) c.fail(`expects ${nIn} input(s), got ${inputs.length}`);
  if (nIn < 0 && inputs.length < 1) c.fail('expects at least one input');
  if (node.outputs.length !== 1) c.fail(`expects exactly one output, got ${node.outputs.length}`);
  const x = inputs[0];
  const needFloat = (): void => {
    for (const v of inputs) if (v.kind !== 'float') c.fail('input must be float, got packed bits');
  };
  const needRank = (rank: number): void => {
    if (x.shape.length !== rank) c.fail(`input must have rank ${rank} per sample, got shape [${x.shape}]`);
  };
  const attrs: NormalizedAttrs = {};
  let output: ValueInfo;
  switch (op) {
    case 'conv1d': {
      needFloat();
      needRank(2);
      const [C, L] = x.shape;
      const w = c.tensor('weight', true);
      c.floatTensor(w, 'weight');
      if (w.shape.length !== 3) c.fail(`weight must be [outC, inC/groups, K], got [${w.shape}]`);
      const [O, Cg, K] = w.shape;
      const groups = c.int('groups', 1, 1);
      if (C % groups !== 0 || O % groups !== 0)
        c.fail(`groups ${groups} must divide in (${C}) and out (${O}) channels`);
      if (Cg !== C / groups) c.fail(`weight in-channels ${Cg} ≠ input channels ${C} / groups ${groups}`);
      const b = c.tensor('bias', false);
      c.floatTensor(b, 'bias');
      c.shapeIs(b, 'bias', [O]);
      attrs.window = c.windowAttrs(K, true, L, C);
      attrs.groups = groups;
      attrs.padValue = c.num('padValue', 0);
      output = { kind: 'float', shape: [O, windowOutputLength(L, attrs.window)] };
      break;
    }
    case 'binaryConv1d': {
      if (x.kind !== 'bits') c.fail('input must be packed bits (use a sign node first)');
      needRank(2);
      const [C, L] = x.shape;
      const w = c.tensor('weight', true);
      if (w.dtype !== 'bits' || (w.packAxis ?? 1) !== 1)
        c.fail('weight must have dtype bits packed along axis 1');
      if (w.shape.length !== 3 || w.shape[1] !== C)
        c.fail(`weight must be [outC, ${C}, K], got [${w.shape}]`);
      const [O, , K] = w.shape;
      attrs.window = c.windowAttrs(K, true, L, C);
      const padValue = c.num('padValue', 1);
      if (padValue !== 0 && padValue !== 1) c.fail('padValue must be 0 or +1 for binary convolution');
      attrs.padValue = padValue;
      let outLength = windowOutputLength(L, attrs.window);
      const pool = c.attr('pool');
      if (pool !== undefined) {
        if (typeof pool !== 'object' || pool === null) c.fail('attribute pool must be {kernelSize, stride}');
        const pk = (pool as Record<string, unknown>).kernelSize;
        const ps = (pool as Record<string, unknown>).stride ?? pk;
        if (!Number.isInteger(pk) || !Number.isInteger(ps) || (pk as number) < 1 || (ps as number) < 1) {
          c.fail('pool.kernelSize and pool.stride must be positive integers');
        }
        if ((pk as number) > outLength) c.fail(`pool kernel ${pk} longer than conv output ${outLength}`);
        attrs.pool = { kernelSize: pk as number, stride: ps as number };
        outLength = Math.floor((outLength - attrs.pool.kernelSize) / attrs.pool.stride) + 1;
      }
      const thr = c.tensor('threshold', false);
      const dir = c.tensor('direction', false);
      if ((thr === undefined) !== (dir === undefined))
        c.fail('threshold and direction must be given together');
      if (thr) {
        if (thr.dtype !== 'int32') c.fail('threshold must have dtype int32');
        c.shapeIs(thr, 'threshold', [O]);
        c.shapeIs(dir, 'direction', [O]);
      }
      output = { kind: thr ? 'bits' : 'float', shape: [O, outLength] };
      break;
    }
    case 'batchNorm': {
      needFloat();
      if (x.shape.length < 1 || x.shape.length > 2) c.fail(`input must be [C, L] or [C], got [${x.shape}]`);
      const C = x.shape[0];
      for (const role of ['mean', 'var', 'weight', 'bias']) {
        const t = c.tensor(role, role === 'mean' || role === 'var');
        c.floatTensor(t, role);
        c.shapeIs(t, role, [C]);
      }
      attrs.eps = c.num('eps', 1e-5);
      if (attrs.eps < 0) c.fail('eps must be >= 0');
      output = { kind: 'float', shape: x.shape.slice() };
      break;
    }
    case 'prelu': {
      needFloat();
      const w = c.tensor('weight', true);
      c.floatTensor(w, 'weight');
      if (w.shape.length !== 1 || (w.shape[0] !== 1 && w.shape[0] !== x.shape[0])) {
        c.fail(`weight must be [1] or [${x.shape[0]}], got [${w.shape}]`);
      }
      output = { kind: 'float', shape: x.shape.slice() };
      break;
    }
    case 'leakyRelu':
      needFloat();
      attrs.negativeSlope = c.num('negativeSlope', 0.01);
      output = { kind: 'float', shape: x.shape.slice() };
      break;
    case 'relu':
    case 'sigmoid':
    case 'tanh':
    case 'softmax':
      needFloat();
      output = { kind: 'float', shape: x.shape.slice() };
      break;
    case 'identity':
    case 'dropout':
      output = { kind: x.kind, shape: x.shape.slice() };
      break;
    case 'maxPool1d':
    case 'avgPool1d': {
      needFloat();
      needRank(2);
      const K = c.int('kernelSize', 0, 1);
      if (K === 0) c.fail('attribute kernelSize is required');
      attrs.window = c.windowAttrs(K, false, x.shape[1], x.shape[0]);
      if (attrs.window.padLeft * 2 > K || attrs.window.padRight * 2 > K)
        c.fail('padding must be at most half the kernel');
      output = { kind: 'float', shape: [x.shape[0], windowOutputLength(x.shape[1], attrs.window)] };
      break;
    }
    case 'globalAvgPool1d':
    case 'globalMaxPool1d':
    case 'sumOverTime':
      needFloat();
      needRank(2);
      output = { kind: 'float', shape: [x.shape[0]] };
      break;
    case 'flatten':
      needFloat();
      output = { kind: 'float', shape: [x.shape.reduce((a, b) => a * b, 1)] };
      break;
    case 'linear': {
      needFloat();
      needRank(1);
      const w = c.tensor('weight', true);
      c.floatTensor(w, 'weight');
      if (w.shape.length !== 2 || w.shape[1] !== x.shape[0])
        c.fail(`weight must be [out, ${x.shape[0]}], got [${w.shape}]`);
      const b = c.tensor('bias', false);
      c.floatTensor(b, 'bias');
      c.shapeIs(b, 'bias', [w.shape[0]]);
      output = { kind: 'float', shape: [w.shape[0]] };
      break;
    }
    case 'binaryLinear': {
      if (x.kind !== 'bits') c.fail('input must be packed bits (use a sign node first)');
      needRank(1);
      const w = c.tensor('weight', true);
      if (w.dtype !== 'bits' || (w.packAxis ?? 1) !== 1)
        c.fail('weight must have dtype bits packed along axis 1');
      if (w.shape.length !== 2 || w.shape[1] !== x.shape[0])
        c.fail(`weight must be [out, ${x.shape[0]}], got [${w.shape}]`);
      output = { kind: 'float', shape: [w.shape[0]] };
      break;
    }
    case 'add': {
      needFloat();
      const [a, b] = inputs;
      if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
        c.fail(`input shapes [${a.shape}] and [${b.shape}] differ`);
      }
      output = { kind: 'float', shape: a.shape.slice() };
      break;
    }
    case 'concat': {
      needFloat();
      let total = 0;
      for (const v of inputs) {
        if (v.shape.length !== x.shape.length || (x.shape.length === 2 && v.shape[1] !== x.shape[1])) {
          c.fail(`inputs must all be [C_i, ${x.shape[1]}] (or all [F_i]), got [${v.shape}]`);
        }
        total += v.shape[0];
      }
      output = { kind: 'float', shape: x.shape.length === 2 ? [total, x.shape[1]] : [total] };
      break;
    }
    case 'squeezeExcitation': {
      needFloat();
      needRank(2);
      const C = x.shape[0];
      const w1 = c.tensor('w1', true);
      const w2 = c.tensor('w2', true);
      c.floatTensor(w1, 'w1');
      c.floatTensor(w2, 'w2');
      if (w1.shape.length !== 2 || w1.shape[1] !== C) c.fail(`w1 must be [R, ${C}], got [${w1.shape}]`);
      const R = w1.shape[0];
      c.shapeIs(w2, 'w2', [C, R]);
      const b1 = c.tensor('b1', false);
      const b2 = c.tensor('b2', false);
      c.floatTensor(b1, 'b1');
      c.floatTensor(b2, 'b2');
      c.shapeIs(b1, 'b1', [R]);
      c.shapeIs(b2, 'b2', [C]);
      output = { kind: 'float', shape: x.shape.slice() };
      break;
    }
    case 'attention': {
      needFloat();
      needRank(2);
      const C = x.shape[0];
      const wq = c.tensor('wq', true);
      const wk = c.tensor('wk', true);
      const wv = c.tensor('wv', true);
      for (const [role, t] of [
        ['wq', wq],
        ['wk', wk],
        ['wv', wv],
      ] as const) {
        c.floatTensor(t, role);
        if (t.shape.length !== 2 || t.shape[1] !== C) c.fail(`${role} must be [D, ${C}], got [${t.shape}]`);
      }
      if (wk.shape[0] !== wq.shape[0]) c.fail('wq and wk must have the same number of rows');
      for (const [role, rows] of [
        ['bq', wq.shape[0]],
        ['bk', wk.shape[0]],
        ['bv', wv.shape[0]],
      ] as const) {
        const b = c.tensor(role, false);
        c.floatTensor(b, role);
        c.shapeIs(b, role, [rows]);
      }
      attrs.causal = c.bool('causal', false);
      attrs.concat = c.bool('concat', false);
      const V = wv.shape[0];
      // Scratch: projections L·(2D + V) plus one row of scores.
      if (x.shape[1] * (2 * wq.shape[0] + V + 1) > MAX_ACTIVATION_ELEMENTS)
        c.fail('attention scratch would be too large');
      output = { kind: 'float', shape: [attrs.concat ? C + V : V, x.shape[1]] };
      break;
    }
    case 'sign':
      needFloat();
      if (x.shape.length < 1 || x.shape.length > 2) c.fail(`input must be [C, L] or [C], got [${x.shape}]`);
      output = { kind: 'bits', shape: x.shape.slice() };
      break;
  }
  checkedSize(c, output.shape);
  return { output, attrs };
}
