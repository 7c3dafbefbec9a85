// Loads the built ESM bundle of @ecgnn/infer in real headless Chromium (Debian's `chromium`, driven by
// playwright-core), runs the method 5 binary model and a float model on a real ECG window, and compares with
// Node's output. Skipped with a message when Chromium or the data is missing, unless CI=true (then it fails).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel, zscore } from '../src/index.js';
import { mitdbMissing, readMitdbLead0 } from './ecg-data.js';
import { floatZooSpec, method5Spec } from './fixtures.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

function skipReason(): string | null {
  const reasons: string[] = [];
  if (!existsSync(CHROMIUM))
    reasons.push(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const data = mitdbMissing(); // throws when CI=true and missing
  if (data) reasons.push(data);
  if (reasons.length === 0) return null;
  if (process.env.CI === 'true')
    throw new Error(`browser test is required when CI=true: ${reasons.join('; ')}`);
  return reasons.join('; ');
}

const PAGE_SCRIPT = `(async () => {
  const infer = await import('/infer.js');
  const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
  const w = new Float32Array((await bytes('/window.f32')).buffer);
  const b = infer.loadModel(await bytes('/binary.ecgnn'));
  const f = infer.loadModel(await bytes('/float.ecgnn'));
  let typedError = '';
  try {
    infer.loadModel(new Uint8Array(64));
  } catch (e) {
    typedError = e.name + ': ' + (e instanceof infer.ModelFormatError);
  }
  return {
    binary: Array.from(b.logits(w)),
    plan: b.metadata.plan,
    float: Array.from(f.predict(w)),
    typedError,
    userAgent: navigator.userAgent,
  };
})()`;

const reason = skipReason();
if (reason) console.warn(`[infer browser test] skipped: ${reason}`);

describe.skipIf(reason !== null)(
  `@ecgnn/infer in headless Chromium${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let server: Server;
    let base = '';
    let userDataDir = '';
    const files = new Map<string, { type: string; body: Uint8Array | string }>();

    beforeAll(async () => {
      const entry = resolve(dirname(fileURLToPath(import.meta.url)), '../src/index.ts');
      const out = await build({
        entryPoints: [entry],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        minify: true,
        write: false,
        target: 'es2022',
      });
      files.set('/infer.js', { type: 'text/javascript', body: out.outputFiles[0].contents });
      files.set('/', { type: 'text/html', body: '<!doctype html><title>ecgnn infer</title>' });
      server = createServer((req, res) => {
        const f = files.get(req.url ?? '');
        if (!f) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': f.type }).end(f.body);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      userDataDir = mkdtempSync(join(tmpdir(), 'ecgnn-chromium-'));
    });

    afterAll(async () => {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    it('runs models on a real ECG window with the same outputs as Node', async () => {
      // 10 s of mitdb record 100, lead MLII, z-scored (method 5 input: 3600 samples at 360 Hz).
      const { signal } = readMitdbLead0('100', 10);
      const window = zscore(signal);
      const binary = saveModel(method5Spec({ seed: 17 }));
      const float = saveModel(floatZooSpec(8, 3600 / 2));
      files.set('/binary.ecgnn', { type: 'application/octet-stream', body: binary });
      files.set('/float.ecgnn', { type: 'application/octet-stream', body: float });
      files.set('/window.f32', { type: 'application/octet-stream', body: new Uint8Array(window.buffer) });
      const nodeBinary = loadModel(binary);
      const nodeFloat = loadModel(float);
      const expectedBinary = Array.from(nodeBinary.logits(window));
      const expectedFloat = Array.from(nodeFloat.predict(window)); // 2 channels × 1800 = the same 3600 values

      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: FLAGS,
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`${base}/`);
        // Passed as source text: vitest would otherwise rewrite the dynamic import() inside a function.
        const got = (await page.evaluate(PAGE_SCRIPT)) as {
          binary: number[];
          plan: string[];
          float: number[];
          typedError: string;
          userAgent: string;
        };
        expect(errors).toEqual([]);
        expect(got.userAgent).toMatch(/Chrome/);
        expect(got.plan).toEqual(nodeBinary.metadata.plan);
        // Binary network: integer maths + the same float32 epilogue → identical logits.
        expect(got.binary).toEqual(expectedBinary);
        // Float network: same code, same engine family; allow last-bit differences in Math.exp/tanh.
        for (let i = 0; i < expectedFloat.length; i++) expect(got.float[i]).toBeCloseTo(expectedFloat[i], 6);
        expect(got.typedError).toBe('ModelFormatError: true');
      } finally {
        await context.close();
      }
    });
  },
);
