/**
 * Reference binary (±1, bit-packed) kernels: sign packing, binary convolution and dense products on packed
 * words, and prepared binary convolutions with their epilogue (max pool on the integer dots, float copy or the
 * threshold rule). They are the fallback of the WebAssembly binary kernels and what `@ecgnn/infer` runs without
 * WebAssembly SIMD, so the convolution is the fast TypeScript form (the plain loops, their oracle, are in
 * `../testing.ts`):
 *
 * - the input is copied between zero rows (+1 padding, conventions.ts §5) so that every output position reads
 *   its K taps as consecutive words (or their bit-im2col form); zero padding is then taken out at the edge
 *   positions (corrections computed once per weight, as the WebAssembly plans do);
 * - four output channels share each input word load;
 * - popcounts are SWAR (Hacker's Delight 5-1) summed in byte lanes, the horizontal add deferred over up to 31
 *   words (each lane stays ≤ 8·31 = 248 < 256);
 * - the epilogue turns the comparison with the threshold into a number (no branch on the data).
 *
 * Bit layout and the threshold rule: `../binary/conventions.ts`.
 *
 * Unlike the float reference kernels, these check their arguments (cheaply, once per call): a packed buffer of
 * the wrong size would otherwise silently read words of another layout.
 */
import { popcount32 } from '../binary/conventions.js';
import {
  type BinaryConv1dParams,
  type BinaryConv1dPlan,
  type BinaryConvEpilogue,
  type BinaryDenseParams,
  KernelArgumentError,
  type SignPackParams,
} from '../contract.js';
import { conv1dOutputLength } from '../params.js';

/** Throws a {@link KernelArgumentError} when `cond` fails; the message is only built then. */
export function need(cond: boolean, msg: () => string): void {
  if (!cond) throw new KernelArgumentError(msg());
}

/** Whether `v` is a positive integer. */
export function isPosInt(v: number): boolean {
  return Number.isInteger(v) && v > 0;
}

/** Validates a binary conv geometry and buffers (any padding: the reference handles windows of padding). */
export function checkBinaryConv1d(
  p: BinaryConv1dParams,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  out: ArrayLike<number>,
): void {
  need(
    isPosInt(p.batch) &&
      isPosInt(p.inChannels) &&
      isPosInt(p.outChannels) &&
      isPosInt(p.inLength) &&
      isPosInt(p.outLength) &&
      isPosInt(p.kernelSize) &&
      isPosInt(p.stride) &&
      isPosInt(p.dilation) &&
      Number.isInteger(p.padLeft) &&
      p.padLeft >= 0 &&
      (p.padValue === 0 || p.padValue === 1),
    () => `binaryConv1d: bad geometry ${JSON.stringify(p)}`,
  );
  const words = Math.ceil(p.inChannels / 32);
  need(
    x.length >= p.batch * p.inLength * words,
    () => `binaryConv1d: input has ${x.length} words, needs ${p.batch * p.inLength * words}`,
  );
  need(
    w.length >= p.outChannels * p.kernelSize * words,
    () => `binaryConv1d: weight has ${w.length} words, needs ${p.outChannels * p.kernelSize * words}`,
  );
  need(
    out.length >= p.batch * p.outChannels * p.outLength,
    () => `binaryConv1d: output has ${out.length} elements`,
  );
}

/** Validates a binary dense geometry and buffers. */
export function checkBinaryDense(
  p: BinaryDenseParams,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  out: ArrayLike<number>,
): void {
  need(
    isPosInt(p.batch) && isPosInt(p.inFeatures) && isPosInt(p.outFeatures),
    () => `binaryDense: bad geometry ${JSON.stringify(p)}`,
  );
  const words = Math.ceil(p.inFeatures / 32);
  need(
    x.length >= p.batch * words,
    () => `binaryDense: input has ${x.length} words, needs ${p.batch * words}`,
  );
  need(
    w.length >= p.outFeatures * words,
    () => `binaryDense: weight has ${w.length} words, needs ${p.outFeatures * words}`,
  );
  need(out.length >= p.batch * p.outFeatures, () => `binaryDense: output has ${out.length} elements`);
}

