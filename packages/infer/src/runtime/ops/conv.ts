/**
 * Convolutions: float `conv1d` (contract `conv1dForward`, a following ReLU fused into its store) and
 * `binaryConv1d` on packed bits (a prepared binary conv, `prepareBinaryConv1d`, with its epilogue: max pool on
 * the integer dots, then the float copy or the folded thresholds → packed bits).
 */
import {
  type BinaryConv1dParams,
  type BinaryConv1dPlan,
  type BinaryConvEpilogue,
  type Conv1dParams,
  convPaddingWithinField,
  KernelArgumentError,
  type SignThresholds,
} from '@ecgnn/kernels';
import { binaryPlanTakes } from '@ecgnn/kernels/wasm';
import {
  type BindContext,
  type Bound,
  type NodeChecker,
  type NormalizedAttrs,
  type OpDef,
  size,
  type Value,
  type ValueInfo,
  windowOutputLength,
  windows,
} from './types.js';

/** `conv1d`: `[C, L]` → `[O, L']`, weight `[O, C/groups, K]` (any float dtype or bits), optional bias `[O]`. */
export const conv1d: OpDef = {
  arity: 1,
  input: 'float',
  rank: [2],
  check(c: NodeChecker, [x]: ValueInfo[]) {
    const [C, L] = x.shape;
    const [O, Cg, K] = c.tensor('weight', true, ['outC', 'inC/groups', 'K'], 'float').shape;
    const groups = c.int('groups', 1, 1);
    if (C % groups !== 0 || O % groups !== 0)
      c.fail(`groups ${groups} must divide in (${C}) and out (${O}) channels`);
    if (Cg !== C / groups) c.fail(`weight in-channels ${Cg} ≠ input channels ${C} / groups ${groups}`);
    c.tensor('bias', false, [O], 'float');
    const window = c.windowAttrs(K, true, L, C);
    return {
      output: { kind: 'float', shape: [O, windowOutputLength(L, window)] },
      attrs: { window, groups, padValue: c.num('padValue', 0) },
    };
  },
  bind(ctx: BindContext, batch: number): Bound {
    const [x] = ctx.ins;
    const [C, L] = x.info.shape;
    const [O, T] = ctx.out.info.shape;
    const win = ctx.attrs.window!;
    const w = ctx.floats('weight')!;
    const bias = ctx.floats('bias');
    // The kernel pads on the right up to what `outLength` implies (the window's padRight).
    const p: Conv1dParams = {
      batch,
      inChannels: C,
      outChannels: O,
      inLength: L,
      outLength: T,
      kernelSize: win.kernelSize,
      stride: win.stride,
      dilation: win.dilation,
      padLeft: win.padLeft,
      groups: ctx.attrs.groups ?? 1,
      padValue: ctx.attrs.padValue ?? 0,
      activation: ctx.reluAfter ? 'relu' : 'none',
    };
    // The WebAssembly conv takes padding within the receptive field (else it runs the reference itself).
    const wasm = ctx.wasm && convPaddingWithinField(p);
    const conv = wasm ? ctx.kernels.conv1dForward : ctx.reference.conv1dForward;
    const X = x.buf as Float32Array;
    const Y = ctx.out.buf as Float32Array;
    // NCL: the chunk's windows are consecutive, so one call covers them (only `batch` changes per call).
    return {
      run: (nb) => {
        p.batch = nb;
        conv(X, w, bias, Y, p);
      },
      wasm,
      direct: (xi, yi) => {
        p.batch = 1;
        conv(xi ?? X, w, bias, yi ?? Y, p);
      },
    };
  },
};

/** `binaryConv1d`: bits `[C, L]` → float `[O, L'']` (integer dots), or bits with `threshold`/`direction`. */
export const binaryConv1d: OpDef = {
  arity: 1,
  input: 'bits',
  rank: [2],
  check(c: NodeChecker, [x]: ValueInfo[]) {
    const [C, L] = x.shape;
    const [O, , K] = c.tensor('weight', true, ['outC', C, 'K'], 'bits').shape;
    const window = c.windowAttrs(K, true, L, C);
    const padValue = c.num('padValue', 1);
    if (padValue !== 0 && padValue !== 1) c.fail('padValue must be 0 or +1 for binary convolution');
    let outLength = windowOutputLength(L, window);
    let pool: { kernelSize: number; stride: number } | undefined;
    if (c.attr('pool') !== undefined) {
      // {kernelSize ≤ the conv output, stride (default kernelSize)}
      const kernelSize = c.int('pool.kernelSize', undefined, 1, outLength);
      pool = { kernelSize, stride: c.int('pool.stride', kernelSize, 1) };
      outLength = Math.floor((outLength - kernelSize) / pool.stride) + 1;
    }
    const thr = c.tensor('threshold', false, [O], 'int32');
    if ((thr === undefined) !== (c.tensor('direction', false, [O]) === undefined))
      c.fail('threshold and direction must be given together');
    return {
      output: { kind: thr ? 'bits' : 'float', shape: [O, outLength] },
      attrs: pool ? { window, padValue, pool } : { window, padValue },
    };
  },
  bind(ctx: BindContext, batch: number): Bound {
    return bindBinaryConv(ctx, batch, {
      packed: ctx.ins[0].info,
      x: ctx.ins[0],
      floatInput: false,
      pool: ctx.attrs.pool ?? null,
      thresholds: storedThresholds(ctx),
    });
  },
};

