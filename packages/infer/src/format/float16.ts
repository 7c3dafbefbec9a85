/** IEEE 754 binary16 ("half") conversion, used only as a storage dtype. */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * float32 → binary16 bits, round to nearest, ties to even; overflow → ±Infinity; NaN → quiet NaN;
 * values below the smallest subnormal round to ±0.
 */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const a = x & 0x7fffffff; // |value| as float32 bits
  if (a >= 0x7f800000) return sign | 0x7c00 | (a > 0x7f800000 ? 0x200 : 0); // Inf / NaN
  // |value| ≥ 65520 = 65504 (the largest half) + half an ulp: rounds (ties to even) to Inf.
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a < 0x38800000) {
    // Below 2⁻¹⁴, a subnormal half (or zero) counts units of 2⁻²⁴: 0.5 + |value| (exact in float64) stored as
    // float32 is rounded to a multiple of 2⁻²⁴ (ties to even), 0.5's exponent leaving that many units in the
    // mantissa (0x400: the smallest normal).
    u32[0] = a;
    f32[0] += 0.5;
    return sign | (u32[0] - 0x3f000000);
  }
  // Normal: exponent rebiased (127 → 15: −112 << 23), the 23-bit mantissa rounded to 10 bits, ties to even
  // (+0xfff, +1 when the kept part is odd); a carry into the exponent (or to Inf) is still right.
  return sign | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13);
}

/** binary16 bits → number (exact). */
export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