/** Validates a sign-packing geometry and buffers. */
export function checkSignPack(p: SignPackParams, x: ArrayLike<number>, out: ArrayLike<number>): void {
  need(
    isPosInt(p.batch) && isPosInt(p.channels) && isPosInt(p.length),
    () => `signPack: bad geometry ${JSON.stringify(p)}`,
  );
  const n = p.batch * p.channels * p.length;
  need(x.length >= n, () => `signPack: input has ${x.length} elements, needs ${n}`);
  const words = p.batch * p.length * Math.ceil(p.channels / 32);
  need(out.length >= words, () => `signPack: output has ${out.length} words, needs ${words}`);
}

/**
 * Validates a binary conv plan (geometry, weight length, epilogue) and returns its output length after the pool
 * and the output elements per batch entry.
 */
export function checkBinaryConvPlan(
  p: BinaryConv1dParams,
  w: ArrayLike<number>,
  e: BinaryConvEpilogue,
): { outLength: number; outSize: number } {
  const words = Math.ceil(p.inChannels / 32);
  checkBinaryConv1d(p, { length: p.batch * p.inLength * words }, w, {
    length: p.batch * p.outChannels * p.outLength,
  });
  let outLength = p.outLength;
  if (e.pool) {
    const { kernelSize: k, stride: s } = e.pool;
    need(
      isPosInt(k) && isPosInt(s) && k <= p.outLength,
      () => `binaryConv1d: bad pool ${JSON.stringify(e.pool)} for ${p.outLength} positions`,
    );
    outLength = conv1dOutputLength({
      inLength: p.outLength,
      kernelSize: k,
      stride: s,
      dilation: 1,
      padLeft: 0,
      padRight: 0,
    });
  }
  if (e.thresholds) {
    const { threshold, direction } = e.thresholds;
    need(
      threshold.length >= p.outChannels && direction.length >= p.outChannels,
      () =>
        `binaryConv1d: ${threshold.length} thresholds / ${direction.length} directions for ${p.outChannels} channels`,
    );
    return { outLength, outSize: outLength * Math.ceil(p.outChannels / 32) };
  }
  return { outLength, outSize: outLength * p.outChannels };
}

/** Validates the buffers of one {@link BinaryConv1dPlan} call (`inPerEntry` input elements per batch entry). */
export function checkBinaryPlanCall(
  batch: number,
  inPerEntry: number,
  outSize: number,
  packedOut: boolean,
  x: ArrayLike<number>,
  out: Float32Array | Uint32Array,
): void {
  need(
    x.length >= batch * inPerEntry,
    () => `binaryConv1d: input has ${x.length} elements, needs ${batch * inPerEntry}`,
  );
  need(
    packedOut ? out instanceof Uint32Array : out instanceof Float32Array,
    () => `binaryConv1d: output must be a ${packedOut ? 'Uint32Array (thresholds)' : 'Float32Array'}`,
  );
  need(
    out.length >= batch * outSize,
    () => `binaryConv1d: output has ${out.length} elements, needs ${batch * outSize}`,
  );
}

/**
 * Bit-counting form of the byte lanes of `v` (Hacker's Delight 5-1 without the final multiply): each byte holds
 * the number of set bits of that byte of `v` (0…8).
 */
function byteCounts(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (v + (v >>> 4)) & 0x0f0f0f0f;
}

/** Sum of the four byte lanes of a {@link byteCounts} accumulator. */
function laneSum(a: number): number {
  a = (a & 0x00ff00ff) + ((a >>> 8) & 0x00ff00ff);
  return (a & 0xffff) + (a >>> 16);
}

/**
 * ORs the `W` words `src[at …]` (channel bits, unused bits 0) into `dst` from bit `pos` on (LSB-first): what
 * crosses a word boundary goes to the next word, so `dst` needs one word of slack after the last bit placed.
 */
function placeBits(src: Int32Array, at: number, W: number, dst: Int32Array, pos: number): void {
  for (let j = 0; j < W; j++) {
    const v = src[at + j];
    const bit = pos + 32 * j;
    const i = bit >>> 5;
    const lo = bit & 31;
    dst[i] |= v << lo;
    if (lo !== 0) dst[i + 1] |= v >>> (32 - lo);
  }
}

/**
 * Zero padding taken out of dots computed with +1 padding: a padded tap read as +1 (zero words) added
 * `C − 2·popcount(w_k)` to the dot, which zero padding must not. Returns the conv positions whose window holds
 * padding (`edges`; none with `padValue` 1) and, per edge position e and channel o, `corrections[e·O + o]` to
 * subtract. Weights `[O][K][W]`.
 */
