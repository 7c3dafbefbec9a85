/**
 * The lottery-ticket experiment (method 3, LTH-ECG) end to end:
 * 1. data: the distillation experiment's inter-patient split (DS1 with a patient-wise validation split; DS2
 *    read once, after the search);
 * 2. the goal-driven search (prune-search.ts) over the teacher or the student: dense training, rounds of
 *    global magnitude pruning (output layer excluded), rewinding, retraining, each scored by validation
 *    macro-F1 (N, S, V, F) against goal · dense;
 * 3. the random-reinitialisation control: the ticket's mask on fresh weights, trained the same way;
 * 4. the test split: every round's model evaluated and exported (sparse storage where smaller: the per-round
 *    table of parameters, bytes, validation and test macro-F1), the ticket's file reloaded in @ecgnn/infer,
 *    checked against core (and against its densely stored file) and timed;
 * 5. the docs/results.json row `lth/<model>`.
 * Every choice is made on validation; the test split chooses nothing.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, readModel, saveModel } from '@ecgnn/infer';
import { createModel, type EcgClassifier, layerCount, type ModelConfig } from '@ecgnn/models';
import { loadCheckpoint, writeFileAtomicSync } from '../checkpoint.js';
import type { Dataset } from '../dataset.js';
import { evaluate } from '../evaluate.js';
import { compareWithInfer, inferLatency } from '../infer-check.js';
import type { Metrics } from '../metrics.js';
import { type MaskCounts, maskCounts, preparePruning, pruneTargets } from '../prune.js';
import { lotteryTicketSearch, type RoundRecord, randomReinitControl } from '../prune-search.js';
import { type ResultsRow, resultsMetrics } from '../results.js';
import { type LthExperimentOptions, type LthModelName, type LthSettings, lthSettings } from './lth-config.js';
import { createLthModel, type LthTask, lthTask, scoreLth } from './lth-task.js';

/** One row of the round table: the search's record and the model's test figures and file size. */
export interface LthRoundReport extends RoundRecord {
  /** Test macro-F1 over N, S, V, F (read after the search). */
  testMacroF1: number | null;
  /** Test accuracy. */
  testAccuracy: number;
  /** Bytes of the model file (sparse storage where smaller). */
  bytes: number;
  /** Bytes of the dense model's file / bytes. */
  compressionBytes: number;
}

