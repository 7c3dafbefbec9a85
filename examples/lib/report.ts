/** The main job's report: JSON + markdown, and the docs/results.json row (../shared/results-format.md). */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
/** A row of docs/results.json (see ../shared/results-format.md), as `@ecgnn/train` defines it. */
import type { ResultsRow } from '@ecgnn/train';
import { type Metrics, metricsMarkdown } from './metrics.js';
import type { EpochRecord } from './train.js';

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
  timings: Record<string, number>;
  resultsRow: ResultsRow;
}

/** `git rev-parse HEAD` of the repository holding `cwd`, and whether its tree is dirty (null when unknown). */
export function gitInfo(cwd: string): { commit: string; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    let dirty: boolean | null = null;
    try {
      dirty =
        execFileSync('git', ['status', '--porcelain'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
          .toString()
          .trim() !== '';
    } catch {
      dirty = null;
    }
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: null };
  }
}

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
      `| ${h.epoch} | ${h.loss.toFixed(4)} | ${f(100 * h.valMacroF1)} | ${f(100 * h.valAccuracy)} | ${f(h.seconds)} |`,
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
  return lines.join('\n');
}
