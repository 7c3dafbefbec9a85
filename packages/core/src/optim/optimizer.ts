/**
 * Optimizer base: parameter groups with per-group options, per-parameter state in typed arrays allocated
 * once, constraints applied after each step, and exact save/restore of the optimizer state.
 */
import { allocate, type FloatArray } from '../dtype.js';
import { EcgnnError, fmtShape, ValueError } from '../errors.js';
import type { Constraint } from '../nn/parameter.js';
import { enableGrad, Tensor } from '../tensor.js';

/** Raised when an optimizer state dict does not fit the optimizer. */
export class OptimizerStateError extends EcgnnError {}

/** Options every optimizer has. */
export interface BaseOptions {
  /** Learning rate. */
  lr: number;
}

/** A group of parameters sharing options (learning rate, weight decay, …). */
export type ParamGroup<O extends BaseOptions> = O & {
  /** The group's parameters. */
  params: Tensor[];
  /** The learning rate the schedulers started from (set by the first scheduler attached). */
  initialLr?: number;
};

/** A parameter group as given to an optimizer: parameters plus options overriding the defaults. */
export type ParamGroupInput<O extends BaseOptions> = Partial<O> & { params: Iterable<Tensor> };

/** What optimizers accept: parameters (one group), or a list of groups with their own options. */
export type ParamsInput<O extends BaseOptions> = Iterable<Tensor> | ReadonlyArray<ParamGroupInput<O>>;

/** A value of per-parameter optimizer state: a step counter or an array shaped like the parameter. */
export type StateValue = number | FloatArray;

/**
 * An optimizer's state: per-parameter state by parameter index (counting through the groups in order) and
 * the groups' options with parameter indices. Arrays are copies held in tensors.
 */
export interface OptimizerStateDict {
  /** Per-parameter state, keyed by index. */
  state: Record<number, Record<string, number | Tensor>>;
  /** Group options; `params` lists the parameter indices. */
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

function isTensorIterable(x: unknown): x is Iterable<Tensor> {
  if (x instanceof Tensor) return false;
  const arr = Array.isArray(x) ? x : null;
  return arr === null || arr.length === 0 || arr[0] instanceof Tensor;
}

function cloneOption(v: unknown): unknown {
  return Array.isArray(v) ? [...v] : v;
}

/**
 * Base class of optimizers. Subclasses implement {@link Optimizer.updateParam}, which updates one
 * parameter's `data` in place from its gradient without allocating (state arrays are allocated on the
 * first step and reused).
 *
 * Constraints: after updating, `step()` applies each parameter's `constraint` (e.g. the weight clip of
 * binary layers), so a training loop needs no extra call.
 */
export abstract class Optimizer<O extends BaseOptions> {
  /** Default options of new groups. */
  readonly defaults: O;
  /** The parameter groups; options may be changed between steps (schedulers set `lr`). */
  readonly paramGroups: Array<ParamGroup<O>> = [];
  /** Per-parameter state. */
  protected readonly state = new Map<Tensor, Record<string, StateValue>>();

  /** Creates the optimizer over `params` (one group) or a list of groups. */
  constructor(params: ParamsInput<O>, defaults: O) {
    this.validate(defaults, 'defaults');
    this.defaults = defaults;
    if (isTensorIterable(params)) this.addParamGroup({ params } as ParamGroupInput<O>);
    else for (const g of params as ReadonlyArray<ParamGroupInput<O>>) this.addParamGroup(g);
    if (this.paramGroups.length === 0) throw new ValueError(`${this.constructor.name}: no parameter groups`);
  }

  /** Checks option values; throws a ValueError naming the bad option. */
  protected abstract validate(options: O, where: string): void;

  /**
   * Updates one parameter in place. `grad` is the gradient storage; `state` is this parameter's state
   * (empty on the first step).
   */
  protected abstract updateParam(
    p: Tensor,
    grad: FloatArray,
    group: ParamGroup<O>,
    state: Record<string, StateValue>,
  ): void;

