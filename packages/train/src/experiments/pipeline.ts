/**
 * The pipeline (`ecgnn pipeline`, the README's main job) end to end, as a sequence of the @ecgnn/train
 * experiments with the settings of pipeline-config.ts:
 * 1. data: MIT-BIH from the data directory, the inter-patient split (DS1 training and validation, DS2 test);
 * 2. distill: ResNet teacher → compact student trained alone and distilled (runDistillExperiment);
 * 3. prune: the lottery-ticket search (runLthExperiment) over the student architecture (quick, smoke) or the teacher (full);
 * 4. binarize: the binary network and its float twin on patient-wise 10-s fragments (runBnnExperiment);
 *    every model of stages 2–4 is exported, reloaded in @ecgnn/infer and compared with core by its experiment;
 * 5. serve: one DS2 record classified end to end from raw samples by the distilled student's model file through
 *    @ecgnn/infer's streaming classifier (QRS detection, windows, RR features; serve.ts);
 * 6. report: one row per model (parameters, bytes, validation and test macro-F1, infer agreement) for the HTML
 *    report (pipeline-report.ts).
 * Each experiment reads its test split once, after its own training; nothing in the pipeline is chosen on test.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EcgnnError } from '@ecgnn/core';
import { DS1, DS2 } from '@ecgnn/data';
import { loadModel } from '@ecgnn/infer';
import { pct } from '../format.js';
import type { Metrics } from '../metrics.js';
import type { ResultsRow } from '../results.js';
import { type ServeSummary, serveRecord } from '../serve.js';
import { type BnnReport, runBnnExperiment } from './bnn.js';
import { DISTILL_MODELS, type DistillReport, runDistillExperiment } from './distill.js';
import { type LthReport, runLthExperiment } from './lth.js';
import {
  PIPELINE_SETTINGS,
  PIPELINE_STAGES,
  type PipelineMode,
  type PipelineOptions,
  type PipelineSettings,
  type PipelineStage,
} from './pipeline-config.js';

/** One model of the pipeline, as the compression/accuracy table and plot show it. */
export interface PipelineModel {
  /** Short name (`teacher`, `student-kd`, `ticket`, `binary`, …). */
  name: string;
  /** The stage that trained it. */
  stage: PipelineStage;
  /** Input: a beat window with RR features, or a 10-s fragment (the binary network's task). */
  input: 'beat' | 'fragment';
  /** Non-zero trainable parameters. */
  params: number;
  /** Bytes of its @ecgnn/infer model file (null when not exported, e.g. a pruning round). */
  bytes: number | null;
  /** Validation macro-F1 over N, S, V, F. */
  validationMacroF1: number | null;
  /** Test macro-F1 over N, S, V, F (null when not evaluated). */
  testMacroF1: number | null;
  /** Test accuracy (null when not evaluated). */
  testAccuracy: number | null;
  /** @ecgnn/infer against core on the test items: items compared and items whose class differs. */
  infer: { items: number; disagreements: number; maxAbsProbDiff: number; msPerItem: number } | null;
  /** A lottery-ticket round that is not the ticket (drawn as the pruning curve only). */
  round?: boolean;
}

/** Wall time and one-line outcome of a stage. */
export interface PipelineStageRecord {
  stage: PipelineStage;
  seconds: number;
  summary: string;
}

/** The report of a pipeline run (written as `report.json`; `report.html` is drawn from it). */
export interface PipelineReport {
  /** Size of the run: quick and smoke figures are not results. */
  mode: PipelineMode;
  /** Run seed. */
  seed: number;
  /** Command, commit, date. */
  provenance: PipelineOptions['provenance'];
  /** The settings used. */
  settings: PipelineSettings;
  /** Data directory and the DS1/DS2 record lists. */
  data: { dir: string; ds1: string[]; ds2: string[] };
  /** One record per stage, in order. */
  stages: PipelineStageRecord[];
  /** The distillation experiment's report. */
  distill: DistillReport;
  /** The lottery-ticket experiment's report. */
  prune: LthReport;
  /** The binary-network experiment's report. */
  binarize: BnnReport;
  /** The served record (with the strip drawn in the report) and the model file that served it. */
  serve: ServeSummary & { model: string; file: string };
  /** Every model, for the compression/accuracy comparison. */
  models: PipelineModel[];
  /** Wall times (s). */
  timings: Record<string, number>;
}

