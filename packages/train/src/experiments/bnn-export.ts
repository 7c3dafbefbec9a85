/**
 * Export of the binary network of @ecgnn/models (`kind: 'bnn'`) and its float twin to @ecgnn/infer model
 * files: the trunk through @ecgnn/export's built-in emitters (bit-packed weights, BatchNorm + PReLU + sign
 * folded into integer thresholds where exact), dropout (no node) and a `sumOverTime` head
 * (`sumOverTimeEmitter`), with the input description from the training data's preprocessing (`modelIO`).
 */
import {
  type Emitter,
  ExportError,
  type ExportedModel,
  exportModel,
  type StoragePolicy,
  sumOverTimeEmitter,
} from '@ecgnn/export';
import { BinaryEcgNet } from '@ecgnn/models';
import { type DatasetPreprocessing, modelIO } from '../preprocess.js';

/** The emitter of a {@link BinaryEcgNet}: `features` → `drop` → sum over time. */
export const emitBinaryEcgNet: Emitter<BinaryEcgNet> = sumOverTimeEmitter<BinaryEcgNet>((m) => ({
  trunk: m.features,
  drop: m.drop,
}));

/** Options of {@link exportBnn}. */
export interface BnnExportOptions {
  /** Class names, one per output. */
  classes: readonly string[];
  /** Model name stored in the header. */
  name?: string;
  /** Free-form provenance; the model config is added as `model`. Keep it short: it is part of the file. */
  provenance?: Record<string, unknown>;
  /** Storage of float tensors (default @ecgnn/export's: sparse where smaller). */
  storage?: StoragePolicy;
}

/**
 * The @ecgnn/infer model spec of a trained {@link BinaryEcgNet} whose training data was made by
 * `preprocessing`: one graph input `window` `[1, length]` (segment windowing, z-score per window), softmax
 * output. Throws an ExportError when the sizes disagree.
 */
export function exportBnn(
  model: BinaryEcgNet,
  preprocessing: DatasetPreprocessing,
  opts: BnnExportOptions,
): ExportedModel {
  if (!(model instanceof BinaryEcgNet)) {
    throw new ExportError('exportBnn: the model is not a BinaryEcgNet of @ecgnn/models');
  }
  const io = modelIO(preprocessing);
  const { length, inChannels, classes } = model.config;
  if (io.inputs.length !== 1 || inChannels !== io.input.channels || length !== io.input.length) {
    throw new ExportError(
      `exportBnn: bnn takes [${inChannels}, ${length}] windows and nothing else; the preprocessing makes [${io.input.channels}, ${io.input.length}]${io.inputs.length > 1 ? ' and RR features' : ''}`,
    );
  }
  if (opts.classes.length !== classes) {
    throw new ExportError(`exportBnn: bnn has ${classes} outputs but ${opts.classes.length} class names`);
  }
  return exportModel(model, {
    inputs: io.inputs,
    classes: [...opts.classes],
    name: opts.name,
    input: io.input,
    windowing: io.windowing,
    preprocessing: io.preprocessing,
    outputActivation: 'softmax',
    storage: opts.storage,
    provenance: { model: model.config, ...(opts.provenance ?? {}) },
    emitters: new Map([[model, emitBinaryEcgNet as Emitter]]),
  });
}