export function zeroPadCorrections(
  p: BinaryConv1dParams,
  w: ArrayLike<number>,
): { edges: number[]; corrections: number[] } {
  const { inChannels: C, outChannels: O, inLength: L, outLength: T, kernelSize: K } = p;
  const { stride: s, dilation: d, padLeft } = p;
  const W = Math.ceil(C / 32);
  const edges: number[] = [];
  const corrections: number[] = [];
  if (p.padValue === 0)
    for (let t = 0; t < T; t++) {
      if (t * s >= padLeft && t * s - padLeft + (K - 1) * d < L) continue;
      edges.push(t);
      for (let o = 0; o < O; o++) {
        let c = 0;
        for (let k = 0; k < K; k++) {
          const i = t * s - padLeft + k * d;
          if (i >= 0 && i < L) continue;
          let pc = 0;
          for (let j = 0; j < W; j++) pc += popcount32(w[(o * K + k) * W + j]);
          c += C - 2 * pc;
        }
        corrections.push(c);
      }
    }
  return { edges, corrections };
}

/** A binary conv bound to its geometry and weights ({@link binaryConvCore}). */
interface BinaryConvCore {
  /** Words per input position, `ceil(C/32)`. */
  W: number;
  /** Copies packed entry `x[at … at + L·W)` into the input rows. */
  load(x: Uint32Array, at: number): void;
  /** Sign-packs float entry `x[at …]` `[C][L]` into the input rows; returns the values' sum ({@link packEntry}). */
  loadFloat(x: Float32Array, at: number): number;
  /** Dots of output channels `o0 … o0 + rows − 1` (rows ≤ 4) at every conv position t into `dst[at + r·T + t]`. */
  dots(o0: number, rows: number, dst: Int32Array, at: number): void;
}

/**
 * Binds a binary conv to its geometry and weights `[O][K][W]` (copied): padded input rows, optionally their
 * bit-im2col form, the zero-padding corrections and the dots kernel.
 *
 * The input rows `[Lp][W]` hold input position `i − padLeft` in row `i`; the rows outside `[padLeft,
 * padLeft + L)` stay 0 (+1). Output position t reads `n` consecutive words from word `t·step`: its K taps are
 * either the `K·W` words from row `t·stride` (dilation 1), or one row of the bit-im2col form, where tap k of
 * channel c is bit `k·C + c` (`n = ceil(C·K/32)`, the weights laid out alike). The im2col form serves dilation
 * > 1 (taps not contiguous) and layers where it reads clearly fewer words (8 channels × K 7: 2 words instead of
 * 7, which makes such a layer about 1.4× as fast).
 *
 * The dots kernel: `C·K − 2·popcount(x ^ w)` over the position's words, minus the corrections; four output
 * channels per input word load (channels past `rows` repeat the first: computed, not stored); popcounts SWAR in
 * byte lanes, the lanes summed every 31 words.
 *
 * Measured (one process, interleaved, development machine) and left out for the size of `@ecgnn/infer`'s bundle
 * (about 280 bytes gzipped together): two positions per step, each weight word load serving both (5–10 % faster),
 * and packing four positions per step in {@link packEntry} (1.6× on the sign packing, a few % of a layer).
 */
