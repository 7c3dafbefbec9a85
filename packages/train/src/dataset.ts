/**
 * Datasets: labelled items held in columnar typed arrays — one array per named model input (a waveform window,
 * RR features, …), an int32 class per item and the record (patient) each item comes from — plus the
 * serialisable description of how they were preprocessed. Everything a loader needs to cut batches, and
 * nothing that allocates per item.
 */
import { ValueError } from '@ecgnn/core';
import type { DatasetPreprocessing } from './preprocess.js';

/** One model input of a dataset: `count` items of `shape` each, row-major. */
export interface DatasetInput {
  /** Input name (the graph input name in exported models, e.g. `'window'`, `'rr'`). */
  name: string;
  /** Per-item shape, e.g. `[1, 126]` for a one-lead window, `[4]` for RR features. */
  shape: number[];
  /** Values, `count × Π shape`, row-major. */
  data: Float32Array;
}

/** A labelled dataset (see the module comment). */
export interface Dataset {
  /** Number of items. */
  count: number;
  /** Inputs in the order the model's `forward` takes them. */
  inputs: DatasetInput[];
  /** Class index per item, in [0, classes.length). */
  label: Int32Array;
  /** Class names (index = label). */
  classes: string[];
  /** Record (patient) of each item, for per-record reports and patient-wise splits. */
  group: string[];
  /** Multi-label targets (0/1, `count × targetNames.length`), when the task is multi-label. */
  targets?: Float32Array;
  /** Names of the columns of `targets`. */
  targetNames?: string[];
  /** How the items were made from raw ECG (written into exported model metadata). */
  preprocessing: DatasetPreprocessing | null;
  /** Human-readable provenance (database, records, synthetic or not). */
  description: string;
}

/** Elements per item of an input: Π shape. */
export function itemSize(input: DatasetInput): number {
  let n = 1;
  for (const d of input.shape) n *= d;
  return n;
}

/** Checks that every array of `ds` has `count` items; throws a ValueError naming the first that does not. */
export function checkDataset(ds: Dataset): void {
  const n = ds.count;
  if (!Number.isInteger(n) || n < 0)
    throw new ValueError(`dataset: count must be a non-negative integer, got ${n}`);
  if (ds.inputs.length === 0) throw new ValueError('dataset: no inputs');
  const names = new Set<string>();
  for (const inp of ds.inputs) {
    if (names.has(inp.name)) throw new ValueError(`dataset: two inputs are named '${inp.name}'`);
    names.add(inp.name);
    if (inp.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ValueError(`dataset: input '${inp.name}' has shape [${inp.shape.join(', ')}]`);
    }
    if (inp.data.length !== n * itemSize(inp)) {
      throw new ValueError(
        `dataset: input '${inp.name}' holds ${inp.data.length} values, ${n} items of [${inp.shape.join(', ')}] need ${n * itemSize(inp)}`,
      );
    }
  }
  if (ds.label.length !== n) throw new ValueError(`dataset: ${ds.label.length} labels for ${n} items`);
  if (ds.group.length !== n) throw new ValueError(`dataset: ${ds.group.length} groups for ${n} items`);
  const k = ds.classes.length;
  for (let i = 0; i < n; i++) {
    const l = ds.label[i];
    if (l < 0 || l >= k) throw new ValueError(`dataset: item ${i} has label ${l}, outside 0..${k - 1}`);
  }
  if (ds.targets !== undefined) {
    const w = ds.targetNames?.length ?? 0;
    if (w === 0 || ds.targets.length !== n * w) {
      throw new ValueError(
        `dataset: targets hold ${ds.targets.length} values for ${n} items × ${w} target names`,
      );
    }
  }
}

