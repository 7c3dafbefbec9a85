/**
 * Magnitude pruning, for the lottery-ticket method (Frankle & Carbin 2019), as `torch.nn.utils.prune`:
 * pruning `module.weight` moves the parameter to `weightOrig`, adds a persistent buffer `weightMask`
 * (1 keep, 0 pruned) and makes `module.weight` a computed tensor `weightOrig ⊙ mask` (recomputed on every
 * read, so gradients reach `weightOrig` only where the mask is 1). Pruning again prunes among the
 * surviving entries and multiplies the masks. {@link remove} makes it permanent.
 */
import { kernels } from '../backend/backend.js';
import { allocate, dtypeOf, type TypedArray } from '../dtype.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { mul } from '../ops/basic.js';
import { Tensor } from '../tensor.js';
import type { AnyModule, StateDict } from './module.js';
import type { Parameter } from './parameter.js';

/** A (module, parameter name) pair to prune. */
export type PruneTarget = readonly [AnyModule, string];

/** Whether `module[name]` is pruned (has `${name}Orig` and `${name}Mask`). */
export function isPruned(module: AnyModule, name = 'weight'): boolean {
  return module.getParameter(`${name}Orig`) != null && module.getBuffer(`${name}Mask`) != null;
}

function origOf(module: AnyModule, name: string): Parameter {
  const p = isPruned(module, name) ? module.getParameter(`${name}Orig`) : module.getParameter(name);
  if (p == null) {
    throw new ValueError(`prune: ${module.constructor.name} has no parameter '${name}' to prune`);
  }
  return p;
}

/** The current mask of `module[name]` (all ones if not pruned yet), as a new Float64Array. */
function currentMask(module: AnyModule, name: string): Float64Array {
  const orig = origOf(module, name);
  const m = new Float64Array(orig.size).fill(1);
  const buf = module.getBuffer(`${name}Mask`);
  if (isPruned(module, name) && buf) m.set(buf.data);
  return m;
}

/**
 * Applies a mask (1 keep, 0 prune; same shape as the parameter) to `module[name]`, combining it with an
 * existing mask by multiplication. This is also how a lottery ticket is carried over: copy the mask, reset
 * `weightOrig` to its initial values.
 */
export function customFromMask(module: AnyModule, name: string, mask: Tensor): void {
  const orig = origOf(module, name);
  if (mask.size !== orig.size || mask.ndim !== orig.ndim || mask.shape.some((d, i) => d !== orig.shape[i])) {
    throw new ShapeError(
      `prune: mask ${fmtShape(mask.shape)} does not match '${name}' ${fmtShape(orig.shape)}`,
    );
  }
  if (isPruned(module, name)) {
    const buf = module.getBuffer(`${name}Mask`)!;
    const keep = allocate(buf.dtype, buf.size);
    nonZero(mask.data, keep);
    kernels().binary('mul', buf.storage, [1], keep, [1], buf.storage, [buf.size]);
    return;
  }
  const m = new Tensor(allocate(orig.dtype, orig.size), orig.shape);
  nonZero(mask.data, m.data);
  module.deregister(name);
  module.registerParameter(`${name}Orig`, orig);
  module.registerBuffer(`${name}Mask`, m);
  // The effective weight is recomputed on each read from whatever is registered now (so loadStateDict,
  // Module.to and functionalCall are honoured).
  Object.defineProperty(module, name, {
    get: () => mul(module.getParameter(`${name}Orig`)!, module.getBuffer(`${name}Mask`)!),
    set: () => {
      throw new ValueError(
        `prune: '${name}' is pruned (computed from ${name}Orig ⊙ ${name}Mask); call prune.remove first`,
      );
    },
    enumerable: true,
    configurable: true,
  });
}

/** `out[i] = x[i] != 0 ? 1 : 0` (in out's dtype) by the compare kernel. */
function nonZero(x: TypedArray, out: TypedArray): void {
  const zero = allocate(dtypeOf(x), 1);
  kernels().compare('ne', x, [1], zero, [0], out, [out.length]);
}

/** Σ x (float64, by the reduce kernel). */
function sumOf(x: Float64Array): number {
  const out = new Float64Array(1);
  kernels().reduce('sum', x, out, 1, x.length, 1);
  return out[0];
}

/** |x| of parameter values as a new float64 array (the pruning scores). */
function magnitudes(x: TypedArray): Float64Array {
  const a = Float64Array.from(x);
  kernels().unary('abs', a, a);
  return a;
}

function checkAmount(amount: number): void {
  if (!(amount >= 0 && amount <= 1))
    throw new ValueError(`prune: amount must be a fraction in [0, 1], got ${amount}`);
}

/**
 * Indices of the k smallest |values| among the entries with mask 1, ties broken by position (so pruning
 * is deterministic).
 */
function smallest(scores: Float64Array, alive: Float64Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (alive[i] !== 0) idx.push(i);
  idx.sort((a, b) => scores[a] - scores[b] || a - b);
  return idx.slice(0, k);
}

