/**
 * docs/results.json and docs/results.md: the machine-readable results rows (../shared/results-format.md) and
 * the tables generated from them. Experiment scripts merge their row by id; nobody edits either file by hand.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type ResultsRow, writeFileAtomic } from './report.js';

function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : (100 * v).toFixed(1);
}

/** Renders the rows as markdown tables (one summary table, one per-class table per row). */
export function resultsMarkdown(rows: readonly ResultsRow[]): string {
  const lines = [
    '# Results',
    '',
    'Generated from `docs/results.json` by the experiment scripts (`--record`); do not edit by hand.',
    'Fractions are shown as percentages. Protocols are stated per row: "inter-patient DS1/DS2" means trained on',
    'DS1 and tested on the unseen patients of DS2 (de Chazal 2004).',
    '',
    '| id | method | dataset | protocol | split | accuracy % | macro-F1 % | jκ | params | bytes | infer ms/sample | seed | commit | date |',
    '|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const jk = r.metrics.jk === null ? '–' : r.metrics.jk.toFixed(3);
    lines.push(
      `| ${r.id} | ${r.method} | ${r.dataset} | ${r.protocol} | ${r.split} | ${pct(r.metrics.accuracy)} | ${pct(r.metrics.macroF1)} | ${jk} | ${r.params} | ${r.bytes} | ${r.inferMsPerSample.toFixed(3)} | ${r.seed} | ${r.commit.slice(0, 10)} | ${r.date} |`,
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
    for (const [c, m] of Object.entries(r.metrics.perClass)) {
      lines.push(`| ${c} | ${pct(m.se)} | ${pct(m.ppv)} | ${pct(m.f1)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Merges `row` into the JSON array at `path` (replacing the row with the same id) and rewrites results.md. */
export async function recordResultsRow(path: string, row: ResultsRow): Promise<void> {
  let rows: ResultsRow[] = [];
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (!Array.isArray(parsed)) throw new Error(`${path}: expected a JSON array of result rows`);
    rows = parsed as ResultsRow[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const next = rows.filter((r) => r.id !== row.id);
  next.push(row);
  next.sort((a, b) => a.id.localeCompare(b.id));
  await writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`);
  await writeFileAtomic(join(dirname(path), 'results.md'), resultsMarkdown(next));
}
