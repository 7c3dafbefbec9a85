/**
 * The WebAssembly max pooling of training: `maxPool1d` with indices (the `maxpoolarg` kernel, emit-pool-train.ts)
 * and `maxPool1dBackward` (`poolscatter`), float32. Without indices `maxPool1d` is the inference kernel of
 * part-pool.ts. Rows are copied into linear memory in blocks of about 64 KiB and the results copied out.
 *
 * With indices, the WebAssembly kernel takes windows without padding (padLeft 0 and (T − 1)·s + K ≤ L),
 * dilation 1 and strides 1 and 2 — the pooling layers of the CNNs here; the rest runs the reference kernel.
 */
import { type FloatArray, KernelArgumentError, type Pool1dParams } from '../contract.js';
import { maxPool1d as refMaxPool1d, maxPool1dBackward as refMaxPool1dBackward } from '../ref/pool.js';
import { float32, Layout, type PartContext, type WasmKernelPart } from './arena.js';
import { MAXPOOL_STRIDES } from './emit-pool.js';
import { emitMaxPoolArg, emitPoolScatter } from './emit-pool-train.js';
import { bindMaxPool, maxPoolPart } from './part-pool.js';
import { checkPool1d } from './types.js';

/** Floats of input rows copied per block. */
const BLOCK = 16384;

/** True when a max pool with indices fits `maxpoolarg`: no padding, dilation 1, stride 1 or 2. */
function takesWithIndices(p: Pool1dParams): boolean {
  const { inLength: L, outLength: T, kernelSize: K, stride: s } = p;
  return (
    p.dilation === 1 &&
    MAXPOOL_STRIDES.includes(s) &&
    p.padLeft === 0 &&
    p.batch > 0 &&
    p.channels > 0 &&
    T > 0 &&
    K > 0 &&
    (T - 1) * s + K <= L
  );
}

/** Binds `maxPool1d` (with and without indices) and `maxPool1dBackward` to a module instance. */
function bindPoolTrain(ctx: PartContext) {
  const { arena, exports: k } = ctx;
  const withoutIndices = bindMaxPool(ctx);

  function maxPool1d(xAny: FloatArray, outAny: FloatArray, argOut: Int32Array | null, p: Pool1dParams): void {
    if (argOut === null) {
      withoutIndices(xAny, outAny, null, p);
      return;
    }
    if (!float32(xAny, outAny, null) || !takesWithIndices(p)) {
      refMaxPool1d(xAny, outAny, argOut, p);
      return;
    }
    const x = xAny as Float32Array;
    const out = outAny as Float32Array;
    checkPool1d(p, x, out);
    const { inLength: L, outLength: T, kernelSize: K, stride: s } = p;
    const rows = p.batch * p.channels;
    if (argOut.length < rows * T) {
      throw new KernelArgumentError(`maxPool1d: argOut has ${argOut.length} elements, needs ${rows * T}`);
    }
    const block = Math.max(1, Math.min(rows, Math.floor(BLOCK / L)));
    // Slack: the last step reads up to 4·s + 4 floats past a window and writes 3 values past the last row.
    const lay = new Layout();
    const xAt = lay.take(block * L, 4 * (4 * s + 8));
    const oAt = lay.take(block * T);
    const aAt = lay.take(block * T);
    arena.reserve(lay.bytes);
    const { f32, i32 } = arena.views();
    for (let r0 = 0; r0 < rows; r0 += block) {
      const nr = Math.min(block, rows - r0);
      f32.set(x.subarray(r0 * L, (r0 + nr) * L), xAt / 4);
      k.maxpoolarg(xAt, oAt, aAt, nr, L, T, K, s);
      out.set(f32.subarray(oAt / 4, oAt / 4 + nr * T), r0 * T);
      argOut.set(i32.subarray(aAt / 4, aAt / 4 + nr * T), r0 * T);
    }
  }

  function maxPool1dBackward(
    gAny: FloatArray,
    arg: Int32Array,
    gxAny: FloatArray,
    rows: number,
    inLength: number,
    outLength: number,
  ): void {
    const L = inLength;
    const T = outLength;
    if (!float32(gAny, gxAny, null) || !(rows > 0 && L > 0 && T > 0) || L > BLOCK) {
      refMaxPool1dBackward(gAny, arg, gxAny, rows, L, T);
      return;
    }
    const g = gAny as Float32Array;
    const gx = gxAny as Float32Array;
    if (g.length < rows * T || arg.length < rows * T || gx.length < rows * L) {
      throw new KernelArgumentError(
        `maxPool1dBackward: g (${g.length}), arg (${arg.length}) or gradX (${gx.length}) shorter than ${rows} rows of ${T} and ${L}`,
      );
    }
    const block = Math.max(1, Math.min(rows, Math.floor(BLOCK / L)));
    const lay = new Layout();
    const gAt = lay.take(block * T);
    const aAt = lay.take(block * T);
    const oAt = lay.take(block * L);
    arena.reserve(lay.bytes);
    const { f32, i32 } = arena.views();
    for (let r0 = 0; r0 < rows; r0 += block) {
      const nr = Math.min(block, rows - r0);
      f32.set(g.subarray(r0 * T, (r0 + nr) * T), gAt / 4);
      i32.set(arg.subarray(r0 * T, (r0 + nr) * T), aAt / 4);
      k.poolscatter(gAt, aAt, oAt, nr, L, T);
      gx.set(f32.subarray(oAt / 4, oAt / 4 + nr * L), r0 * L);
    }
  }

  return { maxPool1d, maxPool1dBackward };
}

/**
 * `maxPool1d` with indices (windows without padding, dilation 1, strides 1 and 2) and without (as
 * {@link maxPoolPart}), and `maxPool1dBackward`; the rest runs the reference kernels.
 */
export const maxPoolTrainPart: WasmKernelPart<'maxPool1d' | 'maxPool1dBackward'> = {
  emitters: [...maxPoolPart.emitters, emitMaxPoolArg, emitPoolScatter],
  bind: (ctx) => bindPoolTrain(ctx),
  warm(k) {
    const x = new Float32Array(64).fill(0.5);
    const p = {
      batch: 1,
      channels: 2,
      inLength: 32,
      outLength: 16,
      kernelSize: 2,
      stride: 2,
      padLeft: 0,
      dilation: 1,
    };
    const out = new Float32Array(32);
    const arg = new Int32Array(32);
    k.maxPool1d(x, out, arg, p);
    k.maxPool1dBackward(out, arg, x, 2, 32, 16);
  },
};
