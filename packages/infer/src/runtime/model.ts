/**
 * Graph runtime: compiles a validated model file into a list of kernel calls bound to buffers allocated once,
 * so `predict` allocates nothing per sample (only, optionally, its result array).
 *
 * Two programs. The batch-1 program (built here, described by `metadata.plan`/`planKernels`) has one buffer per
 * value sized for one window and runs a single window. A batch of more than one window runs the batched program
 * (`batch.ts`), compiled lazily on the first such call for chunks of up to `batchCapacity` windows (default 32,
 * chosen by measurement): buffers of capacity × window size, recycled by liveness; float convs in one WebAssembly
 * call per chunk, dense layers as one matmul of the chunk's rows, elementwise ops and pools over the whole chunk
 * (max pooling in a branch-free WebAssembly kernel), other TypeScript ops in a loop over the chunk's windows, and
 * binary convolutions (fused or not) through their batch-1 step once per window. Each window's result equals what
 * it gives alone (bit for bit, except dense layers that run in WebAssembly only when batched: float32 rounding).
 * The constructor records each batch-1 step with its node range and buffers (`ProgramEntry`) for that compiler.
 *
 * Load-time fusion (exact, see docs/infer.md): a `binaryConv1d` (float output) followed by an optional unpadded
 * `maxPool1d`, a chain of per-channel elementwise ops (batchNorm, prelu, relu, …) and `sign`, where each
 * intermediate value feeds only the next node, becomes one kernel that keeps activations packed. The epilogue
 * is folded into integer thresholds by running its own kernels on every reachable integer dot (so the fused
 * path decides each bit exactly as the unfused float path would); if `sign ∘ epilogue` is not monotone on that
 * range for some channel, the nodes are left unfused. A `conv1d` whose only consumer is a `relu` runs with the
 * ReLU fused into its store.
 *
 * Kernels are chosen once, at load: the WebAssembly SIMD kernels of `../wasm` when the engine has them (default),
 * else the TypeScript kernels of `../kernels`. With WebAssembly, float conv1d (with fused bias + ReLU), larger
 * dense layers, and the integer dots of binary conv/dense run in WebAssembly; pooling, elementwise ops and the
 * binary epilogue (max pool on the dots, thresholds, repacking) stay in TypeScript. Geometries the WebAssembly
 * kernels refuse (e.g. whole windows of left padding) fall back to TypeScript per node.
 */

import { binarySample, sample as F, foldSignByEvaluation, type SignThresholds } from '@ecgnn/kernels';
import {
  type BinaryConv1dPlan,
  getWasmKernels,
  KernelArgumentError,
  type Kernels,
  type MatmulOptions,
} from '@ecgnn/kernels/wasm';
import { ArgumentError, ModelFormatError, ShapeError } from '../errors.js';
import { type LoadedTensor, type ModelFile, type ReadLimits, readModel } from '../format/reader.js';
import type { InputSpec, ModelHeader, NodeSpec, Preprocessing, Windowing } from '../format/types.js';
import { ELEMENTWISE_OPS, type NormalizedAttrs, type ValueInfo } from '../graph/ops.js';
import {
  type BatchMode,
  type BatchProgram,
  type BufferPlan,
  compileBatch,
  type ProgramEntry,
  planBuffers,
} from './batch.js';
import { convParamsOf, denseForMatmul, floatData, type Step, size, type Value } from './values.js';

/** Public description of a loaded model (everything in the header except the tensor table). */
export interface ModelMetadata {
  name: string | undefined;
  input: InputSpec;
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
   * For each entry of {@link plan}: whether it runs a WebAssembly kernel (`'wasm-simd'`) or TypeScript only
   * (elementwise ops, pooling, small dense layers, and geometries the WebAssembly kernels refuse).
   */
  planKernels: ('wasm-simd' | 'typescript')[];
}

/** Ops that only reinterpret their input (same values, same order): their output aliases the input buffer. */
const RESHAPE_OPS = new Set(['identity', 'dropout', 'flatten']);

/** A loaded, ready-to-run model. Create with {@link loadModel}. Not safe for concurrent use from two threads. */
export class Model {
  /** Header metadata: classes, input window, preprocessing, provenance, … */
  readonly metadata: ModelMetadata;
  private readonly steps: Step[] = [];
  /** Per step, its variant on caller-supplied arrays (see {@link DirectStep}), or null. */
  private readonly directs: (DirectStep | null)[] = [];
  /** Batch 1: the first step may read the caller's input array in place of {@link input}. */
  private readonly directIn: boolean;
  /** Batch 1: index of the step that may write the caller's output array (only no-op steps follow), or −1. */
  private readonly directOut: number;
  private readonly input: Float32Array;
  private readonly output: Float32Array;
  private readonly inputSize: number;
  private readonly classes: number;
  /** Output activation scratch (one window's probabilities). */
  private readonly probs: Float32Array;
  /** The loaded file, kernels and batch-1 program entries, kept to compile the batched program on demand. */
  private readonly file: ModelFile;
  private readonly wasm: Kernels | null;
  private readonly entries: ProgramEntry[] = [];
  /** Most windows per chunk of the batched program ({@link LoadOptions.batchCapacity}). */
  private readonly maxCapacity: number;
  /** The batched program (batches of more than one window), compiled on first use; null until then. */
  private batchProgram: BatchProgram | null = null;
  /** Buffer assignment of the batched program (the same for every capacity), computed on first use. */
  private bufferPlan: BufferPlan | null = null;

