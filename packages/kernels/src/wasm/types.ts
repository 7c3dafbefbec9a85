/**
 * The kernel interface shared by the WebAssembly SIMD kernels and the TypeScript fallback.
 * Layout: NCL (batch, channels, length), row-major; conv weights in PyTorch layout
 * `[outChannels, inChannels / groups, kernelSize]`; float32 only.
 */

/** Raised when a kernel gets inconsistent parameters or buffers that are too small. */
export class KernelArgumentError extends Error {
  override name = 'KernelArgumentError';
}

/** Activation fused into a kernel's output store. */
export type FusedActivation = 'none' | 'relu';

/** Geometry of a 1-D convolution (cross-correlation, as in PyTorch). */
export interface Conv1dParams {
  batch: number;
  inChannels: number;
  outChannels: number;
  inLength: number;
  /** Output length, given by the caller: `floor((inLength + padLeft + padRight − dilation·(K−1) − 1) / stride) + 1`. */
  outLength: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  /** Positions padded before the input; the right padding follows from `outLength`. */
  padLeft: number;
  groups: number;
  /** The constant the input is padded with (0 for zero padding, +1 for binary nets, …). */
  padValue: number;
  /** Forward only: activation applied after the bias (default `'none'`). */
  activation?: FusedActivation;
}

/**
 * Splits big `gemm` / `gemmNT` calls of a kernel set whose arena is shared (see `WasmArena`) across threads:
 * given the argument list, it runs some row blocks (`splitKernelCall`) on worker threads holding their own
 * instance of the same module on the same memory, and one block on the calling thread through `local`,
 * returning when all are done. `@ecgnn/core`'s threaded WebAssembly backend provides one (Node worker
 * threads); this package starts no threads itself.
 */
export interface ParallelRunner {
  /** Threads taking part, the calling one included. */
  readonly threads: number;
  run(kernel: 'gemm' | 'gemmNT', args: readonly number[], local: (args: readonly number[]) => void): void;
}

/** Optional batch strides for {@link Kernels.matmul}: 0 broadcasts one matrix over the batch. */
export interface MatmulOptions {
  /** Elements between consecutive batch entries of `a` (default `m·k`; 0 = broadcast). */
  batchStrideA?: number;
  /** Elements between consecutive batch entries of `b` (default `k·n`; 0 = broadcast). */
  batchStrideB?: number;
  /** Add into `out` instead of overwriting it. */
  accumulate?: boolean;
}

/** Geometry of a 1-D pooling window. */
export interface Pool1dParams {
  batch: number;
  channels: number;
  inLength: number;
  outLength: number;
  kernelSize: number;
  stride: number;
  padLeft: number;
}

/**
 * Geometry of a binary (XNOR/popcount) convolution on packed words. Input packed as
 * `[batch, inLength, words]`, weights as `[outChannels, kernelSize, words]`, with
 * `words = ceil(inChannels / 32)`, channels LSB-first, bit 0 = +1, bit 1 = −1, unused bits 0.
 */
export interface BinaryConv1dParams {
  batch: number;
  inChannels: number;
  outChannels: number;
  inLength: number;
  outLength: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  padLeft: number;
  /** Real value of padded positions: +1 (all bits 0) or 0 (padded taps contribute nothing). */
  padValue: 1 | 0;
}

/** Geometry of a binary dense layer: x `[batch, words]`, w `[outFeatures, words]`. */
export interface BinaryDenseParams {
  batch: number;
  inFeatures: number;
  outFeatures: number;
}

