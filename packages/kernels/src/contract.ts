/**
 * The kernel contract of ecgnn: ONE interface that every backend implements, on flat typed arrays.
 *
 * - The TypeScript reference set ({@link referenceKernels}, `ref/`) implements every kernel, float32 and
 *   float64; it is `@ecgnn/core`'s CPU backend and the oracle every other implementation is tested against.
 * - The WebAssembly SIMD set (`@ecgnn/kernels/wasm`), a GPU backend, or any user backend implements a subset
 *   (`Partial<Kernels>`); callers resolve missing kernels to the reference one, per kernel.
 * - `@ecgnn/core` calls only these kernels from its primitives; `@ecgnn/infer` binds them at load time.
 *
 * Conventions, for every kernel unless it says otherwise:
 * - Kernels write into caller-allocated outputs (overwriting them) and allocate nothing per element. An output
 *   may alias an input exactly (same array) for elementwise kernels (`unary`, `unaryBackward`, `binary`,
 *   `compare`, `where`, `prelu`); for all other kernels outputs must not overlap inputs.
 * - Layout is row-major; 1-D conv/pool tensors are NCL `[batch, channels, length]`; conv weights use PyTorch's
 *   `[outChannels, inChannels / groups, kernelSize]`.
 * - Float kernels take float32 or float64 arrays (the same type for every float operand of one call);
 *   reductions of float32 data accumulate in float64 where the reference says so.
 * - NaN propagates as in PyTorch (max/min/relu/maximum pass NaN through).
 * - Geometry is validated by the caller (core's ops, infer's graph checker); kernels that a backend can only run
 *   for some geometries say so by throwing {@link KernelArgumentError} or by the caller's fallback test
 *   ({@link convPaddingWithinField}).
 */
import type { FloatSignThresholds } from './binary/conventions.js';
import type { Generator } from './random.js';

/** Storage of a float tensor. */
export type FloatArray = Float32Array | Float64Array;
/** Storage of any tensor (float32, float64 or int32). */
export type TypedArray = Float32Array | Float64Array | Int32Array;

// ---------------------------------------------------------------------------------------------------------
// Operation names

/**
 * Elementwise unary kernels `out[i] = f(x[i]; p0, p1)`. Scalar parameters:
 * `leakyRelu` p0 = negative slope; `elu` p0 = α; `hardtanh`/`clamp` p0 = min, p1 = max;
 * `softplus` p0 = β, p1 = threshold (linear above β·x > threshold); the others take none.
 * `sign` follows the binary convention (conventions.ts): −1 iff x < 0, else +1 (sign(0) = sign(NaN) = +1).
 * `gelu` is exact (erf), `geluTanh` the tanh approximation.
 */
export type UnaryKernelOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'sign'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'square'
  | 'reciprocal'
  | 'erf'
  | 'leakyRelu'
  | 'elu'
  | 'gelu'
  | 'geluTanh'
  | 'hardtanh'
  | 'clamp'
  | 'softplus'
  | 'silu';

/**
 * Gradient kernels of the unary ops: `gx[i] = g[i] · f'(x[i])` (PyTorch's conventions at kinks), plus the
 * straight-through estimators of `sign`:
 * - `sign`: 0 (the true derivative almost everywhere);
 * - `signSteIdentity`: g;
 * - `signSteClipped`: g where −p0 ≤ x ≤ p0 (p0 = 1 for the standard clipped STE), else 0;
 * - `signSteTriangular`: g · 2s · max(0, 1 − s|x|) with sharpness s = p0 > 0.
 */
export type UnaryGradKernelOp = UnaryKernelOp | 'signSteIdentity' | 'signSteClipped' | 'signSteTriangular';

/** Elementwise binary kernels (with NumPy broadcasting). `maximum`/`minimum` propagate NaN. */
export type BinaryKernelOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';

/** Comparison kernels: output 1 where true, 0 where false, in the output's dtype. */
export type CompareKernelOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** Reduction kernels. Sums accumulate in float64; max/min propagate NaN and keep the first extremum. */
export type ReduceKernelOp = 'sum' | 'max' | 'min';

