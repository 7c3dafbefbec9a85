/**
 * The op table's shared types: what a graph op declares (its arity, its shape check, its binding to kernels)
 * and what the compiler hands it. One entry per op name (see `./index.ts`); the graph checker
 * (`graph/validate.ts`) runs each entry's `check`, the compiler (`../program.ts`) its `bind`.
 *
 * Layout per sample is `[channels, length]` (NCL without N) or `[features]`; a bound step works on buffers that
 * hold `batch` windows back to back (window b of a `[C, L]` value is `buf[b·C·L … (b+1)·C·L)`), so NCL kernels
 * cover the windows of a chunk in one call with `batch: nb`.
 */
import {
  type activation,
  conv1dOutputLength,
  type Kernels,
  type Padding1d,
  resolvePadding1d,
  wordsForChannels,
} from '@ecgnn/kernels';
import { ModelFormatError } from '../../errors.js';
import type { NodeSpec, TensorEntry } from '../../format/types.js';

/** Shape and kind of a value flowing through the graph (per sample). */
export interface ValueInfo {
  /** `float`: Float32 values; `bits`: ±1 values packed along channels (time-major `[L][W]` words). */
  kind: 'float' | 'bits';
  /** `[channels, length]` or `[features]`. */
  shape: number[];
}

/** Normalised padding/stride attributes of a 1-D sliding-window op. */
export interface WindowAttrs {
  kernelSize: number;
  stride: number;
  dilation: number;
  padLeft: number;
  padRight: number;
}

/** Normalised attributes of every op (only the fields an op uses are set). */
export interface NormalizedAttrs {
  window?: WindowAttrs;
  groups?: number;
  padValue?: number;
  eps?: number;
  negativeSlope?: number;
  causal?: boolean;
  concat?: boolean;
  /** binaryConv1d: optional max pooling applied to the integer dot before the output. */
  pool?: { kernelSize: number; stride: number };
}

/** Result of checking one node. */
export interface InferredNode {
  output: ValueInfo;
  attrs: NormalizedAttrs;
}

/**
 * The shape a tensor must have: sizes, and names (strings) of dimensions of any size, which name the dimension
 * in the error message (e.g. `['outC', 64, 'K']`).
 */
export type Dims = readonly (number | string)[];

/**
 * The dtype a tensor must have: `float` (float32, float16, int8, or ±1 `bits`: anything decoded to float32),
 * `bits` (packed along axis 1: the binary kernels read the words), `int32`.
 */
export type TensorKind = 'float' | 'bits' | 'int32';

/** Largest activation (elements per sample) a graph may declare. */
export const MAX_ACTIVATION_ELEMENTS = 1 << 24;

/** Checks one node's attributes and tensors; every failure is a {@link ModelFormatError} naming the node. */
export class NodeChecker {
  constructor(
    readonly node: NodeSpec,
    readonly index: number,
    readonly tensors: ReadonlyMap<string, TensorEntry>,
  ) {}

  fail(msg: string): never {
    throw new ModelFormatError(`graph node ${this.index} (${this.node.op}): ${msg}`);
  }

