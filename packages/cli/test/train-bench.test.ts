// `ecgnn train` (one beat model on the inter-patient split, exported and checked in @ecgnn/infer) and
// `ecgnn bench` (predict timed per batch size on a model file written here). The training run needs MIT-BIH (run
// when present, fail when CI=true and absent); the figures it prints are checked against `ecgnn eval` of the
// exported file on the same test beats, a separate path.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeModelFile } from '@ecgnn/infer/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { beatModelSpec, cli, runDataTests } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ecgnn train: usage and data errors', () => {
  it.each([
    [[], "required option '--model <name>' not specified"],
    [['--model', 'bnn'], 'Allowed choices are teacher, student, beatnet, mobilenet'],
    [['--model', 'student', '--epochs', '0'], 'must be ≥ 1'],
    [['--model', 'student', '--sampler', 'nope'], 'Allowed choices are'],
  ])('ecgnn train %j exits 2', async (argv, message) => {
    const r = await cli('train', ...argv);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain(message);
  });

  it('--help names the beat models and their kinds, and what trains the others', async () => {
    const r = await cli('train', '--help');
    expect(r.code).toBe(EXIT_OK);
    for (const m of [
      'teacher (resnet-teacher)',
      'student (student)',
      'beatnet (beatnet)',
      'mobilenet (mobilenet)',
    ])
      expect(r.out).toContain(m);
    expect(r.out).toContain('ecgnn binarize');
    expect(r.out).not.toContain('--record');
  });

  it('--no-download without MIT-BIH exits 1 naming the folder', async () => {
    const empty = join(tmp, 'empty');
    const r = await cli(
      'train',
      '--model',
      'student',
      '--smoke',
      '--no-download',
      '--data',
      empty,
      '--out',
      join(tmp, 'x'),
    );
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain(join(empty, 'mitdb'));
  });
});

describe.runIf(runDataTests)('ecgnn train on MIT-BIH (smoke)', () => {
  const out = join(tmp, 'train');
  const file = join(out, 'student.ecgnn');

  it('trains the student, exports <out>/student.ecgnn, and its test figures are those of ecgnn eval on the file', async () => {
    const r = await cli('train', '--model', 'student', '--smoke', '--epochs', '2', '--out', out, '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ model: 'student', smoke: true, seed: 0, config: { kind: 'student' } });
    expect(report.training.epochsRun).toBeLessThanOrEqual(2);
    expect(report.training.result.bestEpoch).toBeGreaterThanOrEqual(1);
    expect(report.export.file).toBe(file);
    expect(report.export.agreement).toBe(1);
    expect(report.export.bytes).toBe(readFileSync(file).length);
    // The validation split chose the epoch: its macro-F1 is the Trainer's best value.
    expect(report.validation.subsetMacroF1).toBeCloseTo(report.training.result.bestValue, 6);
    expect(report.data.records.test).toEqual(['200', '233']);
    expect(JSON.parse(readFileSync(join(out, 'student', 'report.json'), 'utf8')).test).toEqual(report.test);
    // The same test beats (every 4th of the smoke records) through the exported file by `ecgnn eval`.
    const ev = await cli('eval', file, '--split', '200,233', '--every', '4', '--json');
    expect(ev.code, ev.err).toBe(EXIT_OK);
    const e = JSON.parse(ev.out);
    expect(e.beats).toBe(report.test.count);
    expect(e.accuracy).toBeCloseTo(report.test.accuracy, 12);
    expect(e.macroF1).toBeCloseTo(report.test.macroF1, 12);
  });

  it('--resume reloads the finished run: the same kept epoch and test figures, no epoch trained', async () => {
    const first = JSON.parse(readFileSync(join(out, 'student', 'report.json'), 'utf8'));
    const r = await cli(
      'train',
      '--model',
      'student',
      '--smoke',
      '--epochs',
      '2',
      '--out',
      out,
      '--resume',
      '--json',
    );
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(r.err).toContain('reloaded the finished run');
    expect(r.err).not.toMatch(/^epoch \d/m);
    const again = JSON.parse(r.out);
    expect(again.training.reused).toBe(true);
    expect(again.training.result.bestEpoch).toBe(first.training.result.bestEpoch);
    expect(again.validation).toEqual(first.validation);
    expect(again.test).toEqual(first.test);
    const text = await cli(
      'train',
      '--model',
      'student',
      '--smoke',
      '--epochs',
      '2',
      '--out',
      out,
      '--resume',
    );
    expect(text.code, text.err).toBe(EXIT_OK);
    expect(text.out).toContain(`kept epoch ${first.training.result.bestEpoch} of`);
    expect(text.out).toMatch(/validation \(1 DS1 records, chose the epoch\): accuracy [\d.]+ %, macro-F1/);
    expect(text.out).toMatch(/test \(DS2, 2 records, read once\): accuracy [\d.]+ %/);
    expect(text.out).toContain('@ecgnn/infer = core on every test beat');
  });
});

describe('ecgnn bench', () => {
  const model = join(tmp, 'beat.ecgnn');
  beforeAll(async () => {
    await writeModelFile(model, beatModelSpec(3));
  });

  it('times predict at each batch size: per call, per item, the machine and Node', async () => {
    const r = await cli('bench', model, '--batch', '1,8', '--runs', '3', '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    const b = JSON.parse(r.out);
    expect(b.timings.map((t: { batch: number }) => t.batch)).toEqual([1, 8]);
    for (const t of b.timings) {
      expect(t.msPerCall).toBeGreaterThan(0);
      expect(t.msPerItem).toBeCloseTo(t.msPerCall / t.batch, 12);
      expect(t.p10).toBeLessThanOrEqual(t.msPerCall);
      expect(t.p90).toBeGreaterThanOrEqual(t.msPerCall);
      expect(t.runs).toBe(3);
      expect(t.callsPerRun).toBeGreaterThanOrEqual(1);
    }
    expect(b.machine.node).toBe(process.version);
    expect(b.inputs).toEqual([{ name: 'x', shape: [1, 90] }]);
    const text = await cli('bench', model, '--batch', '2', '--runs', '2', '--kernels', 'typescript');
    expect(text.code, text.err).toBe(EXIT_OK);
    expect(text.out).toMatch(/^2\s+\d/m);
    expect(text.out).toContain(`Node ${process.version}`);
    expect(text.out).toContain('typescript kernels');
    expect(text.out).toContain('pnpm bench');
  });

  it('bad batch sizes exit 2, a missing or broken model file exits 1', async () => {
    expect((await cli('bench', model, '--batch', '0')).code).toBe(EXIT_USAGE);
    expect((await cli('bench', model, '--batch', '1,x')).code).toBe(EXIT_USAGE);
    expect((await cli('bench', model, '--runs', '0')).code).toBe(EXIT_USAGE);
    const missing = await cli('bench', join(tmp, 'nope.ecgnn'));
    expect(missing.code).toBe(EXIT_FAILURE);
    expect(missing.err).toContain('nope.ecgnn');
  });
});
