/**
 * The browser demo (examples/browser): its file handling and strip in Node, then the real page — the esbuild
 * bundle of demo.ts served with index.html, a beat model and MIT-BIH record 100 — in Debian's headless
 * Chromium, whose beats and labels must equal @ecgnn/infer's `classifyRecord` in Node on the same model and
 * samples. A screenshot of the page is saved in the test's temporary folder (ECGNN_DEMO_SCREENSHOT=<file>
 * writes it elsewhere, e.g. to refresh docs/browser-demo.png).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator } from '@ecgnn/core';
import { databaseDir, dataDir, loadAnnotations, loadRecord } from '@ecgnn/data';
import { classifyRecord, loadModel, saveModel } from '@ecgnn/infer';
import { createModel } from '@ecgnn/models';
import { beatPreprocessing, exportClassifier } from '@ecgnn/train';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  browserSkipReason,
  CHROMIUM,
  FLAGS,
  type StaticServer,
  startStaticServer,
} from '../../test-utils/chromium.js';
// @ts-expect-error: an .mjs build script without declarations
import { demoBuildOptions } from './build.mjs';
import type { DemoState } from './demo.js';
import { EcgInputError, readEcgFiles, referenceBeats } from './ecg-files.js';
import { stripSvg } from './strip.js';

const mitdb = databaseDir('mitdb');
const present = existsSync(join(mitdb, '100.hea'));
const ci = process.env.CI === 'true';
const why = `MIT-BIH record 100 not found in ${dataDir()}/mitdb`;
if (!present && !ci) console.warn(`examples/browser/demo.test.ts: skipping: ${why}`);
const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-demo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The files of record 100 as the page receives them. */
function record100(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const f of ['100.hea', '100.dat', '100.atr'])
    files.set(f, new Uint8Array(readFileSync(join(mitdb, f))));
  return files;
}

/** An (untrained, seeded) beat model file: the demo's checks compare pipelines, not accuracy. */
function beatModelBytes(): Uint8Array {
  const spec = beatPreprocessing();
  const model = createModel(
    {
      kind: 'student',
      length: spec.length,
      rrFeatures: spec.rr?.features.length ?? 0,
      classes: 5,
      channels: [4, 8],
      kernels: [5, 3],
      dropout: 0,
    },
    { generator: new Generator(7) },
  );
  model.eval();
  return saveModel(exportClassifier(model, spec, { classes: ['N', 'S', 'V', 'F', 'Q'], name: 'demo-test' }));
}

