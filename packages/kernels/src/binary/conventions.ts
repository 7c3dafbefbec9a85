/**
 * THE binary conventions of ecgnn. Every binary kernel in `@ecgnn/infer`, the binary ops of `@ecgnn/core` and
 * the train-side exporter follow this file and import these helpers from `@ecgnn/infer` (or the subpath
 * `@ecgnn/infer/binary`). Nothing else may restate them.
 *
 * 1. **Sign.** `sign(x) = +1` if `x >= 0`, else `−1`. So `sign(0) = +1`, `sign(−0) = +1` and `sign(NaN) = +1`
 *    (NaN fails `x < 0`).
 * 2. **Bits.** A ±1 value is one bit: bit 0 means +1, bit 1 means −1. (So `bit = x < 0 ? 1 : 0`, and the
 *    product of two ±1 values is −1 exactly when the XOR of their bits is 1.)
 * 3. **Packing.** Values are packed along the channel axis (input-channel axis of weights) into `Uint32Array`
 *    words, least-significant bit first: word `w` holds channels `32w … 32w+31`, channel `c` is bit `c & 31` of
 *    word `c >>> 5`. `C` channels take `W = ceil(C / 32)` words. The unused high bits of the last word are 0
 *    (i.e. they read as +1 in both operands); since `0 ^ 0 = 0` they never add to a popcount, and the dot product
 *    below uses the true number of terms, so they are corrected for exactly.
 *    - Packed activations of one sample, `C` channels × `L` time steps, are stored time-major: `[L][W]` words.
 *    - Packed conv weights `[outC, inC, K]` are stored `[outC][K][W]` words (W over inC).
 *    - Packed dense weights `[out, in]` are stored `[out][W]` words (W over `in`).
 * 4. **Dot product.** For `K` valid ±1 terms `a_i·b_i`, `dot = K − 2·popcount(a ^ b)` where `a`, `b` are the
 *    packed words and `K` counts only the valid (real, not-masked) terms: channels beyond C do not count.
 * 5. **Padding** is explicit, per layer (`padValue`):
 *    - `padValue = +1`: padded positions are real +1 terms (the all-zero word). They are counted in `K`.
 *      (Method 5 pads with +1.)
 *    - `padValue = 0`: padded positions contribute nothing, and `K` at that output position shrinks to
 *      `inC × (number of in-range taps)`.
 *    A padded value of −1 is not supported.
 * 6. **Threshold folding** (Larq Compute Engine style). After an integer dot `y` (possibly max-pooled, which stays
 *    an integer), a monotone float epilogue `f` (BatchNorm, PReLU with positive slope, …) followed by `sign` is
 *    decided by one integer comparison per channel:
 *    `sign(f(y)) = +1  ⇔  (direction = +1 ? y >= threshold : y <= threshold)`.
 *    Constant channels (e.g. BatchNorm with gamma = 0) use `threshold = THRESHOLD_ALWAYS` with direction +1 for
 *    always +1, or `THRESHOLD_NEVER` with direction +1 for always −1.
 * 7. **Float thresholds.** After a float value `y` (a float conv's output, possibly max-pooled), an epilogue `f`
 *    that is monotone on the finite floats and never NaN there, followed by `sign`, is decided per channel by one
 *    float comparison for finite `y` and a stored bit for each infinity:
 *    `sign(f(y)) = +1  ⇔  y is NaN, or y = ∓∞ and its bit is 0, or (direction = +1 ? y >= threshold : y <= threshold)`
 *    (float32 `threshold`; an epilogue may send ±∞ anywhere, e.g. PReLU with slope 0 sends −∞ to 0·−∞ = NaN).
 *    Always +1 on finite `y`: threshold −∞, direction +1; always −1: threshold NaN, direction +1 (no comparison
 *    with NaN holds). See {@link foldSignBySearch}.
 */

/** Number of bits per packed word. */
export const BITS_PER_WORD = 32;

/** Threshold that every `y` satisfies with direction +1 (`y >= −2³¹`): the output is always +1 (bit 0). */
export const THRESHOLD_ALWAYS = -2147483648;

