/**
 * Batched program: the graph compiled a second time, for chunks of up to `capacity` windows, used by
 * `Model.run` for batches of more than one window (compiled lazily, on the first such call).
 *
 * Every value gets one buffer of `capacity × (per-window size)` elements, windows back to back (NCL: window b of
 * a `[C, L]` value is `buf[b·C·L … (b+1)·C·L)`); buffers are recycled once their last reader has run (liveness
 * over the step list), so memory is `capacity ×` the largest set of values alive at once, not the sum. Each step
 * takes `nb ≤ capacity`, the windows of the current chunk:
 *
 * - one call for the whole chunk: float `conv1d` in WebAssembly (`batch: nb`, fused bias + ReLU; depthwise and
 *   groups included), `linear` as one matmul of `nb` rows (WebAssembly when the chunk has enough multiply-adds),
 *   elementwise ops over `nb·n` values, max/avg pooling and global pools over `nb·C` rows (rows are independent),
 *   copies (`identity`, `dropout`, `flatten`);
 * - a loop over the chunk's windows on views made once here: the TypeScript conv, `batchNorm`, `prelu`,
 *   `softmax`, `sign`, `concat`, `squeezeExcitation`, `attention`, `binaryLinear` (scratch shared by the windows);
 * - anything else — binary convolutions, fused or not — runs the batch-1 step itself, once per window: the
 *   window's inputs are copied into that step's buffers and its output copied out (so the binary kernels need no
 *   batched form and their results are the batch-1 results bit for bit).
 *
 * Float results equal the batch-1 program's up to float32 rounding (the batched dense layer may run in
 * WebAssembly where batch 1 runs TypeScript); everything else computes each window exactly as batch 1 does.
 */

import { binarySample, sample as F } from '@ecgnn/kernels';
import { KernelArgumentError, type Kernels, type MatmulOptions } from '@ecgnn/kernels/wasm';
import type { LoadedTensor, ModelFile } from '../format/reader.js';
import type { NormalizedAttrs } from '../graph/ops.js';
import {
  type Buffer,
  convParamsOf,
  denseForMatmul,
  floatData,
  type Step,
  size,
  type Value,
} from './values.js';

/** One entry of the batch-1 program, recorded by the `Model` constructor for the batched compiler. */
export interface ProgramEntry {
  /** Graph nodes this entry covers: `first … last` (more than one when fused). */
  first: number;
  last: number;
  /** A fused binary chain (`binaryConv1d+…+sign`): always run per window through {@link step}. */
  fusedBinary: boolean;
  /** A `conv1d` whose following `relu` is fused into it (`last = first + 1`). */
  relu: boolean;
  /** The batch-1 step and the batch-1 buffers of its inputs and output. */
  step: Step;
  inputs: string[];
  output: string;
  ins: Value[];
  out: Value;
}

/** How one entry of the batch-1 plan runs in the batched program. */
export type BatchMode = 'batched-wasm' | 'batched' | 'per-window' | 'batch-1 step';

/** A compiled batched program. */
export interface BatchProgram {
  /** Windows per chunk. */
  capacity: number;
  /** `capacity` input windows, back to back. */
  input: Float32Array;
  /** The graph output of each window slot: `capacity` views of exactly `classes` values (made once). */
  outputs: Float32Array[];
  /** Steps in execution order; each runs the first `nb ≤ capacity` windows. */
  steps: ((nb: number) => void)[];
  /** Per entry of the batch-1 plan, how it runs here. */
  modes: BatchMode[];
  /** Bytes of the value buffers (excluding weights, shared with batch 1, and kernel scratch). */
  bytes: number;
}

/**
 * A dense layer runs as one WebAssembly matmul of `nb` rows when each row has at least
 * {@link DENSE_WASM_MIN_ROW_MACS} multiply-adds and the chunk at least {@link DENSE_WASM_MIN_MACS}; otherwise a
 * TypeScript loop per window. The matmul pads the outputs to 16 columns, so narrow layers gain little. Measured
 * on the development machine (µs per chunk, TypeScript vs WebAssembly): 64→5 at 2 rows 1.0 vs 3.5, 4 rows 2.1 vs
 * 0.8, 64 rows 40 vs 16; 16→4 at 64 rows 6.5 vs 8.8; 8→2 at 64 rows 2.2 vs 6.6; 64→64 at 2 rows 11 vs 1.2.
 */
