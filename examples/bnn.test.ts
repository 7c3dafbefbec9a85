/**
 * The binary-network experiment end to end in smoke mode (1 in 2 fragments of each class of the 17-class set,
 * 4 epochs, fixed seed), in-process: binary network and float twin → test once → export → @ecgnn/infer →
 * results rows (written to a temporary file, never docs/). The binary network must beat the majority-class
 * baseline by a clear margin and agree with @ecgnn/infer on every fragment, in Node and in headless Chromium
 * (the browser bundle of @ecgnn/infer, Debian's Chromium). Needs `mitbih17`: runs when present, fails when
 * CI=true and absent, skips with a message otherwise.
 *
 * The Chromium check also runs on full runs' output directories:
 * `ECGNN_BNN_RUNS=<out dir>[,<out dir>…] pnpm exec vitest run examples/bnn.test.ts -t Chromium`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { databaseDir, dataDir, findRepoRoot } from '@ecgnn/data';
import { loadModel } from '@ecgnn/infer';
import {
  type BnnReport,
  type BnnVariantReport,
  bnnSettings,
  loadBnnData,
  type ResultsRow,
} from '@ecgnn/train';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  browserSkipReason,
  evaluateInChromium,
  type StaticServer,
  startStaticServer,
} from '../test-utils/chromium.js';
import { main, parseOptions, UsageError } from './bnn.js';

const present = existsSync(join(databaseDir('mitbih17'), 'index.csv'));
const ci = process.env.CI === 'true';
const why = `the 17-class fragment set is not in ${dataDir()}/mitbih17 (set ECGNN_DATA or put the data in ../shared/data)`;
if (!present && !ci) console.warn(`examples/bnn.test.ts: skipping the smoke run: ${why}`);

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-bnn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bnn options', () => {
  test('defaults and explicit flags', () => {
    const d = parseOptions([]);
    expect(d).toMatchObject({
      smoke: false,
      seed: 0,
      classes: 17,
      patient: false,
      variants: ['binary', 'float'],
      estimator: 'clipped',
      scale: 'none',
      download: true,
    });
    expect(d?.out.endsWith(join('ecgnn-out', 'bnn-17'))).toBe(true);
    const s = parseOptions([
      '--smoke',
      '--seed',
      '4',
      '--classes',
      '5',
      '--patient',
      '--binary',
      '--epochs',
      '9',
      '--lr',
      '0.003',
      '--estimator',
      'triangular',
      '--scale',
      'channel',
      '--monotone',
      '--record',
      'r.json',
      '--no-download',
    ]);
    expect(s).toMatchObject({ smoke: true, seed: 4, classes: 5, patient: true, variants: ['binary'] });
    expect(s).toMatchObject({
      epochs: 9,
      lr: 0.003,
      estimator: 'triangular',
      scale: 'channel',
      download: false,
    });
    expect(s?.monotone).toBe(true);
    expect(d?.monotone).toBe(false);
    expect(s?.out.endsWith('bnn-5-patient')).toBe(true);
    expect(s?.record).toBe(resolve('r.json'));
    expect(parseOptions(['--float'])?.variants).toEqual(['float']);
    expect(parseOptions(['--binary', '--float'])?.variants).toEqual(['binary', 'float']);
    expect(parseOptions(['--help'])).toBeNull();
    expect(d).toMatchObject({ augment: null, noTest: false });
    expect(parseOptions(['--augment', 'shift=90:edge,noise=0.1@0.5', '--no-test'])).toMatchObject({
      augment: {
        steps: [
          { kind: 'shift', max: 90, mode: 'edge' },
          { kind: 'noise', std: 0.1, p: 0.5 },
        ],
      },
      noTest: true,
    });
  });

  test('bad flags are UsageErrors naming the flag', () => {
    expect(() => parseOptions(['--classes', '4'])).toThrow(/--classes/);
    expect(() => parseOptions(['--patient'])).toThrow(/--patient/);
    expect(() => parseOptions(['--epochs', '0'])).toThrow(/--epochs/);
    expect(() => parseOptions(['--lr', '-1'])).toThrow(/--lr/);
    expect(() => parseOptions(['--estimator', 'sigmoid'])).toThrow(/--estimator/);
    expect(() => parseOptions(['--bogus'])).toThrow(UsageError);
    expect(() => parseOptions(['--augment', 'shift=-3'])).toThrow(UsageError);
    expect(() => parseOptions(['--augment', 'blur=2'])).toThrow(/--augment: .*cannot parse 'blur=2'/);
  });

  test('smoke rows are never recorded into docs/results.json', async () => {
    const docs = resolve(findRepoRoot() ?? process.cwd(), 'docs', 'results.json');
    await expect(main(['--smoke', '--record', docs], { log: () => {} })).rejects.toThrow(/smoke/);
  });
});

/** Argmax of each row of the test fragments through @ecgnn/infer's browser bundle in headless Chromium. */
const PAGE_SCRIPT = `(async () => {
  const infer = await import('/infer.js');
  const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
  const model = infer.loadModel(await bytes('/model.ecgnn'));
  const x = new Float32Array((await bytes('/inputs.f32')).buffer);
  const name = await (await fetch('/input-name')).text();
  const probs = model.predict({ [name]: x });
  const k = model.metadata.classes.length;
  const pred = [];
  for (let i = 0; i < probs.length / k; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + best]) best = j;
    pred.push(best);
  }
  return { pred, userAgent: navigator.userAgent };
})()`;

