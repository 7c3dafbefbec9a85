/**
 * Load-time fusion: the graph's nodes become the compiler's entries — one node each, or several fused into one
 * kernel call. Decided once per model (the batch-1 and batched programs bind the same entries). All fusions are
 * exact (see docs/infer.md):
 *
 * - `conv1d → relu`, the conv's output read by the ReLU only: the ReLU runs in the conv's store.
 * - `binaryConv1d → [maxPool1d, unpadded] → elementwise* → sign`, each intermediate value read by the next node
 *   only: one prepared binary conv whose output stays packed. The max pool runs on the integer dots; the epilogue
 *   and the sign become per-channel integer thresholds found by running the epilogue ops' own bound kernels on
 *   every reachable integer dot (`foldSignByEvaluation`), so each bit is decided exactly as the unfused float
 *   path decides it. When `sign ∘ epilogue` is not monotone on that range for some channel, the nodes stay
 *   unfused.
 * - `conv1d → [maxPool1d, unpadded] → elementwise* → sign`, each intermediate value read by the next node only,
 *   every elementwise op monotone for its weights ({@link OpDef.monotone}; a node that may turn ±∞ into NaN only
 *   where no node before it may overflow, so that finite values never become NaN): the float conv writes a
 *   temporary buffer, then one `thresholdPack` pools, decides and packs it. The epilogue and the sign become
 *   per-channel float thresholds found by a binary search over the finite float32 order, plus a bit for each
 *   infinity (`foldSignBySearch`, conventions.ts §7), evaluating the epilogue ops' own bound kernels, so each bit
 *   is the one the unfused path computes for every float, ±∞ and NaN included (monotonicity makes the search
 *   exact). The float layer of a binary network (method 5's first block) then hands packed bits to the next
 *   binary conv.
 * - With WebAssembly kernels, `sign → binaryConv1d` where the packed value feeds only the conv and the
 *   WebAssembly plans take the geometry (`binaryPlanTakes`): the float input is sign-packed inside the kernel's
 *   memory (`runFloat`), so the words are not copied out and back in. The output side above may follow.
 * - Reshapes (`identity`, `dropout`, `flatten`) are entries without a step: their output aliases their input.
 */
import {
  type FloatSignThresholds,
  foldSignByEvaluation,
  foldSignBySearch,
  type SignThresholds,
  type ThresholdPackParams,
} from '@ecgnn/kernels';
import { binaryPlanTakes } from '@ecgnn/kernels/wasm';
import type { NodeSpec } from '../format/types.js';
import { bindContext, type ModelParts } from './context.js';
import { binaryConvParams, bindBinaryConv, storedThresholds } from './ops/conv.js';
import { OP_TABLE, type OpName } from './ops/index.js';
import type { BindContext, Bound, Value, ValueInfo } from './ops/types.js';

/** One entry of the compiled program: a node, or fused nodes, or a reshape alias. */
export interface Entry {
  /** The last graph node covered (the entry covers the nodes from its first one to this). */
  last: number;
  /** Names of the values read (input 0 first). */
  inputs: string[];
  /** Name of the value written. */
  output: string;
  /** The op, or the fused ops joined by `+` (`metadata.plan`). */
  label: string;
  /** A reshape: the output is input 0's buffer and there is no step. */
  alias: boolean;
  /** Node whose context the entry is bound in (the conv of a fused binary layer). */
  node: number;
  /** A `conv1d` with the following `relu` fused into its store. */
  reluAfter: boolean;
  /** Values written and read inside the entry only (a fused float conv's output): buffers for the entry's run. */
  temps: string[];
  /** Binds the entry to buffers holding `batch` windows (`temps`: the buffers of {@link temps}, in order). */
  bind(ctx: BindContext, batch: number, temps: Value[]): Bound;
}

/** Number of graph nodes (and graph outputs) reading each value. */
function consumerCounts(parts: ModelParts): Map<string, number> {
  const { graph } = parts.file.header;
  const consumers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of graph.outputs) consumers.set(o, (consumers.get(o) ?? 0) + 1);
  return consumers;
}

/** The entries of a model's program (see the file comment). */
export function planEntries(parts: ModelParts): Entry[] {
  const nodes = parts.file.header.graph.nodes;
  const consumers = consumerCounts(parts);
  const entries: Entry[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const fused = fuseBinary(parts, i, consumers) ?? fuseFloatSign(parts, i, consumers);
    if (fused) {
      entries.push(fused);
      i = fused.last;
      continue;
    }
    const node = nodes[i];
    const op = OP_TABLE[node.op as OpName];
    const next = nodes[i + 1];
    const reluAfter =
      node.op === 'conv1d' &&
      next !== undefined &&
      next.op === 'relu' &&
      next.inputs.length === 1 &&
      next.inputs[0] === node.outputs[0] &&
      consumers.get(node.outputs[0]) === 1;
    entries.push({
      last: reluAfter ? i + 1 : i,
      inputs: node.inputs.slice(),
      output: reluAfter ? next.outputs[0] : node.outputs[0],
      label: reluAfter ? 'conv1d+relu' : node.op,
      alias: op.reshape === true,
      node: i,
      reluAfter,
      temps: [],
      bind: op.bind,
    });
    if (reluAfter) i++;
  }
  return entries;
}

