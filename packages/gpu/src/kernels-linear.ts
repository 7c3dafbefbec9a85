/**
 * Matmul and 1-D convolution (forward, input gradient, weight gradient) on gpu.js: one thread per output
 * element, each a dot product over a constant range (the geometry is written into the source).
 */
import type { Conv1dParams, FloatArray, Kernels, MatmulParams } from '@ecgnn/kernels';
import { dispatch, type GpuContext, iterationRefusal, runOnDevice, storeOutput } from './context.js';
import { decode, kernelSource, lit } from './source.js';

/**
 * `out[b, i, j] = Σ_q op(A[b])[i, q]·op(B[b])[q, j]` (+ `c[b, i, j]` when accumulating: the old `out` is an
 * input of the kernel).
 */
function matmulSource(p: MatmulParams): string {
  const { m, k, n } = p;
  const sa = p.batchStrideA ?? m * k;
  const sb = p.batchStrideB ?? k * n;
  // Element (r, c) of op(A) is at aRow·r + aCol·c; of op(B) at bRow·r + bCol·c.
  const [aRow, aCol] = p.transA ? [1, m] : [k, 1];
  const [bRow, bCol] = p.transB ? [1, k] : [n, 1];
  const args = p.accumulate ? ['a', 'b', 'c'] : ['a', 'b'];
  return kernelSource(
    args,
    `${decode(['bt', 'i', 'j'], [p.batch, m, n])}
  const a0 = bt * ${lit(sa)} + i * ${lit(aRow)};
  const b0 = bt * ${lit(sb)} + j * ${lit(bCol)};
  let s = 0;
  for (let q = 0; q < ${lit(k)}; q++) {
    s += a[a0 + q * ${lit(aCol)}] * b[b0 + q * ${lit(bRow)}];
  }
  return ${p.accumulate ? 's + c[this.thread.x]' : 's'};`,
  );
}

/** `x` at padded position `pos` of channel row `row` (`padValue` outside `[0, L)`), as source. */
function paddedRead(p: Conv1dParams, row: string, pos: string, target: string): string {
  return `let ${target} = ${lit(p.padValue)};
      if (${pos} >= 0 && ${pos} < ${lit(p.inLength)}) {
        ${target} = x[${row} * ${lit(p.inLength)} + ${pos}];
      }`;
}

/** Conv forward: `out[b, o, t] = act(bias[o] + Σ_{c, j} w[o, c, j]·xpad[b, g·Cg + c, t·s + j·d − padLeft])`. */
function convForwardSource(p: Conv1dParams, hasBias: boolean): string {
  const cg = p.inChannels / p.groups;
  const og = p.outChannels / p.groups;
  const args = hasBias ? ['x', 'w', 'bias'] : ['x', 'w'];
  const ret = p.activation === 'relu' ? 'return s > 0 ? s : 0;' : 'return s;';
  return kernelSource(
    args,
    `${decode(['b', 'o', 't'], [p.batch, p.outChannels, p.outLength])}
  const g = Math.floor(o / ${lit(og)});
  let s = ${hasBias ? 'bias[o]' : '0'};
  for (let c = 0; c < ${lit(cg)}; c++) {
    const row = b * ${lit(p.inChannels)} + g * ${lit(cg)} + c;
    for (let j = 0; j < ${lit(p.kernelSize)}; j++) {
      const pos = t * ${lit(p.stride)} + j * ${lit(p.dilation)} - ${lit(p.padLeft)};
      ${paddedRead(p, 'row', 'pos', 'xv')}
      s += w[(o * ${lit(cg)} + c) * ${lit(p.kernelSize)} + j] * xv;
    }
  }
  ${ret}`,
  );
}

/**
 * Conv input gradient: `gx[b, ci, l] = Σ_{o in ci's group, j} gradOut[b, o, t]·w[o, c, j]` over the taps with
 * `t·s = l + padLeft − j·d` for an integer `t` in `[0, T)` (the adjoint of the forward; padding gets nothing).
 */
function convBackwardInputSource(p: Conv1dParams): string {
  const cg = p.inChannels / p.groups;
  const og = p.outChannels / p.groups;
  return kernelSource(
    ['gradOut', 'w'],
    `${decode(['b', 'ci', 'l'], [p.batch, p.inChannels, p.inLength])}
  const g = Math.floor(ci / ${lit(cg)});
  const c = ci - g * ${lit(cg)};
  let s = 0;
  for (let j = 0; j < ${lit(p.kernelSize)}; j++) {
    const tp = l + ${lit(p.padLeft)} - j * ${lit(p.dilation)};
    const t = Math.floor(tp / ${lit(p.stride)});
    if (tp >= 0 && t * ${lit(p.stride)} == tp && t < ${lit(p.outLength)}) {
      for (let oo = 0; oo < ${lit(og)}; oo++) {
        const o = g * ${lit(og)} + oo;
        s += gradOut[(b * ${lit(p.outChannels)} + o) * ${lit(p.outLength)} + t] * w[(o * ${lit(cg)} + c) * ${lit(p.kernelSize)} + j];
      }
    }
  }
  return s;`,
  );
}

