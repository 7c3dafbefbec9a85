/**
 * 1-D pooling on gpu.js: `maxPool1d` (the device finds the argmax positions, then reads the values there),
 * `avgPool1d` and its adjoint `avgPool1dBackward`. `maxPool1dBackward` stays on CPU: the contract gives it only
 * the saved positions (no window geometry), so on the device it would be a scatter or an O(L·T) search, while
 * the reference is one O(T) pass.
 */
import type { FloatArray, Kernels, Pool1dParams } from '@ecgnn/kernels';
import {
  dispatch,
  freeValue,
  type GpuContext,
  iterationRefusal,
  readValue,
  runOnDevice,
  storeOutput,
} from './context.js';
import { decode, kernelSource, lit } from './source.js';

/**
 * Position of the maximum in the window of output `(row, t)`: taps `pos = t·s − padLeft + k·d` inside `[0, L)`;
 * the first maximum wins, a NaN wins once seen and stays (the reference's rule
 * `arg < 0 || (!(v <= best) && best == best)`); −1 for a window without input.
 */
function maxPoolSource(p: Pool1dParams): string {
  const rows = p.batch * p.channels;
  return kernelSource(
    ['x'],
    `${decode(['row', 't'], [rows, p.outLength])}
  const start = t * ${lit(p.stride)} - ${lit(p.padLeft)};
  let best = 0;
  let arg = -1;
  for (let k = 0; k < ${lit(p.kernelSize)}; k++) {
    const pos = start + k * ${lit(p.dilation)};
    if (pos >= 0 && pos < ${lit(p.inLength)}) {
      const v = x[row * ${lit(p.inLength)} + pos];
      if (arg < 0 || (!(v <= best) && best == best)) {
        best = v;
        arg = pos;
      }
    }
  }
  return arg;`,
  );
}

/** −∞ as a kernel argument (a GLSL source cannot spell it). */
const NEG_INF = Float32Array.of(Number.NEGATIVE_INFINITY);

/** Max-pool values from the positions of {@link maxPoolSource}: `x[row, pos]`, or `neg[0]` (−∞) for −1. */
function maxPoolValuesSource(p: Pool1dParams): string {
  const rows = p.batch * p.channels;
  return kernelSource(
    ['x', 'pos', 'neg'],
    `${decode(['row', 't'], [rows, p.outLength])}
  const a = pos[this.thread.x];
  if (a >= 0) {
    return x[row * ${lit(p.inLength)} + a];
  }
  return neg[0];`,
  );
}

/**
 * The window of output `t` for average pooling (PyTorch's rule): `[a, e)` with `a = t·s − padLeft`,
 * `e = min(a + K, L + padLeft)`, divisor `e − a` (countIncludePad) or the part inside `[0, L)`, as source.
 */
function avgWindow(p: Pool1dParams, countIncludePad: boolean): string {
  return `const a0 = t * ${lit(p.stride)} - ${lit(p.padLeft)};
    const e0 = Math.min(a0 + ${lit(p.kernelSize)}, ${lit(p.inLength + p.padLeft)});
    const a1 = Math.max(a0, 0);
    const e1 = Math.min(e0, ${lit(p.inLength)});
    const div = ${countIncludePad ? 'e0 - a0' : 'e1 - a1'};`;
}

/** Average pooling forward: `out[row, t] = Σ_{i in [a1, e1)} x[row, i] / div` (0 when div is 0). */
function avgPoolSource(p: Pool1dParams, countIncludePad: boolean): string {
  return kernelSource(
    ['x'],
    `${decode(['row', 't'], [p.batch * p.channels, p.outLength])}
    ${avgWindow(p, countIncludePad)}
  let s = 0;
  for (let k = 0; k < ${lit(p.kernelSize)}; k++) {
    const i = a0 + k;
    if (i >= a1 && i < e1) {
      s += x[row * ${lit(p.inLength)} + i];
    }
  }
  if (div > 0) {
    return s / div;
  }
  return 0;`,
  );
}

