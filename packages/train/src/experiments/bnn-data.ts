/**
 * Data of the binary-network experiment: 10-s fragments (3600 samples at 360 Hz, z-scored each, as
 * `fragmentDataset` prepares them) of the 17-class set (`mitbih17`, Plawiak 2018) or of the 5-class AAMI set
 * built from mitdb (`buildAamiFragments`), split by protocol:
 * - `stratified`: @ecgnn/data's `stratifiedSplit` (train/validation/test within each class; patients on both
 *   sides, like the reference work's random 80/20 split, plus a validation part for choosing the epoch);
 * - `patient` (5 classes): DS1 records split patient-wise into training and validation
 *   (`interPatientValidationSplit`), DS2 records for test.
 * The test items are handed out once, by `loadTest`, after training.
 */
import { EcgnnError, ValueError } from '@ecgnn/core';
import {
  buildAamiFragments,
  DS1,
  DS2,
  interPatientValidationSplit,
  listRecords,
  loadFragments17,
  recordAamiCounts,
  stratifiedSplit,
} from '@ecgnn/data';
import { classCounts, type Dataset, subsetDataset } from '../dataset.js';
import { fragmentDataset } from '../datasets.js';
import { fragmentPreprocessing } from '../preprocess.js';
import type { BnnClassSet, BnnProtocol, BnnSettings } from './bnn-config.js';

/** The training and validation data of a run, and the way to the test data. */
export interface BnnData {
  /** `mitbih17` or `mitdb-fragments5` (the results rows' dataset). */
  dataset: string;
  /** Protocol label of the results rows. */
  protocol: string;
  /** The split in words (fractions, seeds, records, subset). */
  splitDescription: string;
  /** Training items. */
  train: Dataset;
  /** Validation items (epoch selection only). */
  validation: Dataset;
  /** Loads the test items: call once, after training (a second call throws). */
  loadTest(): Dataset;
}

/** Indices of every `every`-th item of each class, in dataset order. */
export function everyNthOfClass(labels: ArrayLike<number>, every: number): Int32Array {
  if (!Number.isInteger(every) || every < 1) {
    throw new ValueError(`everyNthOfClass: every must be a positive integer, got ${every}`);
  }
  const seen = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const k = seen.get(labels[i]) ?? 0;
    if (k % every === 0) out.push(i);
    seen.set(labels[i], k + 1);
  }
  return Int32Array.from(out);
}

/** Wraps a test-split loader so that it can be called once only (a second call throws). */
export function onceOnly(load: () => Dataset): () => Dataset {
  let used = false;
  return () => {
    if (used)
      throw new EcgnnError('the test split was already read: it is read once, by the final evaluation');
    used = true;
    return load();
  };
}

/** The fragments of the class set (all of them; `every` thins each class). */
function loadFragments(classes: BnnClassSet, records: readonly string[] | null, dataDir?: string): Dataset {
  const spec = fragmentPreprocessing();
  if (classes === 17) return fragmentDataset(loadFragments17({ dataDir }), spec);
  const recs = records ?? listRecords('mitdb', { dataDir });
  return fragmentDataset(buildAamiFragments(recs, { dataDir }), spec);
}

/** Loads the data of a run (see the module comment). */
export function loadBnnData(
  classes: BnnClassSet,
  protocol: BnnProtocol,
  settings: BnnSettings,
  opts: { dataDir?: string; smoke?: boolean } = {},
): BnnData {
  if (classes !== 17 && classes !== 5) throw new ValueError(`bnn: classes must be 17 or 5, got ${classes}`);
  const dataset = classes === 17 ? 'mitbih17' : 'mitdb-fragments5';
  const sub =
    settings.every > 1
      ? `; 1 in ${settings.every} fragments of each class${opts.smoke ? ' (smoke)' : ''}`
      : '';
  const thin = (ds: Dataset): Dataset =>
    settings.every > 1 ? subsetDataset(ds, everyNthOfClass(ds.label, settings.every)) : ds;
  if (protocol === 'patient') {
    if (classes !== 5) {
      throw new ValueError(
        'bnn: the patient-wise protocol needs the 5-class set (mitbih17 has 45 records, no DS1/DS2)',
      );
    }
    const counts = recordAamiCounts(DS1, { dataDir: opts.dataDir });
    const split = interPatientValidationSplit({ seed: settings.splitSeed, recordCounts: counts });
    const load = (r: readonly string[]): Dataset => thin(loadFragments(5, r, opts.dataDir));
    return {
      dataset,
      protocol: 'inter-patient DS1/DS2 (fragments)',
      splitDescription: `${split.protocol}${sub}`,
      train: load(split.records.train),
      validation: load(split.records.validation),
      loadTest: onceOnly(() => load(DS2)),
    };
  }
  const all = thin(loadFragments(classes, null, opts.dataDir));
  const [a, b, c] = settings.fractions;
  const s = stratifiedSplit(all.label, settings.fractions, settings.splitSeed);
  const desc = (what: string): string => `${what} of the stratified split of ${all.description}`;
  return {
    dataset,
    protocol: `stratified fragments ${a}/${b}/${c} (patients on both sides)`,
    splitDescription: `${s.protocol}; fractions ${a}/${b}/${c} of ${all.count} fragments${sub}`,
    train: subsetDataset(all, s.train, desc('training fragments')),
    validation: subsetDataset(all, s.validation, desc('validation fragments')),
    loadTest: onceOnly(() => subsetDataset(all, s.test, desc('test fragments'))),
  };
}

/** Items per class name of a dataset. */
export function fragmentCounts(ds: Dataset): Record<string, number> {
  const c = classCounts(ds);
  return Object.fromEntries(ds.classes.map((name, i) => [name, c[i]]));
}
