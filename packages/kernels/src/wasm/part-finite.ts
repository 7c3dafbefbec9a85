/**
 * The WebAssembly `firstNonFinite` for float32 arrays: the values are copied into linear memory in blocks and
 * scanned by the `nonfinite` kernel (emit-finite.ts); the block holding a NaN or ±∞ is then searched by the reference kernel for
 * the exact index. A scan in TypeScript reads about one value per 1.5 cycles; copy and SIMD scan together take
 * about a third of that (64 000 values: 11 µs instead of 30–50 µs on the development machine), which is what a
 * model's input check costs on every call (`@ecgnn/infer` rejects non-finite inputs).
 */
import type { TypedArray } from '../contract.js';
import { firstNonFinite as refFirstNonFinite } from '../ref/elementwise.js';
import { Layout, type PartContext, type WasmKernelPart } from './arena.js';
import { emitNonFinite } from './emit-finite.js';

/** Values copied and scanned per block (64 KiB: the block stays in the L2 cache between copy and scan). */
const BLOCK = 16384;
/**
 * Values searched in TypeScript before any copy: a caller stepping from one non-finite value to the next (one
 * call per value) pays for what it skips, not for a block copy per call; short arrays never reach WebAssembly.
 */
const HEAD = 1024;

/** Binds `firstNonFinite` to a module instance. */
function bindFinite(ctx: PartContext) {
  const { arena, exports: k } = ctx;
  return function firstNonFinite(x: TypedArray, offset = 0, length = x.length - offset): number {
    if (!(x instanceof Float32Array) || length <= 2 * HEAD) return refFirstNonFinite(x, offset, length);
    const head = refFirstNonFinite(x, offset, HEAD);
    if (head >= 0) return head;
    const lay = new Layout();
    const at = lay.take(BLOCK);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    const i0 = at / 4;
    for (let s = offset + HEAD, end = offset + length; s < end; s += BLOCK) {
      const n = Math.min(BLOCK, end - s);
      const n16 = Math.ceil(n / 16) * 16;
      f32.set(x.subarray(s, s + n), i0);
      f32.fill(0, i0 + n, i0 + n16);
      if (k.nonfinite(at, at + 4 * n16) !== 0) return refFirstNonFinite(x, s, n);
    }
    return -1;
  };
}

/** `firstNonFinite` on float32 arrays of more than 2048 values (the rest: the reference kernel). */
export const finitePart: WasmKernelPart<'firstNonFinite'> = {
  emitters: [emitNonFinite],
  bind: (ctx) => ({ firstNonFinite: bindFinite(ctx) }),
  warm(k) {
    k.firstNonFinite(new Float32Array(4 * HEAD));
  },
};
