/**
 * The WebAssembly `thresholdPack` (conventions.ts §7) on `tpack` (emit-threshold.ts): the float rows of a batch
 * entry are copied into linear memory, pooled, compared and packed there, and the words copied out. Pools of
 * stride above 2 run the reference kernel.
 */
import type { ThresholdPackParams } from '../contract.js';
import { checkThresholdPack, thresholdPack as refThresholdPack } from '../ref/threshold-pack.js';
import { Layout, type PartContext, roundUp, type WasmKernelPart } from './arena.js';
import { emitThresholdPack } from './emit-threshold.js';

/** Sign bit of a float32: the `m` of a direction −1 channel (see emit-threshold.ts). */
const SIGN_BIT = -0x80000000;

/** Binds `thresholdPack` to a module instance. */
function bindThresholdPack(ctx: PartContext) {
  const { arena, exports: k } = ctx;
  function thresholdPack(x: Float32Array, out: Uint32Array, p: ThresholdPackParams): void {
    const s = p.pool ? p.pool.stride : 1;
    if (s > 2 || !(x instanceof Float32Array) || !(out instanceof Uint32Array)) {
      refThresholdPack(x, out, p);
      return;
    }
    const T = checkThresholdPack(p, x, out);
    const { batch, channels: C, length: L } = p;
    const W = Math.ceil(C / 32);
    const kSize = p.pool ? p.pool.kernelSize : 1;
    const { threshold, direction, minusInf, plusInf } = p.thresholds;
    const lay = new Layout();
    // Slack: `tpack` reads up to 4·s + k + 4 floats past a row's windows and writes whole 4-position blocks.
    const xAt = lay.take(batch * C * L, 4 * (4 * s + kSize + 8));
    const tdAt = lay.take(4 * C);
    const oAt = lay.take(batch * T * W + 4 * W);
    arena.reserve(lay.bytes);
    const { f32, i32, u32 } = arena.views();
    f32.set(x.subarray(0, batch * C * L), xAt / 4);
    // Per channel (t, m, lo, hi) in the sign-flipped domain y' = ±y (emit-threshold.ts): for direction −1,
    // y' = −∞ is y = +∞.
    for (let c = 0; c < C; c++) {
      const up = direction[c] > 0;
      const at = tdAt / 4 + 4 * c;
      f32[at] = up ? threshold[c] : -threshold[c];
      i32[at + 1] = up ? 0 : SIGN_BIT;
      i32[at + 2] = (up ? minusInf[c] : plusInf[c]) === 0 ? -1 : 0;
      i32[at + 3] = (up ? plusInf[c] : minusInf[c]) === 0 ? -1 : 0;
    }
    // Entry b's last block writes past its positions into entry b + 1's, which its own call then overwrites.
    for (let b = 0; b < batch; b++)
      k.tpack(xAt + b * C * L * 4, L * 4, C, T, tdAt, oAt + b * T * W * 4, W, kSize, s);
    out.set(u32.subarray(oAt / 4, oAt / 4 + batch * T * W));
  }
  return { thresholdPack };
}

/** `thresholdPack` (pool strides 1 and 2 on WebAssembly, the rest on the reference kernel). */
export const thresholdPart: WasmKernelPart<'thresholdPack'> = {
  emitters: [emitThresholdPack],
  bind: bindThresholdPack,
  warm(k) {
    const x = new Float32Array(roundUp(3 * 40, 4)).fill(0.5);
    const thresholds = {
      threshold: new Float32Array(3),
      direction: new Int8Array([1, -1, 1]),
      minusInf: new Uint8Array([1, 0, 1]),
      plusInf: new Uint8Array([0, 1, 0]),
    };
    k.thresholdPack(x, new Uint32Array(40), { batch: 1, channels: 3, length: 40, pool: null, thresholds });
    k.thresholdPack(x, new Uint32Array(40), {
      batch: 1,
      channels: 3,
      length: 40,
      pool: { kernelSize: 3, stride: 2 },
      thresholds,
    });
  },
};
