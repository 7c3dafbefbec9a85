/**
 * The ecgnn baseline job (`pnpm baseline`; the README's main job `pnpm start` is `ecgnn pipeline`): trains the BeatNet beat classifier of @ecgnn/models on MIT-BIH with the
 * inter-patient protocol (de Chazal DS1 → DS2), evaluates it on DS2, exports it to the @ecgnn/infer model format
 * (inputs: the beat window and its RR features, with the preprocessing in the metadata), reloads the file,
 * checks it agrees with the trained model, times it, serves it on one raw DS2 record with infer's streaming
 * classifier and writes a report. A short script over @ecgnn/data, @ecgnn/models and @ecgnn/train (which
 * uses @ecgnn/export and @ecgnn/infer); see docs/main-job.md.
 */
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { resolve } from 'node:path';
import { Generator, manualSeed, optim } from '@ecgnn/core';
import {
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
import { createModel } from '@ecgnn/models';
import {
  beatPreprocessing,
  compareWithInfer,
  DataLoader,
  evaluate,
  exportClassifier,
  formatConfusion,
  formatMetrics,
  formatServe,
  inferLatency,
  lineStream,
  loadBeatDataset,
  type Metrics,
  type SamplerSpec,
  SELECTION_METRIC,
  serveRecord,
  Trainer,
} from '@ecgnn/train';
import { ensureMitdb } from './lib/data.js';
import { HELP, parseOptions, SMOKE, UsageError } from './lib/options.js';
import { buildReport, gitInfo, type Report as MainReport, writeReport } from './lib/report.js';
import { recordRows, runIfInvoked } from './lib/script.js';

export { DEFAULTS, HELP, type MainOptions, parseOptions, SMOKE, UsageError } from './lib/options.js';
/** The report of a run (see examples/lib/report.ts). */
export type { Report as MainReport } from './lib/report.js';

/**
 * The training recipe: AdamW, its learning rate cosine-decayed per batch to lr/50; batches drawn with
 * replacement so each holds on average these shares of N S V F Q (rare classes oversampled, not to full
 * balance: DS1 has only 386 F and 8 Q beats, and full balance made the model call normal beats F or Q).
 */
export const RECIPE = {
  batchSize: 64,
  lr: 3e-3,
  lrFloor: 3e-3 / 50,
  weightDecay: 1e-2,
  classShares: [0.45, 0.25, 0.2, 0.08, 0.02],
};
/** Fixed seed of the patient-wise validation draw, so every run seed is judged on the same records. */
const VALIDATION_SPLIT_SEED = 0;

/**
 * Runs the main job with command-line arguments `argv` (e.g. `['--smoke', '--out', dir]`); progress lines go
 * to `io.log` (default console.log). Returns the report (also written to `<out>/report.json` and
 * `<out>/report.md`), or null after printing `--help`.
 */
export async function main(
  argv: readonly string[],
  io: { log?: (line: string) => void } = {},
): Promise<MainReport | null> {
  const log = io.log ?? ((line: string) => console.log(line));
  const opts = parseOptions(argv);
  if (opts === null) {
    log(HELP);
    return null;
  }
  const [tStart, loadAtStart] = [performance.now(), os.loadavg()[0]];
  const timings: Record<string, number> = {};
  let t = tStart;
  const lap = (name: string): number => {
    const now = performance.now();
    timings[name] = (now - t) / 1000;
    t = now;
    return timings[name];
  };
  const dir = defaultDataDir({ dataDir: opts.data });
  log(
    `ecgnn main job${opts.smoke ? ' (smoke mode)' : ''}: seed ${opts.seed}, data ${dir}, output ${opts.out}`,
  );

  // 1. Data: MIT-BIH (downloaded when absent), DS1 split patient-wise into training and validation, DS2.
  const downloaded = await ensureMitdb({ dataDir: dir, log, download: opts.download });
  lap('download');
  const split = interPatientValidationSplit({
    seed: VALIDATION_SPLIT_SEED,
    recordCounts: recordAamiCounts(DS1, { dataDir: dir }),
  });
  const records = { ...split.records };
  if (opts.smoke) {
    records.train = records.train.slice(0, SMOKE.trainRecords);
    records.validation = records.validation.slice(0, SMOKE.valRecords);
    records.test = records.test.slice(0, SMOKE.testRecords);
  }
  log(formatSplitSummary(splitSummary({ protocol: split.protocol, records }, { dataDir: dir })));
  const pre = beatPreprocessing();
  const testEvery = opts.smoke ? SMOKE.testEvery : 1;
  const load = (r: string[], every = 1) => loadBeatDataset(r, { dataDir: dir, preprocessing: pre, every });
  const train = load(records.train);
  const validation = load(records.validation);
  const test = load(records.test, testEvery);
  const sampled = testEvery === 1 ? 'all AAMI-labelled beats' : `every ${testEvery}th AAMI-labelled beat`;
  const testSampling = `${sampled} of ${records.test.length} DS2 records (${test.count} beats${opts.smoke ? '; smoke mode' : ''})`;
  log(
    `beats: train ${train.count}, validation ${validation.count}, test ${test.count} in ${lap('loadBeats').toFixed(1)} s; ` +
      `preprocessing ${JSON.stringify(pre)}`,
  );

  // 2. Model and training: weighted batches, AdamW with a per-batch cosine schedule, best epoch on validation.
  manualSeed(opts.seed);
  const rrFeatures = pre.rr?.features.length ?? 0;
  const config = { kind: 'beatnet', length: pre.length, rrFeatures, classes: train.classes.length } as const;
  const model = createModel(config, { generator: new Generator(opts.seed) });
  log(`model: ${model.numParameters()} parameters\n${model.toString()}`);
  const { batchSize, lr, lrFloor, weightDecay, classShares } = RECIPE;
  const optimizer = new optim.AdamW(model.parameters(), { lr, weightDecay });
  const sampler: SamplerSpec = { kind: 'weighted', batchesPerEpoch: opts.batchesPerEpoch, classShares };
  const trained = new Trainer({
    model,
    optimizer,
    train: new DataLoader(train, { batchSize, sampler, seed: opts.seed, reuseBuffers: true }),
    validation,
    epochs: opts.epochs,
    scheduler: new optim.CosineAnnealingLR(optimizer, opts.epochs * opts.batchesPerEpoch, lrFloor),
    schedulerInterval: 'step',
    monitor: SELECTION_METRIC,
    progressStream: lineStream(log),
  }).fit();
  const valMetrics = evaluate(model, validation).metrics as Metrics;
  log(`training done in ${lap('train').toFixed(1)} s; kept epoch ${trained.bestEpoch}`);

  // 3. Evaluation on DS2.
  const ev = evaluate(model, test);
  const m = ev.metrics as Metrics;
  lap('evaluate');
  log(`\ninter-patient DS1→DS2 (${testSampling}):\n${formatMetrics(m)}`);
  log(`confusion matrix (rows true, columns predicted):\n${formatConfusion(m)}\n`);

  // 4. Export (atomic write), reload in @ecgnn/infer, agreement with core, batch-1 latency.
  await mkdir(opts.out, { recursive: true });
  const file = resolve(opts.out, 'model.ecgnn');
  const git = gitInfo(findRepoRoot() ?? process.cwd());
  const date = new Date().toISOString();
  const provenance = {
    dataset: 'mitdb',
    protocol: 'inter-patient DS1/DS2',
    trainRecords: records.train,
    validationRecords: records.validation,
    seed: opts.seed,
    ...git,
    date,
    testMetrics: { accuracy: m.accuracy, macroF1: m.macroF1, macroF1NSVF: m.subsetMacroF1 },
  };
  const name = 'ecgnn-main-beatnet';
  const bytes = saveModel(exportClassifier(model, pre, { classes: test.classes, name, provenance }));
  await writeModelFile(file, bytes);
  lap('export');
  const loaded = loadModel(new Uint8Array(await readFile(file)));
  const agreement = compareWithInfer(loaded, test, ev.predictions.probs);
  lap('reloadAndPredict');
  log(
    `exported ${file} (${bytes.length} bytes); reloaded with @ecgnn/infer: argmax agreement with the core model ` +
      `${(100 * agreement.agreement).toFixed(3)} % (${agreement.disagreements} of ${test.count} differ), max |Δp| ` +
      `${agreement.maxAbsProbDiff.toExponential(2)}`,
  );
  const latency = inferLatency(loaded, test, opts.smoke ? { perRun: 20, runs: 5 } : {});
  log(`@ecgnn/infer batch-1 inference: ${latency.msPerItem.toFixed(4)} ms per beat (${latency.method})`);

  // 5. Serve the exported model on one raw DS2 record, as a deployed streaming classifier would.
  const served = serveRecord(loaded, records.test[0], { dataDir: dir, classes: test.classes });
  lap('serve');
  log(formatServe(served));

  // 6. Report and the docs/results.json row.
  timings.total = (performance.now() - tStart) / 1000;
  const report = buildReport({
    command: `pnpm baseline${argv.length ? ` ${argv.join(' ')}` : ''}`,
    options: opts,
    protocol: split.protocol,
    data: { dir, downloaded, records },
    sets: { train, validation, test },
    testSampling,
    model,
    recipe: RECIPE,
    trained,
    validation: valMetrics,
    test: ev,
    exported: { file, bytes: bytes.length, plan: loaded.metadata.plan },
    agreement,
    latency,
    served,
    timings,
    git,
    date,
    loadAtStart,
  });
  await writeReport(opts.out, report);
  log(`report: ${resolve(opts.out, 'report.md')} and report.json; total ${timings.total.toFixed(1)} s`);
  if (opts.record) {
    if (opts.smoke) throw new UsageError('--record refuses smoke runs: their figures are not results');
    recordRows(opts.record, [report.resultsRow], log);
  }
  return report;
}

runIfInvoked(import.meta.url, main, [UsageError]);
