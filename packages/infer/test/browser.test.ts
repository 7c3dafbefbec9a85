// Loads the built ESM bundle of @ecgnn/infer in real headless Chromium (Debian's `chromium`, driven by
// playwright-core), runs the method 5 binary model, a float model and a two-input model (beat window + RR
// features) on a real ECG window, and compares with
// Node's output. Skipped with a message when Chromium or the data is missing, unless CI=true (then it fails).
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserSkipReason,
  evaluateInChromium,
  type StaticServer,
  startStaticServer,
} from '../../../test-utils/chromium.js';
import { bundleOptions } from '../scripts/build.mjs';
import { loadModel, saveModel, zscore } from '../src/index.js';
import { mitdbMissing, readMitdbLead0 } from './ecg-data.js';
import { beatRrSpec, floatZooSpec, method5Spec } from './fixtures.js';

function skipReason(): string | null {
  const data = mitdbMissing(); // throws when CI=true and the data is missing
  return browserSkipReason('browser test', data ? [data] : []);
}

const PAGE_SCRIPT = `(async () => {
  const infer = await import('/infer.js');
  const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
  const w = new Float32Array((await bytes('/window.f32')).buffer);
  const b = infer.loadModel(await bytes('/binary.ecgnn'));
  const f = infer.loadModel(await bytes('/float.ecgnn'));
  const two = infer.loadModel(await bytes('/two.ecgnn'));
  const twoOut = two.predict({ beat: w.subarray(1000, 1128), rr: Float32Array.of(-0.3, 0.4, 0.05, -0.25) });
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
    two: Array.from(twoOut),
    typedError,
    userAgent: navigator.userAgent,
  };
})()`;

const reason = skipReason();
if (reason) console.warn(`[infer browser test] skipped: ${reason}`);

describe.skipIf(reason !== null)(
  `@ecgnn/infer in headless Chromium${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let srv: StaticServer;

    beforeAll(async () => {
      srv = await startStaticServer('ecgnn-chromium-');
      // The published bundle of the main entry (scripts/build.mjs), minified.
      const out = await build({ ...bundleOptions('index'), minify: true, write: false });
      srv.files.set('/infer.js', { type: 'text/javascript', body: out.outputFiles[0].contents });
      srv.files.set('/', { type: 'text/html', body: '<!doctype html><title>ecgnn infer</title>' });
    });

    afterAll(async () => {
      await srv?.close();
    });

    it('runs models on a real ECG window with the same outputs as Node', async () => {
      // 10 s of mitdb record 100, lead MLII, z-scored (method 5 input: 3600 samples at 360 Hz).
      const { signal } = readMitdbLead0('100', 10);
      const window = zscore(signal);
      const binary = saveModel(method5Spec({ seed: 17 }));
      const float = saveModel(floatZooSpec(8, 3600 / 2));
      srv.files.set('/binary.ecgnn', { type: 'application/octet-stream', body: binary });
      srv.files.set('/float.ecgnn', { type: 'application/octet-stream', body: float });
      const two = saveModel(beatRrSpec(12, 128, 50));
      srv.files.set('/two.ecgnn', { type: 'application/octet-stream', body: two });
      const expectedTwo = Array.from(
        loadModel(two).predict({
          beat: window.subarray(1000, 1128),
          rr: Float32Array.of(-0.3, 0.4, 0.05, -0.25),
        }),
      );
      srv.files.set('/window.f32', { type: 'application/octet-stream', body: new Uint8Array(window.buffer) });
      const nodeBinary = loadModel(binary);
      const nodeFloat = loadModel(float);
      const expectedBinary = Array.from(nodeBinary.logits(window));
      const expectedFloat = Array.from(nodeFloat.predict(window)); // 2 channels × 1800 = the same 3600 values

      // Passed as source text: vitest would otherwise rewrite the dynamic import() inside a function.
      const { value: got, pageErrors } = await evaluateInChromium<{
        binary: number[];
        plan: string[];
        float: number[];
        two: number[];
        typedError: string;
        userAgent: string;
      }>(chromium, srv, PAGE_SCRIPT);
      expect(pageErrors).toEqual([]);
      expect(got.userAgent).toMatch(/Chrome/);
      expect(got.plan).toEqual(nodeBinary.metadata.plan);
      // Binary network: integer maths + the same float32 epilogue → identical logits.
      expect(got.binary).toEqual(expectedBinary);
      // Float network: same code, same engine family; allow last-bit differences in Math.exp/tanh.
      for (let i = 0; i < expectedFloat.length; i++) expect(got.float[i]).toBeCloseTo(expectedFloat[i], 6);
      // Two inputs (beat window + RR features): same model code, same engine family.
      for (let i = 0; i < expectedTwo.length; i++) expect(got.two[i]).toBeCloseTo(expectedTwo[i], 6);
      expect(got.typedError).toBe('ModelFormatError: true');
    });
  },
);