  /** @internal Use {@link loadModel}. `wasm` is the WebAssembly kernel set, or null for TypeScript only. */
  constructor(file: ModelFile, wasm: Kernels | null = null, batchCapacity = DEFAULT_BATCH_CAPACITY) {
    const { header, graph } = file;
    this.file = file;
    this.wasm = wasm;
    this.maxCapacity = batchCapacity;
    const values = new Map<string, Value>();
    const get = (name: string): Value => values.get(name)!;
    const inputInfo = graph.values.get(header.graph.input)!;
    this.input = new Float32Array(size(inputInfo));
    values.set(header.graph.input, { info: inputInfo, buf: this.input });
    const consumers = new Map<string, number>();
    for (const n of header.graph.nodes)
      for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
    consumers.set(header.graph.output, (consumers.get(header.graph.output) ?? 0) + 1);
    const plan: string[] = [];
    const planKernels: ('wasm-simd' | 'typescript')[] = [];
    const nodes = header.graph.nodes;
    for (let i = 0; i < nodes.length; i++) {
      const fused = this.tryFuseBinary(file, i, values, consumers, plan, planKernels, wasm);
      if (fused > 0) {
        const last = nodes[i + fused - 1];
        this.entries.push({
          first: i,
          last: i + fused - 1,
          fusedBinary: true,
          relu: false,
          step: this.steps[this.steps.length - 1],
          inputs: [nodes[i].inputs[0]],
          output: last.outputs[0],
          ins: [get(nodes[i].inputs[0])],
          out: get(last.outputs[0]),
        });
        i += fused - 1;
        continue;
      }
      const node = nodes[i];
      const info = graph.nodes[i].output;
      // identity / dropout / flatten change no value (NCL data is contiguous): the output shares the input's
      // buffer and the step does nothing. Safe because every buffer of this program is written only by the
      // step producing its value.
      const src = values.get(node.inputs[0]);
      const alias =
        RESHAPE_OPS.has(node.op) &&
        src !== undefined &&
        src.info.kind === info.kind &&
        src.buf.length === size(info);
      const out: Value = {
        info,
        buf: alias
          ? src.buf
          : info.kind === 'bits'
            ? new Uint32Array(size(info))
            : new Float32Array(size(info)),
      };
      values.set(node.outputs[0], out);
      // conv1d → relu, the conv output used by the relu only: ReLU fused into the conv's store.
      const next = nodes[i + 1];
      const reluAfter =
        node.op === 'conv1d' &&
        next !== undefined &&
        next.op === 'relu' &&
        next.inputs.length === 1 &&
        next.inputs[0] === node.outputs[0] &&
        consumers.get(node.outputs[0]) === 1;
      const ctx: CompileContext = { wasm, relu: reluAfter, usedWasm: false };
      const ins = node.inputs.map(get);
      const step = compileNode(node, graph.nodes[i].attrs, ins, out, file.tensors, ctx);
      this.steps.push(step);
      // A reshape aliasing its input is a no-op step: nothing to run on other arrays.
      this.directs.push(alias ? null : (ctx.direct ?? null));
      planKernels.push(ctx.usedWasm ? 'wasm-simd' : 'typescript');
      this.entries.push({
        first: i,
        last: reluAfter ? i + 1 : i,
        fusedBinary: false,
        relu: reluAfter,
        step,
        inputs: node.inputs.slice(),
        output: reluAfter ? next.outputs[0] : node.outputs[0],
        ins,
        out,
      });
      if (reluAfter) {
        values.set(next.outputs[0], { info: graph.nodes[i + 1].output, buf: out.buf });
        plan.push('conv1d+relu');
        i++;
      } else plan.push(node.op);
    }
    const outBuf = get(header.graph.output).buf as Float32Array;
    // Exactly `classes` values (a view made once if the buffer were longer), so `run` can copy it with `set`.
    this.output =
      outBuf.length === header.classes.length ? outBuf : outBuf.subarray(0, header.classes.length);
    this.inputSize = this.input.length;
    this.classes = header.classes.length;
    ({ directIn: this.directIn, directOut: this.directOut } = this.directIO(outBuf));
    this.probs = new Float32Array(this.classes);
    this.metadata = {
      name: header.name,
      input: { ...header.input },
      classes: header.classes.slice(),
      outputActivation: header.outputActivation,
      preprocessing: { ...header.preprocessing },
      windowing: { ...header.windowing },
      provenance: header.provenance,
      plan,
      kernels: wasm ? 'wasm-simd' : 'typescript',
      planKernels,
    };
  }