function f1(m: Metrics | null | undefined): number | null {
  return m?.subsetMacroF1 ?? null;
}

/** A fraction as a percentage with its unit (`–` when undefined). */
function percent(x: number | null): string {
  return x === null ? '–' : `${pct(x)} %`;
}

/** One line on the outcome of the distillation stage (each model's size and validation macro-F1). */
function distillSummary(r: DistillReport): string {
  return DISTILL_MODELS.filter((n) => r.models[n])
    .map(
      (n) =>
        `${n} ${r.models[n]?.params} params, validation macro-F1 ${percent(f1(r.models[n]?.validation))}`,
    )
    .join('; ');
}

/** One line on the outcome of the lottery-ticket stage (the ticket, its size and validation macro-F1). */
function pruneSummary(r: LthReport): string {
  return `ticket ${r.ticket.round.label}: ${r.ticket.round.params} of ${r.ticket.round.paramsDense} params (${r.ticket.round.compression.toFixed(2)}×), ${r.ticket.export.bytes} bytes, validation macro-F1 ${percent(r.ticket.round.metric)} (dense ${percent(r.search.denseMetric)}); ${r.search.stopReason}`;
}

/** One line on the outcome of the binary-network stage (each variant's file, validation and infer check). */
function binarizeSummary(r: BnnReport): string {
  return (['binary', 'float'] as const)
    .filter((v) => r.variants[v])
    .map((v) => {
      const m = r.variants[v];
      return `${v} ${m?.export.bytes} bytes, validation macro-F1 ${percent(f1(m?.validation))}, infer ≠ core on ${m?.export.test.disagreements}/${m?.export.test.items}`;
    })
    .join('; ');
}

/** The one-line outcome of each training stage, as the stage lines of {@link runPipeline} and `--stage` print it. */
const STAGE_SUMMARY: { [K in PipelineTrainingStage]: (r: PipelineStageReports[K]) => string } = {
  distill: distillSummary,
  prune: pruneSummary,
  binarize: binarizeSummary,
};

/** One line on the outcome of training stage `stage` (its models' sizes, validation figures, infer check). */
export function pipelineStageSummary<S extends PipelineTrainingStage>(
  stage: S,
  report: PipelineStageReports[S],
): string {
  return (STAGE_SUMMARY[stage] as (r: PipelineStageReports[S]) => string)(report);
}

/** The models of the three experiments as rows of the comparison (pruning rounds flagged `round`). */
export function pipelineModels(
  distill: DistillReport,
  prune: LthReport,
  binarize: BnnReport,
): PipelineModel[] {
  const out: PipelineModel[] = [];
  for (const name of DISTILL_MODELS) {
    const m = distill.models[name];
    if (!m) continue;
    out.push({
      name,
      stage: 'distill',
      input: 'beat',
      params: m.params,
      bytes: m.export.bytes,
      validationMacroF1: f1(m.validation),
      testMacroF1: f1(m.test),
      testAccuracy: m.test.accuracy,
      infer: {
        items: m.test.count,
        disagreements: m.export.disagreements,
        maxAbsProbDiff: m.export.maxAbsProbDiff,
        msPerItem: m.export.inferMsPerSample,
      },
    });
  }
  const t = prune.ticket;
  for (const r of prune.rounds) {
    if (r.label === t.round.label) continue;
    out.push({
      name: `${prune.model.name} ${r.label}`,
      stage: 'prune',
      input: 'beat',
      params: r.params,
      bytes: r.bytes,
      validationMacroF1: r.metric,
      testMacroF1: r.testMacroF1,
      testAccuracy: r.testAccuracy,
      infer: null,
      round: true,
    });
  }
  out.push({
    name: `ticket (${t.round.label})`,
    stage: 'prune',
    input: 'beat',
    params: t.round.params,
    bytes: t.export.bytes,
    validationMacroF1: f1(t.validation),
    testMacroF1: f1(t.test),
    testAccuracy: t.test.accuracy,
    infer: {
      items: t.test.count,
      disagreements: t.export.disagreements,
      maxAbsProbDiff: t.export.maxAbsProbDiff,
      msPerItem: t.export.inferMsPerSample,
    },
  });
  for (const v of ['binary', 'float'] as const) {
    const m = binarize.variants[v];
    if (!m) continue;
    out.push({
      name: v === 'binary' ? 'binary' : 'binary float twin',
      stage: 'binarize',
      input: 'fragment',
      params: m.params,
      bytes: m.export.bytes,
      validationMacroF1: f1(m.validation),
      testMacroF1: f1(m.test),
      testAccuracy: m.test.accuracy,
      infer: {
        items: m.export.test.items,
        disagreements: m.export.test.disagreements,
        maxAbsProbDiff: m.export.test.maxAbsProbDiff,
        msPerItem: m.export.inferMsPerSample,
      },
    });
  }
  return out;
}

