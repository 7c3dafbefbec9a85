// Fixed-length windows: sliding-window segmentation, 10-s fragment labels, multi-label windows,
// stratified splits.
import { zscore } from '@ecgnn/dsp';
import { ANNOTATION_SYMBOLS, type Annotations, BEAT_CODES } from './annotations.js';
import { AAMI_CLASSES, aamiIndex, rhythmPerSample } from './labels.js';
import { resolveGenerator, shuffleInPlace } from './random.js';

/** Windows cut from a signal, row-major. */
export interface Windows {
  /** Number of windows. */
  count: number;
  /** Samples per window. */
  length: number;
  /** Window data (count × length). */
  data: Float32Array;
  /** Start sample of each window. */
  start: Int32Array;
}

/**
 * Sliding-window segmentation (S1 of the distillation method): windows of `length` samples every
 * `stride` samples (default `length`, i.e. non-overlapping); a trailing piece shorter than
 * `length` is dropped.
 */
export function slidingWindows(signal: Float32Array, length: number, stride = length): Windows {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`slidingWindows: bad length ${length}`);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`slidingWindows: bad stride ${stride}`);
  const count = signal.length >= length ? Math.floor((signal.length - length) / stride) + 1 : 0;
  const data = new Float32Array(count * length);
  const start = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    start[i] = i * stride;
    data.set(signal.subarray(i * stride, i * stride + length), i * length);
  }
  return { count, length, data, start };
}

/**
 * Per-window z-score, in place: each row of `length` samples of `data` (row-major windows, e.g.
 * {@link Windows.data} or a beat matrix) becomes (x − mean) / max(std, eps).
 *
 * @returns `data`
 */
export function zscoreWindows(data: Float32Array, length: number, eps = 1e-8): Float32Array {
  if (!Number.isInteger(length) || length < 1 || data.length % length !== 0)
    throw new RangeError(`zscoreWindows: data length ${data.length} is not a multiple of ${length}`);
  for (let o = 0; o < data.length; o += length) {
    const row = data.subarray(o, o + length);
    zscore(row, eps, row);
  }
  return data;
}

/** Beat-class counts (N S V F Q) of the beat annotations in [from, to). */
export function aamiCountsInRange(ann: Annotations, from: number, to: number): Int32Array {
  const c = new Int32Array(AAMI_CLASSES.length);
  for (let i = 0; i < ann.code.length; i++) {
    const s = ann.sample[i];
    if (s < from || s >= to) continue;
    const k = aamiIndex(ANNOTATION_SYMBOLS[ann.code[i]] ?? '');
    if (k >= 0) c[k]++;
  }
  return c;
}

/**
 * Label rule of the 5-class AAMI fragment set: a window with no AAMI beat has no label (−1); a
 * window whose beats are all N is N; otherwise the label is the non-N class with the most beats
 * in the window (ties broken in the order S, V, F, Q). So one ectopic beat among normal beats
 * labels the window with that ectopic class.
 *
 * @param counts - per-class beat counts (N S V F Q)
 * @returns class index 0..4 or −1
 */
export function fragmentLabel(counts: ArrayLike<number>): number {
  let total = 0;
  for (let k = 0; k < 5; k++) total += counts[k];
  if (total === 0) return -1;
  let best = 0;
  let bestCount = 0;
  for (let k = 1; k < 5; k++) {
    if (counts[k] > bestCount) {
      best = k;
      bestCount = counts[k];
    }
  }
  return best;
}

/** Multi-label annotation of fixed windows of one record. */
export interface MultiLabelWindows {
  /** Number of windows. */
  count: number;
  /** Start sample of each window. */
  start: Int32Array;
  /** Window length in samples. */
  length: number;
  /** Presence of each AAMI beat class, row-major (count × 5, 0/1). */
  beatClasses: Uint8Array;
  /** Rhythm names (columns of `rhythms`); `''` = before the first rhythm annotation. */
  rhythmNames: string[];
  /** Presence of each rhythm, row-major (count × rhythmNames.length, 0/1). */
  rhythms: Uint8Array;
}

/**
 * For each window of `length` samples (every `stride`, trailing piece dropped), the set of AAMI
 * beat classes annotated inside it and the set of rhythms in force during it.
 */
export function multiLabelWindows(
  ann: Annotations,
  nSamples: number,
  length: number,
  stride = length,
): MultiLabelWindows {
  if (!Number.isInteger(length) || length < 1)
    throw new RangeError(`multiLabelWindows: bad length ${length}`);
  if (!Number.isInteger(stride) || stride < 1)
    throw new RangeError(`multiLabelWindows: bad stride ${stride}`);
  const count = nSamples >= length ? Math.floor((nSamples - length) / stride) + 1 : 0;
  const track = rhythmPerSample(ann, nSamples);
  const R = track.names.length;
  const start = new Int32Array(count);
  const beatClasses = new Uint8Array(count * 5);
  const rhythms = new Uint8Array(count * R);
  for (let w = 0; w < count; w++) {
    const s = w * stride;
    start[w] = s;
    for (let t = s; t < s + length; t++) rhythms[w * R + track.index[t]] = 1;
  }
  for (let i = 0; i < ann.code.length; i++) {
    if (!BEAT_CODES.has(ann.code[i])) continue;
    const k = aamiIndex(ANNOTATION_SYMBOLS[ann.code[i]] ?? '');
    if (k < 0) continue;
    const s = ann.sample[i];
    // windows w with w·stride ≤ s < w·stride + length
    const wLo = Math.max(0, Math.ceil((s - length + 1) / stride));
    const wHi = Math.min(count - 1, Math.floor(s / stride));
    for (let w = wLo; w <= wHi; w++) beatClasses[w * 5 + k] = 1;
  }
  return { count, start, length, beatClasses, rhythmNames: track.names, rhythms };
}

/** Index lists of a train/validation/test split. */
export interface IndexSplit {
  /** Protocol description printed with results. */
  protocol: string;
  /** Training indices. */
  train: Int32Array;
  /** Validation indices. */
  validation: Int32Array;
  /** Test indices. */
  test: Int32Array;
}

/**
 * Stratified random split: within each class, items are shuffled with the seeded RNG and cut by
 * `fractions` (rounded, test takes the rest), so class proportions are preserved. Items with a
 * negative label are ignored.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  fractions: [number, number, number] = [0.7, 0.1, 0.2],
  seed = 0,
): IndexSplit {
  const tot = fractions[0] + fractions[1] + fractions[2];
  if (!(tot > 0) || fractions.some((f) => f < 0)) throw new RangeError('stratifiedSplit: bad fractions');
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < 0) continue;
    const a = byClass.get(l);
    if (a) a.push(i);
    else byClass.set(l, [i]);
  }
  const g = resolveGenerator(seed, 'stratifiedSplit');
  const train: number[] = [];
  const validation: number[] = [];
  const test: number[] = [];
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = shuffleInPlace(g, byClass.get(cls)!);
    const nTr = Math.round((idx.length * fractions[0]) / tot);
    const nVa = Math.round((idx.length * fractions[1]) / tot);
    train.push(...idx.slice(0, nTr));
    validation.push(...idx.slice(nTr, nTr + nVa));
    test.push(...idx.slice(nTr + nVa));
  }
  const sorted = (a: number[]): Int32Array => Int32Array.from(a).sort();
  return {
    protocol: `stratified random split over items (seed ${seed}; intra-patient: records appear in every split)`,
    train: sorted(train),
    validation: sorted(validation),
    test: sorted(test),
  };
}
