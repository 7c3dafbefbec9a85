/**
 * The binary-network experiment (method 5, Pu et al. 2023, arXiv 2304.01568) end to end:
 * 1. 10-s fragments of the 17-class (or 5-class AAMI) set, split by protocol (experiments/bnn-data.ts);
 * 2. the binary network of @ecgnn/models (`kind: 'bnn'`) and its full-precision twin, each trained with Adam,
 *    cosine-annealed learning rate, cross-entropy, the epoch kept by validation accuracy (bnn-train.ts);
 * 3. the test split read once, after every network is trained: test metrics, the majority-class baseline;
 * 4. each network exported bit-packed (bnn-export.ts), reloaded in @ecgnn/infer, its predictions compared with
 *    core's on every test fragment and on every fragment of the run (mismatch counts; target 0), its
 *    inference time per fragment at batch 1 measured, and its file's storage accounted (@ecgnn/export
 *    `modelStorage`);
 * 5. the docs/results.json rows (`bnn/binary-17`, `bnn/float-17`, …).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ValueError } from '@ecgnn/core';
import { type ModelStorage, modelStorage } from '@ecgnn/export';
import { loadModel, saveModel } from '@ecgnn/infer';
import { type BnnConfig, bnnWeightBits, type ResolvedBnnConfig } from '@ecgnn/models';
import { writeFileAtomicSync } from '../checkpoint.js';
import { classCounts, concatDatasets, type Dataset } from '../dataset.js';
import { evaluate } from '../evaluate.js';
import { formatMetrics } from '../format.js';
import { compareWithInfer, inferLatency } from '../infer-check.js';
import { argmaxRows, classificationMetrics, type Metrics } from '../metrics.js';
import type { DatasetPreprocessing } from '../preprocess.js';
import { type ResultsRow, resultsMetrics } from '../results.js';
import type { TrainResult } from '../trainer-options.js';
import {
  BNN_VARIANTS,
  type BnnExperimentOptions,
  type BnnSettings,
  type BnnVariant,
  bnnSettings,
} from './bnn-config.js';
import { type BnnData, fragmentCounts, loadBnnData } from './bnn-data.js';
import { exportBnn } from './bnn-export.js';
import { BNN_SELECTION, type BnnTrained, trainBnn } from './bnn-train.js';
import { splitProvenance } from './split-provenance.js';

/** Predictions of @ecgnn/infer against core's on a set of fragments. */
export interface BnnAgreement {
  /** Fragments compared. */
  items: number;
  /** Fragments whose predicted class differs (target 0). */
  disagreements: number;
  /** Fraction that agree. */
  agreement: number;
  /** Largest |p_infer − p_core| over the fragments and classes. */
  maxAbsProbDiff: number;
}

/** Everything reported about one network. */
export interface BnnVariantReport {
  /** Results-row id. */
  id: string;
  /** Binary network or its float twin. */
  variant: BnnVariant;
  /** Model config (complete). */
  config: ResolvedBnnConfig;
  /** Trainable parameters. */
  params: number;
  /** Bits of binary weights (0 for the float twin). */
  weightBits: number;
  /** Training: history, best epoch, stop reason, seconds per epoch. */
  training: { result: TrainResult; epochsRun: number; secondsPerEpoch: number | null; reused: boolean };
  /** How the kept weights were chosen, in words. */
  selectedBy: string;
  /** Validation metrics of the kept weights. */
  validation: Metrics;
  /** Test metrics (core model). */
  test: Metrics;
  /** The exported model in @ecgnn/infer. */
  export: {
    file: string;
    bytes: number;
    storage: ModelStorage;
    test: BnnAgreement;
    all: BnnAgreement;
    inferMsPerSample: number;
    inferTimingMethod: string;
    plan: string[];
    /**
     * Core's eval-mode predicted class of every test fragment (JSON `{ classes, pred }`), beside the model
     * file, so a second runtime (headless Chromium in examples/bnn.test.ts) can be checked against it.
     */
    coreTestPredictions: string;
  };
}

/** The report of a run. */
export interface BnnReport {
  /** Smoke run (not a result). */
  smoke: boolean;
  /** Dataset name of the rows. */
  dataset: string;
  /** Protocol label of the rows. */
  protocol: string;
  /** The split in words. */
  split: string;
  /** Run seed. */
  seed: number;
  /** Command, commit, date. */
  provenance: BnnExperimentOptions['provenance'];
  /** The settings used. */
  settings: BnnSettings;
  /** Fragments per class and split. */
  counts: Record<'train' | 'validation' | 'test', Record<string, number>>;
  /** Predicting the most frequent training class for every test fragment. */
  baseline: { className: string; metrics: Metrics };
  /** Per network. */
  variants: Partial<Record<BnnVariant, BnnVariantReport>>;
  /** Float twin's infer time per fragment / the binary network's (null unless both ran). */
  speedup: number | null;
  /** The docs/results.json rows. */
  rows: ResultsRow[];
  /** The test fragments as float32 `[count, 3600]`, row-major (file written beside the models). */
  testInputs: { file: string; count: number; length: number; inputName: string };
  /** Wall times (s). */
  timings: Record<string, number>;
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

function fmt(x: number | null | undefined, digits = 4): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–';
}

