// Dataset builders over the MIT-BIH databases in the data directory (Node only).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectQrs, type QrsOptions } from '@ecgnn/dsp';
import { type Annotations, BEAT_CODES, requireBeatAnnotations } from './annotations.js';
import { type BeatOptions, type BeatSet, concatBeatSets, extractBeats, leadIndex } from './beats.js';
import {
  type DataDirOptions,
  databaseDir,
  listRecords,
  loadAnnotations,
  loadRecord,
  type ReadOptions,
} from './datadir.js';
import { DataNotFoundError, FormatError } from './errors.js';
import { type BeatMatch, flutterEpisodes, matchBeats } from './evaluate.js';
import { AAMI_CLASSES, type AamiCounts, countAami } from './labels.js';
import { readMat4Variable } from './mat.js';
import type { RecordSplit } from './splits.js';
import { aamiCountsInRange, fragmentLabel } from './windows.js';

/**
 * AAMI beat counts of de Chazal et al. 2004 (Table I) for DS1 and DS2, as published; our counts
 * from the reference `.atr` files match them exactly (test `mitdb-data.test.ts`).
 */
export const DE_CHAZAL_PUBLISHED_COUNTS: Readonly<Record<'DS1' | 'DS2', AamiCounts>> = {
  DS1: { N: 45866, S: 944, V: 3788, F: 415, Q: 8 },
  DS2: { N: 44259, S: 1837, V: 3221, F: 388, Q: 7 },
};

/** Loads the beats of several mitdb records (see {@link extractBeats}) into one set. */
export function loadBeats(records: readonly string[], opts: BeatOptions & ReadOptions = {}): BeatSet {
  const sets = records.map((r) =>
    extractBeats(loadRecord('mitdb', r, opts), loadAnnotations('mitdb', r, 'atr', opts), opts),
  );
  return concatBeatSets(sets);
}

/** A record's reference annotations, which must hold beats (EmptyAnnotationsError naming the file otherwise). */
function loadBeatAnnotations(record: string, opts: ReadOptions): Annotations {
  const ann = loadAnnotations('mitdb', record, 'atr', opts);
  requireBeatAnnotations(ann, `annotations of mitdb record ${record}`);
  return ann;
}

/**
 * AAMI counts of each record (from its reference annotations), e.g. to balance a validation split.
 *
 * @throws EmptyAnnotationsError naming the file when a record's annotations hold no beat
 */
export function recordAamiCounts(
  records: readonly string[],
  opts: ReadOptions = {},
): Record<string, AamiCounts> {
  const out: Record<string, AamiCounts> = {};
  for (const r of records) out[r] = countAami(loadBeatAnnotations(r, opts));
  return out;
}

/** Per-split AAMI counts of a record split. */
export interface SplitSummary {
  /** Protocol name of the split. */
  protocol: string;
  /** Split name → AAMI counts over all its records' reference annotations. */
  counts: Record<string, AamiCounts>;
}

/**
 * Counts the AAMI beats of every split of `split` from the reference annotations.
 *
 * @throws EmptyAnnotationsError naming the file when a record's annotations hold no beat
 */
export function splitSummary(split: RecordSplit, opts: ReadOptions = {}): SplitSummary {
  const counts: Record<string, AamiCounts> = {};
  for (const [name, recs] of Object.entries(split.records)) {
    const c: AamiCounts = { N: 0, S: 0, V: 0, F: 0, Q: 0 };
    for (const r of recs) {
      const rc = countAami(loadBeatAnnotations(r, opts));
      for (const k of AAMI_CLASSES) c[k] += rc[k];
    }
    counts[name] = c;
  }
  return { protocol: split.protocol, counts };
}

