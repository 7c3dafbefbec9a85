/**
 * Data of the meta-learning experiment (method 2): MIT-BIH beats split into meta-training, validation and
 * meta-test sets with no class AND no record in common between meta-training and meta-testing.
 * - Meta-test: the rare beat types a, J, e, j, E, f, taken from the records that hold them (102, 104, 113, 124,
 *   201, 202, 207, 210, 217, 222, 223, 234); no other class is used there.
 * - Validation (choosing hyper-parameters and the checkpoint): records 107, 119, 209, 213, 214, 231 with the
 *   classes N, A, V, F, L, R and the paced beat / (a class meta-training never sees: / is only in 107 among
 *   the records left); unseen patients, partly unseen classes, never the meta-test set.
 * - Meta-training: the other 30 records, classes N, A, V, F, L, R (beats of the meta-test classes there, e.g.
 *   2 J beats in 114, are dropped, as are Q and S).
 * Beats: 92 samples before and 164 after the R peak at 360 Hz (0.256 s + 0.456 s), averaged in pairs to 128
 * samples at 180 Hz, each standardised to zero mean and unit variance. At most `perRecordClass` beats of each
 * (record, class), evenly spaced in time, are kept, so the common classes of one patient do not swamp the rest.
 */
import { Generator, listRecords, loadBeats } from '@ecgnn/data';

/** The beat types held out for meta-testing (rare MIT-BIH symbols). */
export const META_TEST_CLASSES: readonly string[] = ['a', 'J', 'e', 'j', 'E', 'f'];
/** Records of the meta-test set (every record holding a meta-test beat type in number). */
export const META_TEST_RECORDS: readonly string[] = [
  '102',
  '104',
  '113',
  '124',
  '201',
  '202',
  '207',
  '210',
  '217',
  '222',
  '223',
  '234',
]; // prettier-ignore
/** Classes of meta-training. */
export const META_TRAIN_CLASSES: readonly string[] = ['N', 'A', 'V', 'F', 'L', 'R'];
/** Records of the validation set. */
export const META_VALIDATION_RECORDS: readonly string[] = ['107', '119', '209', '213', '214', '231'];
/** Classes of the validation set (the training classes and the paced beat, unseen in meta-training). */
export const META_VALIDATION_CLASSES: readonly string[] = [...META_TRAIN_CLASSES, '/'];

/** Beats of one split, in columnar arrays. */
export interface MetaSet {
  /** Beat windows, row-major (count × length). */
  x: Float32Array;
  /** Samples per window. */
  length: number;
  /** Class index per beat (into `classes`). */
  label: Int32Array;
  /** Record (patient) per beat. */
  record: string[];
  /** Class names (beat symbols). */
  classes: string[];
}

/** The three splits. */
export interface MetaSplits {
  /** Meta-training. */
  train: MetaSet;
  /** Validation (hyper-parameters, checkpoint). */
  validation: MetaSet;
  /** Meta-test (read once, by the final evaluation). */
  test: MetaSet;
}

/** Options of {@link loadMetaSplits}. */
export interface MetaDataOptions {
  /** Data directory (holding mitdb/). */
  dataDir?: string;
  /** Beats kept per (record, class) (default 300). */
  perRecordClass?: number;
}

/** Samples per beat window after averaging pairs (256 → 128). */
export const META_BEAT_LENGTH = 128;

/** Standardises one window in place: (x − mean)/std (std floored at 1e-6). */
function standardise(w: Float32Array): void {
  let m = 0;
  for (const v of w) m += v;
  m /= w.length;
  let s = 0;
  for (const v of w) s += (v - m) * (v - m);
  const sd = Math.max(Math.sqrt(s / w.length), 1e-6);
  for (let i = 0; i < w.length; i++) w[i] = (w[i] - m) / sd;
}