/** The model config of a variant: the method's architecture for the data, with the run's options. */
export function bnnVariantConfig(
  variant: BnnVariant,
  classes: number,
  length: number,
  settings: BnnSettings,
): BnnConfig {
  return {
    kind: 'bnn',
    classes,
    length,
    binary: variant === 'binary',
    dropout: settings.dropout,
    estimator: settings.estimator,
    scale: settings.scale,
    preluSlopes: settings.preluSlopes,
  };
}

/**
 * The row-id suffix of the run's options (none for the method's own: clipped STE, no scaling, free PReLU
 * slopes); the estimator and scaling concern the binary network only.
 */
function optionSuffix(settings: BnnSettings, variant: BnnVariant): string {
  const monotone = settings.preluSlopes === 'nonNegative' ? '-monotone' : '';
  const aug = settings.augment !== null && settings.augment.steps.length > 0 ? '-aug' : '';
  if (variant === 'float') return `${monotone}${aug}`;
  return `${settings.estimator === 'triangular' ? '-triangular' : ''}${settings.scale === 'channel' ? '-scaled' : ''}${monotone}${aug}`;
}

function agreementOf(loaded: ReturnType<typeof loadModel>, ds: Dataset, probs: Float32Array): BnnAgreement {
  const c = compareWithInfer(loaded, ds, probs);
  return {
    items: ds.count,
    disagreements: c.disagreements,
    agreement: c.agreement,
    maxAbsProbDiff: c.maxAbsProbDiff,
  };
}

/** Steps 1–2 of the experiment: the data (without the test split) and the trained networks. */
export interface BnnTraining {
  /** Training and validation splits; `data.loadTest()` reads the test split. */
  data: BnnData;
  /** The settings used. */
  settings: BnnSettings;
  /** The networks trained, in {@link BNN_VARIANTS} order. */
  variants: BnnVariant[];
  /** Per network: the kept weights, training result and validation evaluation. */
  trained: Partial<Record<BnnVariant, BnnTrained>>;
  /** Wall times (s) of loading and of each network's training. */
  timings: Record<string, number>;
}

/**
 * Trains the experiment's networks without reading the test split (steps 1–2 of the module comment): what a
 * search over settings runs, choosing on the validation figures only; {@link runBnnExperiment} then reads the
 * test split once (with `resume`, it reloads the networks trained here from `opts.outDir`).
 */
export function trainBnnNetworks(opts: BnnExperimentOptions): BnnTraining {
  const log = opts.log ?? ((line: string) => console.log(line));
  const smoke = opts.smoke ?? false;
  const classes = opts.classes ?? 17;
  const protocol = opts.protocol ?? 'stratified';
  const variants = BNN_VARIANTS.filter((v) => (opts.variants ?? BNN_VARIANTS).includes(v));
  if (variants.length === 0) throw new ValueError('runBnnExperiment: no variant to train');
  const settings = bnnSettings(opts);
  const timings: Record<string, number> = {};
  mkdirSync(opts.outDir, { recursive: true });

  // 1. Data: training and validation now; the test split only after training.
  let t = performance.now();
  const data = loadBnnData(classes, protocol, settings, { dataDir: opts.dataDir, smoke });
  const { train, validation } = data;
  timings.load = seconds(t);
  log(
    `${data.dataset}, ${data.protocol}${smoke ? ' (smoke run: not a result)' : ''}: ${data.splitDescription}`,
  );
  log(`training ${train.count} fragments ${JSON.stringify(fragmentCounts(train))}`);
  log(`validation ${validation.count} fragments ${JSON.stringify(fragmentCounts(validation))}`);
  if (settings.augment !== null) log(`training batches augmented: ${JSON.stringify(settings.augment)}`);
  const length = train.inputs[0].shape[1];

  // 2. The networks, each from the same seed.
  const trained: Partial<Record<BnnVariant, BnnTrained>> = {};
  for (const v of variants) {
    t = performance.now();
    const config = bnnVariantConfig(v, train.classes.length, length, settings);
    log(
      `\n${v}: bnn (${v === 'binary' ? `binary, ${settings.estimator} STE${settings.estimator === 'triangular' ? ` sharpness ${settings.sharpness.from}→${settings.sharpness.to}` : ''}, scale ${settings.scale}` : 'full-precision twin'}, PReLU slopes ${settings.preluSlopes}); Adam lr ${settings.lr} cosine to ${settings.lr * settings.lrFinalFactor}, batch ${settings.batchSize}, ${settings.epochs} epochs, epoch kept by validation ${BNN_SELECTION}`,
    );
    trained[v] = trainBnn({ name: v, config, seed: opts.seed, dir: join(opts.outDir, v) }, data, settings, {
      resume: opts.resume ?? false,
      progress: opts.progress ?? 'auto',
      log,
    });
    timings[`train-${v}`] = seconds(t);
    const r = (trained[v] as BnnTrained).result;
    log(
      `${v}: kept epoch ${r.bestEpoch} of ${r.history.length}, validation ${BNN_SELECTION} ${fmt(r.bestValue)} on ${validation.count} fragments`,
    );
  }
  return { data, settings, variants, trained, timings };
}

