/**
 * Beat data of the main job: locating (and if needed downloading) MIT-BIH, cutting beat windows on the MLII
 * lead around the reference R peaks, resampling 360 → 180 Hz, z-scoring each beat, and the RR features the
 * model sees next to the waveform.
 */
import {
  AAMI_CLASSES,
  type AamiCounts,
  assertVerified,
  DataNotFoundError,
  extractBeats,
  type FetchProgress,
  fetchDatabase,
  hasDatabase,
  leadIndex,
  loadAnnotations,
  loadRecord,
  normalizeRr,
  type RrFeatureName,
  resample,
  verifyDatabaseDir,
  zscore,
} from '@ecgnn/data';

/** Sampling rate of the model's input windows (MIT-BIH's 360 Hz halved). */
export const BEAT_FS = 180;
/** Seconds of signal before the R peak in a beat window. */
export const BEAT_BEFORE_S = 0.25;
/** Seconds of signal after the R peak in a beat window. */
export const BEAT_AFTER_S = 0.45;
/** Samples per beat window at {@link BEAT_FS}: 45 before the R peak + 81 from it on. */
export const BEAT_LENGTH = Math.round((BEAT_BEFORE_S + BEAT_AFTER_S) * BEAT_FS);
/** Samples before the R peak at {@link BEAT_FS}. */
export const BEAT_BEFORE = Math.round(BEAT_BEFORE_S * BEAT_FS);

/**
 * The RR features the model sees, in order (@ecgnn/data's `normalizeRr`, one implementation with the deployed
 * classifier): the previous and next RR relative to the local rhythm (±5 beats), the local rhythm relative to
 * the record's, and the previous RR relative to the record's, each as ratio − 1 (0 when the denominator is 0,
 * e.g. a record with one beat). Ratios to the patient's own rhythm are what lets a model trained on other
 * patients recognise a premature (S) beat: its previous RR is short and its next RR long relative to the local
 * rhythm (de Chazal et al. 2004 use the same four intervals; we feed their ratios).
 */
export const RR_FEATURE_NAMES = [
  'pre/local-1',
  'post/local-1',
  'local/record-1',
  'pre/record-1',
] as const satisfies readonly RrFeatureName[];
/** Number of RR features per beat the model uses. */
export const RR_COUNT = RR_FEATURE_NAMES.length;

/** Beats ready for the model. */
export interface PreparedBeats {
  /** Number of beats. */
  count: number;
  /** z-scored beat windows, row-major `[count, BEAT_LENGTH]`, at {@link BEAT_FS}. */
  x: Float32Array;
  /** RR features, row-major `[count, RR_COUNT]` (see {@link RR_FEATURE_NAMES}). */
  rr: Float32Array;
  /** AAMI class index per beat (0..4 = N S V F Q). */
  label: Int32Array;
  /** Record of each beat. */
  record: string[];
}

/** Options of {@link prepareBeats}. */
export interface PrepareOptions {
  /** Data directory holding `mitdb/`. */
  dataDir: string;
  /** Keep every `every`-th beat of each record (default 1: all beats). */
  every?: number;
  /** Check each file read against the database's `SHA256SUMS` (@ecgnn/data `ReadOptions.verify`; default false). */
  verify?: boolean;
}

/**
 * Loads the AAMI-labelled beats of `records` (MLII lead, reference annotations): each record's lead is
 * resampled once to {@link BEAT_FS} (windowed-sinc, @ecgnn/infer's `resample`), a window of
 * {@link BEAT_LENGTH} samples is cut around each R peak (at the nearest 180 Hz sample; ends padded by
 * repeating the edge sample, as @ecgnn/data does) and z-scored. Labels and RR features come from
 * @ecgnn/data's `extractBeats` on the original 360 Hz annotations.
 */
export function prepareBeats(records: readonly string[], opts: PrepareOptions): PreparedBeats {
  const every = opts.every ?? 1;
  if (!Number.isInteger(every) || every < 1)
    throw new RangeError(`every must be a positive integer, got ${every}`);
  const parts: PreparedBeats[] = [];
  const win = new Float32Array(BEAT_LENGTH);
  for (const r of records) {
    const read = { dataDir: opts.dataDir, verify: opts.verify };
    const rec = loadRecord('mitdb', r, read);
    const ann = loadAnnotations('mitdb', r, 'atr', read);
    // One-sample windows: only the labels, R-peak positions and RR features are used from here.
    const meta = extractBeats(rec, ann, { lead: 'MLII', before: 0, after: 1 / rec.fs });
    const sig = resample(rec.signals[leadIndex(rec, 'MLII')], rec.fs, BEAT_FS);
    const last = sig.length - 1;
    const rrAll = normalizeRr(meta.rr, meta.count, RR_FEATURE_NAMES);
    const keep: number[] = [];
    for (let i = 0; i < meta.count; i += every) keep.push(i);
    const n = keep.length;
    const x = new Float32Array(n * BEAT_LENGTH);
    const rr = new Float32Array(n * RR_COUNT);
    const label = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const i = keep[j];
      const start = Math.round((meta.sample[i] * BEAT_FS) / rec.fs) - BEAT_BEFORE;
      for (let t = 0; t < BEAT_LENGTH; t++) win[t] = sig[Math.min(last, Math.max(0, start + t))];
      zscore(win, 1e-6, x.subarray(j * BEAT_LENGTH, (j + 1) * BEAT_LENGTH));
      rr.set(rrAll.subarray(i * RR_COUNT, (i + 1) * RR_COUNT), j * RR_COUNT);
      label[j] = meta.label[i];
    }
    parts.push({ count: n, x, rr, label, record: new Array<string>(n).fill(r) });
  }
  return concatPrepared(parts);
}

