/**
 * `Module`: the base class of layers and models. A module holds state (parameters, buffers, child modules)
 * registered explicitly by name; its `forward` computes with the functional ops. Modules hold state,
 * functions compute — as PyTorch's `nn.Module` and `nn.functional`.
 */
import { allocate, type DType, isFloat } from '../dtype.js';
import { EcgnnError, fmtShape, ValueError } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { Parameter } from './parameter.js';

/** Raised when a state dict does not fit a module (missing/unexpected keys in strict mode, shapes, versions). */
export class StateDictError extends EcgnnError {}

/** Per-module metadata of a state dict: the state-dict format version of each module's class, by path. */
export type StateDictMetadata = Record<string, { version: number }>;

/**
 * A module's state: parameters and persistent buffers under dotted names (`features.0.weight`). The tensors
 * are copies, so later training does not change a saved state dict. Per-module format versions travel in
 * a non-enumerable `_metadata` property (so iterating the entries yields only tensors); read it with
 * {@link stateDictMetadata} and attach it with {@link setStateDictMetadata} after deserialising.
 */
export type StateDict = Record<string, Tensor>;

/** The `_metadata` of a state dict (undefined if it has none, e.g. a hand-built dict). */
export function stateDictMetadata(sd: StateDict): StateDictMetadata | undefined {
  return (sd as unknown as { _metadata?: StateDictMetadata })._metadata;
}

