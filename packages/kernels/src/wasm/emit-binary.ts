/**
 * The binary (XOR/popcount) kernels. Bit layout: `../binary/conventions.ts`.
 *
 * - `bconv` ({@link emitBconv}), part of the shared kernel module built by `emit.ts`: the generic loop kernel
 *   (binary dense layers, and convolutions whose receptive field is too long to unroll);
 * - {@link buildBinaryDotsModule}: a conv dots kernel specialised for one shape (unrolled term list, constant
 *   offsets), emitted and compiled at run time, cached per shape;
 * - {@link buildBinaryHelperModule}: sign packing of float activations, max pooling on the integer dots and the
 *   folded threshold comparison with repacking into bits, in WebAssembly SIMD.
 *
 * `binary-plan.ts` binds them to a kernel set's memory.
 */
import { type FunctionCode, ModuleBuilder, uleb128, ValType } from './builder.js';

const { i32, i64, v128 } = ValType;

/**
 * bconv(xPtr, wPtr, outPtr, ocBlocks, outL, nTaps, pairs, xStepT, xStepTap, totalBits, outRow)
 * For each block of 4 output channels and each pair of positions (t, t+1) (outL even):
 * out[(4·ob + r)·outRow + 4t] = totalBits − 2·Σ_tap Σ_pair popcnt(x64 ^ w64[r]), with x read at
 * `xPtr + t·xStepT + tap·xStepTap + 8·pair` and w interleaved as [ob][tap·pairs + pair][r] (i64 each).
 * Tile 4 channels × 2 positions: 8 i64 accumulators, each w word loaded once for two positions.
 */
export function emitBconv(mb: ModuleBuilder): void {
  mb.addFunction('bconv', [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [xPtr, wPtr, outPtr, ocBlocks, outL, nTaps, pairs, xStepT, xStepTap, totalBits, outRow] = [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ];
    const ob = c.local(i32);
    const t = c.local(i32);
    const tap = c.local(i32);
    const pr = c.local(i32);
    const wBlock = c.local(i32);
    const wp = c.local(i32);
    const xt = c.local(i32);
    const xp = c.local(i32);
    const xq = c.local(i32);
    const op = c.local(i32);
    const blockBytes = c.local(i32);
    const x0 = c.local(i64);
    const x1 = c.local(i64);
    const w = c.local(i64);
    const acc = Array.from({ length: 8 }, () => c.local(i64));
    // blockBytes = nTaps·pairs·32
    c.localGet(nTaps).localGet(pairs).i32Mul().i32Const(5).i32Shl().localSet(blockBytes);
    c.forLoop(ob, 0, { local: ocBlocks }, 1, () => {
      c.localGet(wPtr).localGet(ob).localGet(blockBytes).i32Mul().i32Add().localSet(wBlock);
      c.forLoop(t, 0, { local: outL }, 2, () => {
        for (const a of acc) c.i64Const(0).localSet(a);
        c.localGet(wBlock).localSet(wp);
        c.localGet(xPtr).localGet(t).localGet(xStepT).i32Mul().i32Add().localSet(xt);
        c.forLoop(tap, 0, { local: nTaps }, 1, () => {
          c.localGet(xt).localSet(xp);
          c.localGet(xt).localGet(xStepT).i32Add().localSet(xq);
          c.forLoop(pr, 0, { local: pairs }, 1, () => {
            c.localGet(xp).i64Load(0).localSet(x0);
            c.localGet(xq).i64Load(0).localSet(x1);
            for (let r = 0; r < 4; r++) {
              c.localGet(wp)
                .i64Load(8 * r)
                .localSet(w);
              c.localGet(acc[r]).localGet(x0).localGet(w).i64Xor().i64Popcnt().i64Add().localSet(acc[r]);
              c.localGet(acc[4 + r])
                .localGet(x1)
                .localGet(w)
                .i64Xor()
                .i64Popcnt()
                .i64Add()
                .localSet(acc[4 + r]);
            }
            c.addTo(xp, 8);
            c.addTo(xq, 8);
            c.addTo(wp, 32);
          });
          c.addTo(xt, { local: xStepTap });
        });
        // op = outPtr + ob·4·outRow + t·4
        c.localGet(outPtr).localGet(ob).i32Const(2).i32Shl().localGet(outRow).i32Mul().i32Add();
        c.localGet(t).i32Const(2).i32Shl().i32Add().localSet(op);
        for (let r = 0; r < 4; r++) {
          c.localGet(op)
            .localGet(totalBits)
            .localGet(acc[r])
            .i32WrapI64()
            .i32Const(1)
            .i32Shl()
            .i32Sub()
            .i32Store(0);
          c.localGet(op)
            .localGet(totalBits)
            .localGet(acc[4 + r])
            .i32WrapI64()
            .i32Const(1)
            .i32Shl()
            .i32Sub()
            .i32Store(4);
          if (r < 3) c.addTo(op, { local: outRow });
        }
      });
    });
  });
}
// ---------------------------------------------------------------------------------------------------------
// Shape-specialised binary dots kernel and the binary helper module (sign packing, pooling on the dots,
// thresholds → packed bits), used by the binary conv plans of `binary-plan.ts`.