/** Conv weight gradient: `gw[o, c, j] = Σ_{b, t} xpad[b, g·Cg + c, t·s + j·d − padLeft]·gradOut[b, o, t]`. */
function convBackwardWeightSource(p: Conv1dParams): string {
  const cg = p.inChannels / p.groups;
  const og = p.outChannels / p.groups;
  return kernelSource(
    ['x', 'gradOut'],
    `${decode(['o', 'c', 'j'], [p.outChannels, cg, p.kernelSize])}
  const g = Math.floor(o / ${lit(og)});
  let s = 0;
  for (let b = 0; b < ${lit(p.batch)}; b++) {
    const row = b * ${lit(p.inChannels)} + g * ${lit(cg)} + c;
    for (let t = 0; t < ${lit(p.outLength)}; t++) {
      const pos = t * ${lit(p.stride)} + j * ${lit(p.dilation)} - ${lit(p.padLeft)};
      ${paddedRead(p, 'row', 'pos', 'xv')}
      s += xv * gradOut[(b * ${lit(p.outChannels)} + o) * ${lit(p.outLength)} + t];
    }
  }
  return s;`,
  );
}

/** Cache key of a convolution geometry. */
function convKey(p: Conv1dParams): string {
  return [
    p.batch,
    p.inChannels,
    p.outChannels,
    p.inLength,
    p.outLength,
    p.kernelSize,
    p.stride,
    p.dilation,
    p.padLeft,
    p.groups,
    p.padValue,
  ].join(',');
}

/** Why a convolution geometry stays on CPU (a non-finite pad value cannot be a literal), or null. */
function convRefusal(p: Conv1dParams): string | null {
  return Number.isFinite(p.padValue) ? null : `pad value ${p.padValue}`;
}

/** The matmul and convolution kernels of the backend. */
export function linearKernels(
  ctx: GpuContext,
): Pick<Kernels, 'matmul' | 'conv1dForward' | 'conv1dBackwardInput' | 'conv1dBackwardWeight'> {
  return {
    matmul(a: FloatArray, b: FloatArray, out: FloatArray, p: MatmulParams): void {
      dispatch(ctx, 'matmul', [a, b, out, p], [a, b, out], iterationRefusal(ctx, p.k), () => {
        const key = [
          p.batch,
          p.m,
          p.k,
          p.n,
          p.transA,
          p.transB,
          p.batchStrideA,
          p.batchStrideB,
          p.accumulate,
        ];
        const args = p.accumulate ? [a, b, out] : [a, b];
        const size = p.batch * p.m * p.n;
        const r = runOnDevice(ctx, 'matmul', key.join(','), () => ({ source: matmulSource(p), size }), args);
        storeOutput(ctx, out, r);
      });
    },
    conv1dForward(
      x: FloatArray,
      w: FloatArray,
      bias: FloatArray | null,
      out: FloatArray,
      p: Conv1dParams,
    ): void {
      dispatch(
        ctx,
        'conv1dForward',
        [x, w, bias, out, p],
        [x, w, bias, out],
        convRefusal(p) ?? iterationRefusal(ctx, (p.inChannels / p.groups) * (p.kernelSize + 1)),
        () => {
          const size = p.batch * p.outChannels * p.outLength;
          const key = `${convKey(p)},${bias !== null},${p.activation ?? 'none'}`;
          const make = () => ({ source: convForwardSource(p, bias !== null), size });
          const r = runOnDevice(ctx, 'conv1dForward', key, make, bias === null ? [x, w] : [x, w, bias]);
          storeOutput(ctx, out, r);
        },
      );
    },
    conv1dBackwardInput(gradOut: FloatArray, w: FloatArray, gradX: FloatArray, p: Conv1dParams): void {
      dispatch(
        ctx,
        'conv1dBackwardInput',
        [gradOut, w, gradX, p],
        [gradOut, w, gradX],
        iterationRefusal(ctx, p.kernelSize * (p.outChannels / p.groups + 1)),
        () => {
          const size = p.batch * p.inChannels * p.inLength;
          const make = () => ({ source: convBackwardInputSource(p), size });
          const r = runOnDevice(ctx, 'conv1dBackwardInput', convKey(p), make, [gradOut, w]);
          storeOutput(ctx, gradX, r);
        },
      );
    },
    conv1dBackwardWeight(x: FloatArray, gradOut: FloatArray, gradW: FloatArray, p: Conv1dParams): void {
      dispatch(
        ctx,
        'conv1dBackwardWeight',
        [x, gradOut, gradW, p],
        [x, gradOut, gradW],
        convRefusal(p) ?? iterationRefusal(ctx, p.batch * (p.outLength + 1)),
        () => {
          const size = p.outChannels * (p.inChannels / p.groups) * p.kernelSize;
          const make = () => ({ source: convBackwardWeightSource(p), size });
          const r = runOnDevice(ctx, 'conv1dBackwardWeight', convKey(p), make, [x, gradOut]);
          storeOutput(ctx, gradW, r);
        },
      );
    },
  };
}
