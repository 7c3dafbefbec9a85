/** Containers (Sequential, ModuleList, ModuleDict) and skip connections (Residual, ConcatSkip, Parallel). */
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { add, concat } from '../ops/basic.js';
import { shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { type AnyModule, Module } from './module.js';

/** A module mapping one tensor to one tensor (what a {@link Sequential} chains). */
export type TensorModule = Module<[Tensor], Tensor>;

/**
 * Runs its children in order, each on the previous one's output. Children are named '0', '1', … (or by the
 * keys of the record given to {@link Sequential.fromNamed}).
 */
export class Sequential extends Module {
  private readonly order: string[] = [];

  /** Chains `modules` in order. */
  constructor(...modules: TensorModule[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** A Sequential whose children have the given names (in the record's order). */
  static fromNamed(modules: Record<string, TensorModule>): Sequential {
    const s = new Sequential();
    for (const [k, m] of Object.entries(modules)) s.add(k, m);
    return s;
  }

  /** Appends a module named by its index; returns this. */
  append(m: TensorModule): this {
    return this.add(String(this.order.length), m);
  }

  /** Appends a module under `name`; returns this. */
  add(name: string, m: TensorModule): this {
    if (this.order.includes(name)) throw new ValueError(`Sequential: duplicate child name '${name}'`);
    this.registerModule(name, m);
    this.order.push(name);
    return this;
  }

  /** Number of children. */
  get length(): number {
    return this.order.length;
  }

  /** The child at `index` (negative counts from the end). */
  at(index: number): TensorModule {
    const i = index < 0 ? this.order.length + index : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.order.length)
      throw new ValueError(`Sequential: index ${index} out of range for ${this.order.length} children`);
    return [...this.children()][i] as TensorModule;
  }

  /** Iterates over the children in order. */
  *[Symbol.iterator](): Iterator<TensorModule> {
    for (const c of this.children()) yield c as TensorModule;
  }

  /** Runs the children in order. */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const c of this.children()) y = (c as TensorModule).call(y);
    return y;
  }
}

/** Holds a list of modules (registered as '0', '1', …) without defining a forward: index and iterate it. */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<[], never> {
  private readonly items: M[] = [];

  /** Creates the list. */
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Appends a module; returns this. */
  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  /** Appends several modules; returns this. */
  extend(ms: Iterable<M>): this {
    for (const m of ms) this.append(m);
    return this;
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): M {
    const i = index < 0 ? this.items.length + index : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.items.length)
      throw new ValueError(`ModuleList: index ${index} out of range for ${this.items.length} modules`);
    return this.items[i];
  }

  /** Iterates over the modules. */
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  /** A ModuleList has no forward; iterate over it instead. */
  forward(): never {
    throw new ValueError('ModuleList has no forward(); iterate over its modules');
  }
}

/** Holds modules by name without defining a forward. */
export class ModuleDict<M extends AnyModule = AnyModule> extends Module<[], never> {
  private readonly items = new Map<string, M>();

  /** Creates the dict. */
  constructor(modules: Record<string, M> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.set(k, m);
  }

  /** Adds or replaces a module; returns this. */
  set(key: string, m: M): this {
    this.registerModule(key, m);
    this.items.set(key, m);
    return this;
  }

  /** The module under `key` (throws if absent). */
  get(key: string): M {
    const m = this.items.get(key);
    if (m === undefined)
      throw new ValueError(`ModuleDict: no module '${key}' (have ${[...this.items.keys()].join(', ')})`);
    return m;
  }

  /** Whether `key` is present. */
  has(key: string): boolean {
    return this.items.has(key);
  }

  /** Keys in insertion order. */
  keys(): string[] {
    return [...this.items.keys()];
  }

  /** `[key, module]` pairs in insertion order. */
  entries(): Array<[string, M]> {
    return [...this.items.entries()];
  }

  /** A ModuleDict has no forward; look modules up instead. */
  forward(): never {
    throw new ValueError('ModuleDict has no forward(); get its modules by key');
  }
}

/**
 * Residual connection (He et al. 2016): y = body(x) + shortcut(x), where the shortcut is the identity
 * unless a module (e.g. a 1×1 convolution with stride, to match shapes) is given.
 */
export class Residual extends Module {
  /** The residual branch. */
  declare readonly body: TensorModule;
  /** The projection shortcut, or null for the identity. */
  declare readonly shortcut: TensorModule | null;

  /** Creates the block. */
  constructor(body: TensorModule, shortcut: TensorModule | null = null) {
    super();
    this.registerModule('body', body);
    this.registerModule('shortcut', shortcut);
  }

  /** body(x) + shortcut(x). */
  forward(x: Tensor): Tensor {
    const y = this.body.call(x);
    const s = this.shortcut === null ? x : this.shortcut.call(x);
    if (!shapesEqual(y.shape, s.shape)) {
      throw new ShapeError(
        `Residual: body output ${fmtShape(y.shape)} and shortcut ${fmtShape(s.shape)} differ; give a projection shortcut`,
      );
    }
    return add(y, s);
  }
}

/**
 * Dense skip connection (Huang et al. 2017, DenseNet; SNAIL's blocks): y = concat([x, body(x)], axis),
 * channels by default.
 */
export class ConcatSkip extends Module {
  /** The branch whose output is appended. */
  declare readonly body: TensorModule;

  /** Creates the block. */
  constructor(
    body: TensorModule,
    readonly axis = 1,
  ) {
    super();
    this.registerModule('body', body);
  }

  /** concat([x, body(x)], axis). */
  forward(x: Tensor): Tensor {
    return concat([x, this.body.call(x)], this.axis);
  }

  override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

/**
 * Parallel branches on the same input, combined by concatenation along `axis` (default, channels) or by
 * summation — the multi-scale blocks of Inception-style networks (e.g. kernels 3, 5, 7 side by side).
 */
export class Parallel extends Module {
  /** The branches. */
  declare readonly branches: ModuleList<TensorModule>;

  /** Creates the block. */
  constructor(
    branches: TensorModule[],
    readonly combine: 'concat' | 'add' = 'concat',
    readonly axis = 1,
  ) {
    super();
    if (branches.length === 0) throw new ValueError('Parallel: needs at least one branch');
    if (combine !== 'concat' && combine !== 'add')
      throw new ValueError(`Parallel: combine must be 'concat' or 'add', got ${String(combine)}`);
    this.registerModule('branches', new ModuleList(branches));
  }

  /** Runs every branch on `x` and combines the outputs. */
  forward(x: Tensor): Tensor {
    const ys = [...this.branches].map((b) => b.call(x));
    if (this.combine === 'concat') return concat(ys, this.axis);
    let s = ys[0];
    for (let i = 1; i < ys.length; i++) s = add(s, ys[i]);
    return s;
  }

  override extraRepr(): string {
    return `combine=${this.combine}${this.combine === 'concat' ? `, axis=${this.axis}` : ''}`;
  }
}
