// `ecgnn pipeline`: usage errors without data; with MIT-BIH (run when present, failing when CI=true and absent)
// the whole pipeline end to end at smoke size — every stage, every model exported and checked in @ecgnn/infer,
// the served record, report.json and the self-contained report.html.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PipelineReport, pipelineResultsRows } from '@ecgnn/train';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { cli, runDataTests } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-pipeline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ecgnn pipeline: usage', () => {
  it('documents its sizes and options', async () => {
    const r = await cli('pipeline', '--help');
    expect(r.code).toBe(EXIT_OK);
    for (const flag of [
      '--quick',
      '--full',
      '--smoke',
      '--seed',
      '--data',
      '--out',
      '--no-download',
      '--json',
      '--resume',
    ])
      expect(r.out).toContain(flag);
  });

  it('refuses two sizes at once and a record outside DS2 (exit 2)', async () => {
    const both = await cli('pipeline', '--full', '--smoke', '--out', join(tmp, 'x'));
    expect(both.code).toBe(EXIT_USAGE);
    expect(both.err).toMatch(/cannot be used with/);
    const ds1 = await cli('pipeline', '--smoke', '--serve-record', '101', '--out', join(tmp, 'y'));
    expect(ds1.code).toBe(EXIT_USAGE);
    expect(ds1.err).toContain('--serve-record must be a DS2 record');
    expect(existsSync(join(tmp, 'y'))).toBe(false);
  });

  it('--stage takes only a training stage and writes no rows (exit 2)', async () => {
    const bad = await cli('pipeline', '--smoke', '--stage', 'serve', '--out', join(tmp, 's1'));
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.err).toMatch(/Allowed choices are distill, prune, binarize/);
    const rows = join(tmp, 'stage-rows.json');
    const rec = await cli(
      'pipeline',
      '--full',
      '--stage',
      'prune',
      '--record',
      rows,
      '--out',
      join(tmp, 's2'),
    );
    expect(rec.code).toBe(EXIT_USAGE);
    expect(rec.err).toContain('--stage runs one stage and writes no rows');
    expect(existsSync(join(tmp, 's2'))).toBe(false);
    expect(existsSync(rows)).toBe(false);
  });

  it('records results rows only from a full run (exit 2 otherwise, before any work)', async () => {
    const r = await cli('pipeline', '--smoke', '--record', join(tmp, 'rows.json'), '--out', join(tmp, 'z'));
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain('--record needs --full: smoke figures are not results');
    expect(existsSync(join(tmp, 'z'))).toBe(false);
    expect(existsSync(join(tmp, 'rows.json'))).toBe(false);
  });
});

describe.runIf(runDataTests)('ecgnn pipeline --smoke on MIT-BIH', () => {
  it('runs every stage, checks every model in @ecgnn/infer and writes the reports', async () => {
    const out = join(tmp, 'smoke');
    const r = await cli('pipeline', '--smoke', '--seed', '3', '--out', out, '--no-download');
    expect(r.code, r.err).toBe(EXIT_OK);
    // One start and one end line per stage, in order, then the report.
    const starts = [...r.err.matchAll(/^\[(\d)\/6\] (\w+): /gm)].map((m) => m[2]);
    const ends = [...r.err.matchAll(/^\[(\d)\/6\] (\w+) done in [\d.]+ s: /gm)].map((m) => m[2]);
    expect(starts).toEqual(['data', 'distill', 'prune', 'binarize', 'serve', 'report']);
    expect(ends).toEqual(starts.slice(0, 5));
    expect(r.err).toMatch(/\[6\/6\] report: .*report\.html/);
    expect(r.out).toContain('smoke run: reduced data and epochs — these figures are not results');

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as PipelineReport;
    expect(report.mode).toBe('smoke');
    expect(report.seed).toBe(3);
    const names = report.models.filter((m) => !m.round).map((m) => m.name);
    expect(names.slice(0, 3)).toEqual(['teacher', 'student-alone', 'student-kd']);
    expect(names[3]).toMatch(/^ticket \(/);
    expect(names[4]).toBe('binary');
    for (const m of report.models.filter((x) => !x.round)) {
      // Each exported file, reloaded in @ecgnn/infer, gives core's class on (nearly) every test item.
      expect(m.infer?.items, m.name).toBeGreaterThan(0);
      expect((m.infer?.disagreements ?? 1) / (m.infer?.items ?? 1), m.name).toBeLessThanOrEqual(0.01);
      expect(m.bytes, m.name).toBeGreaterThan(0);
      expect(m.validationMacroF1, m.name).toBeGreaterThanOrEqual(0);
    }
    // The ticket has fewer non-zero parameters than the dense student.
    const dense = report.models.find((m) => m.round && m.name.endsWith('dense'));
    const ticket = report.models.find((m) => m.name.startsWith('ticket'));
    expect(ticket?.params).toBeLessThan(dense?.params ?? 0);
    // Record 200 served end to end from raw samples: nearly every reference beat found, a strip kept.
    const s = report.serve;
    expect(s.record).toBe('200');
    expect(s.matched / s.referenceBeats).toBeGreaterThan(0.97);
    expect(s.strip?.samples).toHaveLength(8 * 360);
    expect(s.strip?.reference.length).toBeGreaterThan(5);
    expect(existsSync(s.file)).toBe(true);

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('ecgnn pipeline report — smoke run');
    expect(html).not.toMatch(/https?:|<script/i);
    expect((html.match(/<svg /g) ?? []).length).toBe(7);
    expect(readFileSync(join(out, 'pipeline.log'), 'utf8')).toMatch(/teacher/);

    // Rows: none from a smoke run; a full run's are its three experiments' rows, in stage order.
    expect(() => pipelineResultsRows(report)).toThrow(/smoke pipeline run has no results rows/);
    const ids = pipelineResultsRows({ ...report, mode: 'full' }).map((row) => row.id);
    expect(ids.slice(0, 3)).toEqual(['distill/teacher', 'distill/student-alone', 'distill/student-kd']);
    expect(ids[3]).toMatch(/^lth\/student/);
    expect(ids.slice(4).every((id) => id.startsWith('bnn/binary'))).toBe(true);

    // One training stage on its own (--stage) gives the figures it has inside the whole run: same seed, same
    // settings, its own folder and log, no report.
    const alone = join(tmp, 'stage-binarize');
    const st = await cli(
      'pipeline',
      '--smoke',
      '--seed',
      '3',
      '--stage',
      'binarize',
      '--out',
      alone,
      '--no-download',
      '--json',
    );
    expect(st.code, st.err).toBe(EXIT_OK);
    const summary = JSON.parse(st.out) as { stage: string; summary: string };
    expect(summary.stage).toBe('binarize');
    // (File sizes aside: the model files' metadata hold the command line.)
    const noBytes = (line = ''): string => line.replace(/\d+ bytes/g, 'n bytes');
    expect(noBytes(summary.summary)).toBe(
      noBytes(report.stages.find((x) => x.stage === 'binarize')?.summary),
    );
    expect(summary.summary).toMatch(/validation macro-F1 [\d.]+ %/);
    expect(existsSync(join(alone, 'binarize'))).toBe(true);
    expect(existsSync(join(alone, 'distill'))).toBe(false);
    expect(existsSync(join(alone, 'report.json'))).toBe(false);
    expect(readFileSync(join(alone, 'pipeline-binarize.log'), 'utf8')).toMatch(/binarize done in/);
  }, 300_000);
});
