/**
 * The deployed model checked against the trained one: an exported model file loaded in @ecgnn/infer, its
 * predictions over a dataset compared with the core model's (argmax agreement, largest probability
 * difference), and its inference time per item at batch 1 (what a wearable classifying beat by beat pays).
 */
import { ValueError } from '@ecgnn/core';
import type { Model } from '@ecgnn/infer';
import { type Dataset, itemSize } from './dataset.js';
import { argmaxRows } from './metrics.js';

/** Result of {@link compareWithInfer}. */
export interface InferAgreement {
  /** Fraction of items whose infer argmax equals the core model's (1 for an empty dataset). */
  agreement: number;
  /** Items whose argmax differs. */
  disagreements: number;
  /** Largest |p_infer − p_core| over all items and classes. */
  maxAbsProbDiff: number;
  /** Infer's probabilities, row-major `[count, classes]`. */
  probs: Float32Array;
  /** Infer's predicted class per item. */
  pred: Int32Array;
}

/** The dataset's inputs keyed by input name (the graph input names of exported models), as infer takes them. */
export function inferInputs(ds: Dataset): Record<string, Float32Array> {
  return Object.fromEntries(ds.inputs.map((i) => [i.name, i.data]));
}

/**
 * Runs the loaded `model` over every item of `ds` and compares with `coreProbs` (the core model's
 * probabilities, row-major `[count, classes]`, e.g. `evaluate(...).predictions.probs`).
 */
export function compareWithInfer(model: Model, ds: Dataset, coreProbs: Float32Array): InferAgreement {
  const K = model.metadata.classes.length;
  if (coreProbs.length !== ds.count * K) {
    throw new ValueError(
      `compareWithInfer: ${coreProbs.length} core probabilities for ${ds.count} items × ${K} classes`,
    );
  }
  if (ds.count === 0) {
    return {
      agreement: 1,
      disagreements: 0,
      maxAbsProbDiff: 0,
      probs: new Float32Array(0),
      pred: new Int32Array(0),
    };
  }
  const probs = model.predict(inferInputs(ds));
  const pred = argmaxRows(probs, K);
  const corePred = argmaxRows(coreProbs, K);
  let disagreements = 0;
  for (let i = 0; i < ds.count; i++) if (pred[i] !== corePred[i]) disagreements++;
  let maxAbsProbDiff = 0;
  for (let i = 0; i < probs.length; i++)
    maxAbsProbDiff = Math.max(maxAbsProbDiff, Math.abs(probs[i] - coreProbs[i]));
  return { agreement: 1 - disagreements / ds.count, disagreements, maxAbsProbDiff, probs, pred };
}

/** Options of {@link inferLatency}. */
export interface LatencyOptions {
  /** Single-item calls per timed run (default 100). */
  perRun?: number;
  /** Timed runs; the median run is reported (default 21). */
  runs?: number;
}

/** Result of {@link inferLatency}. */
export interface InferLatency {
  /** Median over the runs of the mean time per single-item `predict` call, ms. */
  msPerItem: number;
  /** How it was measured. */
  method: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Inference time per item at batch 1: after `2·perRun` warm-up calls, `runs` runs of `perRun` consecutive
 * `predict` calls with ONE item each (cycling over the first `perRun` items of `ds`, whose input views are made
 * before timing); the median run time divided by `perRun`.
 */
export function inferLatency(model: Model, ds: Dataset, opts: LatencyOptions = {}): InferLatency {
  const perRun = opts.perRun ?? 100;
  const runs = opts.runs ?? 21;
  if (!Number.isInteger(perRun) || perRun < 1 || !Number.isInteger(runs) || runs < 1)
    throw new ValueError(`inferLatency: perRun and runs must be positive integers, got ${perRun}, ${runs}`);
  if (ds.count === 0) throw new ValueError('inferLatency: the dataset is empty');
  const items = Math.min(ds.count, perRun);
  const sizes = ds.inputs.map(itemSize);
  const views = Array.from({ length: items }, (_, i) =>
    Object.fromEntries(
      ds.inputs.map((inp, k) => [inp.name, inp.data.subarray(i * sizes[k], (i + 1) * sizes[k])]),
    ),
  );
  const out = new Float32Array(model.metadata.classes.length);
  const call = (i: number): void => {
    model.predict(views[i % items], undefined, out);
  };
  for (let i = 0; i < 2 * perRun; i++) call(i);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perRun; i++) call(i);
    times.push((performance.now() - t0) / perRun);
  }
  return {
    msPerItem: median(times),
    method: `median of ${runs} runs of ${perRun} single-item predict calls, after ${2 * perRun} warm-up calls`,
  };
}