  /**
   * Which steps may run on the caller's arrays at batch 1 (checked once, at load):
   * - `directIn`: the first step has a direct variant, reads only the graph input, and no other step reads the
   *   input buffer (directly or through a reshape alias);
   * - `directOut`: the last step writing the graph output buffer has a direct variant, every later step is a
   *   no-op reshape alias of it, no step reads that buffer, and it holds exactly `classes` floats.
   */
  private directIO(outBuf: Float32Array): { directIn: boolean; directOut: number } {
    const entries = this.entries;
    const n = entries.length;
    const input = this.input;
    const directIn =
      n > 0 &&
      this.directs[0] !== null &&
      entries[0].ins.length === 1 &&
      entries[0].ins[0].buf === input &&
      entries.every((e, k) => k === 0 || e.ins.every((v) => v.buf !== input));
    let k = n - 1;
    while (
      k >= 0 &&
      this.directs[k] === null &&
      entries[k].out.buf === outBuf &&
      entries[k].ins[0]?.buf === outBuf
    )
      k--; // trailing reshape aliases of the output
    const directOut =
      k >= 0 &&
      this.directs[k] !== null &&
      entries[k].out.buf === outBuf &&
      entries[k].out.info.kind === 'float' &&
      outBuf.length === this.file.header.classes.length &&
      entries.every((e, j) => j > k || e.ins.every((v) => v.buf !== outBuf))
        ? k
        : -1;
    return { directIn, directOut };
  }

  /**
   * Fusions of binary layers starting at node i; returns the number of nodes consumed (0: none).
   * - Output side: `binaryConv1d → [maxPool1d] → elementwise* → sign`, the elementwise chain and the sign folded
   *   into integer thresholds (evaluated exhaustively over the reachable dots), the result packed bits.
   * - Input side, with WebAssembly kernels only: `sign → binaryConv1d` where the packed value feeds only the conv.
   *   The float input is sign-packed inside the kernel's memory (`BinaryConv1dPlan.runFloat`), so the packed
   *   words are not copied out and back in, and one step replaces two. The output side may follow.
   */
  private tryFuseBinary(
    file: ModelFile,
    i: number,
    values: Map<string, Value>,
    consumers: Map<string, number>,
    plan: string[],
    planKernels: ('wasm-simd' | 'typescript')[],
    wasm: Kernels | null,
  ): number {
    const nodes = file.header.graph.nodes;
    let convAt = i;
    let floatIn: Value | null = null;
    if (nodes[i].op === 'sign') {
      const next = nodes[i + 1];
      const packed = nodes[i].outputs[0];
      if (
        !wasm ||
        next === undefined ||
        next.op !== 'binaryConv1d' ||
        next.inputs[0] !== packed ||
        consumers.get(packed) !== 1
      )
        return 0;
      convAt = i + 1;
      floatIn = values.get(nodes[i].inputs[0])!;
    }
    const conv = nodes[convAt];
    if (conv.op !== 'binaryConv1d') return 0;
    const convAttrs = file.graph.nodes[convAt].attrs;
    const w = file.tensors.get(conv.tensors!.weight)!;
    const chain = binaryOutputChain(file, convAt, consumers, w);
    if (!chain && !floatIn) return 0;
    // Without an output chain the conv keeps its own epilogue (pool attribute, thresholds stored in the file).
    const pool = chain ? chain.pool : (convAttrs.pool ?? null);
    const folded = chain ? chain.folded : storedThresholds(conv, file.tensors);
    const lastAt = chain ? chain.signAt : convAt;
    const info = file.graph.nodes[lastAt].output;
    const out: Value = {
      info,
      buf: info.kind === 'bits' ? new Uint32Array(size(info)) : new Float32Array(size(info)),
    };
    const ctx: CompileContext = { wasm, relu: false, usedWasm: false };
    let step: Step | null;
    if (floatIn) {
      const sign = file.graph.nodes[i].output;
      step = fusedSignBinaryConvStep(floatIn, sign, out, w, convAttrs, pool, folded, wasm!, ctx);
      if (!step) return 0; // the WebAssembly kernels refused the geometry: sign and conv run as two steps
    } else {
      const x = values.get(conv.inputs[0])!;
      step = binaryConvStep(x, out, w, convAttrs, pool, folded, ctx);
    }
    values.set(nodes[lastAt].outputs[0], out);
    this.steps.push(step);
    this.directs.push(ctx.direct ?? null);
    planKernels.push(ctx.usedWasm ? 'wasm-simd' : 'typescript');
    const ops = [
      ...(floatIn ? ['sign'] : []),
      'binaryConv1d',
      ...(chain
        ? [...(chain.pool ? ['maxPool1d'] : []), ...chain.epilogue.map((e) => nodes[e].op), 'sign']
        : []),
    ];
    plan.push(ops.join('+'));
    return lastAt - i + 1;
  }

  /** Number of floats in one input window: channels × length. */
  get windowSize(): number {
    return this.inputSize;
  }

