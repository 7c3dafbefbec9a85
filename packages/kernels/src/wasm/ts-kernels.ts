/**
 * TypeScript implementations of {@link Kernels}: the fallback when WebAssembly SIMD is missing or
 * switched off, and the oracle the WebAssembly kernels are tested against.
 *
 * Loops are ordered so the innermost loop runs over contiguous memory; padding is handled by
 * computing each tap's valid output range once instead of testing every element. No allocation
 * happens inside the loops. Binary kernels follow packages/infer/src/binary/conventions.ts.
 */
import { popcount32 } from '../binary/conventions.js';
import {
  type BinaryConv1dParams,
  type BinaryConv1dPlan,
  type BinaryConvEpilogue,
  type BinaryDenseParams,
  type Conv1dParams,
  checkBinaryConv1d,
  checkBinaryConvPlan,
  checkBinaryDense,
  checkBinaryPlanCall,
  checkConv1d,
  checkMatmul,
  checkPool1d,
  checkSignPack,
  KernelArgumentError,
  type Kernels,
  type MatmulOptions,
  matmulOptions,
  type Pool1dParams,
  type SignPackParams,
} from './types.js';

/**
 * Valid output range `[t0, t1)` of one tap: input index `t·stride + offset` lies in
 * `[0, inLength)` exactly for these `t`, clipped to `[0, outLength)`.
 */
function tapRange(offset: number, stride: number, inLength: number, outLength: number): [number, number] {
  const t0 = offset >= 0 ? 0 : Math.ceil(-offset / stride);
  const last = inLength - 1 - offset; // t·stride ≤ last
  const t1 = last < 0 ? 0 : Math.floor(last / stride) + 1;
  return [Math.min(t0, outLength), Math.max(Math.min(t1, outLength), Math.min(t0, outLength))];
}

/** `out[bt] = op(a[bt]) @ op(b[bt])`, see {@link Kernels.matmul}. */
export function matmulTs(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  options?: MatmulOptions | boolean,
): void {
  const opts = matmulOptions(options);
  const { sa, sb } = checkMatmul(a, b, out, batch, m, k, n, opts);
  // a(i, p) = a[aOff + i·ai + p·ap]; b(p, j) = b[bOff + p·bp + j·bj]
  const ai = transA ? 1 : k;
  const ap = transA ? m : 1;
  for (let bt = 0; bt < batch; bt++) {
    const aOff = bt * sa;
    const bOff = bt * sb;
    const oOff = bt * m * n;
    if (!opts.accumulate) out.fill(0, oOff, oOff + m * n);
    if (!transB) {
      // i-p-j order: the inner loop streams a row of b and a row of out; two rows of out per pass.
      let i = 0;
      for (; i + 1 < m; i += 2) {
        const o0 = oOff + i * n;
        const o1 = o0 + n;
        for (let p = 0; p < k; p++) {
          const a0 = a[aOff + i * ai + p * ap];
          const a1 = a[aOff + (i + 1) * ai + p * ap];
          const br = bOff + p * n;
          for (let j = 0; j < n; j++) {
            const bv = b[br + j];
            out[o0 + j] += a0 * bv;
            out[o1 + j] += a1 * bv;
          }
        }
      }
      for (; i < m; i++) {
        const o0 = oOff + i * n;
        for (let p = 0; p < k; p++) {
          const a0 = a[aOff + i * ai + p * ap];
          const br = bOff + p * n;
          for (let j = 0; j < n; j++) out[o0 + j] += a0 * b[br + j];
        }
      }
    } else {
      // b is [n, k]: dot products of a row of op(a) with a row of b, four accumulators.
      for (let i = 0; i < m; i++) {
        const o0 = oOff + i * n;
        for (let j = 0; j < n; j++) {
          const br = bOff + j * k;
          let s0 = 0;
          let s1 = 0;
          let p = 0;
          for (; p + 1 < k; p += 2) {
            s0 += a[aOff + i * ai + p * ap] * b[br + p];
            s1 += a[aOff + i * ai + (p + 1) * ap] * b[br + p + 1];
          }
          for (; p < k; p++) s0 += a[aOff + i * ai + p * ap] * b[br + p];
          out[o0 + j] += s0 + s1;
        }
      }
    }
  }
}

