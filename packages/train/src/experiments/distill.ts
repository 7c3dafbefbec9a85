/**
 * The distillation experiment (method 1, patent CN110558972A) end to end:
 * 1. data by protocol (inter-patient: DS1 with a patient-wise validation split, DS2 read once at the end);
 * 2. the teacher (ResNet of @ecgnn/models) trained with cross-entropy and SGD, optionally on hard-example batches;
 * 3. its soft labels z for every training item, computed once and cached;
 * 4. a compact student trained alone (cross-entropy) and one distilled with Loss_G = CE(y, p) + CE(z, p);
 * 5. each model exported with @ecgnn/export, reloaded in @ecgnn/infer, checked against core and timed;
 * 6. test metrics and the docs/results.json rows.
 * Every choice (epochs, and with `search` learning rates and the temperature) is made on validation
 * macro-F1 (N, S, V, F); the test split is read after all three models are trained.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ValueError } from '@ecgnn/core';
import { layerCount, type ModelConfig, parameterCount } from '@ecgnn/models';
import { distillationObjective, teacherSoftLabels } from '../distill.js';
import { evaluate } from '../evaluate.js';
import { formatMetrics } from '../format.js';
import { type GroupMetrics, metricsByGroup } from '../group-metrics.js';
import { argmaxRows, type Metrics } from '../metrics.js';
import type { DatasetPreprocessing } from '../preprocess.js';
import { type ResultsRow, resultsMetrics } from '../results.js';
import type { TrainResult } from '../trainer-options.js';
import {
  type BeatModelExport,
  beatIO,
  beatProvenance,
  exportBeatModel,
  majorityBaseline,
} from './beat-export.js';
import {
  type DistillExperimentOptions,
  type DistillSettings,
  describeSampler,
  distillSettings,
  type StageSettings,
  samplerSpec,
} from './distill-config.js';
import { countsByName, loadDistillData } from './distill-data.js';
import {
  SELECTION_METRIC_NAME,
  type StageContext,
  type StageOutcome,
  type StageSearchParams,
  type StageSpec,
  type StageTrial,
  searchStage,
  trainStage,
} from './stage.js';

/** The three models of the experiment. */
export const DISTILL_MODELS = ['teacher', 'student-alone', 'student-kd'] as const;
/** Name of one of {@link DISTILL_MODELS}. */
export type DistillModelName = (typeof DISTILL_MODELS)[number];

/** Everything reported about one model. */
export interface DistillModelReport {
  /** Results-row id. */
  id: string;
  /** Model config (complete). */
  config: ModelConfig;
  /** Trainable parameters. */
  params: number;
  /** Weight layers (convolutions and linear layers). */
  layers: number;
  /** The batches it was trained on. */
  sampler: string;
  /** SGD and stopping settings (with the searched learning rate, if any). */
  optimizer: StageSettings;
  /** Distillation loss settings (distilled student only). */
  distillation: { temperature: number; form: 'patent' | 'hinton'; alpha: number } | null;
  /** Search trials (null without `search`). */
  search: StageTrial[] | null;
  /** How the kept weights were chosen, in words. */
  selectedBy: string;
  /** Training: history, best epoch, stop reason, time, memory. */
  training: {
    result: TrainResult;
    epochsRun: number;
    secondsPerEpoch: number | null;
    rssMB: number[];
    reused: boolean;
  };
  /** Validation metrics of the kept weights. */
  validation: Metrics;
  /** Test metrics (core model). */
  test: Metrics;
  /** Test metrics of each test record (patient), in the order of the records. */
  perRecord: GroupMetrics[];
  /** The exported model in @ecgnn/infer. */
  export: BeatModelExport;
}

/** The report of a run. */
export interface DistillReport {
  /** Smoke run (not a result). */
  smoke: boolean;
  /** Protocol label of the rows. */
  protocol: string;
  /** The split in words (records, seeds). */
  split: string;
  /** Run seed. */
  seed: number;
  /** Command, commit, date. */
  provenance: DistillExperimentOptions['provenance'];
  /** The fixed settings used. */
  settings: DistillSettings;
  /** Records and class counts per split. */
  data: {
    records: { train: string[]; validation: string[]; test: string[] };
    counts: Record<'train' | 'validation' | 'test', Record<string, number>>;
  };
  /** The teacher's soft labels: cache file and seconds to get them (null with `teacherOnly`). */
  softLabels: { file: string; seconds: number } | null;
  /** Predicting the most frequent training class for every test item. */
  baseline: { className: string; metrics: Metrics };
  /** Per model (the teacher alone with `teacherOnly`). */
  models: Partial<Record<DistillModelName, DistillModelReport>>;
  /** Macro-F1 gap between the student alone and the teacher closed by distillation (null if no gap). */
  gapClosed: number | null;
  /** The docs/results.json rows. */
  rows: ResultsRow[];
  /** Wall times (s). */
  timings: Record<string, number>;
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

function fmt(x: number | null | undefined, digits = 4): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–';
}

