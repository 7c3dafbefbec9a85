import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { metricsFromConfusion, type ResultsRow, recordResultsRow, resultsMetrics } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ecgnn-results-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const m = metricsFromConfusion(
  [
    [8, 1, 1, 0],
    [1, 3, 0, 0],
    [0, 0, 5, 0],
    [0, 0, 1, 0],
  ],
  ['N', 'S', 'V', 'Q'],
);

function row(id: string): ResultsRow {
  return {
    id,
    method: 'distill',
    dataset: 'synthetic',
    protocol: 'test fixture',
    split: 'test',
    metrics: resultsMetrics(m),
    params: 10,
    bytes: 100,
    inferMsPerSample: 0.01,
    seed: 0,
    command: 'none',
    commit: '0123456789abcdef',
    date: '2026-01-01',
  };
}

describe('results rows', () => {
  it('takes accuracy, the subset macro-F1, jκ and per-class Se/PPV/F1 from the metrics', () => {
    const r = resultsMetrics(m);
    expect(r.accuracy).toBeCloseTo(16 / 20, 12);
    // N, S, V (Q is outside the default subset N, S, V, F).
    expect(r.macroF1).toBeCloseTo((16 / 19 + 6 / 8 + 10 / 12) / 3, 12);
    expect(r.macroF1Classes).toEqual(m.subsetClasses);
    expect(r.macroF1Classes).not.toContain('Q');
    const all = resultsMetrics(m, 'all');
    expect(all.macroF1).toBeCloseTo((16 / 19 + 6 / 8 + 10 / 12 + 0) / 4, 12);
    expect(all.macroF1Classes).toHaveLength(4);
    expect(all.macroF1Classes).toContain('Q');
    expect(r.jk).toBe(m.jk);
    expect(r.perClass.S).toEqual({ se: 0.75, ppv: 0.75, f1: 0.75 });
  });

  it('merges rows by id, sorted, and rewrites results.md', () => {
    const path = join(dir, 'results.json');
    const old = row('z/old');
    delete old.metrics.macroF1Classes;
    writeFileSync(path, JSON.stringify([old, row('distill/teacher')]));
    const updated = { ...row('distill/teacher'), seed: 5 };
    recordResultsRow(path, updated);
    recordResultsRow(path, row('distill/student-kd'));
    const rows = JSON.parse(readFileSync(path, 'utf8')) as ResultsRow[];
    expect(rows.map((r) => r.id)).toEqual(['distill/student-kd', 'distill/teacher', 'z/old']);
    expect(rows[1].seed).toBe(5);
    const md = readFileSync(join(dir, 'results.md'), 'utf8');
    expect(md).toContain('| distill/teacher | distill | synthetic | test fixture | test | 80.0 |');
    // The classes of each macro-F1 are shown; z/old, written without them, gets them from its per-class F1.
    expect(md).toMatch(/\| distill\/teacher \|[^\n]*\| 80\.8 \| N S V \|/);
    expect(md).toMatch(/\| z\/old \|[^\n]*\| 80\.8 \| N S V \|/);
    expect(md).toContain('## distill/student-kd');
    writeFileSync(path, '{}');
    expect(() => recordResultsRow(path, row('x'))).toThrow(/expected a JSON array/);
  });
});