/** Conv1d forward, see {@link Kernels.conv1dForward}. */
export function conv1dForwardTs(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  p: Conv1dParams,
): void {
  checkConv1d(p, x, w, out);
  const {
    batch,
    inChannels,
    outChannels,
    inLength: L,
    outLength: T,
    kernelSize: K,
    stride: s,
    dilation: d,
  } = p;
  const cg = inChannels / p.groups;
  const og = outChannels / p.groups;
  const pad = p.padValue;
  if (bias && bias.length < outChannels) throw new RangeError(`conv1d: bias has ${bias.length} elements`);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outChannels; o++) {
      const g = Math.floor(o / og);
      const orow = (b * outChannels + o) * T;
      out.fill(bias ? bias[o] : 0, orow, orow + T);
      for (let c = 0; c < cg; c++) {
        const xrow = (b * inChannels + g * cg + c) * L;
        const wrow = (o * cg + c) * K;
        for (let j = 0; j < K; j++) {
          const wv = w[wrow + j];
          const off = j * d - p.padLeft;
          const [t0, t1] = tapRange(off, s, L, T);
          if (pad !== 0) {
            const pv = wv * pad;
            for (let t = 0; t < t0; t++) out[orow + t] += pv;
            for (let t = t1; t < T; t++) out[orow + t] += pv;
          }
          let xi = xrow + t0 * s + off;
          for (let t = t0; t < t1; t++, xi += s) out[orow + t] += wv * x[xi];
        }
      }
      if (p.activation === 'relu') for (let t = 0; t < T; t++) if (!(out[orow + t] > 0)) out[orow + t] = 0;
    }
  }
}

/** Conv1d gradient with respect to the input, see {@link Kernels.conv1dBackwardInput}. */
export function conv1dBackwardInputTs(
  gradOut: Float32Array,
  w: Float32Array,
  gradX: Float32Array,
  p: Conv1dParams,
): void {
  checkConv1d(p, gradX, w, gradOut);
  const {
    batch,
    inChannels,
    outChannels,
    inLength: L,
    outLength: T,
    kernelSize: K,
    stride: s,
    dilation: d,
  } = p;
  const cg = inChannels / p.groups;
  const og = outChannels / p.groups;
  gradX.fill(0, 0, batch * inChannels * L);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outChannels; o++) {
      const g = Math.floor(o / og);
      const grow = (b * outChannels + o) * T;
      for (let c = 0; c < cg; c++) {
        const xrow = (b * inChannels + g * cg + c) * L;
        const wrow = (o * cg + c) * K;
        for (let j = 0; j < K; j++) {
          const wv = w[wrow + j];
          const off = j * d - p.padLeft;
          const [t0, t1] = tapRange(off, s, L, T);
          let xi = xrow + t0 * s + off;
          for (let t = t0; t < t1; t++, xi += s) gradX[xi] += wv * gradOut[grow + t];
        }
      }
    }
  }
}

/** Conv1d gradient with respect to the weight, see {@link Kernels.conv1dBackwardWeight}. */
export function conv1dBackwardWeightTs(
  x: Float32Array,
  gradOut: Float32Array,
  gradW: Float32Array,
  p: Conv1dParams,
): void {
  checkConv1d(p, x, gradW, gradOut);
  const {
    batch,
    inChannels,
    outChannels,
    inLength: L,
    outLength: T,
    kernelSize: K,
    stride: s,
    dilation: d,
  } = p;
  const cg = inChannels / p.groups;
  const og = outChannels / p.groups;
  const pad = p.padValue;
  gradW.fill(0, 0, outChannels * cg * K);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outChannels; o++) {
      const g = Math.floor(o / og);
      const grow = (b * outChannels + o) * T;
      for (let c = 0; c < cg; c++) {
        const xrow = (b * inChannels + g * cg + c) * L;
        const wrow = (o * cg + c) * K;
        for (let j = 0; j < K; j++) {
          const off = j * d - p.padLeft;
          const [t0, t1] = tapRange(off, s, L, T);
          let acc = 0;
          let xi = xrow + t0 * s + off;
          for (let t = t0; t < t1; t++, xi += s) acc += gradOut[grow + t] * x[xi];
          if (pad !== 0) {
            let edge = 0;
            for (let t = 0; t < t0; t++) edge += gradOut[grow + t];
            for (let t = t1; t < T; t++) edge += gradOut[grow + t];
            acc += pad * edge;
          }
          gradW[wrow + j] += acc;
        }
      }
    }
  }
}

