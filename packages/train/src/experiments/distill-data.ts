/**
 * Data of the distillation experiment: MIT-BIH beats (AAMI classes, beat window + RR features as
 * `loadBeatDataset` prepares them) split by protocol. Inter-patient: train and validation are the patient-wise
 * split of DS1 (@ecgnn/data `interPatientValidationSplit`), and the DS2 test set is a separate loader that the
 * experiment calls once, after every model is trained. Intra-patient: one random split of all beats of the 44
 * non-paced records (patients on both sides), labelled as such.
 */
import { EcgnnError } from '@ecgnn/core';
import { DS1, DS2, interPatientValidationSplit, intraPatientSplit, recordAamiCounts } from '@ecgnn/data';
import { classCounts, type Dataset, subsetDataset } from '../dataset.js';
import { loadBeatDataset } from '../datasets.js';
import { beatPreprocessing } from '../preprocess.js';
import { type DistillProtocol, type DistillSettings, SMOKE_RECORDS } from './distill-config.js';

/** Seed of the validation draw and of the intra-patient split: fixed, so every run seed sees the same split. */
export const SPLIT_SEED = 0;

/** The training and validation data of a run, and the way to the test data. */
export interface DistillData {
  /** Protocol label of the results rows. */
  protocol: string;
  /** The split as @ecgnn/data names it (records, seeds). */
  splitDescription: string;
  /** Records per split (intra-patient: the records every split draws from). */
  records: { train: string[]; validation: string[]; test: string[] };
  /** Training items. */
  train: Dataset;
  /** Validation items (model selection only). */
  validation: Dataset;
  /**
   * Loads the test items. Call once, after training: the test split must not influence any choice. Throws if
   * called a second time.
   */
  loadTest(): Dataset;
}

/** Records of `candidates` with the most S + V beats (ties by name), the first `n`, sorted. */
function richest(
  candidates: readonly string[],
  counts: ReturnType<typeof recordAamiCounts>,
  n: number,
): string[] {
  const score = (r: string): number => counts[r].S + counts[r].V;
  return [...candidates]
    .sort((a, b) => score(b) - score(a) || a.localeCompare(b))
    .slice(0, n)
    .sort();
}

function onceOnly(load: () => Dataset): () => Dataset {
  let used = false;
  return () => {
    if (used)
      throw new EcgnnError('the test split was already read: it is read once, by the final evaluation');
    used = true;
    return load();
  };
}

/** Loads the data of `protocol` (see the module comment); `smoke` keeps a few records. */
export function loadDistillData(
  protocol: DistillProtocol,
  settings: DistillSettings,
  opts: { dataDir?: string; smoke: boolean },
): DistillData {
  const preprocessing = beatPreprocessing();
  const load = (records: readonly string[]): Dataset =>
    loadBeatDataset(records, { dataDir: opts.dataDir, preprocessing, every: settings.every });
  const counts = recordAamiCounts(DS1, { dataDir: opts.dataDir });
  const split = interPatientValidationSplit({ seed: SPLIT_SEED, recordCounts: counts });
  let train = [...split.records.train];
  let validation = [...split.records.validation];
  let test = [...split.records.test];
  if (opts.smoke) {
    train = richest(train, counts, SMOKE_RECORDS.train);
    validation = richest(validation, counts, SMOKE_RECORDS.validation);
    test = [...SMOKE_RECORDS.test];
  }
  const sub = settings.every > 1 ? `; every ${settings.every}th beat of each record` : '';
  if (protocol === 'inter-patient') {
    return {
      protocol: 'inter-patient DS1/DS2',
      splitDescription: `${split.protocol}${opts.smoke ? '; smoke subset of records' : ''}${sub}`,
      records: { train, validation, test },
      train: load(train),
      validation: load(validation),
      loadTest: onceOnly(() => load(test)),
    };
  }
  const records = opts.smoke ? [...train, ...validation, ...test].sort() : [...DS1, ...DS2].sort();
  const all = load(records);
  const s = intraPatientSplit(all.count, settings.intraFractions, SPLIT_SEED);
  const desc = (what: string) => `${what} of the intra-patient random split of ${all.description}`;
  return {
    protocol: 'intra-patient random (patients on both sides)',
    splitDescription: `${s.protocol}; fractions ${settings.intraFractions.join('/')} of ${records.length} records${opts.smoke ? ' (smoke subset)' : ''}${sub}`,
    records: { train: records, validation: records, test: records },
    train: subsetDataset(all, s.train, desc('training items')),
    validation: subsetDataset(all, s.validation, desc('validation items')),
    loadTest: onceOnly(() => subsetDataset(all, s.test, desc('test items'))),
  };
}

/** Items per class name of a dataset. */
export function countsByName(ds: Dataset): Record<string, number> {
  const c = classCounts(ds);
  return Object.fromEntries(ds.classes.map((name, i) => [name, c[i]]));
}