/** Activation fused into a kernel's output store (conv forward). */
export type FusedActivation = 'none' | 'relu';

// ---------------------------------------------------------------------------------------------------------
// Parameter types (one per kernel family; geometry helpers in params.ts)

/**
 * Parameters of a 1-D convolution (cross-correlation, as PyTorch) over NCL tensors with weight layout
 * `[outC, inC/groups, K]`. The input is padded on the left by `padLeft` and on the right by whatever
 * `outLength` implies (see {@link conv1dOutputLength}), with the constant `padValue` (0 normally, +1 for
 * binary networks).
 */
export interface Conv1dParams {
  batch: number;
  inChannels: number;
  outChannels: number;
  inLength: number;
  outLength: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  padLeft: number;
  groups: number;
  padValue: number;
  /** Forward only: activation applied after the bias (default `'none'`). */
  activation?: FusedActivation;
}

/**
 * Parameters of 1-D pooling over NCL tensors (rows = batch·channels). Windows start at `t·stride − padLeft`
 * and take `kernelSize` elements spaced by `dilation`; positions outside `[0, inLength)` are padding.
 */
export interface Pool1dParams {
  batch: number;
  channels: number;
  inLength: number;
  outLength: number;
  kernelSize: number;
  stride: number;
  padLeft: number;
  /** Spacing between window elements (max pooling; average pooling uses 1). */
  dilation: number;
}

/** @deprecated Same as {@link Pool1dParams} (kept for one release). */
export type MaxPool1dWindow = Pool1dParams;

/**
 * Batched matrix product `out[b] = op(A[b]) · op(B[b])`, op = transpose when `transA`/`transB`. A is m×k
 * (k×m if transA), B is k×n (n×k if transB), out is `batch`×m×n contiguous. A[b] starts at
 * `b·batchStrideA` (default m·k; 0 broadcasts one matrix over the batch), likewise B.
 */
export interface MatmulParams {
  batch: number;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  batchStrideA?: number;
  batchStrideB?: number;
  /** Add into `out` instead of overwriting it. */
  accumulate?: boolean;
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

/** Geometry of {@link Kernels.signPack}. */
export interface SignPackParams {
  batch: number;
  channels: number;
  length: number;
}

/**
 * Geometry and rule of {@link Kernels.thresholdPack}: float input `[batch, channels, length]`, max pooling over
 * time without padding (or none), then the float rule of conventions.ts §7 per channel.
 */
export interface ThresholdPackParams extends SignPackParams {
  /** Max pooling over time (window `kernelSize ≤ length`, `stride`), or null. */
  pool: { kernelSize: number; stride: number } | null;
  /** The rule of conventions.ts §7, one per channel. */
  thresholds: FloatSignThresholds;
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
  /**
   * Float input `[batch, inC, inLength]`, sign-packed first (a `sign` node fused into the conv) → `out`. Returns
   * whether every input value was finite (false: some NaN or ±∞, which packs as +1 like any value not < 0; the
   * caller locates it with {@link Kernels.firstNonFinite} if it must).
   */
  runFloat(x: Float32Array, out: Float32Array | Uint32Array): boolean;
}

/** Hyper-parameters of one SGD step (PyTorch `torch.optim.SGD`). */
export interface SgdStepParams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  /** True on the parameter's first step with momentum (the buffer is initialised to the gradient). */
  firstStep: boolean;
}

/** Hyper-parameters of one Adam/AdamW step (PyTorch `torch.optim.Adam` / `AdamW`). */
export interface AdamStepParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: weight decay applied to the parameter (θ ← θ − lr·λ·θ), not added to the gradient. */
  decoupled: boolean;
  amsgrad: boolean;
  maximize: boolean;
  /** 1-based step count of this parameter (for the bias corrections). */
  step: number;
}

// ---------------------------------------------------------------------------------------------------------
// The contract

/**
 * The compute kernels of ecgnn. The reference set implements all of them; another backend implements the
 * ones it chooses and the rest fall back to the reference, per kernel.
 */