/** Runs the experiment (see the module comment) and returns its report; files go to `opts.outDir`. */
export function runBnnExperiment(opts: BnnExperimentOptions): BnnReport {
  const log = opts.log ?? ((line: string) => console.log(line));
  const smoke = opts.smoke ?? false;
  const classes = opts.classes ?? 17;
  const protocol = opts.protocol ?? 'stratified';
  const tStart = performance.now();
  const { data, settings, variants, trained, timings } = trainBnnNetworks(opts);
  const { train, validation } = data;
  const preprocessing = train.preprocessing as DatasetPreprocessing;

  // 3. The test split, read once.
  const t = performance.now();
  const test = data.loadTest();
  log(`\ntest ${test.count} fragments ${JSON.stringify(fragmentCounts(test))} (read once, now)`);
  const counts = classCounts(train);
  const majority = counts.indexOf(Math.max(...counts));
  const baseline = {
    className: train.classes[majority],
    metrics: classificationMetrics(test.label, new Int32Array(test.count).fill(majority), test.classes),
  };
  log(`majority-class baseline (always ${baseline.className}): accuracy ${fmt(baseline.metrics.accuracy)}`);
  const everything = concatDatasets([train, validation, test]);

  // 4. Evaluate, export, reload in infer, compare, time, account.
  mkdirSync(join(opts.outDir, 'models'), { recursive: true });
  const testInputs = writeTestInputs(join(opts.outDir, 'models', 'test-inputs.f32'), test);
  const suffix = `${classes}${protocol === 'patient' ? '-patient' : ''}`;
  const reports: Partial<Record<BnnVariant, BnnVariantReport>> = {};
  for (const v of variants) {
    const { model, result: r, validation: val, reused } = trained[v] as BnnTrained;
    const ev = evaluate(model, test);
    const m = ev.metrics as Metrics;
    const id = `bnn/${v}-${suffix}${optionSuffix(settings, v)}`;
    const bytes = saveModel(
      exportBnn(model, preprocessing, {
        classes: test.classes,
        name: `ecgnn-${id.replace('/', '-')}`,
        provenance: {
          method: 'bnn',
          dataset: data.dataset,
          protocol: data.protocol,
          seed: opts.seed,
          ...splitProvenance(settings, smoke),
        },
      }),
    );
    const file = join(opts.outDir, 'models', `${v}.ecgnn`);
    writeFileAtomicSync(file, bytes);
    const loaded = loadModel(bytes);
    const onTest = agreementOf(loaded, test, ev.predictions.probs);
    const coreTestPredictions = join(opts.outDir, 'models', `${v}.core-test.json`);
    writeJson(coreTestPredictions, {
      classes: test.classes,
      pred: Array.from(argmaxRows(ev.predictions.probs, ev.predictions.outputs)),
    });
    const onAll = agreementOf(loaded, everything, evaluate(model, everything).predictions.probs);
    const lat = inferLatency(loaded, test, settings.latency);
    const storage = modelStorage(bytes);
    reports[v] = {
      id,
      variant: v,
      config: model.config,
      params: model.numParameters(),
      weightBits: bnnWeightBits(model.config),
      training: {
        result: r,
        epochsRun: r.history.length,
        secondsPerEpoch: r.history.length > 0 ? r.seconds / r.history.length : null,
        reused,
      },
      selectedBy: `epoch ${r.bestEpoch} of ${r.history.length} by validation ${BNN_SELECTION} (first best)`,
      validation: val.metrics as Metrics,
      test: m,
      export: {
        file,
        bytes: bytes.length,
        storage,
        test: onTest,
        all: onAll,
        inferMsPerSample: lat.msPerItem,
        inferTimingMethod: lat.method,
        plan: loaded.metadata.plan,
        coreTestPredictions,
      },
    };
    log(`\n${v} on the test split:\n${formatMetrics(m)}`);
    log(
      `${v}: ${file} ${bytes.length} bytes (weights ${storage.binaryWeights.values} bits in ${storage.binaryWeights.bytes} bytes, thresholds ${storage.thresholds.bytes}, floats ${storage.floats.bytes}, header ${storage.headerBytes}, alignment ${storage.alignmentBytes}; parameters ${storage.parameterBytes} bytes); infer vs core: ${onTest.disagreements} of ${onTest.items} test and ${onAll.disagreements} of ${onAll.items} fragments differ; ${lat.msPerItem.toFixed(4)} ms per fragment at batch 1`,
    );
  }
  timings.evaluateExport = seconds(t);
  const b = reports.binary?.export.inferMsPerSample;
  const f = reports.float?.export.inferMsPerSample;
  const speedup = b !== undefined && f !== undefined && b > 0 ? f / b : null;
  if (speedup !== null)
    log(
      `\ninfer time per fragment: binary ${fmt(b)} ms, float twin ${fmt(f)} ms: ${speedup.toFixed(2)}× faster`,
    );
  const rows = variants.map((v) =>
    resultsRow(
      reports[v] as BnnVariantReport,
      data,
      opts,
      smoke,
      classes,
      speedup,
      baseline.metrics.accuracy,
    ),
  );
  timings.total = seconds(tStart);
  return {
    smoke,
    dataset: data.dataset,
    protocol: data.protocol,
    split: data.splitDescription,
    seed: opts.seed,
    provenance: opts.provenance,
    settings,
    counts: {
      train: fragmentCounts(train),
      validation: fragmentCounts(validation),
      test: fragmentCounts(test),
    },
    baseline,
    variants: reports,
    speedup,
    rows,
    testInputs,
    timings,
  };
}