/**
 * Prunes the fraction `amount` of the still-unpruned entries of `module[name]` with the smallest |value|
 * (torch `l1_unstructured`; k = round(amount · unpruned)).
 */
export function l1Unstructured(module: AnyModule, name: string, amount: number): void {
  checkAmount(amount);
  const orig = origOf(module, name);
  const alive = currentMask(module, name);
  const scores = magnitudes(orig.data);
  const k = Math.round(amount * sumOf(alive));
  const mask = new Tensor(alive.slice(), orig.shape);
  for (const i of smallest(scores, alive, k)) mask.data[i] = 0;
  customFromMask(module, name, mask);
}

/**
 * Global magnitude pruning over several parameters (torch `global_unstructured` with L1): removes the
 * fraction `amount` of all still-unpruned entries across `targets` with the smallest |value|, wherever
 * they are — the lottery-ticket method's global pruning.
 */
export function globalUnstructured(targets: readonly PruneTarget[], amount: number): void {
  checkAmount(amount);
  const origs = targets.map(([m, n]) => origOf(m, n));
  const total = origs.reduce((s, p) => s + p.size, 0);
  const scores = new Float64Array(total);
  const alive = new Float64Array(total);
  let off = 0;
  targets.forEach(([m, n], t) => {
    const o = origs[t];
    scores.set(magnitudes(o.data), off);
    alive.set(currentMask(m, n), off);
    off += o.size;
  });
  const newAlive = alive.slice();
  for (const i of smallest(scores, alive, Math.round(amount * sumOf(alive)))) newAlive[i] = 0;
  off = 0;
  targets.forEach(([m, n], t) => {
    const o = origs[t];
    customFromMask(m, n, new Tensor(newAlive.slice(off, off + o.size), o.shape));
    off += o.size;
  });
}

/**
 * Makes pruning permanent: `module[name]` becomes an ordinary parameter holding orig ⊙ mask, and
 * `${name}Orig`/`${name}Mask` disappear. The parameter object is the former `${name}Orig` (zeroed where
 * pruned), so an optimizer holding it stays valid.
 */
export function remove(module: AnyModule, name = 'weight'): void {
  if (!isPruned(module, name))
    throw new ValueError(`prune.remove: '${name}' of ${module.constructor.name} is not pruned`);
  const orig = module.getParameter(`${name}Orig`)!;
  const mask = module.getBuffer(`${name}Mask`)!;
  kernels().binary('mul', orig.storage, [1], mask.storage, [1], orig.storage, [orig.size]);
  module.deregister(`${name}Orig`);
  module.deregister(`${name}Mask`);
  delete (module as unknown as Record<string, unknown>)[name];
  module.registerParameter(name, orig);
}

/** Counts of zero and total entries of the effective (masked) weights of `targets`, for reporting sparsity. */
export function sparsity(targets: readonly PruneTarget[]): {
  zeros: number;
  total: number;
  fraction: number;
} {
  let zeros = 0;
  let count = 0;
  for (const [m, n] of targets) {
    const orig = origOf(m, n);
    const mask = isPruned(m, n) ? m.getBuffer(`${n}Mask`)! : null;
    // an entry is kept iff orig ≠ 0 and mask ≠ 0
    const kept = new Float64Array(orig.size);
    nonZero(orig.data, kept);
    if (mask !== null) {
      const maskKept = new Float64Array(orig.size);
      nonZero(mask.data, maskKept);
      kernels().binary('mul', kept, [1], maskKept, [1], kept, [orig.size]);
    }
    zeros += orig.size - sumOf(kept);
    count += orig.size;
  }
  return { zeros, total: count, fraction: count === 0 ? 0 : zeros / count };
}

/**
 * Lottery-ticket rewinding (Frankle & Carbin 2019): loads `sd` — the model's state at initialisation (or at
 * an early step, "late rewinding"), saved before pruning — into `model` while keeping the current masks.
 * A pruned parameter's `${name}Orig` takes the value saved under `${name}` (or `${name}Orig`); everything
 * else (biases, BatchNorm parameters and statistics) is loaded as saved. Strict: every key must be found.
 */
export function rewind(model: AnyModule, sd: StateDict): void {
  const current = model.stateDict();
  const masks = new Set<string>();
  const origs = new Map<string, string>();
  for (const [path, m] of model.namedModules()) {
    const pre = path === '' ? '' : `${path}.`;
    for (const [pname] of m.namedParameters({ recurse: false })) {
      if (pname.endsWith('Orig') && isPruned(m, pname.slice(0, -4))) {
        origs.set(pre + pname, pre + pname.slice(0, -4));
        masks.add(`${pre}${pname.slice(0, -4)}Mask`);
      }
    }
  }
  const out: StateDict = {};
  for (const key of Object.keys(current)) {
    if (masks.has(key)) out[key] = current[key];
    else if (origs.has(key) && !(key in sd)) {
      const plain = origs.get(key)!;
      if (plain in sd) out[key] = sd[plain];
    } else if (key in sd) out[key] = sd[key];
  }
  model.loadStateDict(out, { strict: true });
}
