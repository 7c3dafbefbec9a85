/**
 * The runtime's public face: {@link loadModel} validates a model file and compiles it once; a {@link Model} runs
 * batches of windows through it, allocating nothing per call (only, optionally, its result array).
 *
 * One compiler (`program.ts`) builds two programs from the same entries (`fusion.ts`): the batch-1 program
 * (compiled at load; `metadata.plan`/`planKernels` describe it) and the batched program for batches of more than
 * one window (compiled on first use, for chunks of up to `batchCapacity` windows, default 32, chosen by
 * measurement). At batch 1 the copies at both ends are skipped where the program allows it (decided once): a step
 * that is the only reader of a graph input and has a direct variant reads the caller's array, and the step
 * producing the output writes the caller's array (`logits(x, out)`, `out` exactly `classes` long).
 */
import { ArgumentError, InputError, ShapeError } from '../errors.js';
import { type ModelFile, type ReadLimits, readModel } from '../format/reader.js';
import type { GraphInputSpec, InputSpec, ModelHeader, Preprocessing, Windowing } from '../format/types.js';
import type { ModelParts } from './context.js';
import { type Entry, planEntries } from './fusion.js';
import { type KernelChoice, TYPESCRIPT_CHOICE, wasmChoice } from './kernels.js';
import { type DirectStep, type PerBatch, prefix } from './ops/types.js';
import { type BufferPlan, compileProgram, type Program, planBuffers } from './program.js';
import { Weights } from './weights.js';

/** Public description of a loaded model (everything in the header except the tensor table). */
export interface ModelMetadata {
  name: string | undefined;
  /** The waveform window (the graph input with source `window`): channels, length, sampling rate. */
  input: InputSpec;
  /** The graph inputs, in order (see {@link Model.inputs}). */
  inputs: GraphInputSpec[];
  /** Names of the graph outputs; the first is what `logits`/`predict` return. */
  outputs: string[];
  classes: string[];
  outputActivation: ModelHeader['outputActivation'];
  preprocessing: Preprocessing;
  windowing: Windowing;
  provenance: Record<string, unknown>;
  /** Operators after load-time fusion, in execution order (for inspection). */
  plan: string[];
  /** Kernel set in use: `'wasm-simd'` (WebAssembly SIMD) or `'typescript'` (see {@link LoadOptions.kernels}). */
  kernels: 'wasm-simd' | 'typescript';
  /**
   * For each entry of {@link plan}: whether a WebAssembly kernel does its work (`'wasm-simd'`) or TypeScript
   * (elementwise ops, small dense layers, reshapes, and geometries the WebAssembly kernels refuse).
   */
  planKernels: ('wasm-simd' | 'typescript')[];
}

/**
 * The inputs of one `logits`/`predict` call: one Float32Array (models with one input) or one per input name, each
 * holding `batch × per-sample size` values (NCL for `[channels, length]` inputs).
 */
export type ModelInputs = Float32Array | Readonly<Record<string, Float32Array>>;

/** Expected shapes for {@link Model.predict}: `[batch, ...input shape]` (one input), or per input name. */
export type InputShapes = readonly number[] | Readonly<Record<string, readonly number[]>>;

/** How an entry of the plan runs in the batched program (see {@link Model.batchPlan}). */
export type BatchMode = 'batched-wasm' | 'batched' | 'per-window-wasm' | 'per-window' | 'alias';