/** Per network of a run's output directory: test fragments whose Chromium prediction differs from core's. */
async function chromiumDisagreements(
  srv: StaticServer,
  outDir: string,
): Promise<Record<string, { items: number; disagreements: number; userAgent: string }>> {
  const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as BnnReport;
  const inputs = report.testInputs;
  srv.files.set('/inputs.f32', { type: 'application/octet-stream', body: readFileSync(inputs.file) });
  srv.files.set('/input-name', { type: 'text/plain', body: inputs.inputName });
  const out: Record<string, { items: number; disagreements: number; userAgent: string }> = {};
  for (const [v, m] of Object.entries(report.variants)) {
    if (m === undefined) continue;
    srv.files.set('/model.ecgnn', { type: 'application/octet-stream', body: readFileSync(m.export.file) });
    const core = JSON.parse(readFileSync(m.export.coreTestPredictions, 'utf8')) as { pred: number[] };
    const { value, pageErrors } = await evaluateInChromium<{ pred: number[]; userAgent: string }>(
      chromium,
      srv,
      PAGE_SCRIPT,
    );
    expect(pageErrors).toEqual([]);
    expect(value.pred).toHaveLength(inputs.count);
    expect(core.pred).toHaveLength(inputs.count);
    const disagreements = value.pred.filter((p, i) => p !== core.pred[i]).length;
    out[v] = { items: inputs.count, disagreements, userAgent: value.userAgent };
  }
  return out;
}

