import { copyStorage, isFloat, releaseStorage, type TypedArray } from './dtype.js';
import { AutogradError, DTypeError } from './errors.js';
import { _setCloneImpl, type GradNode, isGradEnabled, noGrad, Tensor } from './tensor.js';

/**
 * Attribute types of every primitive, by name. Op modules add their primitives by declaration merging
 * (`declare module '../runtime.js' { interface PrimitiveAttrs { myOp: MyAttrs } }`), and the op table in
 * `ops/table.ts` must then provide a rule for each name: the compiler checks that the table is complete.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in the op modules
export interface PrimitiveAttrs {}

/** Names of all primitives. */
export type Primitive = keyof PrimitiveAttrs;

/** Passed to a forward so it can save extra state (argmax indices, batch statistics, masks) for its vjp. */
export interface SaveContext {
  /** Stores `value` for the backward pass. */
  save(value: unknown): void;
  /**
   * Storage from `allocate` that only the saved state refers to (e.g. max pooling's argmax positions): handed
   * back to the storage pool when the graph node is released — after the backward that frees the graph, or at
   * once when the op is not recorded — so a training step does not allocate it afresh every time.
   */
  own(storage: TypedArray): void;
}

/** What a vector-Jacobian product rule receives besides the output gradient. */
export interface VjpContext<A> {
  /** The op's inputs. */
  readonly inputs: readonly Tensor[];
  /** The op's output (without autograd history). */
  readonly output: Tensor;
  /** The op's attributes. */
  readonly attrs: A;
  /** Whatever the forward saved (undefined if nothing). */
  readonly saved: unknown;
  /** Which inputs need a gradient (a rule may skip the others and return null). */
  readonly needsGrad: readonly boolean[];
}

/**
 * One primitive: its forward, and next to it its single gradient rule (a vector-Jacobian product).
 * `forward` runs with recording off and must not mutate its inputs. `vjp` returns one gradient per input,
 * with the input's shape, or null; it runs with recording off (no higher-order gradients).
 */
export interface PrimitiveRule<A> {
  /** Computes the output from the inputs. */
  forward(inputs: readonly Tensor[], attrs: A, ctx: SaveContext): Tensor;
  /** Gradient of the inputs given the gradient of the output. */
  vjp(grad: Tensor, ctx: VjpContext<A>): Array<Tensor | null>;
  /** Inputs (by index) that are never differentiated (indices, masks). */
  nonDifferentiable?: readonly number[];
}

/** A typed rule for primitive `P`. */
export type RuleOf<P extends Primitive> = PrimitiveRule<PrimitiveAttrs[P]>;

/** Depth of gradient rules running (ops they call may see inputs the user disposed after the forward). */
let inVjp = 0;

class OpNode<A> implements GradNode {
  freed = false;
  constructor(
    readonly name: string,
    public inputs: readonly Tensor[],
    private rule: PrimitiveRule<A> | null,
    private output: Tensor | null,
    private attrs: A,
    private saved: unknown,
    private needsGrad: boolean[],
    private owned: TypedArray[] | null,
  ) {}

  backward(grad: Tensor): Array<Tensor | null> {
    if (this.freed || this.rule === null || this.output === null) {
      throw new AutogradError(
        `backward: the graph through '${this.name}' was already freed by an earlier backward(); ` +
          'pass {retainGraph: true} to the first backward() to go through it twice',
      );
    }
    const rule = this.rule;
    const ctx: VjpContext<A> = {
      inputs: this.inputs,
      output: this.output,
      attrs: this.attrs,
      saved: this.saved,
      needsGrad: this.needsGrad,
    };
    inVjp++;
    try {
      return noGrad(() => rule.vjp(grad, ctx));
    } finally {
      inVjp--;
    }
  }

  release(): void {
    // Drop everything the node keeps alive (saved state, output, and the input tensors themselves), so a
    // loss tensor kept after backward() does not pin the whole graph's activations in memory.
    if (this.freed) return;
    this.freed = true;
    for (const t of this.inputs) t.unpinFromGraph();
    this.output?.unpinFromGraph();
    this.rule = null;
    this.output = null;
    this.saved = undefined;
    this.inputs = [];
    if (this.owned !== null) for (const a of this.owned) releaseStorage(a);
    this.owned = null;
  }
}

/**
 * Runs a primitive: computes its forward and, if gradients are being recorded and an input requires them,
 * links the output into the autograd graph. Integer outputs (casts to int32, custom ops returning indices)
 * are never recorded: only float tensors carry gradients.
 */
