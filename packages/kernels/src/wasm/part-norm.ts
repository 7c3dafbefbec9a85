/**
 * The WebAssembly batch normalisation of training: `channelMoments`, `batchNormForward` and
 * `batchNormBackward` (training mode) on float32 data, over the kernels of emit-norm.ts. Rows (one channel of
 * one batch item, `inner` floats) are copied into linear memory in blocks of whole rows of about
 * {@link NORM_BLOCK} floats; per-channel sums are accumulated here in float64 in row order (batch item 0, 1, …),
 * from each row's four partial sums. When the whole tensor fits in one block it is copied once for both passes
 * (moments: sum, then squared deviations; backward: sums, then the gradient).
 *
 * Differences from the reference kernels (ref/norm.ts): the forward affine map is bit for bit the reference's
 * (the same float64 operations in the same order, one rounding to float32); sums are the same float64 sums
 * taken in another order (four partial sums per row), so means, variances and the gradients of γ and β differ
 * by float64 rounding, and `Σ g·x̂` is taken as invstd · Σ g·(x − μ). Float64 data, eval-mode backward and tensors
 * under {@link NORM_MIN_WASM} values run the reference kernels.
 */
import { type FloatArray, KernelArgumentError } from '../contract.js';
import {
  batchNormBackward as refBatchNormBackward,
  batchNormForward as refBatchNormForward,
  channelMoments as refChannelMoments,
} from '../ref/norm.js';
import { Layout, type PartContext, type WasmKernelPart } from './arena.js';
import { emitBnAffine, emitBnBackward, emitBnSums } from './emit-norm.js';

/** Floats of input rows copied per block (1 MiB per operand). */
export const NORM_BLOCK = 1 << 18;
/** Fewest values for which the WebAssembly kernels run. */
export const NORM_MIN_WASM = 1024;

/** Float64 scratch arrays reused across calls (per-channel sums), grown on demand. */
class F64Scratch {
  private buf = new Float64Array(0);
  /** A zeroed view of `n` values. */
  zeros(n: number): Float64Array {
    if (this.buf.length < n) this.buf = new Float64Array(Math.max(n, 2 * this.buf.length));
    const v = this.buf.subarray(0, n);
    v.fill(0);
    return v;
  }
}

function check(kernel: string, a: ArrayLike<number>, what: string, n: number): void {
  if (a.length < n) throw new KernelArgumentError(`${kernel}: ${what} has ${a.length} elements, needs ${n}`);
}