/** Max pooling, see {@link Kernels.maxPool1dForward}. Padding never wins (it acts as −∞); NaN propagates. */
export function maxPool1dForwardTs(
  x: Float32Array,
  out: Float32Array,
  argmax: Int32Array,
  p: Pool1dParams,
): void {
  checkPool1d(p, x, out);
  if (argmax.length < p.batch * p.channels * p.outLength) {
    throw new KernelArgumentError(
      `maxPool1d: argmax has ${argmax.length} elements, needs ${p.batch * p.channels * p.outLength}`,
    );
  }
  const { inLength: L, outLength: T, kernelSize: K, stride: s, padLeft } = p;
  // Windows [t·s − padLeft, t·s − padLeft + K) lie fully inside the row for t in [t0, t1).
  const t0 = Math.min(T, Math.ceil(padLeft / s));
  const t1 = Math.max(t0, Math.min(T, Math.floor((L - K + padLeft) / s) + 1));
  const rows = p.batch * p.channels;
  for (let r = 0; r < rows; r++) {
    const xr = r * L;
    const orow = r * T;
    for (let t = t0; t < t1; t++) {
      let i = xr + t * s - padLeft;
      let best = x[i];
      let arg = i;
      for (let j = 1; j < K; j++) {
        const v = x[++i];
        // take v if larger, or if v is NaN while best is not (NaN propagates, as in PyTorch)
        if (!(v <= best) && !Number.isNaN(best)) {
          best = v;
          arg = i;
        }
      }
      out[orow + t] = best;
      argmax[orow + t] = arg - xr;
    }
    // edge windows (partly or wholly padding)
    for (let t = 0; t < T; t++) {
      if (t === t0) t = t1;
      if (t >= T) break;
      const start = t * s - padLeft;
      const i0 = Math.max(0, start);
      const i1 = Math.min(L, start + K);
      let best = Number.NEGATIVE_INFINITY;
      let arg = i1 > i0 ? i0 : -1;
      for (let i = i0; i < i1; i++) {
        const v = x[xr + i];
        if (!(v <= best) && !Number.isNaN(best)) {
          best = v;
          arg = i;
        }
      }
      out[orow + t] = best;
      argmax[orow + t] = arg;
    }
  }
}

/** Average pooling over in-range positions (`count_include_pad = false`), see {@link Kernels.avgPool1dForward}. */
export function avgPool1dForwardTs(x: Float32Array, out: Float32Array, p: Pool1dParams): void {
  checkPool1d(p, x, out);
  const { inLength: L, outLength: T, kernelSize: K, stride: s } = p;
  const rows = p.batch * p.channels;
  for (let r = 0; r < rows; r++) {
    const xr = r * L;
    const orow = r * T;
    for (let t = 0; t < T; t++) {
      const start = t * s - p.padLeft;
      const i0 = Math.max(0, start);
      const i1 = Math.min(L, start + K);
      let acc = 0;
      for (let i = i0; i < i1; i++) acc += x[xr + i];
      out[orow + t] = i1 > i0 ? acc / (i1 - i0) : 0;
    }
  }
}

/** Binary conv1d on packed words, see {@link Kernels.binaryConv1d}. */
export function binaryConv1dTs(
  xPacked: Uint32Array,
  wPacked: Uint32Array,
  out: Int32Array,
  p: BinaryConv1dParams,
): void {
  checkBinaryConv1d(p, xPacked, wPacked, out);
  const {
    batch,
    inChannels: C,
    outChannels,
    inLength: L,
    outLength: T,
    kernelSize: K,
    stride: s,
    dilation: d,
  } = p;
  const words = Math.ceil(C / 32);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outChannels; o++) {
      const orow = (b * outChannels + o) * T;
      for (let t = 0; t < T; t++) {
        let acc = 0;
        for (let j = 0; j < K; j++) {
          const i = t * s + j * d - p.padLeft;
          const wi = (o * K + j) * words;
          let pc = 0;
          if (i >= 0 && i < L) {
            const xi = (b * L + i) * words;
            for (let q = 0; q < words; q++) pc += popcount32(xPacked[xi + q] ^ wPacked[wi + q]);
          } else if (p.padValue === 1) {
            // +1 padding is all-zero bits: x ^ w = w.
            for (let q = 0; q < words; q++) pc += popcount32(wPacked[wi + q]);
          } else continue; // zero padding: the tap contributes nothing
          // NOTE: dot of ±1 vectors = C − 2·(number of differing signs).
          acc += C - 2 * pc;
        }
        out[orow + t] = acc;
      }
    }
  }
}

/** Binary dense on packed words, see {@link Kernels.binaryDense}. */
export function binaryDenseTs(
  xPacked: Uint32Array,
  wPacked: Uint32Array,
  out: Int32Array,
  p: BinaryDenseParams,
): void {
  checkBinaryDense(p, xPacked, wPacked, out);
  const words = Math.ceil(p.inFeatures / 32);
  for (let b = 0; b < p.batch; b++) {
    for (let o = 0; o < p.outFeatures; o++) {
      let pc = 0;
      for (let q = 0; q < words; q++) pc += popcount32(xPacked[b * words + q] ^ wPacked[o * words + q]);
      out[b * p.outFeatures + o] = p.inFeatures - 2 * pc;
    }
  }
}