  /**
   * Run the graph on a batch of windows and return raw graph outputs (logits), `[batch, classes]`.
   * `input` holds `batch` windows of `[channels, length]` back to back (NCL). `out` may be supplied to avoid
   * allocating the result.
   */
  logits(input: Float32Array, out?: Float32Array): Float32Array {
    return this.run(input, out, false);
  }

  /**
   * Probabilities for a batch of windows, `[batch, classes]`: the graph's logits through the model's output
   * activation (softmax over classes, or elementwise sigmoid for multi-label models).
   * `input`: Float32Array of `batch × channels × length` values (NCL); `shape`, if given, is checked.
   */
  predict(input: Float32Array, shape?: readonly number[], out?: Float32Array): Float32Array {
    if (shape !== undefined) {
      const { channels, length } = this.metadata.input;
      if (
        shape.length !== 3 ||
        shape[1] !== channels ||
        shape[2] !== length ||
        shape[0] * channels * length !== input.length
      ) {
        throw new ShapeError(
          `predict: shape [${shape}] does not match input length ${input.length} and model input [N, ${channels}, ${length}]`,
        );
      }
    }
    return this.run(input, out, true);
  }

  /** Writes one window's graph output (exactly `classes` values) through the output activation to `dst[at…]`. */
  private emit(y: Float32Array, act: ModelHeader['outputActivation'], dst: Float32Array, at: number): void {
    const M = this.classes;
    if (act === 'softmax') {
      F.softmax(y, M, 1, this.probs);
      dst.set(this.probs, at);
    } else if (act === 'sigmoid') {
      F.sigmoid(y, M, this.probs);
      dst.set(this.probs, at);
    } else dst.set(y, at);
  }

  private run(input: Float32Array, out: Float32Array | undefined, activate: boolean): Float32Array {
    if (!(input instanceof Float32Array)) throw new ShapeError('input must be a Float32Array');
    const n = this.inputSize;
    if (input.length === 0 || input.length % n !== 0) {
      throw new ShapeError(
        `input has ${input.length} values, not a positive multiple of the window size ${n} (channels × length)`,
      );
    }
    const batch = input.length / n;
    const M = this.classes;
    const result = out ?? new Float32Array(batch * M);
    if (result.length < batch * M)
      throw new ShapeError(`output buffer has ${result.length} values, need ${batch * M}`);
    const act = activate ? this.metadata.outputActivation : 'none';
    const prog = batch > 1 ? this.batched(batch) : null;
    if (prog) return this.runBatched(prog, input, batch, result, act);
    const x = this.input;
    if (batch === 1 && input.buffer !== result.buffer) {
      // The first step reads the caller's array and the last one writes the caller's output when they can
      // (no copy in or out, see `directIO`); arrays sharing memory take the copying path below.
      const dIn = this.directIn;
      const dOut = act === 'none' && this.directOut >= 0 && result.length === M ? this.directOut : -1;
      if (!dIn) x.set(input);
      const steps = this.steps;
      for (let s = 0; s < steps.length; s++) {
        const first = dIn && s === 0;
        if (first || s === dOut) this.directs[s]!(first ? input : null, s === dOut ? result : null);
        else steps[s]();
      }
      if (dOut < 0) this.emit(this.output, act, result, 0);
      return result;
    }
    // Index loops rather than subarray views: nothing is allocated per window.
    for (let b = 0; b < batch; b++) {
      if (batch === 1) x.set(input);
      else for (let i = 0, j = b * n; i < n; i++, j++) x[i] = input[j];
      for (let s = 0; s < this.steps.length; s++) this.steps[s]();
      this.emit(this.output, act, result, b * M);
    }
    return result;
  }

  /**
   * The batched program for a batch of `batch` windows, or null to run the windows one at a time. Capacity =
   * `batch` rounded up to a power of two, at most {@link maxCapacity} and at most what keeps the value buffers
   * within {@link BATCH_MEMORY_BYTES}; compiled on first use and recompiled (larger) only when a later batch
   * needs more.
   */
  private batched(batch: number): BatchProgram | null {
    if (this.maxCapacity < 2) return null;
    this.bufferPlan ??= planBuffers(this.file, this.entries);
    const limit = Math.min(
      this.maxCapacity,
      Math.floor(BATCH_MEMORY_BYTES / Math.max(1, this.bufferPlan.bytesPerWindow)),
    );
    if (limit < 2) return null;
    let cap = 2;
    while (cap < batch && cap < limit) cap *= 2;
    cap = Math.min(cap, limit);
    const p = this.batchProgram;
    if (p && p.capacity >= cap) return p;
    this.batchProgram = compileBatch(this.file, this.entries, this.bufferPlan, this.wasm, cap);
    return this.batchProgram;
  }

