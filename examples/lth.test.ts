/**
 * The lottery-ticket experiment end to end in smoke mode (a few records, every 4th beat, 3 epochs per run,
 * 3 rounds), in-process and with a fixed seed: dense training → pruning rounds with rewinding → control →
 * sparse export → @ecgnn/infer → the results row (written to a temporary file, never docs/). Needs MIT-BIH: runs
 * when present, fails when CI=true and absent, skips with a message otherwise.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { databaseDir, dataDir, findRepoRoot, hasDatabase } from '@ecgnn/data';
import { loadModel, readModel } from '@ecgnn/infer';
import { LTH_SMOKE, type LthReport, type ResultsRow } from '@ecgnn/train';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main, parseOptions, UsageError } from './lth.js';

const present = hasDatabase('mitdb');
const ci = process.env.CI === 'true';
const why = `MIT-BIH not found in ${dataDir()}/mitdb (set ECGNN_DATA or put the data in ../shared/data)`;
if (!present && !ci) console.warn(`examples/lth.test.ts: skipping the smoke runs: ${why}`);

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-lth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lth options', () => {
  test('defaults and explicit flags', () => {
    const d = parseOptions([]);
    expect(d).toMatchObject({ smoke: false, seed: 0, model: 'teacher', control: true, resume: false });
    expect(d?.goal).toBeUndefined();
    expect(d?.rewind).toBeUndefined();
    expect(d?.out.endsWith(join('ecgnn-out', 'lth'))).toBe(true);
    const s = parseOptions([
      '--smoke',
      '--model',
      'student',
      '--goal',
      '0.95',
      '--fraction',
      '0.3',
      '--rewind',
      '12',
      '--scope',
      'layer',
      '--rounds',
      '4',
      '--no-control',
      '--record',
      'r.json',
    ]);
    expect(s).toMatchObject({ smoke: true, model: 'student', goal: 0.95, fraction: 0.3, rewind: 12 });
    expect(s).toMatchObject({ scope: 'layer', rounds: 4, control: false, record: resolve('r.json') });
    expect(parseOptions(['--rewind', 'init'])?.rewind).toBeUndefined();
    expect(parseOptions(['--help'])).toBeNull();
  });

  test('bad flags are UsageErrors naming the flag', () => {
    expect(() => parseOptions(['--model', 'resnet'])).toThrow(/--model/);
    expect(() => parseOptions(['--goal', '1.5'])).toThrow(/--goal/);
    expect(() => parseOptions(['--fraction', '1'])).toThrow(/--fraction/);
    expect(() => parseOptions(['--rewind', 'late'])).toThrow(/--rewind/);
    expect(() => parseOptions(['--scope', 'row'])).toThrow(/--scope/);
    expect(() => parseOptions(['--bogus'])).toThrow(UsageError);
  });

  test('smoke rows are never recorded into docs/results.json', async () => {
    const docs = resolve(findRepoRoot() ?? process.cwd(), 'docs', 'results.json');
    await expect(main(['--smoke', '--record', docs], { log: () => {} })).rejects.toThrow(/smoke/);
  });
});

describe.runIf(present || ci)('lottery-ticket pruning, smoke mode', () => {
  let report: LthReport;
  const out = join(tmp, 'run');
  const record = join(tmp, 'results.json');
  const args = ['--smoke', '--model', 'student', '--seed', '1', '--out', out, '--no-download'];
  beforeAll(async () => {
    if (!present) throw new Error(`CI=true but ${why}`);
    const r = await main([...args, '--record', record], { log: () => {}, progress: 'none' });
    if (r === null) throw new Error('main returned no report');
    report = r;
  });

  test('prunes to a ticket with fewer non-zero parameters than the dense model', () => {
    expect(report.smoke).toBe(true);
    const { rounds, ticket } = report;
    expect(rounds[0].label).toBe('dense');
    expect(rounds.length).toBeGreaterThan(1);
    expect(ticket.round.compression).toBeGreaterThan(1);
    expect(ticket.round.params).toBeLessThan(report.dense.params);
    // Every round pruned round(p · remaining) of the weights the last ticket kept (global scope).
    let from = rounds[0].remaining;
    for (const r of rounds.slice(1)) {
      expect(r.remaining, r.label).toBe(from - Math.round(r.fraction * from));
      if (r.passed) from = r.remaining;
    }
    // The ticket is the last run that met the goal, chosen on validation.
    const passed = rounds.filter((r) => r.passed);
    expect(ticket.round.label).toBe(passed[passed.length - 1].label);
    expect(ticket.round.metric).toBeGreaterThanOrEqual(report.search.threshold);
    expect(report.search.threshold).toBeCloseTo(LTH_SMOKE.lth.goal * report.search.denseMetric, 12);
    expect(ticket.validation.subsetMacroF1).toBeCloseTo(ticket.round.metric, 6);
    for (const f of ['report.json', 'report.md', 'f1-vs-compression.svg'])
      expect(existsSync(join(out, 'student', f)), f).toBe(true);
    expect(readFileSync(join(out, 'student', 'report.md'), 'utf8')).toContain(
      `| ${ticket.round.label} (ticket) |`,
    );
  });

  test('the sparse ticket file runs in @ecgnn/infer with the pruned core model outputs', () => {
    const e = report.ticket.export;
    expect(e.agreement).toBe(1);
    expect(e.maxAbsProbDiff).toBeLessThan(1e-5);
    expect(e.densifiedEqual).toBe(true);
    const bytes = new Uint8Array(readFileSync(e.file));
    expect(bytes.length).toBe(e.bytes);
    expect(e.bytes).toBeLessThan(e.bytesDense);
    const file = readModel(bytes);
    const sparse = [...file.tensors.values()].filter((t) => t.entry.sparse);
    expect(sparse.length).toBe(e.sparseTensors);
    expect(sparse.length).toBeGreaterThan(0);
    // Each pruned layer's weight is stored sparse with the ticket's non-zero count (BatchNorm folding scales
    // whole output channels, so zeros stay zeros). Other tensors may be sparse too (a dead channel's bias).
    for (const l of report.ticket.layers)
      expect(file.tensors.get(`${l.path}.weight`)?.entry.sparse?.nnz, l.path).toBe(l.kept);
    const model = loadModel(bytes);
    expect(model.inputs.map((i) => i.name)).toEqual(['window', 'rr']);
    expect((model.metadata.provenance as Record<string, unknown>).method).toBe('lth');
  });

  test('writes the row lth/student with compression, bytesDense and the control', () => {
    const rows = JSON.parse(readFileSync(record, 'utf8')) as ResultsRow[];
    expect(rows.map((r) => r.id)).toEqual(['lth/student']);
    const row = rows[0];
    expect(row).toMatchObject({
      method: 'lth',
      dataset: 'mitdb',
      protocol: 'inter-patient DS1/DS2',
      seed: 1,
    });
    expect(row.split).toBe('test (smoke subset)');
    expect(row.compression as number).toBeGreaterThan(1);
    expect(row.compression).toBeCloseTo((row.paramsDense as number) / row.params, 12);
    expect(row.bytesDense as number).toBeGreaterThan(row.bytes);
    expect(row.inferAgreement).toBe(1);
    expect(row.controlTestMacroF1).toBe(report.control?.test.subsetMacroF1);
    expect(row.command).toContain('examples/lth.ts');
    expect(row.metrics.macroF1).toBe(report.ticket.test.subsetMacroF1);
    expect(readFileSync(join(tmp, 'results.md'), 'utf8')).toContain('| lth/student |');
  });

  test('--resume reuses the finished search: no training, the same ticket and figures', async () => {
    const lines: string[] = [];
    const again = await main([...args, '--resume'], { log: (l) => lines.push(l), progress: 'none' });
    if (again === null) throw new Error('no report');
    expect(again.search.reused).toBe(true);
    expect(lines.some((l) => l.includes('reloaded the finished run'))).toBe(true);
    expect(lines.some((l) => /^lth round-\d/.test(l))).toBe(false);
    expect(again.ticket.round.label).toBe(report.ticket.round.label);
    expect(again.ticket.test.subsetMacroF1).toBe(report.ticket.test.subsetMacroF1);
    expect(again.rounds.map((r) => r.testMacroF1)).toEqual(report.rounds.map((r) => r.testMacroF1));
  });
});

const fragmentsPresent = existsSync(join(databaseDir('mitbih17'), 'index.csv'));
if (!fragmentsPresent && !ci)
  console.warn(`examples/lth.test.ts: skipping the fragment smoke run: no mitbih17 in ${dataDir()}`);

describe.runIf(fragmentsPresent || ci)(
  'lottery-ticket pruning of the fragment model, traced past the stop',
  () => {
    let report: LthReport;
    const out = join(tmp, 'fragment');
    beforeAll(async () => {
      if (!fragmentsPresent) throw new Error(`CI=true but no mitbih17 in ${dataDir()}`);
      // Goal 1 × dense with no retry: a round that does not match the dense model stops the search, and the trace
      // goes on to round 5.
      const args = ['--smoke', '--model', 'fragment', '--seed', '1', '--goal', '1', '--retries', '0'];
      const r = await main([...args, '--rounds', '3', '--trace', '5', '--out', out, '--no-download'], {
        log: () => {},
        progress: 'none',
      });
      if (r === null) throw new Error('main returned no report');
      report = r;
    });

    test('scores 17-class macro-F1 on mitbih17 and keeps the ticket out of the traced runs', () => {
      expect(report.dataset).toBe('mitbih17');
      expect(report.search.metricKey).toBe('macroF1');
      expect(report.model.config.kind).toBe('bnn');
      expect(report.search.stopReason).toBe('goal-broken');
      const labels = report.rounds.map((r) => r.label);
      expect(labels.slice(-2)).toEqual(['trace-4', 'trace-5']);
      const broken = report.rounds.findIndex((r) => !r.passed && !r.traced);
      expect(broken).toBeGreaterThan(0);
      // Every traced run prunes the run before it by the full fraction.
      for (let i = broken + 1; i < report.rounds.length; i++) {
        const [prev, r] = [report.rounds[i - 1], report.rounds[i]];
        expect(r.traced).toBe(true);
        expect(r.remaining).toBe(prev.remaining - Math.round(LTH_SMOKE.lth.fraction * prev.remaining));
      }
      expect(report.ticket.round.traced).toBe(false);
      expect(report.ticket.round.passed).toBe(true);
      expect(report.ticket.validation.macroF1).toBeCloseTo(report.ticket.round.metric, 6);
      expect(report.rounds.map((r) => r.testMacroF1).every((v) => v !== null)).toBe(true);
      const md = readFileSync(join(out, 'fragment', 'report.md'), 'utf8');
      expect(md).toContain('| trace-5 (traced) |');
      expect(readFileSync(join(out, 'fragment', 'f1-vs-compression.svg'), 'utf8')).toContain(
        'stroke-dasharray="5 3"',
      );
      expect(report.ticket.export.agreement).toBe(1);
    });
  },
);
