import ndarray from 'ndarray';
import { allocate, type DType, type TypedArray } from '../dtype.js';
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
  const store = allocate(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) store[i] = flat[i];
  return new Tensor(store, shp, opts.requiresGrad ?? false);
}

function checkShapeArg(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape))
    throw new ShapeError(`${op}: shape must be an array of integers, got ${typeof shape}`);
  checkShape(op, shape);
}

/** A tensor of `shape` filled with `value` (float32 unless `opts.dtype`). */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShapeArg('full', shape);
  if (typeof value !== 'number') throw new ValueError(`full: value must be a number, got ${typeof value}`);
  const store = allocate(checkDType('full', opts.dtype), sizeOf(shape));
  store.fill(value);
  return new Tensor(store, shape, opts.requiresGrad ?? false);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Zeros with the shape and dtype of `t` (options override the dtype). */
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 0, { ...opts, dtype: opts.dtype ?? t.dtype });
}

/** Ones with the shape and dtype of `t` (options override the dtype). */
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 1, { ...opts, dtype: opts.dtype ?? t.dtype });
}

/** `value` everywhere, with the shape and dtype of `t` (options override the dtype). */
export function fullLike(t: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  return full(t.shape, value, { ...opts, dtype: opts.dtype ?? t.dtype });
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
  const store = allocate(checkDType('arange', opts.dtype), n);
  for (let i = 0; i < n; i++) store[i] = start + i * step;
  return new Tensor(store, [n], opts.requiresGrad ?? false);
}

/** `n` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, n: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0)
    throw new ValueError(`linspace: n must be a non-negative integer, got ${n}`);
  const store = allocate(checkDType('linspace', opts.dtype), n);
  for (let i = 0; i < n; i++) store[i] = n === 1 ? start : start + ((end - start) * i) / (n - 1);
  return new Tensor(store, [n], opts.requiresGrad ?? false);
}

/** Identity matrix n×n. */
export function eye(n: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`eye: n must be a non-negative integer, got ${n}`);
  const t = zeros([n, n], opts);
  for (let i = 0; i < n; i++) t.data[i * n + i] = 1;
  return t;
}

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
  const store = allocate(checkFloatDType('randn', opts.dtype), sizeOf(shape));
  for (let i = 0; i < store.length; i++) store[i] = gen.normal();
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
  const store = allocate(checkFloatDType('rand', opts.dtype), sizeOf(shape));
  for (let i = 0; i < store.length; i++) store[i] = lo + (hi - lo) * gen.random();
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
  const store = allocate(
    opts.dtype === undefined ? 'int32' : checkDType('randint', opts.dtype),
    sizeOf(shape),
  );
  for (let i = 0; i < store.length; i++) store[i] = low + gen.randint(high - low);
  return new Tensor(store, shape);
}

/** A random permutation of 0..n-1 (Fisher–Yates) as int32. */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0)
    throw new ValueError(`randperm: n must be a non-negative integer, got ${n}`);
  const gen = opts.generator ?? defaultGenerator();
  const store = new Int32Array(n);
  for (let i = 0; i < n; i++) store[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = gen.randint(i + 1);
    const t = store[i];
    store[i] = store[j];
    store[j] = t;
  }
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
  const out = allocate(dtype, n);
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
  // Odometer over the index, carrying the source offset incrementally (no per-element products).
  const idx = new Array<number>(nd).fill(0);
  let off = arr.offset;
  for (let i = 0; i < n; i++) {
    out[i] = src[off];
    for (let d = nd - 1; d >= 0; d--) {
      off += stride[d];
      if (++idx[d] < shape[d]) break;
      off -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return new Tensor(out, shape, opts.requiresGrad ?? false);
}

/** A scijs `ndarray` over a copy of the tensor's storage (same dtype, row-major strides, offset 0). */
export function toNdarray(t: Tensor): ndarray.NdArray<TypedArray> {
  return ndarray(t.data.slice(), [...t.shape], stridesOf(t.shape), 0);
}
