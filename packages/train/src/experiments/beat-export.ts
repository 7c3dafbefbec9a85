/**
 * The last step of every beat-model experiment (distillation, `ecgnn train`): the trained core model exported
 * with {@link exportClassifier} to a model file, the file reloaded in @ecgnn/infer, its predictions on the test
 * items compared with the core model's, and its batch-1 inference time measured.
 */
import { readFileSync } from 'node:fs';
import { loadModel, saveModel } from '@ecgnn/infer';
import type { EcgClassifier } from '@ecgnn/models';
import { writeFileAtomicSync } from '../checkpoint.js';
import { classCounts, type Dataset } from '../dataset.js';
import type { Evaluation } from '../evaluate.js';
import { exportClassifier } from '../export.js';
import { compareWithInfer, inferLatency, type LatencyOptions } from '../infer-check.js';
import { classificationMetrics, type Metrics } from '../metrics.js';
import type { DatasetPreprocessing } from '../preprocess.js';
import type { DistillData } from './distill-data.js';

/** The exported model file as checked in @ecgnn/infer. */
export interface BeatModelExport {
  /** Path of the model file. */
  file: string;
  /** Its size. */
  bytes: number;
  /** Fraction of test items whose infer argmax equals the core model's. */
  agreement: number;
  /** Test items whose argmax differs. */
  disagreements: number;
  /** Largest |p_infer − p_core| over the test items and classes. */
  maxAbsProbDiff: number;
  /** Median batch-1 `predict` time per item, ms (@ecgnn/train's `inferLatency`). */
  inferMsPerSample: number;
  /** How {@link inferMsPerSample} was measured. */
  inferTimingMethod: string;
  /** The runtime's operators after load-time fusion. */
  plan: string[];
}

/** What {@link exportBeatModel} writes and how. */
export interface BeatExportOptions {
  /** Path of the model file (written atomically). */
  file: string;
  /** Preprocessing of the training data (the file's input, windowing and filters). */
  preprocessing: DatasetPreprocessing;
  /** Model name in the file's header. */
  name: string;
  /** Provenance metadata of the file. */
  provenance: Record<string, unknown>;
  /** Batch-1 latency settings. */
  latency: LatencyOptions;
}

/**
 * Exports `model` (evaluated on `test` as `ev`) to `opts.file`, reloads the file in @ecgnn/infer, compares its
 * probabilities on `test` with the core model's and times it at batch 1.
 */
export function exportBeatModel(
  model: EcgClassifier,
  test: Dataset,
  ev: Evaluation,
  opts: BeatExportOptions,
): BeatModelExport {
  const bytes = saveModel(
    exportClassifier(model, opts.preprocessing, {
      classes: test.classes,
      name: opts.name,
      provenance: opts.provenance,
    }),
  );
  writeFileAtomicSync(opts.file, bytes);
  const loaded = loadModel(new Uint8Array(readFileSync(opts.file)));
  const cmp = compareWithInfer(loaded, test, ev.predictions.probs);
  const lat = inferLatency(loaded, test, opts.latency);
  return {
    file: opts.file,
    bytes: bytes.length,
    agreement: cmp.agreement,
    disagreements: cmp.disagreements,
    maxAbsProbDiff: cmp.maxAbsProbDiff,
    inferMsPerSample: lat.msPerItem,
    inferTimingMethod: lat.method,
    plan: loaded.metadata.plan,
  };
}

/** Window length, RR features and classes of a beat dataset: the I/O fields of a beat model's config. */
export function beatIO(train: Dataset): { length: number; rrFeatures: number; classes: number } {
  return {
    length: train.inputs[0].shape[1],
    rrFeatures: train.inputs.length > 1 ? train.inputs[1].shape[0] : 0,
    classes: train.classes.length,
  };
}

/** The majority-class baseline: the most frequent training class predicted for every test item. */
export function majorityBaseline(train: Dataset, test: Dataset): { className: string; metrics: Metrics } {
  const counts = classCounts(train);
  const majority = counts.indexOf(Math.max(...counts));
  return {
    className: train.classes[majority],
    metrics: classificationMetrics(test.label, new Int32Array(test.count).fill(majority), test.classes),
  };
}

/**
 * The provenance metadata of a beat model file: method, data and split of `data`, the seed, the run's
 * provenance (command, commit, date) and the test figures `m`.
 */
export function beatProvenance(
  method: string,
  data: Pick<DistillData, 'protocol' | 'splitDescription' | 'records'>,
  seed: number,
  provenance: Record<string, unknown>,
  m: Metrics,
): Record<string, unknown> {
  return {
    method,
    dataset: 'mitdb',
    protocol: data.protocol,
    split: data.splitDescription,
    trainRecords: data.records.train,
    validationRecords: data.records.validation,
    seed,
    ...provenance,
    testMetrics: { accuracy: m.accuracy, macroF1: m.subsetMacroF1, jk: m.jk },
  };
}
