/** The main job's report: JSON + markdown, and the docs/results.json row (../shared/results-format.md). */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type EcgClassifier, modelKind } from '@ecgnn/models';
import {
  argmaxRows,
  countsByName,
  type Dataset,
  type EpochRecord,
  type Evaluation,
  type InferAgreement,
  type InferLatency,
  type Metrics,
  metricsByGroup,
  metricsMarkdown,
  type ResultsRow,
  resultsMetrics,
  type ServeSummary,
  serveMarkdown,
  type TrainResult,
} from '@ecgnn/train';

/** A row of docs/results.json (see ../shared/results-format.md), as `@ecgnn/train` defines it. */
export type { ResultsRow };

/** Test results of one record. */
export interface RecordResult {
  record: string;
  beats: number;
  accuracy: number;
  /** Per-class true-beat count and sensitivity (null without beats of the class). */
  perClass: Record<string, { beats: number; se: number | null }>;
}

/** Everything the job reports. */
export interface Report {
  title: string;
  protocol: string;
  command: string;
  seed: number;
  commit: string;
  /** Whether the working tree had uncommitted changes when the job ran. */
  dirty: boolean | null;
  date: string;
  smoke: boolean;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    loadAverage1m: number;
    loadAverageAtStart1m: number;
  };
  data: {
    dir: string;
    downloaded: boolean;
    records: Record<string, string[]>;
    beats: Record<string, Record<string, number>>;
  };
  /** How the test set was sampled (all beats unless the smoke mode subsampled it). */
  testSampling: string;
  model: { description: string; params: number; file: string; bytes: number; plan: string[] };
  training: {
    epochs: number;
    batchesPerEpoch: number;
    batchSize: number;
    lr: number;
    weightDecay: number;
    classShares: Record<string, number>;
    bestEpoch: number;
    seconds: number;
    history: EpochRecord[];
  };
  validation: Metrics;
  test: Metrics;
  /** Test metrics of each DS2 record (which patients the errors come from). */
  testPerRecord: RecordResult[];
  export: {
    agreement: number;
    disagreements: number;
    maxAbsProbDiff: number;
    inferMsPerSample: number;
    inferTimingMethod: string;
  };
  /** The exported model served on one raw DS2 record by infer's streaming classifier. */
  served: ServeSummary;
  timings: Record<string, number>;
  resultsRow: ResultsRow;
}

/** The facts of a finished run that {@link buildReport} turns into a {@link Report}. */
export interface RunFacts {
  /** The command line (`pnpm baseline …`). */
  command: string;
  /** Run seed, smoke mode, epochs and batches per epoch. */
  options: { seed: number; smoke: boolean; epochs: number; batchesPerEpoch: number };
  /** Protocol of the split (as @ecgnn/data names it). */
  protocol: string;
  /** Data directory, whether this run downloaded MIT-BIH, and the records of each split. */
  data: { dir: string; downloaded: boolean; records: Record<string, string[]> };
  /** The beats of each split. */
  sets: { train: Dataset; validation: Dataset; test: Dataset };
  /** How the test set was sampled, in words. */
  testSampling: string;
  /** The trained model (kept weights). */
  model: EcgClassifier;
  /** Batch size, AdamW learning rate and weight decay, class shares of a batch (in class order). */
  recipe: { batchSize: number; lr: number; weightDecay: number; classShares: readonly number[] };
  /** The Trainer's result. */
  trained: TrainResult;
  /** Validation metrics of the kept weights. */
  validation: Metrics;
  /** The core model's evaluation on the test set. */
  test: Evaluation;
  /** The exported model file: path, size in bytes, infer's execution plan. */
  exported: { file: string; bytes: number; plan: string[] };
  /** The reloaded model against the core model on the test set. */
  agreement: InferAgreement;
  /** The reloaded model's batch-1 latency. */
  latency: InferLatency;
  /** The serving check. */
  served: ServeSummary;
  /** Wall times, seconds. */
  timings: Record<string, number>;
  /** Commit and whether the tree was dirty. */
  git: { commit: string; dirty: boolean | null };
  /** ISO date of the run. */
  date: string;
  /** 1-minute load average when the run began. */
  loadAtStart: number;
}