/** The items `index` of `ds` (copies, in that order) as a new dataset. */
export function subsetDataset(ds: Dataset, index: ArrayLike<number>, description = ds.description): Dataset {
  const m = index.length;
  for (let j = 0; j < m; j++) {
    const i = index[j];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
      throw new ValueError(`subsetDataset: index ${j} is ${i}, outside 0..${ds.count - 1}`);
    }
  }
  const inputs = ds.inputs.map((inp) => {
    const s = itemSize(inp);
    const data = new Float32Array(m * s);
    for (let j = 0; j < m; j++) data.set(inp.data.subarray(index[j] * s, (index[j] + 1) * s), j * s);
    return { name: inp.name, shape: [...inp.shape], data };
  });
  const label = new Int32Array(m);
  const group: string[] = new Array(m);
  for (let j = 0; j < m; j++) {
    label[j] = ds.label[index[j]];
    group[j] = ds.group[index[j]];
  }
  const out: Dataset = {
    count: m,
    inputs,
    label,
    classes: [...ds.classes],
    group,
    preprocessing: ds.preprocessing,
    description,
  };
  if (ds.targets !== undefined && ds.targetNames !== undefined) {
    const w = ds.targetNames.length;
    out.targets = new Float32Array(m * w);
    for (let j = 0; j < m; j++) out.targets.set(ds.targets.subarray(index[j] * w, (index[j] + 1) * w), j * w);
    out.targetNames = [...ds.targetNames];
  }
  return out;
}

/** Indices of the items whose group (record) is in `groups`, in dataset order. */
export function itemsOfGroups(ds: Dataset, groups: readonly string[]): Int32Array {
  const want = new Set(groups);
  const out: number[] = [];
  for (let i = 0; i < ds.count; i++) if (want.has(ds.group[i])) out.push(i);
  return Int32Array.from(out);
}

/**
 * Concatenates datasets with the same inputs (names and shapes) and classes; multi-label targets are kept when
 * every part has them with the same names.
 */
export function concatDatasets(parts: readonly Dataset[], description?: string): Dataset {
  if (parts.length === 0) throw new ValueError('concatDatasets: nothing to concatenate');
  const first = parts[0];
  for (const p of parts) {
    const same =
      p.classes.join('\u0000') === first.classes.join('\u0000') &&
      p.inputs.length === first.inputs.length &&
      p.inputs.every(
        (inp, i) => inp.name === first.inputs[i].name && inp.shape.join() === first.inputs[i].shape.join(),
      );
    if (!same) throw new ValueError('concatDatasets: datasets differ in classes or inputs (names, shapes)');
  }
  const n = parts.reduce((a, p) => a + p.count, 0);
  const inputs = first.inputs.map((inp, k) => {
    const data = new Float32Array(n * itemSize(inp));
    let o = 0;
    for (const p of parts) {
      data.set(p.inputs[k].data, o);
      o += p.inputs[k].data.length;
    }
    return { name: inp.name, shape: [...inp.shape], data };
  });
  const label = new Int32Array(n);
  const group: string[] = [];
  let o = 0;
  for (const p of parts) {
    label.set(p.label, o);
    o += p.count;
    for (const g of p.group) group.push(g);
  }
  const out: Dataset = {
    count: n,
    inputs,
    label,
    classes: [...first.classes],
    group,
    preprocessing: first.preprocessing,
    description: description ?? parts.map((p) => p.description).join(' + '),
  };
  const names = first.targetNames;
  if (
    names !== undefined &&
    parts.every((p) => p.targets !== undefined && p.targetNames?.join('\u0000') === names.join('\u0000'))
  ) {
    out.targets = new Float32Array(n * names.length);
    let t = 0;
    for (const p of parts) {
      out.targets.set(p.targets as Float32Array, t);
      t += (p.targets as Float32Array).length;
    }
    out.targetNames = [...names];
  }
  return out;
}

/** Items per class: `counts[c]` = items with label c. */
export function classCounts(ds: Pick<Dataset, 'label' | 'classes'>): number[] {
  const counts = new Array<number>(ds.classes.length).fill(0);
  for (const l of ds.label) counts[l]++;
  return counts;
}
