/**
 * Data of the multi-scale attention experiment. Both sets are 10-s windows resampled to the run's sampling
 * rate and z-scored each (`fragmentDataset` with `fragmentPreprocessing({ sampleRate, length })`):
 * - `mitdb` (multi-label): non-overlapping 10-s windows of the MLII lead of every record, each labelled with
 *   every AAMI beat class annotated inside it and every rhythm in force during it (@ecgnn/data
 *   `multiLabelWindows`), restricted to {@link MULTILABEL_LABELS}. Patient-wise: DS1 records for training and
 *   validation (`interPatientValidationSplit`, class-balanced draw), DS2 records for test (de Chazal 2004).
 * - `mitbih17` (single-label): the 17-class fragments (Plawiak 2018), stratified split (patients on both sides).
 * The test items are handed out once, by `loadTest`, after training.
 */
import { ValueError } from '@ecgnn/core';
import {
  DS1,
  type FragmentSet,
  interPatientValidationSplit,
  leadIndex,
  loadAnnotations,
  loadFragments17,
  loadRecord,
  multiLabelWindows,
  recordAamiCounts,
  stratifiedSplit,
} from '@ecgnn/data';
import { concatDatasets, type Dataset, subsetDataset } from '../dataset.js';
import { fragmentDataset } from '../datasets.js';
import { fragmentPreprocessing } from '../preprocess.js';
import { everyNthOfClass, fragmentCounts, onceOnly } from './bnn-data.js';
import { MULTILABEL_LABELS, type MultiScaleDataset, type MultiScaleSettings } from './multiscale-config.js';

/** The training and validation data of a run, and the way to the test data. */
export interface MultiScaleData {
  /** `mitdb` or `mitbih17` (the results rows' dataset). */
  dataset: MultiScaleDataset;
  /** Whether the items carry multi-label targets (mitdb) or one class (mitbih17). */
  multiLabel: boolean;
  /** Protocol label of the results rows. */
  protocol: string;
  /** The split in words (records, fractions, seeds, subset). */
  splitDescription: string;
  /** Training items. */
  train: Dataset;
  /** Validation items (epoch and threshold selection only). */
  validation: Dataset;
  /** Loads the test items: call once, after training (a second call throws). */
  loadTest(): Dataset;
}

/** The only class of a multi-label window dataset's single-label fields (unused by training). */
export const MULTILABEL_CLASS = 'window';

/** Beat-class names of `multiLabelWindows`' `beatClasses` columns (AAMI order). */
const AAMI_COLUMNS = ['N', 'S', 'V', 'F', 'Q'];

/**
 * The 10-s windows of MIT-BIH `records` (MLII lead, 360 Hz) with multi-label targets over `labels`: a beat
 * class name (N S V F Q) is present when a beat of it is annotated inside the window, a rhythm name (`(AFIB`, …,
 * matched to `multiLabelWindows`' rhythm names without the parenthesis) when that rhythm is in force during any
 * of its samples. `every` keeps every `every`-th window of each record.
 * Windows are resampled to `sampleRate` and z-scored (`fragmentDataset`); group = record.
 */
export function loadMultiLabelWindows(
  records: readonly string[],
  opts: { labels?: readonly string[]; sampleRate: number; every?: number; dataDir?: string },
): Dataset {
  const labels = opts.labels ?? MULTILABEL_LABELS;
  const every = opts.every ?? 1;
  if (!Number.isInteger(every) || every < 1) {
    throw new ValueError(`loadMultiLabelWindows: every must be a positive integer, got ${every}`);
  }
  if (records.length === 0) throw new ValueError('loadMultiLabelWindows: no records');
  const spec = fragmentPreprocessing({ sampleRate: opts.sampleRate, length: 10 * opts.sampleRate });
  const parts = records.map((r) => {
    const rec = loadRecord('mitdb', r, { dataDir: opts.dataDir });
    const ann = loadAnnotations('mitdb', r, 'atr', { dataDir: opts.dataDir });
    const sig = rec.signals[leadIndex(rec, 'MLII')];
    const length = 10 * rec.fs;
    const w = multiLabelWindows(ann, sig.length, length);
    const keep: number[] = [];
    for (let i = 0; i < w.count; i += every) keep.push(i);
    const L = labels.length;
    const R = w.rhythmNames.length;
    const targets = new Float32Array(keep.length * L);
    const x = new Float32Array(keep.length * length);
    keep.forEach((i, j) => {
      x.set(sig.subarray(w.start[i], w.start[i] + length), j * length);
      labels.forEach((name, k) => {
        const beat = AAMI_COLUMNS.indexOf(name);
        // Rhythm labels are written '(AFIB' as in the annotations' aux strings; rhythmNames hold 'AFIB'.
        const rhythm = name.startsWith('(') ? w.rhythmNames.indexOf(name.slice(1)) : -1;
        const on = beat >= 0 ? w.beatClasses[i * 5 + beat] : rhythm >= 0 ? w.rhythms[i * R + rhythm] : 0;
        targets[j * L + k] = on;
      });
    });
    const set: FragmentSet = {
      description: `mitdb ${r}`,
      count: keep.length,
      length,
      fs: rec.fs,
      x,
      label: new Int8Array(keep.length),
      classNames: [MULTILABEL_CLASS],
      record: new Array<string>(keep.length).fill(r),
      start: Int32Array.from(keep, (i) => w.start[i]),
    };
    return { ...fragmentDataset(set, spec), targets, targetNames: [...labels] };
  });
  const sub = every > 1 ? `, 1 in ${every} windows` : '';
  return concatDatasets(
    parts,
    `MIT-BIH 10-s windows of records ${records.join(' ')}${sub}, multi-label (${labels.join(' ')}; reference annotations)`,
  );
}