/** Formats a {@link SplitSummary} as a plain-text table (one row per split). */
export function formatSplitSummary(s: SplitSummary): string {
  const head = ['split', ...AAMI_CLASSES, 'total'];
  const rows = Object.entries(s.counts).map(([name, c]) => {
    const tot = AAMI_CLASSES.reduce((a, k) => a + c[k], 0);
    return [name, ...AAMI_CLASSES.map((k) => String(c[k])), String(tot)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  return [`protocol: ${s.protocol}`, line(head), ...rows.map(line)].join('\n');
}

/** A set of fixed-length ECG fragments. */
export interface FragmentSet {
  /** Description (class set, source, label rule). */
  description: string;
  /** Number of fragments. */
  count: number;
  /** Samples per fragment. */
  length: number;
  /** Sampling rate. */
  fs: number;
  /** Fragments in mV, row-major (count × length). */
  x: Float32Array;
  /** Class index per fragment (0-based). */
  label: Int8Array;
  /** Class names (index = label). */
  classNames: string[];
  /** Source mitdb record per fragment. */
  record: string[];
  /** Start sample in the source record. */
  start: Int32Array;
}

/** Class names of the 17-class set (Plawiak 2018), index = label (folder number − 1). */
export const FRAGMENT17_CLASSES: readonly string[] = [
  'NSR',
  'APB',
  'AFL',
  'AFIB',
  'SVTA',
  'WPW',
  'PVC',
  'Bigeminy',
  'Trigeminy',
  'VT',
  'IVR',
  'VFL',
  'Fusion',
  'LBBBB',
  'RBBBB',
  'SDHB',
  'PR',
];

/**
 * Loads the 17-class 10-s fragment set (`mitbih17/`, 1000 MATLAB v4 files listed in
 * `index.csv`), converting ADC units to mV as (val − 1024) / 200.
 */
export function loadFragments17(opts: DataDirOptions = {}): FragmentSet {
  const dir = databaseDir('mitbih17', opts);
  const idxPath = join(dir, 'index.csv');
  if (!existsSync(idxPath))
    throw new DataNotFoundError(`no index.csv in ${dir} (set ECGNN_DATA or pass dataDir)`);
  const lines = readFileSync(idxPath, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const head = lines[0].split(',');
  const col = (name: string): number => {
    const i = head.indexOf(name);
    if (i < 0) throw new FormatError(idxPath, `missing column '${name}'`, 1);
    return i;
  };
  const cPath = col('path');
  const cClass = col('class_id');
  const cRec = col('mitdb_record');
  const cStart = col('start_sample');
  const rows = lines.slice(1).map((l) => l.split(','));
  const length = 3600;
  const n = rows.length;
  const x = new Float32Array(n * length);
  const label = new Int8Array(n);
  const record: string[] = [];
  const start = new Int32Array(n);
  rows.forEach((r, i) => {
    const p = join(dir, r[cPath]);
    if (!existsSync(p)) throw new DataNotFoundError(`fragment file not found: ${p}`);
    const b = readFileSync(p);
    const v = readMat4Variable(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), 'val', p);
    if (v.length !== length) throw new FormatError(p, `expected ${length} samples, got ${v.length}`);
    for (let t = 0; t < length; t++) x[i * length + t] = (v[t] - 1024) / 200;
    const cls = Number(r[cClass]);
    if (!Number.isInteger(cls) || cls < 1 || cls > 17)
      throw new FormatError(idxPath, `bad class '${r[cClass]}'`, i + 2);
    label[i] = cls - 1;
    record.push(r[cRec]);
    start[i] = Number(r[cStart]);
  });
  return {
    description: '17-class MIT-BIH 10-s fragments (Plawiak 2018), 360 Hz, mV',
    count: n,
    length,
    fs: 360,
    x,
    label,
    classNames: [...FRAGMENT17_CLASSES],
    record,
    start,
  };
}

/**
 * Builds the 5-class AAMI fragment set from mitdb: non-overlapping 10-s windows (3600 samples at
 * 360 Hz) of the MLII lead (signal 0 when a record has none) of each record, labelled by
 * {@link fragmentLabel} (all-N → N, else the most frequent non-N class; windows without beats
 * are left out).
 */
export function buildAamiFragments(
  records: readonly string[],
  opts: ReadOptions & { seconds?: number; lead?: number | string } = {},
): FragmentSet {
  const xs: Float32Array[] = [];
  const labels: number[] = [];
  const recs: string[] = [];
  const starts: number[] = [];
  let length = 0;
  let fs = 0;
  for (const r of records) {
    const rec = loadRecord('mitdb', r, opts);
    const ann = loadBeatAnnotations(r, opts);
    fs = rec.fs;
    length = Math.round((opts.seconds ?? 10) * fs);
    const sig = rec.signals[leadIndex(rec, opts.lead ?? 'MLII')];
    for (let s = 0; s + length <= sig.length; s += length) {
      const l = fragmentLabel(aamiCountsInRange(ann, s, s + length));
      if (l < 0) continue;
      xs.push(sig.slice(s, s + length));
      labels.push(l);
      recs.push(r);
      starts.push(s);
    }
  }
  const x = new Float32Array(xs.length * length);
  xs.forEach((w, i) => {
    x.set(w, i * length);
  });
  return {
    description: `5-class AAMI fragments from mitdb (${opts.seconds ?? 10}-s non-overlapping windows; label: all-N → N, else most frequent non-N class)`,
    count: xs.length,
    length,
    fs,
    x,
    label: Int8Array.from(labels),
    classNames: [...AAMI_CLASSES],
    record: recs,
    start: Int32Array.from(starts),
  };
}

/** Per-record result of {@link evaluateQrsDetector}. */
export interface QrsRecordResult extends BeatMatch {
  /** Record name. */
  record: string;
  /** Lead used (description). */
  lead: string;
  /** Reference beats. */
  beats: number;
  /** Match with ventricular-flutter episodes excluded. */
  excludingFlutter: BeatMatch;
}

/** Result of {@link evaluateQrsDetector}. */
export interface QrsEvaluation {
  /** Per-record results. */
  records: QrsRecordResult[];
  /** Totals over all records (whole length). */
  total: BeatMatch;
  /** Totals with ventricular-flutter episodes excluded (EC57 practice). */
  totalExcludingFlutter: BeatMatch;
}

function totals(ms: readonly BeatMatch[]): BeatMatch {
  const tp = ms.reduce((a, m) => a + m.tp, 0);
  const fp = ms.reduce((a, m) => a + m.fp, 0);
  const fn = ms.reduce((a, m) => a + m.fn, 0);
  return {
    tp,
    fp,
    fn,
    sensitivity: tp + fn === 0 ? 100 : (100 * tp) / (tp + fn),
    positivePredictivity: tp + fp === 0 ? 100 : (100 * tp) / (tp + fp),
  };
}

/**
 * Runs {@link detectQrs} on mitdb records (MLII lead, or signal 0 when absent) and compares with
 * the reference beats (all beat annotations) within ±`toleranceSeconds` (default 0.15 s).
 */
export function evaluateQrsDetector(
  opts: ReadOptions & { records?: readonly string[]; toleranceSeconds?: number; qrs?: QrsOptions } = {},
): QrsEvaluation {
  const records = opts.records ?? listRecords('mitdb', opts);
  const out: QrsRecordResult[] = [];
  for (const r of records) {
    const rec = loadRecord('mitdb', r, opts);
    const ann = loadBeatAnnotations(r, opts);
    const ref: number[] = [];
    for (let i = 0; i < ann.code.length; i++) if (BEAT_CODES.has(ann.code[i])) ref.push(ann.sample[i]);
    const lead = leadIndex(rec, 'MLII');
    const det = detectQrs(rec.signals[lead], rec.fs, opts.qrs);
    const tol = Math.round((opts.toleranceSeconds ?? 0.15) * rec.fs);
    const m = matchBeats(ref, det, tol);
    const ex = matchBeats(ref, det, tol, flutterEpisodes(ann.code, ann.sample, rec.nSamples));
    out.push({ ...m, record: r, lead: rec.descriptions[lead], beats: ref.length, excludingFlutter: ex });
  }
  return {
    records: out,
    total: totals(out),
    totalExcludingFlutter: totals(out.map((r) => r.excludingFlutter)),
  };
}

/** Formats a {@link QrsEvaluation} as a per-record table with totals. */
export function formatQrsEvaluation(e: QrsEvaluation): string {
  const f = (x: number): string => x.toFixed(2).padStart(6);
  const lines = ['record  lead  beats     TP    FN    FP      Se%     +P%'];
  for (const r of e.records)
    lines.push(
      `${r.record.padEnd(6)}  ${r.lead.padEnd(4)}  ${String(r.beats).padStart(5)} ${String(r.tp).padStart(6)} ${String(r.fn).padStart(5)} ${String(r.fp).padStart(5)}  ${f(r.sensitivity)}  ${f(r.positivePredictivity)}`,
    );
  const t = (name: string, m: BeatMatch): string =>
    `${name}: TP ${m.tp} FN ${m.fn} FP ${m.fp}  Se ${m.sensitivity.toFixed(3)} %  +P ${m.positivePredictivity.toFixed(3)} %`;
  lines.push(t('TOTAL (whole records)', e.total));
  lines.push(t('TOTAL (ventricular flutter excluded)', e.totalExcludingFlutter));
  return lines.join('\n');
}
