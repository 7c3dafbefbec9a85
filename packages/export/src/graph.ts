/**
 * {@link GraphBuilder}: the node list and tensor table of an @ecgnn/infer graph under construction, with the
 * kind and per-sample shape of every value, and the storage policy applied to each tensor as it is added.
 */
import type { NodeSpec, TensorSpec } from '@ecgnn/infer';
import { ExportError } from './errors.js';
import { inferOutput, type ValueInfo } from './shapes.js';

/** Storage dtypes a float tensor may be written with (docs/model-format.md). */
export type StorageDType = 'float32' | 'float16' | 'int8';

/** Sparse storage choice, as `TensorSpec.sparse` of `saveModel`. */
export type SparseStorage = boolean | 'auto' | 'bitmap' | 'index';

/** How one tensor is stored. */
export interface TensorStorage {
  /** Storage dtype (default float32). `int8` uses one per-tensor scale, max|x| / 127. */
  dtype?: StorageDType;
  /**
   * `'auto'` (default): the smallest of dense, bitmap-sparse and index-sparse storage, so pruned weights shrink
   * the file and dense ones cost nothing; `false` dense; `true` the smaller sparse form; or a sparse format.
   */
  sparse?: SparseStorage;
}

/**
 * What a tensor is, for the storage policy: `weight` (conv/linear/attention/excitation weight matrices, the bulk
 * of a model) or `param` (biases, normalisation statistics, slopes: small, kept float32 unless a policy function
 * says otherwise).
 */
export type TensorRole = 'weight' | 'param';

/** A float tensor the storage policy is asked about. */
export interface TensorInfo {
  /** Tensor name (the module path and parameter, e.g. `features.0.weight`). */
  name: string;
  /** Logical shape. */
  shape: readonly number[];
  /** Weight matrix or small parameter. */
  role: TensorRole;
}

/**
 * Storage of float tensors: a dtype or {@link TensorStorage} for every `weight` tensor (parameters stay float32,
 * sparse 'auto'), or a function deciding per tensor (`undefined`: the default, float32 and sparse 'auto').
 * Binary weights (`bits`) and folded integer thresholds are always stored exactly, whatever the policy.
 */
export type StoragePolicy =
  | StorageDType
  | TensorStorage
  | ((tensor: TensorInfo) => TensorStorage | StorageDType | undefined);

function resolveStorage(policy: StoragePolicy | undefined, info: TensorInfo): TensorStorage {
  let s: TensorStorage | StorageDType | undefined;
  if (typeof policy === 'function') s = policy(info);
  else if (info.role === 'weight') s = policy;
  else s = typeof policy === 'object' ? { sparse: policy.sparse } : undefined;
  if (s === undefined) return {};
  const out = typeof s === 'string' ? { dtype: s } : s;
  if (out.dtype !== undefined && !['float32', 'float16', 'int8'].includes(out.dtype)) {
    throw new ExportError(
      `storage of ${info.name}: dtype must be 'float32', 'float16' or 'int8', got ${String(out.dtype)}`,
    );
  }
  return out;
}

/** Options of {@link GraphBuilder.node}. */
export interface NodeOptions {
  /** Attributes (entries whose value is undefined are left out). */
  attrs?: Record<string, unknown>;
  /** Role → tensor name. */
  tensors?: Record<string, string>;
  /** The output's kind and shape, for an op the exporter's shape table does not know. */
  output?: ValueInfo;
}

/** Builds the nodes and tensors of an infer graph, one node at a time. */
export class GraphBuilder {
  /** Nodes in execution order. */
  readonly nodes: NodeSpec[] = [];
  /** Tensors referenced by the nodes. */
  readonly tensors: TensorSpec[] = [];
  private readonly values = new Map<string, ValueInfo>();
  private readonly tensorByName = new Map<string, TensorSpec>();

  /** Creates a builder whose float tensors are stored as `storage` says. */
  constructor(readonly storage?: StoragePolicy) {}