/** Binds the batch-norm kernels to a module instance. */
function bindNorm(ctx: PartContext) {
  const { arena, exports: k } = ctx;
  const sumsA = new F64Scratch();
  const sumsB = new F64Scratch();
  let f64: Float64Array | null = null;
  /** A float64 view of the arena (re-created after growth). */
  const f64View = (): Float64Array => {
    if (f64 === null || f64.buffer !== arena.memory.buffer) f64 = new Float64Array(arena.memory.buffer);
    return f64;
  };

  /** Block geometry: rows per block, and byte offsets of up to two row operands, per-row outputs and params. */
  function plan(inner: number, rows: number, operands: number, perRow: number) {
    const rowsPerBlock = Math.max(1, Math.min(rows, Math.floor(NORM_BLOCK / inner)));
    const lay = new Layout();
    const xAt = lay.take(rowsPerBlock * inner);
    const gAt = operands > 1 ? lay.take(rowsPerBlock * inner) : 0;
    const outAt = lay.take(rowsPerBlock * inner);
    // Per-row float64 values (perRow of them), 8-byte aligned (Layout aligns to 16).
    const rowAt = lay.take(rowsPerBlock * perRow * 2);
    arena.reserve(lay.bytes);
    return { rowsPerBlock, xAt, gAt, outAt, rowAt, single: rowsPerBlock >= rows };
  }

  function channelMoments(
    xAny: FloatArray,
    batch: number,
    channels: number,
    inner: number,
    mean: Float64Array,
    variance: Float64Array,
  ): void {
    const rows = batch * channels;
    if (!(xAny instanceof Float32Array) || rows * inner < NORM_MIN_WASM || inner === 0) {
      refChannelMoments(xAny, batch, channels, inner, mean, variance);
      return;
    }
    const x = xAny;
    check('channelMoments', x, 'x', rows * inner);
    check('channelMoments', mean, 'mean', channels);
    check('channelMoments', variance, 'variance', channels);
    const m = batch * inner;
    const p = plan(inner, rows, 1, 2);
    const sum = sumsA.zeros(channels);
    const copyIn = (r0: number, nr: number): void => {
      arena.views().f32.set(x.subarray(r0 * inner, (r0 + nr) * inner), p.xAt / 4);
    };
    // Pass 1: Σx per channel.
    for (let r0 = 0; r0 < rows; r0 += p.rowsPerBlock) {
      const nr = Math.min(p.rowsPerBlock, rows - r0);
      copyIn(r0, nr);
      k.bnsum(p.xAt, nr, inner, p.rowAt);
      const v = f64View();
      const at = p.rowAt / 8;
      for (let j = 0; j < nr; j++) sum[(r0 + j) % channels] += v[at + 2 * j] + v[at + 2 * j + 1];
    }
    for (let c = 0; c < channels; c++) mean[c] = sum[c] / m;
    // Pass 2: Σ(x − μ)² per channel (no cancellation), the means per row in the parameter area.
    const ss = sumsB.zeros(channels);
    const muAt = p.rowAt + p.rowsPerBlock * 16;
    arena.reserve(muAt + p.rowsPerBlock * 8 + 64);
    for (let r0 = 0; r0 < rows; r0 += p.rowsPerBlock) {
      const nr = Math.min(p.rowsPerBlock, rows - r0);
      if (!p.single) copyIn(r0, nr);
      const v = f64View();
      for (let j = 0; j < nr; j++) v[muAt / 8 + j] = mean[(r0 + j) % channels];
      k.bnsqdev(p.xAt, nr, inner, muAt, p.rowAt);
      const at = p.rowAt / 8;
      for (let j = 0; j < nr; j++) ss[(r0 + j) % channels] += v[at + 2 * j] + v[at + 2 * j + 1];
    }
    for (let c = 0; c < channels; c++) variance[c] = ss[c] / m;
  }

  function batchNormForward(
    xAny: FloatArray,
    mean: Float64Array,
    invstd: Float64Array,
    weight: FloatArray | null,
    bias: FloatArray | null,
    outAny: FloatArray,
    batch: number,
    channels: number,
    inner: number,
  ): void {
    const rows = batch * channels;
    if (
      !(xAny instanceof Float32Array && outAny instanceof Float32Array) ||
      rows * inner < NORM_MIN_WASM ||
      inner === 0
    ) {
      refBatchNormForward(xAny, mean, invstd, weight, bias, outAny, batch, channels, inner);
      return;
    }
    const [x, out] = [xAny, outAny];
    check('batchNormForward', x, 'x', rows * inner);
    check('batchNormForward', out, 'out', rows * inner);
    const p = plan(inner, rows, 1, 2);
    const scaleAt = p.rowAt;
    const shiftAt = p.rowAt + p.rowsPerBlock * 8;
    for (let r0 = 0; r0 < rows; r0 += p.rowsPerBlock) {
      const nr = Math.min(p.rowsPerBlock, rows - r0);
      const { f32 } = arena.views();
      f32.set(x.subarray(r0 * inner, (r0 + nr) * inner), p.xAt / 4);
      const v = f64View();
      for (let j = 0; j < nr; j++) {
        const c = (r0 + j) % channels;
        // The reference's scale and shift, in the same float64 operations.
        const scale = invstd[c] * (weight ? weight[c] : 1);
        v[scaleAt / 8 + j] = scale;
        v[shiftAt / 8 + j] = (bias ? bias[c] : 0) - mean[c] * scale;
      }
      k.bnaffine(p.xAt, nr, inner, scaleAt, shiftAt, p.outAt);
      out.set(arena.views().f32.subarray(p.outAt / 4, p.outAt / 4 + nr * inner), r0 * inner);
    }
  }

  function batchNormBackward(
    xAny: FloatArray,
    gAny: FloatArray,
    mean: Float64Array,
    invstd: Float64Array,
    weight: FloatArray | null,
    gxAny: FloatArray | null,
    gw: FloatArray | null,
    gb: FloatArray | null,
    batch: number,
    channels: number,
    inner: number,
    training: boolean,
  ): void {
    const rows = batch * channels;
    if (
      !training ||
      !(xAny instanceof Float32Array && gAny instanceof Float32Array) ||
      (gxAny !== null && !(gxAny instanceof Float32Array)) ||
      rows * inner < NORM_MIN_WASM ||
      inner === 0
    ) {
      refBatchNormBackward(xAny, gAny, mean, invstd, weight, gxAny, gw, gb, batch, channels, inner, training);
      return;
    }
    const [x, g, gx] = [xAny, gAny, gxAny as Float32Array | null];
    check('batchNormBackward', x, 'x', rows * inner);
    check('batchNormBackward', g, 'g', rows * inner);
    if (gx) check('batchNormBackward', gx, 'gx', rows * inner);
    const m = batch * inner;
    // Per row: 4 float64 of sums (pass 1) or 5 parameters (pass 2), and the means.
    const p = plan(inner, rows, 2, 5);
    const copyIn = (r0: number, nr: number): void => {
      const { f32 } = arena.views();
      f32.set(x.subarray(r0 * inner, (r0 + nr) * inner), p.xAt / 4);
      f32.set(g.subarray(r0 * inner, (r0 + nr) * inner), p.gAt / 4);
    };
    const sumG = sumsA.zeros(channels);
    const sumGXm = sumsB.zeros(channels);
    const muAt = p.rowAt + p.rowsPerBlock * 40;
    arena.reserve(muAt + p.rowsPerBlock * 8 + 64);
    for (let r0 = 0; r0 < rows; r0 += p.rowsPerBlock) {
      const nr = Math.min(p.rowsPerBlock, rows - r0);
      copyIn(r0, nr);
      const v = f64View();
      for (let j = 0; j < nr; j++) v[muAt / 8 + j] = mean[(r0 + j) % channels];
      k.bngsums(p.xAt, p.gAt, nr, inner, muAt, p.rowAt);
      const at = p.rowAt / 8;
      for (let j = 0; j < nr; j++) {
        const c = (r0 + j) % channels;
        sumG[c] += v[at + 4 * j] + v[at + 4 * j + 1];
        sumGXm[c] += v[at + 4 * j + 2] + v[at + 4 * j + 3];
      }
    }
    // Σ g·x̂ = invstd · Σ g·(x − μ)
    for (let c = 0; c < channels; c++) {
      const sumGXhat = sumGXm[c] * invstd[c];
      if (gw !== null) gw[c] = sumGXhat;
      if (gb !== null) gb[c] = sumG[c];
      sumGXm[c] = sumGXhat;
    }
    if (gx === null) return;
    for (let r0 = 0; r0 < rows; r0 += p.rowsPerBlock) {
      const nr = Math.min(p.rowsPerBlock, rows - r0);
      if (!p.single) copyIn(r0, nr);
      const v = f64View();
      for (let j = 0; j < nr; j++) {
        const c = (r0 + j) % channels;
        const at = p.rowAt / 8 + 5 * j;
        v[at] = mean[c];
        v[at + 1] = invstd[c];
        v[at + 2] = sumGXm[c] / m;
        v[at + 3] = sumG[c] / m;
        v[at + 4] = (weight ? weight[c] : 1) * invstd[c];
      }
      k.bngrad(p.xAt, p.gAt, nr, inner, p.rowAt, p.outAt);
      gx.set(arena.views().f32.subarray(p.outAt / 4, p.outAt / 4 + nr * inner), r0 * inner);
    }
  }

  return { channelMoments, batchNormForward, batchNormBackward };
}

/** The batch-norm kernels of training (a part of the training module, wasm-kernels.ts). */
export const normPart: WasmKernelPart<'channelMoments' | 'batchNormForward' | 'batchNormBackward'> = {
  emitters: [emitBnSums, emitBnAffine, emitBnBackward],
  bind: bindNorm,
  warm(kn) {
    const [b, c, l] = [2, 3, 200];
    const x = new Float32Array(b * c * l).map((_, i) => Math.sin(i));
    const mean = new Float64Array(c);
    const variance = new Float64Array(c);
    kn.channelMoments(x, b, c, l, mean, variance);
    const invstd = variance.map((v) => 1 / Math.sqrt(v + 1e-5));
    const out = new Float32Array(x.length);
    kn.batchNormForward(x, mean, invstd, null, null, out, b, c, l);
    kn.batchNormBackward(x, out, mean, invstd, null, new Float32Array(x.length), null, null, b, c, l, true);
  },
};