describe('demo file handling and strip (Node)', () => {
  test('CSV: samples of the chosen column at the given rate; errors name the file', () => {
    const csv = new TextEncoder().encode('time,MLII\n0,0.5\n0.0028,0.75\n0.0056,-1\n');
    const ecg = readEcgFiles(new Map([['beats.csv', csv]]), { sampleRate: 360, column: 'MLII' });
    expect(ecg).toMatchObject({ name: 'beats.csv', lead: 'MLII', sampleRate: 360, reference: null });
    expect(Array.from(ecg.signal)).toEqual([0.5, 0.75, -1]);
    expect(() => readEcgFiles(new Map([['beats.csv', csv]]), { column: 'MLII' })).toThrow(
      /beats\.csv: a CSV file has no sampling rate/,
    );
    expect(() => readEcgFiles(new Map(), {})).toThrow(EcgInputError);
    const bad = new TextEncoder().encode('MLII\n0.5\nabc\n');
    expect(() => readEcgFiles(new Map([['x.csv', bad]]), { sampleRate: 360 })).toThrow(
      /x\.csv, line 3.*'abc'/,
    );
  });

  test.runIf(present)(
    'WFDB: the lead and the reference beats of record 100 as @ecgnn/data reads them from disk',
    () => {
      const ecg = readEcgFiles(record100(), { lead: 'MLII' });
      const rec = loadRecord('mitdb', '100');
      expect(ecg.sampleRate).toBe(rec.fs);
      expect(ecg.signal).toEqual(rec.signals[0]);
      const ref = referenceBeats(loadAnnotations('mitdb', '100', 'atr'));
      expect(ecg.reference).toEqual(ref);
      expect(ref.length).toBe(2273); // MIT-BIH record 100: 2,273 beats
      expect(() => readEcgFiles(record100(), { lead: 'V9' })).toThrow(
        /100\.hea: no lead V9; the record has 0 MLII, 1 V5/,
      );
    },
  );

  test('the strip marks each beat in the window with its label and flags a reference that differs', () => {
    const signal = Float32Array.from({ length: 3600 }, (_, i) => Math.sin(i / 20));
    const svg = stripSvg({
      signal,
      sampleRate: 360,
      from: 0,
      seconds: 10,
      beats: [
        { sample: 100, label: 'N', probability: 0.9 },
        { sample: 500, label: 'V', probability: 0.6 },
        { sample: 5000, label: 'S', probability: 0.7 },
      ],
      reference: [
        { sample: 102, label: 'N' },
        { sample: 498, label: 'N' },
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg.match(/font-weight="600"/g)?.length).toBe(2); // the beat at 5000 is outside the window
    expect(svg).toContain('#c53030" font-weight="700">N</text>'); // reference N under a predicted V
    expect(svg).toContain('0.500 s: N (p = 0.900)'.replace('0.500', (100 / 360).toFixed(3)));
  });
});

const browserReason = present || ci ? browserSkipReason('examples/browser/demo.test.ts') : 'no data';

describe.skipIf(browserReason !== null)('the demo page in headless Chromium', () => {
  let srv: StaticServer;
  let state: DemoState;
  let pageErrors: string[];
  const modelBytes = present ? beatModelBytes() : new Uint8Array();
  const seconds = 120;
  beforeAll(async () => {
    if (!present) throw new Error(`CI=true but ${why}`);
    const { build } = await import('esbuild');
    const bundle = await build({ ...demoBuildOptions(), write: false });
    srv = await startStaticServer('ecgnn-demo-chromium-');
    srv.files.set('/', {
      type: 'text/html',
      body: readFileSync(join(import.meta.dirname, 'index.html'), 'utf8'),
    });
    const code = bundle.outputFiles?.[0]?.contents;
    if (!code) throw new Error('esbuild wrote no bundle');
    srv.files.set('/dist/demo.js', { type: 'text/javascript', body: code });
    srv.files.set('/demo.ecgnn', { type: 'application/octet-stream', body: modelBytes });
    for (const [name, body] of record100())
      srv.files.set(`/rec/${name}`, { type: 'application/octet-stream', body });
    const context = await chromium.launchPersistentContext(srv.userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1100, height: 900 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      pageErrors = [];
      page.on('pageerror', (e) => pageErrors.push(String(e)));
      await page.goto(`${srv.base}/?model=/demo.ecgnn&record=/rec/100&seconds=${seconds}&from=20`);
      await page.waitForFunction(
        () =>
          ['done', 'error'].includes((globalThis as unknown as { ecgnnDemo: DemoState }).ecgnnDemo.status),
        undefined,
        { timeout: 60_000 },
      );
      state = (await page.evaluate(
        () => (globalThis as unknown as { ecgnnDemo: DemoState }).ecgnnDemo,
      )) as DemoState;
      const shot = join(tmp, 'browser-demo.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.ECGNN_DEMO_SCREENSHOT) copyFileSync(shot, process.env.ECGNN_DEMO_SCREENSHOT);
    } finally {
      await context.close();
    }
  }, 120_000);
  afterAll(async () => srv?.close());

  test('classifies the record in the page with no page errors', () => {
    expect(pageErrors).toEqual([]);
    expect(state.error).toBeNull();
    expect(state.status).toBe('done');
    expect(state.input).toMatchObject({ name: '100', lead: 'MLII', sampleRate: 360, samples: seconds * 360 });
    // About 75 beats a minute in record 100.
    expect(state.results.length).toBeGreaterThan(130);
    expect(state.results.length).toBeLessThan(170);
  });

  test("the page's beats and labels equal classifyRecord in Node on the same model and samples", () => {
    const rec = loadRecord('mitdb', '100');
    const node = classifyRecord(loadModel(modelBytes), rec.signals[0].subarray(0, seconds * 360), rec.fs);
    expect(state.results.map((r) => r.sample)).toEqual(node.map((r) => r.sample));
    expect(state.results.map((r) => r.label)).toEqual(node.map((r) => r.label));
    for (let i = 0; i < node.length; i++)
      expect(state.results[i].probability).toBeCloseTo(node[i].probabilities[node[i].classIndex], 6);
  });
});