// Instructions the shared builder has no method for, written as raw bytes (WebAssembly 2.0 opcode tables):
// scalar opcodes, and SIMD sub-opcodes after the 0xFD prefix.
const I64_LOAD32_U = 0x35;
const F32_LT = 0x5d;
const F32_CONVERT_I32_S = 0xb2;
const SELECT = 0x1b;
const I8X16_SHUFFLE = 0x0d;
const I32X4_LT_S = 0x39;
const F32X4_LT = 0x43;
const I32X4_SHL = 0xab;
const I32X4_SUB = 0xb1;
const I32X4_MAX_S = 0xb8;
const I32X4_MAX_U = 0xb9;
const I32X4_BITMASK = 0xa4;
const V128_AND = 0x4e;
const I8X16_NARROW_I16X8_S = 0x65;
const I8X16_SUB = 0x71;
const I16X8_NARROW_I32X4_S = 0x85;

/** Emits the SIMD instruction `0xfd sub` with its immediates. */
export function simd(c: FunctionCode, sub: number, ...immediates: number[]): void {
  c.raw(0xfd, ...uleb128(sub), ...immediates);
}

/** Byte lanes of `i8x16.shuffle` picking 32-bit lanes 0, 2 of `a` and 0, 2 of `b` (the even lanes of a‖b). */
export const EVEN_LANES = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
/** `i8x16.shuffle` lanes interleaving the low (high) 8 bytes of a and b: halfwords `a[i] | b[i] << 8`. */
const INTERLEAVE_LOW_BYTES = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
const INTERLEAVE_HIGH_BYTES = [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31];
/** `i8x16.shuffle` lanes interleaving the low (high) 4 halfwords of a and b: words `a[i] | b[i] << 16`. */
const INTERLEAVE_LOW_HALFWORDS = [0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23];
const INTERLEAVE_HIGH_HALFWORDS = [8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31];

/**
 * One 64-bit term of a binary dot product: the input bits at byte offset `x` from the first word of an output
 * position's receptive field, 64 bits (`wide`, two `u32` words) or 32 bits (read zero-extended with
 * `i64.load32_u`, so the neighbouring word never enters the count). The matching weight bits are one i64 per
 * term, laid out in term order (high half 0 for a 32-bit term).
 */
export interface BinaryTerm {
  x: number;
  wide: boolean;
}

/**
 * The terms of one output position for an input laid out `[position][W]` `u32` words (conventions.ts §3):
 * tap k covers words `k·dilation·W … k·dilation·W + W − 1` from the position's first word. With dilation 1 the
 * K taps form one contiguous run of K·W words, read as ⌈K·W/2⌉ terms (only the last may be 32 bits), so a
 * 32-channel layer does not waste half of every popcount on padding; with dilation > 1 each tap is read on its
 * own (⌈W/2⌉ terms per tap).
 */
export function binaryTerms(W: number, K: number, dilation: number): BinaryTerm[] {
  const terms: BinaryTerm[] = [];
  const run = (startWord: number, words: number) => {
    for (let i = 0; i < words; i += 2) terms.push({ x: 4 * (startWord + i), wide: i + 1 < words });
  };
  if (dilation === 1) run(0, K * W);
  else for (let k = 0; k < K; k++) run(k * dilation * W, W);
  return terms;
}

/** Longest term list the unrolled dots kernel accepts (one module stays well under 4 KiB). */
export const BINARY_DOTS_MAX_TERMS = 64;

/** Shape of a {@link buildBinaryDotsModule} kernel. */
export interface BinaryDotsSpec {
  /** Terms of one output position (at most {@link BINARY_DOTS_MAX_TERMS}). */
  terms: readonly BinaryTerm[];
  /** Bytes between the first input words of consecutive output positions (stride · W · 4). */
  posStep: number;
  /** Output channels × positions per step. */
  tc: number;
  tt: number;
  /** Number of valid ±1 terms per output (C·K). */
  totalBits: number;
  /** Store the dots as float32 (exact below 2²⁴) instead of int32. */
  float: boolean;
}