/** Loads the data of a run (see the module comment). */
export function loadMultiScaleData(
  dataset: MultiScaleDataset,
  settings: MultiScaleSettings,
  opts: { dataDir?: string; smoke?: boolean } = {},
): MultiScaleData {
  const smoke = opts.smoke ? ' (smoke)' : '';
  if (dataset === 'mitdb') {
    let train: string[];
    let validation: string[];
    let test: string[];
    let protocol: string;
    if (settings.records === null) {
      const counts = recordAamiCounts(DS1, { dataDir: opts.dataDir });
      const split = interPatientValidationSplit({
        validationRecords: settings.validationRecords,
        seed: settings.splitSeed,
        recordCounts: counts,
      });
      ({ train, validation, test } = split.records);
      protocol = split.protocol;
    } else {
      const tv = settings.records.trainValidation;
      const k = settings.validationRecords;
      if (!(k >= 1 && k < tv.length)) {
        throw new ValueError(`multiscale: validationRecords ${k} of ${tv.length} records`);
      }
      train = tv.slice(0, tv.length - k);
      validation = tv.slice(tv.length - k);
      test = [...settings.records.test];
      protocol = `patient-wise record subset${smoke}`;
    }
    const load = (recs: readonly string[]): Dataset =>
      loadMultiLabelWindows(recs, {
        sampleRate: settings.sampleRate,
        every: settings.every,
        dataDir: opts.dataDir,
      });
    const sub = settings.every > 1 ? `; 1 in ${settings.every} windows${smoke}` : '';
    return {
      dataset,
      multiLabel: true,
      protocol: 'inter-patient DS1/DS2 (10-s windows, multi-label)',
      splitDescription: `${protocol}; train ${train.join(' ')}; validation ${validation.join(' ')}; test ${test.join(' ')}${sub}`,
      train: load(train),
      validation: load(validation),
      loadTest: onceOnly(() => load(test)),
    };
  }
  if (dataset !== 'mitbih17') throw new ValueError(`multiscale: unknown dataset ${JSON.stringify(dataset)}`);
  const spec = fragmentPreprocessing({ sampleRate: settings.sampleRate, length: 10 * settings.sampleRate });
  let all = fragmentDataset(loadFragments17({ dataDir: opts.dataDir }), spec);
  if (settings.every > 1) all = subsetDataset(all, everyNthOfClass(all.label, settings.every));
  const [a, b, c] = settings.fractions;
  const s = stratifiedSplit(all.label, settings.fractions, settings.splitSeed);
  const desc = (what: string): string => `${what} of the stratified split of ${all.description}`;
  const sub = settings.every > 1 ? `; 1 in ${settings.every} fragments of each class${smoke}` : '';
  return {
    dataset,
    multiLabel: false,
    protocol: `stratified fragments ${a}/${b}/${c} (patients on both sides)`,
    splitDescription: `${s.protocol}; fractions ${a}/${b}/${c} of ${all.count} fragments${sub}`,
    train: subsetDataset(all, s.train, desc('training fragments')),
    validation: subsetDataset(all, s.validation, desc('validation fragments')),
    loadTest: onceOnly(() => subsetDataset(all, s.test, desc('test fragments'))),
  };
}

/** Items per label (multi-label: windows with each label; single-label: items per class). */
export function labelCounts(ds: Dataset): Record<string, number> {
  if (ds.targets === undefined || ds.targetNames === undefined) return fragmentCounts(ds);
  const L = ds.targetNames.length;
  const out: Record<string, number> = {};
  ds.targetNames.forEach((name, k) => {
    let n = 0;
    for (let i = 0; i < ds.count; i++) n += (ds.targets as Float32Array)[i * L + k];
    out[name] = n;
  });
  return out;
}
