/**
 * Export of the classifiers of @ecgnn/models to @ecgnn/infer model files, with the input description written
 * from the training data's declared preprocessing ({@link modelIO}), so infer's streaming classifier repeats the
 * steps the training items went through. The models' `forward(window, rr)` is their own composition (trunk →
 * global average pooling → dropout → concat RR → linear head), so it gets an emitter composing the built-in
 * emitters of its parts; it is passed per model instance (the `emitters` option of `exportModel`), not
 * registered globally, so importing this module has no side effect.
 */
import {
  childPath,
  type Emitter,
  ExportError,
  type ExportedModel,
  exportModel,
  type StoragePolicy,
} from '@ecgnn/export';
import { type EcgClassifier, PooledClassifier, type ResolvedIO } from '@ecgnn/models';
import { type DatasetPreprocessing, modelIO } from './preprocess.js';

/** A classifier of the trunk → pool → dropout → RR → head shape (every built-in kind of @ecgnn/models). */
type Pooled = PooledClassifier<ResolvedIO & { kind: string }>;

/**
 * The emitter of a {@link PooledClassifier}: its trunk, global average pooling and dropout (no node) by the
 * built-in emitters, a `concat` of the pooled features with the `rr` input when the model takes RR features,
 * then the linear head. Inputs: `[window]` or `[window, rr]`, as the model's `forward` arguments.
 */
export const emitPooledClassifier: Emitter<Pooled> = (ctx, model, inputs, path) => {
  const [window, rr] = inputs;
  const trunk = ctx.emit(model.features, [window], childPath(path, 'features'));
  const pooled = ctx.emit(model.pool, [trunk], childPath(path, 'pool'));
  let feats = ctx.emit(model.drop, [pooled], childPath(path, 'drop'));
  if (model.config.rrFeatures > 0) {
    if (rr === undefined) {
      throw new ExportError(
        `${model.config.kind}: exported with ${inputs.length} input(s); it takes a window and ${model.config.rrFeatures} RR features`,
      );
    }
    feats = ctx.graph.node('concat', [feats, rr], childPath(path, 'concat'));
  }
  return ctx.emit(model.head, [feats], childPath(path, 'head'));
};

/** Options of {@link exportClassifier}. */
export interface ClassifierExportOptions {
  /** Class names, one per output (the dataset's `classes`). */
  classes: readonly string[];
  /** Model name stored in the header. */
  name?: string;
  /** Storage of float tensors (default float32; see @ecgnn/export `StoragePolicy`). */
  storage?: StoragePolicy;
  /** Free-form provenance (dataset, split, metrics, commit, …); the model config is added as `model`. */
  provenance?: Record<string, unknown>;
  /** Output activation: softmax over the classes (default) or a sigmoid per label (multi-label models). */
  outputActivation?: 'softmax' | 'sigmoid';
}

/**
 * The @ecgnn/infer model spec of a trained classifier of @ecgnn/models whose training data was made by
 * `preprocessing`: graph inputs `window` `[1, length]` and (beats with RR features) `rr` `[features]` with their
 * sources, sampling rate, windowing and filters from {@link modelIO}, softmax output (or sigmoid per label). Throws an ExportError when
 * the model is not a {@link PooledClassifier} or its input sizes differ from the preprocessing's.
 */
export function exportClassifier(
  model: EcgClassifier,
  preprocessing: DatasetPreprocessing,
  opts: ClassifierExportOptions,
): ExportedModel {
  if (!(model instanceof PooledClassifier)) {
    throw new ExportError(
      `exportClassifier: ${model.constructor.name} is not a PooledClassifier of @ecgnn/models (register an emitter and call exportModel)`,
    );
  }
  const pooled = model as Pooled;
  const io = modelIO(preprocessing);
  const { length, rrFeatures, inChannels, classes, kind } = pooled.config;
  const rrInput = io.inputs.find((i) => i.source.kind === 'rr');
  const rrCount = rrInput === undefined ? 0 : rrInput.shape[0];
  if (inChannels !== io.input.channels || length !== io.input.length || rrFeatures !== rrCount) {
    throw new ExportError(
      `exportClassifier: ${kind} takes [${inChannels}, ${length}] windows and ${rrFeatures} RR features, ` +
        `the preprocessing makes [${io.input.channels}, ${io.input.length}] and ${rrCount}`,
    );
  }
  if (opts.classes.length !== classes) {
    throw new ExportError(
      `exportClassifier: ${kind} has ${classes} outputs but ${opts.classes.length} class names`,
    );
  }
  return exportModel(model, {
    inputs: io.inputs,
    classes: [...opts.classes],
    name: opts.name,
    input: io.input,
    windowing: io.windowing,
    preprocessing: io.preprocessing,
    outputActivation: opts.outputActivation ?? 'softmax',
    storage: opts.storage,
    provenance: { model: pooled.config, ...(opts.provenance ?? {}) },
    emitters: new Map([[model, emitPooledClassifier as Emitter]]),
  });
}