/**
 * Register tile of the dots kernel for `n` terms per output: tc channels × tt positions, so that a step holds
 * 100–200 terms (the unrolled module stays under 4 KiB up to {@link BINARY_DOTS_MAX_TERMS} terms). Measured on
 * the development machine (64 output channels, L 1000, one process, interleaved, minimum of 15 rounds, µs):
 *
 * | n (W words, K) | 4×8 | 2×8 | 1×8 | 1×16 | 2×16 | 2×4 | 1×2 |
 * |---|---|---|---|---|---|---|---|
 * | 1 (1, 1) | 24.2 | 21.6 | 20.7 | 21.2 | 23.1 | 21.6 | 26.2 |
 * | 4 (1, 7) | 53.7 | 54.1 | 53.9 | 53.0 | 53.5 | 56.7 | 63.6 |
 * | 5 (2, 5) | 64.7 | 64.3 | 67.7 | 61.7 | 64.0 | 67.5 | 78.3 |
 * | 10 (4, 5) | – | 130.4 | 128.0 | 122.7 | – | 130.8 | 136.4 |
 * | 11 (2, 11) | – | 137.2 | 134.8 | 133.2 | – | 141.6 | 145.8 |
 *
 * The previous kernel (`bconvRun`, 2 × 2, all x and w loads of a step hoisted by the compiler and spilled) took
 * 90–115 µs for n = 5.
 */
export function binaryDotsTile(n: number): { tc: number; tt: number } {
  if (n <= 12) return { tc: 1, tt: 16 };
  if (n <= 24) return { tc: 1, tt: 8 };
  if (n <= 40) return { tc: 1, tt: 4 };
  return { tc: 1, tt: 2 };
}

/**
 * A binary conv dots kernel specialised for one term list, position step and tile (emitted at run time,
 * compiled once per shape and cached by the caller):
 *
 * bdots(xPtr, wPtr, outPtr, ocTiles, blocks, tail, outRow)
 * For each tile of `tc` output channels (weights `[channel][term]` i64, `tc` channel rows per tile) and each
 * output position t (`blocks` blocks of `tt` positions, then `tail` single positions):
 * `out[o·outRow + 4t] = 2·Σ_terms popcnt(x ^ w') − totalBits` (int32, or float32 with `spec.float`), x read at
 * `xPtr + t·posStep + term.x`. The weights w' are the complements of the packed weights on their valid bits
 * (bits of channels that exist; the rest 0), so the popcount counts the agreeing signs A and
 * `dot = A − (C·K − A) = 2A − C·K` — one shift and one subtraction per output (`lea` on x64), where
 * `C·K − 2·popcount(x ^ w)` costs one more instruction (measured 66 vs 71 µs at 64→64, K 5, L 1000).
 *
 * Each output is computed and stored on its own ("serial" order inside the tile): every store ends the live
 * range of the loads before it, so the compiler cannot hoist the whole tile's loads to the top of the loop and
 * spill them — the load, xor, popcnt, add per term then run at about 0.7 cycles per term on x64.
 * The tile's weights are read once per channel tile into locals (they stay in registers or in spill slots used
 * as memory operands).
 */
export function buildBinaryDotsModule(spec: BinaryDotsSpec): Uint8Array<ArrayBuffer> {
  const { terms, posStep, tc, tt, totalBits } = spec;
  const n = terms.length;
  if (n < 1 || n > BINARY_DOTS_MAX_TERMS) throw new RangeError(`buildBinaryDotsModule: ${n} terms`);
  const mb = new ModuleBuilder().importMemory('env', 'memory', 1);
  mb.addFunction('bdots', [i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [xPtr, wPtr, outPtr, ocTiles, blocks, tail, outRow] = [0, 1, 2, 3, 4, 5, 6];
    const ob = c.local(i32);
    const t = c.local(i32);
    const xp = c.local(i32);
    const op = c.local(i32);
    const wp = c.local(i32);
    const orow = c.local(i32);
    const rowOff = Array.from({ length: tc }, () => c.local(i32));
    const acc = c.local(i64);
    const wl = Array.from({ length: tc * n }, () => c.local(i64));
    /** acc = Σ popcnt(x ^ w) for channel r of the tile at the position `q` steps after xp; then store it. */
    const output = (r: number, q: number) => {
      for (let i = 0; i < n; i++) {
        const { x, wide } = terms[i];
        if (i > 0) c.localGet(acc);
        c.localGet(xp);
        if (wide) c.i64Load(q * posStep + x);
        else c.raw(I64_LOAD32_U, ...uleb128(2), ...uleb128(q * posStep + x));
        c.localGet(wl[r * n + i])
          .i64Xor()
          .i64Popcnt();
        if (i > 0) c.i64Add();
        c.localSet(acc);
      }
      c.localGet(op);
      if (r > 0) c.localGet(rowOff[r]).i32Add();
      c.localGet(acc).i32WrapI64().i32Const(1).i32Shl().i32Const(totalBits).i32Sub();
      if (spec.float) {
        c.raw(F32_CONVERT_I32_S);
        c.f32Store(4 * q);
      } else c.i32Store(4 * q);
    };
    for (let r = 1; r < tc; r++) c.localGet(outRow).i32Const(r).i32Mul().localSet(rowOff[r]);
    c.localGet(wPtr).localSet(wp);
    c.localGet(outPtr).localSet(orow);
    c.forLoop(ob, 0, { local: ocTiles }, 1, () => {
      for (let i = 0; i < tc * n; i++)
        c.localGet(wp)
          .i64Load(8 * i)
          .localSet(wl[i]);
      c.localGet(xPtr).localSet(xp);
      c.localGet(orow).localSet(op);
      c.forLoop(t, 0, { local: blocks }, 1, () => {
        for (let r = 0; r < tc; r++) for (let q = 0; q < tt; q++) output(r, q);
        c.addTo(xp, tt * posStep);
        c.addTo(op, 4 * tt);
      });
      c.forLoop(t, 0, { local: tail }, 1, () => {
        for (let r = 0; r < tc; r++) output(r, 0);
        c.addTo(xp, posStep);
        c.addTo(op, 4);
      });
      c.addTo(wp, 8 * tc * n);
      c.localGet(orow).localGet(outRow).i32Const(tc).i32Mul().i32Add().localSet(orow);
    });
  });
  return mb.build();
}