  /** `run` for batch > 1: the batched program over chunks of up to `capacity` windows. */
  private runBatched(
    prog: BatchProgram,
    input: Float32Array,
    batch: number,
    result: Float32Array,
    act: ModelHeader['outputActivation'] | 'none',
  ): Float32Array {
    const { capacity, input: x, outputs, steps } = prog;
    const n = this.inputSize;
    const M = this.classes;
    for (let b0 = 0; b0 < batch; b0 += capacity) {
      const nb = Math.min(capacity, batch - b0);
      // Index loops rather than subarray views: nothing is allocated per chunk.
      for (let i = 0, j = b0 * n, e = nb * n; i < e; i++, j++) x[i] = input[j];
      for (let s = 0; s < steps.length; s++) steps[s](nb);
      for (let b = 0; b < nb; b++) {
        this.emit(outputs[b], act, result, (b0 + b) * M);
      }
    }
    return result;
  }

  /**
   * @internal For tests and inspection: how each entry of {@link ModelMetadata.plan} runs in the batched program
   * for a batch of `batch` windows (compiling it if needed), and that program's chunk capacity and buffer bytes;
   * null when such a batch runs its windows one at a time (`batchCapacity: 1`, or not two windows fit the memory
   * bound).
   */
  batchPlan(batch = this.maxCapacity): { capacity: number; modes: BatchMode[]; bytes: number } | null {
    const p = this.batched(Math.max(2, batch));
    return p && { capacity: p.capacity, modes: p.modes.slice(), bytes: p.bytes };
  }
}

function binaryParams(
  x: ValueInfo,
  w: LoadedTensor,
  a: NormalizedAttrs,
  pool: binarySample.BinaryConv1dParams['pool'],
): binarySample.BinaryConv1dParams {
  const win = a.window!;
  return {
    inChannels: x.shape[0],
    inLength: x.shape[1],
    outChannels: w.entry.shape[0],
    kernelSize: win.kernelSize,
    stride: win.stride,
    dilation: win.dilation,
    padLeft: win.padLeft,
    padRight: win.padRight,
    padValue: a.padValue === 0 ? 0 : 1,
    pool,
  };
}

/** How {@link compileNode} binds a node: the WebAssembly kernels (or null) and whether a ReLU is fused. */
interface CompileContext {
  wasm: Kernels | null;
  relu: boolean;
  /** Set by the compiler when the bound step calls a WebAssembly kernel. */
  usedWasm: boolean;
  /** Set by the compiler when the step can also run on caller-supplied input / output arrays. */
  direct?: DirectStep;
}

/**
 * A step run on other arrays than the ones it was bound to: `x` replaces its (float) input buffer, `out` its
 * (float) output buffer; null keeps the bound one. Same sizes and layouts as the bound buffers.
 */
type DirectStep = (x: Float32Array | null, out: Float32Array | null) => void;

const TS_ONLY: CompileContext = { wasm: null, relu: false, usedWasm: false };

/**
 * Runs `step` once at load (on the freshly allocated buffers: it warms the WebAssembly kernel up, and
 * compiles any specialised kernel it needs) and reports whether the kernel accepted the geometry.
 */
function accepts(step: Step): boolean {
  try {
    step();
    return true;
  } catch (e) {
    if (e instanceof KernelArgumentError) return false;
    throw e;
  }
}

/** The output side of a binary layer after the conv at `convAt`: see `Model.tryFuseBinary`. */
interface BinaryOutputChain {
  pool: binarySample.BinaryConv1dParams['pool'];
  /** Indices of the elementwise nodes folded into the thresholds. */
  epilogue: number[];
  /** Index of the closing `sign` node. */
  signAt: number;
  folded: SignThresholds;
}

/**
 * `binaryConv1d → [maxPool1d] → elementwise* → sign` from node `convAt`, each value used by the next node only,
 * folded into integer thresholds; null when the chain is absent or cannot be folded.
 */
function binaryOutputChain(
  file: ModelFile,
  convAt: number,
  consumers: Map<string, number>,
  w: LoadedTensor,
): BinaryOutputChain | null {
  const nodes = file.header.graph.nodes;
  const conv = nodes[convAt];
  if (conv.tensors?.threshold !== undefined || file.graph.nodes[convAt].attrs.pool) return null;
  let j = convAt + 1;
  let prev = conv.outputs[0];
  const chainOk = (n: NodeSpec | undefined): n is NodeSpec =>
    n !== undefined && n.inputs.length === 1 && n.inputs[0] === prev && consumers.get(prev) === 1;
  let pool: binarySample.BinaryConv1dParams['pool'] = null;
  if (chainOk(nodes[j]) && nodes[j].op === 'maxPool1d') {
    const win = file.graph.nodes[j].attrs.window!;
    if (win.padLeft !== 0 || win.padRight !== 0) return null;
    pool = { kernelSize: win.kernelSize, stride: win.stride };
    prev = nodes[j].outputs[0];
    j++;
  }
  const epilogue: number[] = [];
  while (chainOk(nodes[j]) && ELEMENTWISE_OPS.has(nodes[j].op)) {
    epilogue.push(j);
    prev = nodes[j].outputs[0];
    j++;
  }
  if (!chainOk(nodes[j]) || nodes[j].op !== 'sign') return null;
  // Reachable integer dots: |y| <= inC·K.
  const [O, C, K] = w.entry.shape;
  const lo = -C * K;
  const hi = C * K;
  const span = hi - lo + 1;
  if (O * span > 1 << 22) return null; // too large to evaluate exhaustively (16 MiB): leave unfused
  const evalBuf = new Float32Array(O * span);
  for (let o = 0; o < O; o++) for (let s = 0; s < span; s++) evalBuf[o * span + s] = lo + s;
  const evalInfo: ValueInfo = { kind: 'float', shape: [O, span] };
  for (const e of epilogue) {
    const v: Value = { info: evalInfo, buf: evalBuf };
    compileNode(nodes[e], file.graph.nodes[e].attrs, [v], v, file.tensors, TS_ONLY)();
  }
  const folded = foldSignByEvaluation(evalBuf, O, lo, hi);
  return folded ? { pool, epilogue, signAt: j, folded } : null;
}