/** The report of a run, with its docs/results.json row. */
export function buildReport(f: RunFacts): Report {
  const { train, validation, test } = f.sets;
  const m = f.test.metrics as Metrics;
  const corePred = argmaxRows(f.test.predictions.probs, f.test.predictions.outputs);
  const perRecord = metricsByGroup(test.group, test.label, corePred, test.classes);
  const body: Omit<Report, 'resultsRow'> = {
    title: `ecgnn main job${f.options.smoke ? ' (smoke run — not a result)' : ''}: BeatNet, inter-patient DS1→DS2`,
    protocol: `${f.protocol}; test = DS2`,
    command: f.command,
    seed: f.options.seed,
    commit: f.git.commit,
    dirty: f.git.dirty,
    date: f.date,
    smoke: f.options.smoke,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverage1m: os.loadavg()[0],
      loadAverageAtStart1m: f.loadAtStart,
    },
    data: {
      ...f.data,
      beats: { train: countsByName(train), validation: countsByName(validation), test: countsByName(test) },
    },
    testSampling: f.testSampling,
    model: {
      description: `${modelKind(f.model.config).description}; config ${JSON.stringify(f.model.config)}`,
      params: f.model.numParameters(),
      ...f.exported,
    },
    training: {
      epochs: f.options.epochs,
      batchesPerEpoch: f.options.batchesPerEpoch,
      batchSize: f.recipe.batchSize,
      lr: f.recipe.lr,
      weightDecay: f.recipe.weightDecay,
      classShares: Object.fromEntries(train.classes.map((c, i) => [c, f.recipe.classShares[i]])),
      bestEpoch: f.trained.bestEpoch,
      seconds: f.trained.seconds,
      history: f.trained.history,
    },
    validation: f.validation,
    test: m,
    testPerRecord: perRecord.map(({ group, metrics: r }) => ({
      record: group,
      beats: r.count,
      accuracy: r.accuracy,
      perClass: Object.fromEntries(
        r.classes.map((c) => [c, { beats: r.perClass[c].support, se: r.perClass[c].se }]),
      ),
    })),
    export: {
      agreement: f.agreement.agreement,
      disagreements: f.agreement.disagreements,
      maxAbsProbDiff: f.agreement.maxAbsProbDiff,
      inferMsPerSample: f.latency.msPerItem,
      inferTimingMethod: f.latency.method,
    },
    served: f.served,
    timings: f.timings,
  };
  return { ...body, resultsRow: baselineResultsRow(body) };
}

/**
 * The docs/results.json row of a main-job report: id `baseline/beatnet-rr`, the test metrics with macro-F1 over
 * N, S, V, F like every mitdb row (`macroF1AllClasses`: over the classes with test items), Cohen's κ, size, batch-1 latency and provenance.
 */
function baselineResultsRow(r: Omit<Report, 'resultsRow'>): ResultsRow {
  return {
    id: 'baseline/beatnet-rr',
    method: 'baseline',
    dataset: 'mitdb',
    protocol: 'inter-patient DS1/DS2',
    split: r.smoke ? 'test (smoke subset)' : 'test',
    metrics: resultsMetrics(r.test),
    params: r.model.params,
    bytes: r.model.bytes,
    inferMsPerSample: r.export.inferMsPerSample,
    seed: r.seed,
    command: r.command,
    commit: r.commit,
    ...(r.dirty ? { commitDirty: true } : {}),
    date: r.date.slice(0, 10),
    macroF1AllClasses: r.test.macroF1,
    kappa: r.test.kappa,
  };
}

/** The commit of a checkout and whether its tree is dirty: @ecgnn/train's (the CLI records the same). */
export { gitInfo } from '@ecgnn/train';

