/**
 * Serving an exported beat model on a raw MIT-BIH record, as a deployed classifier would (the main job's and
 * `ecgnn pipeline`'s end-to-end check): the record's raw MLII samples are
 * pushed in one-second chunks into @ecgnn/infer's streaming classifier (QRS detection, resampling, z-scored beat
 * windows, RR features, the model), and its beats are compared with the reference annotations: each reference
 * beat is matched to a detected beat within 150 ms (one-to-one, greedy in time order, as @ecgnn/data's
 * `matchBeats`), and per AAMI class we count the reference beats, the matched ones, and the matched ones the
 * model labelled with the reference class.
 */

import { ValueError } from '@ecgnn/core';
import { extractBeats, leadIndex, loadAnnotations, loadRecord } from '@ecgnn/data';
import { createClassifier, type Model } from '@ecgnn/infer';

/** Per-class counts of a served record. */
export interface ServedClass {
  /** Reference (annotated) beats of the class. */
  reference: number;
  /** Of those, beats a detection matched within the tolerance. */
  matched: number;
  /** Of those, beats the model labelled with this class. */
  correct: number;
  /** Detections the model labelled with this class (matched or not). */
  predicted: number;
}

/** A stretch of the served record for drawing: raw samples with the reference and the predicted beat labels. */
export interface ServeStrip {
  /** Sampling rate of `samples`, Hz. */
  fs: number;
  /** Index in the record of `samples[0]`. */
  start: number;
  /** Raw MLII samples (mV), `seconds · fs` of them (fewer at the end of the record). */
  samples: number[];
  /** Reference beats inside the strip: sample index in the record and AAMI class name. */
  reference: { sample: number; label: string }[];
  /** Detected beats inside the strip: sample index, predicted class name and its probability. */
  predicted: { sample: number; label: string; probability: number }[];
}

/** Result of {@link serveRecord}. */
export interface ServeSummary {
  /** Record name. */
  record: string;
  /** Length of the record, seconds. */
  seconds: number;
  /** Wall time of the streaming classification, seconds. */
  computeSeconds: number;
  /** AAMI-labelled reference beats. */
  referenceBeats: number;
  /** Beats the classifier detected and labelled. */
  detectedBeats: number;
  /** Reference beats matched by a detection within the tolerance. */
  matched: number;
  /** Match tolerance, ms. */
  toleranceMs: number;
  /** Fraction of matched beats labelled with their reference class. */
  accuracy: number;
  /** Counts per class, by class name. */
  perClass: Record<string, ServedClass>;
  /** The stretch asked for by {@link ServeOptions.strip} (absent otherwise). */
  strip?: ServeStrip;
}

/**
 * Matches detections to labelled reference beats one-to-one within `tolerance` samples (both lists in increasing
 * time; greedy in time order) and counts per class. `refLabel`/`detLabel` are class indices into `classes`.
 */
export function matchLabelledBeats(
  refSample: ArrayLike<number>,
  refLabel: ArrayLike<number>,
  detSample: ArrayLike<number>,
  detLabel: ArrayLike<number>,
  tolerance: number,
  classes: readonly string[],
): { matched: number; perClass: Record<string, ServedClass> } {
  const perClass = Object.fromEntries(
    classes.map((c) => [c, { reference: 0, matched: 0, correct: 0, predicted: 0 }]),
  ) as Record<string, ServedClass>;
  for (let i = 0; i < refLabel.length; i++) perClass[classes[refLabel[i]]].reference++;
  for (let j = 0; j < detLabel.length; j++) perClass[classes[detLabel[j]]].predicted++;
  let i = 0;
  let j = 0;
  let matched = 0;
  while (i < refSample.length && j < detSample.length) {
    const d = detSample[j] - refSample[i];
    if (Math.abs(d) <= tolerance) {
      const c = perClass[classes[refLabel[i]]];
      c.matched++;
      if (detLabel[j] === refLabel[i]) c.correct++;
      matched++;
      i++;
      j++;
    } else if (d < 0) j++;
    else i++;
  }
  return { matched, perClass };
}

/** Options of {@link serveRecord}. */
export interface ServeOptions {
  /** Data directory holding `mitdb/`. */
  dataDir: string;
  /** Class names of the model's outputs, in the order of the AAMI class indices (N, S, V, F, Q). */
  classes: readonly string[];
  /** Match tolerance, ms (default 150, the EC57 standard). */
  toleranceMs?: number;
  /**
   * Keep a stretch of `seconds` for drawing ({@link ServeSummary.strip}), from `start` seconds, or (no `start`)
   * the whole-second window holding the most reference beats that are not N — chosen for display only.
   */
  strip?: { seconds: number; start?: number };
}

/**
 * First sample of the `length`-sample window with the most `rare` reference beats (window starts on multiples
 * of `step`; ties: the earliest), for a strip that shows more than normal beats.
 */
export function busiestWindow(
  refSample: ArrayLike<number>,
  rare: (i: number) => boolean,
  total: number,
  length: number,
  step: number,
): number {
  let best = 0;
  let bestCount = -1;
  for (let start = 0; start + length <= Math.max(total, length); start += step) {
    let count = 0;
    for (let i = 0; i < refSample.length; i++)
      if (refSample[i] >= start && refSample[i] < start + length && rare(i)) count++;
    if (count > bestCount) [best, bestCount] = [start, count];
  }
  return best;
}

