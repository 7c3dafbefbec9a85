/**
 * {@link exportModel}: a core `Module` → an @ecgnn/infer {@link ModelSpec} (and {@link exportModelBytes}: the
 * file's bytes, written by infer's one writer, `saveModel`).
 */
import { nn, noGrad } from '@ecgnn/core';
import {
  type GraphInputSpec,
  type GraphSpec,
  type InputSource,
  type InputSpec,
  type ModelSpec,
  type Preprocessing,
  saveModel,
  type Windowing,
} from '@ecgnn/infer';
import type { EmitContext, EmitOptions, Emitter } from './context.js';
import { atPath, ExportError } from './errors.js';
import { GraphBuilder, type StoragePolicy } from './graph.js';
import { exporterFor } from './registry.js';

/** One named input of the exported graph, in the order of the module's `forward` arguments. */
export interface ExportInput {
  /** Value name (the key of this input in `predict({ … })`). */
  name: string;
  /** Per-sample shape: `[channels, length]` for a waveform window, `[features]` for a vector. */
  shape: number[];
  /** Where `createClassifier` gets it from (default `{ kind: 'window' }` for a `[C, L]` input). */
  source?: InputSource;
}

/** Options of {@link exportModel}. */
export interface ExportOptions {
  /** The graph inputs, one per argument of the module's `forward`, in order. */
  inputs: ExportInput[];
  /** Class names, one per output logit. */
  classes: string[];
  /** Model name stored in the header. */
  name?: string;
  /**
   * The waveform window (`header.input`): its sampling rate, and channels/length, which default to the shape of
   * the input with source `window` (required when there is none).
   */
  input: Partial<InputSpec> & { sampleRate: number };
  /** How a streaming classifier cuts windows (default: consecutive segments, one window apart). */
  windowing?: Windowing;
  /** Preprocessing a streaming classifier applies to raw ECG (default infer's: z-score per window). */
  preprocessing?: Preprocessing;
  /** Logits → probabilities (default softmax). */
  outputActivation?: 'softmax' | 'sigmoid' | 'none';
  /** Free-form provenance (dataset, split, metrics, commit…); `exporter` is added. */
  provenance?: Record<string, unknown>;
  /** Storage of float tensors (default float32, sparse when smaller; see {@link StoragePolicy}). */
  storage?: StoragePolicy;
  /** Fold an evaluation-mode BatchNorm1d into the Conv1d/Linear before it (default true). */
  foldBatchNorm?: boolean;
  /** Fold binary epilogues and the next sign into integer thresholds (default true). */
  foldBinaryThresholds?: boolean;
  /**
   * Emitters for particular module instances, taking precedence over the class registry (e.g. a Lambda computing
   * a sum over time, or an attention layer the model calls with `isCausal`).
   */
  emitters?: ReadonlyMap<nn.AnyModule, Emitter>;
}

/** What {@link exportModel} returns: a model spec whose graph has named inputs and outputs (format version 2). */
export type ExportedModel = ModelSpec & { graph: GraphSpec };

class Context implements EmitContext {
  readonly graph: GraphBuilder;
  readonly options: EmitOptions;
  private readonly overrides: ReadonlyMap<nn.AnyModule, Emitter>;

  constructor(opts: ExportOptions) {
    this.graph = new GraphBuilder(opts.storage);
    this.options = {
      foldBatchNorm: opts.foldBatchNorm ?? true,
      foldBinaryThresholds: opts.foldBinaryThresholds ?? true,
    };
    this.overrides = opts.emitters ?? new Map();
  }

  emit(module: nn.AnyModule, inputs: readonly string[], path: string): string {
    const emitter = this.overrides.get(module) ?? exporterFor(module);
    if (emitter === undefined) {
      throw new ExportError(
        atPath(
          path,
          `no exporter for ${module.constructor.name}; @ecgnn/infer may have no op for it, or register one with registerExporter(${module.constructor.name}, emitter)`,
        ),
      );
    }
    return emitter(this, module, inputs, path);
  }
}