/** Threshold that no reachable `y` satisfies with direction +1 (`y >= 2³¹−1`): the output is always −1 (bit 1). */
export const THRESHOLD_NEVER = 2147483647;

/** Number of `Uint32` words needed for `channels` packed channels: `ceil(channels / 32)`. */
export function wordsForChannels(channels: number): number {
  return (channels + 31) >>> 5;
}

/** Bit of a value under convention 1–2: 1 when `x < 0` (−1), else 0 (+1, including 0, −0 and NaN). */
export function signBit(x: number): number {
  return x < 0 ? 1 : 0;
}

/** `sign(x)` under convention 1: +1 for `x >= 0` (and NaN), −1 for `x < 0`. */
export function signValue(x: number): number {
  return x < 0 ? -1 : 1;
}

/**
 * Population count of a 32-bit word (number of set bits), SWAR style without a lookup table.
 * NOTE: Hacker's Delight 5-1: pairwise sums in 2-, 4-, 8-bit fields, then a multiply adds the four bytes.
 */
export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

/**
 * Pack signs of `values` laid out `[rows][channels]` (channels fastest) into words `[rows][W]`,
 * `W = ceil(channels / 32)`, following conventions 1–3. `rows` defaults to `values.length / channels`.
 * Use for activations (rows = time steps, after transposing NCL) and dense weights (rows = outputs).
 */
export function packSigns(values: ArrayLike<number>, channels: number, out?: Uint32Array): Uint32Array {
  if (!Number.isInteger(channels) || channels <= 0) {
    throw new RangeError(`packSigns: channels must be a positive integer, got ${channels}`);
  }
  if (values.length % channels !== 0) {
    throw new RangeError(
      `packSigns: values.length ${values.length} is not a multiple of channels ${channels}`,
    );
  }
  const rows = values.length / channels;
  const words = wordsForChannels(channels);
  const dst = out ?? new Uint32Array(rows * words);
  if (dst.length < rows * words) {
    throw new RangeError(`packSigns: output has ${dst.length} words, need ${rows * words}`);
  }
  dst.fill(0, 0, rows * words);
  for (let r = 0; r < rows; r++) {
    const src = r * channels;
    const base = r * words;
    for (let c = 0; c < channels; c++) {
      if (values[src + c] < 0) dst[base + (c >>> 5)] |= 1 << (c & 31);
    }
  }
  return dst;
}

/**
 * Inverse of {@link packSigns}: words `[rows][W]` → ±1 values `[rows][channels]` as a `Float32Array`.
 */
export function unpackSigns(
  words: Uint32Array,
  channels: number,
  rows: number,
  out?: Float32Array,
): Float32Array {
  const w = wordsForChannels(channels);
  if (words.length < rows * w) {
    throw new RangeError(`unpackSigns: ${words.length} words, need ${rows * w}`);
  }
  const dst = out ?? new Float32Array(rows * channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++) {
      dst[r * channels + c] = (words[r * w + (c >>> 5)] >>> (c & 31)) & 1 ? -1 : 1;
    }
  }
  return dst;
}

/**
 * Pack conv weights `[outC, inC, K]` (row-major, any real values: their signs are taken) into the packed
 * weight layout `[outC][K][W]`, `W = ceil(inC / 32)` (convention 3).
 */
export function packConvWeights(
  weights: ArrayLike<number>,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
): Uint32Array {
  if (weights.length !== outChannels * inChannels * kernelSize) {
    throw new RangeError(
      `packConvWeights: ${weights.length} values for shape [${outChannels}, ${inChannels}, ${kernelSize}]`,
    );
  }
  const w = wordsForChannels(inChannels);
  const dst = new Uint32Array(outChannels * kernelSize * w);
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < inChannels; i++) {
      for (let k = 0; k < kernelSize; k++) {
        if (weights[(o * inChannels + i) * kernelSize + k] < 0) {
          dst[(o * kernelSize + k) * w + (i >>> 5)] |= 1 << (i & 31);
        }
      }
    }
  }
  return dst;
}

