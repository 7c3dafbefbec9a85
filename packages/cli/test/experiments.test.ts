// `ecgnn prune`, `binarize` and `meta`: their help, usage errors (exit 2), and smoke runs of prune and meta
// through the CLI whose report, rows and summary must be the experiment's (meta runs on its synthetic problem
// everywhere; prune needs MIT-BIH: run when present, fail when CI=true and absent). binarize's run: binarize.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot } from '@ecgnn/data';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { cli, runDataTests } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-experiments-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('prune, binarize, meta: help and usage errors', () => {
  it.each([
    [
      'prune',
      ['--goal', '--fraction', '--rewind', '--scope', '--rounds', '--retries', '--trace', '--no-control'],
    ],
    ['binarize', ['--classes', '--patient', '--binary', '--float', '--estimator', '--scale', '--monotone']],
    [
      'meta',
      ['--validation-only', '--methods', '--settings', '--steps', '--groups', '--update', '--test-tasks'],
    ],
  ])('ecgnn %s --help lists the flags of its example script and the common ones', async (name, flags) => {
    const r = await cli(name, '--help');
    expect(r.code).toBe(EXIT_OK);
    for (const f of [
      ...flags,
      '--smoke',
      '--seed',
      '--data',
      '--out',
      '--record',
      '--resume',
      '--backend',
      '--json',
    ])
      expect(r.out, f).toContain(f);
  });

  it.each([
    [['prune', '--goal', '1.5'], 'must be in (0, 1]'],
    [['prune', '--fraction', '1'], 'must be in (0, 1)'],
    [['prune', '--model', 'nope'], 'Allowed choices are'],
    [['prune', '--rewind', 'x'], "'init' or a step ≥ 0"],
    [['prune', '--trace', '-1'], 'must be ≥ 0'],
    [['prune', '--scope', 'all'], 'Allowed choices are global, layer'],
    [['binarize', '--classes', '3'], 'Allowed choices are 17, 5'],
    [['binarize', '--lr', '0'], 'must be > 0'],
    [['binarize', '--patient'], '--patient needs --classes 5'],
    [['meta', '--methods', 'snail,maml'], "'maml' is not one of snail, protonet, finetune"],
    [['meta', '--settings', '5by1'], 'is not MxK'],
    [['meta', '--test-tasks', '1'], 'must be ≥ 2'],
    [['meta', '--validation-only', '--record', join(tmp, 'r.json')], '--record needs the meta-test'],
    [['meta', '--backend', 'gpu'], 'Allowed choices are wasm, cpu'],
  ])('ecgnn %j exits 2', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain(message);
    expect(r.out).toBe('');
  });

  it.each(['prune', 'binarize', 'meta'])(
    'ecgnn %s refuses smoke rows into docs/results.json (exit 2)',
    async (name) => {
      const r = await cli(name, '--smoke', '--record', join(findRepoRoot()!, 'docs', 'results.json'));
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.err).toContain('refuses to write smoke rows');
    },
  );

  it('prune --no-download without the data exits 1 naming the folder and the options', async () => {
    const r = await cli(
      'prune',
      '--smoke',
      '--no-download',
      '--data',
      join(tmp, 'empty'),
      '--out',
      join(tmp, 'o'),
    );
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain(join(tmp, 'empty', 'mitdb'));
    expect(r.err).toContain('ECGNN_DATA');
  });
});

describe('ecgnn meta --smoke (synthetic problem)', () => {
  it('writes report.json, merges the rows into --record, prints the report with --json', async () => {
    const out = join(tmp, 'meta');
    const record = join(tmp, 'meta-results.json');
    const r = await cli(
      'meta',
      '--smoke',
      '--methods',
      'protonet',
      '--out',
      out,
      '--record',
      record,
      '--json',
    );
    expect(r.code, r.err).toBe(EXIT_OK);
    const report = JSON.parse(r.out) as {
      dataset: string;
      validation: Record<string, unknown[]>;
      test: Record<string, Array<{ accuracy: number; tasks: number }>> | null;
    };
    expect(report.dataset).toBe('synthetic');
    expect(Object.keys(report.validation)).toEqual(['protonet']);
    expect(report.test?.protonet[0].tasks).toBeGreaterThan(1);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(report);
    const rows = JSON.parse(readFileSync(record, 'utf8')) as Array<{ id: string; command: string }>;
    expect(rows.map((x) => x.id)).toEqual([expect.stringMatching(/^meta\/protonet-\d+way-\d+shot$/)]);
    expect(rows[0].command).toMatch(/^ecgnn meta --smoke --methods protonet/);
    // Progress went to stderr as lines (not a terminal), the results to stdout only.
    expect(r.err).toContain('ecgnn meta-learning (smoke run, synthetic)');
  });

  it('without --json prints one line per method and setting', async () => {
    const out = join(tmp, 'meta-text');
    const r = await cli('meta', '--smoke', '--methods', 'protonet', '--validation-only', '--out', out);
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(r.out).toMatch(/^validation protonet \d+-way \d+-shot: accuracy [\d.]+ ± [\d.]+ %/m);
    expect(r.out).not.toContain('meta-test');
  });
});

describe.runIf(runDataTests)('ecgnn prune --smoke on MIT-BIH', () => {
  it('prunes the student, writes the report files, the row lth/student, and the summary', async () => {
    const out = join(tmp, 'lth');
    const record = join(tmp, 'lth-results.json');
    const r = await cli(
      'prune',
      '--smoke',
      '--model',
      'student',
      '--no-control',
      '--rounds',
      '1',
      '--out',
      out,
      '--record',
      record,
    );
    expect(r.code, r.err).toBe(EXIT_OK);
    for (const f of ['report.json', 'report.md', 'f1-vs-compression.svg'])
      expect(existsSync(join(out, 'student', f)), f).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'student', 'report.json'), 'utf8'));
    expect(report.rounds.length).toBeGreaterThanOrEqual(2);
    expect(report.control).toBeNull();
    const rows = JSON.parse(readFileSync(record, 'utf8')) as Array<{ id: string; backend: string }>;
    expect(rows.map((x) => x.id)).toEqual(['lth/student']);
    expect(['wasm', 'cpu']).toContain(rows[0].backend);
    expect(r.out).toContain(`${report.ticket.export.bytes} bytes`);
  });
});
