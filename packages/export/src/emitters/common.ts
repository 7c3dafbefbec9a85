/** Small helpers shared by the built-in emitters. */
import type { Tensor } from '@ecgnn/core';
import type { Emitter } from '../context.js';
import { atPath, ExportError } from '../errors.js';

/** The values of `t` as a Float32Array (a copy unless they already are one). */
export function floats(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

/** The single input of a one-input module. */
export function single(inputs: readonly string[], path: string, what: string): string {
  if (inputs.length !== 1) {
    throw new ExportError(atPath(path, `${what} takes one input, the exporter was given ${inputs.length}`));
  }
  return inputs[0];
}

/**
 * Normalises an axis of a batched tensor (the batch axis 0 first, then the per-sample axes) whose per-sample rank
 * is `rank`: negative axes count from the end.
 */
export function batchedAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank + 1 : axis;
}

/**
 * An emitter writing one attribute-free, tensor-free infer op on the module's inputs, e.g. for a `Lambda` that
 * sums over time: `emitters: new Map([[sumTime, opEmitter('sumOverTime')]])` (also `globalMaxPool1d`,
 * `relu`, `add`, `concat`, …).
 */
export function opEmitter(op: string): Emitter {
  return (ctx, _module, inputs, path) => ctx.graph.node(op, inputs, path);
}
