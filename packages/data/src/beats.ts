// Beat segmentation around annotated R peaks, RR-interval features, per-split summaries.
import { RR_FEATURES, rrFeatures } from '@ecgnn/dsp';
import { ANNOTATION_SYMBOLS, type Annotations, BEAT_CODES, requireBeatAnnotations } from './annotations.js';
import { AAMI_CLASSES, type AamiCounts, aamiIndex } from './labels.js';
import type { WfdbRecord } from './wfdb.js';

/** Options of {@link extractBeats}. */
export interface BeatOptions {
  /** Seconds before the R peak (default 0.25). */
  before?: number;
  /** Seconds after the R peak (default 0.45). */
  after?: number;
  /** Lead: index or description (default `'MLII'`, falling back to signal 0 when absent). */
  lead?: number | string;
  /** Optional preprocessing of the whole lead before cutting (e.g. baseline removal). */
  preprocess?: (signal: Float32Array, fs: number) => Float32Array;
  /**
   * Beats whose window crosses the record ends: `'pad'` (default) repeats the end samples so
   * every annotated beat is kept; `'drop'` leaves them out.
   */
  edge?: 'pad' | 'drop';
  /** Keep only beats with an AAMI class (default true); otherwise keep every beat annotation. */
  aamiOnly?: boolean;
}

/** Beats cut from one or more records, in columnar typed arrays. */
export interface BeatSet {
  /** Number of beats. */
  count: number;
  /** Samples per beat window. */
  windowLength: number;
  /** Sampling rate of the windows. */
  fs: number;
  /** Beat windows, row-major (count × windowLength). */
  x: Float32Array;
  /** AAMI class index per beat (0..4 = N S V F Q; −1 for unclassified beats when `aamiOnly` is false). */
  label: Int8Array;
  /** MIT-BIH beat symbol per beat. */
  symbol: string[];
  /** R-peak sample index in its record. */
  sample: Int32Array;
  /** Record name per beat. */
  record: string[];
  /** RR features, row-major (count × 4): previous RR, next RR, local mean RR, record mean RR, in seconds. */
  rr: Float32Array;
}

/** Index of the requested lead in a record. */
export function leadIndex(record: WfdbRecord, lead: number | string = 'MLII'): number {
  if (typeof lead === 'number') {
    if (!Number.isInteger(lead) || lead < 0 || lead >= record.signals.length)
      throw new RangeError(`record ${record.name} has no signal ${lead}`);
    return lead;
  }
  const i = record.descriptions.indexOf(lead);
  return Math.max(i, 0);
}

/**
 * Cuts a window of `before` + `after` seconds around each annotated beat of one record and
 * computes its label and RR features (@ecgnn/dsp `rrFeatures` over all beat annotations of the record).
 *
 * @throws EmptyAnnotationsError naming the annotation file when `ann` holds no beat annotation
 */
export function extractBeats(record: WfdbRecord, ann: Annotations, opts: BeatOptions = {}): BeatSet {
  requireBeatAnnotations(ann, `annotations of record ${record.name}`);
  const fs = record.fs;
  const nb = Math.round((opts.before ?? 0.25) * fs);
  const na = Math.round((opts.after ?? 0.45) * fs);
  if (nb < 0 || na < 0 || nb + na < 1) throw new RangeError('extractBeats: empty window');
  const L = nb + na;
  const li = leadIndex(record, opts.lead);
  let sig = record.signals[li];
  if (opts.preprocess) sig = opts.preprocess(sig, fs);
  const aamiOnly = opts.aamiOnly ?? true;
  const edge = opts.edge ?? 'pad';
  // all beats (for RR) and the selected ones
  const allIdx: number[] = [];
  for (let i = 0; i < ann.code.length; i++) if (BEAT_CODES.has(ann.code[i])) allIdx.push(i);
  const allSamples = Int32Array.from(allIdx, (i) => ann.sample[i]);
  const rrAll = rrFeatures(allSamples, fs);
  const keep: number[] = [];
  for (let k = 0; k < allIdx.length; k++) {
    const sym = ANNOTATION_SYMBOLS[ann.code[allIdx[k]]];
    if (aamiOnly && aamiIndex(sym) < 0) continue;
    const s = allSamples[k];
    if (edge === 'drop' && (s - nb < 0 || s + na > sig.length)) continue;
    keep.push(k);
  }
  const n = keep.length;
  const x = new Float32Array(n * L);
  const label = new Int8Array(n);
  const sample = new Int32Array(n);
  const rr = new Float32Array(n * RR_FEATURES);
  const symbol: string[] = new Array(n);
  const last = sig.length - 1;
  for (let j = 0; j < n; j++) {
    const k = keep[j];
    const s = allSamples[k];
    const sym = ANNOTATION_SYMBOLS[ann.code[allIdx[k]]];
    symbol[j] = sym;
    label[j] = aamiIndex(sym);
    sample[j] = s;
    const off = j * L;
    const start = s - nb;
    if (start >= 0 && start + L <= sig.length) x.set(sig.subarray(start, start + L), off);
    else for (let t = 0; t < L; t++) x[off + t] = sig[Math.min(last, Math.max(0, start + t))];
    for (let f = 0; f < RR_FEATURES; f++) rr[j * RR_FEATURES + f] = rrAll[k * RR_FEATURES + f];
  }
  return {
    count: n,
    windowLength: L,
    fs,
    x,
    label,
    symbol,
    sample,
    record: new Array(n).fill(record.name),
    rr,
  };
}

/** Concatenates beat sets with equal window length and rate. */
export function concatBeatSets(sets: readonly BeatSet[]): BeatSet {
  if (sets.length === 0) throw new RangeError('concatBeatSets: no sets');
  const L = sets[0].windowLength;
  const fs = sets[0].fs;
  for (const s of sets)
    if (s.windowLength !== L || s.fs !== fs)
      throw new RangeError('concatBeatSets: window length or rate differ');
  const n = sets.reduce((a, s) => a + s.count, 0);
  const out: BeatSet = {
    count: n,
    windowLength: L,
    fs,
    x: new Float32Array(n * L),
    label: new Int8Array(n),
    symbol: [],
    sample: new Int32Array(n),
    record: [],
    rr: new Float32Array(n * RR_FEATURES),
  };
  let o = 0;
  for (const s of sets) {
    out.x.set(s.x, o * L);
    out.label.set(s.label, o);
    out.sample.set(s.sample, o);
    out.rr.set(s.rr, o * RR_FEATURES);
    for (let i = 0; i < s.count; i++) {
      out.symbol.push(s.symbol[i]);
      out.record.push(s.record[i]);
    }
    o += s.count;
  }
  return out;
}

/** AAMI class counts of a beat set. */
export function countBeatLabels(set: BeatSet): AamiCounts {
  const c: AamiCounts = { N: 0, S: 0, V: 0, F: 0, Q: 0 };
  for (let i = 0; i < set.count; i++) if (set.label[i] >= 0) c[AAMI_CLASSES[set.label[i]]]++;
  return c;
}
