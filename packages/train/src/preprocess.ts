/**
 * Per-sample preprocessing, declared once as plain JSON: the dataset builders apply it to raw ECG, and
 * {@link modelIO} turns the same object into the input description of an exported model (inputs, sampling
 * rate, windowing, filters), so `@ecgnn/infer`'s streaming classifier repeats exactly the steps the training
 * data went through. The order is infer's: resample to the model rate → baseline-wander removal → band-pass →
 * cut the window → z-score it.
 */
import { ValueError } from '@ecgnn/core';
import {
  butterworthBandpass,
  isRrFeatureName,
  normalizeRr,
  type RrFeatureName,
  removeBaselineWander,
  resample,
  rrFeatures,
  zscore,
} from '@ecgnn/data';
import type { GraphInputSpec, InputSpec, Preprocessing, Windowing } from '@ecgnn/infer';

/** Filters and normalisation shared by beat and fragment preprocessing. */
export interface SignalPreprocessing {
  /** Lead to use: a signal description such as `'MLII'` (falling back to signal 0) or an index. */
  lead: string | number;
  /** Sampling rate of the model's input windows, Hz (the lead is resampled to it). */
  sampleRate: number;
  /** Samples per window at `sampleRate`. */
  length: number;
  /** Remove baseline wander (two median filters) after resampling. */
  removeBaseline: boolean;
  /** Butterworth band-pass `[lowHz, highHz]` after baseline removal, or null for none. */
  bandpass: [number, number] | null;
  /** Order of each Butterworth filter of the band-pass. */
  bandpassOrder: number;
  /** Per-window normalisation. */
  normalize: 'zscore' | 'none';
  /** Epsilon added to the standard deviation by the z-score. */
  zscoreEps: number;
}

/** RR features given to a model next to its beat window (see @ecgnn/dsp `rrFeatures`, `normalizeRr`). */
export interface RrSpec {
  /** Named features, in input order. */
  features: RrFeatureName[];
  /** Beats on each side of the local mean RR. */
  localHalfWidth: number;
}

/** Beat windows centred on R peaks (`before` samples before the peak, `length − before` from it on). */
export interface BeatPreprocessing extends SignalPreprocessing {
  /** Discriminant. */
  kind: 'beat';
  /** Samples before the R peak at `sampleRate`. */
  before: number;
  /** RR features of each beat, or null for a waveform-only model. */
  rr: RrSpec | null;
}

/** Consecutive fixed-length fragments (e.g. 10 s), `hop` samples apart. */
export interface FragmentPreprocessing extends SignalPreprocessing {
  /** Discriminant. */
  kind: 'fragment';
  /** Samples between fragment starts at `sampleRate` (= `length` for non-overlapping fragments). */
  hop: number;
}

/** How a dataset's items were made from raw ECG. */
export type DatasetPreprocessing = BeatPreprocessing | FragmentPreprocessing;

/** The main job's RR features: ratios of the previous, next and local RR to the patient's rhythm. */
export const DEFAULT_RR_FEATURES: readonly RrFeatureName[] = [
  'pre/local-1',
  'post/local-1',
  'local/record-1',
  'pre/record-1',
];

function checkSignalSpec(op: string, s: SignalPreprocessing): void {
  const bad = (what: string, v: unknown): never => {
    throw new ValueError(`${op}: ${what}, got ${JSON.stringify(v)}`);
  };
  if (!(typeof s.lead === 'string' || (Number.isInteger(s.lead) && s.lead >= 0)))
    bad('lead must be a name or index', s.lead);
  if (!(Number.isFinite(s.sampleRate) && s.sampleRate > 0)) bad('sampleRate must be positive', s.sampleRate);
  if (!Number.isInteger(s.length) || s.length < 1) bad('length must be a positive integer', s.length);
  if (s.bandpass !== null) {
    const [lo, hi] = s.bandpass;
    if (!(lo >= 0 && hi > lo && hi < s.sampleRate / 2))
      bad('bandpass must be [low, high] with 0 ≤ low < high < sampleRate/2', s.bandpass);
  }
  if (!Number.isInteger(s.bandpassOrder) || s.bandpassOrder < 1)
    bad('bandpassOrder must be a positive integer', s.bandpassOrder);
  if (s.normalize !== 'zscore' && s.normalize !== 'none')
    bad("normalize must be 'zscore' or 'none'", s.normalize);
  if (!(s.zscoreEps >= 0)) bad('zscoreEps must be ≥ 0', s.zscoreEps);
}

