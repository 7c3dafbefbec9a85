/**
 * Few-shot tasks and SNAIL sample groups over a {@link MetaSet}, all drawn by @ecgnn/data's `EpisodeSampler`:
 * - a task (M-way k-shot, q queries per class) is an episode of M classes × (k + q) items, shuffled; in sequence
 *   order, the first k items of each class are the support (kept in their shuffled order), the others queries;
 * - SNAIL groups are sequences of T = M·k + 1 items whose last step is a query (label slot zero):
 *   'balanced' — the task's support followed by one query (one group per query, as in SNAIL);
 *   'sliding' — the method's sliding windows (patent CN109700434A): an episode of M × (k + 1) items and its
 *   windows Ψ_i … Ψ_{i+M·k} (`EpisodeSampler` `groupWidth`), the window's last item the query; a window's
 *   context then holds a random, not a balanced, mix of the M classes.
 */

import { EcgnnError } from '@ecgnn/core';
import { EpisodeSampler, type Generator } from '@ecgnn/data';
import type { MetaSet } from './meta-data.js';

/** Raised for impossible few-shot requests (e.g. a class with too few beats); the message names the setting. */
export class MetaTaskError extends EcgnnError {}

/** One M-way k-shot task. */
export interface FewShotTask {
  /** M. */
  ways: number;
  /** k. */
  shots: number;
  /** Support items (indices into the set), shuffled. */
  support: Int32Array;
  /** Episode-local label (0…M−1) of each support item. */
  supportLabels: Int32Array;
  /** Query items. */
  queries: Int32Array;
  /** Episode-local label of each query. */
  queryLabels: Int32Array;
}

/** A batch of SNAIL sample groups of equal length T (last step = query). */
export interface GroupBatch {
  /** M of the episode. */
  ways: number;
  /** Steps per group. */
  steps: number;
  /** Items of the groups, group-major (groups × steps). */
  items: Int32Array;
  /** True episode-local labels, group-major (the last step's is the target). */
  labels: Int32Array;
}

/** How SNAIL training forms its sample groups (see the module comment). */
export type GroupMode = 'balanced' | 'sliding';

/** An M-way k-shot setting. */
export interface FewShotSetting {
  /** M. */
  ways: number;
  /** k. */
  shots: number;
}

function sampler(
  set: MetaSet,
  ways: number,
  perClass: number,
  g: Generator,
  groupWidth?: number,
): EpisodeSampler {
  try {
    return new EpisodeSampler(set.label, { ways, shots: perClass, generator: g, groupWidth });
  } catch (err) {
    throw new MetaTaskError(`${ways}-way with ${perClass} beats per class: ${(err as Error).message}`);
  }
}

/** Splits an episode into support (first k of each class, in order) and queries. */
function splitEpisode(indices: Int32Array, labels: Int32Array, ways: number, shots: number): FewShotTask {
  const seen = new Int32Array(ways);
  const s: number[] = [];
  const sl: number[] = [];
  const q: number[] = [];
  const ql: number[] = [];
  for (let i = 0; i < indices.length; i++) {
    const l = labels[i];
    if (seen[l]++ < shots) {
      s.push(indices[i]);
      sl.push(l);
    } else {
      q.push(indices[i]);
      ql.push(l);
    }
  }
  return {
    ways,
    shots,
    support: Int32Array.from(s),
    supportLabels: Int32Array.from(sl),
    queries: Int32Array.from(q),
    queryLabels: Int32Array.from(ql),
  };
}

/** Draws `count` tasks of one setting from `set` with `queriesPerClass` queries per class. */
export function sampleTasks(
  set: MetaSet,
  setting: FewShotSetting,
  queriesPerClass: number,
  count: number,
  g: Generator,
): FewShotTask[] {
  const { ways, shots } = setting;
  const sp = sampler(set, ways, shots + queriesPerClass, g);
  const out: FewShotTask[] = [];
  for (let i = 0; i < count; i++) {
    const ep = sp.sample();
    out.push(splitEpisode(ep.indices, ep.labels, ways, shots));
  }
  return out;
}

/** The 'balanced' groups of a task: [support…, query] for each query. */
export function taskGroups(task: FewShotTask): GroupBatch {
  const T = task.support.length + 1;
  const n = task.queries.length;
  const items = new Int32Array(n * T);
  const labels = new Int32Array(n * T);
  for (let q = 0; q < n; q++) {
    items.set(task.support, q * T);
    labels.set(task.supportLabels, q * T);
    items[q * T + T - 1] = task.queries[q];
    labels[q * T + T - 1] = task.queryLabels[q];
  }
  return { ways: task.ways, steps: T, items, labels };
}

/**
 * Draws the training groups of one episode: 'balanced' — a task with `queriesPerClass` queries per class and
 * its {@link taskGroups}; 'sliding' — an episode of M × (k + `queriesPerClass`) items and its sliding windows
 * of width M·k + 1 (M·q windows).
 */
export function sampleTrainingGroups(
  set: MetaSet,
  setting: FewShotSetting,
  mode: GroupMode,
  queriesPerClass: number,
  g: Generator,
): GroupBatch {
  const { ways, shots } = setting;
  if (mode === 'balanced') return taskGroups(sampleTasks(set, setting, queriesPerClass, 1, g)[0]);
  const T = ways * shots + 1;
  const ep = sampler(set, ways, shots + queriesPerClass, g, T).sample();
  const n = ep.groups.length;
  const items = new Int32Array(n * T);
  const labels = new Int32Array(n * T);
  ep.groups.forEach((grp, i) => {
    for (let j = 0; j < T; j++) {
      items[i * T + j] = ep.indices[grp[j]];
      labels[i * T + j] = ep.labels[grp[j]];
    }
  });
  return { ways, steps: T, items, labels };
}

/** Mean and 95 % confidence half-width (1.96 · sd / √n, normal approximation) of per-task accuracies. */
export function meanCi95(values: readonly number[]): { mean: number; ci95: number } {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, ci95: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci95: Number.NaN };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, ci95: (1.96 * Math.sqrt(v)) / Math.sqrt(n) };
}

/** Parses settings like "2x1,2x5,5x1,5x5" (M×k). */
export function parseSettings(text: string): FewShotSetting[] {
  return text.split(',').map((s) => {
    const m = /^\s*(\d+)x(\d+)\s*$/.exec(s);
    if (!m) throw new MetaTaskError(`setting '${s}' is not MxK (e.g. 5x1)`);
    const ways = Number(m[1]);
    const shots = Number(m[2]);
    if (ways < 2 || shots < 1) throw new MetaTaskError(`setting '${s}': ways must be ≥ 2 and shots ≥ 1`);
    return { ways, shots };
  });
}
