/**
 * The finiteness kernel of the shared kernel module (built by `emit.ts`): `nonfinite`, which tells whether a range
 * of float32 values holds a NaN or ±∞ (`part-finite.ts` binds it as `firstNonFinite`).
 */
import { type FunctionCode, type ModuleBuilder, uleb128, ValType } from './builder.js';

const { i32, v128 } = ValType;

/** SIMD sub-opcodes (after the 0xFD prefix) the builder has no method for. */
const V128_AND = 0x4e;
const I32X4_MAX_U = 0xb9;
const I32X4_BITMASK = 0xa4;

/** Emits the SIMD instruction with sub-opcode `sub` (the 0xFD prefix, then `sub` as an unsigned LEB128). */
export function emitSimdOp(c: FunctionCode, sub: number): void {
  for (const b of [0xfd, ...uleb128(sub)]) c.bytes.push(b);
}

/**
 * nonfinite(ptr, end) → i32: non-zero iff some float32 in the bytes `[ptr, end)` (a multiple of 64 bytes) is NaN
 * or ±∞. A float is NaN or ±∞ iff its exponent bits are all ones, i.e. iff its bits with the sign cleared are
 * ≥ 0x7f800000: the kernel keeps their unsigned maximum (`v128.and`, `i32x4.max_u`: two instructions per four
 * values, in two chains), and at the end adding 0x00800000 sets bit 31 of a lane iff that lane saw one
 * (`i32x4.bitmask`).
 */
export function emitNonFinite(mb: ModuleBuilder): void {
  mb.addFunction('nonfinite', [i32, i32], [i32], (c) => {
    const [ptr, end] = [0, 1];
    const abs = c.local(v128);
    const m = [c.local(v128), c.local(v128)];
    c.i32Const(0x7fffffff).i32x4Splat().localSet(abs);
    c.block().loop();
    c.localGet(ptr).localGet(end).i32GeS().brIf(1);
    for (let u = 0; u < 4; u++) {
      c.localGet(m[u & 1])
        .localGet(ptr)
        .v128Load(16 * u, 2)
        .localGet(abs);
      emitSimdOp(c, V128_AND);
      emitSimdOp(c, I32X4_MAX_U);
      c.localSet(m[u & 1]);
    }
    c.addTo(ptr, 64).br(0);
    c.end().end();
    c.localGet(m[0]).localGet(m[1]);
    emitSimdOp(c, I32X4_MAX_U);
    c.i32Const(0x00800000).i32x4Splat().i32x4Add();
    emitSimdOp(c, I32X4_BITMASK);
  });
}