/**
 * A complete beat preprocessing: the main job's (MLII, 180 Hz, 45 + 81 samples around the R peak, z-scored,
 * the four RR ratios of {@link DEFAULT_RR_FEATURES} with a ±5-beat local mean) overridden by `spec`.
 */
export function beatPreprocessing(spec: Partial<Omit<BeatPreprocessing, 'kind'>> = {}): BeatPreprocessing {
  const out: BeatPreprocessing = {
    kind: 'beat',
    lead: spec.lead ?? 'MLII',
    sampleRate: spec.sampleRate ?? 180,
    length: spec.length ?? 126,
    before: spec.before ?? 45,
    removeBaseline: spec.removeBaseline ?? false,
    bandpass: spec.bandpass ?? null,
    bandpassOrder: spec.bandpassOrder ?? 2,
    normalize: spec.normalize ?? 'zscore',
    zscoreEps: spec.zscoreEps ?? 1e-6,
    rr:
      spec.rr === undefined
        ? { features: [...DEFAULT_RR_FEATURES], localHalfWidth: 5 }
        : spec.rr === null
          ? null
          : { features: [...spec.rr.features], localHalfWidth: spec.rr.localHalfWidth },
  };
  checkSignalSpec('beatPreprocessing', out);
  if (!Number.isInteger(out.before) || out.before < 0 || out.before >= out.length) {
    throw new ValueError(`beatPreprocessing: before must be an integer in [0, length), got ${out.before}`);
  }
  if (out.rr !== null) {
    const { features, localHalfWidth } = out.rr;
    if (features.length === 0 || !features.every(isRrFeatureName)) {
      throw new ValueError(
        `beatPreprocessing: rr.features must be RR feature names, got ${JSON.stringify(features)}`,
      );
    }
    if (!Number.isInteger(localHalfWidth) || localHalfWidth < 0) {
      throw new ValueError(
        `beatPreprocessing: rr.localHalfWidth must be a non-negative integer, got ${localHalfWidth}`,
      );
    }
  }
  return out;
}

/**
 * A complete fragment preprocessing: 10-s non-overlapping fragments at 360 Hz, z-scored (Pu et al. 2023's
 * input), overridden by `spec`.
 */
export function fragmentPreprocessing(
  spec: Partial<Omit<FragmentPreprocessing, 'kind'>> = {},
): FragmentPreprocessing {
  const length = spec.length ?? 3600;
  const out: FragmentPreprocessing = {
    kind: 'fragment',
    lead: spec.lead ?? 'MLII',
    sampleRate: spec.sampleRate ?? 360,
    length,
    hop: spec.hop ?? length,
    removeBaseline: spec.removeBaseline ?? false,
    bandpass: spec.bandpass ?? null,
    bandpassOrder: spec.bandpassOrder ?? 2,
    normalize: spec.normalize ?? 'zscore',
    zscoreEps: spec.zscoreEps ?? 1e-6,
  };
  checkSignalSpec('fragmentPreprocessing', out);
  if (!Number.isInteger(out.hop) || out.hop < 1) {
    throw new ValueError(`fragmentPreprocessing: hop must be a positive integer, got ${out.hop}`);
  }
  return out;
}

/**
 * One lead at `fs` → the signal the windows are cut from: resampled to `spec.sampleRate` (windowed sinc), then
 * baseline-wander removal and band-pass when the spec asks for them. Returns a new array.
 */
export function filterSignal(signal: Float32Array, fs: number, spec: SignalPreprocessing): Float32Array {
  let sig = fs === spec.sampleRate ? signal.slice() : resample(signal, fs, spec.sampleRate);
  if (spec.removeBaseline) sig = removeBaselineWander(sig, spec.sampleRate, sig);
  if (spec.bandpass !== null) {
    sig = butterworthBandpass(
      sig,
      spec.sampleRate,
      spec.bandpass[0],
      spec.bandpass[1],
      spec.bandpassOrder,
      sig,
    );
  }
  return sig;
}