/** Writes `data` to `path` atomically (temporary file in the same directory, then rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function f(x: number, digits = 1): string {
  return x.toFixed(digits);
}

function pct(x: number | null | undefined): string {
  return typeof x === 'number' ? f(100 * x) : '–';
}

/** The markdown report. */
export function reportMarkdown(r: Report): string {
  const lines = [
    `# ${r.title}`,
    '',
    `- Protocol: ${r.protocol}`,
    `- Command: \`${r.command}\``,
    `- Seed ${r.seed}, commit \`${r.commit}\`${r.dirty ? ' (working tree had uncommitted changes)' : ''}, ${r.date}`,
    `- Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}, load average (1 min) ` +
      `${f(r.machine.loadAverageAtStart1m)} at start, ${f(r.machine.loadAverage1m)} at the end`,
    `- Data: ${r.data.dir}${r.data.downloaded ? ' (downloaded by this run)' : ''}`,
    `- Test set: ${r.testSampling}`,
    '',
    '## Beats per split (AAMI classes)',
    '',
    '| split | records | N | S | V | F | Q |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, c] of Object.entries(r.data.beats)) {
    lines.push(
      `| ${name} | ${r.data.records[name].join(' ')} | ${c.N} | ${c.S} | ${c.V} | ${c.F} | ${c.Q} |`,
    );
  }
  lines.push(
    '',
    '## Model',
    '',
    `${r.model.description}. ${r.model.params} trainable parameters; exported file \`${r.model.file}\`, ` +
      `${r.model.bytes} bytes. Infer plan: ${r.model.plan.join(' → ')}.`,
    '',
    '## Training',
    '',
    `${r.training.epochs} epochs × ${r.training.batchesPerEpoch} batches of ${r.training.batchSize}, AdamW lr ` +
      `${r.training.lr} (cosine decay to lr/50), weight decay ${r.training.weightDecay}, cross-entropy, class shares per batch ${Object.entries(
        r.training.classShares,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}. Kept epoch ${r.training.bestEpoch} (best validation macro-F1 over N, S, V, F). ` +
      `${f(r.training.seconds)} s.`,
    '',
    '| epoch | train loss | val macro-F1 (N,S,V,F) % | val accuracy % | time s |',
    '| ---: | ---: | ---: | ---: | ---: |',
  );
  for (const h of r.training.history) {
    lines.push(
      `| ${h.epoch} | ${h.trainLoss.toFixed(4)} | ${pct(h.val?.subsetMacroF1)} | ${pct(h.val?.accuracy)} | ${f(h.seconds)} |`,
    );
  }
  lines.push(
    '',
    `## Test: inter-patient DS1→DS2`,
    '',
    metricsMarkdown(r.test),
    '',
    '### Per DS2 record (beats and sensitivity per class)',
    '',
    `| record | beats | accuracy % | ${r.test.classes.map((c) => `${c} beats | ${c} Se %`).join(' | ')} |`,
    `| --- | ---: | ---: | ${r.test.classes.map(() => '---: | ---:').join(' | ')} |`,
    ...r.testPerRecord.map(
      (x) =>
        `| ${x.record} | ${x.beats} | ${f(100 * x.accuracy)} | ${r.test.classes
          .map((c) => {
            const p = x.perClass[c];
            return `${p.beats} | ${p.se === null ? '–' : f(100 * p.se)}`;
          })
          .join(' | ')} |`,
    ),
    '',
    '## Validation (patient-wise, inside DS1; kept epoch)',
    '',
    metricsMarkdown(r.validation),
    '',
    '## Exported model (@ecgnn/infer)',
    '',
    `- Predictions agreeing with the core model (argmax): ${f(100 * r.export.agreement, 3)} % ` +
      `(${r.export.disagreements} of ${r.test.count} differ); max |Δ probability| ${r.export.maxAbsProbDiff.toExponential(2)}`,
    `- Inference, batch 1: ${r.export.inferMsPerSample.toFixed(4)} ms per beat (${r.export.inferTimingMethod})`,
    '',
    '## Timings (s)',
    '',
    ...Object.entries(r.timings).map(([k, v]) => `- ${k}: ${f(v)}`),
    '',
    '## docs/results.json row',
    '',
    '```json',
    JSON.stringify(r.resultsRow, null, 2),
    '```',
    '',
  );
  return lines.join('\n') + serveMarkdown(r.served);
}

/** Writes `<out>/report.json` and `<out>/report.md`, each atomically. */
export async function writeReport(out: string, r: Report): Promise<void> {
  await writeFileAtomic(join(out, 'report.json'), `${JSON.stringify(r, null, 2)}\n`);
  await writeFileAtomic(join(out, 'report.md'), reportMarkdown(r));
}