export function run<A>(name: string, rule: PrimitiveRule<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  for (let i = 0; i < inputs.length; i++) {
    if (!(inputs[i] instanceof Tensor)) {
      throw new DTypeError(`${name}: input ${i} must be a Tensor, got ${describe(inputs[i])}`);
    }
    // Gradient rules may read inputs the user disposed after the forward (their storage is kept, see dispose()).
    if (inVjp === 0) inputs[i].assertLive(`${name}: input ${i}`);
  }
  let saved: unknown;
  let owned: TypedArray[] | null = null;
  const ctx: SaveContext = {
    save(v) {
      saved = v;
    },
    own(a) {
      (owned ??= []).push(a);
    },
  };
  /** Hands the owned storage back when no node will hold it. */
  const unrecorded = <T>(t: T): T => {
    if (owned !== null) for (const a of owned) releaseStorage(a);
    return t;
  };
  let out = noGrad(() => rule.forward(inputs, attrs, ctx));
  if (!(out instanceof Tensor)) {
    throw new DTypeError(`${name}: forward must return a Tensor, got ${describe(out)}`);
  }
  // A forward may hand back one of its inputs (an identity custom op, a no-op reshape) or a tensor that
  // already has history; recording on it would turn a leaf into a non-leaf. Give the output its own object.
  if (out.gradFn !== null || out.requiresGrad || inputs.includes(out)) {
    out = new Tensor(copyStorage(out.storage), out.shape);
  }
  if (!isGradEnabled() || !isFloat(out.dtype)) return unrecorded(out);
  const nd = rule.nonDifferentiable;
  const needsGrad = inputs.map((t, i) => t.requiresGrad && !(nd?.includes(i) ?? false));
  if (!needsGrad.some(Boolean)) return unrecorded(out);
  for (const t of inputs) t.pinForGraph();
  const outputNoGrad = new Tensor(out.storage, out.shape);
  outputNoGrad.pinForGraph(); // shares out's storage
  const node = new OpNode(name, inputs, rule, outputNoGrad, attrs, saved, needsGrad, owned);
  out.gradFn = node;
  out.requiresGrad = true;
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Specification of a user-defined differentiable op, see {@link defineOp}. */
export interface CustomOpSpec<Args extends readonly Tensor[], S = unknown> {
  /** Name used in error messages and graph summaries. */
  name: string;
  /**
   * Computes the output. Runs with gradient recording off, so it may use any ops; call `save` to keep
   * values for backward.
   */
  forward(inputs: Args, save: (value: S) => void): Tensor;
  /**
   * Returns the gradient of each input (same shape as the input, or null) from the output gradient.
   * Runs with recording off.
   */
  backward(
    grad: Tensor,
    ctx: { inputs: Args; output: Tensor; saved: S; needsGrad: readonly boolean[] },
  ): Array<Tensor | null>;
}

/**
 * Defines a new differentiable op with its own gradient, the way researchers extend ecgnn (the sign
 * straight-through estimators are defined this way). The returned function records the op in the graph
 * exactly like a built-in primitive: `backward()`, gradient accumulation, `noGrad`, `retainGraph` and the
 * freed-graph error all apply.
 *
 * - `forward` receives the input tensors and runs with recording off, so it may use any ops; call
 *   `save(value)` to keep state for backward (the output itself is always available as `ctx.output`).
 * - `backward` receives the output gradient and returns one gradient per input, each with that input's
 *   shape and dtype, or null (for inputs that need none, see `ctx.needsGrad`). It runs with recording off
 *   (no higher-order gradients). A wrong count, shape or dtype raises an {@link AutogradError} or a
 *   ShapeError naming the op.
 * - Non-tensor parameters are closed over (make the op inside a factory function).
 * - Check the gradient with `gradcheck` from '@ecgnn/core' on float64 inputs.
 *
 * @example
 * // y = x², saving nothing (x is available as ctx.inputs[0])
 * const square = defineOp<[Tensor]>({
 *   name: 'square',
 *   forward: ([x]) => mul(x, x),
 *   backward: (g, { inputs: [x] }) => [mul(g, mul(x, 2))],
 * });
 * // a straight-through estimator: forward sign(x), backward passes g where |x| ≤ 1
 * const signSte = defineOp<[Tensor], Tensor>({
 *   name: 'signSte',
 *   forward: ([x], save) => { save(le(abs(x), 1)); return sub(mul(ge(x, 0), 2), 1); },
 *   backward: (g, { saved: mask }) => [mul(g, mask)],
 * });
 * gradcheck((x) => square(x), [randn([3], { dtype: 'float64' })]);
 */
export function defineOp<Args extends readonly Tensor[], S = unknown>(
  spec: CustomOpSpec<Args, S>,
): (...inputs: Args) => Tensor {
  if (typeof spec?.name !== 'string' || spec.name.length === 0) {
    throw new AutogradError('defineOp: spec.name must be a non-empty string');
  }
  if (typeof spec.forward !== 'function' || typeof spec.backward !== 'function') {
    throw new AutogradError(`defineOp: '${spec.name}' needs forward and backward functions`);
  }
  const rule: PrimitiveRule<undefined> = {
    forward: (inputs, _attrs, ctx) => spec.forward(inputs as unknown as Args, (v) => ctx.save(v)),
    vjp: (grad, ctx) => {
      const grads = spec.backward(grad, {
        inputs: ctx.inputs as unknown as Args,
        output: ctx.output,
        saved: ctx.saved as S,
        needsGrad: ctx.needsGrad,
      });
      if (!Array.isArray(grads) || grads.length !== ctx.inputs.length) {
        const got = Array.isArray(grads) ? `${grads.length} gradients` : describe(grads);
        throw new AutogradError(
          `${spec.name}: backward must return an array of ${ctx.inputs.length} gradients (one per input, or null), got ${got}`,
        );
      }
      return grads;
    },
  };
  return (...inputs: Args) => run(spec.name, rule, inputs, undefined);
}

const identityRule: PrimitiveRule<undefined> = {
  forward: ([x]) => new Tensor(copyStorage(x.storage), x.shape),
  vjp: (g) => [g],
};
_setCloneImpl((t) => run('clone', identityRule, [t], undefined));