/**
 * Copies `length` samples of `sig` from `start` into `out` (samples outside the signal repeat the end sample,
 * as @ecgnn/data pads beat windows), then z-scores `out` in place when the spec says so.
 */
export function cutWindow(
  sig: Float32Array,
  start: number,
  spec: SignalPreprocessing,
  out: Float32Array,
): void {
  const last = sig.length - 1;
  for (let t = 0; t < spec.length; t++) out[t] = sig[Math.min(last, Math.max(0, start + t))];
  if (spec.normalize === 'zscore') zscore(out, spec.zscoreEps, out);
}

/** Raw ECG of one record with its beats, the input of {@link beatItems}. */
export interface BeatSource {
  /** The lead, at `fs`. */
  signal: Float32Array;
  /** Sampling rate of `signal`, Hz. */
  fs: number;
  /** Sample index (at `fs`) of the R peak of EVERY beat of the record, increasing (RR intervals use them all). */
  beats: Int32Array;
  /** Class of each beat; beats with a negative class get no item but still count for the RR intervals. */
  labels: ArrayLike<number>;
}

/** Items of one record: beat windows, RR features and labels, for beats with a class ≥ 0. */
export interface BeatItems {
  /** Number of items. */
  count: number;
  /** Windows, row-major `[count, length]`. */
  window: Float32Array;
  /** RR features, row-major `[count, rr.features.length]` (empty without RR features). */
  rr: Float32Array;
  /** Class of each item. */
  label: Int32Array;
  /** Index into `source.beats` of each item. */
  beat: Int32Array;
}

/**
 * Beat windows and RR features of one record by `spec`: the lead is filtered once ({@link filterSignal}), a
 * window starts `before` samples before each R peak (rounded to the nearest sample at the model rate) and is
 * z-scored; RR features come from all beats at the original rate (seconds, so rate-independent).
 */
export function beatItems(source: BeatSource, spec: BeatPreprocessing): BeatItems {
  const { beats, labels, fs } = source;
  const nBeats = beats.length;
  if (labels.length !== nBeats)
    throw new ValueError(`beatItems: ${labels.length} labels for ${nBeats} beats`);
  for (let i = 1; i < nBeats; i++) {
    if (!(beats[i] > beats[i - 1]))
      throw new ValueError(`beatItems: beat ${i} (sample ${beats[i]}) is not after beat ${i - 1}`);
  }
  const keep: number[] = [];
  for (let i = 0; i < nBeats; i++) if (labels[i] >= 0) keep.push(i);
  const n = keep.length;
  const L = spec.length;
  const sig = filterSignal(source.signal, fs, spec);
  const window = new Float32Array(n * L);
  const label = new Int32Array(n);
  const ratio = spec.sampleRate / fs;
  for (let j = 0; j < n; j++) {
    const i = keep[j];
    const start = Math.round(beats[i] * ratio) - spec.before;
    cutWindow(sig, start, spec, window.subarray(j * L, (j + 1) * L));
    label[j] = labels[i];
  }
  let rr = new Float32Array(0);
  if (spec.rr !== null) {
    const R = spec.rr.features.length;
    const all = normalizeRr(rrFeatures(beats, fs, spec.rr.localHalfWidth), nBeats, spec.rr.features);
    rr = new Float32Array(n * R);
    for (let j = 0; j < n; j++) rr.set(all.subarray(keep[j] * R, (keep[j] + 1) * R), j * R);
  }
  return { count: n, window, rr, label, beat: Int32Array.from(keep) };
}

/** The input description of a model trained on data preprocessed by `spec` (fields of an exported model). */
export interface ModelIO {
  /** Graph inputs: `window` `[1, length]` and, for beats with RR features, `rr` `[features]`. */
  inputs: GraphInputSpec[];
  /** The waveform input: channels, length, sampling rate. */
  input: InputSpec;
  /** Filters and normalisation for infer's streaming classifier. */
  preprocessing: Preprocessing;
  /** How windows are cut from a stream. */
  windowing: Windowing;
}

