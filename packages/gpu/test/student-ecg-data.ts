/**
 * The beats of the ECG training case (student-ecg.ts), read in Node from the MIT-BIH database in the data
 * directory (`ECGNN_DATA`, else ../shared/data): records 208 (N, V, F) and 232 (N, S), windows 0.25 s before to
 * 0.45 s after the R peak at 360 Hz, z-scored, two RR ratios; two class-balanced batches of 16 (4 per class N, S,
 * V, F), every `stride`-th beat of a class so the batches spread over the records.
 */
import { AAMI_CLASSES, dataDir, hasDatabase, loadBeats, normalizeRr, zscore } from '@ecgnn/data';
import { type EcgBatchData, RR_FEATURES } from './student-ecg.js';

/** Records with many beats of several AAMI classes. */
export const ECG_RECORDS = ['208', '232'];
/** Beats per AAMI class (N, S, V, F) in each batch. */
const PER_CLASS = 4;
/** The RR ratios, in the order of {@link RR_FEATURES}. */
const RR_NAMES = ['pre/local-1', 'post/local-1'] as const;

/**
 * Whether the ECG case runs: MIT-BIH present, or CI=true (then its absence fails the case). Prints why it is
 * skipped otherwise, naming `test`.
 */
export function ecgCaseRuns(test: string): boolean {
  const runs = hasDatabase('mitdb') || process.env.CI === 'true';
  if (!runs)
    console.warn(`${test}: skipping the MIT-BIH student case: no mitdb in ${dataDir()} (set ECGNN_DATA)`);
  return runs;
}

/** The two batches and the window length (throws DataNotFoundError without MIT-BIH). */
export function loadEcgBatches(): { batches: EcgBatchData[]; length: number } {
  const set = loadBeats(ECG_RECORDS, { before: 0.25, after: 0.45 });
  const rr = normalizeRr(set.rr, set.count, [...RR_NAMES]);
  const L = set.windowLength;
  const byClass = ['N', 'S', 'V', 'F'].map((c) => {
    const label = AAMI_CLASSES.indexOf(c as (typeof AAMI_CLASSES)[number]);
    const idx = [...set.label.keys()].filter((i) => set.label[i] === label);
    if (idx.length < 2 * PER_CLASS)
      throw new Error(`only ${idx.length} ${c} beats in records ${ECG_RECORDS}`);
    const stride = Math.floor(idx.length / (2 * PER_CLASS));
    return { label, idx: Array.from({ length: 2 * PER_CLASS }, (_, j) => idx[j * stride]) };
  });
  const batches = [0, 1].map((b) => {
    const pick = byClass.flatMap((c) =>
      c.idx.slice(b * PER_CLASS, (b + 1) * PER_CLASS).map((i) => [i, c.label]),
    );
    const x = new Float32Array(pick.length * L);
    const r = new Float32Array(pick.length * RR_FEATURES);
    pick.forEach(([i], j) => {
      zscore(set.x.subarray(i * L, (i + 1) * L), 1e-8, x.subarray(j * L, (j + 1) * L));
      r.set(rr.subarray(i * RR_FEATURES, (i + 1) * RR_FEATURES), j * RR_FEATURES);
    });
    return { x: Array.from(x), rr: Array.from(r), y: pick.map(([, label]) => label) };
  });
  return { batches, length: L };
}