  /** Declares a graph input `name` with the per-sample `shape`; returns its value name. */
  input(name: string, shape: readonly number[]): string {
    if (this.values.has(name)) throw new ExportError(`input name '${name}' is used twice`);
    this.values.set(name, { kind: 'float', shape: [...shape] });
    return name;
  }

  /** Kind and per-sample shape of value `v`. */
  info(v: string): ValueInfo {
    const i = this.values.get(v);
    if (i === undefined) throw new ExportError(`unknown graph value '${v}'`);
    return { kind: i.kind, shape: i.shape.slice() };
  }

  /** Per-sample shape of value `v`. */
  shape(v: string): number[] {
    return this.info(v).shape;
  }

  /** A value name not used yet, from `hint` (e.g. a module path). */
  private fresh(hint: string): string {
    const base = hint === '' ? 'y' : hint;
    let name = base;
    for (let i = 2; this.values.has(name); i++) name = `${base}#${i}`;
    return name;
  }

  private uniqueTensorName(name: string): string {
    let n = name;
    for (let i = 2; this.tensorByName.has(n); i++) n = `${name}#${i}`;
    return n;
  }

  /**
   * Adds a float tensor stored as the storage policy says for `role`; returns its (unique) name. Values are
   * copied into a Float32Array when they are not one already.
   */
  floatTensor(name: string, shape: readonly number[], data: ArrayLike<number>, role: TensorRole): string {
    const unique = this.uniqueTensorName(name);
    const storage = resolveStorage(this.storage, { name: unique, shape, role });
    const spec: TensorSpec = {
      name: unique,
      shape: [...shape],
      data: data instanceof Float32Array ? data : Float32Array.from(data),
    };
    if (storage.dtype !== undefined && storage.dtype !== 'float32') spec.dtype = storage.dtype;
    if (storage.sparse !== undefined) spec.sparse = storage.sparse;
    return this.exactTensor(spec);
  }

  /** Adds a tensor stored exactly as given (bits, int32 thresholds, …); returns its (unique) name. */
  exactTensor(spec: TensorSpec): string {
    const name = this.uniqueTensorName(spec.name);
    const t = { ...spec, name, shape: [...spec.shape] };
    this.tensors.push(t);
    this.tensorByName.set(name, t);
    return name;
  }

  /** The tensor named `name`. */
  tensor(name: string): TensorSpec {
    const t = this.tensorByName.get(name);
    if (t === undefined) throw new ExportError(`unknown tensor '${name}'`);
    return t;
  }

  /**
   * Appends node `op` on `inputs`, its output named from `hint` (the module path); returns the output value.
   * Throws {@link ExportError} prefixed with `hint` when the shapes do not fit.
   */
  node(op: string, inputs: readonly string[], hint: string, opts: NodeOptions = {}): string {
    const attrs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(opts.attrs ?? {})) if (v !== undefined) attrs[k] = v;
    const roles: Record<string, TensorSpec> = {};
    for (const [role, name] of Object.entries(opts.tensors ?? {})) roles[role] = this.tensor(name);
    const infos = inputs.map((v) => this.info(v));
    const where = hint === '' ? `(model) ${op}` : `${hint} (${op})`;
    const output = opts.output ?? inferOutput(where, op, infos, attrs, roles);
    if (output === null) {
      throw new ExportError(`${where}: unknown op; pass the output's kind and shape in NodeOptions.output`);
    }
    const out = this.fresh(hint);
    this.values.set(out, { kind: output.kind, shape: output.shape.slice() });
    const n: NodeSpec = { op, inputs: [...inputs], outputs: [out] };
    if (Object.keys(attrs).length > 0) n.attrs = attrs;
    if (opts.tensors && Object.keys(opts.tensors).length > 0) n.tensors = { ...opts.tensors };
    this.nodes.push(n);
    return out;
  }
}
