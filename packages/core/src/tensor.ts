import {
  allocate,
  copyStorage,
  type DType,
  dtypeOf,
  emptyStorage,
  isFloat,
  releaseStorage,
  type TypedArray,
} from './dtype.js';
import { AutogradError, DTypeError, fmtShape, ShapeError, ValueError } from './errors.js';
import { checkShape, sizeOf, stridesOf } from './shape.js';
import { claimHost, claimHostAsync } from './storage.js';

/**
 * A node of the autograd graph: the operation that produced a tensor, its inputs, and how to turn the
 * gradient of its output into gradients of its inputs.
 */
export interface GradNode {
  /** Name of the op (primitive or custom op). */
  readonly name: string;
  /** Inputs of the op, in order; the gradients returned by {@link GradNode.backward} align with them. */
  readonly inputs: readonly Tensor[];
  /** Maps the output gradient to one gradient per input (null where an input needs none). */
  backward(grad: Tensor): Array<Tensor | null>;
  /** Drops saved state; a later backward through this node raises an {@link AutogradError}. */
  release(): void;
  /** True once released. */
  readonly freed: boolean;
}

let gradEnabled = true;

/** True unless inside {@link noGrad}. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with gradient recording switched off (like `torch.no_grad()`), restoring the mode after, also
 * when `fn` throws. The mode is global and synchronous: work an async `fn` does after its first `await`
 * runs with the mode already restored.
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with gradient recording switched on (inside a {@link noGrad} block, for example). */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Options accepted by tensor factories. */
export interface TensorOptions {
  /** Element type; float32 by default. */
  dtype?: DType;
  /** Record operations on this tensor for autograd (float dtypes only). */
  requiresGrad?: boolean;
}

/**
 * An n-dimensional array with contiguous row-major storage in a typed array, and optional autograd.
 *
 * Storage is always contiguous: views such as `permute` or `slice` materialise a new tensor. That keeps
 * every kernel a simple loop over a flat typed array. Methods that compute (`add`, `sum`, `matmul`, …) are
 * attached by the ops modules and documented there; see the `Tensor` interface augmentations.
 */
export class Tensor {
  /** The storage array (see {@link Tensor.storage}). */
  private _data: TypedArray;
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: DType;
  /** Accumulated gradient after `backward()` (leaves, or tensors with `retainGrad()`). */
  grad: Tensor | null = null;
  /** The node that produced this tensor (null for leaves). */
  gradFn: GradNode | null = null;
  private _requiresGrad = false;
  private _retainGrad = false;
  /** Optional name, used in error messages and summaries. */
  name?: string;
  private _disposed = false;
  /**
   * Live graph nodes that keep this tensor (as an input, or as their output): autograd may read its storage in
   * backward(). A node lets go when backward() frees it.
   */
  private _pins = 0;
  /** Set on `.grad` tensors: not disposed by {@link tidy}. */
  private _keep = false;

  /** Wraps existing storage (not copied). Prefer the {@link tensor} factory. */
  constructor(data: TypedArray, shape: readonly number[], requiresGrad = false) {
    if (!(data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array)) {
      const got = data === null ? 'null' : ((data as object)?.constructor?.name ?? typeof data);
      throw new DTypeError(`Tensor: storage must be a Float32Array, Float64Array or Int32Array, got ${got}`);
    }
    if (!Array.isArray(shape)) throw new ShapeError(`Tensor: shape must be an array of integers`);
    checkShape('Tensor', shape);
    const n = sizeOf(shape);
    if (data.length !== n) {
      throw new ShapeError(
        `Tensor: storage has ${data.length} elements but shape ${fmtShape(shape)} needs ${n}`,
      );
    }
    this._data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtypeOf(data);
    if (requiresGrad) this.requiresGrad = true;
    if (scopes.length > 0) scopes[scopes.length - 1].push(this);
  }

  /**
   * Flat row-major values on the host. Mutating them in place bypasses autograd (optimizers do this on leaves).
   *
   * When a device backend (a GPU) holds newer values, reading this property copies them back first and makes
   * the host array the only copy (synchronously; a device with asynchronous reads throws and asks for
   * {@link Tensor.read}). Assigning replaces the storage (same length and dtype).
   */
  get data(): TypedArray {
    claimHost(this._data);
    return this._data;
  }

  set data(v: TypedArray) {
    if (!(v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array)) {
      throw new DTypeError('Tensor.data: storage must be a Float32Array, Float64Array or Int32Array');
    }
    if (dtypeOf(v) !== this.dtype || v.length !== this._data.length) {
      throw new ShapeError(
        `Tensor.data: new storage must be a ${this.dtype} array of ${this._data.length} elements, got ${dtypeOf(v)} of ${v.length}`,
      );
    }
    this._data = v;
  }