/** What a stage's early stopping watches, in words. */
function plateauOf(stage: StageSettings | undefined): string {
  return stage?.stopOn === 'selection'
    ? `plateau of the ${SELECTION_METRIC_NAME}`
    : 'validation-loss plateau';
}

/** Checks the method's requirement on the student: fewer layers AND fewer parameters than the teacher. */
function checkCompact(teacher: ModelConfig, student: ModelConfig): void {
  const [pt, ps] = [parameterCount(teacher), parameterCount(student)];
  const [lt, ls] = [layerCount(teacher), layerCount(student)];
  if (!(ps < pt && ls < lt)) {
    throw new ValueError(
      `distillation: the student must have fewer layers and fewer parameters than the teacher (student ${ls} layers, ${ps} parameters; teacher ${lt} layers, ${pt} parameters)`,
    );
  }
}

/** Trains one model, by a grid search on validation when `space` is given. */
function runStage(
  spec: StageSpec,
  ctx: StageContext,
  space: { lr: number[]; temperature?: number[] } | null,
  make: (p: StageSearchParams, dir: string) => StageSpec,
): { outcome: StageOutcome; spec: StageSpec; trials: StageTrial[] | null } {
  ctx.log(
    `\n${spec.name}: ${spec.config.kind}, ${parameterCount(spec.config)} parameters, ${layerCount(spec.config)} weight layers; ${describeSampler(spec.sampler, ctx.settings.batchSize)}; SGD lr ${spec.stage.lr} momentum ${spec.stage.momentum} weight decay ${spec.stage.weightDecay}; at most ${spec.stage.epochs} epochs`,
  );
  if (space === null) return { outcome: trainStage(spec, ctx), spec, trials: null };
  const { best, params, trials } = searchStage(spec, space, make, ctx);
  ctx.log(`${spec.name}: search chose ${JSON.stringify(params)} by ${SELECTION_METRIC_NAME}`);
  return { outcome: best, spec: make(params, spec.dir), trials };
}