/** Sign thresholds stored with a `binaryConv1d` node (batchnorm + sign folded at export), or null. */
function storedThresholds(node: NodeSpec, tensors: Map<string, LoadedTensor>): SignThresholds | null {
  const thr = node.tensors?.threshold;
  if (thr === undefined) return null;
  const direction = floatData(tensors.get(node.tensors!.direction!))!;
  return {
    threshold: tensors.get(thr)!.data as Int32Array,
    direction: Int8Array.from(direction, (v) => (v < 0 ? -1 : 1)),
  };
}

/**
 * `sign → binaryConv1d` as one WebAssembly step (`runFloat`: the float input sign-packed in the kernel's memory),
 * or null when the WebAssembly kernels refuse the geometry. `packed` describes the sign's output (`[L][W]` words).
 */
function fusedSignBinaryConvStep(
  xFloat: Value,
  packed: ValueInfo,
  out: Value,
  w: LoadedTensor,
  a: NormalizedAttrs,
  pool: binarySample.BinaryConv1dParams['pool'],
  folded: SignThresholds | null,
  wasm: Kernels,
  ctx: CompileContext,
): Step | null {
  const p = binaryParams(packed, w, a, pool);
  const plan = prepareWasmBinaryConv(wasm, p, w.data as Uint32Array, folded);
  if (!plan) return null;
  const xf = xFloat.buf as Float32Array;
  const ob = out.buf;
  const direct: DirectStep = (xi, oi) => plan.runFloat(xi ?? xf, oi ?? ob);
  const step = () => direct(null, null);
  if (!accepts(step)) return null;
  ctx.usedWasm = true;
  ctx.direct = direct;
  return step;
}

/**
 * Float dense layers with fewer multiply-adds than this run in TypeScript even with WebAssembly kernels: below
 * it the call and copies cost more than the arithmetic (measured on the development machine, output padded to
 * 16 columns: 64→5 0.44 µs TypeScript vs 0.49 µs WebAssembly, 64→16 1.7 vs 0.5 µs, 64→64 7.4 vs 1.0 µs).
 */
const DENSE_WASM_MIN_MACS = 512;

function binaryConvStep(
  x: Value,
  out: Value,
  w: LoadedTensor,
  a: NormalizedAttrs,
  pool: binarySample.BinaryConv1dParams['pool'],
  folded: SignThresholds | null,
  ctx: CompileContext,
): Step {
  const { wasm } = ctx;
  const p = binaryParams(x.info, w, a, pool);
  if (wasm) {
    // The whole layer in WebAssembly: integer dots, max pool on the dots, then thresholds → packed bits or the
    // float copy (same integer arithmetic as the TypeScript kernels: bit-identical). Prepared once here.
    const plan = prepareWasmBinaryConv(wasm, p, w.data as Uint32Array, folded);
    if (plan) {
      const xb = x.buf as Uint32Array;
      const ob = out.buf;
      const step = () => plan.run(xb, ob);
      if (accepts(step)) {
        ctx.usedWasm = true;
        return step;
      }
    }
  }
  const sc = binarySample.binaryConvScratchSize(p);
  const words = new Uint32Array(sc.words);
  const ints = new Int32Array(sc.ints);
  const xb = x.buf as Uint32Array;
  const wb = w.data as Uint32Array;
  if (folded) {
    const ob = out.buf as Uint32Array;
    return () =>
      binarySample.binaryConv1dPacked(xb, wb, p, folded.threshold, folded.direction, ob, words, ints);
  }
  const ob = out.buf as Float32Array;
  return () => binarySample.binaryConv1d(xb, wb, p, ob, words, ints);
}

/**
 * The WebAssembly plan of a binary conv layer (`p` in the form of `kernels/binary.ts`, the optional pool and the
 * folded thresholds), or null when the WebAssembly kernels refuse the geometry (it then runs in TypeScript).
 */