/** The TypeScript kernel set. */
/** Max pooling without indices, see {@link Kernels.maxPool1d}: the values of {@link maxPool1dForwardTs}. */
export function maxPool1dTs(x: Float32Array, out: Float32Array, p: Pool1dParams): void {
  checkPool1d(p, x, out);
  const { inLength: L, outLength: T, kernelSize: K, stride: s, padLeft } = p;
  const rows = p.batch * p.channels;
  for (let r = 0; r < rows; r++) {
    const xr = r * L;
    for (let t = 0; t < T; t++) {
      const start = t * s - padLeft;
      const i0 = Math.max(0, start);
      const i1 = Math.min(L, start + K);
      let best = Number.NEGATIVE_INFINITY;
      for (let i = i0; i < i1; i++) {
        const v = x[xr + i];
        // take v if larger, or if v is NaN while best is not (NaN propagates, as in PyTorch)
        if (!(v <= best) && !Number.isNaN(best)) best = v;
      }
      out[r * T + t] = best;
    }
  }
}

/** Sign packing, see {@link Kernels.signPack}: bit = `x < 0` (conventions.ts §1–3). */
export function signPackTs(x: Float32Array, out: Uint32Array, p: SignPackParams): void {
  checkSignPack(p, x, out);
  const { batch, channels: C, length: L } = p;
  const W = Math.ceil(C / 32);
  out.fill(0, 0, batch * L * W);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < C; c++)
      for (let t = 0; t < L; t++)
        if (x[(b * C + c) * L + t] < 0) out[(b * L + t) * W + (c >>> 5)] |= 1 << (c & 31);
}

/**
 * A prepared binary conv, see {@link Kernels.prepareBinaryConv1d}: {@link binaryConv1dTs} for the dots, then the
 * max pool, and the float copy or the threshold rule of conventions.ts §6 (plain loops: the oracle).
 */
export function prepareBinaryConv1dTs(
  wPacked: Uint32Array,
  p: BinaryConv1dParams,
  epilogue: BinaryConvEpilogue,
): BinaryConv1dPlan {
  const { outLength, outSize } = checkBinaryConvPlan(p, wPacked, epilogue);
  const w = wPacked.slice(0, p.outChannels * p.kernelSize * Math.ceil(p.inChannels / 32));
  const q = { ...p, batch: 1 };
  const { batch, outChannels: O, inChannels: C, inLength: L, outLength: T } = p;
  const W = Math.ceil(C / 32);
  const Wo = Math.ceil(O / 32);
  const pool = epilogue.pool ? { ...epilogue.pool } : null;
  const thr = epilogue.thresholds
    ? { threshold: epilogue.thresholds.threshold.slice(), direction: epilogue.thresholds.direction.slice() }
    : null;
  const dots = new Int32Array(O * T);
  const xs = new Uint32Array(L * W);
  const run = (x: Uint32Array, out: Float32Array | Uint32Array) => {
    checkBinaryPlanCall(batch, L * W, outSize, thr !== null, x, out);
    for (let b = 0; b < batch; b++) {
      xs.set(x.subarray(b * L * W, (b + 1) * L * W));
      binaryConv1dTs(xs, w, dots, q);
      const at = b * outSize;
      if (thr) out.fill(0, at, at + outSize);
      for (let o = 0; o < O; o++) {
        for (let u = 0; u < outLength; u++) {
          let y = dots[o * T + (pool ? u * pool.stride : u)];
          if (pool)
            for (let j = 1; j < pool.kernelSize; j++) y = Math.max(y, dots[o * T + u * pool.stride + j]);
          if (!thr) out[at + o * outLength + u] = y;
          else {
            const t = thr.threshold[o];
            const plus = thr.direction[o] > 0 ? y >= t : y <= t;
            if (!plus) out[at + u * Wo + (o >>> 5)] |= 1 << (o & 31);
          }
        }
      }
    }
  };
  const packed = new Uint32Array(batch * L * W);
  return {
    outLength,
    outSize,
    run,
    runFloat: (x, out) => {
      checkBinaryPlanCall(batch, C * L, outSize, thr !== null, x, out);
      signPackTs(x, packed, { batch, channels: C, length: L });
      run(packed, out);
    },
  };
}

export const tsKernels: Kernels = {
  kind: 'typescript',
  matmul: matmulTs,
  conv1dForward: conv1dForwardTs,
  conv1dBackwardInput: conv1dBackwardInputTs,
  conv1dBackwardWeight: conv1dBackwardWeightTs,
  maxPool1dForward: maxPool1dForwardTs,
  avgPool1dForward: avgPool1dForwardTs,
  maxPool1d: maxPool1dTs,
  binaryConv1d: binaryConv1dTs,
  binaryDense: binaryDenseTs,
  signPack: signPackTs,
  prepareBinaryConv1d: prepareBinaryConv1dTs,
};