/** The browser bundle of @ecgnn/infer's main entry, from its sources. */
async function inferBundle(): Promise<Uint8Array> {
  const r = await build({
    stdin: { contents: "export * from '@ecgnn/infer';", resolveDir: import.meta.dirname, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@ecgnn/source'],
    minify: true,
    write: false,
  });
  return r.outputFiles[0].contents;
}

const browserReason = present || ci ? browserSkipReason('examples/bnn.test.ts Chromium check') : 'no data';
if (browserReason !== null && present)
  console.warn(`examples/bnn.test.ts: no Chromium check: ${browserReason}`);
const fullRuns = (process.env.ECGNN_BNN_RUNS ?? '').split(',').filter((d) => d !== '');

describe.runIf(fullRuns.length > 0 && browserReason === null)('bnn full runs in headless Chromium', () => {
  test.each(fullRuns)(
    '%s: every test prediction equals core in Chromium',
    async (dir) => {
      const srv = await startStaticServer('ecgnn-bnn-chromium-');
      try {
        srv.files.set('/infer.js', { type: 'text/javascript', body: await inferBundle() });
        const got = await chromiumDisagreements(srv, dir);
        console.log(`${dir}: ${JSON.stringify(got)}`);
        for (const [v, r] of Object.entries(got)) expect(r.disagreements, v).toBe(0);
      } finally {
        await srv.close();
      }
    },
    600_000,
  );
});

describe.runIf(present || ci)('bnn --augment --no-test, then --resume', () => {
  test('--no-test trains and reports validation only; --resume then reads the test split once', async () => {
    if (!present) throw new Error(`CI=true but ${why}`);
    const out = join(tmp, 'no-test');
    const flags = [
      '--smoke',
      '--binary',
      '--epochs',
      '2',
      '--augment',
      'shift=200,scale=0.8:1.2',
      '--out',
      out,
    ];
    const lines: string[] = [];
    const first = await main([...flags, '--no-test'], { log: (l) => lines.push(l), progress: 'none' });
    expect(first).toBeNull();
    expect(lines.some((l) => l.includes('training batches augmented'))).toBe(true);
    expect(lines.some((l) => /^test \d+ fragments/.test(l))).toBe(false);
    expect(existsSync(join(out, 'models'))).toBe(false);
    const v = JSON.parse(readFileSync(join(out, 'validation.json'), 'utf8'));
    expect(v.settings.augment.steps).toHaveLength(2);
    expect(v.networks.binary.keptEpoch).toBeGreaterThanOrEqual(1);
    expect(v.networks.binary.accuracy).toBeGreaterThan(0);
    const report = await main([...flags, '--resume'], { log: () => {}, progress: 'none' });
    const b = report?.variants.binary;
    expect(b?.training.reused).toBe(true);
    expect(b?.validation.accuracy).toBe(v.networks.binary.accuracy);
    expect(b?.id).toBe('bnn/binary-17-aug');
    expect(b?.test.accuracy).toBeGreaterThan(0);
  }, 600_000);
});

describe.runIf(present || ci)('bnn, smoke mode (17 classes)', () => {
  let report: BnnReport;
  const get = (v: 'binary' | 'float'): BnnVariantReport => {
    const m = report.variants[v];
    if (m === undefined) throw new Error(`no ${v} in the report`);
    return m;
  };
  const out = join(tmp, 'smoke');
  const record = join(tmp, 'results.json');
  beforeAll(async () => {
    if (!present) throw new Error(`CI=true but ${why}`);
    const r = await main(['--smoke', '--seed', '0', '--out', out, '--record', record], {
      log: () => {},
      progress: 'none',
    });
    if (r === null) throw new Error('main returned no report');
    report = r;
  }, 600_000);

  test('the binary network beats the majority-class baseline by a clear margin', () => {
    const base = report.baseline.metrics.accuracy;
    expect(base).toBeGreaterThan(0.2);
    const acc = get('binary').test.accuracy;
    expect(acc, `binary ${acc} vs majority ${base}`).toBeGreaterThan(base + 0.1);
    expect(get('float').test.accuracy).toBeGreaterThan(base + 0.1);
  });

  test('@ecgnn/infer predicts what core predicts on every fragment', () => {
    for (const v of ['binary', 'float'] as const) {
      const e = get(v).export;
      expect(e.test.disagreements, v).toBe(0);
      expect(e.all.disagreements, v).toBe(0);
      expect(e.all.items).toBe(
        Object.values(report.counts).reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0),
      );
    }
  });

  test.runIf(browserReason === null)(
    'the trained networks predict in headless Chromium what core predicts on every test fragment',
    async () => {
      const srv = await startStaticServer('ecgnn-bnn-chromium-');
      try {
        srv.files.set('/infer.js', { type: 'text/javascript', body: await inferBundle() });
        const got = await chromiumDisagreements(srv, out);
        expect(Object.keys(got)).toEqual(['binary', 'float']);
        for (const [v, r] of Object.entries(got)) {
          expect(r.userAgent).toMatch(/Chrome/);
          expect(r.items).toBe(Object.values(report.counts.test).reduce((a, b) => a + b, 0));
          expect(r.disagreements, v).toBe(0);
        }
      } finally {
        await srv.close();
      }
    },
    120_000,
  );

  test('the binary file is bit-packed; its storage adds up to the file', () => {
    const b = get('binary');
    const s = b.export.storage;
    expect(s.binaryWeights.values).toBe(33_656);
    expect(s.thresholds.tensors).toBeGreaterThan(0);
    expect(
      s.headerBytes +
        s.alignmentBytes +
        s.checksumBytes +
        s.binaryWeights.bytes +
        s.thresholds.bytes +
        s.floats.bytes,
    ).toBe(b.export.bytes);
    const bytes = new Uint8Array(readFileSync(b.export.file));
    expect(bytes.length).toBe(b.export.bytes);
    const model = loadModel(bytes);
    expect(model.metadata.classes).toHaveLength(17);
    expect(model.metadata.windowing).toEqual({ mode: 'segment', hop: 3600 });
    // The float twin stores 33,656 float32 weights: far larger.
    expect(get('float').export.bytes).toBeGreaterThan(4 * 33_656);
    expect(report.speedup).toBeGreaterThan(0);
  });

  test('each kept epoch is the best by validation accuracy', () => {
    for (const v of ['binary', 'float'] as const) {
      const { result } = get(v).training;
      const best = Math.max(...result.history.map((h) => h.val?.accuracy ?? Number.NEGATIVE_INFINITY));
      expect(result.history[result.bestEpoch - 1].val?.accuracy).toBe(best);
      expect(get(v).validation.accuracy).toBeCloseTo(best, 6);
    }
  });

  test('writes the rows bnn/binary-17 and bnn/float-17 with the required fields', () => {
    const rows = JSON.parse(readFileSync(record, 'utf8')) as ResultsRow[];
    expect(rows.map((r) => r.id)).toEqual(['bnn/binary-17', 'bnn/float-17']);
    for (const row of rows) {
      expect(row).toMatchObject({
        method: 'bnn',
        dataset: 'mitbih17',
        split: 'test (smoke subset)',
        seed: 0,
      });
      expect(row.protocol).toMatch(/^stratified fragments 0.7\/0.1\/0.2/);
      for (const k of ['params', 'bytes', 'inferMsPerSample', 'command', 'commit', 'date', 'storage'])
        expect(row).toHaveProperty(k);
      expect(Object.keys(row.metrics.perClass)).toHaveLength(17);
      expect(row.command).toContain('examples/bnn.ts');
      expect(row.command).toContain('--smoke');
    }
    expect(rows[0]).toHaveProperty('speedupVsFloat');
    const md = readFileSync(join(tmp, 'results.md'), 'utf8');
    for (const r of rows) expect(md).toContain(`| ${r.id} |`);
    for (const f of ['report.json', 'report.md']) expect(existsSync(join(out, f))).toBe(true);
  });

  test('the test split is read once; the smoke subset is 1 in 2 fragments of each class', () => {
    const data = loadBnnData(17, 'stratified', bnnSettings({ smoke: true }), { smoke: true });
    const test = data.loadTest();
    expect(() => data.loadTest()).toThrow(/once/);
    // Σ ⌈n_c / 2⌉ over the 17 class sizes of the set (../shared/data/mitbih17/README.md).
    const sizes = [283, 66, 20, 135, 13, 21, 133, 55, 13, 10, 10, 10, 11, 103, 62, 10, 45];
    expect(data.train.count + data.validation.count + test.count).toBe(
      sizes.reduce((n, c) => n + Math.ceil(c / 2), 0),
    );
    expect(test.count).toBe(Object.values(report.counts.test).reduce((a, b) => a + b, 0));
  });
});