export interface Kernels {
  // --- elementwise -------------------------------------------------------------------------------------
  /** `out[i] = op(x[i]; p0, p1)` (see {@link UnaryKernelOp} for the parameters). */
  unary(op: UnaryKernelOp, x: TypedArray, out: TypedArray, p0?: number, p1?: number): void;
  /**
   * `gx[i] = g[i] · op'(x[i])` (see {@link UnaryGradKernelOp}); `y` is the forward output `op(x)` (rules that
   * are cheaper from the output read it: exp, sqrt, tanh, sigmoid, elu).
   */
  unaryBackward(
    op: UnaryGradKernelOp,
    x: FloatArray,
    y: FloatArray,
    g: FloatArray,
    gx: FloatArray,
    p0?: number,
    p1?: number,
  ): void;
  /**
   * `out = op(a, b)` with broadcasting: `aStrides`/`bStrides` are the operands' strides over `outShape`
   * (0 on broadcast dimensions).
   */
  binary(
    op: BinaryKernelOp,
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    out: TypedArray,
    outShape: readonly number[],
  ): void;
  /** `out = (a op b) ? 1 : 0` with broadcasting, like {@link Kernels.binary}. */
  compare(
    op: CompareKernelOp,
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    out: TypedArray,
    outShape: readonly number[],
  ): void;
  /** `out = cond != 0 ? a : b` with broadcasting (strides over `outShape`, 0 on broadcast dimensions). */
  where(
    cond: TypedArray,
    condStrides: readonly number[],
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    out: TypedArray,
    outShape: readonly number[],
  ): void;
  /**
   * PReLU over `x` viewed as `[outer, channels, inner]`: `out = x > 0 ? x : w[c]·x` (`w` has `channels`
   * elements, or 1 shared by all).
   */
  prelu(x: FloatArray, w: FloatArray, out: FloatArray, outer: number, channels: number, inner: number): void;
  /** Gradients of {@link Kernels.prelu}: `gx` (may be null) and `gw` (overwritten; summed over outer and inner). */
  preluBackward(
    x: FloatArray,
    w: FloatArray,
    g: FloatArray,
    gx: FloatArray | null,
    gw: FloatArray | null,
    outer: number,
    channels: number,
    inner: number,
  ): void;
  /** Converts `x` into `out`'s dtype (to int32: truncation toward zero, NaN → 0, as Int32Array assignment). */
  cast(x: TypedArray, out: TypedArray): void;
  /** `out[offset … offset+length) = value` (default: the whole array). */
  fill(out: TypedArray, value: number, offset?: number, length?: number): void;
  /** `out[i] = start + i·step`. */
  arange(out: TypedArray, start: number, step: number): void;
  /** Index into `x` (absolute, not relative to `offset`) of the first NaN or ±∞ in `x[offset … offset+length)`, or −1. */
  firstNonFinite(x: TypedArray, offset?: number, length?: number): number;

  // --- reductions and softmax --------------------------------------------------------------------------
  /**
   * Reduces `x` viewed as [outer, reduce, inner] along the middle dimension. `argOut`, when given, receives
   * the index (0..reduce−1) of the first max/min.
   */
  reduce(
    op: ReduceKernelOp,
    x: TypedArray,
    out: TypedArray,
    outer: number,
    reduce: number,
    inner: number,
    argOut?: Int32Array,
  ): void;
  /**
   * Softmax (or, with `log`, log-softmax) of `x` viewed as [outer, reduce, inner] along the middle dimension,
   * computed stably (max subtracted; sums in float64).
   */
  softmax(x: FloatArray, out: FloatArray, outer: number, reduce: number, inner: number, log: boolean): void;
  /**
   * Gradient of {@link Kernels.softmax} from its output `y`: `gx = y·(g − Σ g·y)`, or with `log`,
   * `gx = g − exp(y)·Σ g`.
   */
  softmaxBackward(
    y: FloatArray,
    g: FloatArray,
    gx: FloatArray,
    outer: number,
    reduce: number,
    inner: number,
    log: boolean,
  ): void;