  /**
   * The storage array itself, without bringing device values back: its host values may be stale while a device
   * backend holds newer ones. For passing to kernels (`kernels().conv1dForward(x.storage, …)`), which find the
   * device copies, and for sharing storage between tensors; read values through {@link Tensor.data} or
   * {@link Tensor.read}.
   */
  get storage(): TypedArray {
    return this._data;
  }

  /**
   * The values on the host, after any device backend has copied newer values back: the read that works with
   * every backend, including devices whose reads are asynchronous. Same array as {@link Tensor.data}.
   *
   * @example
   * const probs = await softmax(model.forward(x), -1).read();
   */
  async read(): Promise<TypedArray> {
    this.assertLive('read');
    await claimHostAsync(this._data);
    return this.data;
  }

  /**
   * @internal Marks this tensor as held by a graph node (a recorded op's input or output): while any node holds
   * it, its storage is never recycled and {@link tidy} leaves it alone.
   */
  pinForGraph(): void {
    this._pins++;
  }

  /** @internal A graph node that held this tensor was freed (by backward()). */
  unpinFromGraph(): void {
    if (this._pins > 0) this._pins--;
  }

  /**
   * Whether autograd is done with this tensor: no live graph node holds it, it is not a leaf that requires
   * gradients (a parameter), and it is not the output of a node that backward() has not freed yet.
   */
  private get graphFree(): boolean {
    if (this._pins > 0) return false;
    return this.gradFn === null ? !this._requiresGrad : this.gradFn.freed;
  }

  /** @internal Marks this tensor as a `.grad`: {@link tidy} leaves it alone; an explicit `dispose()` recycles it. */
  keepFromTidy(): void {
    this._keep = true;
  }

  /** @internal Throws a {@link ValueError} if this tensor was disposed; `what` names the use (an op, backward). */
  assertLive(what: string): void {
    if (this._disposed) {
      const name = this.name === undefined ? '' : ` '${this.name}'`;
      throw new ValueError(`${what}: tensor${name} of shape ${fmtShape(this.shape)} was disposed`);
    }
  }

  /** True after {@link Tensor.dispose}. */
  get isDisposed(): boolean {
    return this._disposed;
  }

  /**
   * Releases this tensor's storage for reuse by later ops (like tfjs's `dispose`; see also {@link tidy}).
   * Optional: tensors never disposed are garbage-collected as usual; disposing what a loop no longer needs (a
   * batch's outputs, its input) saves the cost of fresh large allocations (see `storagePoolStats`).
   * Idempotent; also disposes `.grad`.
   *
   * After it, using the tensor in an op throws a {@link ValueError} naming it. The storage is recycled (and
   * `data` becomes empty) only when nothing else can read it: an op allocated it, and autograd is done with the
   * tensor (not a leaf requiring grad; no graph node that backward() has not freed yet holds it as input or
   * output — so after `loss.backward()` a step's activations are recyclable). Otherwise `data` stays as it
   * is until garbage collection, so a later `backward()` still computes from intact values. Do not keep using
   * a `data` array read before disposing. A device backend's copy of the values is freed with the storage.
   */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    const g = this.grad;
    this.grad = null;
    g?.dispose();
    if (this.graphFree) {
      const data = this._data;
      this._data = emptyStorage(this.dtype);
      releaseStorage(data);
    }
  }

  /** @internal Whether {@link tidy} may dispose this tensor (not held by autograd or as a `.grad`). */
  get tidyable(): boolean {
    return this.graphFree && !this._keep;
  }

  /** Whether operations on this tensor are recorded for autograd. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(v: boolean) {
    if (v && !isFloat(this.dtype)) {
      throw new DTypeError(`requiresGrad: only float tensors can require gradients, got ${this.dtype}`);
    }
    if (!v && this.gradFn !== null) {
      throw new AutogradError('requiresGrad: cannot switch off gradients of a non-leaf tensor; use detach()');
    }
    this._requiresGrad = v;
  }

  /** Sets `requiresGrad` and returns this tensor (chainable, like PyTorch's `requires_grad_`). */
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }

  /** True when the tensor was not produced by a recorded op. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Keep `.grad` on this non-leaf tensor after backward. */
  retainGrad(): this {
    this._retainGrad = true;
    return this;
  }

  /** Whether `.grad` is kept after backward. */
  get retainsGrad(): boolean {
    return this.isLeaf ? this._requiresGrad : this._retainGrad;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements (of the shape: still right after {@link Tensor.dispose}). */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Row-major strides in elements (storage is always contiguous). */
  get strides(): number[] {
    return stridesOf(this.shape);
  }

  /** The value of a one-element tensor (any shape with exactly one element, like PyTorch). */
  item(): number {
    this.assertLive('item');
    if (this._data.length !== 1) {
      throw new ShapeError(
        `item: tensor of shape ${fmtShape(this.shape)} has ${this._data.length} elements, not 1`,
      );
    }
    return this.data[0];
  }

  /**
   * The values as nested JavaScript arrays (a plain number for a rank-0 tensor). Zero-size dimensions give
   * empty arrays, so `tensor(t.toArray(), t.shape)` round-trips every shape.
   */
  toArray(): number | NestedArray {
    this.assertLive('toArray');
    const data = this.data;
    if (this.shape.length === 0) return data[0];
    const strides = this.strides;
    const last = this.shape.length - 1;
    const build = (dim: number, offset: number): NestedArray => {
      const n = this.shape[dim];
      const out: NestedArray = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = dim === last ? data[offset + i] : build(dim + 1, offset + i * strides[dim]);
      }
      return out;
    };
    return build(0, 0);
  }

  /**
   * A new leaf with the same values, cut from the autograd graph (`requiresGrad` false). Unlike PyTorch the
   * storage is copied, so writing into either tensor never affects the other.
   */
  detach(): Tensor {
    this.assertLive('detach');
    return new Tensor(copyStorage(this._data), this.shape);
  }

  /** A copy of this tensor recorded in the graph as identity (gradients flow through). */
  clone(): Tensor {
    return cloneImpl(this);
  }

  /** Human-readable description. */
  toString(): string {
    if (this._disposed) return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}, disposed)`;
    const data = this.data;
    const preview = Array.from(data.subarray(0, 8), (v) => +v.toPrecision(5)).join(', ');
    const more = data.length > 8 ? ', …' : '';
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}${this._requiresGrad || this.gradFn ? ', requiresGrad' : ''}, data=[${preview}${more}])`;
  }
}