/** The report of a run. */
export interface LthReport {
  /** Smoke run (not a result). */
  smoke: boolean;
  /** `mitdb` (beat models) or `mitbih17` (the fragment model). */
  dataset: string;
  /** Protocol label of the row. */
  protocol: string;
  /** The split in words. */
  split: string;
  /** Run seed. */
  seed: number;
  /** Command, commit, date. */
  provenance: LthExperimentOptions['provenance'];
  /** Settings used. */
  settings: LthSettings;
  /** The pruned model. */
  model: { name: LthModelName; config: ModelConfig; layers: number; recipe: string; prunedLayers: string[] };
  /** Records and class counts per split. */
  data: {
    records: { train: string[]; validation: string[]; test: string[] };
    counts: Record<'train' | 'validation' | 'test', Record<string, number>>;
  };
  /** How the search ended. */
  search: {
    stopReason: string;
    denseMetric: number;
    threshold: number;
    rewindStep: number;
    reused: boolean;
    /** The metric in words. */
    metric: string;
    /** The metric's key in the evaluations' metrics. */
    metricKey: LthTask['metricKey'];
  };
  /** Every training run of the search, with test figures. */
  rounds: LthRoundReport[];
  /** The returned ticket. */
  ticket: {
    round: LthRoundReport;
    layers: MaskCounts['layers'];
    validation: Metrics;
    test: Metrics;
    export: {
      file: string;
      bytes: number;
      bytesDense: number;
      bytesDenseStorage: number;
      sparseTensors: number;
      agreement: number;
      disagreements: number;
      maxAbsProbDiff: number;
      densifiedEqual: boolean;
      inferMsPerSample: number;
      inferTimingMethod: string;
    };
  };
  /** The dense model. */
  dense: { validation: Metrics; test: Metrics; bytes: number; params: number };
  /** The random-reinitialisation control at the ticket's sparsity (null when not run). */
  control: { validation: Metrics; test: Metrics; params: number; epochs: number | null } | null;
  /** Test macro-F1 of the dense model minus the ticket's (points of a fraction). */
  testF1Loss: number | null;
  /** The docs/results.json row. */
  rows: ResultsRow[];
  /** Wall times (s). */
  timings: Record<string, number>;
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/** A model of `config` in its pruned form, holding the state of the search checkpoint `file`. */
function modelFrom(config: ModelConfig, file: string, pruneOutput: boolean): EcgClassifier {
  const m = createModel(config);
  preparePruning(pruneTargets(m, { excludeOutput: !pruneOutput }));
  m.loadStateDict(loadCheckpoint(file).model.state, { strict: true });
  m.eval();
  return m;
}

/** Runs the experiment (see the module comment); files go to `opts.outDir/<model>`. */
export function runLthExperiment(opts: LthExperimentOptions): LthReport {
  const log = opts.log ?? ((line: string) => console.log(line));
  const smoke = opts.smoke ?? false;
  const name = opts.model ?? 'teacher';
  const settings = lthSettings(opts);
  const timings: Record<string, number> = {};
  const tStart = performance.now();
  const dir = join(opts.outDir, name);
  mkdirSync(join(dir, 'models'), { recursive: true });

  let t = performance.now();
  const task = lthTask(name, settings, { ...opts, log });
  const { train, validation, config } = task;
  timings.loadTrainValidation = seconds(t);
  log(`${task.protocol}${smoke ? ' (smoke run: not a result)' : ''}: ${task.splitDescription}`);
  log(`training ${train.count} items ${JSON.stringify(task.counts(train))}; validation ${validation.count}`);
  const score = (m: EcgClassifier): number => scoreLth(task, m);
  const s = settings.lth;

  // 2. The search.
  t = performance.now();
  const model = createLthModel(task, opts.seed);
  log(
    `\n${name}: ${config.kind}, ${model.numParameters()} parameters; ${task.recipe}; pruning ${s.scope} ${100 * s.fraction} % per round, goal ${s.goal} × dense ${task.metricName}, rewind to ${s.rewindStep === 0 ? 'the initial weights' : `step ${s.rewindStep}`}`,
  );
  const search = lotteryTicketSearch({
    model,
    train: (m, run) => task.trainRun(m, run),
    score,
    metricName: task.metricName,
    fraction: s.fraction,
    scope: s.scope,
    goal: s.goal,
    rewindStep: s.rewindStep,
    maxRounds: s.maxRounds,
    retries: s.retries,
    traceRounds: s.traceRounds,
    targets: { excludeOutput: !s.pruneOutput },
    dir,
    resume: opts.resume ?? false,
    log,
  });
  timings.search = seconds(t);

  // 3. The control: the ticket's mask on other initial weights.
  let controlModel: EcgClassifier | null = null;
  let controlEpochs: number | null = null;
  if (s.control) {
    t = performance.now();
    controlModel = createLthModel(task, opts.seed + 1);
    const c = randomReinitControl({
      model: controlModel,
      masks: search.masks,
      targets: { excludeOutput: !s.pruneOutput },
      train: (m, run) => task.trainRun(m, run),
      score,
      // One directory per ticket: a search resumed with more rounds gets a new ticket and a new control.
      dir: join(dir, `control-${search.ticket.label}`),
      resume: opts.resume ?? false,
    });
    controlEpochs = c.epochs;
    log(
      `control (random reinitialisation, ${c.params} non-zero parameters): ${task.metricName} ${c.metric.toFixed(4)} vs the ticket's ${search.ticket.metric.toFixed(4)}`,
    );
    timings.control = seconds(t);
  }

  // 4. The test split, once: every round's model, the ticket's file in infer, the control.
  t = performance.now();
  const test = task.loadTest();
  timings.loadTest = seconds(t);
  t = performance.now();
  const exportBytes = (m: EcgClassifier, label: string, sparse = true): Uint8Array =>
    saveModel(task.exportSpec(m, label, sparse));
  const roundModel = (label: string): EcgClassifier =>
    modelFrom(config, join(dir, 'rounds', `${label}.ckpt`), s.pruneOutput);
  const denseModel = roundModel('dense');
  const denseTest = evaluate(denseModel, test).metrics as Metrics;
  const bytesDense = exportBytes(denseModel, 'dense').length;
  const rounds: LthRoundReport[] = search.rounds.map((r) => {
    const m = roundModel(r.label);
    const ev = evaluate(m, test).metrics as Metrics;
    const bytes = exportBytes(m, r.label).length;
    return {
      ...r,
      testMacroF1: ev[task.metricKey],
      testAccuracy: ev.accuracy,
      bytes,
      compressionBytes: bytesDense / bytes,
    };
  });
  const ticketRound = rounds.find((r) => r.label === search.ticket.label) as LthRoundReport;
  // The search left `model` holding the ticket.
  model.eval();
  const ev = evaluate(model, test);
  const ticketTest = ev.metrics as Metrics;
  const bytes = exportBytes(model, 'ticket');
  const file = join(dir, 'models', `lth-${name}.ecgnn`);
  writeFileAtomicSync(file, bytes);
  const loaded = loadModel(new Uint8Array(readFileSync(file)));
  const cmp = compareWithInfer(loaded, test, ev.predictions.probs);
  const denseStored = exportBytes(model, 'ticket-dense-storage', false);
  const densified = compareWithInfer(loadModel(denseStored), test, ev.predictions.probs);
  const densifiedEqual = densified.probs.every((p, i) => p === cmp.probs[i]);
  const sparseTensors = [...readModel(bytes).tensors.values()].filter((x) => x.entry.sparse).length;
  const lat = inferLatency(loaded, test, task.latency);
  const control =
    controlModel === null
      ? null
      : {
          validation: evaluate(controlModel, validation).metrics as Metrics,
          test: evaluate(controlModel, test).metrics as Metrics,
          params: search.ticket.params,
          epochs: controlEpochs,
        };
  timings.evaluateExport = seconds(t);
  const f1 = (m: Metrics): number | null => m[task.metricKey];
  const testF1Loss =
    f1(denseTest) !== null && f1(ticketTest) !== null
      ? (f1(denseTest) as number) - (f1(ticketTest) as number)
      : null;
  log(
    `\nticket ${search.ticket.label}: ${search.ticket.params}/${search.ticket.paramsDense} parameters (compression ${search.ticket.compression.toFixed(2)}×), ${bytes.length} bytes vs ${bytesDense} dense (${(bytesDense / bytes.length).toFixed(2)}×); test ${task.metricName.replace(/^validation /, '')} ${f1(ticketTest)?.toFixed(4)} vs dense ${f1(denseTest)?.toFixed(4)}${control ? `, control ${f1(control.test)?.toFixed(4)}` : ''}; infer agrees on ${(100 * cmp.agreement).toFixed(3)} % (max |Δp| ${cmp.maxAbsProbDiff.toExponential(2)}), ${lat.msPerItem.toFixed(4)} ms per item`,
  );
  const report: LthReport = {
    smoke,
    dataset: task.dataset,
    protocol: task.protocol,
    split: task.splitDescription,
    seed: opts.seed,
    provenance: opts.provenance,
    settings,
    model: {
      name,
      config: model.config,
      layers: layerCount(config),
      recipe: task.recipe,
      prunedLayers: search.targets.map((x) => x.path),
    },
    data: {
      records: task.records,
      counts: { train: task.counts(train), validation: task.counts(validation), test: task.counts(test) },
    },
    search: {
      stopReason: search.stopReason,
      denseMetric: search.denseMetric,
      threshold: search.threshold,
      rewindStep: search.rewindStep,
      reused: search.reused,
      metric: task.metricName,
      metricKey: task.metricKey,
    },
    rounds,
    ticket: {
      round: ticketRound,
      layers: maskCounts(search.targets).layers,
      validation: evaluate(model, validation).metrics as Metrics,
      test: ticketTest,
      export: {
        file,
        bytes: bytes.length,
        bytesDense,
        bytesDenseStorage: denseStored.length,
        sparseTensors,
        agreement: cmp.agreement,
        disagreements: cmp.disagreements,
        maxAbsProbDiff: cmp.maxAbsProbDiff,
        densifiedEqual,
        inferMsPerSample: lat.msPerItem,
        inferTimingMethod: lat.method,
      },
    },
    dense: {
      validation: evaluate(denseModel, validation).metrics as Metrics,
      test: denseTest,
      bytes: bytesDense,
      params: search.rounds[0].paramsDense,
    },
    control,
    testF1Loss,
    rows: [],
    timings,
  };
  report.rows = [resultsRow(report, opts, test)];
  timings.total = seconds(tStart);
  return report;
}

/** The docs/results.json row `lth/<model>` (../shared/results-format.md). */
function resultsRow(r: LthReport, opts: LthExperimentOptions, test: Dataset): ResultsRow {
  const { command, commit, date, commitDirty } = opts.provenance;
  const t = r.ticket;
  const s = r.settings.lth;
  return {
    id: `lth/${r.model.name}`,
    method: 'lth',
    dataset: r.dataset,
    protocol: r.protocol,
    split: r.smoke ? 'test (smoke subset)' : 'test',
    metrics: resultsMetrics(t.test),
    params: t.round.params,
    paramsDense: t.round.paramsDense,
    compression: t.round.compression,
    bytes: t.export.bytes,
    bytesDense: t.export.bytesDense,
    compressionBytes: t.export.bytesDense / t.export.bytes,
    inferMsPerSample: t.export.inferMsPerSample,
    seed: r.seed,
    command,
    commit,
    date: date.slice(0, 10),
    ...(commitDirty ? { commitDirty: true } : {}),
    ...(r.smoke ? { smoke: true } : {}),
    model: r.model.config.kind,
    layers: r.model.layers,
    testItems: test.count,
    ticketRound: t.round.label,
    rounds: r.rounds.length - 1,
    stopReason: r.search.stopReason,
    goal: s.goal,
    fraction: s.fraction,
    scope: s.scope,
    rewindStep: s.rewindStep,
    denseTestMacroF1: r.dense.test[r.search.metricKey],
    denseValidationMacroF1: r.search.denseMetric,
    validationMacroF1: t.round.metric,
    testF1Loss: r.testF1Loss,
    controlTestMacroF1: r.control ? r.control.test[r.search.metricKey] : null,
    inferAgreement: t.export.agreement,
    selectedBy: `the last round whose ${r.search.metric} met ${s.goal} × the dense model's`,
  };
}