/** Streams MIT-BIH record `record`'s raw MLII lead through `createClassifier(model)` and scores its beats. */
export function serveRecord(model: Model, record: string, opts: ServeOptions): ServeSummary {
  const rec = loadRecord('mitdb', record, { dataDir: opts.dataDir });
  const ann = loadAnnotations('mitdb', record, 'atr', { dataDir: opts.dataDir });
  const ref = extractBeats(rec, ann, { lead: 'MLII', before: 0, after: 1 / rec.fs });
  const signal = rec.signals[leadIndex(rec, 'MLII')];
  const t0 = performance.now();
  const classifier = createClassifier(model, { sampleRate: rec.fs });
  const detSample: number[] = [];
  const detLabel: number[] = [];
  const detProb: number[] = [];
  const take = (results: ReturnType<typeof classifier.flush>): void => {
    for (const r of results) {
      detSample.push(r.sample);
      detLabel.push(r.classIndex);
      detProb.push(r.probabilities[r.classIndex]);
    }
  };
  const chunk = Math.round(rec.fs);
  for (let s = 0; s < signal.length; s += chunk) take(classifier.push(signal.subarray(s, s + chunk)));
  take(classifier.flush());
  const computeSeconds = (performance.now() - t0) / 1000;
  const toleranceMs = opts.toleranceMs ?? 150;
  const { matched, perClass } = matchLabelledBeats(
    ref.sample,
    ref.label,
    detSample,
    detLabel,
    Math.round((toleranceMs / 1000) * rec.fs),
    opts.classes,
  );
  let correct = 0;
  for (const c of Object.values(perClass)) correct += c.correct;
  let strip: ServeStrip | undefined;
  if (opts.strip) {
    const { seconds, start } = opts.strip;
    if (!(seconds > 0) || (start !== undefined && !(start >= 0)))
      throw new ValueError(
        `serveRecord: strip needs seconds > 0 and start ≥ 0, got ${JSON.stringify(opts.strip)}`,
      );
    const length = Math.round(seconds * rec.fs);
    const first =
      start !== undefined
        ? Math.round(start * rec.fs)
        : busiestWindow(ref.sample, (i) => ref.label[i] !== 0, signal.length, length, Math.round(rec.fs));
    const inside = (s: number): boolean => s >= first && s < first + length;
    strip = {
      fs: rec.fs,
      start: first,
      samples: Array.from(signal.subarray(first, first + length)),
      reference: Array.from(ref.sample, (s, i) => ({ sample: s, label: opts.classes[ref.label[i]] })).filter(
        (b) => inside(b.sample),
      ),
      predicted: detSample
        .map((s, j) => ({ sample: s, label: opts.classes[detLabel[j]], probability: detProb[j] }))
        .filter((b) => inside(b.sample)),
    };
  }
  return {
    record,
    seconds: signal.length / rec.fs,
    computeSeconds,
    referenceBeats: ref.count,
    detectedBeats: detSample.length,
    matched,
    toleranceMs,
    accuracy: matched > 0 ? correct / matched : 0,
    perClass,
    ...(strip ? { strip } : {}),
  };
}

/** Log lines describing a {@link ServeSummary}. */
export function formatServe(s: ServeSummary): string {
  const lines = [
    `served record ${s.record} (${(s.seconds / 60).toFixed(1)} min of raw MLII) with @ecgnn/infer createClassifier in ` +
      `${s.computeSeconds.toFixed(1)} s: ${s.detectedBeats} beats detected, ${s.matched} of ${s.referenceBeats} reference ` +
      `beats matched within ${s.toleranceMs} ms; ${(100 * s.accuracy).toFixed(2)} % of matched beats labelled as annotated`,
    '  class  reference  matched  correct  predicted',
  ];
  for (const [c, v] of Object.entries(s.perClass)) {
    lines.push(
      `  ${c.padEnd(5)}  ${String(v.reference).padStart(9)}  ${String(v.matched).padStart(7)}  ${String(v.correct).padStart(7)}  ${String(v.predicted).padStart(9)}`,
    );
  }
  return lines.join('\n');
}

/** A Markdown section describing a {@link ServeSummary} (appended to report.md). */
export function serveMarkdown(s: ServeSummary): string {
  const rows = Object.entries(s.perClass).map(
    ([c, v]) => `| ${c} | ${v.reference} | ${v.matched} | ${v.correct} | ${v.predicted} |`,
  );
  return [
    '',
    `## Serving check: record ${s.record} through @ecgnn/infer's streaming classifier`,
    '',
    `The exported model file, served on the raw MLII signal of DS2 record ${s.record} (${(s.seconds / 60).toFixed(1)} min) ` +
      `by \`createClassifier\` (its own QRS detection, resampling, z-scored beat windows and RR features) in ` +
      `${s.computeSeconds.toFixed(1)} s: ${s.detectedBeats} beats detected, ${s.matched} of ${s.referenceBeats} ` +
      `reference beats matched within ${s.toleranceMs} ms, ${(100 * s.accuracy).toFixed(2)} % of them labelled as annotated.`,
    '',
    '| class | reference | matched | correct | predicted |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
