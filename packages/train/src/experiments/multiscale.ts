/**
 * The multi-scale attention experiment (method 4, LAMSCN, J. Hebei Univ. Tech. 2024) end to end:
 * 1. 10-s windows: multi-label MIT-BIH windows split patient-wise, or the 17-class fragments (multiscale-data.ts);
 * 2. the multi-scale attention network (`kind: 'multiscale'`) and the MobileNet-style baseline
 *    (`kind: 'mobilenet'`) of @ecgnn/models, each trained with Adam, cosine-annealed learning rate, binary
 *    cross-entropy (or cross-entropy), the epoch kept by validation macro-F1 and — multi-label — each label's
 *    threshold chosen on validation (multiscale-train.ts);
 * 3. the test split read once, after every network is trained: test metrics, a trivial baseline;
 * 4. each network exported to @ecgnn/infer (sigmoid outputs for multi-label), reloaded, its outputs compared
 *    with core's on every test item, its inference time per window at batch 1 measured;
 * 5. the docs/results.json rows (`multiscale/lamscn-mitdb`, `multiscale/mobilenet-17`, …).
 * With `validationOnly` the run stops after step 2 (exploratory runs: validation figures only).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ValueError } from '@ecgnn/core';
import { loadModel, saveModel } from '@ecgnn/infer';
import { type ModelConfig, parameterCount, resolveConfig } from '@ecgnn/models';
import { writeFileAtomicSync } from '../checkpoint.js';
import type { Dataset } from '../dataset.js';
import { type Evaluation, evaluate } from '../evaluate.js';
import { exportClassifier } from '../export.js';
import { inferInputs, inferLatency } from '../infer-check.js';
import type { DatasetPreprocessing } from '../preprocess.js';
import type { ResultsRow } from '../results.js';
import type { TrainResult } from '../trainer-options.js';
import {
  MULTISCALE_NETWORKS,
  type MultiScaleExperimentOptions,
  type MultiScaleNetwork,
  type MultiScaleSettings,
  multiScaleSettings,
} from './multiscale-config.js';
import { labelCounts, loadMultiScaleData, type MultiScaleData } from './multiscale-data.js';
import {
  compareProbabilities,
  type MultiScaleAgreement,
  multiScaleRowMetrics,
  type TrivialBaseline,
  trivialBaseline,
} from './multiscale-report.js';
import { MULTISCALE_SELECTION, type MultiScaleTrained, trainMultiScaleNetwork } from './multiscale-train.js';
import { splitProvenance } from './split-provenance.js';

/** Everything reported about one network. */
export interface MultiScaleNetworkReport {
  /** Results-row id. */
  id: string;
  /** Which network. */
  network: MultiScaleNetwork;
  /** Model config (complete). */
  config: ModelConfig;
  /** Trainable parameters. */
  params: number;
  /** Training: history, kept epoch, seconds per epoch. */
  training: { result: TrainResult; epochsRun: number; secondsPerEpoch: number | null; reused: boolean };
  /** How the kept weights and thresholds were chosen, in words. */
  selectedBy: string;
  /** Per-label thresholds chosen on validation (multi-label), else null. */
  thresholds: Record<string, number> | null;
  /** Validation macro-F1 of the kept weights (multi-label: at the chosen thresholds). */
  validationMacroF1: number;
  /** Validation metrics in results-row form. */
  validation: ResultsRow['metrics'];
  /** Test metrics in results-row form (null with `validationOnly`). */
  test: ResultsRow['metrics'] | null;
  /** The exported model in @ecgnn/infer (null with `validationOnly`). */
  export: {
    file: string;
    bytes: number;
    test: MultiScaleAgreement;
    inferMsPerSample: number;
    inferTimingMethod: string;
  } | null;
}

