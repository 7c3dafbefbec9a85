// Record splits of the MIT-BIH Arrhythmia Database.
import type { AamiCounts } from './labels.js';
import { resolveGenerator, shuffleInPlace } from './random.js';

/** de Chazal et al. 2004 inter-patient training set DS1 (22 records). */
export const DS1: readonly string[] = [
  '101',
  '106',
  '108',
  '109',
  '112',
  '114',
  '115',
  '116',
  '118',
  '119',
  '122',
  '124',
  '201',
  '203',
  '205',
  '207',
  '208',
  '209',
  '215',
  '220',
  '223',
  '230',
];
/** de Chazal et al. 2004 inter-patient test set DS2 (22 records). */
export const DS2: readonly string[] = [
  '100',
  '103',
  '105',
  '111',
  '113',
  '117',
  '121',
  '123',
  '200',
  '202',
  '210',
  '212',
  '213',
  '214',
  '219',
  '221',
  '222',
  '228',
  '231',
  '232',
  '233',
  '234',
];
/** Records with paced beats, excluded from both sets (AAMI recommendation). */
export const PACED_RECORDS: readonly string[] = ['102', '104', '107', '217'];

/** A named list of records per split. */
export interface RecordSplit {
  /** Human-readable protocol name, always printed with results. */
  protocol: string;
  /** Split name → record names. */
  records: Record<string, string[]>;
}

/** The inter-patient split of de Chazal et al. 2004: train = DS1, test = DS2, paced records excluded. */
export function interPatientSplit(): RecordSplit {
  return {
    protocol: 'inter-patient (de Chazal 2004 DS1/DS2)',
    records: { train: [...DS1], test: [...DS2] },
  };
}

/**
 * Inter-patient split with a patient-wise validation set: `validationRecords` records of DS1,
 * drawn with the seeded RNG, form the validation split; DS2 stays the test split.
 * With `recordCounts` (AAMI counts per record, e.g. from `recordAamiCounts`), `candidates` random
 * draws are scored and the one whose validation share of each class is closest to its share of
 * all beats is kept (sum of squared differences over N S V F), so rare classes are not all moved
 * to one side by chance.
 * NOTE: records 201 and 202 come from the same patient but sit in DS1 and DS2 respectively in
 * de Chazal's split; we keep the published split unchanged (see docs/data.md).
 *
 * @param opts.validationRecords - number of DS1 records held out (default 4)
 * @param opts.seed - RNG seed (default 0)
 * @param opts.recordCounts - per-record AAMI counts to balance the draw (optional)
 * @param opts.candidates - number of random draws scored when balancing (default 500)
 */
export function interPatientValidationSplit(
  opts: {
    validationRecords?: number;
    seed?: number;
    recordCounts?: Readonly<Record<string, AamiCounts>>;
    candidates?: number;
  } = {},
): RecordSplit {
  const k = opts.validationRecords ?? 4;
  if (!Number.isInteger(k) || k < 1 || k >= DS1.length)
    throw new RangeError(`validationRecords must be in 1..${DS1.length - 1}, got ${k}`);
  const seed = opts.seed ?? 0;
  const g = resolveGenerator(seed, 'interPatientValidationSplit');
  const draw = (): string[] =>
    shuffleInPlace(g, [...DS1])
      .slice(0, k)
      .sort();
  let val = draw();
  const counts = opts.recordCounts;
  if (counts) {
    const classes = ['N', 'S', 'V', 'F'] as const;
    const total = (recs: readonly string[], c: (typeof classes)[number] | 'all'): number =>
      recs.reduce((a, r) => {
        const x = counts[r];
        if (!x) throw new RangeError(`recordCounts has no entry for record ${r}`);
        return a + (c === 'all' ? x.N + x.S + x.V + x.F + x.Q : x[c]);
      }, 0);
    const score = (v: readonly string[]): number => {
      const share = total(v, 'all') / total(DS1, 'all');
      let e = 0;
      for (const c of classes) {
        const all = total(DS1, c);
        if (all > 0) e += (total(v, c) / all - share) ** 2;
      }
      return e;
    };
    let best = score(val);
    for (let i = 1; i < (opts.candidates ?? 500); i++) {
      const cand = draw();
      const sc = score(cand);
      if (sc < best) {
        best = sc;
        val = cand;
      }
    }
  }
  const train = DS1.filter((r) => !val.includes(r));
  return {
    protocol: `inter-patient (de Chazal 2004 DS1/DS2) with patient-wise validation (${k} DS1 records, seed ${seed}${counts ? ', class-balanced draw' : ''})`,
    records: { train, validation: val, test: [...DS2] },
  };
}

/**
 * Random intra-patient split of item indices (beats or fragments): every patient appears on
 * every side, which inflates accuracy. Returned protocol name says so.
 *
 * @param n - number of items
 * @param fractions - [train, validation, test] fractions (normalised)
 * @param seed - RNG seed
 */
export function intraPatientSplit(
  n: number,
  fractions: [number, number, number] = [0.7, 0.1, 0.2],
  seed = 0,
): { protocol: string; train: Int32Array; validation: Int32Array; test: Int32Array } {
  const tot = fractions[0] + fractions[1] + fractions[2];
  if (!(tot > 0) || fractions.some((f) => f < 0)) throw new RangeError('intraPatientSplit: bad fractions');
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  shuffleInPlace(resolveGenerator(seed, 'intraPatientSplit'), idx);
  const nTrain = Math.round((n * fractions[0]) / tot);
  const nVal = Math.round((n * fractions[1]) / tot);
  return {
    protocol: `intra-patient (random over items, seed ${seed}; patients appear in every split)`,
    train: idx.slice(0, nTrain),
    validation: idx.slice(nTrain, nTrain + nVal),
    test: idx.slice(nTrain + nVal),
  };
}