/**
 * Average pooling adjoint: `gx[row, l] = Σ_t g[row, t]/div_t` over the outputs whose window holds `l`, i.e.
 * `t·s = l + padLeft − k` for a tap `k < K` and an integer `t` in `[0, T)`, with `l` inside `[a1, e1)`.
 */
function avgPoolBackwardSource(p: Pool1dParams, countIncludePad: boolean): string {
  return kernelSource(
    ['g'],
    `${decode(['row', 'l'], [p.batch * p.channels, p.inLength])}
  let s = 0;
  for (let k = 0; k < ${lit(p.kernelSize)}; k++) {
    const tp = l + ${lit(p.padLeft)} - k;
    const t = Math.floor(tp / ${lit(p.stride)});
    if (tp >= 0 && t * ${lit(p.stride)} == tp && t < ${lit(p.outLength)}) {
      ${avgWindow(p, countIncludePad)}
      if (l >= a1 && l < e1 && div > 0) {
        s += g[row * ${lit(p.outLength)} + t] / div;
      }
    }
  }
  return s;`,
  );
}

/** Cache key of a pooling geometry. */
function poolKey(p: Pool1dParams): string {
  return [p.batch, p.channels, p.inLength, p.outLength, p.kernelSize, p.stride, p.padLeft, p.dilation].join(
    ',',
  );
}

/** The pooling kernels of the backend. */
export function poolKernels(ctx: GpuContext): Pick<Kernels, 'maxPool1d' | 'avgPool1d' | 'avgPool1dBackward'> {
  return {
    maxPool1d(x: FloatArray, out: FloatArray, argOut: Int32Array | null, p: Pool1dParams): void {
      dispatch(ctx, 'maxPool1d', [x, out, argOut, p], [x, out], iterationRefusal(ctx, p.kernelSize), () => {
        // The device finds each window's first-maximum position, then reads the values there (−∞ for a window
        // without input comes from an argument: GLSL has no infinite literal). Positions go to the host only
        // when asked for (training: the gradient kernel runs on CPU).
        const size = p.batch * p.channels * p.outLength;
        const key = poolKey(p);
        const pos = runOnDevice(ctx, 'maxPool1d', key, () => ({ source: maxPoolSource(p), size }), [x]);
        const make = () => ({ source: maxPoolValuesSource(p), size });
        const values = ctx.runner.run('maxPool1d', `values,${key}`, make, [
          ctx.residency.input(x),
          pos,
          NEG_INF,
        ]);
        storeOutput(ctx, out, values);
        if (argOut !== null) {
          const host = readValue(ctx, pos);
          for (let i = 0; i < size; i++) argOut[i] = host[i];
        }
        freeValue(pos);
      });
    },
    avgPool1d(x: FloatArray, out: FloatArray, p: Pool1dParams, countIncludePad: boolean): void {
      dispatch(
        ctx,
        'avgPool1d',
        [x, out, p, countIncludePad],
        [x, out],
        iterationRefusal(ctx, p.kernelSize),
        () => {
          const size = p.batch * p.channels * p.outLength;
          const make = () => ({ source: avgPoolSource(p, countIncludePad), size });
          storeOutput(ctx, out, runOnDevice(ctx, 'avgPool1d', `${poolKey(p)},${countIncludePad}`, make, [x]));
        },
      );
    },
    avgPool1dBackward(g: FloatArray, gradX: FloatArray, p: Pool1dParams, countIncludePad: boolean): void {
      dispatch(
        ctx,
        'avgPool1dBackward',
        [g, gradX, p, countIncludePad],
        [g, gradX],
        iterationRefusal(ctx, p.kernelSize),
        () => {
          const size = p.batch * p.channels * p.inLength;
          const make = () => ({ source: avgPoolBackwardSource(p, countIncludePad), size });
          const key = `${poolKey(p)},${countIncludePad}`;
          storeOutput(ctx, gradX, runOnDevice(ctx, 'avgPool1dBackward', key, make, [g]));
        },
      );
    },
  };
}
