/**
 * The ecgnn main job (`pnpm start`): trains a small 1-D CNN beat classifier on MIT-BIH with the inter-patient
 * protocol (de Chazal DS1 → DS2), evaluates it on DS2, exports it with @ecgnn/export to the @ecgnn/infer model
 * format (two named inputs: the beat window and its RR features), reloads the file, checks the exported model
 * agrees with the trained one, times inference, serves the model on one raw DS2 record with infer's streaming
 * classifier and writes a report. Built only from the public APIs of @ecgnn/core, @ecgnn/data, @ecgnn/export and
 * @ecgnn/infer. See docs/main-job.md.
 */
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Generator, manualSeed } from '@ecgnn/core';
import {
  AAMI_CLASSES,
  type AamiCounts,
  DataError,
  DS1,
  dataDir as defaultDataDir,
  findRepoRoot,
  formatSplitSummary,
  interPatientValidationSplit,
  recordAamiCounts,
  splitSummary,
} from '@ecgnn/data';
import { loadModel, saveModel } from '@ecgnn/infer';
import { writeModelFile } from '@ecgnn/infer/node';
import {
  BEAT_BEFORE,
  BEAT_FS,
  BEAT_LENGTH,
  countLabels,
  ensureMitdb,
  type PreparedBeats,
  prepareBeats,
  RR_COUNT,
  RR_FEATURE_NAMES,
} from './lib/beats.js';
import { exportBeatNet } from './lib/export.js';
import { classificationMetrics, formatConfusion, formatMetrics } from './lib/metrics.js';
import { BeatNet } from './lib/model.js';
import { gitInfo, type RecordResult, type Report, reportMarkdown, writeFileAtomic } from './lib/report.js';
import { recordResultsRow } from './lib/results.js';
import { formatServe, type ServeSummary, serveMarkdown, serveRecord } from './lib/serve.js';
import { argmaxRows, CLASS_SHARES, CLASSES, evaluate, train } from './lib/train.js';

/** Parsed command-line options. */
export interface MainOptions {
  epochs: number;
  batchesPerEpoch: number;
  seed: number;
  out: string;
  data: string | undefined;
  smoke: boolean;
  download: boolean;
  /** A docs/results.json file to merge this run's row into (by id), regenerating results.md beside it. */
  record: string | undefined;
}

/** Defaults of the full run (about 3–6 minutes on an idle 2-core machine; see docs/main-job.md). */
export const DEFAULTS = { epochs: 8, batchesPerEpoch: 150, seed: 0, out: 'ecgnn-out' } as const;
/** The smoke run (tests): few records, one short epoch, every 8th test beat. */
export const SMOKE = {
  epochs: 1,
  batchesPerEpoch: 12,
  trainRecords: 3,
  valRecords: 1,
  testRecords: 3,
  testEvery: 8,
};
const BATCH_SIZE = 64;
const LR = 3e-3;
const WEIGHT_DECAY = 1e-2;
/** Fixed seed of the patient-wise validation draw, so every run seed is judged on the same records. */
const VALIDATION_SPLIT_SEED = 0;
/** Beats on each side of a beat in the local RR mean (@ecgnn/data's `extractBeats` default). */
const RR_LOCAL_HALF_WIDTH = 5;
/** ε of the per-beat z-score of the training windows (see `prepareBeats`). */
const BEAT_ZSCORE_EPS = 1e-6;

/** Help text of `pnpm start --help`. */
export const HELP = `ecgnn main job: train, evaluate, export and check a beat classifier (inter-patient DS1→DS2).

usage: pnpm start [options]

  --epochs <n>       training epochs (default ${DEFAULTS.epochs})
  --batches <n>      batches of ${BATCH_SIZE} beats per epoch (default ${DEFAULTS.batchesPerEpoch})
  --seed <n>         seed of weights, dropout and batch sampling (default ${DEFAULTS.seed})
  --out <dir>        output directory for model.ecgnn, report.json, report.md (default ./${DEFAULTS.out}/)
  --data <dir>       data directory holding mitdb/ (default: $ECGNN_DATA, else ../shared/data beside the repo)
  --no-download      fail instead of downloading MIT-BIH when it is absent
  --record <file>    merge this run's results row into <file> (docs/results.json) and regenerate results.md
  --smoke            tiny run for tests: ${SMOKE.trainRecords} training records, ${SMOKE.epochs} epoch of ${SMOKE.batchesPerEpoch} batches, every ${SMOKE.testEvery}th beat of ${SMOKE.testRecords} test records
  --help             this text
`;