/** Attaches `_metadata` to a state dict as a non-enumerable property and returns the dict. */
export function setStateDictMetadata(sd: StateDict, meta: StateDictMetadata): StateDict {
  Object.defineProperty(sd, '_metadata', {
    value: meta,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return sd;
}

/** What {@link Module.loadStateDict} found: keys the model expected but did not get, and keys it did not know. */
export interface LoadStateDictResult {
  /** Keys of the model absent from the state dict. */
  missingKeys: string[];
  /** Keys of the state dict the model does not have. */
  unexpectedKeys: string[];
}

/** Handle returned by hook registration; `remove()` unregisters the hook. */
export interface HookHandle {
  /** Unregisters the hook. */
  remove(): void;
}

/** Any module, whatever its forward signature. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds modules of every forward signature
export type AnyModule = Module<any[], any>;

/** Runs before `forward` inside {@link Module.call}; may return replacement inputs. */
export type ForwardPreHook<In extends unknown[]> = (module: AnyModule, inputs: In) => In | undefined;
/** Runs after `forward` inside {@link Module.call}; may return a replacement output. */
export type ForwardHook<In extends unknown[], Out> = (
  module: AnyModule,
  inputs: In,
  output: Out,
) => Out | undefined;

const IDENT = /^[A-Za-z_$][\w$]*$|^\d+$/;

/**
 * Base class of all layers and models.
 *
 * Conventions:
 * - Register state explicitly in the constructor: `this.registerParameter('weight', p)`,
 *   `this.registerBuffer('runningMean', t, {persistent})`, `this.registerModule('fc', m)`. Registration also
 *   defines a property of that name on the instance, so `this.weight` reads the registry, and assigning
 *   `this.weight = p` re-registers. Declare such members in TypeScript with `declare readonly weight: Tensor;`
 *   (a field initialiser in a subclass would overwrite the property).
 * - Implement {@link Module.forward}. Run a module with {@link Module.call} (which runs hooks and records the
 *   output shape for {@link Module.toString}) or with `forward` directly; containers use `call`.
 * - Training mode is per module ({@link Module.train} / {@link Module.eval} recurse); there is no global flag.
 * - Subclasses that change their state-dict layout bump `static version` and override
 *   {@link Module.migrateStateDict}.
 *
 * @typeParam In - Argument types of `forward`.
 * @typeParam Out - Return type of `forward`.
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** State-dict format version of this class, stored in `_metadata`; bump it when the layout changes. */
  static version = 1;

  /** Training mode (dropout active, batch statistics in BatchNorm). Set with {@link Module.train}. */
  training = true;
  /** Shape of the last output of {@link Module.call}, shown by {@link Module.toString}. */
  lastOutputShape: readonly number[] | null = null;

  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _modules = new Map<string, AnyModule | null>();
  // Stored without the In/Out types so that Module<[Tensor], Tensor> stays assignable to AnyModule.
  private readonly _preHooks = new Set<(m: AnyModule, inputs: never) => unknown>();
  private readonly _hooks = new Set<(m: AnyModule, inputs: never, output: never) => unknown>();

  /** The computation. Implement in subclasses. */
  abstract forward(...inputs: In): Out;

  /**
   * Runs forward pre-hooks, {@link Module.forward} and forward hooks, and records the output shape.
   * This is how containers run their children.
   */
  call(...inputs: In): Out {
    let args = inputs;
    for (const h of this._preHooks) {
      const r = (h as ForwardPreHook<In>)(this, args);
      if (r !== undefined) args = r;
    }
    let out = this.forward(...args);
    for (const h of this._hooks) {
      const r = (h as ForwardHook<In, Out>)(this, args, out);
      if (r !== undefined) out = r;
    }
    if (out instanceof Tensor) this.lastOutputShape = out.shape;
    return out;
  }

  /** Registers a hook run before `forward` by {@link Module.call}. */
  registerForwardPreHook(hook: ForwardPreHook<In>): HookHandle {
    const h = hook as (m: AnyModule, inputs: never) => unknown;
    this._preHooks.add(h);
    return { remove: () => this._preHooks.delete(h) };
  }

  /** Registers a hook run after `forward` by {@link Module.call}. */
  registerForwardHook(hook: ForwardHook<In, Out>): HookHandle {
    const h = hook as (m: AnyModule, inputs: never, output: never) => unknown;
    this._hooks.add(h);
    return { remove: () => this._hooks.delete(h) };
  }

  // -------------------------------------------------------------------------------------------------------
  // Registration

  private checkName(kind: string, name: string): void {
    if (typeof name !== 'string' || !IDENT.test(name)) {
      throw new ValueError(`${kind}: invalid name '${name}' (use an identifier without dots)`);
    }
    const taken =
      (kind !== 'registerParameter' && this._parameters.has(name)) ||
      (kind !== 'registerBuffer' && this._buffers.has(name)) ||
      (kind !== 'registerModule' && this._modules.has(name));
    if (taken) throw new ValueError(`${kind}: '${name}' is already registered as another kind of member`);
    const registered = this._parameters.has(name) || this._buffers.has(name) || this._modules.has(name);
    if (name in Object.getPrototypeOf(this) || name === 'training' || name === 'lastOutputShape') {
      throw new ValueError(
        `${kind}: '${name}' would shadow a method or property of ${this.constructor.name}`,
      );
    }
    const own = Object.getOwnPropertyDescriptor(this, name);
    if (!registered && own !== undefined && own.value !== undefined) {
      throw new ValueError(`${kind}: '${name}' is already a field of ${this.constructor.name}`);
    }
  }

  private defineMember(name: string, get: () => unknown, set: (v: never) => void): void {
    Object.defineProperty(this, name, { get, set, enumerable: true, configurable: true });
  }

  /**
   * Registers a parameter (or `null` for an absent optional one, e.g. a bias) under `name` and defines
   * `this[name]`. Returns the parameter.
   */
  registerParameter<P extends Parameter | null>(name: string, param: P): P {
    this.checkName('registerParameter', name);
    if (param !== null && !(param instanceof Parameter)) {
      throw new ValueError(`registerParameter: '${name}' must be a Parameter (wrap it: new Parameter(t))`);
    }
    this._parameters.set(name, param);
    this.defineMember(
      name,
      () => this._parameters.get(name),
      (v: Parameter | null) => this.registerParameter(name, v),
    );
    return param;
  }

  /**
   * Registers a buffer: state that is not trained (running statistics, masks). Persistent buffers (the
   * default) are part of the state dict. Defines `this[name]`; returns the tensor.
   */
  registerBuffer<T extends Tensor | null>(name: string, t: T, opts: { persistent?: boolean } = {}): T {
    this.checkName('registerBuffer', name);
    if (t !== null && !(t instanceof Tensor))
      throw new ValueError(`registerBuffer: '${name}' must be a Tensor`);
    this._buffers.set(name, t);
    if (opts.persistent === false) this._nonPersistent.add(name);
    else if (opts.persistent === true) this._nonPersistent.delete(name);
    this.defineMember(
      name,
      () => this._buffers.get(name),
      (v: Tensor | null) => this.registerBuffer(name, v),
    );
    return t;
  }

  /** Registers a child module under `name` and defines `this[name]`; returns the module. */
  registerModule<M extends AnyModule | null>(name: string, m: M): M {
    this.checkName('registerModule', name);
    if (m !== null && !(m instanceof Module))
      throw new ValueError(`registerModule: '${name}' must be a Module`);
    this._modules.set(name, m);
    this.defineMember(
      name,
      () => this._modules.get(name),
      (v: AnyModule | null) => this.registerModule(name, v),
    );
    return m;
  }

  /**
   * Removes a registered parameter, buffer or module named `name` (and the property). Returns what was
   * removed, or undefined. Used by pruning to replace a parameter by a computed tensor.
   */
  deregister(name: string): Tensor | AnyModule | null | undefined {
    let v: Tensor | AnyModule | null | undefined;
    if (this._parameters.has(name)) {
      v = this._parameters.get(name);
      this._parameters.delete(name);
    } else if (this._buffers.has(name)) {
      v = this._buffers.get(name);
      this._buffers.delete(name);
      this._nonPersistent.delete(name);
    } else if (this._modules.has(name)) {
      v = this._modules.get(name);
      this._modules.delete(name);
    } else return undefined;
    delete (this as Record<string, unknown>)[name];
    return v;
  }

  /** The parameter registered directly on this module under `name` (not recursing), if any. */
  getParameter(name: string): Parameter | null | undefined {
    return this._parameters.get(name) as Parameter | null | undefined;
  }

  /** The buffer registered directly on this module under `name` (not recursing), if any. */
  getBuffer(name: string): Tensor | null | undefined {
    return this._buffers.get(name);
  }

  /** Whether `name` is a persistent buffer of this module. */
  isPersistentBuffer(name: string): boolean {
    return this._buffers.has(name) && !this._nonPersistent.has(name);
  }

  /** @internal Replaces a registered parameter or buffer in place in the registry (functionalCall, `to`). */
  _swapTensor(name: string, t: Tensor | null): Tensor | null {
    if (this._parameters.has(name)) {
      const old = this._parameters.get(name) ?? null;
      this._parameters.set(name, t);
      return old;
    }
    if (this._buffers.has(name)) {
      const old = this._buffers.get(name) ?? null;
      this._buffers.set(name, t);
      return old;
    }
    throw new ValueError(`'${name}' is not a parameter or buffer of ${this.constructor.name}`);
  }

  // -------------------------------------------------------------------------------------------------------
  // Traversal

  /** Direct children with their names. */
  *namedChildren(): Generator<[string, AnyModule]> {
    for (const [n, m] of this._modules) if (m !== null) yield [n, m];
  }

  /** Direct children. */
  *children(): Generator<AnyModule> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module and all descendants with dotted paths ('' for this module), each module once. */
  *namedModules(prefix = '', seen = new Set<AnyModule>()): Generator<[string, AnyModule]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix, this];
    for (const [n, m] of this.namedChildren()) {
      yield* m.namedModules(prefix === '' ? n : `${prefix}.${n}`, seen);
    }
  }

  /** This module and all descendants, each once. */
  *modules(): Generator<AnyModule> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Parameters with dotted names; with `recurse` (default) including descendants; shared ones once. */
  *namedParameters(opts: { prefix?: string; recurse?: boolean } = {}): Generator<[string, Parameter]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, AnyModule]> =
      opts.recurse === false ? [[opts.prefix ?? '', this]] : this.namedModules(opts.prefix ?? '');
    for (const [path, m] of mods) {
      for (const [n, p] of m._parameters) {
        if (p === null || seen.has(p)) continue;
        seen.add(p);
        yield [path === '' ? n : `${path}.${n}`, p as Parameter];
      }
    }
  }

  /** All parameters (shared ones once), e.g. for an optimizer. */
  parameters(opts: { recurse?: boolean } = {}): Parameter[] {
    return Array.from(this.namedParameters(opts), ([, p]) => p);
  }

  /** Buffers with dotted names (persistent and not). */
  *namedBuffers(opts: { prefix?: string; recurse?: boolean } = {}): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, AnyModule]> =
      opts.recurse === false ? [[opts.prefix ?? '', this]] : this.namedModules(opts.prefix ?? '');
    for (const [path, m] of mods) {
      for (const [n, b] of m._buffers) {
        if (b === null || seen.has(b)) continue;
        seen.add(b);
        yield [path === '' ? n : `${path}.${n}`, b];
      }
    }
  }

  /** All buffers. */
  buffers(opts: { recurse?: boolean } = {}): Tensor[] {
    return Array.from(this.namedBuffers(opts), ([, b]) => b);
  }

  /** Calls `fn` on every descendant (children first) and then on this module, like `torch.nn.Module.apply`. */
  apply(fn: (m: AnyModule) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  // -------------------------------------------------------------------------------------------------------
  // Modes and gradients

  /** Sets training mode on this module and all descendants; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this.children()) c.train(mode);
    return this;
  }

  /** Evaluation mode (`train(false)`); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of all parameters (sets `grad` to null). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Freezes (`false`) or unfreezes all parameters; returns this. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Number of parameter elements (shared parameters once); `trainableOnly` counts those requiring grad. */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.size;
    return n;
  }

  /**
   * Converts all float parameters and buffers to `dtype` (e.g. float64 for gradient checks), keeping
   * sharing, `requiresGrad` and constraints. Parameters are new objects: build optimizers afterwards.
   */
  to(dtype: DType): this {
    if (!isFloat(dtype)) throw new ValueError(`Module.to: only float dtypes, got ${dtype}`);
    const map = new Map<Tensor, Tensor>();
    const convert = (t: Tensor): Tensor => {
      if (t.dtype === dtype || !isFloat(t.dtype)) return t;
      let c = map.get(t);
      if (c === undefined) {
        const data = allocate(dtype, t.size);
        data.set(t.data);
        const plain = new Tensor(data, t.shape);
        if (t instanceof Parameter) {
          const p = new Parameter(plain, t.requiresGrad);
          p.constraint = t.constraint;
          c = p;
        } else c = plain;
        map.set(t, c);
      }
      return c;
    };
    for (const m of this.modules()) {
      for (const [n, p] of m._parameters) if (p !== null) m._parameters.set(n, convert(p));
      for (const [n, b] of m._buffers) if (b !== null) m._buffers.set(n, convert(b));
    }
    return this;
  }

  // -------------------------------------------------------------------------------------------------------
  // State dicts

  /**
   * Parameters and persistent buffers under dotted names, as copies, with `_metadata` giving each module
   * class's state-dict version by module path. A module shared at several paths is saved once, under its
   * first path.
   */
  stateDict(): StateDict {
    const sd: StateDict = {};
    const meta: StateDictMetadata = {};
    for (const [path, m] of this.namedModules()) {
      meta[path] = { version: (m.constructor as typeof Module).version };
      const pre = path === '' ? '' : `${path}.`;
      for (const [n, p] of m._parameters) if (p !== null) sd[pre + n] = new Tensor(p.data.slice(), p.shape);
      for (const [n, b] of m._buffers) {
        if (b !== null && !m._nonPersistent.has(n)) sd[pre + n] = new Tensor(b.data.slice(), b.shape);
      }
    }
    return setStateDictMetadata(sd, meta);
  }

  /**
   * Migrates the entries of this module (keys starting with `prefix`) of a state dict saved by an older
   * version of the class, in place. Called by {@link Module.loadStateDict} when the saved version differs
   * from the class's `static version`. The default accepts equal-or-older versions without changes and
   * rejects checkpoints from a newer version.
   */
  migrateStateDict(_sd: StateDict, prefix: string, savedVersion: number): void {
    const current = (this.constructor as typeof Module).version;
    if (savedVersion > current) {
      throw new StateDictError(
        `loadStateDict: '${prefix || '(root)'}' (${this.constructor.name}) was saved by state-dict version ${savedVersion}, newer than this code's version ${current}`,
      );
    }
  }

  /**
   * Copies a state dict into this module's parameters and persistent buffers, in place (so optimizers
   * holding the parameters stay valid). Runs version migrations first (see {@link Module.migrateStateDict};
   * a module without metadata is taken to be of the current version). Any shape mismatch throws a
   * {@link StateDictError} naming the key and both shapes; with `strict` (default) so do missing or
   * unexpected keys. Nothing is copied unless everything fits.
   */
  loadStateDict(sd: StateDict, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const meta = stateDictMetadata(sd);
    const work: StateDict = { ...sd };
    // Metadata may arrive as an ordinary (enumerable) key, e.g. after a JSON round trip.
    delete (work as Record<string, unknown>)._metadata;
    const mods = [...this.namedModules()];
    if (meta !== undefined) {
      for (const [path, m] of mods) {
        const saved = meta[path]?.version;
        const current = (m.constructor as typeof Module).version;
        if (saved !== undefined && saved !== current) {
          m.migrateStateDict(work, path === '' ? '' : `${path}.`, saved);
        }
      }
    }
    const targets = new Map<string, Tensor>();
    for (const [path, m] of mods) {
      const pre = path === '' ? '' : `${path}.`;
      for (const [n, p] of m._parameters) if (p !== null) targets.set(pre + n, p);
      for (const [n, b] of m._buffers) if (b !== null && !m._nonPersistent.has(n)) targets.set(pre + n, b);
    }
    const missingKeys = [...targets.keys()].filter((k) => work[k] === undefined);
    const unexpectedKeys = Object.keys(work).filter((k) => !targets.has(k) && work[k] !== undefined);
    const problems: string[] = [];
    for (const [k, t] of targets) {
      const src = work[k];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) {
        problems.push(`'${k}' is not a Tensor`);
      } else if (!shapesEqual(src.shape, t.shape)) {
        problems.push(
          `shape mismatch for '${k}': checkpoint has ${fmtShape(src.shape)}, model has ${fmtShape(t.shape)}`,
        );
      }
    }
    if (problems.length > 0) throw new StateDictError(`loadStateDict: ${problems.join('; ')}`);
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      const parts: string[] = [];
      if (missingKeys.length > 0) parts.push(`missing keys ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
      if (unexpectedKeys.length > 0)
        parts.push(`unexpected keys ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
      throw new StateDictError(`loadStateDict (strict): ${parts.join('; ')}`);
    }
    for (const [k, t] of targets) {
      const src = work[k];
      if (src !== undefined) t.data.set(src.data);
    }
    return { missingKeys, unexpectedKeys };
  }

  // -------------------------------------------------------------------------------------------------------
  // Summary

  /** Extra description inside the parentheses of {@link Module.toString} (hyper-parameters). */
  extraRepr(): string {
    return '';
  }

  /**
   * A tree like PyTorch's: each module with its hyper-parameters, its last output shape (after
   * {@link Module.call}) and its parameter count; the root line ends with the total.
   */
  toString(): string {
    const lines: string[] = [];
    const fmt = (m: AnyModule, name: string | null, indent: string, seen: Set<AnyModule>): void => {
      const head = `${indent}${name === null ? '' : `(${name}): `}${m.constructor.name}(${m.extraRepr()}`;
      const count = m.numParameters();
      const notes: string[] = [];
      if (m.lastOutputShape !== null) notes.push(`out ${fmtShape(m.lastOutputShape)}`);
      notes.push(`${count.toLocaleString('en-US')} params`);
      const note = `  # ${notes.join(', ')}`;
      const kids = [...m.namedChildren()];
      if (kids.length === 0 || seen.has(m)) {
        lines.push(`${head})${note}`);
        return;
      }
      seen.add(m);
      lines.push(`${head}${m.extraRepr() === '' ? '' : ','}${note}`);
      for (const [n, c] of kids) fmt(c, n, `${indent}  `, seen);
      lines.push(`${indent})`);
    };
    fmt(this, null, '', new Set());
    const trainable = this.numParameters({ trainableOnly: true });
    lines.push(
      `Total: ${this.numParameters().toLocaleString('en-US')} parameters (${trainable.toLocaleString('en-US')} trainable)`,
    );
    return lines.join('\n');
  }
}