  // --- layout and indexing -----------------------------------------------------------------------------
  /** Copies `x` (shape `shape`) into `out` permuted by `perm` (out.shape[i] = shape[perm[i]]). */
  permute(x: TypedArray, shape: readonly number[], perm: readonly number[], out: TypedArray): void;
  /**
   * Strided copy over the index space `shape`: `dst[dstOffset + Σ i_d·dstStrides_d] =
   * src[srcOffset + Σ i_d·srcStrides_d]` (a source stride 0 broadcasts). Slice, pad, concat, expand and their
   * gradients are this kernel (with {@link Kernels.fill}); with `accumulate`, adds into `dst` instead (then
   * `dst` positions must be distinct).
   */
  copyStrided(
    src: TypedArray,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: TypedArray,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
    accumulate?: boolean,
  ): void;
  /**
   * `torch.gather` along `axis`: `out[…, j, …] = x[…, index[…, j, …], …]`; `index` (int32, every value in
   * `[0, xShape[axis])`, checked by the caller) has the rank of `x` and `indexShape[d] ≤ xShape[d]` for d ≠ axis.
   * `out` has `indexShape`.
   */
  gather(
    x: TypedArray,
    xShape: readonly number[],
    index: Int32Array,
    indexShape: readonly number[],
    axis: number,
    out: TypedArray,
  ): void;
  /** Adjoint of {@link Kernels.gather}: `gx` (shape `xShape`, overwritten) gets `g` added at the gathered positions. */
  gatherBackward(
    g: FloatArray,
    xShape: readonly number[],
    index: Int32Array,
    indexShape: readonly number[],
    axis: number,
    gx: FloatArray,
  ): void;
  /**
   * `index_select` on `x` viewed as [outer, axisLen, inner]: `out[o, j, i] = x[o, index[j], i]`
   * (out is [outer, index.length, inner]).
   */
  indexSelect(
    x: TypedArray,
    outer: number,
    axisLen: number,
    inner: number,
    index: Int32Array,
    out: TypedArray,
  ): void;
  /** Adjoint of {@link Kernels.indexSelect}: `gx` (overwritten) gets `g` added at the selected positions. */
  indexSelectBackward(
    g: FloatArray,
    outer: number,
    axisLen: number,
    inner: number,
    index: Int32Array,
    gx: FloatArray,
  ): void;

