import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { ResultsRow } from './report.js';
import { recordRows } from './script.js';

function row(id: string, accuracy: number): ResultsRow {
  return {
    id,
    method: 'baseline',
    dataset: 'mitdb',
    protocol: 'inter-patient DS1/DS2',
    split: 'test',
    metrics: { accuracy, macroF1: 0.5, jk: 0.4, perClass: { S: { se: 0.2, ppv: 0.25, f1: 0.22 } } },
    params: 10,
    bytes: 100,
    inferMsPerSample: 0.1,
    seed: 0,
    command: 'pnpm start',
    commit: 'abcdef0123456789',
    date: '2026-11-23',
  };
}

test('recordRows merges rows by id, regenerates results.md and says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ecgnn-results-'));
  const path = join(dir, 'results.json');
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  recordRows(path, [row('b/x', 0.5), row('a/y', 0.6)], log);
  recordRows(path, [row('b/x', 0.7)], log);
  expect(lines).toEqual([
    `results: b/x, a/y merged into ${path} (and results.md beside it)`,
    `results: b/x merged into ${path} (and results.md beside it)`,
  ]);
  const rows = JSON.parse(await readFile(path, 'utf8')) as ResultsRow[];
  expect(rows.map((r) => [r.id, r.metrics.accuracy])).toEqual([
    ['a/y', 0.6],
    ['b/x', 0.7],
  ]);
  const md = await readFile(join(dir, 'results.md'), 'utf8');
  expect(md).toContain('| b/x | baseline | mitdb | inter-patient DS1/DS2 | test | 70.0 |');
  expect(md).toContain('| S | 20.0 | 25.0 | 22.0 |');
});
