/**
 * Pooling over time. Each (window, channel) row is independent, so `nb` windows of `[C, L]` are `nb·C` rows of
 * one kernel call: max pooling (`maxPool1d`, the WebAssembly kernel when the set has one: branch-free, where the
 * TypeScript compare-and-select mispredicts on activations), average pooling (`avgPool1d`, padding counted),
 * global average (`avgPool1d` with one window of the whole row: the float64 mean), global max and sum over time
 * (`reduce`).
 */
import type { Pool1dParams } from '@ecgnn/kernels';
import {
  type BindContext,
  type Bound,
  type NodeChecker,
  type OpDef,
  type ValueInfo,
  windowOutputLength,
  windows,
} from './types.js';

/** Shape check of `maxPool1d`/`avgPool1d`: `[C, L]` → `[C, L']`, padding at most half the kernel. */
function checkPool(c: NodeChecker, [x]: ValueInfo[]) {
  const K = c.int('kernelSize', undefined, 1);
  const window = c.windowAttrs(K, false, x.shape[1], x.shape[0]);
  if (window.padLeft * 2 > K || window.padRight * 2 > K) c.fail('padding must be at most half the kernel');
  const T = windowOutputLength(x.shape[1], window);
  return { output: { kind: 'float' as const, shape: [x.shape[0], T] }, attrs: { window } };
}

/** The pooling geometry of a bound `[C, L]` → `[C, T]` node for `batch` windows. */
function poolParams(ctx: BindContext, batch: number): Pool1dParams {
  const [C, L] = ctx.ins[0].info.shape;
  const win = ctx.attrs.window!;
  return {
    batch,
    channels: C,
    inLength: L,
    outLength: ctx.out.info.shape[1],
    kernelSize: win.kernelSize,
    stride: win.stride,
    padLeft: win.padLeft,
    dilation: 1,
  };
}

/** `maxPool1d`: padded positions are −∞, NaN propagates (PyTorch). */
export const maxPool1d: OpDef = {
  arity: 1,
  input: 'float',
  rank: [2],
  check: checkPool,
  bind(ctx: BindContext, batch: number): Bound {
    const p = poolParams(ctx, batch);
    const pool = ctx.kernels.maxPool1d;
    const X = ctx.ins[0].buf as Float32Array;
    const Y = ctx.out.buf as Float32Array;
    // NOTE: the WebAssembly max pool takes strides 1 and 2 with a left padding shorter than the window (it runs
    // the reference kernel otherwise); this only labels the plan.
    const wasm = ctx.wasm && (p.stride === 1 || p.stride === 2) && p.padLeft < p.kernelSize;
    return {
      run: (nb) => {
        p.batch = nb;
        pool(X, Y, null, p);
      },
      wasm,
    };
  },
};

/** `avgPool1d`: padded positions count as zeros, the divisor is the kernel size. */
export const avgPool1d: OpDef = {
  arity: 1,
  input: 'float',
  rank: [2],
  check: checkPool,
  bind(ctx: BindContext, batch: number): Bound {
    const p = poolParams(ctx, batch);
    const { kernelSize: K, stride, padLeft, inLength: L, outLength: T, channels: C } = p;
    const pool = ctx.kernels.avgPool1d;
    const X = ctx.ins[0].buf as Float32Array;
    const Y = ctx.out.buf as Float32Array;
    // The kernel divides by K with padding counted (PyTorch's count_include_pad) but clips windows at the padded
    // end L + padLeft (PyTorch pads both sides alike). When windows reach further into the right padding, the
    // rows are copied into zero-padded scratch rows and pooled without padding: the same sums (zeros added),
    // divided by K.
    if ((T - 1) * stride + K <= L + 2 * padLeft) {
      return {
        run: (nb) => {
          p.batch = nb;
          pool(X, Y, p, true);
        },
        wasm: false,
      };
    }
    const Lp = L + padLeft + ctx.attrs.window!.padRight;
    const padded = new Float32Array(batch * C * Lp);
    const rows = windows(X, L, batch * C);
    const q: Pool1dParams = { ...p, inLength: Lp, padLeft: 0 };
    return {
      run: (nb) => {
        for (let r = 0; r < nb * C; r++) padded.set(rows[r], r * Lp + padLeft);
        q.batch = nb;
        pool(padded, Y, q, true);
      },
      wasm: false,
    };
  },
};

/**
 * The mean over time of `batch` windows of `[C, L]` as the average pool's geometry: one window of `L` per row
 * (`Σ_t x[c, t] / L`, the sum in float64).
 */
export function meanOverTime(batch: number, C: number, L: number): Pool1dParams {
  return {
    batch,
    channels: C,
    inLength: L,
    outLength: 1,
    kernelSize: L,
    stride: L,
    padLeft: 0,
    dilation: 1,
  };
}

/** A global pool over time, `[C, L]` → `[C]`: the mean (average pool of one window) or a `reduce` op. */
function globalPool(op: 'mean' | 'max' | 'sum'): OpDef {
  return {
    arity: 1,
    input: 'float',
    rank: [2],
    check(_c: NodeChecker, [x]: ValueInfo[]) {
      return { output: { kind: 'float', shape: [x.shape[0]] }, attrs: {} };
    },
    bind(ctx: BindContext, batch: number): Bound {
      const [C, L] = ctx.ins[0].info.shape;
      const X = ctx.ins[0].buf as Float32Array;
      const Y = ctx.out.buf as Float32Array;
      const { avgPool1d: avg, reduce } = ctx.kernels;
      const p = meanOverTime(batch, C, L);
      return {
        run:
          op === 'mean'
            ? (nb) => {
                p.batch = nb;
                avg(X, Y, p, true);
              }
            : (nb) => reduce(op, X, Y, nb * C, L, 1),
        wasm: false,
      };
    },
  };
}

/** `globalAvgPool1d`: `out[c] = (Σ_t x[c, t]) / L`, the sum in float64. */
export const globalAvgPool1d = globalPool('mean');
/** `globalMaxPool1d`: `out[c] = max_t x[c, t]`, NaN propagating. */
export const globalMaxPool1d = globalPool('max');
/** `sumOverTime`: `out[c] = Σ_t x[c, t]` in float64 (method 5's head). */
export const sumOverTime = globalPool('sum');