/** A loaded, ready-to-run model. Create with {@link loadModel}. Not safe for concurrent use from two threads. */
export class Model {
  /** Header metadata: inputs, classes, preprocessing, provenance, plan … */
  readonly metadata: ModelMetadata;
  /** The graph inputs: name, per-sample shape and source (what `createClassifier` computes for each). */
  readonly inputs: readonly GraphInputSpec[];
  readonly #parts: ModelParts;
  readonly #entries: Entry[];
  readonly #bufferPlan: BufferPlan;
  /** The batch-1 program. */
  readonly #single: Program;
  /** Per step of the batch-1 program, its direct variant (or null). */
  readonly #directs: (DirectStep | null)[];
  /** Per graph input: the batch-1 step that reads the caller's array directly, or −1. */
  readonly #directIn: number[];
  /** The batch-1 step that may write the caller's output array, or −1. */
  readonly #directOut: number;
  /** Per batch-1 step, the caller's array it reads in this call (direct input), else null. */
  readonly #stepInput: (Float32Array | null)[];
  /** The batched program, compiled on first use; null until then. */
  private batched: Program | null = null;
  readonly #maxCapacity: number;
  readonly #checkFinite: boolean;
  /**
   * Per graph input: whether a step reading it (a sign packing) reports non-finite values, so that it is not
   * scanned before the run (the scan runs only when that step reports one, to name it).
   */
  readonly #checkedIn: boolean[];
  readonly #names: string[];
  /** Values per window of each input. */
  readonly #perSample: number[];
  /** This call's input arrays, in input order (filled by `resolve`). */
  readonly #arrays: Float32Array[];
  readonly #classes: number;
  /** Output activation scratch (probabilities of a chunk) and the views the activations take. */
  #probs: Float32Array;
  #emitViews: { src: PerBatch<Float32Array>; dst: PerBatch<Float32Array>; of: Program } | null = null;

