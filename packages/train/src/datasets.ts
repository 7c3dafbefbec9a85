/**
 * Dataset builders: beat datasets from MIT-BIH records or from synthetic ECG, and fragment datasets from a
 * `FragmentSet` of @ecgnn/data (e.g. the 17-class 10-s set), each made by one declared preprocessing.
 */
import { ValueError } from '@ecgnn/core';
import {
  AAMI_CLASSES,
  type DataDirOptions,
  extractBeats,
  type FragmentSet,
  leadIndex,
  loadAnnotations,
  loadRecord,
  SYNTHETIC_CLASSES,
  syntheticEcg,
} from '@ecgnn/data';
import { concatDatasets, type Dataset, type DatasetInput } from './dataset.js';
import {
  type BeatItems,
  type BeatPreprocessing,
  beatItems,
  beatPreprocessing,
  cutWindow,
  type FragmentPreprocessing,
  filterSignal,
  fragmentPreprocessing,
  INPUT_NAMES,
} from './preprocess.js';

/** The AAMI classes, the label set of beat datasets (index = label). */
export const BEAT_CLASSES: readonly string[] = [...AAMI_CLASSES];

function beatDataset(items: BeatItems, group: string, spec: BeatPreprocessing, description: string): Dataset {
  const inputs: DatasetInput[] = [{ name: INPUT_NAMES.window, shape: [1, spec.length], data: items.window }];
  if (spec.rr !== null)
    inputs.push({ name: INPUT_NAMES.rr, shape: [spec.rr.features.length], data: items.rr });
  return {
    count: items.count,
    inputs,
    label: items.label,
    classes: [...BEAT_CLASSES],
    group: new Array<string>(items.count).fill(group),
    preprocessing: spec,
    description,
  };
}

/** Options of {@link loadBeatDataset}. */
export interface BeatDatasetOptions extends DataDirOptions {
  /** Preprocessing (default: {@link beatPreprocessing}`()`, the main job's). */
  preprocessing?: BeatPreprocessing;
  /** Keep every `every`-th labelled beat of each record (default 1: all). RR features still use every beat. */
  every?: number;
}

/**
 * The AAMI-labelled beats of MIT-BIH `records` (reference `atr` annotations) as a dataset with inputs
 * `window` `[1, length]` and, with RR features, `rr` `[features]`; labels N S V F Q = 0…4; group = record.
 * Beats without an AAMI class are left out but count for the RR intervals.
 */
export function loadBeatDataset(records: readonly string[], opts: BeatDatasetOptions = {}): Dataset {
  const spec = opts.preprocessing ?? beatPreprocessing();
  const every = opts.every ?? 1;
  if (!Number.isInteger(every) || every < 1)
    throw new ValueError(`loadBeatDataset: every must be a positive integer, got ${every}`);
  if (records.length === 0) throw new ValueError('loadBeatDataset: no records');
  const parts: Dataset[] = [];
  for (const r of records) {
    const rec = loadRecord('mitdb', r, { dataDir: opts.dataDir });
    const ann = loadAnnotations('mitdb', r, 'atr', { dataDir: opts.dataDir });
    // One-sample windows: only the R peaks and labels of extractBeats are used here.
    const all = extractBeats(rec, ann, { lead: spec.lead, before: 0, after: 1 / rec.fs, aamiOnly: false });
    const labels = Int32Array.from(all.label);
    let seen = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] < 0) continue;
      if (seen % every !== 0) labels[i] = -1;
      seen++;
    }
    const signal = rec.signals[leadIndex(rec, spec.lead)];
    const items = beatItems({ signal, fs: rec.fs, beats: all.sample, labels }, spec);
    parts.push(beatDataset(items, r, spec, `mitdb ${r}`));
  }
  const sub = every > 1 ? `, every ${every}th beat` : '';
  return concatDatasets(parts, `MIT-BIH beats of records ${records.join(' ')}${sub} (reference annotations)`);
}