/**
 * The docs/results.json rows of a full pipeline run: its three experiments' rows (distillation, the lottery
 * ticket, the binary network and its float twin), each carrying the pipeline's command and commit. Quick and smoke
 * runs have no rows: their figures are not results ({@link PipelineError} otherwise).
 */
export function pipelineResultsRows(report: PipelineReport): ResultsRow[] {
  if (report.mode !== 'full')
    throw new PipelineError(
      `a ${report.mode} pipeline run has no results rows: only --full figures are results`,
    );
  return [...report.distill.rows, ...report.prune.rows, ...report.binarize.rows];
}

/** A pipeline request that cannot be met (e.g. results rows of a quick run). */
export class PipelineError extends EcgnnError {}

/** The training stages: each can also run on its own ({@link runPipelineStage}) and be reloaded by `resume`. */
export const PIPELINE_TRAINING_STAGES = ['distill', 'prune', 'binarize'] as const;
/** One of {@link PIPELINE_TRAINING_STAGES}. */
export type PipelineTrainingStage = (typeof PIPELINE_TRAINING_STAGES)[number];

/** The report of each training stage. */
export interface PipelineStageReports {
  distill: DistillReport;
  prune: LthReport;
  binarize: BnnReport;
}

/**
 * Runs one training stage of the pipeline — its experiment with the mode's settings, into `opts.outDir/<stage>` —
 * and nothing else. The three stages are independent (the lottery-ticket search trains its own dense network), so
 * they can run as three processes at once; a later {@link runPipeline} with `resume` on the same `outDir` reloads
 * their finished models instead of training them again, and gives the figures of a run in one process (every
 * experiment is deterministic for its seed).
 */
export function runPipelineStage<S extends PipelineTrainingStage>(
  opts: PipelineOptions,
  stage: S,
): PipelineStageReports[S] {
  const settings = PIPELINE_SETTINGS[opts.mode ?? 'quick'];
  const common = {
    dataDir: opts.dataDir,
    seed: opts.seed,
    resume: opts.resume ?? false,
    progress: opts.progress ?? 'auto',
    provenance: opts.provenance,
    log: opts.log ?? (() => undefined),
    outDir: join(opts.outDir, stage),
  };
  const reports: { [K in PipelineTrainingStage]: () => PipelineStageReports[K] } = {
    distill: () => {
      const d = settings.distill;
      return runDistillExperiment({
        ...common,
        smoke: d.smoke,
        settings: d.settings,
        teacherSampler: d.teacherSampler,
        teacherEpochs: d.teacherEpochs,
        studentEpochs: d.studentEpochs,
      });
    },
    prune: () => {
      const p = settings.prune;
      return runLthExperiment({
        ...common,
        model: p.model,
        smoke: p.smoke,
        settings: p.settings,
        search: p.search,
        epochs: p.epochs,
      });
    },
    binarize: () => {
      const b = settings.binarize;
      return runBnnExperiment({
        ...common,
        classes: 5,
        protocol: 'patient',
        variants: b.variants,
        smoke: b.smoke,
        epochs: b.epochs,
        settings: b.settings,
      });
    },
  };
  return reports[stage]();
}

