/** The WebAssembly max pooling without indices (inference), on the branch-free `maxpool` kernel (emit-pool.ts). */
import type { FloatArray, Pool1dParams } from '../contract.js';
import { maxPool1d as refMaxPool1d } from '../ref/pool.js';
import { copy, float32, Layout, type PartContext, type WasmKernelPart } from './arena.js';
import { emitMaxPool, MAXPOOL_STRIDES } from './emit-pool.js';
import { checkPool1d } from './types.js';

/** Binds the max pooling kernel to a module instance. */
export function bindMaxPool(ctx: PartContext) {
  const { arena, exports: k } = ctx;
  /**
   * Max pooling without indices (inference): rows copied into linear memory in blocks (padding written as −∞),
   * the branch-free `maxpool` kernel (emit-pool.ts), the block copied out. With indices (training), dilation,
   * strides other than 1 and 2, or a left padding of a whole window, the reference kernel runs.
   */
  function maxPool1d(xAny: FloatArray, outAny: FloatArray, argOut: Int32Array | null, p: Pool1dParams): void {
    if (
      argOut !== null ||
      !float32(xAny, outAny, null) ||
      p.dilation !== 1 ||
      !MAXPOOL_STRIDES.includes(p.stride) ||
      !(p.padLeft < p.kernelSize) ||
      !(p.batch > 0 && p.channels > 0 && p.inLength > 0 && p.outLength > 0 && p.kernelSize > 0)
    ) {
      refMaxPool1d(xAny, outAny, argOut, p);
      return;
    }
    const x = xAny as Float32Array;
    const out = outAny as Float32Array;
    checkPool1d(p, x, out);
    const { inLength: L, outLength: T, kernelSize: K, stride: s, padLeft } = p;
    const rows = p.batch * p.channels;
    // Padded row: the windows of the T outputs, −∞ outside the input (at least the input itself).
    const rowLen = Math.max(padLeft + L, (T - 1) * s + K);
    const padRight = rowLen - padLeft - L;
    // Rows per block: about 64 KiB of input, so a block stays in the L2 cache between copy and kernel.
    const block = Math.max(1, Math.min(rows, Math.floor(16384 / rowLen)));
    // Slack past a block: the kernel's last vector reads up to (4 − 1)·s + 4 floats past a window and writes up
    // to 3 floats past the last row.
    const lay = new Layout();
    const xAt = lay.take(block * rowLen, 4 * (4 * s + 8));
    const oAt = lay.take(block * T);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    const x0 = xAt / 4;
    const o0 = oAt / 4;
    const contiguous = padLeft === 0 && padRight === 0;
    for (let r0 = 0; r0 < rows; r0 += block) {
      const nr = Math.min(block, rows - r0);
      if (contiguous) f32.set(x.subarray(r0 * L, (r0 + nr) * L), x0);
      else {
        for (let r = 0; r < nr; r++) {
          const dst = x0 + r * rowLen;
          f32.fill(Number.NEGATIVE_INFINITY, dst, dst + padLeft);
          copy(f32, dst + padLeft, x, (r0 + r) * L, L);
          f32.fill(Number.NEGATIVE_INFINITY, dst + padLeft + L, dst + rowLen);
        }
      }
      k.maxpool(xAt, oAt, nr, rowLen * 4, T, K, s);
      out.set(f32.subarray(o0, o0 + nr * T), r0 * T);
    }
  }
  return maxPool1d;
}

/** `maxPool1d` without indices, dilation 1, strides 1 and 2 (the rest runs the reference). */
export const maxPoolPart: WasmKernelPart<'maxPool1d'> = {
  emitters: [emitMaxPool],
  bind: (ctx) => ({ maxPool1d: bindMaxPool(ctx) }),
  warm(k) {
    const f = new Float32Array(16).fill(0.5);
    const p = {
      batch: 1,
      channels: 2,
      inLength: 8,
      outLength: 4,
      kernelSize: 2,
      stride: 2,
      padLeft: 0,
      dilation: 1,
    };
    k.maxPool1d(f, new Float32Array(8), null, p);
  },
};
