import ndarray from 'ndarray';
import { kernels } from '../backend/backend.js';
import { allocate, allocateUninitialized, type DType, type FloatArray, type TypedArray } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import { checkShape, sizeOf, stridesOf } from '../shape.js';
import { type NestedArray, Tensor, type TensorOptions } from '../tensor.js';

/** Options of random factories. */
export interface RandomOptions extends TensorOptions {
  /** Generator to draw from; the global default (see `manualSeed`) when omitted. */
  generator?: Generator;
}

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

function checkDType(op: string, dtype: DType | undefined): DType {
  if (dtype === undefined) return 'float32';
  if (!DTYPES.includes(dtype)) {
    throw new DTypeError(`${op}: unknown dtype '${String(dtype)}'; expected one of ${DTYPES.join(', ')}`);
  }
  return dtype;
}

function inferShape(data: number | NestedArray): number[] {
  const shape: number[] = [];
  let cur: number | NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as number | NestedArray;
  }
  return shape;
}

function flattenInto(data: number | NestedArray, shape: readonly number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (Array.isArray(data))
      throw new ShapeError(`tensor: ragged nested array (expected a number at depth ${dim})`);
    if (typeof data !== 'number')
      throw new ValueError(`tensor: elements must be numbers, got ${typeof data} at depth ${dim}`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new ShapeError(`tensor: ragged nested array: expected length ${shape[dim]} at depth ${dim}`);
  }
  for (const d of data) flattenInto(d, shape, dim + 1, out);
}

/**
 * Creates a tensor from a number (rank 0), nested arrays (shape inferred), or a flat array / typed array
 * (shape `[length]` unless given). With nested arrays and a `shape`, the values are reshaped. The dtype is
 * `opts.dtype`, float32 by default (also for typed-array input). Data is always copied: the tensor never
 * aliases caller memory.
 *
 * @example
 * tensor([[1, 2], [3, 4]]);                       // float32 [2, 2]
 * tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'float64', requiresGrad: true });
 * tensor([0, 2], undefined, { dtype: 'int32' });  // indices
 */
export function tensor(
  data: number | NestedArray | ArrayLike<number>,
  shape?: readonly number[],
  opts: TensorOptions = {},
): Tensor {
  const dtype = checkDType('tensor', opts.dtype);
  if (shape !== undefined && !Array.isArray(shape)) {
    throw new ShapeError(`tensor: shape must be an array of integers, got ${typeof shape}`);
  }
  let flat: ArrayLike<number>;
  let shp: readonly number[];
  if (typeof data === 'number') {
    flat = [data];
    shp = shape ?? [];
  } else if (ArrayBuffer.isView(data)) {
    flat = data as unknown as ArrayLike<number>;
    shp = shape ?? [flat.length];
  } else if (!Array.isArray(data)) {
    const got = data === null ? 'null' : typeof data;
    throw new ValueError(`tensor: data must be a number, an array or a typed array, got ${got}`);
  } else if (shape !== undefined && !Array.isArray((data as NestedArray)[0])) {
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number')
        throw new ValueError(`tensor: elements must be numbers, got ${typeof data[i]} at index ${i}`);
    }
    flat = data as ArrayLike<number>;
    shp = shape;
  } else {
    const nested = data as NestedArray;
    const inferred = inferShape(nested);
    const out: number[] = [];
    flattenInto(nested, inferred, 0, out);
    flat = out;
    shp = shape ?? inferred;
  }
  checkShape('tensor', shp);
  if (flat.length !== sizeOf(shp)) {
    throw new ShapeError(
      `tensor: ${flat.length} values do not fill shape ${fmtShape(shp)} (${sizeOf(shp)} elements)`,
    );
  }
  const store = allocateUninitialized(dtype, flat.length, 'tensor', shp);
  // Element-by-element conversion as by assignment (one native loop).
  store.set(flat);
  return new Tensor(store, shp, opts.requiresGrad ?? false);
}

function checkShapeArg(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape))
    throw new ShapeError(`${op}: shape must be an array of integers, got ${typeof shape}`);
  checkShape(op, shape);
}

/** `full` under the name `op` (errors name the factory the caller used). */
function filled(op: string, shape: readonly number[], value: number, opts: TensorOptions): Tensor {
  checkShapeArg(op, shape);
  if (typeof value !== 'number') throw new ValueError(`${op}: value must be a number, got ${typeof value}`);
  const dtype = checkDType(op, opts.dtype);
  const n = sizeOf(shape);
  let store: TypedArray;
  if (Object.is(value, 0))
    store = allocate(dtype, n, op, shape); // zeroed already
  else {
    store = allocateUninitialized(dtype, n, op, shape);
    kernels().fill(store, value);
  }
  return new Tensor(store, shape, opts.requiresGrad ?? false);
}

/** A tensor of `shape` filled with `value` (float32 unless `opts.dtype`). */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  return filled('full', shape, value, opts);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('zeros', shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('ones', shape, 1, opts);
}

/** Zeros with the shape and dtype of `t` (options override the dtype). */
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return filled('zerosLike', t.shape, 0, { ...opts, dtype: opts.dtype ?? t.dtype });
}