/** Runs the pipeline (see the module comment); files go to `opts.outDir/<stage>`. */
export function runPipeline(opts: PipelineOptions): PipelineReport {
  const mode = opts.mode ?? 'quick';
  const settings = PIPELINE_SETTINGS[mode];
  const onStage = opts.onStage ?? ((line: string) => console.log(line));
  const label = mode === 'full' ? '' : ` (${mode} run: not a result)`;
  mkdirSync(opts.outDir, { recursive: true });
  const stages: PipelineStageRecord[] = [];
  const timings: Record<string, number> = {};
  const tStart = performance.now();
  /** Runs one stage between its two progress lines. */
  const stage = <T>(name: PipelineStage, what: string, run: () => T, summary: (x: T) => string): T => {
    const i = PIPELINE_STAGES.indexOf(name) + 1;
    onStage(`[${i}/${PIPELINE_STAGES.length}] ${name}: ${what}`);
    const t0 = performance.now();
    const x = run();
    const seconds = (performance.now() - t0) / 1000;
    const line = summary(x);
    stages.push({ stage: name, seconds, summary: line });
    timings[name] = seconds;
    onStage(`[${i}/${PIPELINE_STAGES.length}] ${name} done in ${seconds.toFixed(1)} s: ${line}`);
    return x;
  };

  const data = stage(
    'data',
    `MIT-BIH in ${opts.dataDir}, inter-patient split${label}`,
    () => ({ dir: opts.dataDir, ds1: [...DS1], ds2: [...DS2] }),
    (d) =>
      `DS1 ${d.ds1.length} records (training, patient-wise validation), DS2 ${d.ds2.length} records (test, read once per experiment after training)`,
  );

  const distill = stage(
    'distill',
    `ResNet teacher → student alone and distilled student${label}`,
    () => runPipelineStage(opts, 'distill'),
    (r) => pipelineStageSummary('distill', r),
  );

  const prune = stage(
    'prune',
    `lottery-ticket search over the ${settings.prune.model}${label}`,
    () => runPipelineStage(opts, 'prune'),
    (r) => pipelineStageSummary('prune', r),
  );

  const b = settings.binarize;
  const binarize = stage(
    'binarize',
    `binary network${b.variants.includes('float') ? ' and its float twin' : ''} on patient-wise 10-s fragments${label}`,
    () => runPipelineStage(opts, 'binarize'),
    (r) => pipelineStageSummary('binarize', r),
  );

  const served = stage(
    'serve',
    `DS2 record ${opts.serveRecord ?? settings.serve.record} from raw samples through @ecgnn/infer (distilled student)`,
    () => {
      const m = distill.models['student-kd'] ?? distill.models.teacher;
      if (!m) throw new Error('runPipeline: the distillation stage exported no model');
      const model = loadModel(new Uint8Array(readFileSync(m.export.file)));
      const s = serveRecord(model, opts.serveRecord ?? settings.serve.record, {
        dataDir: opts.dataDir,
        classes: model.metadata.classes,
        strip: { seconds: settings.serve.stripSeconds },
      });
      return { ...s, model: m.id, file: m.export.file };
    },
    (s) =>
      `${s.detectedBeats} beats detected, ${s.matched} of ${s.referenceBeats} reference beats matched within ${s.toleranceMs} ms, ${percent(s.accuracy)} of them labelled as annotated (${s.computeSeconds.toFixed(1)} s for ${(s.seconds / 60).toFixed(1)} min)`,
  );

  const models = pipelineModels(distill, prune, binarize);
  timings.total = (performance.now() - tStart) / 1000;
  return {
    mode,
    seed: opts.seed,
    provenance: opts.provenance,
    settings,
    data,
    stages,
    distill,
    prune,
    binarize,
    serve: served,
    models,
    timings,
  };
}