function writeJson(file: string, value: unknown): void {
  writeFileAtomicSync(file, new TextEncoder().encode(`${JSON.stringify(value)}\n`));
}

/** Writes the (single-input) test fragments as raw little-endian float32 rows. */
function writeTestInputs(file: string, test: Dataset): BnnReport['testInputs'] {
  if (test.inputs.length !== 1) throw new ValueError(`bnn: expected one input, got ${test.inputs.length}`);
  const x = test.inputs[0];
  const length = x.shape.reduce((a, b) => a * b, 1);
  writeFileAtomicSync(file, new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength));
  return { file, count: test.count, length, inputName: x.name };
}

/** The docs/results.json row of one network (../shared/results-format.md). */
function resultsRow(
  m: BnnVariantReport,
  data: { dataset: string; protocol: string; splitDescription: string },
  opts: BnnExperimentOptions,
  smoke: boolean,
  classes: number,
  speedup: number | null,
  baselineAccuracy: number,
): ResultsRow {
  const { command, commit, date, commitDirty } = opts.provenance;
  const s = m.export.storage;
  // 17 classes: macro-F1 over every class with test items; 5 AAMI classes: over N, S, V, F as the other rows.
  const macro = classes === 17 ? 'all' : 'subset';
  return {
    id: m.id,
    method: 'bnn',
    dataset: data.dataset,
    protocol: data.protocol,
    split: smoke ? 'test (smoke subset)' : 'test',
    metrics: resultsMetrics(m.test, macro),
    params: m.params,
    bytes: m.export.bytes,
    inferMsPerSample: m.export.inferMsPerSample,
    seed: opts.seed,
    command,
    commit,
    date: date.slice(0, 10),
    ...(commitDirty ? { commitDirty: true } : {}),
    ...(smoke ? { smoke: true } : {}),
    model: m.variant === 'binary' ? 'bnn (binary)' : 'bnn (float twin)',
    macroF1Over: macro === 'all' ? 'all classes with test items' : 'N, S, V, F',
    splitDescription: data.splitDescription,
    config: m.config,
    weightBits: m.weightBits,
    storage: {
      binaryWeightBits: s.binaryWeights.values,
      binaryWeightBytes: s.binaryWeights.bytes,
      thresholdBytes: s.thresholds.bytes,
      floatBytes: s.floats.bytes,
      headerBytes: s.headerBytes,
      alignmentBytes: s.alignmentBytes,
      checksumBytes: s.checksumBytes,
      parameterBytes: s.parameterBytes,
    },
    inferAgreement: m.export.test.agreement,
    inferDisagreementsTest: m.export.test.disagreements,
    inferDisagreementsAll: m.export.all.disagreements,
    inferItemsAll: m.export.all.items,
    ...(m.variant === 'binary' && speedup !== null ? { speedupVsFloat: speedup } : {}),
    baselineAccuracy,
    bestEpoch: m.training.result.bestEpoch,
    epochsRun: m.training.epochsRun,
    selectedBy: m.selectedBy,
    secondsPerEpoch: m.training.secondsPerEpoch,
  };
}