/** Graph input names used by the datasets and {@link modelIO}. */
export const INPUT_NAMES = { window: 'window', rr: 'rr' } as const;

/** The exported-model input description of `spec` (see {@link ModelIO}). */
export function modelIO(spec: DatasetPreprocessing): ModelIO {
  const inputs: GraphInputSpec[] = [
    { name: INPUT_NAMES.window, shape: [1, spec.length], source: { kind: 'window' } },
  ];
  if (spec.kind === 'beat' && spec.rr !== null) {
    inputs.push({
      name: INPUT_NAMES.rr,
      shape: [spec.rr.features.length],
      source: { kind: 'rr', features: [...spec.rr.features], localHalfWidth: spec.rr.localHalfWidth },
    });
  }
  const preprocessing: Preprocessing = {
    removeBaseline: spec.removeBaseline,
    normalize: spec.normalize,
    zscoreEps: spec.zscoreEps,
  };
  if (spec.bandpass !== null) {
    preprocessing.bandpass = [spec.bandpass[0], spec.bandpass[1]];
    preprocessing.bandpassOrder = spec.bandpassOrder;
  }
  return {
    inputs,
    input: { channels: 1, length: spec.length, sampleRate: spec.sampleRate },
    preprocessing,
    windowing:
      spec.kind === 'beat' ? { mode: 'beat', before: spec.before } : { mode: 'segment', hop: spec.hop },
  };
}

/** What {@link beatPreprocessingOf} reads of a model: its inputs and header fields (an infer `Model` has them). */
export interface ModelInputDescription {
  /** Graph inputs with their sources. */
  inputs: readonly GraphInputSpec[];
  /** Header fields. */
  metadata: { input: InputSpec; preprocessing: Preprocessing; windowing: Windowing };
}

/**
 * The inverse of {@link modelIO} for beat models: the {@link BeatPreprocessing} that makes a model's inputs from
 * MIT-BIH beats (lead `lead`), so a model file can be evaluated on beat datasets. Defaults absent from the header
 * are infer's (no baseline removal, no band-pass, z-score with ε 1e-8). Throws a ValueError saying what does not
 * fit when the model is not a beat model: segment windowing, an input fed by the caller (`external`), more than
 * one window or RR input, or a window of more than one channel.
 */
export function beatPreprocessingOf(
  model: ModelInputDescription,
  lead: string | number = 'MLII',
): BeatPreprocessing {
  const { input, preprocessing: p, windowing } = model.metadata;
  const fail = (what: string): never => {
    throw new ValueError(`not a beat model: ${what}`);
  };
  if (windowing.mode !== 'beat') fail(`its windows are ${windowing.mode}s (hop ${windowing.hop}), not beats`);
  const kinds = model.inputs.map((i) => i.source.kind);
  const external = model.inputs.find((i) => i.source.kind === 'external');
  if (external) fail(`input '${external.name}' is supplied by the caller (source external)`);
  if (kinds.filter((k) => k === 'window').length !== 1)
    fail(`it has ${kinds.filter((k) => k === 'window').length} window inputs (one is needed)`);
  if (kinds.filter((k) => k === 'rr').length > 1) fail('it has more than one RR input');
  if (input.channels !== 1) fail(`its window has ${input.channels} channels (beat datasets have one lead)`);
  const rr = model.inputs.find((i) => i.source.kind === 'rr')?.source;
  return beatPreprocessing({
    lead,
    sampleRate: input.sampleRate,
    length: input.length,
    before: windowing.mode === 'beat' ? windowing.before : 0,
    removeBaseline: p.removeBaseline ?? false,
    bandpass: p.bandpass ? [p.bandpass[0], p.bandpass[1]] : null,
    bandpassOrder: p.bandpassOrder ?? 2,
    normalize: p.normalize ?? 'zscore',
    zscoreEps: p.zscoreEps ?? 1e-8,
    rr: rr?.kind === 'rr' ? { features: [...rr.features], localHalfWidth: rr.localHalfWidth } : null,
  });
}