/** Ones with the shape and dtype of `t` (options override the dtype). */
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return filled('onesLike', t.shape, 1, { ...opts, dtype: opts.dtype ?? t.dtype });
}

/** `value` everywhere, with the shape and dtype of `t` (options override the dtype). */
export function fullLike(t: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  return filled('fullLike', t.shape, value, { ...opts, dtype: opts.dtype ?? t.dtype });
}

/**
 * Values start, start+step, … stopping before end (like `torch.arange`); `arange(n)` is 0..n−1. An empty
 * range gives shape [0]. float32 unless `opts.dtype`.
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (!Number.isFinite(start) || !Number.isFinite(end))
    throw new ValueError(`arange: start and end must be finite numbers, got ${start} and ${end}`);
  if (step === 0 || !Number.isFinite(step))
    throw new ValueError(`arange: step must be finite and non-zero, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const store = allocateUninitialized(checkDType('arange', opts.dtype), n, 'arange', [n]);
  kernels().arange(store, start, step);
  return new Tensor(store, [n], opts.requiresGrad ?? false);
}

/** `n` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, n: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0)
    throw new ValueError(`linspace: n must be a non-negative integer, got ${n}`);
  const dtype = checkDType('linspace', opts.dtype);
  const store = allocateUninitialized(dtype, n, 'linspace', [n]);
  if (n === 1) kernels().fill(store, start);
  else if (n > 1) {
    // value_i = start + ((end − start)·i)/(n − 1), evaluated in float64 (i, then ·(end − start), /(n − 1),
    // + start: the same operations in the same order as one scalar expression) and rounded once by the cast.
    const k = kernels();
    const v = dtype === 'float64' ? (store as Float64Array) : new Float64Array(n);
    const scalar = new Float64Array(1);
    const flat = [1];
    const none = [0];
    const shape = [n];
    k.arange(v, 0, 1);
    scalar[0] = end - start;
    k.binary('mul', v, flat, scalar, none, v, shape);
    scalar[0] = n - 1;
    k.binary('div', v, flat, scalar, none, v, shape);
    scalar[0] = start;
    k.binary('add', v, flat, scalar, none, v, shape);
    if (v !== store) k.cast(v, store);
  }
  return new Tensor(store, [n], opts.requiresGrad ?? false);
}

/** Identity matrix n×n. */
export function eye(n: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`eye: n must be a non-negative integer, got ${n}`);
  const dtype = checkDType('eye', opts.dtype);
  const store = allocate(dtype, n * n, 'eye', [n, n]);
  // The diagonal: a broadcast copy of one 1 with stride n + 1.
  kernels().copyStrided(ONE, 0, [0], store, 0, [n + 1], [n]);
  return new Tensor(store, [n, n], opts.requiresGrad ?? false);
}

const ONE = new Float64Array([1]);

function checkFloatDType(op: string, dtype: DType | undefined): DType {
  const d = checkDType(op, dtype);
  if (d === 'int32') throw new DTypeError(`${op}: needs a float dtype, got int32 (use randint for integers)`);
  return d;
}

/**
 * Standard normal samples (Box–Muller) from `opts.generator`, or the global generator seeded by
 * `manualSeed`: the same seed gives the same values on every platform.
 */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  checkShapeArg('randn', shape);
  const gen = opts.generator ?? defaultGenerator();
  const store = allocateUninitialized(checkFloatDType('randn', opts.dtype), sizeOf(shape), 'randn', shape);
  kernels().randomNormal(store as FloatArray, gen, 0, 1);
  return new Tensor(store, shape, opts.requiresGrad ?? false);
}

/** Standard normal samples with the shape and (float) dtype of `t`, see {@link randn}. */
export function randnLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  return randn(t.shape, { ...opts, dtype: opts.dtype ?? t.dtype });
}

/** Uniform samples in [low, high) (default [0, 1)) from a seeded generator, see {@link randn}. */
export function rand(
  shape: readonly number[],
  opts: RandomOptions & { low?: number; high?: number } = {},
): Tensor {
  checkShapeArg('rand', shape);
  const gen = opts.generator ?? defaultGenerator();
  const lo = opts.low ?? 0;
  const hi = opts.high ?? 1;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi)
    throw new ValueError(`rand: need finite low ≤ high, got low ${lo} and high ${hi}`);
  const store = allocateUninitialized(checkFloatDType('rand', opts.dtype), sizeOf(shape), 'rand', shape);
  kernels().randomUniform(store as FloatArray, gen, lo, hi);
  return new Tensor(store, shape, opts.requiresGrad ?? false);
}

