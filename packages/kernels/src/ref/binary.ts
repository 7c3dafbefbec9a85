/**
 * Reference binary (±1, bit-packed) kernels: sign packing, binary convolution and dense products on packed
 * words, and prepared binary convolutions with their epilogue (max pool on the integer dots, float copy or the
 * threshold rule). They are the fallback of the WebAssembly binary kernels and what `@ecgnn/infer` runs without
 * WebAssembly SIMD, so the convolution is the fast TypeScript form (the plain loops, their oracle, are in
 * `../testing.ts`):
 *
 * - the input is copied between zero rows (+1 padding, conventions.ts §5) so that every output position reads
 *   its K taps through one table of word offsets; zero padding is then taken out at the edge positions
 *   (corrections computed once per weight, as the WebAssembly plans do);
 * - four output channels share each input word load, two positions share each weight word load;
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
function need(cond: boolean, msg: () => string): void {
  if (!cond) throw new KernelArgumentError(msg());
}

function isPosInt(v: number): boolean {
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
 * A binary conv bound to its geometry and weights: the padded input rows, the word offsets of the K taps, the
 * zero-padding corrections, and {@link BinaryConvCore.dots} computing the dots of up to four output channels.
 */
class BinaryConvCore {
  readonly W: number;
  /** Words of one output channel's weights (K·W). */
  readonly KW: number;
  /**
   * One batch entry's input `[Lp][W]` words: row `i` holds input position `i − padLeft`; the rows outside
   * `[padLeft, padLeft + L)` stay 0 (+1). Long enough for one position past the last (positions go in pairs).
   */
  readonly xp: Uint32Array;
  /** Word offset of weight word `i = k·W + j` (tap k, word j) from a position's first word: `k·d·W + j`. */
  readonly offs: Int32Array;
  /** Zero padding: conv positions whose window holds padding and, per position, each channel's correction. */
  readonly edges: Int32Array;
  readonly corrections: Int32Array;

  constructor(
    readonly p: BinaryConv1dParams,
    readonly w: Uint32Array,
  ) {
    const { inChannels: C, outChannels: O, inLength: L, outLength: T, kernelSize: K } = p;
    const { stride: s, dilation: d, padLeft } = p;
    const W = Math.ceil(C / 32);
    this.W = W;
    this.KW = K * W;
    const span = (K - 1) * d;
    this.xp = new Uint32Array(Math.max(padLeft + L, T * s + span + 1) * W);
    this.offs = new Int32Array(K * W);
    for (let k = 0; k < K; k++) for (let j = 0; j < W; j++) this.offs[k * W + j] = k * d * W + j;
    // A padded tap read as +1 (zero words) added C − 2·popcount(w_k) to the dot; with zero padding it must not.
    const edges: number[] = [];
    if (p.padValue === 0)
      for (let t = 0; t < T; t++) if (t * s < padLeft || t * s - padLeft + span >= L) edges.push(t);
    this.edges = Int32Array.from(edges);
    this.corrections = new Int32Array(edges.length * O);
    edges.forEach((t, e) => {
      for (let k = 0; k < K; k++) {
        const i = t * s - padLeft + k * d;
        if (i >= 0 && i < L) continue;
        for (let o = 0; o < O; o++) {
          let pc = 0;
          for (let j = 0; j < W; j++) pc += popcount32(w[(o * K + k) * W + j]);
          this.corrections[e * O + o] += C - 2 * pc;
        }
      }
    });
  }

  /** Copies packed entry `x[at … at + L·W)` into the input rows (an index loop: no view per call). */
  load(x: Uint32Array, at: number): void {
    const { xp } = this;
    const n = this.p.inLength * this.W;
    for (let i = 0, j = this.p.padLeft * this.W; i < n; i++, j++) xp[j] = x[at + i];
  }

