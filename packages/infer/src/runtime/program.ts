/**
 * THE compiler: binds a model's entries (`fusion.ts`) to kernels and to buffers holding `batch` windows. The
 * same compiler builds the batch-1 program (batch 1, compiled at load) and the batched program (chunks of up to
 * `batch` windows, compiled on first use): each op's `bind` gets the buffers and the batch and returns its step.
 *
 * Buffers: every value lives in a buffer slot of `batch × (per-window size)` elements, windows back to back (NCL:
 * window b of a `[C, L]` value is `buf[b·C·L … (b+1)·C·L)`). Slots are recycled once the last reader of their value
 * has run (liveness over the entries), so memory is `batch ×` the largest set of values alive at once, not the sum;
 * a reshape's output is its input's slot. The graph inputs come first; the first graph output is never released.
 */
import { bindContext, type ModelParts } from './context.js';
import type { Entry } from './fusion.js';
import { type Bound, type Buffer, size, type Value } from './ops/types.js';

/**
 * Which slot holds each value (the same plan for every batch: slot sizes are bytes per window, slot `k` of a
 * program for `batch` windows has `batch · slotBytes[k]` bytes).
 */
export interface BufferPlan {
  slotOf: Map<string, number>;
  slotBytes: number[];
  /** Σ slotBytes: bytes of value buffers per window. */
  bytesPerWindow: number;
  /** Each value's root: itself, or (through reshapes) the value whose slot it shares. */
  rootOf: Map<string, string>;
}

/**
 * Slot assignment by liveness: values are assigned in entry order, a value takes the smallest free slot that fits
 * it (else a new slot), and a slot is free again after the last entry reading its value — or any reshape alias
 * of it — has run. An entry's temporaries and then its output are assigned before its inputs are released, and
 * the temporaries are released with them, so no step writes a buffer it reads.
 */
export function planBuffers(parts: ModelParts, entries: readonly Entry[]): BufferPlan {
  const { header, graph } = parts.file;
  const rootOf = new Map<string, string>();
  for (const inp of header.graph.inputs) rootOf.set(inp.name, inp.name);
  for (const e of entries) {
    rootOf.set(e.output, e.alias ? rootOf.get(e.inputs[0])! : e.output);
    for (const t of e.temps) rootOf.set(t, t);
  }
  // Index of the last entry reading each root (−1: never read).
  const lastRead = new Map<string, number>();
  entries.forEach((e, k) => {
    for (const name of e.inputs) lastRead.set(rootOf.get(name)!, k);
  });
  const kept = rootOf.get(header.graph.outputs[0])!;
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
  const release = (root: string, k: number): void => {
    if (root !== kept && (lastRead.get(root) ?? -1) === k) free.push(slotOf.get(root)!);
  };
  for (const inp of header.graph.inputs) assign(inp.name);
  // Inputs no node reads are free from the start (their copy in is never read).
  for (const inp of header.graph.inputs) release(inp.name, -1);
  entries.forEach((e, k) => {
    if (e.alias) slotOf.set(e.output, slotOf.get(rootOf.get(e.output)!)!);
    else {
      for (const t of e.temps) assign(t);
      assign(e.output);
      for (const t of e.temps) free.push(slotOf.get(t)!);
      // A value nobody reads (an unused graph output) is free once written.
      release(e.output, -1);
    }
    const seen = new Set<string>();
    for (const name of e.inputs) {
      const root = rootOf.get(name)!;
      if (!seen.has(root)) release(root, k);
      seen.add(root);
    }
  });
  return { slotOf, slotBytes, bytesPerWindow: slotBytes.reduce((a, b) => a + b, 0), rootOf };
}

/** A compiled program for chunks of up to {@link Program.batch} windows. */
export interface Program {
  /** Windows per chunk. */
  batch: number;
  /** Each graph input's buffer, in `graph.inputs` order (`batch` windows back to back). */
  inputs: Float32Array[];
  /** The first graph output's buffer (`batch × classes`). */
  output: Float32Array;
  /** Per entry, its bound step, or null for a reshape alias. */
  bound: (Bound | null)[];
  /** The steps in execution order (the non-alias entries'); each runs the first `nb ≤ batch` windows. */
  steps: Bound['run'][];
  /** Per step, its entry index. */
  stepEntry: number[];
  /** Bytes of the value buffers (excluding weights and kernel scratch). */
  bytes: number;
}

/** Binds every entry for chunks of `batch` windows on the buffers of `plan`. */
export function compileProgram(
  parts: ModelParts,
  entries: readonly Entry[],
  plan: BufferPlan,
  batch: number,
): Program {
  const { header, graph } = parts.file;
  const backing = plan.slotBytes.map((b) => new ArrayBuffer(batch * b));
  const values = new Map<string, Value>();
  const bufferOf = (name: string): Value => {
    let v = values.get(name);
    if (!v) {
      const info = graph.values.get(name)!;
      const n = batch * size(info);
      const ab = backing[plan.slotOf.get(name)!];
      const buf: Buffer = info.kind === 'bits' ? new Uint32Array(ab, 0, n) : new Float32Array(ab, 0, n);
      v = { info, buf };
      values.set(name, v);
    }
    return v;
  };
  const inputs = header.graph.inputs.map((inp) => bufferOf(inp.name).buf as Float32Array);
  const bound: (Bound | null)[] = [];
  const steps: Bound['run'][] = [];
  const stepEntry: number[] = [];
  entries.forEach((e, k) => {
    const ins = e.inputs.map(bufferOf);
    const out = bufferOf(e.output);
    if (e.alias) {
      bound.push(null);
      return;
    }
    const b = e.bind(bindContext(parts, e.node, ins, out, e.reluAfter), batch, e.temps.map(bufferOf));
    bound.push(b);
    steps.push(b.run);
    stepEntry.push(k);
  });
  return {
    batch,
    inputs,
    output: bufferOf(header.graph.outputs[0]).buf as Float32Array,
    bound,
    steps,
    stepEntry,
    bytes: batch * plan.bytesPerWindow,
  };
}