/**
 * Stores the four 32-bit lanes of v128 local `v` at `base`, `base + step`, `base + 2·step`, `base + 3·step`
 * (`step` an i32 local): the words of four consecutive positions when a position holds several words.
 */
function storeLanesStrided(c: FunctionCode, addr: number, v: number, step: number): void {
  for (let lane = 0; lane < 4; lane++) {
    c.localGet(addr).localGet(v).i32x4ExtractLane(lane).i32Store(0);
    if (lane < 3) c.addTo(addr, { local: step });
  }
}

/**
 * Stores v128 local `v`, the words of group `g` at positions `t … t+3` (i32 locals), into `[positions][W]` words
 * at `base` (`W`, `posBytes` = W·4: i32 locals; `addr` a scratch i32 local): one `v128.store` when W = 1, else
 * {@link storeLanesStrided}.
 */
export function storePositionWords(
  c: FunctionCode,
  base: number,
  t: number,
  g: number,
  W: number,
  posBytes: number,
  addr: number,
  v: number,
): void {
  // addr = base + (t·W + g)·4
  c.localGet(base).localGet(t).localGet(W).i32Mul().localGet(g).i32Add().i32Const(2).i32Shl();
  c.i32Add().localSet(addr);
  c.localGet(W).i32Const(1).i32Eq();
  c.if();
  c.localGet(addr).localGet(v).v128Store(0, 2);
  c.else();
  storeLanesStrided(c, addr, v, posBytes);
  c.end();
}

/**
 * The binary helper module (generic, compiled once):
 *
 * - `bsign(xPtr, outPtr, C, L, W) → i32`: floats `[C][L]` → sign bits `[L][W]` words (conventions.ts §1–3:
 *   bit = x < 0, so −0 and NaN give +1). Four positions per `f32x4.lt`; channels are visited from the highest
 *   to the lowest of each word, `acc = 2·acc − mask` shifting each bit into place without per-channel constants.
 *   Returns 0 when every value read is finite, else non-zero: on the way it keeps the unsigned maximum of the
 *   values' bits with the sign cleared (`i32x4.max_u`), and a float is NaN or ±∞ iff those bits are ≥ 0x7f800000
 *   (exponent all ones), i.e. iff adding 0x00800000 sets bit 31 (`i32x4.bitmask`). Two instructions per vector
 *   of four values, where a separate scan in JavaScript costs more than the whole packing.
 * - `bpool(src, dst, rows, srcRow, outL, k, s)`: max pooling (no padding) on int32 rows: `dst[r·outL + u] =
 *   max_j src[r·srcRow/4 + u·s + j]`; four outputs per `i32x4.max_s` for strides 1 and 2 (stride 2 takes the
 *   even lanes of two vectors), scalar otherwise. Writes up to 3 values past the last row and reads up to
 *   `4·s + k` past a row's windows (the caller leaves slack).
 * - `bthresh(src, srcRow, O, outL, td, dst, Wo)`: int32 rows `[O]` (row stride `srcRow` bytes) → packed
 *   words `[outL][Wo]`: bit o of position u is 1 (−1) ⇔ `(y ^ s_o) < t_o` with `td` = pairs
 *   (`t_o`, `s_o`) per channel, `s_o = 0` for direction +1 (`y < threshold`) and `−1` (all ones) for
 *   direction −1 with `t_o = ~threshold` (`~` reverses the int32 order without overflow:
 *   `y > threshold ⇔ ~y < ~threshold`). Writes whole 4-position blocks (slack of 3 positions).
 */