/** Runs the experiment (see the module comment) and returns its report; files go to `opts.outDir`. */
export function runDistillExperiment(opts: DistillExperimentOptions): DistillReport {
  const log = opts.log ?? ((line: string) => console.log(line));
  const smoke = opts.smoke ?? false;
  const protocol = opts.protocol ?? 'inter-patient';
  const settings = distillSettings(opts);
  const timings: Record<string, number> = {};
  const tStart = performance.now();
  mkdirSync(opts.outDir, { recursive: true });

  // 1. Data: training and validation now; the test split only after training.
  let t = performance.now();
  const data = loadDistillData(protocol, settings, { dataDir: opts.dataDir, smoke });
  const { train, validation } = data;
  timings.loadTrainValidation = seconds(t);
  log(`${data.protocol}${smoke ? ' (smoke run: not a result)' : ''}: ${data.splitDescription}`);
  log(
    `training ${train.count} beats ${JSON.stringify(countsByName(train))} from ${data.records.train.join(' ')}`,
  );
  log(
    `validation ${validation.count} beats ${JSON.stringify(countsByName(validation))} from ${data.records.validation.join(' ')}`,
  );
  const preprocessing = train.preprocessing as DatasetPreprocessing;
  const io = beatIO(train);
  const teacherConfig: ModelConfig = { kind: 'resnet-teacher', ...io, ...settings.teacher };
  const studentConfig: ModelConfig = { kind: 'student', ...io, ...settings.student };
  checkCompact(teacherConfig, studentConfig);

  const ctx: StageContext = {
    train,
    validation,
    settings,
    resume: opts.resume ?? false,
    progress: opts.progress ?? 'auto',
    log,
  };
  const search = opts.search ?? false;
  const lrGrid = (lr: number): number[] =>
    settings.searchLrFactors.map((f) => Number((lr * f).toPrecision(6)));
  const studentSampler = samplerSpec(opts.sampler ?? 'weighted', train.count, settings);
  const teacherSamplerName = opts.teacherSampler ?? opts.sampler ?? 'weighted';

  // 2. Teacher: cross-entropy, SGD, hard-example or plain batches.
  t = performance.now();
  const teacherSpec: StageSpec = {
    name: 'teacher',
    config: teacherConfig,
    stage: settings.teacherStage,
    sampler: samplerSpec(teacherSamplerName, train.count, settings, opts.hardRefresh),
    seed: opts.seed,
    dir: join(opts.outDir, 'teacher'),
  };
  const teacher = runStage(
    teacherSpec,
    ctx,
    search ? { lr: lrGrid(settings.teacherStage.lr) } : null,
    (p, dir) => ({ ...teacherSpec, stage: { ...teacherSpec.stage, lr: p.lr }, dir }),
  );
  timings.teacher = seconds(t);

  const stages: Partial<Record<DistillModelName, ReturnType<typeof runStage>>> = { teacher };
  let softLabels: DistillReport['softLabels'] = null;
  let kdChosen: { temperature: number; form: 'patent' | 'hinton'; alpha: number } | null = null;
  if (!(opts.teacherOnly ?? false)) {
    // 3. Soft labels of every training item, once (cached by teacher weights and data fingerprint).
    t = performance.now();
    const softFile = join(opts.outDir, 'teacher-soft-labels.bin');
    const soft = teacherSoftLabels(teacher.outcome.model, train, { cacheFile: softFile });
    const softSeconds = seconds(t);
    softLabels = { file: softFile, seconds: softSeconds };
    log(`\nteacher soft labels z of ${soft.count} training items: ${softFile} (${softSeconds.toFixed(1)} s)`);

    // 4. Students: the same architecture, initial weights and batches; cross-entropy alone, or Loss_G.
    const studentSeed = opts.seed + 1;
    t = performance.now();
    const aloneSpec: StageSpec = {
      name: 'student-alone',
      config: studentConfig,
      stage: settings.studentStage,
      sampler: studentSampler,
      seed: studentSeed,
      dir: join(opts.outDir, 'student-alone'),
    };
    const alone = runStage(
      aloneSpec,
      ctx,
      search ? { lr: lrGrid(settings.studentStage.lr) } : null,
      (p, dir) => ({ ...aloneSpec, stage: { ...aloneSpec.stage, lr: p.lr }, dir }),
    );
    timings.studentAlone = seconds(t);
    t = performance.now();
    const kdOptions = {
      temperature: opts.temperature ?? 1,
      form: opts.form ?? ('patent' as const),
      alpha: opts.alpha ?? 0.5,
    };
    const kdSpec = (p: StageSearchParams, dir: string): StageSpec => {
      const d = { ...kdOptions, temperature: p.temperature ?? kdOptions.temperature };
      return {
        name: 'student-kd',
        config: studentConfig,
        stage: { ...settings.studentStage, lr: p.lr },
        sampler: studentSampler,
        seed: studentSeed,
        loss: distillationObjective(soft, d),
        dir,
        describe: { distillation: d },
      };
    };
    const kdBase = kdSpec({ lr: settings.studentStage.lr }, join(opts.outDir, 'student-kd'));
    const kd = runStage(
      kdBase,
      ctx,
      search ? { lr: lrGrid(settings.studentStage.lr), temperature: [...settings.searchTemperatures] } : null,
      kdSpec,
    );
    kdChosen = kd.spec.describe?.distillation as typeof kdOptions;
    timings.studentKd = seconds(t);
    stages['student-alone'] = alone;
    stages['student-kd'] = kd;
  }

  const names = DISTILL_MODELS.filter((n) => stages[n] !== undefined);
  for (const name of names) {
    const { outcome } = stages[name] as ReturnType<typeof runStage>;
    const r = outcome.result;
    log(
      `${name}: kept epoch ${r.bestEpoch} of ${r.history.length} (${r.stopReason}${r.stopReason === 'early-stopping' ? `: ${plateauOf(stages[name]?.spec.stage)}` : ''}), chosen by ${SELECTION_METRIC_NAME} = ${fmt(r.bestValue)} on ${validation.count} validation beats`,
    );
  }

  // 5. The test split, read once, and every model evaluated, exported, reloaded in infer and timed.
  t = performance.now();
  const test = data.loadTest();
  timings.loadTest = seconds(t);
  log(
    `\ntest ${test.count} beats ${JSON.stringify(countsByName(test))} from ${data.records.test.join(' ')} (${protocol === 'inter-patient' ? 'read once, now' : 'held out by the split, evaluated once, now'})`,
  );
  const baseline = majorityBaseline(train, test);
  log(
    `majority-class baseline (always ${baseline.className}): accuracy ${fmt(baseline.metrics.accuracy)}, macro-F1 (N,S,V,F) ${fmt(baseline.metrics.subsetMacroF1)}`,
  );
  mkdirSync(join(opts.outDir, 'models'), { recursive: true });
  // A teacher-only run is a sampler comparison: its row id names the teacher's sampler.
  const variant = opts.teacherOnly ? `-${teacherSamplerName}` : '';
  const suffix = `${variant}${protocol === 'intra-patient' ? '-intra' : ''}`;
  const models: Partial<Record<DistillModelName, DistillModelReport>> = {};
  for (const name of names) {
    const { outcome, spec, trials } = stages[name] as ReturnType<typeof runStage>;
    const ev = evaluate(outcome.model, test);
    const m = ev.metrics as Metrics;
    const exported = exportBeatModel(outcome.model, test, ev, {
      file: join(opts.outDir, 'models', `${name}.ecgnn`),
      preprocessing,
      name: `ecgnn-distill-${name}${suffix}`,
      provenance: beatProvenance('distill', data, spec.seed, opts.provenance, m),
      latency: settings.latency,
    });
    const r = outcome.result;
    const chosen = trials === null ? '' : ` (search over ${trials.length} trials)`;
    models[name] = {
      id: `distill/${name}${suffix}`,
      config: outcome.model.config,
      params: outcome.model.numParameters(),
      layers: layerCount(spec.config),
      sampler: describeSampler(spec.sampler, settings.batchSize),
      optimizer: spec.stage,
      distillation: name === 'student-kd' ? kdChosen : null,
      search: trials,
      selectedBy: `epoch ${r.bestEpoch} by ${SELECTION_METRIC_NAME}${chosen}; early stopping on a ${plateauOf(spec.stage)} (patience ${spec.stage.patience})`,
      training: {
        result: r,
        epochsRun: r.history.length,
        secondsPerEpoch: r.history.length > 0 ? r.seconds / r.history.length : null,
        rssMB: outcome.rssMB,
        reused: outcome.reused,
      },
      validation: outcome.validation.metrics as Metrics,
      test: m,
      perRecord: metricsByGroup(
        test.group,
        test.label,
        argmaxRows(ev.predictions.probs, ev.predictions.outputs),
        test.classes,
      ),
      export: exported,
    };
    log(`\n${name} on the test split:\n${formatMetrics(m)}`);
    log(
      `${name}: exported ${exported.file} (${exported.bytes} bytes); @ecgnn/infer agrees with core on ${(100 * exported.agreement).toFixed(3)} % (max |Δp| ${exported.maxAbsProbDiff.toExponential(2)}); ${exported.inferMsPerSample.toFixed(4)} ms per beat at batch 1`,
    );
  }
  timings.evaluateExport = seconds(t);

  const f1 = (n: DistillModelName): number | null => models[n]?.test.subsetMacroF1 ?? null;
  const [ft, fa, fk] = [f1('teacher'), f1('student-alone'), f1('student-kd')];
  const gapClosed = ft !== null && fa !== null && fk !== null && ft > fa ? (fk - fa) / (ft - fa) : null;
  log(
    `\nmacro-F1 (N,S,V,F): teacher ${fmt(ft)}, student alone ${fmt(fa)}, distilled student ${fmt(fk)}; gap closed by distillation ${gapClosed === null ? '– (no gap)' : `${(100 * gapClosed).toFixed(1)} %`}`,
  );
  const rows = names.map((name) =>
    resultsRow(models[name] as DistillModelReport, name, data.protocol, opts, smoke, gapClosed),
  );
  timings.total = seconds(tStart);
  return {
    smoke,
    protocol: data.protocol,
    split: data.splitDescription,
    seed: opts.seed,
    provenance: opts.provenance,
    settings,
    data: {
      records: data.records,
      counts: { train: countsByName(train), validation: countsByName(validation), test: countsByName(test) },
    },
    softLabels,
    baseline,
    models,
    gapClosed,
    rows,
    timings,
  };
}

