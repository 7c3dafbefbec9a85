/**
 * Elementwise ops (activations, batch normalisation, residual `add`, channel softmax, `sign` packing) and the
 * reshapes (`identity`, `dropout`, `flatten`: their output aliases the input buffer, no step). Elementwise kernels
 * run over the `nb` windows of a chunk in one call.
 */
import type { ActivationOp } from '@ecgnn/kernels';
import {
  type BindContext,
  type Bound,
  channelsLength,
  type MonotoneOp,
  type NodeChecker,
  type OpDef,
  PerBatch,
  prefix,
  size,
  type ValueInfo,
} from './types.js';

/** Same float shape out. */
function sameFloat(_c: NodeChecker, [x]: ValueInfo[]) {
  return { output: { kind: 'float' as const, shape: x.shape.slice() }, attrs: {} };
}

/**
 * An op computed by the contract's `unary` kernel (`p0` from the attributes); `monotone` as {@link OpDef.monotone}
 * (sigmoid and tanh are left out: their float evaluation through `exp` is not known to be monotone).
 */
function unaryOp(op: ActivationOp, p0?: (ctx: BindContext) => number, monotone?: OpDef['monotone']): OpDef {
  return {
    arity: 1,
    input: 'float',
    elementwise: true,
    monotone,
    check: sameFloat,
    bind(ctx: BindContext): Bound {
      const n = size(ctx.ins[0].info);
      const xs = prefix(ctx.ins[0].buf as Float32Array, n);
      const ys = prefix(ctx.out.buf as Float32Array, n);
      const activation = ctx.kernels.activation;
      const a = p0 ? p0(ctx) : 0;
      return { run: (nb) => activation(op, xs.get(nb), ys.get(nb), a), wasm: false };
    },
  };
}

/** `relu`: max(x, 0), NaN propagating. */
export const relu = unaryOp('relu', undefined, () => ({ finiteToFinite: true, nanFromInfinity: false }));
/** `sigmoid`: 1 / (1 + e^−x). */
export const sigmoid = unaryOp('sigmoid');
/** `tanh`. */
export const tanh = unaryOp('tanh');

/** `leakyRelu`: x ≥ 0 ? x : slope·x (`negativeSlope`, default 0.01). */
export const leakyRelu: OpDef = {
  // x ≥ 0 ? x : slope·x: monotone for a finite slope ≥ 0 (slope 0: −∞ → 0·−∞ = NaN; slope > 1 may overflow).
  ...unaryOp(
    'leakyRelu',
    (ctx) => ctx.attrs.negativeSlope ?? 0.01,
    (ctx) => slopes([ctx.attrs.negativeSlope ?? 0.01]),
  ),
  check(c: NodeChecker, inputs: ValueInfo[]) {
    const r = sameFloat(c, inputs);
    return { ...r, attrs: { negativeSlope: c.num('negativeSlope', 0.01) } };
  },
};

/**
 * {@link OpDef.monotone} of `x ≥ 0 ? x : a·x` (PReLU, leaky ReLU) with slopes `a`: monotone for finite slopes ≥ 0;
 * a zero slope sends −∞ to NaN, a slope above 1 may overflow to −∞.
 */
function slopes(a: ArrayLike<number>): MonotoneOp | null {
  let zero = false;
  let big = false;
  for (let i = 0; i < a.length; i++) {
    if (!(a[i] >= 0 && Number.isFinite(a[i]))) return null;
    if (a[i] === 0) zero = true;
    if (a[i] > 1) big = true;
  }
  return { finiteToFinite: !big, nanFromInfinity: zero };
}

/** `prelu`: x > 0 ? x : w[c]·x, `w` of 1 or C values. */
export const prelu: OpDef = {
  arity: 1,
  input: 'float',
  elementwise: true,
  monotone: (ctx) => slopes(ctx.floats('weight')!),
  check(c: NodeChecker, inputs: ValueInfo[]) {
    const C = inputs[0].shape[0];
    const [n] = c.tensor('weight', true, ['C'], 'float').shape;
    if (n !== 1 && n !== C) c.fail(`weight must be [1] or [${C}], got [${n}]`);
    return sameFloat(c, inputs);
  },
  bind(ctx: BindContext): Bound {
    const [C, L] = channelsLength(ctx.ins[0].info);
    const w = ctx.floats('weight')!;
    const prelu = ctx.kernels.prelu;
    const X = ctx.ins[0].buf as Float32Array;
    const Y = ctx.out.buf as Float32Array;
    return { run: (nb) => prelu(X, w, Y, nb, C, L), wasm: false };
  },
};

/** The statistics as the batch-norm kernel takes them (float64), computed once per model. */
function statistics(ctx: BindContext): { mean: Float64Array; invstd: Float64Array } {
  return ctx.derive('batchNorm', () => {
    const m = ctx.floats('mean')!;
    const v = ctx.floats('var')!;
    const eps = ctx.attrs.eps ?? 1e-5;
    return { mean: Float64Array.from(m), invstd: Float64Array.from(v, (s) => 1 / Math.sqrt(s + eps)) };
  });
}

