/**
 * The multi-scale attention experiment end to end in smoke mode, in-process: the 17-class fragments (1 in 2 of
 * each class, 6 epochs) with both networks, and multi-label MIT-BIH windows of 8 records (1 in 2 windows, 4
 * epochs) with the multi-scale network → test once → export → @ecgnn/infer → results rows (written to a
 * temporary file, never docs/). Both networks must beat the majority-class baseline by a clear margin on the
 * 17-class set, and @ecgnn/infer must decide as core does on every test window. Needs `mitbih17` and `mitdb`:
 * runs when present, fails when CI=true and absent, skips with a message otherwise.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { databaseDir, dataDir, findRepoRoot } from '@ecgnn/data';
import { loadModel } from '@ecgnn/infer';
import {
  MULTILABEL_LABELS,
  type MultiScaleNetworkReport,
  type MultiScaleReport,
  type ResultsRow,
} from '@ecgnn/train';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main, parseOptions, UsageError } from './multiscale.js';

const present =
  existsSync(join(databaseDir('mitbih17'), 'index.csv')) && existsSync(join(databaseDir('mitdb'), '100.hea'));
const ci = process.env.CI === 'true';
const why = `mitbih17 or mitdb is not in ${dataDir()} (set ECGNN_DATA or put the data in ../shared/data)`;
if (!present && !ci) console.warn(`examples/multiscale.test.ts: skipping the smoke runs: ${why}`);

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-multiscale-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('multiscale options', () => {
  test('defaults and explicit flags', () => {
    const d = parseOptions([]);
    expect(d).toMatchObject({
      smoke: false,
      seed: 0,
      dataset: 'mitdb',
      networks: ['lamscn', 'mobilenet'],
      posWeight: false,
      validationOnly: false,
      backend: 'wasm',
      download: true,
    });
    expect(d?.out.endsWith(join('ecgnn-out', 'multiscale-mitdb'))).toBe(true);
    const s = parseOptions([
      '--smoke',
      '--seed',
      '3',
      '--dataset',
      'mitdb',
      '--lamscn',
      '--epochs',
      '7',
      '--lr',
      '0.001',
      '--pos-weight',
      '--record',
      'r.json',
      '--no-download',
    ]);
    expect(s).toMatchObject({ smoke: true, seed: 3, networks: ['lamscn'], epochs: 7, lr: 0.001 });
    expect(s).toMatchObject({ posWeight: true, download: false, record: resolve('r.json') });
    expect(parseOptions(['--mobilenet'])?.networks).toEqual(['mobilenet']);
    expect(parseOptions(['--dataset', 'mitbih17'])?.out.endsWith('multiscale-mitbih17')).toBe(true);
    expect(parseOptions(['--validation-only'])?.validationOnly).toBe(true);
    expect(parseOptions(['--help'])).toBeNull();
  });

  test('bad flags are UsageErrors naming the flag', () => {
    expect(() => parseOptions(['--dataset', 'ptb'])).toThrow(/--dataset/);
    expect(() => parseOptions(['--dataset', 'mitbih17', '--pos-weight'])).toThrow(/--pos-weight/);
    expect(() => parseOptions(['--validation-only', '--record', 'r.json'])).toThrow(/--validation-only/);
    expect(() => parseOptions(['--epochs', '0'])).toThrow(/--epochs/);
    expect(() => parseOptions(['--lr', '0'])).toThrow(/--lr/);
    expect(() => parseOptions(['--bogus'])).toThrow(UsageError);
  });

  test('smoke rows are never recorded into docs/results.json', async () => {
    const docs = resolve(findRepoRoot() ?? process.cwd(), 'docs', 'results.json');
    await expect(main(['--smoke', '--record', docs], { log: () => {} })).rejects.toThrow(/smoke/);
  });
});

function network(r: MultiScaleReport, n: 'lamscn' | 'mobilenet'): MultiScaleNetworkReport {
  const m = r.networks[n];
  if (m === undefined) throw new Error(`no ${n} in the report`);
  return m;
}

describe.runIf(present || ci)('multiscale, smoke mode', () => {
  let m17: MultiScaleReport;
  let mitdb: MultiScaleReport;
  const record = join(tmp, 'results.json');
  beforeAll(async () => {
    if (!present) throw new Error(`CI=true but ${why}`);
    const quiet = { log: () => {}, progress: 'none' as const };
    const a = await main(
      ['--smoke', '--dataset', 'mitbih17', '--out', join(tmp, 'm17'), '--record', record],
      quiet,
    );
    const b = await main(
      ['--smoke', '--dataset', 'mitdb', '--lamscn', '--out', join(tmp, 'mitdb'), '--record', record],
      quiet,
    );
    if (a === null || b === null) throw new Error('main returned no report');
    m17 = a;
    mitdb = b;
  }, 900_000);

  test('17 classes: both networks beat the majority-class baseline by a clear margin', () => {
    const base = m17.baseline?.accuracy ?? 1;
    expect(base).toBeGreaterThan(0.2);
    for (const n of ['lamscn', 'mobilenet'] as const) {
      const acc = network(m17, n).test?.accuracy ?? 0;
      expect(acc, `${n} ${acc} vs majority ${base}`).toBeGreaterThan(base + 0.1);
    }
  });

  test('the multi-scale network has fewer parameters than the baseline', () => {
    expect(network(m17, 'lamscn').params).toBeLessThan(network(m17, 'mobilenet').params);
  });

  test('@ecgnn/infer decides as core does on every test window (argmax; thresholded label sets)', () => {
    for (const m of [network(m17, 'lamscn'), network(m17, 'mobilenet'), network(mitdb, 'lamscn')]) {
      const e = m.export;
      expect(e, m.id).not.toBeNull();
      expect(e?.test.disagreements, m.id).toBe(0);
      expect(e?.test.maxAbsProbDiff, m.id).toBeLessThan(1e-4);
      expect(e?.inferMsPerSample, m.id).toBeGreaterThan(0);
    }
    const bytes = new Uint8Array(readFileSync(network(mitdb, 'lamscn').export?.file ?? ''));
    const model = loadModel(bytes);
    expect(model.metadata.outputActivation).toBe('sigmoid');
    expect(model.metadata.classes).toEqual([...MULTILABEL_LABELS]);
    expect(model.metadata.windowing).toEqual({ mode: 'segment', hop: 1200 });
  });

  test('multi-label: per-label thresholds chosen on validation, per-label test metrics', () => {
    const m = network(mitdb, 'lamscn');
    expect(Object.keys(m.thresholds ?? {})).toEqual([...MULTILABEL_LABELS]);
    for (const t of Object.values(m.thresholds ?? {})) expect(t).toBeGreaterThanOrEqual(0);
    expect(Object.keys(m.test?.perClass ?? {})).toEqual([...MULTILABEL_LABELS]);
    // The kept epoch is the best by validation macro-F1 at threshold 0.5.
    const { result } = m.training;
    const best = Math.max(...result.history.map((h) => h.val?.macroF1 ?? Number.NEGATIVE_INFINITY));
    expect(result.history[result.bestEpoch - 1].val?.macroF1).toBe(best);
    // Thresholds tuned on validation cannot do worse there than 0.5.
    expect(m.validationMacroF1).toBeGreaterThanOrEqual(best - 1e-9);
  });

  test('rows are recorded with method multiscale and the measured fields', () => {
    const rows = JSON.parse(readFileSync(record, 'utf8')) as ResultsRow[];
    expect(rows.map((r) => r.id).sort()).toEqual([
      'multiscale/lamscn-17',
      'multiscale/lamscn-mitdb',
      'multiscale/mobilenet-17',
    ]);
    for (const r of rows) {
      expect(r.method).toBe('multiscale');
      expect(r.split).toBe('test (smoke subset)');
      expect(r.smoke).toBe(true);
      expect(r.params).toBeGreaterThan(0);
      expect(r.bytes).toBeGreaterThan(4 * r.params);
      expect(r.metrics.macroF1).toBeGreaterThanOrEqual(0);
      expect(r.command).toMatch(/examples\/multiscale\.ts --smoke/);
    }
  });
});
