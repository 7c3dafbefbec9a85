/**
 * Export of the main job's {@link BeatNet} with @ecgnn/export. BeatNet's `forward(beat, rr)` is the model's own
 * composition, so it gets its own emitter (registered for the class when this module loads), composing the
 * built-in emitters of its parts: trunk (Conv1d + BatchNorm1d folded, ReLU, MaxPool1d), global average pooling,
 * dropout (no node), a `concat` with the RR input, and the linear head. The exported graph has two named inputs,
 * `beat` `[1, L]` (the z-scored beat window) and `rr` `[R]` (the RR features, computed by the deployed
 * classifier with the same @ecgnn/dsp code the training data used).
 */
import {
  childPath,
  type Emitter,
  ExportError,
  type ExportedModel,
  exportModel,
  registerExporter,
} from '@ecgnn/export';
import type { RR_FEATURE_NAMES } from './beats.js';
import { BeatNet } from './model.js';

/** BeatNet's emitter: trunk → pool → (dropout) → concat RR → head, each part by its built-in emitter. */
export const emitBeatNet: Emitter<BeatNet> = (ctx, model, inputs, path) => {
  const [beat, rr] = inputs;
  const trunk = ctx.emit(model.features, [beat], childPath(path, 'features'));
  const pooled = ctx.emit(model.pool, [trunk], childPath(path, 'pool'));
  let feats = ctx.emit(model.drop, [pooled], childPath(path, 'drop'));
  if (model.options.rrFeatures > 0) {
    if (rr === undefined)
      throw new ExportError(`BeatNet: exported with ${inputs.length} input(s); it takes beat and rr`);
    feats = ctx.graph.node('concat', [feats, rr], childPath(path, 'concat'));
  }
  return ctx.emit(model.head, [feats], childPath(path, 'head'));
};

registerExporter(BeatNet, emitBeatNet);

/** Header fields of an exported BeatNet that the model itself does not know. */
export interface ExportInfo {
  /** Model name. */
  name: string;
  /** Class names (one per output). */
  classes: string[];
  /** Sampling rate of the beat windows. */
  sampleRate: number;
  /** Samples before the R peak in a beat window. */
  beatBefore: number;
  /** The RR features the model takes, in order. */
  rrFeatures: readonly (typeof RR_FEATURE_NAMES)[number][];
  /** Beats on each side of a beat in the local RR mean. */
  rrLocalHalfWidth: number;
  /** ε of the per-beat z-score the training windows had. */
  zscoreEps: number;
  /** Free-form provenance (dataset, split, metrics, commit…). */
  provenance: Record<string, unknown>;
}

/**
 * The @ecgnn/infer model spec of a trained {@link BeatNet}: inputs `beat` `[1, L]` (source: the beat window,
 * z-scored as in training) and `rr` `[R]` (source: RR features), beat windowing, softmax output.
 */
export function exportBeatNet(model: BeatNet, info: ExportInfo): ExportedModel {
  const { length, rrFeatures } = model.options;
  if (rrFeatures !== info.rrFeatures.length) {
    throw new ExportError(`BeatNet takes ${rrFeatures} RR features, ${info.rrFeatures.length} are named`);
  }
  const inputs: Parameters<typeof exportModel>[1]['inputs'] = [
    { name: 'beat', shape: [1, length], source: { kind: 'window' } },
  ];
  if (rrFeatures > 0) {
    inputs.push({
      name: 'rr',
      shape: [rrFeatures],
      source: { kind: 'rr', features: [...info.rrFeatures], localHalfWidth: info.rrLocalHalfWidth },
    });
  }
  return exportModel(model, {
    inputs,
    classes: info.classes,
    name: info.name,
    input: { sampleRate: info.sampleRate },
    windowing: { mode: 'beat', before: info.beatBefore },
    // The training windows: the raw lead resampled, cut around the R peak and z-scored, no filtering.
    preprocessing: { removeBaseline: false, normalize: 'zscore', zscoreEps: info.zscoreEps },
    outputActivation: 'softmax',
    provenance: info.provenance,
  });
}