/** Loads the beats of `records` whose symbol is in `classes` (see the module comment). */
export function loadMetaSet(
  records: readonly string[],
  classes: readonly string[],
  opts: MetaDataOptions = {},
): MetaSet {
  const cap = opts.perRecordClass ?? 300;
  const set = loadBeats(records, {
    dataDir: opts.dataDir,
    before: 92 / 360,
    after: 164 / 360,
    aamiOnly: false,
  });
  const L = set.windowLength >> 1;
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < set.count; i++) {
    if (!classes.includes(set.symbol[i])) continue;
    const k = `${set.record[i]}/${set.symbol[i]}`;
    const a = byKey.get(k);
    if (a) a.push(i);
    else byKey.set(k, [i]);
  }
  const keep: number[] = [];
  for (const idx of byKey.values()) {
    if (idx.length <= cap) keep.push(...idx);
    else for (let j = 0; j < cap; j++) keep.push(idx[Math.floor((j * idx.length) / cap)]);
  }
  keep.sort((a, b) => a - b);
  const x = new Float32Array(keep.length * L);
  keep.forEach((src, j) => {
    const w = x.subarray(j * L, (j + 1) * L);
    const off = src * set.windowLength;
    for (let t = 0; t < L; t++) w[t] = 0.5 * (set.x[off + 2 * t] + set.x[off + 2 * t + 1]);
    standardise(w);
  });
  return {
    x,
    length: L,
    label: Int32Array.from(keep, (i) => classes.indexOf(set.symbol[i])),
    record: keep.map((i) => set.record[i]),
    classes: [...classes],
  };
}

/** The three splits of the module comment. */
export function loadMetaSplits(opts: MetaDataOptions = {}): MetaSplits {
  const held = new Set([...META_TEST_RECORDS, ...META_VALIDATION_RECORDS]);
  return {
    train: loadMetaSet(
      listRecords('mitdb', { dataDir: opts.dataDir }).filter((r) => !held.has(r)),
      META_TRAIN_CLASSES,
      opts,
    ),
    validation: loadMetaSet(META_VALIDATION_RECORDS, META_VALIDATION_CLASSES, opts),
    test: loadMetaSet(META_TEST_RECORDS, META_TEST_CLASSES, opts),
  };
}

/** Beats per class name of a set. */
export function metaClassCounts(set: MetaSet): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of set.classes) out[c] = 0;
  for (const l of set.label) out[set.classes[l]]++;
  return out;
}

/**
 * A seeded synthetic few-shot problem (smoke tests): each class is a template of two Gaussian bumps (centre,
 * width and sign drawn per class) plus white noise of standard deviation `noise` and a random shift of ±3
 * samples; classes 0…7 train, 8…12 validation, 13…18 test, each split on its own "records".
 */
export function syntheticMetaSplits(g: Generator, perClass = 30, length = 64, noise = 0.3): MetaSplits {
  const template = (): Float32Array => {
    const w = new Float32Array(length);
    for (let b = 0; b < 2; b++) {
      const c = length * (0.15 + 0.7 * g.random());
      const s = 2 + 6 * g.random();
      const a = g.random() < 0.5 ? -1.5 : 1.5;
      for (let t = 0; t < length; t++) w[t] += a * Math.exp(-0.5 * ((t - c) / s) ** 2);
    }
    return w;
  };
  const split = (first: number, n: number, tag: string): MetaSet => {
    const x = new Float32Array(n * perClass * length);
    const label = new Int32Array(n * perClass);
    const record: string[] = [];
    for (let c = 0; c < n; c++) {
      const tpl = template();
      for (let i = 0; i < perClass; i++) {
        const j = c * perClass + i;
        const shift = Math.floor(g.random() * 7) - 3;
        for (let t = 0; t < length; t++) {
          const u = Math.min(length - 1, Math.max(0, t + shift));
          // Box–Muller normal noise
          const z = Math.sqrt(-2 * Math.log(1 - g.random())) * Math.cos(2 * Math.PI * g.random());
          x[j * length + t] = tpl[u] + noise * z;
        }
        label[j] = c;
        record.push(`${tag}${i % 3}`);
      }
    }
    const classes = Array.from({ length: n }, (_, c) => `c${first + c}`);
    return { x, length, label, record, classes };
  };
  return { train: split(0, 8, 'tr'), validation: split(8, 5, 'va'), test: split(13, 6, 'te') };
}

/** Seed offset of the smoke run's synthetic problem (its own stream, apart from the run's weights and tasks). */
const SYNTHETIC_SEED_OFFSET = 12345;

/**
 * The splits of a run: a smoke run's seeded synthetic problem ({@link syntheticMetaSplits}, seed
 * `seed + 12345`), else MIT-BIH ({@link loadMetaSplits}) with at most `perRecordClass` beats per record and class.
 */
export function metaRunSplits(o: {
  smoke: boolean;
  seed: number;
  dataDir?: string;
  perRecordClass: number;
}): MetaSplits {
  if (o.smoke) return syntheticMetaSplits(new Generator(o.seed + SYNTHETIC_SEED_OFFSET));
  return loadMetaSplits({ dataDir: o.dataDir, perRecordClass: o.perRecordClass });
}