export function buildBinaryHelperModule(): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder().importMemory('env', 'memory', 1);

  mb.addFunction('bsign', [i32, i32, i32, i32, i32], [i32], (c) => {
    const [xPtr, outPtr, C, L, W] = [0, 1, 2, 3, 4];
    const g = c.local(i32);
    const nc = c.local(i32);
    const t = c.local(i32);
    const ch = c.local(i32);
    const p = c.local(i32);
    const top = c.local(i32);
    const rowBytes = c.local(i32);
    const posBytes = c.local(i32);
    const l4 = c.local(i32);
    const addr = c.local(i32);
    const word = c.local(i32);
    const rem = c.local(i32);
    const n4 = c.local(i32);
    const t16 = c.local(i32);
    const j = c.local(i32);
    const acc = c.local(v128);
    const pk = Array.from({ length: 4 }, () => c.local(i32));
    const ak = Array.from({ length: 4 }, () => c.local(v128));
    const lo = [c.local(v128), c.local(v128)];
    const hi = [c.local(v128), c.local(v128)];
    // Finiteness: `big` = unsigned maximum of the bits with the sign cleared (`abs`) of every value read.
    const abs = c.local(v128);
    const big = c.local(v128);
    const va = c.local(v128);
    const vb = c.local(v128);
    /** `big = max_u(big, max_u(va & abs, vb & abs))` (or of `va` alone). */
    const track = (two: boolean) => {
      c.localGet(big).localGet(va).localGet(abs);
      simd(c, V128_AND);
      if (two) {
        c.localGet(vb).localGet(abs);
        simd(c, V128_AND);
        simd(c, I32X4_MAX_U);
      }
      simd(c, I32X4_MAX_U);
      c.localSet(big);
    };
    c.i32Const(0x7fffffff).i32x4Splat().localSet(abs);
    c.localGet(L).i32Const(2).i32Shl().localSet(rowBytes);
    c.localGet(W).i32Const(2).i32Shl().localSet(posBytes);
    c.localGet(L).i32Const(-4).i32And().localSet(l4);
    c.forLoop(g, 0, { local: W }, 1, () => {
      // nc = min(32, C − 32g); top = first float of the group's highest channel
      c.localGet(C).localGet(g).i32Const(5).i32Shl().i32Sub().localSet(nc);
      c.i32Const(32).localGet(nc).i32Const(32).localGet(nc).i32LtS();
      c.raw(SELECT);
      c.localSet(nc);
      c.localGet(xPtr);
      c.localGet(g).i32Const(5).i32Shl().localGet(nc).i32Add().i32Const(-1).i32Add();
      c.localGet(rowBytes).i32Mul().i32Add().localSet(top);
      // nc = 4·n4 + rem: the top `rem` channels one by one, then groups of four (unrolled)
      c.localGet(nc).i32Const(3).i32And().localSet(rem);
      c.localGet(nc).localGet(rem).i32Sub().localSet(n4);
      const channel = () => {
        c.localGet(acc).i32Const(1);
        simd(c, I32X4_SHL);
        c.localGet(p).v128Load(0, 2).localTee(va).v128ConstZero();
        simd(c, F32X4_LT);
        simd(c, I32X4_SUB);
        c.localSet(acc);
        track(false);
        c.localGet(p).localGet(rowBytes).i32Sub().localSet(p);
      };
      // Full groups: 16 positions per step, the 32 channels in four chains of 8 bytes-wide accumulators
      // (channel 8k + j in bit j of byte accumulator k), so the 2·acc − mask chains run in parallel; the masks of
      // 16 positions are narrowed i32 → i16 → i8 into one vector. Then bytes k = 0…3 are interleaved into words.
      c.i32Const(0).localSet(t16);
      c.localGet(nc).i32Const(32).i32Eq();
      c.if();
      c.localGet(L).i32Const(-16).i32And().localSet(t16);
      c.forLoop(t, 0, { local: t16 }, 16, () => {
        for (let k = 0; k < 4; k++) {
          c.v128ConstZero().localSet(ak[k]);
          // p_k = first float of channel 32g + 8k + 7 at position t
          c.localGet(top)
            .localGet(rowBytes)
            .i32Const(24 - 8 * k)
            .i32Mul()
            .i32Sub();
          c.localGet(t).i32Const(2).i32Shl().i32Add().localSet(pk[k]);
        }
        c.forLoop(j, 0, 8, 1, () => {
          for (let k = 0; k < 4; k++) {
            c.localGet(ak[k]).localGet(ak[k]).i8x16Add();
            for (let h = 0; h < 2; h++) {
              c.localGet(pk[k])
                .v128Load(32 * h, 2)
                .localTee(va)
                .v128ConstZero();
              simd(c, F32X4_LT);
              c.localGet(pk[k])
                .v128Load(32 * h + 16, 2)
                .localTee(vb)
                .v128ConstZero();
              simd(c, F32X4_LT);
              simd(c, I16X8_NARROW_I32X4_S);
              track(true);
            }
            simd(c, I8X16_NARROW_I16X8_S);
            simd(c, I8X16_SUB);
            c.localSet(ak[k]);
            c.localGet(pk[k]).localGet(rowBytes).i32Sub().localSet(pk[k]);
          }
        });
        c.localGet(ak[0]).localGet(ak[1]);
        simd(c, I8X16_SHUFFLE, ...INTERLEAVE_LOW_BYTES);
        c.localSet(lo[0]);
        c.localGet(ak[0]).localGet(ak[1]);
        simd(c, I8X16_SHUFFLE, ...INTERLEAVE_HIGH_BYTES);
        c.localSet(hi[0]);
        c.localGet(ak[2]).localGet(ak[3]);
        simd(c, I8X16_SHUFFLE, ...INTERLEAVE_LOW_BYTES);
        c.localSet(lo[1]);
        c.localGet(ak[2]).localGet(ak[3]);
        simd(c, I8X16_SHUFFLE, ...INTERLEAVE_HIGH_BYTES);
        c.localSet(hi[1]);
        // words of positions t … t+15 (ak reused): (lo01, lo23) low/high halves, then (hi01, hi23)
        const pairs: [number[], number[], number][] = [
          [lo, INTERLEAVE_LOW_HALFWORDS, 0],
          [lo, INTERLEAVE_HIGH_HALFWORDS, 1],
          [hi, INTERLEAVE_LOW_HALFWORDS, 2],
          [hi, INTERLEAVE_HIGH_HALFWORDS, 3],
        ];
        for (const [src, lanes, k] of pairs) {
          c.localGet(src[0]).localGet(src[1]);
          simd(c, I8X16_SHUFFLE, ...lanes);
          c.localSet(ak[k]);
        }
        c.localGet(outPtr).localGet(t).localGet(W).i32Mul().localGet(g).i32Add().i32Const(2).i32Shl();
        c.i32Add().localSet(addr);
        c.localGet(W).i32Const(1).i32Eq();
        c.if();
        for (let k = 0; k < 4; k++)
          c.localGet(addr)
            .localGet(ak[k])
            .v128Store(16 * k, 2);
        c.else();
        for (let k = 0; k < 4; k++) {
          storeLanesStrided(c, addr, ak[k], posBytes);
          if (k < 3) c.addTo(addr, { local: posBytes });
        }
        c.end();
      });
      c.end();
      c.forLoop(t, { local: t16 }, { local: l4 }, 4, () => {
        c.v128ConstZero().localSet(acc);
        c.localGet(top).localGet(t).i32Const(2).i32Shl().i32Add().localSet(p);
        c.forLoop(ch, 0, { local: rem }, 1, channel);
        c.forLoop(ch, 0, { local: n4 }, 4, () => {
          for (let u = 0; u < 4; u++) channel();
        });
        // words of positions t … t+3, group g
        storePositionWords(c, outPtr, t, g, W, posBytes, addr, acc);
      });
      c.forLoop(t, { local: l4 }, { local: L }, 1, () => {
        c.i32Const(0).localSet(word);
        c.localGet(top).localGet(t).i32Const(2).i32Shl().i32Add().localSet(p);
        c.forLoop(ch, 0, { local: nc }, 1, () => {
          c.localGet(word).i32Const(1).i32Shl();
          c.localGet(p).f32Load(0).f32Const(0);
          c.raw(F32_LT);
          c.i32Or().localSet(word);
          c.localGet(p).v128Load32Splat(0).localSet(va);
          track(false);
          c.localGet(p).localGet(rowBytes).i32Sub().localSet(p);
        });
        c.localGet(outPtr).localGet(t).localGet(W).i32Mul().localGet(g).i32Add().i32Const(2).i32Shl();
        c.i32Add().localGet(word).i32Store(0);
      });
    });
    // result: bit 31 of some lane of big + 2²³
    c.localGet(big).i32Const(0x00800000).i32x4Splat().i32x4Add();
    simd(c, I32X4_BITMASK);
  });

  mb.addFunction('bpool', [i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [src, dst, rows, srcRow, outL, k, s] = [0, 1, 2, 3, 4, 5, 6];
    const r = c.local(i32);
    const u = c.local(i32);
    const j = c.local(i32);
    const sp = c.local(i32);
    const dp = c.local(i32);
    const q = c.local(i32);
    const m = c.local(i32);
    const v = c.local(i32);
    const lo = c.local(v128);
    const hi = c.local(v128);
    c.forLoop(r, 0, { local: rows }, 1, () => {
      c.localGet(src).localGet(r).localGet(srcRow).i32Mul().i32Add().localSet(sp);
      c.localGet(dst).localGet(r).localGet(outL).i32Mul().i32Const(2).i32Shl().i32Add().localSet(dp);
      c.localGet(s).i32Const(1).i32Eq();
      c.if();
      c.forLoop(u, 0, { local: outL }, 4, () => {
        c.localGet(sp).localGet(u).i32Const(2).i32Shl().i32Add().localSet(q);
        c.localGet(q).v128Load(0, 2).localSet(lo);
        c.forLoop(j, 1, { local: k }, 1, () => {
          c.addTo(q, 4);
          c.localGet(lo).localGet(q).v128Load(0, 2);
          simd(c, I32X4_MAX_S);
          c.localSet(lo);
        });
        c.localGet(dp).localGet(u).i32Const(2).i32Shl().i32Add().localGet(lo).v128Store(0, 2);
      });
      c.else();
      c.localGet(s).i32Const(2).i32Eq();
      c.if();
      c.forLoop(u, 0, { local: outL }, 4, () => {
        // positions 2u … 2u+7: lanes 0, 2, 4, 6 start the windows of outputs u … u+3
        c.localGet(sp).localGet(u).i32Const(3).i32Shl().i32Add().localSet(q);
        c.localGet(q).v128Load(0, 2).localSet(lo);
        c.localGet(q).v128Load(16, 2).localSet(hi);
        c.forLoop(j, 1, { local: k }, 1, () => {
          c.addTo(q, 4);
          c.localGet(lo).localGet(q).v128Load(0, 2);
          simd(c, I32X4_MAX_S);
          c.localSet(lo);
          c.localGet(hi).localGet(q).v128Load(16, 2);
          simd(c, I32X4_MAX_S);
          c.localSet(hi);
        });
        c.localGet(dp).localGet(u).i32Const(2).i32Shl().i32Add();
        c.localGet(lo).localGet(hi);
        simd(c, I8X16_SHUFFLE, ...EVEN_LANES);
        c.v128Store(0, 2);
      });
      c.else();
      c.forLoop(u, 0, { local: outL }, 1, () => {
        c.localGet(sp).localGet(u).localGet(s).i32Mul().i32Const(2).i32Shl().i32Add().localSet(q);
        c.localGet(q).i32Load(0).localSet(m);
        c.forLoop(j, 1, { local: k }, 1, () => {
          c.addTo(q, 4);
          c.localGet(q).i32Load(0).localSet(v);
          c.localGet(v).localGet(m).localGet(v).localGet(m).i32GtS();
          c.raw(SELECT);
          c.localSet(m);
        });
        c.localGet(dp).localGet(u).i32Const(2).i32Shl().i32Add().localGet(m).i32Store(0);
      });
      c.end();
      c.end();
    });
  });

  mb.addFunction('bthresh', [i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [src, srcRow, O, outL, td, dst, Wo] = [0, 1, 2, 3, 4, 5, 6];
    const g = c.local(i32);
    const nc = c.local(i32);
    const u = c.local(i32);
    const ch = c.local(i32);
    const p = c.local(i32);
    const tp = c.local(i32);
    const topRow = c.local(i32);
    const topTd = c.local(i32);
    const addr = c.local(i32);
    const posBytes = c.local(i32);
    const acc = c.local(v128);
    c.localGet(Wo).i32Const(2).i32Shl().localSet(posBytes);
    c.forLoop(g, 0, { local: Wo }, 1, () => {
      c.localGet(O).localGet(g).i32Const(5).i32Shl().i32Sub().localSet(nc);
      c.i32Const(32).localGet(nc).i32Const(32).localGet(nc).i32LtS();
      c.raw(SELECT);
      c.localSet(nc);
      // highest channel of the group: o = 32g + nc − 1
      c.localGet(g).i32Const(5).i32Shl().localGet(nc).i32Add().i32Const(-1).i32Add().localTee(ch);
      c.localGet(srcRow).i32Mul().localGet(src).i32Add().localSet(topRow);
      c.localGet(ch).i32Const(3).i32Shl().localGet(td).i32Add().localSet(topTd);
      c.forLoop(u, 0, { local: outL }, 4, () => {
        c.v128ConstZero().localSet(acc);
        c.localGet(topRow).localGet(u).i32Const(2).i32Shl().i32Add().localSet(p);
        c.localGet(topTd).localSet(tp);
        c.forLoop(ch, 0, { local: nc }, 1, () => {
          // acc = 2·acc − ((y ^ s) < t)
          c.localGet(acc).i32Const(1);
          simd(c, I32X4_SHL);
          c.localGet(p).v128Load(0, 2).localGet(tp).v128Load32Splat(4).v128Xor();
          c.localGet(tp).v128Load32Splat(0);
          simd(c, I32X4_LT_S);
          simd(c, I32X4_SUB);
          c.localSet(acc);
          c.localGet(p).localGet(srcRow).i32Sub().localSet(p);
          c.localGet(tp).i32Const(8).i32Sub().localSet(tp);
        });
        storePositionWords(c, dst, u, g, Wo, posBytes, addr, acc);
      });
    });
  });
  return mb.build();
}