  // --- normalisation -----------------------------------------------------------------------------------
  /**
   * Per-channel mean and biased variance (float64) of `x` viewed as [batch, channels, inner] — the batch
   * statistics of batch normalisation.
   */
  channelMoments(
    x: FloatArray,
    batch: number,
    channels: number,
    inner: number,
    mean: Float64Array,
    variance: Float64Array,
  ): void;
  /** `out = (x − mean[c])·invstd[c]·w[c] + b[c]` over [batch, channels, inner] (w, b optional). */
  batchNormForward(
    x: FloatArray,
    mean: Float64Array,
    invstd: Float64Array,
    weight: FloatArray | null,
    bias: FloatArray | null,
    out: FloatArray,
    batch: number,
    channels: number,
    inner: number,
  ): void;
  /**
   * Gradients of batch normalisation (each output may be null). With `training`, the statistics are the
   * batch's own and depend on x (the full formula); otherwise they are constants.
   */
  batchNormBackward(
    x: FloatArray,
    g: FloatArray,
    mean: Float64Array,
    invstd: Float64Array,
    weight: FloatArray | null,
    gx: FloatArray | null,
    gw: FloatArray | null,
    gb: FloatArray | null,
    batch: number,
    channels: number,
    inner: number,
    training: boolean,
  ): void;
  /**
   * Layer normalisation over the last `cols` elements of each of `rows` rows:
   * `out = (x − μ)/√(σ² + eps)·w + b`; saves each row's mean and 1/√(σ²+eps) (float64).
   */
  layerNormForward(
    x: FloatArray,
    weight: FloatArray | null,
    bias: FloatArray | null,
    out: FloatArray,
    mean: Float64Array,
    invstd: Float64Array,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /** Gradients of {@link Kernels.layerNormForward} (each output may be null; gw/gb summed over rows). */
  layerNormBackward(
    x: FloatArray,
    g: FloatArray,
    mean: Float64Array,
    invstd: Float64Array,
    weight: FloatArray | null,
    gx: FloatArray | null,
    gw: FloatArray | null,
    gb: FloatArray | null,
    rows: number,
    cols: number,
  ): void;

  // --- matmul, convolution, pooling --------------------------------------------------------------------
  /** Batched matrix product, see {@link MatmulParams}. */
  matmul(a: FloatArray, b: FloatArray, out: FloatArray, p: MatmulParams): void;
  /** Convolution forward: out [B, outC, outL] = act(conv(x [B, inC, inL], w) + bias). */
  conv1dForward(
    x: FloatArray,
    w: FloatArray,
    bias: FloatArray | null,
    out: FloatArray,
    p: Conv1dParams,
  ): void;
  /** Gradient of the input (overwritten); padded positions get none. */
  conv1dBackwardInput(gradOut: FloatArray, w: FloatArray, gradX: FloatArray, p: Conv1dParams): void;
  /** Gradient of the weight (overwritten); padded positions contribute padValue·gradOut. */
  conv1dBackwardWeight(x: FloatArray, gradOut: FloatArray, gradW: FloatArray, p: Conv1dParams): void;
  /**
   * Max pooling with −∞ padding. `argOut` (or null at inference) receives each output's input position of the
   * first maximum (−1 when the window holds no input).
   */
  maxPool1d(x: FloatArray, out: FloatArray, argOut: Int32Array | null, p: Pool1dParams): void;
  /** Gradient of max pooling: gradX (overwritten) gets g added at the saved argmax positions. */
  maxPool1dBackward(
    g: FloatArray,
    arg: Int32Array,
    gradX: FloatArray,
    rows: number,
    inLength: number,
    outLength: number,
  ): void;
  /** Average pooling (PyTorch divisor rules: `countIncludePad`, windows clipped at the padded end). */
  avgPool1d(x: FloatArray, out: FloatArray, p: Pool1dParams, countIncludePad: boolean): void;
  /** Adjoint of {@link Kernels.avgPool1d} (gradX overwritten). */
  avgPool1dBackward(g: FloatArray, gradX: FloatArray, p: Pool1dParams, countIncludePad: boolean): void;
  /** Adaptive average pooling of rows to `outLength` bins (PyTorch bins). */
  adaptiveAvgPool1d(x: FloatArray, out: FloatArray, rows: number, inLength: number, outLength: number): void;
  /** Adjoint of {@link Kernels.adaptiveAvgPool1d} (gradX overwritten). */
  adaptiveAvgPool1dBackward(
    g: FloatArray,
    gradX: FloatArray,
    rows: number,
    inLength: number,
    outLength: number,
  ): void;
  /** Adaptive max pooling (PyTorch bins); `argOut` receives each bin's first-maximum position. */
  adaptiveMaxPool1d(
    x: FloatArray,
    out: FloatArray,
    argOut: Int32Array | null,
    rows: number,
    inLength: number,
    outLength: number,
  ): void;

  // --- binary (±1, bit-packed) layers ------------------------------------------------------------------
  /**
   * Sign packing (conventions.ts §1–3): float activations `[batch, channels, length]` → packed
   * `[batch, length, ceil(channels/32)]` words, bit = `x < 0` (so 0, −0 and NaN give +1), unused bits 0.
   * Returns whether every value of `x` read was finite (false: some NaN or ±∞).
   */
  signPack(x: Float32Array, out: Uint32Array, p: SignPackParams): boolean;
  /**
   * Threshold packing (conventions.ts §7): float values `[batch, channels, length]` → max pool over time (as
   * {@link maxPool1d}: a NaN in a window gives NaN) → the per-channel float rule → packed
   * `[batch, outLength, ceil(channels/32)]` words, `outLength = floor((length − k) / s) + 1` with a pool, else
   * `length`. What a float layer (conv → pool → monotone epilogue → sign) folded at load runs.
   */
  thresholdPack(x: Float32Array, out: Uint32Array, p: ThresholdPackParams): void;
  /** Binary convolution: integer dots `Σ (valid taps) Cin − 2·popcount(x ^ w)` into `out` `[batch, outC, outL]`. */
  binaryConv1d(xPacked: Uint32Array, wPacked: Uint32Array, out: Int32Array, p: BinaryConv1dParams): void;
  /** Binary dense: `out[b, o] = inFeatures − 2·popcount(x[b] ^ w[o])`. */
  binaryDense(xPacked: Uint32Array, wPacked: Uint32Array, out: Int32Array, p: BinaryDenseParams): void;
  /**
   * A binary conv bound once to its geometry, weights `[outC][K][W]` (packed, read now) and epilogue — what a
   * model layer runs on every call.
   */
  prepareBinaryConv1d(
    wPacked: Uint32Array,
    p: BinaryConv1dParams,
    epilogue: BinaryConvEpilogue,
  ): BinaryConv1dPlan;

  // --- optimizers (in place) ---------------------------------------------------------------------------
  /** One SGD step on `param` in place (`buf`: momentum buffer, or null without momentum). */
  sgdStep(param: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdStepParams): void;
  /** One Adam/AdamW step on `param` in place (`m`, `v`: moment estimates; `vMax`: AMSGrad's running max). */
  adamStep(
    param: FloatArray,
    grad: FloatArray,
    m: FloatArray,
    v: FloatArray,
    vMax: FloatArray | null,
    p: AdamStepParams,
  ): void;

  // --- random ------------------------------------------------------------------------------------------
  /** `out[i]` uniform in `[low, high)` from `gen`, in index order. */
  randomUniform(out: FloatArray, gen: Generator, low: number, high: number): void;
  /** `out[i]` normal(mean, std) from `gen`, in index order. */
  randomNormal(out: FloatArray, gen: Generator, mean: number, std: number): void;
  /** `out[i]` uniform integer in `[low, high)` from `gen`. */
  randomInt(out: TypedArray, gen: Generator, low: number, high: number): void;
  /** A uniform random permutation of 0…out.length−1 (Fisher–Yates from `gen`). */
  randperm(out: Int32Array, gen: Generator): void;
  /** Inverted-dropout mask: `mask[i] = 1/(1−p)` with probability 1−p, else 0. */
  dropoutMask(mask: FloatArray, gen: Generator, p: number): void;
}

/** Names of the kernels. */
export type KernelName = keyof Kernels;

/** Raised when a kernel gets inconsistent parameters or buffers that are too small. */
export class KernelArgumentError extends Error {
  override name = 'KernelArgumentError';
}

// One entry per kernel: the compiler checks that the list is complete and has nothing extra.
const KERNEL_NAME_TABLE: { [K in KernelName]: true } = {
  unary: true,
  unaryBackward: true,
  binary: true,
  compare: true,
  where: true,
  prelu: true,
  preluBackward: true,
  cast: true,
  fill: true,
  arange: true,
  firstNonFinite: true,
  reduce: true,
  softmax: true,
  softmaxBackward: true,
  permute: true,
  copyStrided: true,
  gather: true,
  gatherBackward: true,
  indexSelect: true,
  indexSelectBackward: true,
  channelMoments: true,
  batchNormForward: true,
  batchNormBackward: true,
  layerNormForward: true,
  layerNormBackward: true,
  matmul: true,
  conv1dForward: true,
  conv1dBackwardInput: true,
  conv1dBackwardWeight: true,
  maxPool1d: true,
  maxPool1dBackward: true,
  avgPool1d: true,
  avgPool1dBackward: true,
  adaptiveAvgPool1d: true,
  adaptiveAvgPool1dBackward: true,
  adaptiveMaxPool1d: true,
  signPack: true,
  thresholdPack: true,
  binaryConv1d: true,
  binaryDense: true,
  prepareBinaryConv1d: true,
  sgdStep: true,
  adamStep: true,
  randomUniform: true,
  randomNormal: true,
  randomInt: true,
  randperm: true,
  dropoutMask: true,
};

/** Every kernel name, in contract order (tests enumerate it: each must have a reference and a test). */
// The annotation lets a bundle that does not use the list drop it and the table (the call has no side effects).
export const KERNEL_NAMES = /* @__PURE__ */ Object.keys(KERNEL_NAME_TABLE) as readonly KernelName[];
