// Beat-by-beat comparison of detected and reference beat times (as WFDB bxb, simplified).

/** Result of {@link matchBeats}. */
export interface BeatMatch {
  /** Reference beats matched by a detection. */
  tp: number;
  /** Detections without a reference beat. */
  fp: number;
  /** Reference beats without a detection. */
  fn: number;
  /** Sensitivity TP / (TP + FN), in % (100 when there is no reference beat). */
  sensitivity: number;
  /** Positive predictivity TP / (TP + FP), in % (100 when there is no detection). */
  positivePredictivity: number;
}

/**
 * Matches detections to reference beats one-to-one: a detection matches a reference beat when
 * |t_det − t_ref| ≤ tolerance samples (standard: 150 ms). Greedy in time order over two sorted
 * lists, which is optimal when the tolerance is shorter than half the smallest RR interval.
 *
 * @param reference - increasing reference sample indices
 * @param detected - increasing detected sample indices
 * @param tolerance - match window in samples
 * @param exclude - [start, end) sample intervals in which neither list is scored (e.g.
 *   ventricular flutter episodes, which EC57 excludes from QRS detection statistics)
 */
export function matchBeats(
  reference: ArrayLike<number>,
  detected: ArrayLike<number>,
  tolerance: number,
  exclude: readonly [number, number][] = [],
): BeatMatch {
  if (exclude.length > 0) {
    const keep = (t: number): boolean => !exclude.some(([a, b]) => t >= a && t < b);
    reference = Array.from(reference).filter(keep);
    detected = Array.from(detected).filter(keep);
  }
  let i = 0;
  let j = 0;
  let tp = 0;
  while (i < reference.length && j < detected.length) {
    const d = detected[j] - reference[i];
    if (Math.abs(d) <= tolerance) {
      tp++;
      i++;
      j++;
    } else if (d < 0) j++;
    else i++;
  }
  const fp = detected.length - tp;
  const fn = reference.length - tp;
  return {
    tp,
    fp,
    fn,
    sensitivity: tp + fn === 0 ? 100 : (100 * tp) / (tp + fn),
    positivePredictivity: tp + fp === 0 ? 100 : (100 * tp) / (tp + fp),
  };
}

/**
 * Ventricular flutter/fibrillation episodes of a record: [start, end) sample intervals from each
 * `[` (code 32, VFON) annotation to the next `]` (code 33, VFOFF) or the record end.
 */
export function flutterEpisodes(
  code: ArrayLike<number>,
  sample: ArrayLike<number>,
  nSamples: number,
): [number, number][] {
  const out: [number, number][] = [];
  let on = -1;
  for (let i = 0; i < code.length; i++) {
    if (code[i] === 32 && on < 0) on = sample[i];
    else if (code[i] === 33 && on >= 0) {
      out.push([on, sample[i]]);
      on = -1;
    }
  }
  if (on >= 0) out.push([on, nSamples]);
  return out;
}