/** Loop structure of {@link buildBinaryDotsLoopModule}. */
export interface BinaryDotsLoop {
  /** Taps read one after the other (1 when the whole receptive field is one contiguous run). */
  taps: number;
  /** Bytes between the first words of consecutive taps. */
  tapStride: number;
  /** Chunks of 32 wide terms at the start of each tap (x and weights 256 bytes per chunk). */
  chunks: number;
  /** The tap's remaining terms, x offsets relative to the end of the chunks. */
  rest: BinaryTerm[];
}

/**
 * The dots kernel for receptive fields longer than {@link BINARY_DOTS_MAX_TERMS} terms: one output at a time, a
 * loop over taps, in each a loop over chunks of 32 wide terms and the rest unrolled; weights read from memory
 * (`[channel][term]`, the terms of `spec.terms` in order). Same signature and result as
 * {@link buildBinaryDotsModule} with tile 1 × 1 (`blocks` = positions, `tail` ignored).
 */
export function buildBinaryDotsLoopModule(
  spec: BinaryDotsSpec,
  loop: BinaryDotsLoop,
): Uint8Array<ArrayBuffer> {
  const { posStep, totalBits } = spec;
  const n = spec.terms.length;
  const mb = new ModuleBuilder().importMemory('env', 'memory', 1);
  mb.addFunction('bdots', [i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [xPtr, wPtr, outPtr, ocTiles, blocks, , outRow] = [0, 1, 2, 3, 4, 5, 6];
    const ob = c.local(i32);
    const t = c.local(i32);
    const k = c.local(i32);
    const ch = c.local(i32);
    const xp = c.local(i32);
    const xt = c.local(i32);
    const xc = c.local(i32);
    const wq = c.local(i32);
    const op = c.local(i32);
    const wp = c.local(i32);
    const orow = c.local(i32);
    const acc = c.local(i64);
    const term = (x: number, wide: boolean, w: number) => {
      c.localGet(acc).localGet(xc);
      if (wide) c.i64Load(x);
      else c.raw(I64_LOAD32_U, ...uleb128(2), ...uleb128(x));
      c.localGet(wq).i64Load(w).i64Xor().i64Popcnt().i64Add().localSet(acc);
    };
    c.localGet(wPtr).localSet(wp);
    c.localGet(outPtr).localSet(orow);
    c.forLoop(ob, 0, { local: ocTiles }, 1, () => {
      c.localGet(xPtr).localSet(xp);
      c.localGet(orow).localSet(op);
      c.forLoop(t, 0, { local: blocks }, 1, () => {
        c.i64Const(0).localSet(acc);
        c.localGet(xp).localSet(xt);
        c.localGet(wp).localSet(wq);
        c.forLoop(k, 0, loop.taps, 1, () => {
          c.localGet(xt).localSet(xc);
          if (loop.chunks > 0) {
            c.forLoop(ch, 0, loop.chunks, 1, () => {
              for (let i = 0; i < 32; i++) term(8 * i, true, 8 * i);
              c.addTo(xc, 256);
              c.addTo(wq, 256);
            });
          }
          loop.rest.forEach((r, i) => {
            term(r.x, r.wide, 8 * i);
          });
          if (loop.rest.length > 0) c.addTo(wq, 8 * loop.rest.length);
          c.addTo(xt, loop.tapStride);
        });
        c.localGet(op);
        c.localGet(acc).i32WrapI64().i32Const(1).i32Shl().i32Const(totalBits).i32Sub();
        if (spec.float) {
          c.raw(F32_CONVERT_I32_S);
          c.f32Store(0);
        } else c.i32Store(0);
        c.addTo(xp, posStep);
        c.addTo(op, 4);
      });
      c.addTo(wp, 8 * n);
      c.localGet(orow).localGet(outRow).i32Add().localSet(orow);
    });
  });
  return mb.build();
}