/** Sign thresholds stored with a `binaryConv1d` node (batchnorm + sign folded at export), or null. */
export function storedThresholds(ctx: BindContext): SignThresholds | null {
  const thr = ctx.tensor('threshold');
  if (thr === undefined) return null;
  return ctx.derive('thresholds', () => ({
    threshold: thr.data as Int32Array,
    direction: Int8Array.from(ctx.floats('direction')!, (v) => (v < 0 ? -1 : 1)),
  }));
}

/** The geometry of one window of a `binaryConv1d` on packed `[C, L]` with `O` output channels. */
export function binaryConvParams(packed: ValueInfo, O: number, attrs: NormalizedAttrs): BinaryConv1dParams {
  const [C, L] = packed.shape;
  const win = attrs.window!;
  return {
    batch: 1,
    inChannels: C,
    outChannels: O,
    inLength: L,
    outLength: windowOutputLength(L, win),
    kernelSize: win.kernelSize,
    stride: win.stride,
    dilation: win.dilation,
    padLeft: win.padLeft,
    padValue: attrs.padValue === 0 ? 0 : 1,
  };
}

/** How {@link bindBinaryConv} runs a binary conv layer (plain or fused). */
export interface BinaryConvBinding {
  /** The packed input value's info (`[C, L]` bits): the geometry. */
  packed: ValueInfo;
  /** The value read: the packed bits, or (with `floatInput`) the float input of a fused `sign`. */
  x: Value;
  /** A `sign` fused in front: the float input is sign-packed inside the kernel (`runFloat`). */
  floatInput: boolean;
  /** Max pooling on the integer dots, or null. */
  pool: { kernelSize: number; stride: number } | null;
  /** Folded thresholds (packed output), or null (float output: the dots). */
  thresholds: SignThresholds | null;
}

/**
 * A binary conv layer as one prepared kernel (`prepareBinaryConv1d`, prepared once per binding: weights laid out,
 * specialised code compiled): the WebAssembly set's when it takes the geometry (`binaryPlanTakes`: padding within
 * the receptive field, at most 4096 bits per output), else the reference one. A plan is
 * prepared for one window and runs once per window of a chunk, on views made here (its integer arithmetic makes
 * every window's result the batch-1 result bit for bit).
 */
export function bindBinaryConv(ctx: BindContext, batch: number, b: BinaryConvBinding): Bound {
  const w = ctx.tensor('weight')!;
  const p = binaryConvParams(b.packed, w.entry.shape[0], ctx.attrs);
  const epilogue: BinaryConvEpilogue = { pool: b.pool, thresholds: b.thresholds };
  const wPacked = w.data as Uint32Array;
  let plan: BinaryConv1dPlan | null = null;
  let wasm = false;
  if (ctx.wasm && binaryPlanTakes(p)) {
    try {
      plan = ctx.kernels.prepareBinaryConv1d(wPacked, p, epilogue);
      wasm = true;
    } catch (e) {
      if (!(e instanceof KernelArgumentError)) throw e;
    }
  }
  plan ??= ctx.reference.prepareBinaryConv1d(wPacked, p, epilogue);
  const prepared = plan;
  const xs = windows(b.x.buf, size(b.x.info), batch);
  const ys = windows(ctx.out.buf, size(ctx.out.info), batch);
  if (b.floatInput) {
    const xf = xs as Float32Array[];
    return {
      run: (nb) => {
        let finite = true;
        for (let i = 0; i < nb; i++) finite = prepared.runFloat(xf[i], ys[i]) && finite;
        return finite;
      },
      wasm,
      perWindow: batch > 1,
      direct: (xi, yi) => prepared.runFloat(xi ?? xf[0], yi ?? ys[0]),
      checksInput: true,
    };
  }
  const xb = xs as Uint32Array[];
  return {
    run: (nb) => {
      for (let i = 0; i < nb; i++) prepared.run(xb[i], ys[i]);
    },
    wasm,
    perWindow: batch > 1,
  };
}