const DENSE_WASM_MIN_ROW_MACS = 256;
const DENSE_WASM_MIN_MACS = 1024;

/**
 * Which buffer holds each value, by liveness: values are assigned in step order to buffer slots, and a slot is
 * free again once its value's last reader has run (the graph output is never released); a value takes the
 * smallest free slot that fits it, else a new slot. Slot sizes are bytes per window, so the plan is the same for
 * every capacity (buffer `k` has `capacity · slotBytes[k]` bytes).
 */
export interface BufferPlan {
  slotOf: Map<string, number>;
  slotBytes: number[];
  /** Σ slotBytes: bytes of value buffers per window of capacity. */
  bytesPerWindow: number;
}

/** The {@link BufferPlan} of the entries of a batch-1 program. */
export function planBuffers(file: ModelFile, entries: readonly ProgramEntry[]): BufferPlan {
  const { header, graph } = file;
  const reads = new Map<string, number>();
  for (const e of entries) for (const i of e.inputs) reads.set(i, (reads.get(i) ?? 0) + 1);
  const slotOf = new Map<string, number>();
  const slotBytes: number[] = [];
  const free: number[] = [];
  const assign = (name: string): void => {
    const bytes = size(graph.values.get(name)!) * 4;
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      const b = slotBytes[free[i]];
      if (b >= bytes && (best < 0 || b < slotBytes[free[best]])) best = i;
    }
    if (best >= 0) slotOf.set(name, free.splice(best, 1)[0]);
    else {
      slotOf.set(name, slotBytes.length);
      slotBytes.push(bytes);
    }
  };
  assign(header.graph.input);
  for (const e of entries) {
    assign(e.output);
    for (const name of e.inputs) {
      const left = reads.get(name)! - 1;
      reads.set(name, left);
      if (left === 0 && name !== header.graph.output) free.push(slotOf.get(name)!);
    }
  }
  return { slotOf, slotBytes, bytesPerWindow: slotBytes.reduce((a, b) => a + b, 0) };
}

/** `count` views of `per` elements each, window b at `b·per` (made once; no allocation per call). */
function slots<T extends Buffer>(buf: T, per: number, count: number): T[] {
  const out: T[] = [];
  for (let b = 0; b < count; b++) out.push(buf.subarray(b * per, (b + 1) * per) as T);
  return out;
}

/**
 * `out[r] = Σ_t x[r·L + t]` over `rows` rows, divided by L when `mean` (global average pool; else sum over time).
 * Four rows at a time: four independent float64 sums instead of one dependent chain (each row's sum is added in
 * the same order as `globalAvgPool1d`/`sumOverTime`, so the results are identical; measured about 3× faster).
 */
function rowSums(x: Float32Array, rows: number, L: number, mean: boolean, out: Float32Array): void {
  const r4 = rows - (rows % 4);
  for (let r = 0; r < r4; r += 4) {
    const a = r * L;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let t = 0; t < L; t++) {
      s0 += x[a + t];
      s1 += x[a + L + t];
      s2 += x[a + 2 * L + t];
      s3 += x[a + 3 * L + t];
    }
    out[r] = mean ? s0 / L : s0;
    out[r + 1] = mean ? s1 / L : s1;
    out[r + 2] = mean ? s2 / L : s2;
    out[r + 3] = mean ? s3 / L : s3;
  }
  for (let r = r4; r < rows; r++) {
    let s = 0;
    for (let t = 0; t < L; t++) s += x[r * L + t];
    out[r] = mean ? s / L : s;
  }
}

/** `dst[0 … n) = src[0 … n)`: a plain loop, so that no view is made per call. */
function copyPrefix(src: Buffer, dst: Buffer, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = src[i];
}

/**
 * Runs `step` once at compile time (warm-up) and reports whether the WebAssembly kernel accepted the geometry
 * (a {@link KernelArgumentError} means "run it in TypeScript"; anything else is a bug and propagates).
 */
function accepts(step: () => void): boolean {
  try {
    step();
    return true;
  } catch (e) {
    if (e instanceof KernelArgumentError) return false;
    throw e;
  }
}