/** Inverse of {@link packConvWeights}: packed `[outC][K][W]` → ±1 floats `[outC, inC, K]`. */
export function unpackConvWeights(
  packed: Uint32Array,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
): Float32Array {
  const w = wordsForChannels(inChannels);
  if (packed.length < outChannels * kernelSize * w) {
    throw new RangeError(`unpackConvWeights: ${packed.length} words, need ${outChannels * kernelSize * w}`);
  }
  const dst = new Float32Array(outChannels * inChannels * kernelSize);
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < inChannels; i++) {
      for (let k = 0; k < kernelSize; k++) {
        const bit = (packed[(o * kernelSize + k) * w + (i >>> 5)] >>> (i & 31)) & 1;
        dst[(o * inChannels + i) * kernelSize + k] = bit ? -1 : 1;
      }
    }
  }
  return dst;
}

/**
 * ±1 dot product of two packed vectors of `terms` valid channels (convention 4): `terms − 2·popcount(a ^ b)`
 * over `ceil(terms / 32)` words starting at the given offsets. Reference helper (the kernels inline this).
 */
export function packedDot(
  a: Uint32Array,
  aOffset: number,
  b: Uint32Array,
  bOffset: number,
  terms: number,
): number {
  const words = wordsForChannels(terms);
  let ones = 0;
  for (let i = 0; i < words; i++) ones += popcount32(a[aOffset + i] ^ b[bOffset + i]);
  return terms - 2 * ones;
}

/** Per-channel integer decision rule: `sign = +1 ⇔ (direction > 0 ? y >= threshold : y <= threshold)`. */
export interface SignThresholds {
  /** Integer thresholds, one per channel. */
  threshold: Int32Array;
  /** +1: output +1 when `y >= threshold`; −1: output +1 when `y <= threshold`. */
  direction: Int8Array;
}

/** Apply a folded threshold to an integer `y` (convention 6); returns the output bit (0 = +1, 1 = −1). */
export function thresholdBit(y: number, threshold: number, direction: number): number {
  return (direction > 0 ? y >= threshold : y <= threshold) ? 0 : 1;
}

/**
 * Fold an inference BatchNorm followed by sign into integer thresholds, analytically (float64):
 * `BN(y) = gamma·(y − mean)/sqrt(var + eps) + beta`, and `sign(BN(y)) = +1 ⇔ BN(y) >= 0`.
 * - gamma > 0: `y >= mean − beta·s/gamma` (s = sqrt(var+eps)) ⇔ `y >= ceil(t)` for integer y, direction +1;
 * - gamma < 0: `y <= t` ⇔ `y <= floor(t)`, direction −1;
 * - gamma = 0: constant `sign(beta)`: THRESHOLD_ALWAYS (beta >= 0) or THRESHOLD_NEVER (beta < 0).
 * Thresholds are clamped into the int32 range. The comparison is done in float64; for bit-exact agreement with
 * a float32 evaluation of the epilogue use {@link foldSignByEvaluation} (what the runtime does).
 */
export function foldBatchNormSign(
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  eps: number,
): SignThresholds {
  const n = gamma.length;
  if (beta.length !== n || mean.length !== n || variance.length !== n) {
    throw new RangeError('foldBatchNormSign: gamma, beta, mean and variance must have the same length');
  }
  const threshold = new Int32Array(n);
  const direction = new Int8Array(n);
  for (let c = 0; c < n; c++) {
    const g = gamma[c];
    const s = Math.sqrt(variance[c] + eps);
    direction[c] = 1;
    if (g === 0 || !Number.isFinite(g)) {
      threshold[c] = beta[c] >= 0 ? THRESHOLD_ALWAYS : THRESHOLD_NEVER;
      continue;
    }
    const t = mean[c] - (beta[c] * s) / g;
    if (g > 0) {
      threshold[c] = clampInt32(Math.ceil(t));
    } else {
      direction[c] = -1;
      threshold[c] = clampInt32(Math.floor(t));
    }
  }
  return { threshold, direction };
}

function clampInt32(v: number): number {
  if (Number.isNaN(v)) return THRESHOLD_NEVER;
  if (v <= THRESHOLD_ALWAYS) return THRESHOLD_ALWAYS;
  if (v >= THRESHOLD_NEVER) return THRESHOLD_NEVER;
  return v;
}