  /** Adds a group; options not given come from the defaults. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const params = [...group.params];
    if (params.length === 0) throw new ValueError(`${this.constructor.name}: a parameter group is empty`);
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!(p instanceof Tensor))
        throw new ValueError(`${this.constructor.name}: parameters must be Tensors`);
      if (!p.isLeaf)
        throw new ValueError(`${this.constructor.name}: can only optimize leaf tensors (parameters)`);
      if (p.dtype === 'int32')
        throw new ValueError(`${this.constructor.name}: cannot optimize an int32 tensor`);
      if (seen.has(p))
        throw new ValueError(`${this.constructor.name}: a parameter appears in more than one group`);
      seen.add(p);
    }
    const options = {} as Record<string, unknown>;
    for (const [k, v] of Object.entries(this.defaults)) options[k] = cloneOption(v);
    for (const [k, v] of Object.entries(group)) if (k !== 'params') options[k] = cloneOption(v);
    const g = { ...options, params } as unknown as ParamGroup<O>;
    this.validate(g, `group ${this.paramGroups.length}`);
    this.paramGroups.push(g);
  }

  /** Clears the gradients of all parameters (sets `grad` to null). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /**
   * One update of every parameter that has a gradient, then the parameters' constraints. With a closure
   * (which recomputes the loss and gradients), runs it first and returns its value.
   */
  step(closure?: () => number): number | undefined {
    const loss = closure === undefined ? undefined : enableGrad(closure);
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (p.grad.size !== p.size || p.grad.dtype !== p.dtype) {
          throw new ValueError(
            `${this.constructor.name}: gradient ${fmtShape(p.grad.shape)} ${p.grad.dtype} does not match parameter ${fmtShape(p.shape)} ${p.dtype}`,
          );
        }
        let st = this.state.get(p);
        if (st === undefined) {
          st = {};
          this.state.set(p, st);
        }
        this.updateParam(p, p.grad.storage as FloatArray, group, st);
        const c = (p as { constraint?: Constraint | null }).constraint;
        if (c) c.apply(p.data);
      }
    }
    return loss;
  }

  /** A zeroed state array shaped like `p` (call once, on a parameter's first step). */
  protected newStateArray(p: Tensor): FloatArray {
    return allocate(p.dtype, p.size) as FloatArray;
  }

  /** The optimizer's state (copied) for checkpoints; see {@link Optimizer.loadStateDict}. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> & { params: number[] } = { params: [] };
      for (const [k, v] of Object.entries(g)) if (k !== 'params') out[k] = cloneOption(v);
      for (const p of g.params) {
        index.set(p, index.size);
        out.params.push(index.size - 1);
      }
      return out;
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const entry: Record<string, number | Tensor> = {};
      for (const [k, v] of Object.entries(st))
        entry[k] = typeof v === 'number' ? v : new Tensor(v.slice(), p.shape);
      state[i] = entry;
    }
    return { state, paramGroups };
  }

  /**
   * Restores a state dict from an optimizer built over parameters of the same shapes in the same groups;
   * training then continues exactly as if it had not been interrupted.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (!sd || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object') {
      throw new OptimizerStateError(`${name}.loadStateDict: not an optimizer state dict`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new OptimizerStateError(
        `${name}.loadStateDict: state dict has ${sd.paramGroups.length} parameter groups, optimizer has ${this.paramGroups.length}`,
      );
    }
    const params: Tensor[] = [];
    sd.paramGroups.forEach((g, gi) => {
      const mine = this.paramGroups[gi].params;
      if (g.params.length !== mine.length) {
        throw new OptimizerStateError(
          `${name}.loadStateDict: group ${gi} has ${g.params.length} parameters in the state dict, ${mine.length} in the optimizer`,
        );
      }
      g.params.forEach((idx, j) => {
        params[idx] = mine[j];
      });
    });
    const restored = new Map<Tensor, Record<string, StateValue>>();
    for (const [key, entry] of Object.entries(sd.state)) {
      const p = params[Number(key)];
      if (p === undefined)
        throw new OptimizerStateError(`${name}.loadStateDict: state for unknown parameter index ${key}`);
      const st: Record<string, StateValue> = {};
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v === 'number') st[k] = v;
        else {
          if (v.size !== p.size) {
            throw new OptimizerStateError(
              `${name}.loadStateDict: state '${k}' of parameter ${key} has shape ${fmtShape(v.shape)}, parameter has ${fmtShape(p.shape)}`,
            );
          }
          const a = this.newStateArray(p);
          a.set(v.data);
          st[k] = a;
        }
      }
      restored.set(p, st);
    }
    sd.paramGroups.forEach((g, gi) => {
      const target = this.paramGroups[gi] as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(g)) if (k !== 'params') target[k] = cloneOption(v);
    });
    this.state.clear();
    for (const [p, st] of restored) this.state.set(p, st);
  }
}
