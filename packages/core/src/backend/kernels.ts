import type { FloatArray, TypedArray } from '../dtype.js';

/** Elementwise unary kernels. `param` carries the op's scalar (slope, alpha, bound…) where it has one. */
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
  | 'reciprocal';

/** Elementwise binary kernels (with NumPy broadcasting). */
export type BinaryKernelOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';

/** Comparison kernels: output 1 where true, 0 where false, in the output's dtype. */
export type CompareKernelOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** Reduction kernels. */
export type ReduceKernelOp = 'sum' | 'max' | 'min';

/**
 * Parameters of a 1-D convolution over NCL tensors with PyTorch weight layout [outC, inC/groups, K].
 * The input is padded on the left by `padLeft` and on the right by whatever `outLength` implies, with the
 * constant `padValue` (0 normally, +1 for binary networks).
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
}

/** Parameters of 1-D pooling over NCL tensors. */
export interface Pool1dParams {
  batch: number;
  channels: number;
  inLength: number;
  outLength: number;
  kernelSize: number;
  stride: number;
  padLeft: number;
}

/** Max-pooling window: {@link Pool1dParams} plus the spacing between window elements. */
export interface MaxPool1dWindow extends Pool1dParams {
  /** Spacing between window elements. */
  dilation: number;
}

/**
 * The compute kernels a backend provides, on flat typed arrays. The CPU backend implements all of them and
 * is the reference; another backend implements the ones it chooses and the rest fall back to CPU.
 * Kernels write into caller-allocated outputs and allocate nothing per element.
 */
export interface Kernels {
  /** out[i] = op(x[i]). */
  unary(op: UnaryKernelOp, x: TypedArray, out: TypedArray): void;
  /**
   * out = op(a, b) with broadcasting: `aStrides`/`bStrides` are the operands' strides over `outShape`
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
  /** out = (a op b) ? 1 : 0 with broadcasting, like {@link Kernels.binary}. */
  compare(
    op: CompareKernelOp,
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    out: TypedArray,
    outShape: readonly number[],
  ): void;
  /**
   * Reduces `x` viewed as [outer, reduce, inner] along the middle dimension. `argOut`, when given, receives
   * the index (0..reduce-1) of the first max/min.
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
  /** Copies `x` (shape `shape`) into `out` permuted by `perm` (out.shape[i] = shape[perm[i]]). */
  permute(x: TypedArray, shape: readonly number[], perm: readonly number[], out: TypedArray): void;
  /**
   * Batched matrix product out[b] = op(A[b]) · op(B[b]) with op = transpose when `transA`/`transB`.
   * A[b] starts at b·aBatchStride (0 broadcasts one matrix over the batch), likewise B.
   * A is m×k (k×m if transA), B is k×n (n×k if transB), out is batch×m×n, contiguous.
   */
  matmul(
    a: FloatArray,
    b: FloatArray,
    out: FloatArray,
    batch: number,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
    aBatchStride: number,
    bBatchStride: number,
  ): void;
  /** Convolution forward: out [B, outC, outL] = conv(x [B, inC, inL], w, bias). */
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
   * Max pooling with −∞ padding; `argOut` receives each output's input position of the first maximum
   * (−1 when the window holds no input).
   */
  maxPool1d(x: FloatArray, out: FloatArray, argOut: Int32Array, p: MaxPool1dWindow): void;
  /** Gradient of max pooling: gradX (overwritten) gets g at the saved argmax positions. */
  argmaxScatter(
    g: FloatArray,
    arg: Int32Array,
    gradX: FloatArray,
    rows: number,
    inLength: number,
    outLength: number,
  ): void;
  /** Average pooling (PyTorch divisor rules); with `backward`, its adjoint (dst overwritten). */
  avgPool1d(
    src: FloatArray,
    dst: FloatArray,
    p: Pool1dParams,
    countIncludePad: boolean,
    backward: boolean,
  ): void;
  /** Adaptive average pooling of rows to `outLength` bins (PyTorch bins); with `backward`, its adjoint. */
  adaptiveAvgPool1d(
    src: FloatArray,
    dst: FloatArray,
    rows: number,
    inLength: number,
    outLength: number,
    backward: boolean,
  ): void;
  /** Adaptive max pooling (PyTorch bins); `argOut` receives each bin's first-maximum position. */
  adaptiveMaxPool1d(
    x: FloatArray,
    out: FloatArray,
    argOut: Int32Array,
    rows: number,
    inLength: number,
    outLength: number,
  ): void;
}

/** Names of the kernels. */
export type KernelName = keyof Kernels;