/** Nested arrays of numbers. */
export type NestedArray = Array<number | NestedArray>;

// `clone` needs the autograd machinery; it is installed by runtime.ts to avoid an import cycle.
let cloneImpl: (t: Tensor) => Tensor = (t) => new Tensor(copyStorage(t.storage), t.shape);

/** @internal Installs the graph-aware clone (called once by the runtime module). */
export function _setCloneImpl(fn: (t: Tensor) => Tensor): void {
  cloneImpl = fn;
}

/** Allocates a zero tensor of the given shape and dtype. */
export function emptyLike(shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape);
}

/** Tensors created in each active {@link tidy} scope (innermost last). */
const scopes: Tensor[][] = [];

/** What {@link tidy} may return: tensors kept alive are found in it (arrays and plain objects, one level deep or nested). */
export type TidyResult =
  | Tensor
  | null
  | undefined
  | number
  | string
  | boolean
  | TidyResult[]
  | { [k: string]: TidyResult };

function collect(v: unknown, keep: Set<Tensor>): void {
  if (v instanceof Tensor) keep.add(v);
  else if (Array.isArray(v)) for (const e of v) collect(e, keep);
  else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    for (const e of Object.values(v)) collect(e, keep);
}

/**
 * Runs `fn` and disposes every tensor created during it that it does not return (like tfjs's `tf.tidy`), so
 * a loop body can allocate freely and still reuse storage from one iteration to the next. Returned tensors
 * (also inside returned arrays and plain objects) survive and belong to the enclosing scope. Tensors that are
 * held by autograd (with `gradFn` or requiring grad, e.g. parameters created inside; inputs kept by a recorded
 * op; `.grad` tensors) are left alone, so `tidy` around a forward + `backward()` step is safe. Scopes nest.
 * `fn` must be synchronous.
 *
 * @example
 * for (const batch of batches) {
 *   const probs = tidy(() => softmax(model.forward(batch.x), -1)); // intermediates recycled
 *   use(probs.data);
 *   probs.dispose();
 * }
 */
export function tidy<T extends TidyResult>(fn: () => T): T {
  const mine: Tensor[] = [];
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result !== null && typeof (result as { then?: unknown }).then === 'function') {
    throw new ValueError('tidy: fn must be synchronous (it returned a promise)');
  }
  const keep = new Set<Tensor>();
  collect(result, keep);
  const outer = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const t of mine) {
    if (keep.has(t)) outer?.push(t);
    else if (t.tidyable) t.dispose();
  }
  return result;
}