/** Concatenates prepared beat sets. */
export function concatPrepared(parts: readonly PreparedBeats[]): PreparedBeats {
  const n = parts.reduce((a, p) => a + p.count, 0);
  const out: PreparedBeats = {
    count: n,
    x: new Float32Array(n * BEAT_LENGTH),
    rr: new Float32Array(n * RR_COUNT),
    label: new Int32Array(n),
    record: [],
  };
  let o = 0;
  for (const p of parts) {
    out.x.set(p.x, o * BEAT_LENGTH);
    out.rr.set(p.rr, o * RR_COUNT);
    out.label.set(p.label, o);
    for (const r of p.record) out.record.push(r);
    o += p.count;
  }
  return out;
}

/** AAMI counts of prepared beats. */
export function countLabels(b: PreparedBeats): AamiCounts {
  const c: AamiCounts = { N: 0, S: 0, V: 0, F: 0, Q: 0 };
  for (let i = 0; i < b.count; i++) c[AAMI_CLASSES[b.label[i]]]++;
  return c;
}

/** Options of {@link ensureMitdb}. */
export interface EnsureOptions {
  /** Data directory (the database lives in `<dataDir>/mitdb`). */
  dataDir: string;
  /** Progress lines go here. */
  log: (line: string) => void;
  /** Download when absent (default true). */
  download?: boolean;
  /** Base URL to download from (default PhysioNet's `https://physionet.org/files/mitdb/1.0.0/`). */
  baseUrl?: string;
  /**
   * Then verify every file of the folder against its `SHA256SUMS` (default false): an IntegrityError
   * names the first mismatching file and both hashes; a DataNotFoundError when the folder has no list.
   */
  verify?: boolean;
}

/**
 * Makes sure MIT-BIH is in `<dataDir>/mitdb`, downloading it from PhysioNet with @ecgnn/data's checksummed,
 * resumable, atomic `fetchDatabase` when absent (about 100 MB), then with `verify` checks the folder against
 * its `SHA256SUMS`. Returns whether a download happened.
 */
export async function ensureMitdb(opts: EnsureOptions): Promise<boolean> {
  const downloaded = await ensureMitdbPresent(opts);
  if (opts.verify) {
    const dir = `${opts.dataDir}/mitdb`;
    opts.log(`verifying ${dir} against its SHA-256 list…`);
    const res = await verifyDatabaseDir(dir);
    assertVerified(res);
    const missing = res.entries.filter((e) => e.status === 'missing').length;
    opts.log(
      `  ${res.entries.length - missing} files verified${missing > 0 ? `, ${missing} listed files absent` : ''}`,
    );
  }
  return downloaded;
}

async function ensureMitdbPresent(opts: EnsureOptions): Promise<boolean> {
  if (hasDatabase('mitdb', { dataDir: opts.dataDir })) return false;
  if (opts.download === false) {
    throw new DataNotFoundError(
      `MIT-BIH not found in ${opts.dataDir}/mitdb (no RECORDS file) and downloading is off (--no-download)`,
    );
  }
  const dest = `${opts.dataDir}/mitdb`;
  opts.log(`MIT-BIH not found in ${dest}: downloading from PhysioNet (about 100 MB)…`);
  let lastFile = '';
  let lastReport = 0;
  const res = await fetchDatabase('mitdb', dest, {
    baseUrl: opts.baseUrl,
    onProgress: (p: FetchProgress) => {
      const now = Date.now();
      const done = p.total !== undefined && p.received >= p.total;
      // One line when a file starts, every 2 s while it downloads, and when it completes.
      if (p.file !== lastFile || now - lastReport > 2000 || done) {
        const tot = p.total === undefined ? '?' : (p.total / 1e6).toFixed(2);
        opts.log(`  ${p.file}: ${(p.received / 1e6).toFixed(2)} / ${tot} MB`);
        lastFile = p.file;
        lastReport = now;
      }
    },
  });
  opts.log(
    `downloaded ${res.downloaded.length} files, ${res.skipped.length} already present` +
      `${res.verified ? ', SHA-256 verified' : ' (no checksums published)'}`,
  );
  return true;
}