function binaryConvCore(p: BinaryConv1dParams, w: Uint32Array): BinaryConvCore {
  const { inChannels: C, outChannels: O, inLength: L, outLength: T, kernelSize: K } = p;
  const { stride: s, dilation: d, padLeft } = p;
  const W = Math.ceil(C / 32);
  const span = (K - 1) * d;
  const terms = C * K;
  const xp = new Int32Array(Math.max(padLeft + L, (T - 1) * s + span + 1) * W);
  const wk = Int32Array.from(w.subarray(0, O * K * W));
  const nc = Math.ceil(terms / 32);
  const im2col = d > 1 || (4 * nc <= 3 * K * W && O >= 4);
  const n = im2col ? nc : K * W;
  const step = im2col ? nc : s * W;
  // bit-im2col rows [T][n] (one word of slack for the bits placeBits spills), weights [O][n]
  const cols = new Int32Array(im2col ? T * n + 1 : 0);
  const src = im2col ? cols : xp;
  let wl = wk;
  if (im2col) {
    wl = new Int32Array(O * n + 1);
    for (let o = 0; o < O; o++)
      for (let k = 0; k < K; k++) placeBits(wk, (o * K + k) * W, W, wl, 32 * o * n + k * C);
  }
  const { edges, corrections } = zeroPadCorrections(p, wk);
  const fillCols = () => {
    if (!im2col) return;
    cols.fill(0);
    for (let t = 0; t < T; t++)
      for (let k = 0; k < K; k++) placeBits(xp, (t * s + k * d) * W, W, cols, 32 * t * n + k * C);
  };
  return {
    W,
    load(x, at) {
      // an index loop: no view per call
      for (let i = 0, j = padLeft * W, e = L * W; i < e; i++, j++) xp[j] = x[at + i];
      fillCols();
    },
    loadFloat(x, at) {
      const sum = packEntry(x, at, C, L, xp, padLeft * W);
      fillCols();
      return sum;
    },
    dots(o0, rows, dst, at) {
      // locals rather than the closure's variables in the loops (measured 5–10 % faster)
      const xs = src;
      const ws = wl;
      const nw = n;
      const w0 = o0 * nw;
      const w1 = rows > 1 ? w0 + nw : w0;
      const w2 = rows > 2 ? w0 + 2 * nw : w0;
      const w3 = rows > 3 ? w0 + 3 * nw : w0;
      for (let t = 0, xt = 0; t < T; t++, xt += step) {
        let m0 = 0;
        let m1 = 0;
        let m2 = 0;
        let m3 = 0;
        for (let q0 = 0; q0 < nw; q0 += 31) {
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          for (let q = q0, e = Math.min(q0 + 31, nw); q < e; q++) {
            const x = xs[xt + q];
            // Byte lanes never carry (≤ 8·31 = 248); `| 0` keeps the sums int32 (only the sign bit wraps).
            a0 = (a0 + byteCounts(x ^ ws[w0 + q])) | 0;
            a1 = (a1 + byteCounts(x ^ ws[w1 + q])) | 0;
            a2 = (a2 + byteCounts(x ^ ws[w2 + q])) | 0;
            a3 = (a3 + byteCounts(x ^ ws[w3 + q])) | 0;
          }
          m0 += laneSum(a0);
          m1 += laneSum(a1);
          m2 += laneSum(a2);
          m3 += laneSum(a3);
        }
        const i = at + t;
        dst[i] = terms - 2 * m0;
        if (rows > 1) dst[i + T] = terms - 2 * m1;
        if (rows > 2) dst[i + 2 * T] = terms - 2 * m2;
        if (rows > 3) dst[i + 3 * T] = terms - 2 * m3;
      }
      for (let e = 0; e < edges.length; e++)
        for (let r = 0; r < rows; r++) dst[at + r * T + edges[e]] -= corrections[e * O + o0 + r];
    },
  };
}

/** Binary conv1d on packed words, see {@link Kernels.binaryConv1d}. */
export function binaryConv1d(
  xPacked: Uint32Array,
  wPacked: Uint32Array,
  out: Int32Array,
  p: BinaryConv1dParams,
): void {
  checkBinaryConv1d(p, xPacked, wPacked, out);
  const core = binaryConvCore(p, wPacked);
  const { outChannels: O, outLength: T } = p;
  for (let b = 0; b < p.batch; b++) {
    core.load(xPacked, b * p.inLength * core.W);
    for (let o = 0; o < O; o += 4) core.dots(o, Math.min(4, O - o), out, (b * O + o) * T);
  }
}

/** Binary dense on packed words, see {@link Kernels.binaryDense}. */
export function binaryDense(
  xPacked: Uint32Array,
  wPacked: Uint32Array,
  out: Int32Array,
  p: BinaryDenseParams,
): void {
  checkBinaryDense(p, xPacked, wPacked, out);
  const words = Math.ceil(p.inFeatures / 32);
  for (let b = 0; b < p.batch; b++) {
    for (let o = 0; o < p.outFeatures; o++) {
      let pc = 0;
      for (let q = 0; q < words; q++) pc += popcount32(xPacked[b * words + q] ^ wPacked[o * words + q]);
      out[b * p.outFeatures + o] = p.inFeatures - 2 * pc;
    }
  }
}

/**
 * Sign bits of one entry `x[xAt …]` `[C][L]` into words `out[oAt …]` `[L][ceil(C/32)]` (bit = `x < 0`, unused
 * bits 0). Returns the sum of the values in float64: finite iff every value is (float32 values cannot overflow
 * it, and NaN or ±∞ make it NaN or ±∞), so the finiteness check costs one add per value, not a second pass.
 * Each word is built from its highest channel down (`word·2 + bit`: a shift by one, no branch on the data).
 */
