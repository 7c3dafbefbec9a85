/**
 * The main job end to end in smoke mode (few records, one short epoch, subsampled test set), in-process.
 * Needs MIT-BIH: runs when present, fails when CI=true and absent, skips with a message otherwise.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDir, hasDatabase } from '@ecgnn/data';
import { loadModel } from '@ecgnn/infer';
import { afterAll, describe, expect, test } from 'vitest';
import { type MainReport, main, parseOptions, UsageError } from './main.js';

const present = hasDatabase('mitdb');
const ci = process.env.CI === 'true';
const why = `MIT-BIH not found in ${dataDir()}/mitdb (set ECGNN_DATA or put the data in ../shared/data)`;

if (!present && !ci) console.warn(`examples/main.test.ts: skipping the main-job smoke runs: ${why}`);

describe('main job options', () => {
  test('defaults, smoke and explicit flags', () => {
    const d = parseOptions([]);
    expect(d).not.toBeNull();
    expect(d?.smoke).toBe(false);
    expect(d?.epochs).toBeGreaterThan(1);
    const s = parseOptions(['--smoke', '--seed', '7', '--epochs', '2', '--out', 'x', '--data', 'y']);
    expect(s).toMatchObject({ smoke: true, seed: 7, epochs: 2 });
    expect(s?.out.endsWith('x')).toBe(true);
    expect(s?.data).toBe('y');
    expect(parseOptions(['--help'])).toBeNull();
  });

  test('bad flags are UsageErrors naming the flag', () => {
    expect(() => parseOptions(['--epochs', 'two'])).toThrow(UsageError);
    expect(() => parseOptions(['--epochs', '0'])).toThrow(/--epochs/);
    expect(() => parseOptions(['--bogus'])).toThrow(UsageError);
  });
});

describe.runIf(present || ci)('main job, smoke mode', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const run = async (seed: number): Promise<{ out: string; report: MainReport }> => {
    if (!present) throw new Error(`CI=true but ${why}`);
    const out = mkdtempSync(join(tmpdir(), 'ecgnn-main-'));
    dirs.push(out);
    const report = await main(['--smoke', '--no-download', '--seed', String(seed), '--out', out], {
      log: () => {},
    });
    if (report === null) throw new Error('main returned null without --help');
    return { out, report };
  };

  test('writes the report and a model that reloads and agrees with core; deterministic per seed', async () => {
    const a = await run(3);
    for (const f of ['report.json', 'report.md', 'model.ecgnn'])
      expect(existsSync(join(a.out, f))).toBe(true);
    const json = JSON.parse(readFileSync(join(a.out, 'report.json'), 'utf8')) as MainReport;
    expect(json.test.confusion).toEqual(a.report.test.confusion);
    expect(json.resultsRow.method).toBe('baseline');
    expect(json.resultsRow.protocol).toBe('inter-patient DS1/DS2');
    expect(json.resultsRow.seed).toBe(3);
    expect(readFileSync(join(a.out, 'report.md'), 'utf8')).toContain('inter-patient DS1→DS2');

    // Metrics are fractions; the confusion matrix accounts for every test beat.
    const m = a.report.test;
    expect(Math.abs(m.kappa)).toBeLessThanOrEqual(1);
    const fractions = [m.accuracy, m.macroF1];
    for (const c of m.classes) {
      const r = m.perClass[c];
      for (const x of [r.se, r.ppv, r.f1]) if (x !== null) fractions.push(x);
    }
    for (const x of fractions) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    expect(m.confusion.flat().reduce((s, v) => s + v, 0)).toBe(m.count);
    expect(m.count).toBeGreaterThan(100);

    // The exported file reloads on its own, takes the beat window and its RR features as two named inputs, and
    // agrees with the core model on ≥ 99 % of beats.
    const model = loadModel(new Uint8Array(readFileSync(join(a.out, 'model.ecgnn'))));
    expect(model.metadata.classes).toEqual(['N', 'S', 'V', 'F', 'Q']);
    expect(model.inputs.map((i) => [i.name, i.source.kind])).toEqual([
      ['beat', 'window'],
      ['rr', 'rr'],
    ]);
    expect(a.report.export.agreement).toBeGreaterThanOrEqual(0.99);
    expect(a.report.export.maxAbsProbDiff).toBeLessThan(1e-4);
    expect(a.report.model.bytes).toBe(readFileSync(join(a.out, 'model.ecgnn')).length);

    // Served on a raw DS2 record by the streaming classifier: it finds (nearly) every annotated beat, and the
    // per-class counts add up.
    const s = a.report.served;
    expect(s.referenceBeats).toBeGreaterThan(1000);
    expect(s.matched).toBeGreaterThan(0.95 * s.referenceBeats);
    const sum = (k: 'reference' | 'matched' | 'predicted') =>
      Object.values(s.perClass).reduce((acc, c) => acc + c[k], 0);
    expect(sum('reference')).toBe(s.referenceBeats);
    expect(sum('matched')).toBe(s.matched);
    expect(sum('predicted')).toBe(s.detectedBeats);
    expect(s.accuracy).toBeGreaterThan(0.5);
    expect(readFileSync(join(a.out, 'report.md'), 'utf8')).toContain('Serving check');

    // Same seed, same everything that is not a clock.
    const b = await run(3);
    expect(b.report.test).toEqual(a.report.test);
    expect(b.report.validation).toEqual(a.report.validation);
    expect(b.report.training.history.map((h) => h.loss)).toEqual(
      a.report.training.history.map((h) => h.loss),
    );
    // The two exported models compute the same function (their headers differ only in the date).
    const modelB = loadModel(new Uint8Array(readFileSync(join(b.out, 'model.ecgnn'))));
    const beat = Float32Array.from(
      { length: 3 * model.inputs[0].shape[1] },
      (_, i) => Math.sin(0.37 * i) + 0.1 * (i % 7),
    );
    const rr = Float32Array.from({ length: 3 * 4 }, (_, i) => 0.1 * Math.cos(i));
    expect(modelB.logits({ beat, rr })).toEqual(model.logits({ beat, rr }));
    expect(b.report.served).toEqual({ ...a.report.served, computeSeconds: b.report.served.computeSeconds });
  });
});