/** One interface, two implementations: WebAssembly SIMD and TypeScript. */
export interface Kernels {
  /** `'wasm-simd'` or `'typescript'`. */
  readonly kind: 'wasm-simd' | 'typescript';
  /**
   * `out[bt] = op(a[bt]) @ op(b[bt])` with `a` `[batch, m, k]` (`[batch, k, m]` if `transA`), `b`
   * `[batch, k, n]` (`[batch, n, k]` if `transB`), `out` `[batch, m, n]`.
   */
  matmul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batch: number,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
    options?: MatmulOptions | boolean,
  ): void;
  /** `out[b, o, t] = bias[o] + Σ_{c,j} w[o, c, j] · xpad[b, g·Cg + c, t·stride + j·dilation − padLeft]`, then the activation. */
  conv1dForward(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    p: Conv1dParams,
  ): void;
  /** Gradient with respect to the input (overwrites `gradX`; padded positions have no gradient). */
  conv1dBackwardInput(gradOut: Float32Array, w: Float32Array, gradX: Float32Array, p: Conv1dParams): void;
  /** Gradient with respect to the weight (overwrites `gradW`; padded positions contribute `padValue · gradOut`). */
  conv1dBackwardWeight(x: Float32Array, gradOut: Float32Array, gradW: Float32Array, p: Conv1dParams): void;
  /** Max pooling; `argmax` receives the input index (within the row) of each maximum, −1 for an all-padding window. */
  maxPool1dForward(x: Float32Array, out: Float32Array, argmax: Int32Array, p: Pool1dParams): void;
  /** Average pooling over the in-range positions of each window (`count_include_pad = false`). */
  avgPool1dForward(x: Float32Array, out: Float32Array, p: Pool1dParams): void;
  /**
   * Max pooling without indices (inference): the values {@link Kernels.maxPool1dForward} gives (padding
   * ignored, NaN propagates, the first of equal values kept, −∞ for an all-padding window), no `argmax`.
   */
  maxPool1d(x: Float32Array, out: Float32Array, p: Pool1dParams): void;
  /** Binary convolution: integer dot products `Σ (valid taps) Cin − 2·popcount(x ^ w)` into `out` `[batch, outC, outL]`. */
  binaryConv1d(xPacked: Uint32Array, wPacked: Uint32Array, out: Int32Array, p: BinaryConv1dParams): void;
  /** Binary dense: `out[b, o] = inFeatures − 2·popcount(x[b] ^ w[o])`. */
  binaryDense(xPacked: Uint32Array, wPacked: Uint32Array, out: Int32Array, p: BinaryDenseParams): void;
  /**
   * Sign packing (conventions.ts §1–3): float activations `[batch, channels, length]` → packed
   * `[batch, length, ceil(channels/32)]` words, bit = `x < 0` (so 0, −0 and NaN give +1), unused bits 0.
   */
  signPack(x: Float32Array, out: Uint32Array, p: SignPackParams): void;
  /**
   * A binary conv bound once to its geometry, weights `[outC][K][W]` (packed, read now: later changes to
   * `wPacked` are not seen) and epilogue — what a model layer runs on every call. The weights are laid out for
   * the kernel here, once.
   */
  prepareBinaryConv1d(
    wPacked: Uint32Array,
    p: BinaryConv1dParams,
    epilogue: BinaryConvEpilogue,
  ): BinaryConv1dPlan;
}

/** Geometry of {@link Kernels.signPack}. */
export interface SignPackParams {
  batch: number;
  channels: number;
  length: number;
}

/** What a prepared binary conv does with its integer dots `[outC, outLength]` ({@link Kernels.prepareBinaryConv1d}). */
export interface BinaryConvEpilogue {
  /** Max pooling over time on the integer dots, without padding (exact: integers), or null. */
  pool: { kernelSize: number; stride: number } | null;
  /**
   * null: float output `[batch, outC, Lout]`, the (pooled) dots as float32 (exact below 2²⁴). Otherwise the folded
   * rule of conventions.ts §6, `+1 ⇔ (direction > 0 ? y >= threshold : y <= threshold)` per channel, and packed
   * output `[batch, Lout, ceil(outC/32)]` words.
   */
  thresholds: { threshold: Int32Array; direction: Int8Array } | null;
}

/** A prepared binary conv ({@link Kernels.prepareBinaryConv1d}). Not re-entrant (one kernel set, one scratch). */
export interface BinaryConv1dPlan {
  /** Output length per channel after the pool (`Lout`). */
  readonly outLength: number;
  /** Elements of `out` per batch entry: `outC·Lout` floats, or `Lout·ceil(outC/32)` words with thresholds. */
  readonly outSize: number;
  /** Packed input `[batch, inLength, ceil(inC/32)]` → `out` (Float32Array, or Uint32Array with thresholds). */
  run(xPacked: Uint32Array, out: Float32Array | Uint32Array): void;
  /** Float input `[batch, inC, inLength]`, sign-packed first (a `sign` node fused into the conv) → `out`. */
  runFloat(x: Float32Array, out: Float32Array | Uint32Array): void;
}

/** Throws a {@link KernelArgumentError} when `cond` fails; the message is only built then. */
function need(cond: boolean, msg: () => string): void {
  if (!cond) throw new KernelArgumentError(msg());
}

function isPosInt(v: number): boolean {
  return Number.isInteger(v) && v > 0;
}