function prepareWasmBinaryConv(
  wasm: Kernels,
  p: binarySample.BinaryConv1dParams,
  w: Uint32Array,
  folded: SignThresholds | null,
): BinaryConv1dPlan | null {
  const kp = {
    batch: 1,
    inChannels: p.inChannels,
    outChannels: p.outChannels,
    inLength: p.inLength,
    outLength: binarySample.binaryConvLength(p),
    kernelSize: p.kernelSize,
    stride: p.stride,
    dilation: p.dilation,
    padLeft: p.padLeft,
    padValue: p.padValue,
  };
  try {
    return wasm.prepareBinaryConv1d(w, kp, { pool: p.pool, thresholds: folded });
  } catch (e) {
    if (e instanceof KernelArgumentError) return null;
    throw e;
  }
}

/** Bind one node to its kernel. */
function compileNode(
  node: NodeSpec,
  a: NormalizedAttrs,
  ins: Value[],
  out: Value,
  tensors: Map<string, LoadedTensor>,
  ctx: CompileContext,
): Step {
  const { wasm } = ctx;
  const t = (role: string): LoadedTensor | undefined => {
    const name = node.tensors?.[role];
    return name === undefined ? undefined : tensors.get(name);
  };
  const fw = (role: string): Float32Array | null => floatData(t(role));
  const x = ins[0];
  const xf = x.buf as Float32Array;
  const of = out.buf as Float32Array;
  const [C, L] = x.info.shape.length === 2 ? x.info.shape : [x.info.shape[0], 1];
  const n = size(x.info);
  switch (node.op) {
    case 'conv1d': {
      const w = fw('weight')!;
      const p = convParamsOf(C, L, t('weight')!.entry.shape[0], a);
      const bias = fw('bias');
      const Lout = F.conv1dOutputLength(p);
      if (wasm && p.padLeft <= p.dilation * (p.kernelSize - 1)) {
        // NOTE: the WebAssembly conv takes the right padding implicitly from outLength.
        const kp = {
          batch: 1,
          inChannels: C,
          outChannels: p.outChannels,
          inLength: L,
          outLength: Lout,
          kernelSize: p.kernelSize,
          stride: p.stride,
          dilation: p.dilation,
          padLeft: p.padLeft,
          groups: p.groups,
          padValue: p.padValue,
          activation: ctx.relu ? ('relu' as const) : ('none' as const),
        };
        const direct: DirectStep = (xi, oi) => wasm.conv1dForward(xi ?? xf, w, bias, oi ?? of, kp);
        const step = () => direct(null, null);
        if (accepts(step)) {
          ctx.usedWasm = true;
          ctx.direct = direct;
          return step;
        }
      }
      const m = p.outChannels * Lout;
      const relu = ctx.relu;
      const direct: DirectStep = (xi, oi) => {
        const o = oi ?? of;
        F.conv1d(xi ?? xf, w, bias, p, o);
        if (relu) F.relu(o, m, o);
      };
      ctx.direct = direct;
      return () => direct(null, null);
    }
    case 'binaryConv1d': {
      return binaryConvStep(x, out, t('weight')!, a, a.pool ?? null, storedThresholds(node, tensors), ctx);
    }
    case 'batchNorm': {
      const { scale, shift } = F.batchNormScaleShift(
        fw('mean')!,
        fw('var')!,
        fw('weight'),
        fw('bias'),
        a.eps ?? 1e-5,
      );
      return () => F.channelAffine(xf, C, L, scale, shift, of);
    }
    case 'relu':
      return () => F.relu(xf, n, of);
    case 'prelu': {
      const w = fw('weight')!;
      return () => F.prelu(xf, C, L, w, of);
    }
    case 'leakyRelu': {
      const s = a.negativeSlope ?? 0.01;
      return () => F.leakyRelu(xf, n, s, of);
    }
    case 'sigmoid':
      return () => F.sigmoid(xf, n, of);
    case 'tanh':
      return () => F.tanh(xf, n, of);
    case 'identity':
    case 'dropout': {
      if (out.buf === x.buf) return () => {}; // aliased by the constructor
      // The source view is made once here (buffers are exactly `n` long; subarray only as a guard).
      const src = x.buf.length === n ? x.buf : x.buf.subarray(0, n);
      return () => (out.buf as Float32Array | Uint32Array).set(src as never);
    }
    case 'maxPool1d':
    case 'avgPool1d': {
      const win = a.window!;
      const k = node.op === 'maxPool1d' ? F.maxPool1d : F.avgPool1d;
      return () => k(xf, C, L, win.kernelSize, win.stride, win.padLeft, win.padRight, of);
    }
    case 'globalAvgPool1d':
      return () => F.globalAvgPool1d(xf, C, L, of);
    case 'globalMaxPool1d':
      return () => F.globalMaxPool1d(xf, C, L, of);
    case 'sumOverTime':
      return () => F.sumOverTime(xf, C, L, of);
    case 'flatten': {
      if (out.buf === x.buf) return () => {}; // aliased by the constructor
      const src = xf.length === n ? xf : xf.subarray(0, n);
      return () => of.set(src);
    }
    case 'linear': {
      const w = fw('weight')!;
      const b = fw('bias');
      const O = t('weight')!.entry.shape[0];
      if (wasm && n * O >= DENSE_WASM_MIN_MACS) {
        // y = x·Wᵀ + b: the weight transposed once here to [in, Op] (Op = O rounded up to the tile width, zero
        // columns), so the matmul reads it row-major; the bias is the initial value of an accumulating matmul.
        const { wt, bias: bp, Op } = denseForMatmul(w, b, O, n);
        const y = new Float32Array(Op);
        const head = y.subarray(0, O);
        const acc: MatmulOptions = { accumulate: true };
        const step = () => {
          y.set(bp);
          wasm.matmul(xf, wt, y, 1, 1, n, Op, false, false, acc);
          of.set(head);
        };
        if (accepts(step)) {
          ctx.usedWasm = true;
          return step;
        }
      }
      return () => F.linear(xf, w, b, n, O, of);
    }
    case 'binaryLinear': {
      const w = t('weight')!;
      const xb = x.buf as Uint32Array;
      const wb = w.data as Uint32Array;
      const [O, Fin] = w.entry.shape;
      // NOTE: TypeScript in both modes: the WebAssembly binaryDense re-interleaves the weights on every call and
      // measured slower at batch 1 (64→16: 0.07 vs 0.32 µs; 512→256: 9.9 vs 21 µs; 1024→512: 47 vs 72 µs).
      return () => binarySample.binaryLinear(xb, wb, Fin, O, of);
    }
    case 'add': {
      const yf = ins[1].buf as Float32Array;
      return () => F.add(xf, yf, n, of);
    }
    case 'concat': {
      const offsets: number[] = [];
      let off = 0;
      for (const v of ins) {
        offsets.push(off);
        off += size(v.info);
      }
      // Channel-axis concat of [C_i, L] arrays is a plain concatenation of their row-major data.
      return () => {
        for (let k = 0; k < ins.length; k++) of.set(ins[k].buf as Float32Array, offsets[k]);
      };
    }
    case 'squeezeExcitation': {
      const w1 = fw('w1')!;
      const w2 = fw('w2')!;
      const b1 = fw('b1');
      const b2 = fw('b2');
      const R = t('w1')!.entry.shape[0];
      const scratch = new Float32Array(2 * C + R);
      return () => F.squeezeExcitation(xf, C, L, w1, b1, w2, b2, R, of, scratch);
    }
    case 'attention': {
      const wq = fw('wq')!;
      const wk = fw('wk')!;
      const wv = fw('wv')!;
      const bq = fw('bq');
      const bk = fw('bk');
      const bv = fw('bv');
      const D = t('wq')!.entry.shape[0];
      const V = t('wv')!.entry.shape[0];
      const scratch = new Float32Array(F.attentionScratchSize(L, D, V));
      const causal = a.causal ?? false;
      const concat = a.concat ?? false;
      return () => F.attention(xf, C, L, wq, bq, wk, bk, wv, bv, D, V, causal, concat, of, scratch);
    }
    case 'softmax':
      return () => F.softmax(xf, C, L, of);
    case 'sign': {
      const ob = out.buf as Uint32Array;
      if (wasm) {
        // SIMD compare and shifts in WebAssembly (copy in, pack, copy the words out): 7 vs 78 µs for 64 × 1000.
        const sp = { batch: 1, channels: C, length: L };
        const direct: DirectStep = (xi) => wasm.signPack(xi ?? xf, ob, sp);
        const step = () => direct(null, null);
        if (accepts(step)) {
          ctx.usedWasm = true;
          ctx.direct = direct;
          return step;
        }
      }
      const direct: DirectStep = (xi) => binarySample.signPack(xi ?? xf, C, L, ob);
      ctx.direct = direct;
      return () => direct(null, null);
    }
    default:
      throw new ModelFormatError(`op ${node.op} has no kernel`);
  }
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
   * second, batched program whose value buffers hold this many windows (see docs/infer.md, "Batches"), fewer if
   * they would exceed 64 MiB. `1` disables it (windows then run one at a time).
   */
  batchCapacity?: number;
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

/** The WebAssembly kernel set shared by every model of this realm (calls are synchronous, so sharing is safe). */
let sharedWasm: Kernels | null | undefined;

function wasmKernels(): Kernels | null {
  if (sharedWasm === undefined) {
    try {
      sharedWasm = getWasmKernels();
    } catch {
      sharedWasm = null; // e.g. WebAssembly compilation refused by a content security policy
    }
  }
  return sharedWasm;
}

/**
 * Load a model from the bytes of a model file (see docs/model-format.md). Validates the whole file first and
 * throws {@link ModelFormatError} on anything malformed. Works the same in Node and browsers. Picks the kernel
 * set once (see {@link LoadOptions.kernels}).
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
  const file = readModel(bytes, options);
  const wasm = mode === 'typescript' ? null : wasmKernels();
  if (mode === 'wasm' && !wasm) {
    throw new ArgumentError("loadModel: kernels 'wasm' requested, but this engine has no WebAssembly SIMD");
  }
  return new Model(file, wasm, capacity);
}
