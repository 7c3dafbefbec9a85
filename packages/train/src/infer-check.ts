/**
 * The deployed model checked against the trained one: an exported model file loaded in @ecgnn/infer, its
 * predictions over a dataset compared with the core model's (argmax agreement, largest probability
 * difference), and its inference time per item at batch 1 (what a wearable classifying beat by beat pays).
 */
import { Generator, ValueError } from '@ecgnn/core';
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
  const times = timedRuns((i) => model.predict(views[i % items], undefined, out), 2 * perRun, perRun, runs);
  return {
    msPerItem: median(times),
    method: `median of ${runs} runs of ${perRun} single-item predict calls, after ${2 * perRun} warm-up calls`,
  };
}

/**
 * Calls `call(i)` `warmup` times untimed, then `runs` runs of `perRun` consecutive calls; returns each run's mean
 * time per call, ms.
 */
function timedRuns(call: (i: number) => void, warmup: number, perRun: number, runs: number): number[] {
  for (let i = 0; i < warmup; i++) call(i);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perRun; i++) call(i);
    times.push((performance.now() - t0) / perRun);
  }
  return times;
}

/** Options of {@link timePredict}. */
export interface PredictTimingOptions {
  /** Items per `predict` call. */
  batch: number;
  /** Timed runs; the median run is reported (default 21). */
  runs?: number;
  /** Least duration of one timed run, ms: calls per run are chosen from the warm-up to reach it (default 20). */
  minRunMs?: number;
  /** Least warm-up time, ms (default 200; at least 5 calls). */
  warmupMs?: number;
  /** Seed of the synthetic inputs (default 0). */
  seed?: number;
}

/** Result of {@link timePredict}. */
export interface PredictTiming {
  /** Items per call. */
  batch: number;
  /** Median over the runs of the mean time per `predict` call, ms. */
  msPerCall: number;
  /** {@link msPerCall} / batch. */
  msPerItem: number;
  /** Items per second at that rate. */
  itemsPerSecond: number;
  /** Timed runs, calls per run, untimed warm-up calls. */
  runs: number;
  callsPerRun: number;
  warmupCalls: number;
  /** Spread of the runs' time per call: 10th and 90th percentile, ms. */
  p10: number;
  p90: number;
}

/** Most calls in one timed run of {@link timePredict}. */
const MAX_CALLS = 1 << 20;

function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/**
 * Time of `model.predict` on batches of `batch` items: synthetic inputs for every graph input (uniform in
 * [−1, 1), seeded; the kernels' work does not depend on the values), `predict` called until the warm-up time has
 * passed, the calls per run chosen so that a run lasts `minRunMs`, then `runs` timed runs of that many calls, into
 * one preallocated output. The median run's time per call is reported, with the 10th and 90th percentiles.
 */
export function timePredict(model: Model, opts: PredictTimingOptions): PredictTiming {
  const { batch } = opts;
  const runs = opts.runs ?? 21;
  const minRunMs = opts.minRunMs ?? 20;
  const warmupMs = opts.warmupMs ?? 200;
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(runs) || runs < 1)
    throw new ValueError(`timePredict: batch and runs must be positive integers, got ${batch}, ${runs}`);
  const g = new Generator(opts.seed ?? 0);
  const inputs = Object.fromEntries(
    model.inputs.map((inp) => {
      const n = batch * inp.shape.reduce((a, b) => a * b, 1);
      return [inp.name, Float32Array.from({ length: n }, () => 2 * g.random() - 1)];
    }),
  );
  const out = new Float32Array(batch * model.metadata.classes.length);
  const call = (): void => {
    model.predict(inputs, undefined, out);
  };
  let warmupCalls = 0;
  const t0 = performance.now();
  while (warmupCalls < 5 || performance.now() - t0 < warmupMs) {
    call();
    warmupCalls++;
  }
  const timeCalls = (k: number): number => {
    const t = performance.now();
    for (let i = 0; i < k; i++) call();
    warmupCalls += k;
    return performance.now() - t;
  };
  // Calls per run: doubled until k calls last minRunMs (after the warm-up, so compilation is not counted); a load
  // spike can end the doubling early, so the fastest of three runs of k calls sets the count.
  let k = 1;
  let elapsed = timeCalls(k);
  while (elapsed < minRunMs && k < MAX_CALLS) {
    k *= 2;
    elapsed = timeCalls(k);
  }
  let fastest = elapsed / k;
  for (let j = 0; j < 2; j++) fastest = Math.min(fastest, timeCalls(k) / k);
  const callsPerRun = Math.min(MAX_CALLS, Math.max(1, Math.ceil(minRunMs / Math.max(fastest, 1e-9))));
  const times = timedRuns(call, 0, callsPerRun, runs);
  const msPerCall = median(times);
  return {
    batch,
    msPerCall,
    msPerItem: msPerCall / batch,
    itemsPerSecond: (1000 * batch) / msPerCall,
    runs,
    callsPerRun,
    warmupCalls,
    p10: percentile(times, 0.1),
    p90: percentile(times, 0.9),
  };
}