  /** Attribute `name` (`a.b`: field `b` of attribute `a`), or undefined. */
  attr(name: string): unknown {
    let v: unknown = this.node.attrs;
    for (const k of name.split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
    return v;
  }

  /** Integer attribute `name` in `[min, max]`, `def` when absent (required when `def` is undefined). */
  int(name: string, def: number | undefined, min: number, max = 1 << 24): number {
    const v = this.attr(name);
    if (v === undefined) return def ?? this.fail(`attribute ${name} is required`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`attribute ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
    return v;
  }

  num(name: string, def: number): number {
    const v = this.attr(name);
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`attribute ${name} must be a finite number`);
    return v;
  }

  bool(name: string, def: boolean): boolean {
    const v = this.attr(name);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.fail(`attribute ${name} must be a boolean`);
    return v;
  }

  /**
   * The tensor of `role`, checked: its dtype against `kind` (unchecked when undefined) and its shape against
   * `dims`. Undefined when the node has none and it is not `required`.
   */
  tensor(role: string, required: true, dims: Dims, kind?: TensorKind): TensorEntry;
  tensor(role: string, required: boolean, dims: Dims, kind?: TensorKind): TensorEntry | undefined;
  tensor(role: string, required: boolean, dims: Dims, kind?: TensorKind): TensorEntry | undefined {
    const name = this.node.tensors?.[role];
    if (name === undefined) {
      if (required) this.fail(`missing tensor "${role}"`);
      return undefined;
    }
    const t = this.tensors.get(name);
    if (!t) this.fail(`tensor "${role}" refers to unknown tensor "${name}"`);
    const what = `tensor "${role}" (${name})`;
    if (
      kind === 'bits'
        ? t.dtype !== 'bits' || (t.packAxis ?? 1) !== 1
        : kind !== undefined && (t.dtype === 'int32') !== (kind === 'int32')
    ) {
      this.fail(
        `${what} has dtype ${t.dtype}, expected ${kind === 'bits' ? 'bits packed along axis 1' : kind}`,
      );
    }
    if (t.shape.length !== dims.length || dims.some((d, i) => typeof d === 'number' && d !== t.shape[i])) {
      this.fail(`${what} has shape [${t.shape}], expected [${dims}]`);
    }
    return t;
  }

  /** Padding, stride and dilation of a sliding window of `kernelSize` over `inLength` samples of `channels`. */
  windowAttrs(kernelSize: number, allowDilation: boolean, inLength: number, channels: number): WindowAttrs {
    const stride = this.int('stride', this.node.op.endsWith('Pool1d') ? kernelSize : 1, 1);
    const dilation = allowDilation ? this.int('dilation', 1, 1) : 1;
    const span = dilation * (kernelSize - 1) + 1;
    const p = this.attr('padding');
    // [left, right], one integer for both sides, 'same' or 'valid': the one resolver of @ecgnn/kernels.
    let pads: [number, number] = [0, 0];
    try {
      if (p !== undefined) pads = resolvePadding1d(p as Padding1d, kernelSize, dilation, stride);
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
    }
    const [padLeft, padRight] = pads;
    if (padLeft > 1 << 20 || padRight > 1 << 20) this.fail(`padding [${pads}] is too large`);
    const padded = inLength + padLeft + padRight;
    if (padded < span)
      this.fail(`input length ${inLength} (padded ${padded}) is shorter than the window ${span}`);
    // Kernels copy the padded input into scratch: bound it like an activation.
    if (padded * channels > MAX_ACTIVATION_ELEMENTS)
      this.fail(`padded input of ${padded * channels} values is too large`);
    return { kernelSize, stride, dilation, padLeft, padRight };
  }
}

/** Output length of a sliding window over `inLength` samples (the one formula of `@ecgnn/kernels`). */
export function windowOutputLength(inLength: number, w: WindowAttrs): number {
  return conv1dOutputLength({ inLength, ...w });
}

// ---------------------------------------------------------------------------------------------------------
// Binding

/** Storage of one graph value: floats, or packed sign bits (`[L][W]` words per window). */
export type Buffer = Float32Array | Uint32Array;

/** A graph value and the buffer holding it (`batch` windows back to back). */
export interface Value {
  info: ValueInfo;
  buf: Buffer;
}

/** Elements (floats, or 32-bit words for packed bits) of one window of a value. */
export function size(info: ValueInfo): number {
  if (info.kind === 'bits')
    return (info.shape.length === 2 ? info.shape[1] : 1) * wordsForChannels(info.shape[0]);
  return info.shape.reduce((a, b) => a * b, 1);
}

/** The contract kernels the runtime calls (imported one by one, so a bundle takes only these). */
export type InferKernelName =
  | 'avgPool1d'
  | 'batchNormForward'
  | 'binary'
  | 'binaryDense'
  | 'cast'
  | 'conv1dForward'
  | 'firstNonFinite'
  | 'matmul'
  | 'maxPool1d'
  | 'prelu'
  | 'prepareBinaryConv1d'
  | 'reduce'
  | 'signPack'
  | 'softmax'
  | 'thresholdPack';

/**
 * The kernels of the runtime: a subset of the contract, and `activation` (the contract's `unary` for the four
 * activation ops the graphs use, on its own so that the bundle does not take every unary op).
 */
export type InferKernels = Pick<Kernels, InferKernelName> & { activation: typeof activation };

/**
 * A step run on other arrays than the ones it was bound to, at batch 1: `x` replaces its (float) input 0,
 * `out` its (float) output; null keeps the bound buffer. Same sizes and layouts as the bound buffers. Returns
 * as {@link Bound.run}.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: most steps return nothing; sign packings return their flag.
export type DirectStep = (x: Float32Array | null, out: Float32Array | null) => boolean | void;

/** A node bound to its buffers and kernels. */
export interface Bound {
  /**
   * Runs the first `nb` windows (1 ≤ nb ≤ the batch it was bound for). Allocates nothing. With
   * {@link checksInput}, returns false iff some value of input 0 was NaN or ±∞.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: most steps return nothing; sign packings return their flag.
  run(nb: number): boolean | void;
  /** The step reads all of input 0 and reports whether it was finite (a sign packing: see {@link run}). */
  checksInput?: boolean;
  /** Whether a WebAssembly kernel does the work (`metadata.planKernels`). */
  wasm: boolean;
  /** True when `run` loops over the windows (one kernel call per window) rather than one call per chunk. */
  perWindow?: boolean;
  /** The batch-1 variant on caller arrays (direct I/O), when the op has one. */
  direct?: DirectStep;
}

/** What the compiler gives an op's `bind`. */
export interface BindContext {
  node: NodeSpec;
  /** Index of the node in the graph (keys the derived-weight cache). */
  index: number;
  attrs: NormalizedAttrs;
  /** Input values, buffers holding `batch` windows. */
  ins: Value[];
  /** Output value, buffer holding `batch` windows. */
  out: Value;
  /** The kernels: the WebAssembly set's where it has one, else the reference kernels. */
  kernels: InferKernels;
  /** The reference kernels (TypeScript) only: ops that measured faster there pick them. */
  reference: InferKernels;
  /** Whether {@link kernels} holds WebAssembly kernels. */
  wasm: boolean;
  /** conv1d only: the following ReLU is fused into the store. */
  reluAfter: boolean;
  /** A tensor of the node by role, or undefined. */
  tensor(role: string): { entry: TensorEntry; data: Float32Array | Int32Array | Uint32Array } | undefined;
  /** A tensor of the node as float32 (packed ±1 bits unpacked, float16/int8 widened; decoded once), or null. */
  floats(role: string): Float32Array | null;
  /**
   * A value derived from the weights at load (transposed weights, scales …), made once per model and shared by the
   * batch-1 and batched programs.
   */
  derive<T>(purpose: string, make: () => T): T;
}

/** What {@link OpDef.monotone} says of a node. */
export interface MonotoneOp {
  /** Finite inputs give finite outputs. */
  finiteToFinite: boolean;
  /** A ±∞ input may give NaN. */
  nanFromInfinity: boolean;
}

/** One op of the graph. */
export interface OpDef {
  /** Number of inputs, or `'variadic'` (one or more). */
  arity: number | 'variadic';
  /** Kind every input must have: `float`, packed `bits`, or `any`. */
  input: ValueInfo['kind'] | 'any';
  /** Ranks (per sample) input 0 may have; any when absent. */
  rank?: readonly number[];
  /** Per-channel elementwise (same shape out): may sit in a binary epilogue folded into thresholds. */
  elementwise?: boolean;
  /**
   * Whether this node (with its weights) may sit in the epilogue of a float layer folded into float thresholds
   * (conventions.ts §7), whose search relies on monotonicity that evaluation cannot check: null when not; else
   * its float32 evaluation is, per channel, monotone (either direction) wherever it is not NaN and maps NaN to
   * NaN, `nanFromInfinity` when a ±∞ input may give NaN (0·∞: a zero PReLU slope), `finiteToFinite` when finite
   * inputs give finite outputs (no overflow to ±∞). Absent: never.
   */
  monotone?(ctx: BindContext): MonotoneOp | null;
  /** Changes no value and no layout: the output aliases input 0's buffer and there is no step. */
  reshape?: boolean;
  /**
   * Shape inference on inputs of the declared kind and rank (checked before): the output info and normalised
   * attributes, or a {@link ModelFormatError} via `c.fail`.
   */
  check(c: NodeChecker, inputs: ValueInfo[]): InferredNode;
  /** Binds the node to kernels for buffers holding `batch` windows (batch 1 and chunks alike). */
  bind(ctx: BindContext, batch: number): Bound;
}

// ---------------------------------------------------------------------------------------------------------
// Views made once at bind time (no allocation per call)

/** An array kernels read or write (buffers of values, scratch). */
type View = Float32Array | Uint32Array | Int32Array;

/** `count` views of `per` elements each, window b at `b·per`. */
export function windows<T extends View>(buf: T, per: number, count: number): T[] {
  const out: T[] = [];
  for (let b = 0; b < count; b++) out.push(buf.subarray(b * per, (b + 1) * per) as T);
  return out;
}

/** Per-`nb` values (views, shapes of kernels that take one), made on first use of each `nb` and kept. */
export class PerBatch<T> {
  private readonly made: (T | undefined)[] = [];
  constructor(private readonly make: (nb: number) => T) {}

  get(nb: number): T {
    let v = this.made[nb];
    if (v === undefined) {
      v = this.make(nb);
      this.made[nb] = v;
    }
    return v;
  }
}

/**
 * Prefix views `buf[0 … nb·per)` for kernels that take their length from the array (a chunk size seen before
 * allocates nothing).
 */
export function prefix<T extends View>(buf: T, per: number): PerBatch<T> {
  return new PerBatch((nb) => (nb * per === buf.length ? buf : (buf.subarray(0, nb * per) as T)));
}

/** `[C, L]` of a value (`[C]` vectors: L = 1). */
export function channelsLength(info: ValueInfo): [number, number] {
  return info.shape.length === 2 ? [info.shape[0], info.shape[1]] : [info.shape[0], 1];
}
