/**
 * Teacher → student distillation (method 1, patent CN110558972A): the teacher's outputs for every training
 * item computed once and cached (S3: "record z_i for every training sample"), and the student's loss
 * (S5) Loss_G = CE(y, p) + CE(z, p), with the temperature / α generalisation of Hinton, Vinyals & Dean 2015.
 */
import { existsSync, readFileSync } from 'node:fs';
import { add, crossEntropy, distillationLoss, mul, type nn, Tensor, ValueError } from '@ecgnn/core';
import { crc32 } from '@ecgnn/infer';
import { writeFileAtomicSync } from './checkpoint.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from './checkpoint-format.js';
import type { Dataset } from './dataset.js';
import { predict } from './evaluate.js';
import type { Batch } from './loader.js';

/** The teacher's logits for every item of a dataset. */
export interface SoftLabels {
  /** Teacher logits, row-major `[count, classes]`. */
  logits: Float32Array;
  /** Items. */
  count: number;
  /** Classes (teacher outputs per item). */
  classes: number;
  /** Fingerprint of the teacher's weights ({@link stateFingerprint}). */
  teacher: number;
  /** Fingerprint of the dataset ({@link datasetFingerprint}). */
  dataset: number;
}

function bytesOf(a: Float32Array | Float64Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** CRC-32 of the CRC-32s of `arrays` (in order), a cheap fingerprint of several arrays. */
function fingerprint(arrays: Array<Float32Array | Float64Array | Int32Array>): number {
  const crcs = new Uint32Array(arrays.length);
  arrays.forEach((a, i) => {
    crcs[i] = crc32(bytesOf(a));
  });
  return crc32(new Uint8Array(crcs.buffer));
}

/** Fingerprint of a model's state (parameters and buffers, in state-dict order). */
export function stateFingerprint(model: nn.AnyModule): number {
  return fingerprint(Object.values(model.stateDict()).map((t) => t.data as Float32Array));
}

/** Fingerprint of a dataset's inputs and labels. */
export function datasetFingerprint(ds: Dataset): number {
  return fingerprint([...ds.inputs.map((i) => i.data), ds.label]);
}

/** Options of {@link teacherSoftLabels}. */
export interface SoftLabelOptions {
  /**
   * Cache file: read when it holds the soft labels of this teacher (same weights) on this dataset (same
   * inputs and labels), otherwise computed and written there atomically.
   */
  cacheFile?: string | null;
  /** Items per forward pass (default 512). */
  batchSize?: number;
}

/**
 * The teacher's logits for every item of `ds`, in evaluation mode, computed once: with a cache file, a
 * later call with the same teacher weights and dataset reads them back instead of running the teacher.
 */
export function teacherSoftLabels(
  teacher: nn.AnyModule,
  ds: Dataset,
  opts: SoftLabelOptions = {},
): SoftLabels {
  const t = stateFingerprint(teacher);
  const d = datasetFingerprint(ds);
  const file = opts.cacheFile ?? null;
  if (file !== null && existsSync(file)) {
    const cached = readSoftLabels(file);
    if (cached.teacher === t && cached.dataset === d && cached.count === ds.count) return cached;
  }
  const p = predict(teacher, ds, { batchSize: opts.batchSize });
  const out: SoftLabels = { logits: p.logits, count: ds.count, classes: p.outputs, teacher: t, dataset: d };
  if (file !== null) {
    writeFileAtomicSync(
      file,
      encodeCheckpoint({
        format: 'ecgnn-soft-labels',
        count: out.count,
        classes: out.classes,
        teacher: out.teacher,
        dataset: out.dataset,
        logits: out.logits,
      }),
    );
  }
  return out;
}

/** Reads a soft-label cache file written by {@link teacherSoftLabels} (a CheckpointError names a problem). */
export function readSoftLabels(file: string): SoftLabels {
  const root = decodeCheckpoint(readFileSync(file), file) as Record<string, unknown>;
  const logits = root.logits;
  const { count, classes, teacher, dataset } = root as Record<string, number>;
  if (
    root.format !== 'ecgnn-soft-labels' ||
    !(logits instanceof Float32Array) ||
    ![count, classes, teacher, dataset].every(Number.isInteger) ||
    logits.length !== count * classes
  ) {
    throw new CheckpointError('not a soft-label cache (format, counts or logits wrong)', file);
  }
  return { logits, count, classes, teacher, dataset };
}

/** Options of {@link distillationObjective}. */
export interface DistillationOptions {
  /** Softmax temperature T > 0 of both teacher and student in the soft term (default 1). */
  temperature?: number;
  /**
   * The combination:
   * - `'patent'` (default): Loss_G = CE(y, p) + T²·CE(z_T, p_T) — at T = 1 exactly the method's
   *   Loss_G = CE(y, p) + CE(z, p), per item, averaged over the batch (the patent sums; the mean only rescales);
   * - `'hinton'`: (1 − α)·CE(y, p) + α·T²·KL(z_T ‖ p_T) (@ecgnn/core `distillationLoss`). Since
   *   CE(z, p) = KL(z ‖ p) + H(z) and H(z) is constant in the student, α = ½, T = 1 has the same gradient
   *   as the patent's loss divided by 2.
   */
  form?: 'patent' | 'hinton';
  /** Weight α ∈ [0, 1] of the soft term in the `'hinton'` form (default 0.5). */
  alpha?: number;
}

/**
 * The student's loss function for the Trainer (`loss` option): batch items are matched to their teacher
 * outputs by `batch.index`, so the loader must run over the dataset the soft labels were computed on.
 * z_T = softmax(z / T) (teacher) is computed once for all items here; p_T = softmax(s / T) (student).
 */
export function distillationObjective(
  soft: SoftLabels,
  opts: DistillationOptions = {},
): (logits: Tensor, batch: Batch) => Tensor {
  const T = opts.temperature ?? 1;
  const form = opts.form ?? 'patent';
  const alpha = opts.alpha ?? 0.5;
  if (!(T > 0) || !Number.isFinite(T))
    throw new ValueError(`distillation: temperature must be > 0, got ${T}`);
  if (!(alpha >= 0 && alpha <= 1))
    throw new ValueError(`distillation: alpha must be in [0, 1], got ${alpha}`);
  if (form !== 'patent' && form !== 'hinton')
    throw new ValueError(`distillation: form must be 'patent' or 'hinton', got ${form}`);
  const C = soft.classes;
  // Patent form: the teacher's tempered probabilities, once. Hinton form: the raw logits (core tempers them).
  const rows = form === 'patent' ? temperedSoftmax(soft.logits, C, T) : soft.logits;
  const buffers = new Map<number, Float32Array>();
  return (logits: Tensor, batch: Batch): Tensor => {
    const B = batch.size;
    if (logits.ndim !== 2 || logits.shape[1] !== C) {
      throw new ValueError(
        `distillation: student logits [${logits.shape}] do not match the teacher's ${C} classes`,
      );
    }
    // The gathered rows are only read by this step's loss, so one buffer per batch size is reused.
    let buf = buffers.get(B);
    if (buf === undefined) {
      buf = new Float32Array(B * C);
      buffers.set(B, buf);
    }
    for (let b = 0; b < B; b++) {
      const i = batch.index[b];
      if (!(i >= 0 && i < soft.count))
        throw new ValueError(`distillation: item ${i} has no soft label (${soft.count} items)`);
      buf.set(rows.subarray(i * C, (i + 1) * C), b * C);
    }
    const teacher = new Tensor(buf, [B, C]);
    if (form === 'hinton') return distillationLoss(logits, teacher, batch.label, { temperature: T, alpha });
    const hard = crossEntropy(logits, batch.label);
    const softTerm = crossEntropy(T === 1 ? logits : mul(logits, 1 / T), teacher);
    return add(hard, T === 1 ? softTerm : mul(softTerm, T * T));
  };
}

/** softmax(z / T) of each row of a row-major `[n, C]` array, computed in float64 (max subtracted). */
export function temperedSoftmax(z: Float32Array, C: number, T: number): Float32Array {
  const out = new Float32Array(z.length);
  for (let o = 0; o < z.length; o += C) {
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) m = Math.max(m, z[o + c] / T);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(z[o + c] / T - m);
    for (let c = 0; c < C; c++) out[o + c] = Math.exp(z[o + c] / T - m) / s;
  }
  return out;
}
