// RR-interval features of beats (de Chazal, O'Dwyer & Reilly 2004, "Automatic classification of heartbeats
// using ECG morphology and heartbeat interval features", IEEE TBME 51(7)): the raw intervals, and their ratios
// to the patient's own rhythm. ONE implementation, used by @ecgnn/data to build training sets and by
// @ecgnn/infer's streaming classifier at deployment, so both compute the same numbers.
import { DspError } from './filters.js';

/** Number of raw RR features per beat produced by {@link rrFeatures}: pre, post, local, record. */
export const RR_FEATURES = 4;

/**
 * Name of one RR feature of a beat.
 *
 * Raw features (seconds, see {@link rrFeatures}):
 * - `'pre'`: RR interval to the previous beat;
 * - `'post'`: RR interval to the next beat;
 * - `'local'`: mean previous-RR of the beats within ± `localHalfWidth` beats;
 * - `'record'`: mean RR of the record (patient).
 *
 * Normalised features (dimensionless, see {@link normalizeRr}): `'a/b-1'` = a / b − 1, defined as 0 when
 * b ≤ 0 (a record with a single beat has all intervals 0). 0 means "as long as the patient's rhythm"; a
 * premature (S or V) beat has `'pre/local-1'` < 0 and, with a compensatory pause, `'post/local-1'` > 0.
 */
export type RrFeatureName =
  | 'pre'
  | 'post'
  | 'local'
  | 'record'
  | 'pre/local-1'
  | 'post/local-1'
  | 'local/record-1'
  | 'pre/record-1';

/** Every {@link RrFeatureName}, raw ones first in the column order of {@link rrFeatures}. */
export const RR_FEATURE_NAMES: readonly RrFeatureName[] = [
  'pre',
  'post',
  'local',
  'record',
  'pre/local-1',
  'post/local-1',
  'local/record-1',
  'pre/record-1',
];

/** Whether `name` is an {@link RrFeatureName} (for validating names read from files). */
export function isRrFeatureName(name: unknown): name is RrFeatureName {
  return typeof name === 'string' && (RR_FEATURE_NAMES as readonly string[]).includes(name);
}

/**
 * RR features of each beat, in seconds (de Chazal et al. 2004): previous RR (to the preceding
 * beat), next RR, local mean RR (mean of the previous-RR values of the beats within
 * ± `localHalfWidth` beats), and the record's mean RR ((last − first) / (n − 1) / fs). The first
 * beat's previous RR and the last beat's next RR are taken as the record mean; a single beat has
 * all four features 0.
 *
 * @param beats - increasing R-peak sample indices of ALL beats of a record
 * @param fs - sampling rate (Hz)
 * @param localHalfWidth - beats on each side for the local mean (default 5)
 * @returns Float32Array (n × {@link RR_FEATURES}), row-major, columns pre, post, local, record
 * @throws DspError when `fs` is not a positive finite number or `localHalfWidth` not a non-negative integer
 */
export function rrFeatures(beats: Int32Array, fs: number, localHalfWidth = 5): Float32Array {
  if (!Number.isFinite(fs) || fs <= 0)
    throw new DspError(`rrFeatures: fs must be a positive finite number, got ${fs}`);
  if (!Number.isInteger(localHalfWidth) || localHalfWidth < 0)
    throw new DspError(`rrFeatures: localHalfWidth must be a non-negative integer, got ${localHalfWidth}`);
  const n = beats.length;
  const out = new Float32Array(n * RR_FEATURES);
  if (n === 0) return out;
  const mean = n > 1 ? (beats[n - 1] - beats[0]) / (n - 1) / fs : 0;
  const prev = new Float64Array(n);
  for (let i = 0; i < n; i++) prev[i] = i > 0 ? (beats[i] - beats[i - 1]) / fs : mean;
  // Prefix sums: the local mean over [lo, hi] is (cum[hi + 1] − cum[lo]) / (hi − lo + 1).
  const cum = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) cum[i + 1] = cum[i] + prev[i];
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - localHalfWidth);
    const hi = Math.min(n - 1, i + localHalfWidth);
    out[i * RR_FEATURES] = prev[i];
    out[i * RR_FEATURES + 1] = i + 1 < n ? prev[i + 1] : mean;
    out[i * RR_FEATURES + 2] = (cum[hi + 1] - cum[lo]) / (hi - lo + 1);
    out[i * RR_FEATURES + 3] = mean;
  }
  return out;
}

/** Column of a raw feature in {@link rrFeatures}' output. */
const RAW_COLUMN = { pre: 0, post: 1, local: 2, record: 3 } as const;

/** Numerator and denominator columns of each normalised feature (numerator / denominator − 1). */
const RATIO_COLUMNS: Record<string, readonly [number, number]> = {
  'pre/local-1': [0, 2],
  'post/local-1': [1, 2],
  'local/record-1': [2, 3],
  'pre/record-1': [0, 3],
};

/**
 * The named RR features of `count` beats from their raw ones (the output of {@link rrFeatures}):
 * raw names copy the column, `'a/b-1'` names give a / b − 1, or 0 when b ≤ 0. Ratios to the patient's
 * own rhythm are what lets a model trained on other patients recognise a premature beat (its previous RR
 * is short and its next RR long relative to the local rhythm). Computed in float64, stored as float32.
 *
 * @param raw - raw features, row-major (≥ count × {@link RR_FEATURES})
 * @param count - number of beats
 * @param names - features to compute, in output order
 * @param out - optional output (length count × names.length), to avoid allocating per call
 * @returns Float32Array (count × names.length), row-major
 * @throws DspError on an unknown name, a non-integer count, a too-short `raw` or a wrong-length `out`
 */
export function normalizeRr(
  raw: Float32Array,
  count: number,
  names: readonly RrFeatureName[],
  out?: Float32Array,
): Float32Array {
  if (!Number.isInteger(count) || count < 0)
    throw new DspError(`normalizeRr: count must be a non-negative integer, got ${count}`);
  if (raw.length < count * RR_FEATURES)
    throw new DspError(
      `normalizeRr: raw has ${raw.length} values, need ${count} × ${RR_FEATURES} = ${count * RR_FEATURES}`,
    );
  const m = names.length;
  // Per output column: numerator column and denominator column (−1 for a raw copy).
  const num = new Int32Array(m);
  const den = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    const name = names[j];
    if (!isRrFeatureName(name))
      throw new DspError(
        `normalizeRr: unknown RR feature ${JSON.stringify(name)} (known: ${RR_FEATURE_NAMES.join(', ')})`,
      );
    const ratio = RATIO_COLUMNS[name];
    if (ratio === undefined) {
      num[j] = RAW_COLUMN[name as keyof typeof RAW_COLUMN];
      den[j] = -1;
    } else {
      num[j] = ratio[0];
      den[j] = ratio[1];
    }
  }
  const y = out ?? new Float32Array(count * m);
  if (y.length !== count * m)
    throw new DspError(`normalizeRr: out has length ${y.length}, expected ${count} × ${m} = ${count * m}`);
  for (let i = 0; i < count; i++) {
    const row = i * RR_FEATURES;
    for (let j = 0; j < m; j++) {
      const a = raw[row + num[j]];
      if (den[j] < 0) {
        y[i * m + j] = a;
      } else {
        const b = raw[row + den[j]];
        y[i * m + j] = b > 0 ? a / b - 1 : 0;
      }
    }
  }
  return y;
}
