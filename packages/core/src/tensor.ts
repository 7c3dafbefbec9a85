import { allocate, type DType, dtypeOf, isFloat, type TypedArray } from './dtype.js';
import { AutogradError, DTypeError, fmtShape, ShapeError } from './errors.js';
import { checkShape, sizeOf, stridesOf } from './shape.js';

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
  /** Flat row-major storage. Mutating it in place bypasses autograd (optimizers do this on leaves). */
  data: TypedArray;
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
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtypeOf(data);
    if (requiresGrad) this.requiresGrad = true;
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

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Row-major strides in elements (storage is always contiguous). */
  get strides(): number[] {
    return stridesOf(this.shape);
  }

  /** The value of a one-element tensor (any shape with exactly one element, like PyTorch). */
  item(): number {
    if (this.data.length !== 1) {
      throw new ShapeError(
        `item: tensor of shape ${fmtShape(this.shape)} has ${this.data.length} elements, not 1`,
      );
    }
    return this.data[0];
  }

  /**
   * The values as nested JavaScript arrays (a plain number for a rank-0 tensor). Zero-size dimensions give
   * empty arrays, so `tensor(t.toArray(), t.shape)` round-trips every shape.
   */
  toArray(): number | NestedArray {
    if (this.shape.length === 0) return this.data[0];
    const strides = this.strides;
    const last = this.shape.length - 1;
    const build = (dim: number, offset: number): NestedArray => {
      const n = this.shape[dim];
      const out: NestedArray = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = dim === last ? this.data[offset + i] : build(dim + 1, offset + i * strides[dim]);
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
    return new Tensor(this.data.slice(), this.shape);
  }

  /** A copy of this tensor recorded in the graph as identity (gradients flow through). */
  clone(): Tensor {
    return cloneImpl(this);
  }

  /** Human-readable description. */
  toString(): string {
    const preview = Array.from(this.data.subarray(0, 8), (v) => +v.toPrecision(5)).join(', ');
    const more = this.data.length > 8 ? ', …' : '';
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}${this._requiresGrad || this.gradFn ? ', requiresGrad' : ''}, data=[${preview}${more}])`;
  }
}

/** Nested arrays of numbers. */
export type NestedArray = Array<number | NestedArray>;

// `clone` needs the autograd machinery; it is installed by runtime.ts to avoid an import cycle.
let cloneImpl: (t: Tensor) => Tensor = (t) => new Tensor(t.data.slice(), t.shape);

/** @internal Installs the graph-aware clone (called once by the runtime module). */
export function _setCloneImpl(fn: (t: Tensor) => Tensor): void {
  cloneImpl = fn;
}

/** Allocates a zero tensor of the given shape and dtype. */
export function emptyLike(shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape);
}