/** The fused binary layer starting at node `i`, or null (see the file comment). */
function fuseBinary(parts: ModelParts, i: number, consumers: Map<string, number>): Entry | null {
  const { file } = parts;
  const nodes = file.header.graph.nodes;
  let convAt = i;
  let floatInput = false;
  if (nodes[i].op === 'sign') {
    const next = nodes[i + 1];
    const packed = nodes[i].outputs[0];
    if (
      !parts.choice.wasm ||
      next === undefined ||
      next.op !== 'binaryConv1d' ||
      next.inputs[0] !== packed ||
      consumers.get(packed) !== 1 ||
      !binaryPlanTakes(
        binaryConvParams(
          file.graph.values.get(packed)!,
          parts.weights.tensor(next.tensors!.weight).entry.shape[0],
          file.graph.nodes[i + 1].attrs,
        ),
      )
    )
      return null;
    convAt = i + 1;
    floatInput = true;
  }
  const conv = nodes[convAt];
  if (conv.op !== 'binaryConv1d') return null;
  const chain = binaryOutputChain(parts, convAt, consumers);
  if (!chain && !floatInput) return null;
  const packed = file.graph.values.get(conv.inputs[0])!;
  const lastAt = chain ? chain.signAt : convAt;
  const ops = [
    ...(floatInput ? ['sign'] : []),
    'binaryConv1d',
    ...(chain
      ? [...(chain.pool ? ['maxPool1d'] : []), ...chain.epilogue.map((e) => nodes[e].op), 'sign']
      : []),
  ];
  return {
    last: lastAt,
    inputs: [nodes[i].inputs[0]],
    output: nodes[lastAt].outputs[0],
    label: ops.join('+'),
    alias: false,
    node: convAt,
    reluAfter: false,
    temps: [],
    // Without an output chain the conv keeps its own epilogue (pool attribute, thresholds stored in the file).
    bind: (ctx, batch) =>
      bindBinaryConv(ctx, batch, {
        packed,
        x: ctx.ins[0],
        floatInput,
        pool: chain ? chain.pool : (ctx.attrs.pool ?? null),
        thresholds: chain ? chain.folded : storedThresholds(ctx),
      }),
  };
}

/** `[maxPool1d] → elementwise* → sign` after the node at `from`, each value read by the next node only. */
interface SignChain {
  pool: { kernelSize: number; stride: number } | null;
  /** Indices of the elementwise nodes folded into the thresholds. */
  epilogue: number[];
  /** Index of the closing `sign` node. */
  signAt: number;
}

/**
 * The sign chain after node `from` (see {@link SignChain}): an unpadded max pool (contiguous windows: the pool op
 * has no dilation), elementwise nodes, and the `sign`; null when the nodes do not form one.
 */
function signChain(parts: ModelParts, from: number, consumers: Map<string, number>): SignChain | null {
  const { file } = parts;
  const nodes = file.header.graph.nodes;
  let j = from + 1;
  let prev = nodes[from].outputs[0];
  const chainOk = (n: NodeSpec | undefined): n is NodeSpec =>
    n !== undefined && n.inputs.length === 1 && n.inputs[0] === prev && consumers.get(prev) === 1;
  let pool: SignChain['pool'] = null;
  if (chainOk(nodes[j]) && nodes[j].op === 'maxPool1d') {
    const win = file.graph.nodes[j].attrs.window!;
    if (win.padLeft !== 0 || win.padRight !== 0) return null;
    pool = { kernelSize: win.kernelSize, stride: win.stride };
    prev = nodes[j].outputs[0];
    j++;
  }
  const epilogue: number[] = [];
  while (chainOk(nodes[j]) && OP_TABLE[nodes[j].op as OpName].elementwise) {
    epilogue.push(j);
    prev = nodes[j].outputs[0];
    j++;
  }
  if (!chainOk(nodes[j]) || nodes[j].op !== 'sign') return null;
  return { pool, epilogue, signAt: j };
}

/**
 * The epilogue nodes bound to `[O, span]` float buffers (ping-pong), reshapes skipped: `run()` takes the values
 * in `input.buf` through them and returns the buffer holding the result.
 */
function epilogueEvaluator(
  parts: ModelParts,
  epilogue: readonly number[],
  O: number,
  span: number,
): { input: Value; run(): Float32Array } {
  const nodes = parts.file.header.graph.nodes;
  const info: ValueInfo = { kind: 'float', shape: [O, span] };
  const input: Value = { info, buf: new Float32Array(O * span) };
  let a = input;
  let b: Value = { info, buf: new Float32Array(O * span) };
  const steps: Bound[] = [];
  for (const e of epilogue) {
    const op = OP_TABLE[nodes[e].op as OpName];
    if (op.reshape) continue; // identity / dropout: the same values
    steps.push(op.bind(bindContext(parts, e, [a], b), 1));
    [a, b] = [b, a];
  }
  const result = a.buf as Float32Array;
  return {
    input,
    run() {
      for (const s of steps) s.run(1);
      return result;
    },
  };
}