function packEntry(
  x: Float32Array,
  xAt: number,
  C: number,
  L: number,
  out: Uint32Array | Int32Array,
  oAt: number,
): number {
  const W = Math.ceil(C / 32);
  let sum = 0;
  for (let j = 0; j < W; j++) {
    // the group's lowest and highest channel rows
    const low = xAt + 32 * j * L;
    const high = xAt + (Math.min(C, 32 * j + 32) - 1) * L;
    for (let t = 0; t < L; t++) {
      let word = 0;
      for (let i = high + t; i >= low; i -= L) {
        word = (word << 1) | Number(x[i] < 0);
        sum += x[i];
      }
      out[oAt + t * W + j] = word;
    }
  }
  return sum;
}

/** Sign packing, see {@link Kernels.signPack}: bit = `x < 0` (conventions.ts §1–3); true iff every value is finite. */
export function signPack(x: Float32Array, out: Uint32Array, p: SignPackParams): boolean {
  checkSignPack(p, x, out);
  const { batch, channels: C, length: L } = p;
  const W = Math.ceil(C / 32);
  let sum = 0;
  for (let b = 0; b < batch; b++) sum += packEntry(x, b * C * L, C, L, out, b * L * W);
  return sum - sum === 0;
}

/**
 * A prepared binary conv, see {@link Kernels.prepareBinaryConv1d}: the dots of four output channels at a time
 * ({@link BinaryConvCore}), then their max pool and the float copy or the threshold rule of conventions.ts §6.
 */
export function prepareBinaryConv1d(
  wPacked: Uint32Array,
  p: BinaryConv1dParams,
  epilogue: BinaryConvEpilogue,
): BinaryConv1dPlan {
  const { outLength, outSize } = checkBinaryConvPlan(p, wPacked, epilogue);
  const { batch, outChannels: O, inChannels: C, inLength: L, outLength: T } = p;
  const core = binaryConvCore(p, wPacked);
  const W = core.W;
  const Wo = Math.ceil(O / 32);
  const pk = epilogue.pool ? epilogue.pool.kernelSize : 1;
  const ps = epilogue.pool ? epilogue.pool.stride : 1;
  const thr = epilogue.thresholds;
  // −1 (bit 1) ⇔ s·y < s·threshold with s = +1 (direction > 0: y < threshold) or −1 (y > threshold); exact in
  // doubles, also for thresholds ±2³¹.
  const sgn = Float64Array.from({ length: O }, (_, o) => (thr && thr.direction[o] <= 0 ? -1 : 1));
  const lim = Float64Array.from({ length: O }, (_, o) => (thr ? sgn[o] * thr.threshold[o] : 0));
  const dots = new Int32Array(4 * T);
  // Packed output: words assembled here (int32: no uint32 values to convert per bit), then copied out.
  const bits = new Int32Array(thr ? outSize : 0);
  /** Dots of batch entry `b` (already in the input rows) through the epilogue into `out`. */
  const finish = (out: Float32Array | Uint32Array, b: number) => {
    const at = b * outSize;
    bits.fill(0);
    for (let o0 = 0; o0 < O; o0 += 4) {
      const rows = Math.min(4, O - o0);
      core.dots(o0, rows, dots, 0);
      for (let r = 0; r < rows; r++) {
        const o = o0 + r;
        const s = sgn[o];
        const limit = lim[o];
        const word = o >>> 5;
        const bit = o & 31;
        for (let u = 0, d = r * T; u < outLength; u++, d += ps) {
          let y = dots[d];
          for (let j = 1; j < pk; j++) y = Math.max(y, dots[d + j]); // branch-free: dots look random
          if (thr) bits[word + u * Wo] |= Number(s * y < limit) << bit;
          else out[at + o * outLength + u] = y;
        }
      }
    }
    if (thr) for (let i = 0; i < outSize; i++) out[at + i] = bits[i];
  };
  return {
    outLength,
    outSize,
    run: (x, out) => {
      checkBinaryPlanCall(batch, L * W, outSize, thr !== null, x, out);
      for (let b = 0; b < batch; b++) {
        core.load(x, b * L * W);
        finish(out, b);
      }
    },
    runFloat: (x, out) => {
      checkBinaryPlanCall(batch, C * L, outSize, thr !== null, x, out);
      let sum = 0;
      for (let b = 0; b < batch; b++) {
        sum += core.loadFloat(x, b * C * L);
        finish(out, b);
      }
      return sum - sum === 0;
    },
  };
}