/** Error for bad command-line input (printed without a stack trace). */
export class UsageError extends Error {
  override name = 'UsageError';
}

function intOption(name: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  const n = Number(v);
  if (n < min) throw new UsageError(`--${name} must be ≥ ${min}, got ${n}`);
  return n;
}

/** Parses `argv` (without the node and script paths); `null` means help was requested. */
export function parseOptions(argv: readonly string[]): MainOptions | null {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof spec; strict: true; allowPositionals: false }>>;
  const spec = {
    epochs: { type: 'string' },
    batches: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    data: { type: 'string' },
    smoke: { type: 'boolean' },
    'no-download': { type: 'boolean' },
    record: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  try {
    parsed = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${HELP}`);
  }
  const v = parsed.values;
  if (v.help) return null;
  const smoke = v.smoke ?? false;
  return {
    epochs: intOption('epochs', v.epochs, smoke ? SMOKE.epochs : DEFAULTS.epochs, 1),
    batchesPerEpoch: intOption(
      'batches',
      v.batches,
      smoke ? SMOKE.batchesPerEpoch : DEFAULTS.batchesPerEpoch,
      1,
    ),
    seed: intOption('seed', v.seed, DEFAULTS.seed, 0),
    out: resolve(v.out ?? DEFAULTS.out),
    data: v.data,
    smoke,
    download: !(v['no-download'] ?? false),
    record: v.record === undefined ? undefined : resolve(v.record),
  };
}

/** The report of a run: the shared report fields and the serving check of the exported model. */
export type MainReport = Report & {
  /** The exported model served on one raw DS2 record by infer's streaming classifier. */
  served: ServeSummary;
};

/** Optional hooks of {@link main}. */
export interface MainIo {
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function countsRecord(c: AamiCounts): Record<string, number> {
  return Object.fromEntries(AAMI_CLASSES.map((k) => [k, c[k]]));
}

/**
 * Runs the main job with command-line arguments `argv` (e.g. `['--smoke', '--out', dir]`). Returns the
 * report (also written to `<out>/report.json` and `<out>/report.md`), or null after printing `--help`.
 */
export async function main(argv: readonly string[], io: MainIo = {}): Promise<MainReport | null> {
  const log = io.log ?? ((line: string) => console.log(line));
  const opts = parseOptions(argv);
  if (opts === null) {
    log(HELP);
    return null;
  }
  const tStart = performance.now();
  const loadAtStart = os.loadavg()[0];
  const timings: Record<string, number> = {};
  const dir = defaultDataDir({ dataDir: opts.data });
  log(
    `ecgnn main job${opts.smoke ? ' (smoke mode)' : ''}: seed ${opts.seed}, data ${dir}, output ${opts.out}`,
  );

  // 1. Data.
  let t = performance.now();
  const downloaded = await ensureMitdb({ dataDir: dir, log, download: opts.download });
  timings.download = seconds(t);

  // 2. Inter-patient split with a patient-wise validation split inside DS1.
  t = performance.now();
  const split = interPatientValidationSplit({
    seed: VALIDATION_SPLIT_SEED,
    recordCounts: recordAamiCounts(DS1, { dataDir: dir }),
  });
  const records = {
    train: split.records.train,
    validation: split.records.validation,
    test: split.records.test,
  };
  if (opts.smoke) {
    records.train = records.train.slice(0, SMOKE.trainRecords);
    records.validation = records.validation.slice(0, SMOKE.valRecords);
    records.test = records.test.slice(0, SMOKE.testRecords);
  }
  log(formatSplitSummary(splitSummary({ protocol: split.protocol, records }, { dataDir: dir })));
  const testEvery = opts.smoke ? SMOKE.testEvery : 1;
  const trainSet = prepareBeats(records.train, { dataDir: dir });
  const valSet = prepareBeats(records.validation, { dataDir: dir });
  const testSet = prepareBeats(records.test, { dataDir: dir, every: testEvery });
  timings.loadBeats = seconds(t);
  const testSampling =
    testEvery === 1
      ? `all ${testSet.count} AAMI-labelled beats of the ${records.test.length} DS2 records`
      : `every ${testEvery}th AAMI-labelled beat of ${records.test.length} DS2 records (${testSet.count} beats; smoke mode)`;
  log(
    `beats: train ${trainSet.count}, validation ${valSet.count}, test ${testSet.count} ` +
      `(MLII, ${BEAT_LENGTH} samples at ${BEAT_FS} Hz, z-scored; ${RR_COUNT} RR features: ${RR_FEATURE_NAMES.join(', ')}) ` +
      `in ${timings.loadBeats.toFixed(1)} s`,
  );

  // 3. Model and training.
  manualSeed(opts.seed);
  const model = new BeatNet({
    length: BEAT_LENGTH,
    rrFeatures: RR_COUNT,
    classes: CLASSES.length,
    generator: new Generator(opts.seed),
  });
  const params = model.numParameters();
  log(`model: BeatNet, ${params} parameters\n${model.toString()}`);
  t = performance.now();
  const trained = train(model, trainSet, valSet, {
    epochs: opts.epochs,
    batchesPerEpoch: opts.batchesPerEpoch,
    batchSize: BATCH_SIZE,
    lr: LR,
    weightDecay: WEIGHT_DECAY,
    seed: opts.seed,
    log,
  });
  timings.train = seconds(t);
  log(`training done in ${trained.seconds.toFixed(1)} s; kept epoch ${trained.bestEpoch}`);

  // 4. Evaluation on DS2.
  t = performance.now();
  const { metrics: test, probs: coreProbs } = evaluate(model, testSet);
  timings.evaluate = seconds(t);
  log(`\ninter-patient DS1→DS2 (${testSampling}):`);
  log(formatMetrics(test));
  log(`confusion matrix (rows true, columns predicted):\n${formatConfusion(test)}\n`);

  // 5. Export (atomic write) and 6. reload + agreement + timing.
  t = performance.now();
  await mkdir(opts.out, { recursive: true });
  const modelPath = resolve(opts.out, 'model.ecgnn');
  const { commit, dirty } = gitInfo(findRepoRoot() ?? process.cwd());
  const date = new Date().toISOString();
  const spec = exportBeatNet(model, {
    name: 'ecgnn-main-beatnet',
    classes: [...CLASSES],
    sampleRate: BEAT_FS,
    beatBefore: BEAT_BEFORE,
    rrFeatures: RR_FEATURE_NAMES,
    rrLocalHalfWidth: RR_LOCAL_HALF_WIDTH,
    zscoreEps: BEAT_ZSCORE_EPS,
    provenance: {
      dataset: 'mitdb',
      protocol: 'inter-patient DS1/DS2',
      trainRecords: records.train,
      validationRecords: records.validation,
      rrFeatures: [...RR_FEATURE_NAMES],
      beatWindow: `${BEAT_BEFORE} samples before the R peak, ${BEAT_LENGTH - BEAT_BEFORE} from it, MLII, z-scored`,
      seed: opts.seed,
      commit,
      date,
      testMetrics: { accuracy: test.accuracy, macroF1: test.macroF1 },
    },
  });
  const bytes = saveModel(spec);
  await writeModelFile(modelPath, bytes);
  timings.export = seconds(t);
  t = performance.now();
  const loaded = loadModel(new Uint8Array(await readFile(modelPath)));
  const inferProbs = loaded.predict({ beat: testSet.x, rr: testSet.rr });
  const K = CLASSES.length;
  const corePred = argmaxRows(coreProbs, K);
  const inferPred = argmaxRows(inferProbs, K);
  let disagreements = 0;
  let maxAbsProbDiff = 0;
  for (let i = 0; i < testSet.count; i++) if (corePred[i] !== inferPred[i]) disagreements++;
  for (let i = 0; i < coreProbs.length; i++) {
    maxAbsProbDiff = Math.max(maxAbsProbDiff, Math.abs(coreProbs[i] - inferProbs[i]));
  }
  const agreement = testSet.count > 0 ? 1 - disagreements / testSet.count : 1;
  const inferMetrics = classificationMetrics(testSet.label, inferPred, CLASSES);
  timings.reloadAndPredict = seconds(t);
  log(
    `exported ${modelPath} (${bytes.length} bytes); reloaded with @ecgnn/infer: argmax agreement with the core model ` +
      `${(100 * agreement).toFixed(3)} % (${disagreements} of ${testSet.count} differ), max |Δp| ${maxAbsProbDiff.toExponential(2)}, ` +
      `infer accuracy ${(100 * inferMetrics.accuracy).toFixed(2)} %`,
  );
  const inferMsPerSample = timeBatch1(loaded, testSet, opts.smoke);
  log(
    `@ecgnn/infer batch-1 inference: ${inferMsPerSample.ms.toFixed(4)} ms per beat (${inferMsPerSample.method})`,
  );

  // 7. Serve the exported model on one raw DS2 record, as a deployed streaming classifier would.
  t = performance.now();
  const served = serveRecord(loaded, records.test[0], { dataDir: dir, classes: CLASSES });
  timings.serve = seconds(t);
  log(formatServe(served));

  // 8. Report.
  const command = `pnpm start${argv.length ? ` ${argv.join(' ')}` : ''}`;
  const perClass = Object.fromEntries(
    CLASSES.map((c) => [c, { se: test.perClass[c].se, ppv: test.perClass[c].ppv, f1: test.perClass[c].f1 }]),
  );
  timings.total = seconds(tStart);
  const report: MainReport = {
    title: `ecgnn main job${opts.smoke ? ' (smoke run — not a result)' : ''}: BeatNet, inter-patient DS1→DS2`,
    protocol: `${split.protocol}; test = DS2`,
    command,
    seed: opts.seed,
    commit,
    dirty,
    date,
    smoke: opts.smoke,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverage1m: os.loadavg()[0],
      loadAverageAtStart1m: loadAtStart,
    },
    data: {
      dir,
      downloaded,
      records,
      beats: {
        train: countsRecord(countLabels(trainSet)),
        validation: countsRecord(countLabels(valSet)),
        test: countsRecord(countLabels(testSet)),
      },
    },
    testSampling,
    model: {
      description: describeModel(model),
      params,
      file: modelPath,
      bytes: bytes.length,
      plan: loaded.metadata.plan,
    },
    training: {
      epochs: opts.epochs,
      batchesPerEpoch: opts.batchesPerEpoch,
      batchSize: BATCH_SIZE,
      lr: LR,
      weightDecay: WEIGHT_DECAY,
      classShares: Object.fromEntries(CLASSES.map((c, i) => [c, CLASS_SHARES[i]])),
      bestEpoch: trained.bestEpoch,
      seconds: trained.seconds,
      history: trained.history,
    },
    validation: trained.bestValidation,
    test,
    testPerRecord: perRecordResults(testSet, corePred),
    export: {
      agreement,
      disagreements,
      maxAbsProbDiff,
      inferMsPerSample: inferMsPerSample.ms,
      inferTimingMethod: inferMsPerSample.method,
    },
    served,
    timings,
    resultsRow: {
      id: 'baseline/beatnet-rr',
      method: 'baseline',
      dataset: 'mitdb',
      protocol: 'inter-patient DS1/DS2',
      split: opts.smoke ? 'test (smoke subset)' : 'test',
      metrics: { accuracy: test.accuracy, macroF1: test.macroF1, jk: test.jk, perClass },
      params,
      bytes: bytes.length,
      inferMsPerSample: inferMsPerSample.ms,
      seed: opts.seed,
      command,
      commit,
      ...(dirty ? { commitDirty: true } : {}),
      date: date.slice(0, 10),
      macroF1NSVF: test.subsetMacroF1,
      kappa: test.kappa,
    },
  };
  await writeFileAtomic(resolve(opts.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(resolve(opts.out, 'report.md'), reportMarkdown(report) + serveMarkdown(served));
  log(`report: ${resolve(opts.out, 'report.md')} and report.json; total ${timings.total.toFixed(1)} s`);
  if (opts.record) {
    if (opts.smoke) throw new UsageError('--record refuses smoke runs: their figures are not results');
    await recordResultsRow(opts.record, report.resultsRow);
    log(`results: row '${report.resultsRow.id}' merged into ${opts.record} (and results.md beside it)`);
  }
  return report;
}

/** Accuracy and per-class sensitivity of `pred` on each record of `set`, in record order. */
function perRecordResults(set: PreparedBeats, pred: Int32Array): RecordResult[] {
  const byRecord = new Map<string, number[]>();
  for (let i = 0; i < set.count; i++) {
    const list = byRecord.get(set.record[i]);
    if (list) list.push(i);
    else byRecord.set(set.record[i], [i]);
  }
  return [...byRecord].map(([record, idx]) => {
    const m = classificationMetrics(
      idx.map((i) => set.label[i]),
      idx.map((i) => pred[i]),
      CLASSES,
    );
    return {
      record,
      beats: idx.length,
      accuracy: m.accuracy,
      perClass: Object.fromEntries(
        CLASSES.map((c) => [c, { beats: m.perClass[c].support, se: m.perClass[c].se }]),
      ),
    };
  });
}

/** One-line description of the model's architecture. */
function describeModel(model: BeatNet): string {
  const o = model.options;
  const last = o.channels[o.channels.length - 1];
  return (
    `BeatNet: ${o.channels.length} × [Conv1d('same', no bias) → BatchNorm1d → ReLU → MaxPool1d(2)] with ` +
    `${o.channels.join(', ')} channels and kernels ${o.kernels.join(', ')} over a ${o.length}-sample beat at ` +
    `${BEAT_FS} Hz → global average pooling → dropout ${o.dropout} → concat ${o.rrFeatures} RR features → ` +
    `Linear(${last + o.rrFeatures} → ${o.classes})`
  );
}

/**
 * Median per-beat time of `Model.predict` called with ONE beat at a time: after a warm-up, `runs` runs each
 * time `perRun` consecutive single-beat calls; the median run time divided by `perRun`.
 */
function timeBatch1(
  model: ReturnType<typeof loadModel>,
  set: PreparedBeats,
  smoke: boolean,
): { ms: number; method: string } {
  const out = new Float32Array(CLASSES.length);
  const perRun = smoke ? 20 : 100;
  const runs = smoke ? 5 : 21;
  const beats = Math.min(set.count, perRun);
  // One input record per beat, made before timing: views of the beat window and of its RR features.
  const inputs = Array.from({ length: beats }, (_, i) => ({
    beat: set.x.subarray(i * BEAT_LENGTH, (i + 1) * BEAT_LENGTH),
    rr: set.rr.subarray(i * RR_COUNT, (i + 1) * RR_COUNT),
  }));
  const call = (i: number): void => {
    model.predict(inputs[i % beats], undefined, out);
  };
  for (let i = 0; i < 2 * perRun; i++) call(i);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perRun; i++) call(i);
    times.push((performance.now() - t0) / perRun);
  }
  return {
    ms: median(times),
    method: `median of ${runs} runs of ${perRun} single-beat predict calls, after ${2 * perRun} warm-up calls`,
  };
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    () => undefined,
    (err: unknown) => {
      // Expected failures (bad flags, missing data, a failed download) print their message only.
      if (err instanceof UsageError || err instanceof DataError) console.error(`error: ${err.message}`);
      else console.error(err);
      process.exitCode = 1;
    },
  );
}
