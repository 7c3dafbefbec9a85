/**
 * Rows of docs/results.json (format: ../shared/results-format.md) and the markdown tables generated from
 * them. Experiment scripts merge their row by id; nobody edits either file by hand.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EcgnnError } from '@ecgnn/core';
import { writeFileAtomicSync } from './checkpoint.js';
import type { Metrics } from './metrics.js';

/** Per-class figures of a results row. */
export interface ResultsClassMetrics {
  /** Sensitivity. */
  se: number | null;
  /** Positive predictivity. */
  ppv: number | null;
  /** F1. */
  f1: number | null;
}

/** A row of docs/results.json. */
export interface ResultsRow {
  /** Stable id `<method>/<model>`, e.g. `distill/student-kd`. */
  id: string;
  /** distill | bnn | lth | meta | multiscale | baseline. */
  method: string;
  /** mitdb | mitbih17 | mitdb-fragments5 | synthetic. */
  dataset: string;
  /** E.g. "inter-patient DS1/DS2" or "intra-patient random (patients on both sides)". */
  protocol: string;
  /** The split the metrics are on. */
  split: string;
  /** Accuracy, macro-F1, jκ and per-class figures on `split` (fractions in [0, 1]). */
  metrics: {
    accuracy: number;
    macroF1: number;
    /** The classes `macroF1` averages over (e.g. N, S, V, F); absent in rows written before it was recorded. */
    macroF1Classes?: string[];
    jk: number | null;
    perClass: Record<string, ResultsClassMetrics>;
  };
  /** Trainable parameters (non-zero ones for pruned models, with `paramsDense`). */
  params: number;
  /** Bytes of the exported model file. */
  bytes: number;
  /** Median inference time per sample in @ecgnn/infer at batch 1, ms. */
  inferMsPerSample: number;
  /** Seed of the run. */
  seed: number;
  /** The command that reproduces the row from a clean clone. */
  command: string;
  /** Git commit the row was produced at. */
  commit: string;
  /** YYYY-MM-DD. */
  date: string;
  /** Method-specific fields (compression, rounds, ways, shots, ci95, …). */
  [extra: string]: unknown;
}

/**
 * The `metrics` of a results row from {@link Metrics}: accuracy, macro-F1 (over the subset classes, e.g.
 * N, S, V, F, when `macro` is 'subset' (default) and the subset has a value; else over all classes with
 * items), jκ and per-class Se, PPV, F1.
 */
export function resultsMetrics(m: Metrics, macro: 'subset' | 'all' = 'subset'): ResultsRow['metrics'] {
  const perClass: Record<string, ResultsClassMetrics> = {};
  for (const c of m.classes)
    perClass[c] = { se: m.perClass[c].se, ppv: m.perClass[c].ppv, f1: m.perClass[c].f1 };
  return {
    accuracy: m.accuracy,
    ...(macro === 'subset' && m.subsetMacroF1 !== null
      ? { macroF1: m.subsetMacroF1, macroF1Classes: [...m.subsetClasses] }
      : { macroF1: m.macroF1, macroF1Classes: m.classes.filter((c) => m.perClass[c].support > 0) }),
    jk: m.jk,
    perClass,
  };
}

/**
 * The classes a row's macro-F1 averages over: `metrics.macroF1Classes`, or for rows written before that field,
 * the candidate set (N, S, V, F, or every class with an F1) whose mean per-class F1 equals `macroF1`; '?' if none.
 */
function macroF1Over(r: ResultsRow): string {
  if (r.metrics.macroF1Classes !== undefined) return r.metrics.macroF1Classes.join(' ');
  // Few-shot rows (method `meta`): macro-F1 per task over that task's M classes, averaged over the tasks.
  if (typeof r.ways === 'number') return `each task's ${r.ways} classes`;
  const f1 = (c: string): number | null => r.metrics.perClass[c]?.f1 ?? null;
  const candidates = [
    ['N', 'S', 'V', 'F'].filter((c) => f1(c) !== null),
    Object.keys(r.metrics.perClass).filter((c) => f1(c) !== null),
  ];
  for (const set of candidates) {
    const mean = set.reduce((a, c) => a + (f1(c) as number), 0) / set.length;
    if (set.length > 0 && Math.abs(mean - r.metrics.macroF1) < 1e-9) return set.join(' ');
  }
  return '?';
}

function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : (100 * v).toFixed(1);
}

/** The rows as markdown: one summary table, then a per-class table per row. */
export function resultsMarkdown(rows: readonly ResultsRow[]): string {
  const lines = [
    '# Results',
    '',
    'Generated from `docs/results.json` by the experiment scripts (`--record`); do not edit by hand.',
    'Fractions are shown as percentages. Protocols are stated per row: "inter-patient DS1/DS2" means trained on',
    'DS1 and tested on the unseen patients of DS2 (de Chazal 2004).',
    '',
    '| id | method | dataset | protocol | split | accuracy % | macro-F1 % | F1 over | jκ | params | bytes | infer ms/sample | seed | commit | date |',
    '|---|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const jk = r.metrics.jk === null ? '–' : r.metrics.jk.toFixed(3);
    lines.push(
      `| ${r.id} | ${r.method} | ${r.dataset} | ${r.protocol} | ${r.split} | ${pct(r.metrics.accuracy)} | ${pct(r.metrics.macroF1)} | ${macroF1Over(r)} | ${jk} | ${r.params} | ${r.bytes} | ${r.inferMsPerSample.toFixed(3)} | ${r.seed} | ${r.commit.slice(0, 10)} | ${r.date} |`,
    );
  }
  for (const r of rows) {
    lines.push(
      '',
      `## ${r.id}`,
      '',
      `Command: \`${r.command}\``,
      '',
      '| class | Se % | PPV % | F1 % |',
      '|---|---:|---:|---:|',
    );
    for (const [c, m] of Object.entries(r.metrics.perClass))
      lines.push(`| ${c} | ${pct(m.se)} | ${pct(m.ppv)} | ${pct(m.f1)} |`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Merges `row` into the JSON array at `path` (replacing the row with the same id, rows sorted by id) and
 * rewrites `results.md` beside it; both written atomically.
 */
export function recordResultsRow(path: string, row: ResultsRow): void {
  let rows: ResultsRow[] = [];
  if (existsSync(path)) {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!Array.isArray(parsed)) throw new EcgnnError(`${path}: expected a JSON array of result rows`);
    rows = parsed as ResultsRow[];
  }
  const next = rows.filter((r) => r.id !== row.id);
  next.push(row);
  next.sort((a, b) => a.id.localeCompare(b.id));
  const enc = new TextEncoder();
  writeFileAtomicSync(path, enc.encode(`${JSON.stringify(next, null, 2)}\n`));
  writeFileAtomicSync(join(dirname(path), 'results.md'), enc.encode(resultsMarkdown(next)));
}
