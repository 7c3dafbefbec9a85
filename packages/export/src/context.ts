/** The types an emitter works with: {@link Emitter} and the {@link EmitContext} it is given. */
import type { nn } from '@ecgnn/core';
import type { GraphBuilder } from './graph.js';

/** Export switches every emitter can read. */
export interface EmitOptions {
  /** Fold an evaluation-mode BatchNorm1d into the Conv1d/Linear right before it in a Sequential (default true). */
  foldBatchNorm: boolean;
  /**
   * Fold the epilogue of a binary convolution (max pool, BatchNorm, activations) and the sign of the next binary
   * layer into integer thresholds, when that layer is binary and the epilogue is monotone (default true).
   */
  foldBinaryThresholds: boolean;
}

/** What an emitter is given besides its module: the graph being built and a way to emit other modules. */
export interface EmitContext {
  /** The graph under construction (nodes, tensors, value shapes). */
  readonly graph: GraphBuilder;
  /** Export switches. */
  readonly options: EmitOptions;
  /**
   * Emits `module` on the values `inputs` through the registry (a per-export override first, then the class's
   * registered emitter); `path` names it in tensor names and errors. Returns the output value.
   */
  emit(module: nn.AnyModule, inputs: readonly string[], path: string): string;
}

/**
 * Translates one module into graph nodes: given the module, the names of its input values (one per argument of
 * its `forward`; their shapes via `ctx.graph.shape`) and its path, appends nodes with `ctx.graph.node` (and
 * tensors with `ctx.graph.floatTensor`/`exactTensor`), or emits its children with `ctx.emit`, and returns the
 * output value. It translates evaluation-mode behaviour; the model is in evaluation mode while it runs.
 */
export type Emitter<M extends nn.AnyModule = nn.AnyModule> = (
  ctx: EmitContext,
  module: M,
  inputs: readonly string[],
  path: string,
) => string;

/** Joins a parent path and a child name (`features` + `0` → `features.0`; the root's path is ''). */
export function childPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** A module class (the key of the emitter registry). */
// biome-ignore lint/suspicious/noExplicitAny: any module class, whatever its constructor arguments
export type ModuleClass<M extends nn.AnyModule = nn.AnyModule> = abstract new (...args: any[]) => M;
