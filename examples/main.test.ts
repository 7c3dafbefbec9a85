/**
 * The main job end to end in smoke mode (few records, one short epoch, subsampled test set), in-process.
 * Needs MIT-BIH: runs when present, fails when CI=true and absent, skips with a message otherwise.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDir, hasDatabase } from '@ecgnn/data';
import { loadModel } from '@ecgnn/infer';
import { parameterCount } from '@ecgnn/models';
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
    expect(readFileSync(join(a.out, 'report.md'), 'utf8')).toContain('inter-patient DS1→DS2');

    // The docs/results.json row: its id and fields, computed from the test metrics of this run.
    const row = json.resultsRow;
    expect(row).toMatchObject({
      id: 'baseline/beatnet-rr',
      method: 'baseline',
      dataset: 'mitdb',
      protocol: 'inter-patient DS1/DS2',
      split: 'test (smoke subset)',
      seed: 3,
      params: a.report.model.params,
      bytes: a.report.model.bytes,
      command: 'pnpm baseline --smoke --no-download --seed 3 --out ' + a.out,
    });
    expect(row.metrics.accuracy).toBe(a.report.test.accuracy);
    // macro-F1 over N, S, V, F like every mitdb row; the five-class value beside it.
    expect(row.metrics.macroF1).toBe(a.report.test.subsetMacroF1);
    expect(row.metrics.macroF1Classes).toEqual(['N', 'S', 'V', 'F']);
    expect(row.macroF1AllClasses).toBe(a.report.test.macroF1);
    expect(row.metrics.jk).toBe(a.report.test.jk);
    expect(row.kappa).toBe(a.report.test.kappa);
    expect(Object.keys(row.metrics.perClass)).toEqual(['N', 'S', 'V', 'F', 'Q']);
    expect(row.metrics.perClass.V.se).toBe(a.report.test.perClass.V.se);
    expect(row.inferMsPerSample).toBeGreaterThan(0);
    expect(row.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(a.report.model.params).toBe(
      parameterCount({ kind: 'beatnet', length: 126, rrFeatures: 4, classes: 5 }),
    );

    // Training: the recipe's epochs, each with a finite loss and validation figures; the kept epoch is the best.
    const h = a.report.training.history;
    expect(h).toHaveLength(1);
    expect(Number.isFinite(h[0].trainLoss)).toBe(true);
    expect(h[0].val?.subsetMacroF1).toBe(a.report.validation.subsetMacroF1);
    expect(a.report.training.bestEpoch).toBe(1);

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
    // Per DS2 record: the smoke run's three records, their beats adding up to the test set.
    const perRecord = a.report.testPerRecord;
    expect(perRecord.map((r) => r.record)).toEqual(a.report.data.records.test);
    expect(perRecord.reduce((s, r) => s + r.beats, 0)).toBe(m.count);
    const sumClass = (c: string) => perRecord.reduce((s, r) => s + r.perClass[c].beats, 0);
    for (const c of m.classes) expect(sumClass(c)).toBe(m.perClass[c].support);

    // The exported file reloads on its own, takes the beat window and its RR features as two named inputs, carries
    // the training preprocessing (180 Hz, 45 samples before the R peak, z-score), and agrees with the core model
    // on ≥ 99 % of beats.
    const model = loadModel(new Uint8Array(readFileSync(join(a.out, 'model.ecgnn'))));
    expect(model.metadata.classes).toEqual(['N', 'S', 'V', 'F', 'Q']);
    expect(model.inputs.map((i) => [i.name, i.source.kind, i.shape])).toEqual([
      ['window', 'window', [1, 126]],
      ['rr', 'rr', [4]],
    ]);
    expect(model.metadata.input.sampleRate).toBe(180);
    expect(model.metadata.windowing).toEqual({ mode: 'beat', before: 45 });
    expect(model.metadata.preprocessing).toMatchObject({ normalize: 'zscore', removeBaseline: false });
    expect(model.metadata.provenance).toMatchObject({ seed: 3, trainRecords: a.report.data.records.train });
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
    expect(b.report.training.history.map((e) => e.trainLoss)).toEqual(
      a.report.training.history.map((e) => e.trainLoss),
    );
    // The two exported models compute the same function (their headers differ only in the date).
    const modelB = loadModel(new Uint8Array(readFileSync(join(b.out, 'model.ecgnn'))));
    const beat = Float32Array.from(
      { length: 3 * model.inputs[0].shape[1] },
      (_, i) => Math.sin(0.37 * i) + 0.1 * (i % 7),
    );
    const rr = Float32Array.from({ length: 3 * 4 }, (_, i) => 0.1 * Math.cos(i));
    expect(modelB.logits({ window: beat, rr })).toEqual(model.logits({ window: beat, rr }));
    expect(b.report.served).toEqual({ ...a.report.served, computeSeconds: b.report.served.computeSeconds });
  });
});
