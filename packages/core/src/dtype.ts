import { fmtShape, ValueError } from './errors.js';
import { deviceCopy, releaseOnDevices } from './storage.js';

/** Element types a tensor can hold. float32 is the default; float64 is for gradient checks; int32 for indices. */
export type DType = 'float32' | 'float64' | 'int32';

/** Floating-point dtypes (those that can carry gradients). */
export type FloatDType = 'float32' | 'float64';

/** Typed array backing a tensor of each dtype. */
export interface DTypeArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
}

/** Any storage array of a tensor. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** Float storage arrays. */
export type FloatArray = Float32Array | Float64Array;

/**
 * Storage recycling. Every op allocates its output through {@link allocate}; a tensor released with
 * `Tensor.dispose()` hands its storage back here, and the next allocation of the same dtype and length takes
 * it (zero-filled) instead of a fresh typed array. Fresh large typed arrays are expensive on V8: each is a new
 * zeroed mapping whose pages fault in on first write (measured on the development machine: a 1 MB conv1d
 * output costs about 2.7 ms more when fresh than when reused, twice the kernel itself). Only arrays that
 * `allocate` made are ever recycled (never storage a caller wrapped with `tensor(data)`), and the pool is
 * bounded ({@link setStoragePoolLimit}); without `dispose()` everything is ordinary garbage-collected memory.
 */
const pooled = new WeakSet<TypedArray>();
const free = new Map<string, TypedArray[]>();
let poolBytes = 0;
let poolLimit = 64 * 1024 * 1024;
const poolCounters = { hits: 0, misses: 0, released: 0, dropped: 0 };

function poolKey(dtype: DType, n: number): string {
  return `${dtype}:${n}`;
}

/**
 * Allocates zeroed storage of `n` elements of `dtype` (recycled storage when the pool has some, see above).
 * `op` and `shape` name the tensor in the error raised when the storage cannot be allocated.
 *
 * @throws ValueError when the engine cannot allocate it (more elements than a typed array can hold, or out of
 * memory), naming `op`, the dtype, the shape and the element count.
 */
export function allocate(dtype: DType, n: number, op?: string, shape?: readonly number[]): TypedArray {
  return take(dtype, n, true, op, shape);
}

/**
 * @internal Like {@link allocate}, but recycled storage keeps its old values: only for op outputs whose kernels
 * assign every element on every backend (matmul and conv1d forward, elementwise ops, copies; the tests poison
 * recycled storage with NaN to check it). Saves the zero-fill, 4–5 % of a 1 MB conv.
 */
export function allocateUninitialized(
  dtype: DType,
  n: number,
  op?: string,
  shape?: readonly number[],
): TypedArray {
  return take(dtype, n, false, op, shape);
}

/** `1e12`, `2.5e9` for large counts, plain digits below a million. */
function fmtCount(n: number): string {
  if (n < 1e6) return String(n);
  const [mantissa, exponent] = n.toExponential().split('e');
  return `${+(+mantissa).toFixed(3)}e${+exponent}`;
}

/** The error of a failed allocation (see {@link allocate}). */
function allocationError(
  dtype: DType,
  n: number,
  op: string | undefined,
  shape: readonly number[] | undefined,
) {
  const what =
    shape === undefined ? `${fmtCount(n)} elements` : `shape ${fmtShape(shape)} (${fmtCount(n)} elements)`;
  return new ValueError(`${op ?? 'allocate'}: cannot allocate a ${dtype} tensor of ${what}`);
}

function fresh(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
  }
}

function take(
  dtype: DType,
  n: number,
  zero: boolean,
  op: string | undefined,
  shape: readonly number[] | undefined,
): TypedArray {
  const list = n > 0 ? free.get(poolKey(dtype, n)) : undefined;
  if (list !== undefined && list.length > 0) {
    const a = list.pop()!;
    poolBytes -= a.byteLength;
    poolCounters.hits++;
    pooled.add(a);
    if (zero) a.fill(0);
    return a;
  }
  poolCounters.misses++;
  let a: TypedArray;
  try {
    a = fresh(dtype, n);
  } catch (e) {
    // V8 raises RangeError both for a length over the typed-array limit and for a failed allocation.
    if (e instanceof RangeError) throw allocationError(dtype, n, op, shape);
    throw e;
  }
  if (n > 0) pooled.add(a);
  return a;
}

/**
 * A copy of `a` in storage from {@link allocate} (so it can be recycled when its tensor is disposed). When a
 * storage device holds newer values of `a` (see `storage.ts`), the copy is made there and the host side of the
 * copy is left as it is (read through `Tensor.data`, which brings it back).
 */
export function copyStorage<T extends TypedArray>(a: T): T {
  const b = take(dtypeOf(a), a.length, false, undefined, undefined) as T;
  if (!deviceCopy(a, b)) b.set(a as never);
  return b;
}

/**
 * @internal Hands storage back for reuse (called by `Tensor.dispose()`, which guarantees no other tensor
 * shares it). Arrays not made by {@link allocate}, and arrays beyond the pool's byte limit, are left to the
 * garbage collector. Returns whether the array was kept.
 */
export function releaseStorage(a: TypedArray): boolean {
  releaseOnDevices(a);
  if (!pooled.has(a)) return false;
  if (poolBytes + a.byteLength > poolLimit) {
    poolCounters.dropped++;
    return false;
  }
  pooled.delete(a); // re-added when handed out again: a double release cannot put it in the pool twice
  const key = poolKey(dtypeOf(a), a.length);
  let list = free.get(key);
  if (list === undefined) {
    list = [];
    free.set(key, list);
  }
  list.push(a);
  poolBytes += a.byteLength;
  poolCounters.released++;
  return true;
}

/** Counters of the storage pool (see {@link setStoragePoolLimit}). */
export interface StoragePoolStats {
  /** Bytes currently held for reuse. */
  bytes: number;
  /** Byte limit. */
  limit: number;
  /** Allocations served from the pool / freshly allocated. */
  hits: number;
  misses: number;
  /** Storage handed back by `dispose()` and kept / not kept (over the limit). */
  released: number;
  dropped: number;
}

/** Statistics of the storage pool that `Tensor.dispose()` feeds. */
export function storagePoolStats(): StoragePoolStats {
  return { bytes: poolBytes, limit: poolLimit, ...poolCounters };
}

/**
 * Sets the most bytes the storage pool keeps for reuse (default 64 MiB); lowering it drops what is over.
 * 0 switches recycling off.
 */
export function setStoragePoolLimit(bytes: number): void {
  if (!(Number.isFinite(bytes) && bytes >= 0)) {
    throw new RangeError(`setStoragePoolLimit: bytes must be a finite number ≥ 0, got ${bytes}`);
  }
  poolLimit = bytes;
  if (poolBytes > poolLimit) emptyStoragePool();
}

/** Drops every array held for reuse (they become ordinary garbage). */
export function emptyStoragePool(): void {
  free.clear();
  poolBytes = 0;
}

const EMPTY: { [D in DType]: DTypeArrayMap[D] } = {
  float32: new Float32Array(0),
  float64: new Float64Array(0),
  int32: new Int32Array(0),
};

/** @internal The shared zero-length storage a disposed tensor points at. */
export function emptyStorage(dtype: DType): TypedArray {
  return EMPTY[dtype];
}

/** The dtype of a typed array. */
export function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return 'int32';
}

/** True for float32 and float64. */
export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype !== 'int32';
}
