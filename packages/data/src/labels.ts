// Beat and rhythm labels: MIT-BIH symbols → AAMI EC57 classes, rhythm annotations per sample.
import { ANNOTATION_SYMBOLS, type Annotations } from './annotations.js';

/** AAMI EC57 heartbeat classes, in the index order used by every label array of this package. */
export const AAMI_CLASSES = ['N', 'S', 'V', 'F', 'Q'] as const;
/** One AAMI EC57 heartbeat class. */
export type AamiClass = (typeof AAMI_CLASSES)[number];

/**
 * MIT-BIH beat symbols of each AAMI class (ANSI/AAMI EC57, as used by de Chazal et al. 2004):
 * N = normal, bundle-branch blocks, atrial and nodal escapes (N L R e j); S = supraventricular
 * ectopic (A a J S); V = ventricular ectopic (V E); F = fusion (F); Q = paced, fusion of paced
 * and normal, unclassifiable (/ f Q). Other annotations (rhythm, noise, `~`, `|`, `x`…) are not beats
 * of any class.
 */
export const AAMI_SYMBOLS: Readonly<Record<AamiClass, readonly string[]>> = {
  N: ['N', 'L', 'R', 'e', 'j'],
  S: ['A', 'a', 'J', 'S'],
  V: ['V', 'E'],
  F: ['F'],
  Q: ['/', 'f', 'Q'],
};

const symbolToClass = new Map<string, number>();
AAMI_CLASSES.forEach((c, i) => {
  for (const s of AAMI_SYMBOLS[c]) symbolToClass.set(s, i);
});

/** AAMI class index (0..4 = N S V F Q) of a MIT-BIH beat symbol, or −1 when it is not a classified beat. */
export function aamiIndex(symbol: string): number {
  return symbolToClass.get(symbol) ?? -1;
}

/** AAMI class of a MIT-BIH beat symbol, or null. */
export function aamiClass(symbol: string): AamiClass | null {
  const i = aamiIndex(symbol);
  return i < 0 ? null : AAMI_CLASSES[i];
}

/** AAMI class index for each annotation (−1 for non-beat annotations). */
export function aamiLabels(ann: Annotations): Int8Array {
  const out = new Int8Array(ann.code.length);
  for (let i = 0; i < out.length; i++) out[i] = aamiIndex(ANNOTATION_SYMBOLS[ann.code[i]] ?? '');
  return out;
}

/** Counts of beats per AAMI class. */
export type AamiCounts = Record<AamiClass, number>;

/** Counts the annotations of each AAMI class. */
export function countAami(ann: Annotations): AamiCounts {
  const c: AamiCounts = { N: 0, S: 0, V: 0, F: 0, Q: 0 };
  const lab = aamiLabels(ann);
  for (let i = 0; i < lab.length; i++) if (lab[i] >= 0) c[AAMI_CLASSES[lab[i]]]++;
  return c;
}

/** Rhythm labels of every sample of a record. */
export interface RhythmTrack {
  /** Distinct rhythm names in order of first appearance (e.g. `N`, `AFIB`); index 0 is `''` (unknown). */
  names: string[];
  /** Per sample, the index into `names` of the rhythm in force. */
  index: Uint8Array;
}

/**
 * Expands rhythm-change annotations (code 28 `+`, aux text such as `(AFIB`) into a per-sample
 * track: each rhythm holds from its annotation to the next one; samples before the first are
 * unknown (`''`). The leading `(` and any trailing NUL are stripped from names.
 *
 * @param ann - record annotations
 * @param nSamples - record length in samples
 */
export function rhythmPerSample(ann: Annotations, nSamples: number): RhythmTrack {
  const names = [''];
  const index = new Uint8Array(nSamples);
  let cur = 0;
  let from = 0;
  for (let i = 0; i < ann.code.length; i++) {
    if (ann.code[i] !== 28) continue;
    const aux = ann.aux[i];
    if (!aux) continue;
    const name = aux.replace(/^\(/, '').replace(/\0+$/, '');
    let k = names.indexOf(name);
    if (k < 0) {
      if (names.length >= 255) throw new RangeError('rhythmPerSample: more than 254 distinct rhythms');
      names.push(name);
      k = names.length - 1;
    }
    const to = Math.min(nSamples, Math.max(from, ann.sample[i]));
    index.fill(cur, from, to);
    from = to;
    cur = k;
  }
  index.fill(cur, from, nSamples);
  return { names, index };
}
