import ndarray from 'ndarray';
import { allocate, type DType, type TypedArray } from '../dtype.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import { checkShape, sizeOf, stridesOf } from '../shape.js';
import { type NestedArray, Tensor, type TensorOptions } from '../tensor.js';

/** Options of random factories. */
export interface RandomOptions extends TensorOptions {
  /** Generator to draw from; the global default (see `manualSeed`) when omitted. */
  generator?: Generator;
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
    if (typeof data !== 'number')
      throw new ShapeError(`tensor: ragged nested array (expected a number at depth ${dim})`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new ShapeError(`tensor: ragged nested array: expected length ${shape[dim]} at depth ${dim}`);
  }
  for (const d of data) flattenInto(d, shape, dim + 1, out);
}

/**
 * Creates a tensor from a number, nested arrays, or a flat array / typed array with an explicit shape.
 * Typed arrays of the requested dtype are copied (the tensor never aliases caller memory).
 */
export function tensor(
  data: number | NestedArray | ArrayLike<number>,
  shape?: readonly number[],
  opts: TensorOptions = {},
): Tensor {
  const dtype = opts.dtype ?? 'float32';
  let flat: ArrayLike<number>;
  let shp: readonly number[];
  if (typeof data === 'number') {
    flat = [data];
    shp = shape ?? [];
  } else if (shape !== undefined && (ArrayBuffer.isView(data) || !Array.isArray((data as NestedArray)[0]))) {
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

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShape('full', shape);
  const store = allocate(opts.dtype ?? 'float32', sizeOf(shape));
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

/** Zeros with the shape and dtype of `t`. */
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...opts });
}

/** Ones with the shape and dtype of `t`. */
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...opts });
}

/** Values start, start+step, … below end (like `torch.arange`). */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step))
    throw new ValueError(`arange: step must be finite and non-zero, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const store = allocate(opts.dtype ?? 'float32', n);
  for (let i = 0; i < n; i++) store[i] = start + i * step;
  return new Tensor(store, [n], opts.requiresGrad ?? false);
}

/** `n` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, n: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0)
    throw new ValueError(`linspace: n must be a non-negative integer, got ${n}`);
  const store = allocate(opts.dtype ?? 'float32', n);
  for (let i = 0; i < n; i++) store[i] = n === 1 ? start : start + ((end - start) * i) / (n - 1);
  return new Tensor(store, [n], opts.requiresGrad ?? false);
}

/** Identity matrix n×n. */
export function eye(n: number, opts: TensorOptions = {}): Tensor {
  const t = zeros([n, n], opts);
  for (let i = 0; i < n; i++) t.data[i * n + i] = 1;
  return t;
}

/** Standard normal samples from a seeded generator. */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  checkShape('randn', shape);
  const gen = opts.generator ?? defaultGenerator();
  const store = allocate(opts.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < store.length; i++) store[i] = gen.normal();
  return new Tensor(store, shape, opts.requiresGrad ?? false);
}

/** Uniform samples in [low, high) from a seeded generator. */
export function rand(
  shape: readonly number[],
  opts: RandomOptions & { low?: number; high?: number } = {},
): Tensor {
  checkShape('rand', shape);
  const gen = opts.generator ?? defaultGenerator();
  const lo = opts.low ?? 0;
  const hi = opts.high ?? 1;
  const store = allocate(opts.dtype ?? 'float32', sizeOf(shape));
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
  checkShape('randint', shape);
  if (!(high > low)) throw new ValueError(`randint: high (${high}) must exceed low (${low})`);
  const gen = opts.generator ?? defaultGenerator();
  const store = allocate(opts.dtype ?? 'int32', sizeOf(shape));
  for (let i = 0; i < store.length; i++) store[i] = low + gen.randint(high - low);
  return new Tensor(store, shape);
}

/** A random permutation of 0..n-1 (Fisher–Yates) as int32. */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
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
  const dtype: DType =
    opts.dtype ??
    (arr.data instanceof Float64Array ? 'float64' : arr.data instanceof Int32Array ? 'int32' : 'float32');
  const shape = arr.shape;
  checkShape('fromNdarray', shape);
  const n = sizeOf(shape);
  const out = allocate(dtype, n);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < n; i++) {
    let off = arr.offset;
    for (let d = 0; d < nd; d++) off += idx[d] * arr.stride[d];
    out[i] = arr.data[off];
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return new Tensor(out, shape, opts.requiresGrad ?? false);
}

/** A scijs `ndarray` over a copy of the tensor's storage (row-major strides). */
export function toNdarray(t: Tensor): ndarray.NdArray<TypedArray> {
  return ndarray(t.data.slice(), [...t.shape], stridesOf(t.shape), 0);
}
