/**
 * The threshold-packing kernel of the WebAssembly `thresholdPack` (bound by `part-threshold.ts`):
 *
 * - `tpack(x, rowBytes, C, outL, td, dst, W, k, s)`, s ∈ {1, 2}: float rows `[C]` (`rowBytes` apart) → max pool
 *   (window k, stride s, no padding) → the float rule of conventions.ts §7 → packed words `[outL][W]` at `dst`.
 *   `td` holds 16 bytes per channel (`t`, `m`, `lo`, `hi`): for direction +1 `t = threshold`, `m = 0`; for
 *   direction −1 `t = −threshold`, `m = 0x80000000`; `lo` / `hi` all ones when `y' = −∞` / `y' = +∞` gives +1.
 *   With `y' = y ^ m` (the sign flip: exact, a NaN stays NaN) the output is +1 (bit 0) ⇔ a NaN in the window, or
 *   `y'` infinite and its flag set, or `y'` finite and `y' >= t` — i.e. the rule of conventions.ts §7 (a NaN
 *   threshold gives −1 for every finite `y`).
 *
 * Four output positions per vector: for stride 1 the window maximum of outputs u … u+3 is the `f32x4.max` of k
 * shifted loads; for stride 2 of two vectors per shift, whose even lanes are the four windows (`f32x4.max`
 * keeps a NaN, as the reference pool does; it may turn −0 / +0 ties either way, which the rule's comparisons do
 * not tell apart). Channels are visited from the highest to the lowest of each word, `acc = 2·acc − mask`
 * shifting each bit into place (as `bsign`). Reads up to `4·s + k + 4` floats past the windows of a row and
 * writes whole 4-position blocks (the caller leaves slack).
 */
import type { ModuleBuilder } from './builder.js';
import { ValType } from './builder.js';
import { EVEN_LANES, simd, storePositionWords } from './emit-binary.js';

const { i32, v128 } = ValType;

const I32_SHR_U = 0x76;
const F32X4_SPLAT = 0x13;
const F32X4_EQ = 0x41;
const F32X4_GE = 0x46;
const V128_OR = 0x50;
const I8X16_SHUFFLE = 0x0d;
const I32X4_SHL = 0xab;
const I32X4_SUB = 0xb1;

/** Emits `tpack` (see the file comment). */
export function emitThresholdPack(mb: ModuleBuilder): void {
  mb.addFunction('tpack', [i32, i32, i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [x, rowBytes, C, outL, td, dst, W, k, s] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const g = c.local(i32);
    const nc = c.local(i32);
    const u = c.local(i32);
    const ch = c.local(i32);
    const j = c.local(i32);
    const p = c.local(i32);
    const q = c.local(i32);
    const tp = c.local(i32);
    const topRow = c.local(i32);
    const topTd = c.local(i32);
    const addr = c.local(i32);
    const posBytes = c.local(i32);
    const acc = c.local(v128);
    const m = c.local(v128);
    const v = c.local(v128);
    const nan = c.local(v128);
    const ones = c.local(v128);
    const negInf = c.local(v128);
    const posInf = c.local(v128);
    /** One block of four outputs for stride `stride` (1 or 2): the channel loop, then the store. */
    const block = (stride: 1 | 2) => {
      c.v128ConstZero().localSet(acc);
      // p = start of the first window of the block in the group's highest channel row
      c.localGet(topRow)
        .localGet(u)
        .i32Const(stride === 1 ? 2 : 3)
        .i32Shl()
        .i32Add()
        .localSet(p);
      c.localGet(topTd).localSet(tp);
      /** v = the taps of outputs u … u+3 at q: contiguous for stride 1, the even floats of two loads for 2. */
      const tap = () => {
        c.localGet(q).v128Load(0, 2);
        if (stride === 2) {
          c.localGet(q).v128Load(16, 2);
          simd(c, I8X16_SHUFFLE, ...EVEN_LANES);
        }
        c.localTee(v);
        // nan |= v ≠ v
        c.localGet(v);
        c.f32x4Ne().localGet(nan);
        simd(c, V128_OR);
        c.localSet(nan);
      };
      c.forLoop(ch, 0, { local: nc }, 1, () => {
        c.localGet(p).localSet(q);
        c.v128ConstZero().localSet(nan);
        tap();
        c.localGet(v).localSet(m);
        c.forLoop(j, 1, { local: k }, 1, () => {
          c.addTo(q, 4);
          tap();
          c.localGet(m).localGet(v).f32x4Pmax().localSet(m);
        });
        // y' = m ^ sign; plus = y' ≥ t, then the flags where y' = ∓∞, then a NaN gives +1
        c.localGet(m).localGet(tp).v128Load32Splat(4).v128Xor().localSet(m);
        // hi flag, lo flag, then plus = y' ≥ t; the flags where y' = −∞ / +∞ (bitselect(a, b, c) = a where c)
        c.localGet(tp).v128Load32Splat(12);
        c.localGet(tp).v128Load32Splat(8);
        c.localGet(m).localGet(tp).v128Load32Splat(0);
        simd(c, F32X4_GE);
        c.localGet(m).localGet(negInf);
        simd(c, F32X4_EQ);
        c.v128Bitselect();
        c.localGet(m).localGet(posInf);
        simd(c, F32X4_EQ);
        c.v128Bitselect();
        c.localGet(nan);
        simd(c, V128_OR);
        c.localSet(m);
        // acc = 2·acc − plus (the +1 bits; inverted at the store)
        c.localGet(acc).i32Const(1);
        simd(c, I32X4_SHL);
        c.localGet(m);
        simd(c, I32X4_SUB);
        c.localSet(acc);
        c.localGet(p).localGet(rowBytes).i32Sub().localSet(p);
        c.localGet(tp).i32Const(16).i32Sub().localSet(tp);
      });
      // The −1 bits: the group's nc low bits of ~plus.
      c.localGet(acc).localGet(ones).v128Xor().localSet(acc);
      // words of positions u … u+3, group g
      storePositionWords(c, dst, u, g, W, posBytes, addr, acc);
    };
    c.localGet(W).i32Const(2).i32Shl().localSet(posBytes);
    c.f32Const(Number.NEGATIVE_INFINITY).raw(0xfd, F32X4_SPLAT).localSet(negInf);
    c.f32Const(Number.POSITIVE_INFINITY).raw(0xfd, F32X4_SPLAT).localSet(posInf);
    c.forLoop(g, 0, { local: W }, 1, () => {
      // nc = min(32, C − 32g); the group's highest channel: 32g + nc − 1
      c.localGet(C).localGet(g).i32Const(5).i32Shl().i32Sub().localSet(nc);
      c.localGet(nc).i32Const(32).i32GtS();
      c.if();
      c.i32Const(32).localSet(nc);
      c.end();
      c.localGet(g).i32Const(5).i32Shl().localGet(nc).i32Add().i32Const(-1).i32Add().localTee(ch);
      c.localGet(rowBytes).i32Mul().localGet(x).i32Add().localSet(topRow);
      c.localGet(ch).i32Const(4).i32Shl().localGet(td).i32Add().localSet(topTd);
      // ones = splat(2^nc − 1): the group's channel bits (−1 >>> (32 − nc))
      c.i32Const(-1).i32Const(32).localGet(nc).i32Sub();
      c.raw(I32_SHR_U);
      c.i32x4Splat().localSet(ones);
      c.localGet(s).i32Const(1).i32Eq();
      c.if();
      c.forLoop(u, 0, { local: outL }, 4, () => block(1));
      c.else();
      c.forLoop(u, 0, { local: outL }, 4, () => block(2));
      c.end();
    });
  });
}