/** The docs/results.json row of one model (../shared/results-format.md). */
function resultsRow(
  m: DistillModelReport,
  name: DistillModelName,
  protocol: string,
  opts: DistillExperimentOptions,
  smoke: boolean,
  gapClosed: number | null,
): ResultsRow {
  const { command, commit, date, commitDirty } = opts.provenance;
  const rss = m.training.rssMB;
  return {
    id: m.id,
    method: 'distill',
    dataset: 'mitdb',
    protocol,
    split: smoke ? 'test (smoke subset)' : 'test',
    metrics: resultsMetrics(m.test),
    params: m.params,
    bytes: m.export.bytes,
    inferMsPerSample: m.export.inferMsPerSample,
    seed: opts.seed,
    command,
    commit,
    date: date.slice(0, 10),
    ...(commitDirty ? { commitDirty: true } : {}),
    ...(smoke ? { smoke: true } : {}),
    model: m.config.kind,
    layers: m.layers,
    kappa: m.test.kappa,
    sampler: m.sampler,
    bestEpoch: m.training.result.bestEpoch,
    epochsRun: m.training.epochsRun,
    selectedBy: m.selectedBy,
    inferAgreement: m.export.agreement,
    secondsPerEpoch: m.training.secondsPerEpoch,
    rssMBFirstEpoch: rss.length > 0 ? Math.round(rss[0]) : null,
    rssMBLastEpoch: rss.length > 0 ? Math.round(rss[rss.length - 1]) : null,
    ...(name === 'student-kd' ? { distillation: m.distillation, gapClosed } : {}),
  };
}