/**
 * Compile the batched program for chunks of `capacity` windows from the batch-1 program's entries.
 * `wasm` is the model's WebAssembly kernel set (null: TypeScript only).
 */
export function compileBatch(
  file: ModelFile,
  entries: readonly ProgramEntry[],
  plan: BufferPlan,
  wasm: Kernels | null,
  capacity: number,
): BatchProgram {
  const { header, graph } = file;
  const nodes = header.graph.nodes;
  const cap = capacity;
  const backing = plan.slotBytes.map((b) => new ArrayBuffer(cap * b));
  const bufs = new Map<string, Buffer>();
  const bufferOf = (name: string): Buffer => {
    let buf = bufs.get(name);
    if (!buf) {
      const info = graph.values.get(name)!;
      const n = cap * size(info);
      const ab = backing[plan.slotOf.get(name)!];
      buf = info.kind === 'bits' ? new Uint32Array(ab, 0, n) : new Float32Array(ab, 0, n);
      bufs.set(name, buf);
    }
    return buf;
  };
  const input = bufferOf(header.graph.input) as Float32Array;
  const steps: ((nb: number) => void)[] = [];
  const modes: BatchMode[] = [];
  for (const e of entries) {
    const ins = e.inputs.map((name) => ({ info: graph.values.get(name)!, buf: bufferOf(name) }));
    const out: Value = { info: graph.values.get(e.output)!, buf: bufferOf(e.output) };
    const { step, mode } = e.fusedBinary ? perWindowStep(e, ins, out, cap) : compileEntry(e, ins, out);
    steps.push(step);
    modes.push(mode);
  }
  const outBuf = bufferOf(header.graph.output) as Float32Array;
  const stride = size(graph.values.get(header.graph.output)!);
  const M = header.classes.length;
  const outputs: Float32Array[] = [];
  for (let b = 0; b < cap; b++) outputs.push(outBuf.subarray(b * stride, b * stride + M));
  return {
    capacity: cap,
    input,
    outputs,
    steps,
    modes,
    bytes: cap * plan.bytesPerWindow,
  };

  /** Bind one entry (a node, or a conv with its fused ReLU) for chunks of windows. */
  function compileEntry(
    e: ProgramEntry,
    ins: Value[],
    out: Value,
  ): { step: (nb: number) => void; mode: BatchMode } {
    const node = nodes[e.first];
    const a: NormalizedAttrs = graph.nodes[e.first].attrs;
    const t = (role: string): LoadedTensor | undefined => {
      const name = node.tensors?.[role];
      return name === undefined ? undefined : file.tensors.get(name);
    };
    const fw = (role: string): Float32Array | null => floatData(t(role));
    const x = ins[0];
    const X = x.buf as Float32Array;
    const O = out.buf as Float32Array;
    const [C, L] = x.info.shape.length === 2 ? x.info.shape : [x.info.shape[0], 1];
    const n = size(x.info);
    const m = size(out.info);
    // Per-window views, made once.
    const xs = (): Float32Array[] => slots(X, n, cap);
    const os = (): Float32Array[] => slots(O, m, cap);
    const batched = (step: (nb: number) => void) => ({ step, mode: 'batched' as const });
    const perWindow = (step: (nb: number) => void) => ({ step, mode: 'per-window' as const });
    switch (node.op) {
      case 'conv1d': {
        const w = fw('weight')!;
        const bias = fw('bias');
        const p = convParamsOf(C, L, t('weight')!.entry.shape[0], a);
        if (wasm && p.padLeft <= p.dilation * (p.kernelSize - 1)) {
          // NCL: the chunk's windows are consecutive in memory, so the kernel's `batch` covers them in one call
          // (which lays stride-1 windows side by side in one gemm). The params object is reused: only `batch`
          // changes per call.
          const kp = {
            batch: cap,
            inChannels: C,
            outChannels: p.outChannels,
            inLength: L,
            outLength: F.conv1dOutputLength(p),
            kernelSize: p.kernelSize,
            stride: p.stride,
            dilation: p.dilation,
            padLeft: p.padLeft,
            groups: p.groups,
            padValue: p.padValue,
            activation: e.relu ? ('relu' as const) : ('none' as const),
          };
          if (accepts(() => wasm.conv1dForward(X, w, bias, O, kp)))
            return {
              step: (nb) => {
                kp.batch = nb;
                wasm.conv1dForward(X, w, bias, O, kp);
              },
              mode: 'batched-wasm',
            };
        }
        const xv = xs();
        const ov = os();
        const relu = e.relu;
        return perWindow((nb) => {
          for (let b = 0; b < nb; b++) F.conv1d(xv[b], w, bias, p, ov[b]);
          if (relu) F.relu(O, nb * m, O);
        });
      }
      case 'linear': {
        const w = fw('weight')!;
        const b = fw('bias');
        const Od = t('weight')!.entry.shape[0];
        const xv = xs();
        const ov = os();
        const ts = (nb: number) => {
          for (let k = 0; k < nb; k++) F.linear(xv[k], w, b, n, Od, ov[k]);
        };
        if (wasm && n * Od >= DENSE_WASM_MIN_ROW_MACS) {
          // Y = X·Wᵀ + b for the chunk's nb rows in one matmul: the weight transposed once here to [n, Op]
          // (zero columns up to the tile width), each row of the result starting from the bias (accumulate).
          const { wt, bias: bp, Op } = denseForMatmul(w, b, Od, n);
          const y = new Float32Array(cap * Op);
          const acc: MatmulOptions = { accumulate: true };
          const minRows = Math.max(1, Math.ceil(DENSE_WASM_MIN_MACS / (n * Od)));
          const mm = (nb: number) => {
            if (nb < minRows) return ts(nb);
            for (let r = 0; r < nb; r++) y.set(bp, r * Op);
            wasm.matmul(X, wt, y, 1, nb, n, Op, false, false, acc);
            for (let r = 0; r < nb; r++) for (let o = 0; o < Od; o++) O[r * Od + o] = y[r * Op + o];
          };
          if (minRows <= cap && accepts(() => mm(cap))) return { step: mm, mode: 'batched-wasm' };
        }
        return perWindow(ts);
      }
      case 'relu':
        return batched((nb) => F.relu(X, nb * n, O));
      case 'leakyRelu': {
        const s = a.negativeSlope ?? 0.01;
        return batched((nb) => F.leakyRelu(X, nb * n, s, O));
      }
      case 'sigmoid':
        return batched((nb) => F.sigmoid(X, nb * n, O));
      case 'tanh':
        return batched((nb) => F.tanh(X, nb * n, O));
      case 'add': {
        const Y = ins[1].buf as Float32Array;
        return batched((nb) => F.add(X, Y, nb * n, O));
      }
      case 'identity':
      case 'dropout':
      case 'flatten': {
        const src = x.buf;
        const dst = out.buf;
        return batched((nb) => copyPrefix(src, dst, nb * n));
      }
      // Pooling over time treats each (window, channel) row on its own: nb windows of [C, L] are nb·C rows.
      case 'maxPool1d':
      case 'avgPool1d': {
        const win = a.window!;
        const T = m / C;
        if (wasm && node.op === 'maxPool1d' && win.padLeft < win.kernelSize) {
          // The branch-free WebAssembly max pool (the TypeScript compare-and-select mispredicts on activations).
          const pp = {
            batch: cap,
            channels: C,
            inLength: L,
            outLength: T,
            kernelSize: win.kernelSize,
            stride: win.stride,
            padLeft: win.padLeft,
          };
          if (accepts(() => wasm.maxPool1d(X, O, pp)))
            return {
              step: (nb) => {
                pp.batch = nb;
                wasm.maxPool1d(X, O, pp);
              },
              mode: 'batched-wasm',
            };
        }
        const k = node.op === 'maxPool1d' ? F.maxPool1d : F.avgPool1d;
        return batched((nb) => k(X, nb * C, L, win.kernelSize, win.stride, win.padLeft, win.padRight, O));
      }
      case 'globalAvgPool1d':
        return batched((nb) => rowSums(X, nb * C, L, true, O));
      case 'globalMaxPool1d':
        return batched((nb) => F.globalMaxPool1d(X, nb * C, L, O));
      case 'sumOverTime':
        return batched((nb) => rowSums(X, nb * C, L, false, O));
      case 'batchNorm': {
        const { scale, shift } = F.batchNormScaleShift(
          fw('mean')!,
          fw('var')!,
          fw('weight'),
          fw('bias'),
          a.eps ?? 1e-5,
        );
        const xv = xs();
        const ov = os();
        return perWindow((nb) => {
          for (let b = 0; b < nb; b++) F.channelAffine(xv[b], C, L, scale, shift, ov[b]);
        });
      }
      case 'prelu': {
        const w = fw('weight')!;
        const xv = xs();
        const ov = os();
        return perWindow((nb) => {
          for (let b = 0; b < nb; b++) F.prelu(xv[b], C, L, w, ov[b]);
        });
      }
      case 'softmax': {
        const xv = xs();
        const ov = os();
        return perWindow((nb) => {
          for (let b = 0; b < nb; b++) F.softmax(xv[b], C, L, ov[b]);
        });
      }
      case 'sign': {
        const xv = xs();
        const ov = slots(out.buf as Uint32Array, m, cap);
        return perWindow((nb) => {
          for (let b = 0; b < nb; b++) binarySample.signPack(xv[b], C, L, ov[b]);
        });
      }
      case 'binaryLinear': {
        const w = t('weight')!;
        const wb = w.data as Uint32Array;
        const [Od, Fin] = w.entry.shape;
        const xv = slots(x.buf as Uint32Array, n, cap);
        const ov = os();
        return perWindow((nb) => {
          for (let b = 0; b < nb; b++) binarySample.binaryLinear(xv[b], wb, Fin, Od, ov[b]);
        });
      }
      case 'concat': {
        // Channel-axis concat of [C_i, L] windows: each window's output is its inputs' data back to back.
        const offsets: number[] = [];
        let off = 0;
        for (const v of ins) {
          offsets.push(off);
          off += size(v.info);
        }
        const iv = ins.map((v) => slots(v.buf as Float32Array, size(v.info), cap));
        const ov = os();
        return perWindow((nb) => {
          for (let b = 0; b < nb; b++) for (let k = 0; k < iv.length; k++) ov[b].set(iv[k][b], offsets[k]);
        });
      }
      case 'squeezeExcitation': {
        const w1 = fw('w1')!;
        const w2 = fw('w2')!;
        const b1 = fw('b1');
        const b2 = fw('b2');
        const R = t('w1')!.entry.shape[0];
        const scratch = new Float32Array(2 * C + R);
        const xv = xs();
        const ov = os();
        return perWindow((nb) => {
          for (let b = 0; b < nb; b++) F.squeezeExcitation(xv[b], C, L, w1, b1, w2, b2, R, ov[b], scratch);
        });
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
        const xv = xs();
        const ov = os();
        return perWindow((nb) => {
          for (let b = 0; b < nb; b++)
            F.attention(xv[b], C, L, wq, bq, wk, bk, wv, bv, D, V, causal, concat, ov[b], scratch);
        });
      }
      default:
        // binaryConv1d (and any op without a batched form): the batch-1 step, once per window.
        return perWindowStep(e, ins, out, cap);
    }
  }
}

/**
 * Run an entry's batch-1 step once per window of the chunk: copy the window's inputs into the step's own
 * buffers, run it, copy its output out (views made once; `set` between typed arrays allocates nothing).
 */
function perWindowStep(
  e: ProgramEntry,
  ins: Value[],
  out: Value,
  cap: number,
): { step: (nb: number) => void; mode: BatchMode } {
  const src = ins.map((v) => slots(v.buf, size(v.info), cap));
  const dst1 = e.ins.map((v) => v.buf);
  const m = size(out.info);
  const out1 = e.out.buf.length === m ? e.out.buf : e.out.buf.subarray(0, m);
  const dst = slots(out.buf, m, cap);
  const step1 = e.step;
  const k = src.length;
  return {
    step: (nb) => {
      for (let b = 0; b < nb; b++) {
        for (let i = 0; i < k; i++) dst1[i].set(src[i][b] as never);
        step1();
        dst[b].set(out1 as never);
      }
    },
    mode: 'batch-1 step',
  };
}