/** The output side of a binary layer after the conv at `convAt` (see the file comment). */
interface BinaryOutputChain extends SignChain {
  folded: SignThresholds;
}

/** Most values of the exhaustive evaluation of an epilogue (16 MiB of float32): larger layers stay unfused. */
const MAX_FOLD_VALUES = 1 << 22;

/**
 * `binaryConv1d → [maxPool1d] → elementwise* → sign` from node `convAt`, each value read by the next node only,
 * folded into integer thresholds; null when the chain is absent or cannot be folded.
 */
function binaryOutputChain(
  parts: ModelParts,
  convAt: number,
  consumers: Map<string, number>,
): BinaryOutputChain | null {
  const { file } = parts;
  const conv = file.header.graph.nodes[convAt];
  if (conv.tensors?.threshold !== undefined || file.graph.nodes[convAt].attrs.pool) return null;
  const chain = signChain(parts, convAt, consumers);
  if (!chain) return null;
  // Reachable integer dots: |y| ≤ inC·K.
  const [O, C, K] = parts.weights.tensor(conv.tensors!.weight).entry.shape;
  const lo = -C * K;
  const hi = C * K;
  const span = hi - lo + 1;
  if (O * span > MAX_FOLD_VALUES) return null;
  // Every reachable dot of every channel, through the epilogue ops' own kernels.
  const ev = epilogueEvaluator(parts, chain.epilogue, O, span);
  for (let o = 0; o < O; o++) for (let s = 0; s < span; s++) ev.input.buf[o * span + s] = lo + s;
  const folded = foldSignByEvaluation(ev.run(), O, lo, hi);
  return folded ? { ...chain, folded } : null;
}

/**
 * The fused float layer `conv1d → [maxPool1d] → monotone elementwise* → sign` starting at node `i`, or null (see
 * the file comment).
 */
function fuseFloatSign(parts: ModelParts, i: number, consumers: Map<string, number>): Entry | null {
  const nodes = parts.file.header.graph.nodes;
  const conv = nodes[i];
  if (conv.op !== 'conv1d') return null;
  const chain = signChain(parts, i, consumers);
  if (!chain) return null;
  const y = conv.outputs[0];
  const O = parts.file.graph.values.get(y)!.shape[0];
  // The node's weights are read through a context; the probe buffers are not used.
  const probe: Value = { info: { kind: 'float', shape: [O, 1] }, buf: new Float32Array(O) };
  // Finite conv outputs never reach NaN (the search's premise): a node that may turn ±∞ into NaN only where no
  // node before it may overflow to ±∞. The infinities themselves are evaluated (conventions.ts §7).
  let overflow = false;
  for (const e of chain.epilogue) {
    const m = OP_TABLE[nodes[e].op as OpName].monotone?.(bindContext(parts, e, [probe], probe)) ?? null;
    if (m === null || (m.nanFromInfinity && overflow)) return null;
    if (!m.finiteToFinite) overflow = true;
  }
  const ev = epilogueEvaluator(parts, chain.epilogue, O, 1);
  const folded = foldSignBySearch((ys, fs) => {
    ev.input.buf.set(ys);
    fs.set(ev.run());
  }, O);
  if (!folded) return null;
  const ops = [
    'conv1d',
    ...(chain.pool ? ['maxPool1d'] : []),
    ...chain.epilogue.map((e) => nodes[e].op),
    'sign',
  ];
  return {
    last: chain.signAt,
    inputs: [conv.inputs[0]],
    output: nodes[chain.signAt].outputs[0],
    label: ops.join('+'),
    alias: false,
    node: i,
    reluAfter: false,
    temps: [y],
    bind: (ctx, batch, temps) => bindFloatSign(ctx, batch, temps[0], chain.pool, folded),
  };
}

/** Binds a fused float layer: the conv into the temporary `y`, then `thresholdPack` into the packed output. */
function bindFloatSign(
  ctx: BindContext,
  batch: number,
  y: Value,
  pool: SignChain['pool'],
  thresholds: FloatSignThresholds,
): Bound {
  const conv = OP_TABLE.conv1d.bind({ ...ctx, out: y }, batch);
  const [O, L] = y.info.shape;
  const p: ThresholdPackParams = { batch, channels: O, length: L, pool, thresholds };
  const pack = ctx.kernels.thresholdPack;
  const Y = y.buf as Float32Array;
  const out = ctx.out.buf as Uint32Array;
  const convDirect = conv.direct!;
  return {
    run: (nb) => {
      conv.run(nb);
      p.batch = nb;
      pack(Y, out, p);
    },
    wasm: conv.wasm,
    // Graph outputs are float, so the packed output is never the caller's array: only the input is replaced.
    direct: (xi) => {
      convDirect(xi, null);
      p.batch = 1;
      pack(Y, out, p);
    },
  };
}