  /**
   * Dots of output channels `o0 … o0 + rows − 1` (rows ≤ 4) at every conv position t into
   * `dst[at + r·T + t]`, from the input rows: `C·K − 2·popcount(x ^ w)` over the K taps, minus the corrections.
   * Two positions per step (the extra one past the end is computed and dropped), the four channels' weight words
   * loaded once per step; channels past `rows` repeat the first (computed, not stored).
   */
  dots(o0: number, rows: number, dst: Int32Array, at: number): void {
    const { xp, offs, KW, w } = this;
    const { outLength: T, outChannels: O } = this.p;
    const step = this.p.stride * this.W;
    const terms = this.p.inChannels * this.p.kernelSize;
    const w0 = o0 * KW;
    const w1 = rows > 1 ? w0 + KW : w0;
    const w2 = rows > 2 ? w0 + 2 * KW : w0;
    const w3 = rows > 3 ? w0 + 3 * KW : w0;
    for (let t = 0; t < T; t += 2) {
      const xa = t * step;
      const xb = xa + step;
      let m0 = 0;
      let m1 = 0;
      let m2 = 0;
      let m3 = 0;
      let n0 = 0;
      let n1 = 0;
      let n2 = 0;
      let n3 = 0;
      for (let q0 = 0; q0 < KW; q0 += 31) {
        const end = Math.min(q0 + 31, KW);
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let b0 = 0;
        let b1 = 0;
        let b2 = 0;
        let b3 = 0;
        for (let q = q0; q < end; q++) {
          const xu = xp[xa + offs[q]];
          const xv = xp[xb + offs[q]];
          const u0 = w[w0 + q];
          const u1 = w[w1 + q];
          const u2 = w[w2 + q];
          const u3 = w[w3 + q];
          // Byte lanes never carry (≤ 248); `| 0` keeps the sums int32 (only the sign bit wraps).
          a0 = (a0 + byteCounts(xu ^ u0)) | 0;
          a1 = (a1 + byteCounts(xu ^ u1)) | 0;
          a2 = (a2 + byteCounts(xu ^ u2)) | 0;
          a3 = (a3 + byteCounts(xu ^ u3)) | 0;
          b0 = (b0 + byteCounts(xv ^ u0)) | 0;
          b1 = (b1 + byteCounts(xv ^ u1)) | 0;
          b2 = (b2 + byteCounts(xv ^ u2)) | 0;
          b3 = (b3 + byteCounts(xv ^ u3)) | 0;
        }
        m0 += laneSum(a0);
        m1 += laneSum(a1);
        m2 += laneSum(a2);
        m3 += laneSum(a3);
        n0 += laneSum(b0);
        n1 += laneSum(b1);
        n2 += laneSum(b2);
        n3 += laneSum(b3);
      }
      const i = at + t;
      const second = t + 1 < T;
      dst[i] = terms - 2 * m0;
      if (second) dst[i + 1] = terms - 2 * n0;
      if (rows > 1) {
        dst[i + T] = terms - 2 * m1;
        if (second) dst[i + T + 1] = terms - 2 * n1;
      }
      if (rows > 2) {
        dst[i + 2 * T] = terms - 2 * m2;
        if (second) dst[i + 2 * T + 1] = terms - 2 * n2;
      }
      if (rows > 3) {
        dst[i + 3 * T] = terms - 2 * m3;
        if (second) dst[i + 3 * T + 1] = terms - 2 * n3;
      }
    }
    const { edges, corrections } = this;
    for (let e = 0; e < edges.length; e++)
      for (let r = 0; r < rows; r++) dst[at + r * T + edges[e]] -= corrections[e * O + o0 + r];
  }
}

/** Binary conv1d on packed words, see {@link Kernels.binaryConv1d}. */
export function binaryConv1d(
  xPacked: Uint32Array,
  wPacked: Uint32Array,
  out: Int32Array,
  p: BinaryConv1dParams,
): void {
  checkBinaryConv1d(p, xPacked, wPacked, out);
  const core = new BinaryConvCore(p, wPacked);
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
 * Each word is built from its highest channel down (`word·2 + bit`: a shift by one), four positions at a time
 * (branch-free; 1.6× the speed of one position at a time with a shift per channel, measured at 64×1000).
 */
function packEntry(x: Float32Array, xAt: number, C: number, L: number, out: Uint32Array, oAt: number): number {
  const W = Math.ceil(C / 32);
  let sum = 0;
  for (let j = 0; j < W; j++) {
    // the group's lowest and highest channel rows
    const low = xAt + 32 * j * L;
    const high = xAt + (Math.min(C, 32 * j + 32) - 1) * L;
    let t = 0;
    for (; t + 4 <= L; t += 4) {
      let w0 = 0;
      let w1 = 0;
      let w2 = 0;
      let w3 = 0;
      for (let i = high + t; i >= low; i -= L) {
        const a = x[i];
        const b = x[i + 1];
        const c = x[i + 2];
        const d = x[i + 3];
        w0 = (w0 << 1) | Number(a < 0);
        w1 = (w1 << 1) | Number(b < 0);
        w2 = (w2 << 1) | Number(c < 0);
        w3 = (w3 << 1) | Number(d < 0);
        sum += a + b + (c + d);
      }
      const k = oAt + t * W + j;
      out[k] = w0;
      out[k + W] = w1;
      out[k + 2 * W] = w2;
      out[k + 3 * W] = w3;
    }
    for (; t < L; t++) {
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
  const core = new BinaryConvCore(
    { ...p, batch: 1 },
    wPacked.slice(0, O * p.kernelSize * Math.ceil(C / 32)),
  );
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
  /** Dots of batch entry `b` (already in the input rows) through the epilogue into `out`. */
  const finish = (out: Float32Array | Uint32Array, b: number) => {
    const at = b * outSize;
    if (thr) out.fill(0, at, at + outSize);
    for (let o0 = 0; o0 < O; o0 += 4) {
      const rows = Math.min(4, O - o0);
      core.dots(o0, rows, dots, 0);
      for (let r = 0; r < rows; r++) {
        const o = o0 + r;
        const s = sgn[o];
        const limit = lim[o];
        const word = at + (o >>> 5);
        const bit = o & 31;
        for (let u = 0, d = r * T; u < outLength; u++, d += ps) {
          let y = dots[d];
          for (let j = 1; j < pk; j++) y = Math.max(y, dots[d + j]); // branch-free: dots look random
          if (thr) out[word + u * Wo] |= Number(s * y < limit) << bit;
          else out[at + o * outLength + u] = y;
        }
      }
    }
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
        sum += packEntry(x, b * C * L, C, L, core.xp, p.padLeft * W);
        finish(out, b);
      }
      return sum - sum === 0;
    },
  };
}