/**
 * Fold `sign(f_c(y))` into per-channel integer thresholds by evaluating the epilogue on every reachable integer.
 * `signs` holds, for each channel `c` and each integer `y = lo … hi`, the value `f_c(y)` (or just its sign)
 * laid out `[channels][hi − lo + 1]`. Returns thresholds when, for every channel, the +1 outputs form a prefix
 * or a suffix of `lo … hi` (i.e. sign∘f is monotone on the reachable range), else `null` (not foldable: keep the
 * float epilogue). This is exact for whatever arithmetic produced `signs`.
 */
export function foldSignByEvaluation(
  signs: ArrayLike<number>,
  channels: number,
  lo: number,
  hi: number,
): SignThresholds | null {
  const span = hi - lo + 1;
  if (signs.length !== channels * span) {
    throw new RangeError(`foldSignByEvaluation: ${signs.length} values, need ${channels} × ${span}`);
  }
  const threshold = new Int32Array(channels);
  const direction = new Int8Array(channels);
  for (let c = 0; c < channels; c++) {
    const base = c * span;
    let changes = 0;
    for (let i = 1; i < span; i++) {
      if (signBit(signs[base + i]) !== signBit(signs[base + i - 1])) changes++;
    }
    const first = signBit(signs[base]);
    const last = signBit(signs[base + span - 1]);
    direction[c] = 1;
    if (changes === 0) {
      threshold[c] = first === 0 ? THRESHOLD_ALWAYS : THRESHOLD_NEVER;
    } else if (changes === 1) {
      // Find the change point i: values before i have bit `first`, from i on bit `last`.
      let i = 1;
      while (signBit(signs[base + i]) === first) i++;
      if (first === 1 && last === 0) {
        threshold[c] = lo + i; // +1 for y >= lo + i
      } else {
        direction[c] = -1;
        threshold[c] = lo + i - 1; // +1 for y <= lo + i − 1
      }
    } else {
      return null;
    }
  }
  return { threshold, direction };
}

/**
 * Per-channel float decision rule (convention 7): `+1 ⇔ y is NaN; for y = −∞ / +∞ the stored bit; else
 * (direction > 0 ? y >= threshold : y <= threshold)`.
 */
export interface FloatSignThresholds {
  /** Float32 thresholds for finite `y`, one per channel (−∞: always +1; NaN: always −1). */
  threshold: Float32Array;
  /** +1: output +1 when `y >= threshold`; −1: output +1 when `y <= threshold`. */
  direction: Int8Array;
  /** Output bit (0 = +1, 1 = −1) for `y = −∞`, per channel. */
  minusInf: Uint8Array;
  /** Output bit for `y = +∞`, per channel. */
  plusInf: Uint8Array;
}

/** Apply the float rule of channel `c` to `y` (convention 7); returns the output bit (0 = +1, 1 = −1). */
export function floatThresholdBit(y: number, rule: FloatSignThresholds, c: number): number {
  if (Number.isNaN(y)) return 0;
  if (y === Number.NEGATIVE_INFINITY) return rule.minusInf[c];
  if (y === Number.POSITIVE_INFINITY) return rule.plusInf[c];
  return (rule.direction[c] > 0 ? y >= rule.threshold[c] : y <= rule.threshold[c]) ? 0 : 1;
}

const KEY_F32 = new Float32Array(1);
const KEY_I32 = new Int32Array(KEY_F32.buffer);

/**
 * Order key of a float32 (not NaN): an int32 whose signed order is the float order, with −0 just below +0
 * (`bits` for positive floats, `bits ^ 0x7fffffff` for negative ones; the map is its own inverse).
 */
function floatKey(v: number): number {
  KEY_F32[0] = v;
  const b = KEY_I32[0];
  return b < 0 ? b ^ 0x7fffffff : b;
}

/** The float32 of an order key (inverse of {@link floatKey}). */
function keyFloat(k: number): number {
  KEY_I32[0] = k < 0 ? k ^ 0x7fffffff : k;
  return KEY_F32[0];
}