/**
 * Calls `module` with some of its parameters or buffers replaced by the given tensors (by dotted name), then
 * restores them — like `torch.func.functional_call`. Useful for gradient checks through a whole model and
 * for meta-learning, where "fast weights" are tensors computed from the parameters.
 */
export function functionalCall<In extends unknown[], Out>(
  module: Module<In, Out>,
  tensors: Record<string, Tensor>,
  ...inputs: In
): Out {
  const owners = new Map<string, AnyModule>();
  for (const [path, m] of module.namedModules()) owners.set(path, m);
  const restore: Array<[AnyModule, string, Tensor | null]> = [];
  try {
    for (const [key, t] of Object.entries(tensors)) {
      const dot = key.lastIndexOf('.');
      const owner = owners.get(dot < 0 ? '' : key.slice(0, dot));
      if (owner === undefined) throw new ValueError(`functionalCall: no module owns '${key}'`);
      const old = owner._swapTensor(dot < 0 ? key : key.slice(dot + 1), t);
      restore.push([owner, dot < 0 ? key : key.slice(dot + 1), old]);
    }
    return module.call(...inputs);
  } finally {
    for (let i = restore.length - 1; i >= 0; i--) {
      const [owner, name, old] = restore[i];
      owner._swapTensor(name, old);
    }
  }
}