/** Validates matmul sizes and buffer lengths; returns the effective batch strides. */
export function checkMatmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  out: ArrayLike<number>,
  batch: number,
  m: number,
  k: number,
  n: number,
  options: MatmulOptions,
): { sa: number; sb: number } {
  need(
    isPosInt(batch) && isPosInt(m) && isPosInt(k) && isPosInt(n),
    () => `matmul: sizes must be positive integers (batch=${batch}, m=${m}, k=${k}, n=${n})`,
  );
  const sa = options.batchStrideA ?? m * k;
  const sb = options.batchStrideB ?? k * n;
  need(sa >= 0 && sb >= 0, () => `matmul: negative batch stride`);
  need(
    a.length >= (batch - 1) * sa + m * k,
    () => `matmul: a has ${a.length} elements, needs ${(batch - 1) * sa + m * k}`,
  );
  need(
    b.length >= (batch - 1) * sb + k * n,
    () => `matmul: b has ${b.length} elements, needs ${(batch - 1) * sb + k * n}`,
  );
  need(out.length >= batch * m * n, () => `matmul: out has ${out.length} elements, needs ${batch * m * n}`);
  return { sa, sb };
}

/** Validates a conv1d geometry and, when given, the three buffers' lengths. */
export function checkConv1d(
  p: Conv1dParams,
  x?: ArrayLike<number>,
  w?: ArrayLike<number>,
  out?: ArrayLike<number>,
): void {
  const {
    batch,
    inChannels,
    outChannels,
    inLength,
    outLength,
    kernelSize,
    stride,
    dilation,
    padLeft,
    groups,
  } = p;
  need(
    isPosInt(batch) &&
      isPosInt(inChannels) &&
      isPosInt(outChannels) &&
      isPosInt(inLength) &&
      isPosInt(outLength) &&
      isPosInt(kernelSize) &&
      isPosInt(stride) &&
      isPosInt(dilation) &&
      isPosInt(groups) &&
      Number.isInteger(padLeft) &&
      padLeft >= 0,
    () => `conv1d: sizes must be positive integers (${JSON.stringify(p)})`,
  );
  need(
    inChannels % groups === 0 && outChannels % groups === 0,
    () => `conv1d: channels ${inChannels}→${outChannels} not divisible by groups ${groups}`,
  );
  need(Number.isFinite(p.padValue), () => `conv1d: padValue must be finite`);
  need(
    padLeft <= dilation * (kernelSize - 1),
    () =>
      `conv1d: padLeft ${padLeft} exceeds the receptive field ${dilation * (kernelSize - 1)} (whole windows of padding)`,
  );
  if (x)
    need(
      x.length >= batch * inChannels * inLength,
      () => `conv1d: input has ${x.length} elements, needs ${batch * inChannels * inLength}`,
    );
  const wLen = outChannels * (inChannels / groups) * kernelSize;
  if (w) need(w.length >= wLen, () => `conv1d: weight has ${w.length} elements, needs ${wLen}`);
  if (out)
    need(
      out.length >= batch * outChannels * outLength,
      () => `conv1d: output has ${out.length} elements, needs ${batch * outChannels * outLength}`,
    );
}

/** Validates a pooling geometry and buffers. */
export function checkPool1d(p: Pool1dParams, x: ArrayLike<number>, out: ArrayLike<number>): void {
  need(
    isPosInt(p.batch) &&
      isPosInt(p.channels) &&
      isPosInt(p.inLength) &&
      isPosInt(p.outLength) &&
      isPosInt(p.kernelSize) &&
      isPosInt(p.stride) &&
      Number.isInteger(p.padLeft) &&
      p.padLeft >= 0 &&
      p.padLeft < p.kernelSize,
    () => `pool1d: bad geometry ${JSON.stringify(p)}`,
  );
  need(x.length >= p.batch * p.channels * p.inLength, () => `pool1d: input has ${x.length} elements`);
  need(out.length >= p.batch * p.channels * p.outLength, () => `pool1d: output has ${out.length} elements`);
}

/** Validates a binary conv geometry and buffers. */
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
  need(
    p.padLeft <= p.dilation * (p.kernelSize - 1),
    () => `binaryConv1d: padLeft ${p.padLeft} exceeds the receptive field`,
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

/** Normalises the trailing matmul argument (boolean `accumulate` or options object). */
export function matmulOptions(o: MatmulOptions | boolean | undefined): MatmulOptions {
  if (typeof o === 'boolean') return { accumulate: o };
  return o ?? {};
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
    outLength = Math.floor((p.outLength - k) / s) + 1;
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