function checkOptions(opts: ExportOptions): GraphInputSpec[] {
  if (!Array.isArray(opts.inputs) || opts.inputs.length === 0) {
    throw new ExportError('exportModel: inputs must list at least one graph input');
  }
  if (!Array.isArray(opts.classes) || opts.classes.length === 0) {
    throw new ExportError('exportModel: classes must name at least one class');
  }
  return opts.inputs.map((inp, i) => {
    if (typeof inp.name !== 'string' || inp.name === '') {
      throw new ExportError(`exportModel: input ${i} needs a name`);
    }
    if (!Array.isArray(inp.shape) || inp.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ExportError(
        `exportModel: input '${inp.name}' shape [${inp.shape}] must be positive integers`,
      );
    }
    if (inp.shape.length < 1 || inp.shape.length > 2) {
      throw new ExportError(`exportModel: input '${inp.name}' must be [channels, length] or [features]`);
    }
    const source: InputSource =
      inp.source ?? (inp.shape.length === 2 ? { kind: 'window' } : { kind: 'external' });
    return { name: inp.name, shape: [...inp.shape], source };
  });
}

function headerInput(opts: ExportOptions, inputs: GraphInputSpec[]): InputSpec {
  const window = inputs.find((i) => i.source.kind === 'window');
  const channels = opts.input.channels ?? window?.shape[0];
  const length = opts.input.length ?? window?.shape[1];
  if (channels === undefined || length === undefined) {
    throw new ExportError(
      'exportModel: no input has source window, so input.channels and input.length are required',
    );
  }
  return { channels, length, sampleRate: opts.input.sampleRate };
}

/**
 * Translates `module` (its evaluation-mode forward) into an @ecgnn/infer model spec: the graph's inputs are
 * `opts.inputs` (the module's forward arguments, in order), its output the module's output, which must be a
 * `[classes]` vector per sample. Each module is translated by its class's emitter (see `registerExporter`);
 * a module without one, or a configuration infer cannot run, throws an {@link ExportError} naming the module's
 * path. The model is put in evaluation mode while exporting and its modes are restored afterwards.
 */
export function exportModel(module: nn.AnyModule, opts: ExportOptions): ExportedModel {
  if (!(module instanceof nn.Module)) throw new ExportError('exportModel: module must be an nn.Module');
  const inputs = checkOptions(opts);
  const input = headerInput(opts, inputs);
  const ctx = new Context(opts);
  const modes = [...module.modules()].map((m) => [m, m.training] as const);
  module.eval();
  let output: string;
  try {
    const names = inputs.map((i) => ctx.graph.input(i.name, i.shape));
    output = noGrad(() => ctx.emit(module, names, ''));
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  const info = ctx.graph.info(output);
  if (info.kind !== 'float' || info.shape.length !== 1 || info.shape[0] !== opts.classes.length) {
    throw new ExportError(
      atPath(
        '',
        `the output is ${info.kind} [${info.shape}] per sample; it must be the float [${opts.classes.length}] logits vector (one per class)`,
      ),
    );
  }
  if (inputs.some((i) => i.name === output)) {
    throw new ExportError(atPath('', 'the model returns its input unchanged; there is nothing to export'));
  }
  return {
    ...(opts.name === undefined ? {} : { name: opts.name }),
    input,
    classes: [...opts.classes],
    outputActivation: opts.outputActivation ?? 'softmax',
    ...(opts.preprocessing === undefined ? {} : { preprocessing: opts.preprocessing }),
    ...(opts.windowing === undefined ? {} : { windowing: opts.windowing }),
    graph: { inputs, outputs: [output], nodes: ctx.graph.nodes },
    tensors: ctx.graph.tensors,
    provenance: { exporter: '@ecgnn/export', ...(opts.provenance ?? {}) },
  };
}

/** {@link exportModel}, written to model-file bytes by @ecgnn/infer's `saveModel` (which validates them). */
export function exportModelBytes(module: nn.AnyModule, opts: ExportOptions): Uint8Array {
  return saveModel(exportModel(module, opts));
}