/**
 * Fold `sign(f_c(y))` over float32 `y` into per-channel float thresholds (convention 7) by a binary search on the
 * float order. `evaluate(ys, fs)` writes `fs[c] = f_c(ys[c])` for every channel at once (the caller runs the
 * epilogue's own kernels, so each bit is the one the unfused path computes).
 *
 * Exact only when each `f_c` is monotone (either direction) on the finite floats and never NaN there: the caller's
 * guarantee, which the search cannot check. The infinities are evaluated, not searched. What it does check —
 * returning null (not foldable) when one fails for some channel: `f(NaN)` gives +1 (NaN, or ≥ 0); `f(−0)` and
 * `f(+0)` give the same sign (the rule's comparisons cannot tell the zeros apart).
 *
 * Search: with bit(y) = `f(y) < 0` (−1) at the largest finite floats, bit(−max) = 1 and bit(+max) = 0 mean
 * direction +1 and the threshold is the smallest float with bit 0; bit(−max) = 0 and bit(+max) = 1 mean
 * direction −1 and the largest float with bit 0; equal bits mean a constant channel. 32 evaluations of every
 * channel at once (the keys span 2³² values).
 */
export function foldSignBySearch(
  evaluate: (ys: Float32Array, fs: Float32Array) => void,
  channels: number,
): FloatSignThresholds | null {
  if (!Number.isInteger(channels) || channels <= 0) {
    throw new RangeError(`foldSignBySearch: channels must be a positive integer, got ${channels}`);
  }
  const ys = new Float32Array(channels);
  const fs = new Float32Array(channels);
  const bitsAt = (v: number | Float32Array, out: Uint8Array): void => {
    if (typeof v === 'number') ys.fill(v);
    else ys.set(v);
    evaluate(ys, fs);
    // sign(NaN) = +1 (convention 1): bit 1 only for f < 0.
    for (let c = 0; c < channels; c++) out[c] = fs[c] < 0 ? 1 : 0;
  };
  const max = 3.4028234663852886e38; // largest float32
  const nan = new Uint8Array(channels);
  const negZero = new Uint8Array(channels);
  const posZero = new Uint8Array(channels);
  const minusInf = new Uint8Array(channels);
  const plusInf = new Uint8Array(channels);
  const atLo = new Uint8Array(channels);
  const atHi = new Uint8Array(channels);
  bitsAt(Number.NaN, nan);
  bitsAt(-0, negZero);
  bitsAt(0, posZero);
  bitsAt(Number.NEGATIVE_INFINITY, minusInf);
  bitsAt(Number.POSITIVE_INFINITY, plusInf);
  bitsAt(-max, atLo);
  bitsAt(max, atHi);
  for (let c = 0; c < channels; c++) if (nan[c] !== 0 || negZero[c] !== posZero[c]) return null;
  // Invariant per searched channel: bit(key lo) = atLo, bit(key hi) = atHi, lo < hi.
  const lo = new Float64Array(channels).fill(floatKey(-max));
  const hi = new Float64Array(channels).fill(floatKey(max));
  const mid = new Float32Array(channels);
  const bits = new Uint8Array(channels);
  for (let step = 0; step < 33; step++) {
    let open = false;
    for (let c = 0; c < channels; c++) {
      const searching = atLo[c] !== atHi[c] && hi[c] - lo[c] > 1;
      if (searching) open = true;
      mid[c] = keyFloat(searching ? Math.floor((lo[c] + hi[c]) / 2) : lo[c]);
    }
    if (!open) break;
    bitsAt(mid, bits);
    for (let c = 0; c < channels; c++) {
      if (atLo[c] === atHi[c] || hi[c] - lo[c] <= 1) continue;
      const k = floatKey(mid[c]);
      if (bits[c] === atLo[c]) lo[c] = k;
      else hi[c] = k;
    }
  }
  const threshold = new Float32Array(channels);
  const direction = new Int8Array(channels).fill(1);
  for (let c = 0; c < channels; c++) {
    if (atLo[c] === atHi[c]) threshold[c] = atLo[c] === 0 ? Number.NEGATIVE_INFINITY : Number.NaN;
    else if (atLo[c] === 1)
      threshold[c] = keyFloat(hi[c]); // smallest float with +1
    else {
      direction[c] = -1;
      threshold[c] = keyFloat(lo[c]); // largest float with +1
    }
  }
  return { threshold, direction, minusInf, plusInf };
}