/** Options of {@link syntheticBeatDataset}. */
export interface SyntheticBeatOptions {
  /** Synthetic "patients" (records), each with its own seed and heart rate (default 2). */
  records?: number;
  /** Seconds per record (default 60). */
  seconds?: number;
  /** Probability of a premature ventricular beat (V) (default 0.15). */
  pvcProbability?: number;
  /** Probability of a premature atrial beat (S) (default 0.15). */
  apcProbability?: number;
  /** Seed of the first record; record i uses seed + i (default 0). */
  seed?: number;
  /** Preprocessing (default: {@link beatPreprocessing}`()`). */
  preprocessing?: BeatPreprocessing;
}

/**
 * Beats of synthetic ECG (McSharry et al. 2003 model in @ecgnn/data, 360 Hz, N/S/V beats) as a beat dataset
 * with the AAMI label set; each record gets heart rate 60 + 10·(i mod 4) bpm. Not patient data: the
 * description says so.
 */
export function syntheticBeatDataset(opts: SyntheticBeatOptions = {}): Dataset {
  const spec = opts.preprocessing ?? beatPreprocessing();
  const n = opts.records ?? 2;
  if (!Number.isInteger(n) || n < 1)
    throw new ValueError(`syntheticBeatDataset: records must be ≥ 1, got ${n}`);
  const seed = opts.seed ?? 0;
  const parts: Dataset[] = [];
  for (let i = 0; i < n; i++) {
    const ecg = syntheticEcg({
      seconds: opts.seconds ?? 60,
      fs: 360,
      heartRate: 60 + 10 * (i % 4),
      pvcProbability: opts.pvcProbability ?? 0.15,
      apcProbability: opts.apcProbability ?? 0.15,
      seed: seed + i,
    });
    // Synthetic labels index SYNTHETIC_CLASSES; map them to the AAMI label set by name.
    const labels = Int32Array.from(ecg.labels, (l) => BEAT_CLASSES.indexOf(SYNTHETIC_CLASSES[l]));
    const items = beatItems({ signal: ecg.signal, fs: ecg.fs, beats: ecg.rPeaks, labels }, spec);
    parts.push(beatDataset(items, `synthetic-${seed + i}`, spec, ecg.description));
  }
  return concatDatasets(
    parts,
    `synthetic ECG beats (McSharry 2003 model), ${n} records, seeds ${seed}…${seed + n - 1}`,
  );
}

/**
 * A fragment dataset from a @ecgnn/data `FragmentSet` (e.g. `loadFragments17()`): each fragment filtered by
 * `spec` ({@link filterSignal}: resampled to `spec.sampleRate`, optional baseline removal and band-pass) and
 * z-scored; one input `window` `[1, length]`; labels and classes from the set; group = record. The resampled
 * fragment must have exactly `spec.length` samples.
 */
export function fragmentDataset(
  set: FragmentSet,
  spec: FragmentPreprocessing = fragmentPreprocessing(),
): Dataset {
  const L = spec.length;
  const resampledLength = Math.round((set.length * spec.sampleRate) / set.fs);
  if (resampledLength !== L) {
    throw new ValueError(
      `fragmentDataset: fragments of ${set.length} samples at ${set.fs} Hz become ${resampledLength} samples at ${spec.sampleRate} Hz, but the preprocessing length is ${L}`,
    );
  }
  const window = new Float32Array(set.count * L);
  for (let i = 0; i < set.count; i++) {
    const sig = filterSignal(set.x.subarray(i * set.length, (i + 1) * set.length), set.fs, spec);
    cutWindow(sig, 0, spec, window.subarray(i * L, (i + 1) * L));
  }
  return {
    count: set.count,
    inputs: [{ name: INPUT_NAMES.window, shape: [1, L], data: window }],
    label: Int32Array.from(set.label),
    classes: [...set.classNames],
    group: [...set.record],
    preprocessing: spec,
    description: set.description,
  };
}