/** `batchNorm` (inference): `(x − mean[c]) / √(var[c] + eps) · weight[c] + bias[c]`. */
export const batchNorm: OpDef = {
  arity: 1,
  input: 'float',
  rank: [2, 1],
  elementwise: true,
  // The kernel computes x·scale + shift in float64, rounded once to float32: monotone for a finite scale =
  // invstd·weight and shift (a zero scale sends ±∞ to NaN; the rounding may overflow to ±∞).
  monotone(ctx) {
    const { mean, invstd } = statistics(ctx);
    const gamma = ctx.floats('weight');
    const beta = ctx.floats('bias');
    let zero = false;
    for (let c = 0; c < mean.length; c++) {
      const scale = invstd[c] * (gamma ? gamma[c] : 1);
      const shift = (beta ? beta[c] : 0) - mean[c] * scale;
      if (!Number.isFinite(scale) || !Number.isFinite(shift)) return null;
      if (scale === 0) zero = true;
    }
    return { finiteToFinite: false, nanFromInfinity: zero };
  },
  check(c: NodeChecker, [x]: ValueInfo[]) {
    const C = x.shape[0];
    for (const role of ['mean', 'var', 'weight', 'bias'])
      c.tensor(role, role === 'mean' || role === 'var', [C], 'float');
    const eps = c.num('eps', 1e-5);
    if (eps < 0) c.fail('eps must be >= 0');
    return { output: { kind: 'float', shape: x.shape.slice() }, attrs: { eps } };
  },
  bind(ctx: BindContext): Bound {
    const [C, L] = channelsLength(ctx.ins[0].info);
    // The statistics as the kernel takes them (float64), computed once.
    const { mean, invstd } = statistics(ctx);
    const gamma = ctx.floats('weight');
    const beta = ctx.floats('bias');
    const bn = ctx.kernels.batchNormForward;
    const X = ctx.ins[0].buf as Float32Array;
    const Y = ctx.out.buf as Float32Array;
    return { run: (nb) => bn(X, mean, invstd, gamma, beta, Y, nb, C, L), wasm: false };
  },
};

/** `softmax` over channels (at each time step of a `[C, L]` value, or over a `[C]` vector). */
export const softmax: OpDef = {
  arity: 1,
  input: 'float',
  check: sameFloat,
  bind(ctx: BindContext): Bound {
    const [C, L] = channelsLength(ctx.ins[0].info);
    const softmax = ctx.kernels.softmax;
    const X = ctx.ins[0].buf as Float32Array;
    const Y = ctx.out.buf as Float32Array;
    return { run: (nb) => softmax(X, Y, nb, C, L, false), wasm: false };
  },
};

const UNIT_STRIDE: readonly number[] = [1];

/** `add`: two equal shapes, elementwise sum. */
export const add: OpDef = {
  arity: 2,
  input: 'float',
  check(c: NodeChecker, [a, b]: ValueInfo[]) {
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      c.fail(`input shapes [${a.shape}] and [${b.shape}] differ`);
    }
    return { output: { kind: 'float', shape: a.shape.slice() }, attrs: {} };
  },
  bind(ctx: BindContext): Bound {
    const n = size(ctx.out.info);
    const as = prefix(ctx.ins[0].buf as Float32Array, n);
    const bs = prefix(ctx.ins[1].buf as Float32Array, n);
    const ys = prefix(ctx.out.buf as Float32Array, n);
    const shapes = new PerBatch((nb) => [nb * n]);
    const binary = ctx.kernels.binary;
    return {
      run: (nb) =>
        binary('add', as.get(nb), UNIT_STRIDE, bs.get(nb), UNIT_STRIDE, ys.get(nb), shapes.get(nb)),
      wasm: false,
    };
  },
};

/** `sign`: float `[C, L]`/`[C]` → packed bits (bit = x < 0: sign(0) = sign(NaN) = +1). */
export const sign: OpDef = {
  arity: 1,
  input: 'float',
  rank: [2, 1],
  check(_c: NodeChecker, [x]: ValueInfo[]) {
    return { output: { kind: 'bits', shape: x.shape.slice() }, attrs: {} };
  },
  bind(ctx: BindContext, batch: number): Bound {
    const [C, L] = channelsLength(ctx.ins[0].info);
    const p = { batch, channels: C, length: L };
    const pack = ctx.kernels.signPack;
    const X = ctx.ins[0].buf as Float32Array;
    const Y = ctx.out.buf as Uint32Array;
    return {
      run: (nb) => {
        p.batch = nb;
        return pack(X, Y, p);
      },
      // SIMD compare and shifts in WebAssembly: 7 vs 78 µs for 64 × 1000 floats (copies included).
      wasm: ctx.wasm,
      direct: (xi) => {
        p.batch = 1;
        return pack(xi ?? X, Y, p);
      },
      checksInput: true,
    };
  },
};

/** A reshape: the output is the input's buffer (NCL data is contiguous), nothing runs. */
function reshape(input: OpDef['input'], check: OpDef['check']): OpDef {
  return {
    arity: 1,
    input,
    reshape: true,
    check,
    bind: () => ({ run: () => {}, wasm: false }),
  };
}

/** `identity`: same value (allowed on packed bits). */
export const identity: OpDef = {
  ...reshape('any', (_c, [x]) => ({ output: { kind: x.kind, shape: x.shape.slice() }, attrs: {} })),
  elementwise: true,
  monotone: () => ({ finiteToFinite: true, nanFromInfinity: false }),
};
/** `dropout` (inference): the identity. */
export const dropout: OpDef = identity;
/** `flatten`: any float value → `[n]`. */
export const flatten = reshape('float', (_c, [x]) => ({
  output: { kind: 'float', shape: [x.shape.reduce((a, b) => a * b, 1)] },
  attrs: {},
}));