  /** @internal Use {@link loadModel}. */
  constructor(file: ModelFile, choice: KernelChoice, batchCapacity: number, checkFinite: boolean) {
    const { header } = file;
    this.#parts = { file, weights: new Weights(file.tensors), choice };
    this.#maxCapacity = batchCapacity;
    this.#checkFinite = checkFinite;
    this.#entries = planEntries(this.#parts);
    this.#bufferPlan = planBuffers(this.#parts, this.#entries);
    this.#single = compileProgram(this.#parts, this.#entries, this.#bufferPlan, 1);
    this.inputs = header.graph.inputs.map(copyInput);
    this.#names = this.inputs.map((i) => i.name);
    this.#perSample = this.inputs.map((i) => i.shape.reduce((a, b) => a * b, 1));
    this.#arrays = this.inputs.map(() => new Float32Array(0));
    this.#classes = header.classes.length;
    this.#probs = new Float32Array(this.#classes);
    this.#directs = this.#single.stepEntry.map((k) => this.#single.bound[k]!.direct ?? null);
    this.#stepInput = this.#single.steps.map(() => null);
    // Direct I/O (see the file comment) and the inputs checked by a step, decided on the entries: `reads(e, v)`
    // counts the inputs of entry e (a step: not a reshape alias) that are value v or a reshape of it.
    const { rootOf } = this.#bufferPlan;
    const entries = this.#entries;
    const single = this.#single;
    const reads = (e: Entry, v: string) => (e.alias ? 0 : e.inputs.filter((i) => rootOf.get(i) === v).length);
    /** The batch-1 step of entry `k` if it has a direct variant, else −1. */
    const direct = (k: number) => {
      const s = single.stepEntry.indexOf(k);
      return s >= 0 && this.#directs[s] ? s : -1;
    };
    // An input read once in all, as a step's input 0, is read from the caller's array by that step.
    this.#directIn = this.inputs.map(({ name }) => {
      const k = entries.findIndex((e) => reads(e, name) > 0);
      const once = entries.reduce((n, e) => n + reads(e, name), 0) === 1;
      return once && rootOf.get(entries[k].inputs[0]) === name ? direct(k) : -1;
    });
    // The step producing the first output (only reshapes follow) writes the caller's array when no step reads it.
    const root = rootOf.get(header.graph.outputs[0])!;
    this.#directOut = entries.some((e) => reads(e, root) > 0)
      ? -1
      : direct(entries.findIndex((e) => !e.alias && e.output === root));
    this.#checkedIn = this.inputs.map(({ name }) =>
      entries.some((e, k) => single.bound[k]?.checksInput && rootOf.get(e.inputs[0]) === name),
    );
    this.metadata = {
      name: header.name,
      input: { ...header.input },
      inputs: this.inputs.map(copyInput),
      outputs: header.graph.outputs.slice(),
      classes: header.classes.slice(),
      outputActivation: header.outputActivation,
      preprocessing: { ...header.preprocessing },
      windowing: { ...header.windowing },
      provenance: header.provenance,
      plan: this.#entries.map((e) => e.label),
      kernels: choice.wasm ? 'wasm-simd' : 'typescript',
      planKernels: this.#single.bound.map((b) => (b?.wasm ? 'wasm-simd' : 'typescript')),
    };
  }

  /** Number of floats in one window of the waveform input (`header.input`: channels × length). */
  get windowSize(): number {
    return this.metadata.input.channels * this.metadata.input.length;
  }

  /**
   * Run the graph on a batch of windows and return the raw first graph output (logits), `[batch, classes]`.
   * `inputs`: see {@link ModelInputs}; the batch is inferred from the arrays and must agree across inputs.
   * `out` may be supplied to avoid allocating the result. Throws {@link ShapeError} on a wrong size or a missing
   * or unknown input, {@link InputError} on a NaN or ±∞ value (unless loaded with `checkFinite: false`).
   */
  logits(inputs: ModelInputs, out?: Float32Array): Float32Array {
    return this.#run(inputs, out, false);
  }

  /**
   * Probabilities for a batch of windows, `[batch, classes]`: the logits through the model's output activation
   * (softmax over classes, or elementwise sigmoid for multi-label models). `shape`, if given, is checked: for one
   * input `[batch, ...input shape]` (e.g. `[N, channels, length]`), or such a shape per input name.
   */
  predict(inputs: ModelInputs, shape?: InputShapes, out?: Float32Array): Float32Array {
    if (shape !== undefined) this.#checkShapes(inputs, shape);
    return this.#run(inputs, out, true);
  }

  #checkShapes(inputs: ModelInputs, shape: InputShapes): void {
    const batch = this.#resolve(inputs);
    const perInput = Array.isArray(shape) ? null : (shape as Readonly<Record<string, readonly number[]>>);
    if (!perInput && this.inputs.length !== 1)
      throw new ShapeError(
        `predict: this model has ${this.inputs.length} inputs: give one shape per input name`,
      );
    // Index loops: nothing is allocated when the shapes match.
    for (let k = 0; k < this.inputs.length; k++) {
      const inp = this.inputs[k];
      const s = perInput ? perInput[inp.name] : (shape as readonly number[]);
      let ok = s !== undefined && s.length === inp.shape.length + 1 && s[0] === batch;
      for (let d = 0; ok && d < inp.shape.length; d++) ok = s[d + 1] === inp.shape[d];
      if (!ok) {
        throw new ShapeError(
          `predict: shape [${s}] of input "${inp.name}" does not match its ${this.#arrays[k].length} values and model input [N, ${inp.shape}]`,
        );
      }
    }
  }

  /** Fills {@link arrays} with this call's arrays (in input order) and returns the batch. */
  #resolve(inputs: ModelInputs): number {
    const arrays = this.#arrays;
    if (inputs instanceof Float32Array) {
      if (this.#names.length !== 1) {
        throw new ShapeError(
          `this model has ${this.#names.length} inputs (${this.#names.join(', ')}): pass a Record<string, Float32Array>`,
        );
      }
      arrays[0] = inputs;
    } else {
      if (
        typeof inputs !== 'object' ||
        inputs === null ||
        ArrayBuffer.isView(inputs) ||
        Array.isArray(inputs)
      )
        throw new ShapeError('input must be a Float32Array or a Record<string, Float32Array>');
      for (const key in inputs) {
        if (!this.#names.includes(key))
          throw new ShapeError(`unknown input "${key}" (the model's inputs: ${this.#names.join(', ')})`);
      }
      for (let i = 0; i < this.#names.length; i++) {
        const a = inputs[this.#names[i]];
        if (a === undefined)
          throw new ShapeError(
            `input "${this.#names[i]}" is missing (the model's inputs: ${this.#names.join(', ')})`,
          );
        arrays[i] = a;
      }
    }
    let batch = 0;
    for (let i = 0; i < arrays.length; i++) {
      const a = arrays[i];
      const name = this.#names[i];
      if (!(a instanceof Float32Array)) throw new ShapeError(`input "${name}" must be a Float32Array`);
      const n = this.#perSample[i];
      if (a.length === 0 || a.length % n !== 0) {
        throw new ShapeError(
          `input "${name}" has ${a.length} values, not a positive multiple of its per-sample size ${n} ([${this.inputs[i].shape}])`,
        );
      }
      const b = a.length / n;
      if (i === 0) batch = b;
      else if (b !== batch) {
        throw new ShapeError(
          `input "${name}" holds ${b} windows but input "${this.#names[0]}" holds ${batch}: the batch must agree`,
        );
      }
    }
    return batch;
  }

  /**
   * With `checkFinite`, throws {@link InputError} at the first NaN or ±∞ of this call's arrays (`all`: of every
   * array; else of those no step checks, before the run).
   */
  #checkValues(all: boolean): void {
    if (!this.#checkFinite) return;
    const first = this.#parts.choice.kernels.firstNonFinite;
    for (let i = 0; i < this.#arrays.length; i++) {
      if (!all && this.#checkedIn[i]) continue;
      const a = this.#arrays[i];
      const j = first(a);
      if (j >= 0) {
        const n = this.#perSample[i];
        const w = Math.floor(j / n);
        throw new InputError(
          `input "${this.#names[i]}": window ${w}, value ${j - w * n} is ${a[j]} (inputs must be finite; see LoadOptions.checkFinite)`,
          this.#names[i],
          w,
          j - w * n,
        );
      }
    }
  }

  #run(inputs: ModelInputs, out: Float32Array | undefined, activate: boolean): Float32Array {
    const batch = this.#resolve(inputs);
    this.#checkValues(false);
    const M = this.#classes;
    const result = out ?? new Float32Array(batch * M);
    if (!(result instanceof Float32Array)) throw new ShapeError('output buffer must be a Float32Array');
    if (result.length < batch * M)
      throw new ShapeError(`output buffer has ${result.length} values, need ${batch * M}`);
    const act = activate ? this.metadata.outputActivation : 'none';
    if (batch === 1) return this.#runSingle(result, act);
    // Without a batched program the windows run one at a time through the batch-1 program (chunks of 1).
    const prog = this.#batchedProgram(batch) ?? this.#single;
    const arrays = this.#arrays;
    for (let b0 = 0; b0 < batch; b0 += prog.batch) {
      const nb = Math.min(prog.batch, batch - b0);
      // Index loops rather than subarray views: nothing is allocated per chunk.
      for (let i = 0; i < arrays.length; i++) {
        const src = arrays[i];
        const dst = prog.inputs[i];
        for (let j = 0, k = b0 * this.#perSample[i], e = nb * this.#perSample[i]; j < e; j++, k++)
          dst[j] = src[k];
      }
      let finite = true;
      for (let s = 0; s < prog.steps.length; s++) if (prog.steps[s](nb) === false) finite = false;
      if (!finite) this.#checkValues(true);
      this.#emit(prog, nb, act, result, b0 * M);
    }
    return result;
  }

  /** Batch 1, with direct input and output where the program allows it (see the file comment). */
  #runSingle(result: Float32Array, act: ModelHeader['outputActivation']): Float32Array {
    const prog = this.#single;
    const arrays = this.#arrays;
    // Arrays sharing memory with the result take the copying path (the caller's input is never written).
    let shared = false;
    for (let i = 0; i < arrays.length; i++) if (arrays[i].buffer === result.buffer) shared = true;
    const stepInput = this.#stepInput;
    for (let i = 0; i < arrays.length; i++) {
      const s = shared ? -1 : this.#directIn[i];
      if (s >= 0) stepInput[s] = arrays[i];
      else prog.inputs[i].set(arrays[i]);
    }
    const dOut = !shared && act === 'none' && result.length === this.#classes ? this.#directOut : -1;
    const steps = prog.steps;
    const directs = this.#directs;
    let finite = true;
    for (let s = 0; s < steps.length; s++) {
      const x = stepInput[s];
      const r = x !== null || s === dOut ? directs[s]!(x, s === dOut ? result : null) : steps[s](1);
      if (r === false) finite = false;
    }
    for (let i = 0; i < arrays.length; i++) if (this.#directIn[i] >= 0) stepInput[this.#directIn[i]] = null;
    if (!finite) this.#checkValues(true);
    if (dOut < 0) this.#emit(prog, 1, act, result, 0);
    return result;
  }

  /** Writes the first `nb` windows' outputs of `prog` through the output activation to `dst[at…]`. */
  #emit(
    prog: Program,
    nb: number,
    act: ModelHeader['outputActivation'],
    dst: Float32Array,
    at: number,
  ): void {
    const M = this.#classes;
    const n = nb * M;
    let src = prog.output;
    if (act === 'softmax') {
      this.#parts.choice.kernels.softmax(src, this.#probs, nb, M, 1, false);
      src = this.#probs;
    } else if (act === 'sigmoid') {
      let v = this.#emitViews;
      if (v === null || v.of !== prog) {
        v = { src: prefix(prog.output, M), dst: prefix(this.#probs, M), of: prog };
        this.#emitViews = v;
      }
      this.#parts.choice.kernels.activation('sigmoid', v.src.get(nb), v.dst.get(nb));
      src = this.#probs;
    }
    for (let i = 0; i < n; i++) dst[at + i] = src[i];
  }

  /**
   * The batched program for a batch of `batch` windows, or null to run the windows one at a time. Capacity =
   * `batch` rounded up to a power of two, at most {@link LoadOptions.batchCapacity} and at most what keeps the
   * value buffers within {@link BATCH_MEMORY_BYTES}; compiled on first use and recompiled (larger) only when a
   * later batch needs more.
   */
  #batchedProgram(batch: number): Program | null {
    if (this.#maxCapacity < 2) return null;
    const limit = Math.min(
      this.#maxCapacity,
      Math.floor(BATCH_MEMORY_BYTES / Math.max(1, this.#bufferPlan.bytesPerWindow)),
    );
    if (limit < 2) return null;
    let cap = 2;
    while (cap < batch && cap < limit) cap *= 2;
    cap = Math.min(cap, limit);
    const p = this.batched;
    if (p && p.batch >= cap) return p;
    this.batched = compileProgram(this.#parts, this.#entries, this.#bufferPlan, cap);
    if (this.#probs.length < cap * this.#classes) this.#probs = new Float32Array(cap * this.#classes);
    this.#emitViews = null;
    return this.batched;
  }

  /**
   * @internal For tests and inspection: how each entry of {@link ModelMetadata.plan} runs in the batched program
   * for a batch of `batch` windows (compiling it if needed), and that program's chunk capacity and buffer bytes;
   * null when such a batch runs its windows one at a time (`batchCapacity: 1`, or not two windows fit the memory
   * bound).
   */
  batchPlan(batch = this.#maxCapacity): { capacity: number; modes: BatchMode[]; bytes: number } | null {
    const p = this.#batchedProgram(Math.max(2, batch));
    if (!p) return null;
    const modes = p.bound.map((b): BatchMode => {
      if (!b) return 'alias';
      if (b.perWindow) return b.wasm ? 'per-window-wasm' : 'per-window';
      return b.wasm ? 'batched-wasm' : 'batched';
    });
    return { capacity: p.batch, modes, bytes: p.bytes };
  }
}

function copyInput(i: GraphInputSpec): GraphInputSpec {
  const source =
    i.source.kind === 'rr' ? { ...i.source, features: i.source.features.slice() } : { ...i.source };
  return { name: i.name, shape: i.shape.slice(), source };
}

/** Options of {@link loadModel}. */
export interface LoadOptions extends ReadLimits {
  /**
   * Kernel set: `'auto'` (default) uses WebAssembly SIMD when this engine supports it, else TypeScript;
   * `'wasm'` requires WebAssembly SIMD (throws {@link ArgumentError} if unavailable); `'typescript'` never
   * uses WebAssembly. `model.metadata.kernels` tells which set was chosen. Binary outputs are bit-identical
   * either way; float outputs agree to float32 rounding (different summation order).
   */
  kernels?: 'auto' | 'wasm' | 'typescript';
  /**
   * Most windows per chunk when a batch of more than one window is run (default 32): batches run through a
   * batched program whose value buffers hold this many windows (see docs/infer.md, "Batches"), fewer if they
   * would exceed 64 MiB. `1` disables it (windows then run one at a time).
   */
  batchCapacity?: number;
  /**
   * Check every input value of `logits`/`predict` and throw {@link InputError} (naming the input, window and value
   * index) at the first NaN or ±∞ (default `true`). An input read by a sign packing (a model starting with `sign`)
   * is checked by that kernel as it packs, the others by a scan before the run; so the error may come after the
   * run, with `out` written. `false` skips the check: non-finite values then propagate as the kernels make them
   * (NaN through float layers, +1 bits after `sign`).
   */
  checkFinite?: boolean;
}

/**
 * Default of {@link LoadOptions.batchCapacity}. Chosen by measurement (docs/infer.md): large enough that each
 * kernel call covers many windows, small enough that a chunk's activations stay near the CPU caches.
 */
const DEFAULT_BATCH_CAPACITY = 32;
/** Upper limit of {@link LoadOptions.batchCapacity}. */
const MAX_BATCH_CAPACITY = 4096;
/**
 * Most bytes of value buffers the batched program may take: models with large activations get a smaller chunk
 * capacity (and run windows one at a time when not even two windows fit).
 */
const BATCH_MEMORY_BYTES = 64 * 1024 * 1024;

/**
 * Load a model from the bytes of a model file (see docs/model-format.md; versions 1 and 2). Validates the whole
 * file first and throws {@link ModelFormatError} on anything malformed. Works the same in Node and browsers.
 * Picks the kernel set once (see {@link LoadOptions.kernels}).
 */
export function loadModel(bytes: Uint8Array | ArrayBuffer, options: LoadOptions = {}): Model {
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new ArgumentError('loadModel: bytes must be a Uint8Array or ArrayBuffer');
  }
  const mode = options.kernels ?? 'auto';
  if (mode !== 'auto' && mode !== 'wasm' && mode !== 'typescript') {
    throw new ArgumentError(`loadModel: kernels must be 'auto', 'wasm' or 'typescript', got ${String(mode)}`);
  }
  const capacity = options.batchCapacity ?? DEFAULT_BATCH_CAPACITY;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_BATCH_CAPACITY) {
    throw new ArgumentError(
      `loadModel: batchCapacity must be an integer in [1, ${MAX_BATCH_CAPACITY}], got ${String(capacity)}`,
    );
  }
  const checkFinite = options.checkFinite ?? true;
  if (typeof checkFinite !== 'boolean') throw new ArgumentError('loadModel: checkFinite must be a boolean');
  const file = readModel(bytes, options);
  const wasm = mode === 'typescript' ? null : wasmChoice();
  if (mode === 'wasm' && !wasm) {
    throw new ArgumentError("loadModel: kernels 'wasm' requested, but this engine has no WebAssembly SIMD");
  }
  return new Model(file, wasm ?? TYPESCRIPT_CHOICE, capacity, checkFinite);
}