/** Uniform integers in [low, high) as int32. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  opts: RandomOptions = {},
): Tensor {
  checkShapeArg('randint', shape);
  if (!Number.isInteger(low) || !Number.isInteger(high) || !(high > low))
    throw new ValueError(`randint: need integers low < high, got low ${low} and high ${high}`);
  const gen = opts.generator ?? defaultGenerator();
  const dtype = opts.dtype === undefined ? 'int32' : checkDType('randint', opts.dtype);
  const store = allocateUninitialized(dtype, sizeOf(shape), 'randint', shape);
  kernels().randomInt(store, gen, low, high);
  return new Tensor(store, shape);
}

/** A random permutation of 0..n-1 (Fisher–Yates) as int32. */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0)
    throw new ValueError(`randperm: n must be a non-negative integer, got ${n}`);
  const gen = opts.generator ?? defaultGenerator();
  const store = allocateUninitialized('int32', n, 'randperm', [n]) as Int32Array;
  kernels().randperm(store, gen);
  return new Tensor(store, [n]);
}

/** Minimal structural type of a scijs `ndarray` (so callers need not import its types). */
export interface NdArrayLike {
  data: ArrayLike<number>;
  shape: number[];
  stride: number[];
  offset: number;
}

/**
 * Copies a scijs `ndarray` (any strides and offset) into a new contiguous tensor.
 * The dtype follows the ndarray's storage (Float64Array → float64, Int32Array → int32, else float32)
 * unless given.
 */
export function fromNdarray(arr: NdArrayLike, opts: TensorOptions = {}): Tensor {
  if (
    arr === null ||
    typeof arr !== 'object' ||
    !Array.isArray(arr.shape) ||
    !Array.isArray(arr.stride) ||
    arr.stride.length !== arr.shape.length ||
    typeof arr.offset !== 'number' ||
    arr.data === null ||
    typeof arr.data !== 'object'
  ) {
    throw new ValueError('fromNdarray: expected a scijs ndarray (data, shape, stride, offset)');
  }
  const dtype: DType =
    opts.dtype !== undefined
      ? checkDType('fromNdarray', opts.dtype)
      : arr.data instanceof Float64Array
        ? 'float64'
        : arr.data instanceof Int32Array
          ? 'int32'
          : 'float32';
  const shape = arr.shape;
  checkShape('fromNdarray', shape);
  const n = sizeOf(shape);
  const out = allocateUninitialized(dtype, n, 'fromNdarray', shape);
  const nd = shape.length;
  const stride = arr.stride;
  const src = arr.data;
  // Bounds: the extreme offsets reachable through the strides must lie inside the storage.
  if (n > 0) {
    let lo = arr.offset;
    let hi = arr.offset;
    for (let d = 0; d < nd; d++) {
      const span = (shape[d] - 1) * stride[d];
      if (span < 0) lo += span;
      else hi += span;
    }
    if (lo < 0 || hi >= src.length) {
      throw new ShapeError(
        `fromNdarray: shape ${fmtShape(shape)} with strides ${fmtShape(stride)} and offset ${arr.offset} reaches outside storage of ${src.length} elements`,
      );
    }
  }
  // A strided copy; storage that is not a tensor dtype (plain arrays, other typed arrays) is converted to
  // float64 first (exact for every number), as assignment would convert it element by element.
  const storage =
    src instanceof Float32Array || src instanceof Float64Array || src instanceof Int32Array
      ? src
      : Float64Array.from(src);
  kernels().copyStrided(storage, arr.offset, stride, out, 0, stridesOf(shape), shape);
  return new Tensor(out, shape, opts.requiresGrad ?? false);
}

/**
 * The scijs `ndarray` that {@link toNdarray} returns, typed structurally (the members of `ndarray.NdArray` from
 * `@types/ndarray`, over a tensor's storage) so that users of `@ecgnn/core`'s types need not install
 * `@types/ndarray`. A scijs `NdArray<Float32Array | Float64Array | Int32Array>` is one, and the view methods
 * (`lo`, `hi`, `step`, `transpose`, `pick`, `T`) return scijs ndarrays again.
 */
export interface NdArray extends NdArrayLike {
  data: TypedArray;
  /** scijs' name of the storage type. */
  dtype: 'float32' | 'float64' | 'int32';
  /** Number of elements (product of the shape). */
  size: number;
  /** Dimensions ordered by increasing stride magnitude. */
  order: number[];
  /** Number of dimensions. */
  dimension: number;
  /** The element at the given indices. */
  get(...indices: number[]): number;
  /** Writes the element at the given indices (the value is the last argument) and returns it. */
  set(...indicesThenValue: number[]): number;
  /** The storage offset of the given indices. */
  index(...indices: number[]): number;
  /** View starting at the given indices. */
  lo(...indices: number[]): NdArray;
  /** View ending before the given indices. */
  hi(...indices: number[]): NdArray;
  /** View taking every k-th element per dimension (negative k reverses). */
  step(...steps: number[]): NdArray;
  /** View with the dimensions permuted. */
  transpose(...axes: number[]): NdArray;
  /** View fixing the dimensions given a number (`null` keeps a dimension). */
  pick(...indices: Array<number | null>): NdArray;
  /** The transposed view (dimensions reversed). */
  T: NdArray;
}

/** A scijs `ndarray` over a copy of the tensor's storage (same dtype, row-major strides, offset 0). */
export function toNdarray(t: Tensor): NdArray {
  return ndarray(t.data.slice(), [...t.shape], stridesOf(t.shape), 0);
}