/** The report of a run. */
export interface MultiScaleReport {
  /** Smoke run (not a result). */
  smoke: boolean;
  /** Whether the test split was left unread (exploratory run). */
  validationOnly: boolean;
  /** Data set of the rows. */
  dataset: string;
  /** Multi-label (mitdb) or single-label (mitbih17). */
  multiLabel: boolean;
  /** Protocol label of the rows. */
  protocol: string;
  /** The split in words. */
  split: string;
  /** Run seed. */
  seed: number;
  /** Command, commit, date. */
  provenance: MultiScaleExperimentOptions['provenance'];
  /** The settings used. */
  settings: MultiScaleSettings;
  /** Items per label (class) and split (test: null with `validationOnly`). */
  counts: {
    train: Record<string, number>;
    validation: Record<string, number>;
    test: Record<string, number> | null;
  };
  /** The trivial predictor's test figures (null with `validationOnly`). */
  baseline: TrivialBaseline | null;
  /** Per network. */
  networks: Partial<Record<MultiScaleNetwork, MultiScaleNetworkReport>>;
  /** The docs/results.json rows (none with `validationOnly`). */
  rows: ResultsRow[];
  /** Wall times (s). */
  timings: Record<string, number>;
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/** The model config of a network for windows of `length` samples and `outputs` labels or classes. */
export function multiScaleNetworkConfig(
  network: MultiScaleNetwork,
  length: number,
  outputs: number,
  settings: MultiScaleSettings,
): ModelConfig {
  const io = { length, rrFeatures: 0, classes: outputs };
  if (network === 'lamscn') return resolveConfig({ kind: 'multiscale', ...settings.widths.lamscn, ...io });
  if (network === 'mobilenet')
    return resolveConfig({ kind: 'mobilenet', ...settings.widths.mobilenet, ...io });
  throw new ValueError(`multiscale: unknown network ${JSON.stringify(network)}`);
}

/** The row id of a network on a data set: `multiscale/<network>-<mitdb|17>`, `-pw` with positive weights. */
export function multiScaleRowId(
  network: MultiScaleNetwork,
  data: MultiScaleData,
  settings: MultiScaleSettings,
): string {
  const set = data.dataset === 'mitbih17' ? '17' : 'mitdb';
  const pw = data.multiLabel && settings.posWeight === 'balanced' ? '-pw' : '';
  return `multiscale/${network}-${set}${pw}`;
}

function outputNames(ds: Dataset): string[] {
  return ds.targetNames !== undefined ? [...ds.targetNames] : [...ds.classes];
}

function evaluationMacroF1(e: Evaluation): number {
  return e.multiLabel !== null ? e.multiLabel.macroF1 : (e.metrics?.macroF1 ?? 0);
}

/** Runs the experiment (see the module comment) and returns its report; files go to `opts.outDir`. */
export function runMultiScaleExperiment(
  opts: MultiScaleExperimentOptions & { validationOnly?: boolean },
): MultiScaleReport {
  const log = opts.log ?? ((line: string) => console.log(line));
  const smoke = opts.smoke ?? false;
  const dataset = opts.dataset ?? 'mitdb';
  const networks = MULTISCALE_NETWORKS.filter((n) => (opts.networks ?? MULTISCALE_NETWORKS).includes(n));
  if (networks.length === 0) throw new ValueError('runMultiScaleExperiment: no network to train');
  const settings = multiScaleSettings(opts);
  const epochs = settings.epochs[dataset];
  const timings: Record<string, number> = {};
  const tStart = performance.now();
  mkdirSync(opts.outDir, { recursive: true });

  // 1. Data: training and validation now; the test split only after training.
  let t = performance.now();
  const data = loadMultiScaleData(dataset, settings, { dataDir: opts.dataDir, smoke });
  const { train, validation } = data;
  timings.load = seconds(t);
  log(
    `${data.dataset}, ${data.protocol}${smoke ? ' (smoke run: not a result)' : ''}: ${data.splitDescription}`,
  );
  log(`training ${train.count} windows ${JSON.stringify(labelCounts(train))}`);
  log(`validation ${validation.count} windows ${JSON.stringify(labelCounts(validation))}`);
  const preprocessing = train.preprocessing as DatasetPreprocessing;
  const length = train.inputs[0].shape[1];
  const names = outputNames(train);

  // 2. The networks, each from the same seed.
  const trained: Partial<Record<MultiScaleNetwork, MultiScaleTrained>> = {};
  const reports: Partial<Record<MultiScaleNetwork, MultiScaleNetworkReport>> = {};
  for (const n of networks) {
    t = performance.now();
    const config = multiScaleNetworkConfig(n, length, names.length, settings);
    log(
      `\n${n}: ${config.kind}, ${parameterCount(config)} parameters; Adam lr ${settings.lr} cosine to ${settings.lr * settings.lrFinalFactor}, batch ${settings.batchSize}, ${epochs} epochs, ${data.multiLabel ? `BCE${settings.posWeight === 'balanced' ? ` with balanced positive weights (cap ${settings.posWeightCap})` : ''}` : 'cross-entropy'}, epoch kept by validation ${MULTISCALE_SELECTION}`,
    );
    const tr = trainMultiScaleNetwork(
      { name: n, config, seed: opts.seed, epochs, dir: join(opts.outDir, n) },
      data,
      settings,
      {
        resume: opts.resume ?? false,
        progress: opts.progress ?? 'auto',
        log,
      },
    );
    trained[n] = tr;
    timings[`train-${n}`] = seconds(t);
    const r = tr.result;
    const valF1 = evaluationMacroF1(tr.validation);
    log(
      `${n}: kept epoch ${r.bestEpoch} of ${r.history.length}; validation macro-F1 ${valF1.toFixed(4)}${tr.thresholds !== null ? ' at per-label thresholds' : ''} on ${validation.count} windows`,
    );
    reports[n] = {
      id: multiScaleRowId(n, data, settings),
      network: n,
      config: tr.model.config,
      params: tr.model.numParameters(),
      training: {
        result: r,
        epochsRun: r.history.length,
        secondsPerEpoch: r.history.length > 0 ? r.seconds / r.history.length : null,
        reused: tr.reused,
      },
      selectedBy: `epoch ${r.bestEpoch} of ${r.history.length} by validation ${MULTISCALE_SELECTION}${tr.thresholds !== null ? ' (threshold 0.5); then per-label thresholds maximising validation F1' : ''}`,
      thresholds:
        tr.thresholds === null
          ? null
          : Object.fromEntries(names.map((name, j) => [name, (tr.thresholds as Float64Array)[j]])),
      validationMacroF1: valF1,
      validation: multiScaleRowMetrics(tr.validation),
      test: null,
      export: null,
    };
  }
  const base = {
    smoke,
    dataset: data.dataset,
    multiLabel: data.multiLabel,
    protocol: data.protocol,
    split: data.splitDescription,
    seed: opts.seed,
    provenance: opts.provenance,
    settings,
  };
  const counts = { train: labelCounts(train), validation: labelCounts(validation) };
  if (opts.validationOnly) {
    log('\nvalidation only: the test split was not read');
    timings.total = seconds(tStart);
    return {
      ...base,
      validationOnly: true,
      counts: { ...counts, test: null },
      baseline: null,
      networks: reports,
      rows: [],
      timings,
    };
  }

  // 3. The test split, read once.
  t = performance.now();
  const test = data.loadTest();
  log(`\ntest ${test.count} windows ${JSON.stringify(labelCounts(test))} (read once, now)`);
  const baseline = trivialBaseline(train, test);
  log(`trivial baseline (${baseline.rule}): test macro-F1 ${baseline.macroF1.toFixed(4)}`);

  // 4. Evaluate, export, reload in infer, compare, time.
  mkdirSync(join(opts.outDir, 'models'), { recursive: true });
  for (const n of networks) {
    const tr = trained[n] as MultiScaleTrained;
    const rep = reports[n] as MultiScaleNetworkReport;
    const ev = evaluate(tr.model, test, tr.thresholds === null ? {} : { thresholds: tr.thresholds });
    const bytes = saveModel(
      exportClassifier(tr.model, preprocessing, {
        classes: names,
        name: `ecgnn-${rep.id.replace('/', '-')}`,
        outputActivation: data.multiLabel ? 'sigmoid' : 'softmax',
        provenance: {
          method: 'multiscale',
          dataset: data.dataset,
          protocol: data.protocol,
          seed: opts.seed,
          ...splitProvenance(settings, smoke),
          ...(rep.thresholds !== null ? { thresholds: rep.thresholds } : {}),
        },
      }),
    );
    const file = join(opts.outDir, 'models', `${n}-${data.dataset}.ecgnn`);
    writeFileAtomicSync(file, bytes);
    const loaded = loadModel(bytes);
    const agreement = compareProbabilities(
      loaded.predict(inferInputs(test)),
      ev.predictions.probs,
      names.length,
      tr.thresholds,
    );
    const lat = inferLatency(loaded, test, settings.latency);
    rep.test = multiScaleRowMetrics(ev);
    rep.export = {
      file,
      bytes: bytes.length,
      test: agreement,
      inferMsPerSample: lat.msPerItem,
      inferTimingMethod: lat.method,
    };
    log(
      `${n} on the test split: macro-F1 ${rep.test.macroF1.toFixed(4)}; ${file} ${bytes.length} bytes; infer vs core: ${agreement.disagreements} of ${agreement.items} windows differ (max |Δp| ${agreement.maxAbsProbDiff.toExponential(2)}); ${lat.msPerItem.toFixed(4)} ms per window at batch 1`,
    );
  }
  timings.evaluateExport = seconds(t);
  const rows = networks.map((n) =>
    resultsRow(reports[n] as MultiScaleNetworkReport, data, opts, smoke, baseline),
  );
  timings.total = seconds(tStart);
  return {
    ...base,
    validationOnly: false,
    counts: { ...counts, test: labelCounts(test) },
    baseline,
    networks: reports,
    rows,
    timings,
  };
}

/** The docs/results.json row of one network (../shared/results-format.md). */
function resultsRow(
  m: MultiScaleNetworkReport,
  data: MultiScaleData,
  opts: MultiScaleExperimentOptions,
  smoke: boolean,
  baseline: TrivialBaseline,
): ResultsRow {
  const { command, commit, date, commitDirty } = opts.provenance;
  const e = m.export as NonNullable<MultiScaleNetworkReport['export']>;
  return {
    id: m.id,
    method: 'multiscale',
    dataset: data.dataset,
    protocol: data.protocol,
    split: smoke ? 'test (smoke subset)' : 'test',
    metrics: m.test as ResultsRow['metrics'],
    params: m.params,
    bytes: e.bytes,
    inferMsPerSample: e.inferMsPerSample,
    seed: opts.seed,
    command,
    commit,
    date: date.slice(0, 10),
    ...(commitDirty ? { commitDirty: true } : {}),
    ...(smoke ? { smoke: true } : {}),
    model:
      m.network === 'lamscn' ? 'multi-scale attention network (LAMSCN-style)' : 'MobileNet-style baseline',
    multiLabel: data.multiLabel,
    macroF1Over: data.multiLabel ? 'labels with test windows' : 'all classes with test items',
    splitDescription: data.splitDescription,
    config: m.config,
    thresholds: m.thresholds,
    validationMacroF1: m.validationMacroF1,
    baselineMacroF1: baseline.macroF1,
    baselineRule: baseline.rule,
    inferDisagreementsTest: e.test.disagreements,
    inferMaxAbsProbDiff: e.test.maxAbsProbDiff,
    bestEpoch: m.training.result.bestEpoch,
    epochsRun: m.training.epochsRun,
    selectedBy: m.selectedBy,
    secondsPerEpoch: m.training.secondsPerEpoch,
  };
}
