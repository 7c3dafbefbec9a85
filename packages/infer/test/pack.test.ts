// What a user installs: `pnpm pack` of @ecgnn/kernels, @ecgnn/core and @ecgnn/infer (each runs its `prepack`), the
// tarballs installed with npm into a fresh folder outside the workspace, then
//  - the tarballs' contents (README, LICENSE, no .tsbuildinfo, main/types beside exports, no workspace: ranges,
//    every imported package declared);
//  - a Node script: the README examples of core and infer, a model saved and loaded through the installed
//    packages (its logits equal the workspace's), scijs ndarray interop with the installed ndarray;
//  - `tsc --noEmit` against the installed types with moduleResolution node10, node16 and bundler, without
//    skipLibCheck and without @types/ndarray;
//  - the README's browser page in headless Chromium, importing the installed package's browser bundle as is;
//  - docs/infer.md states the bundle sizes the build wrote (dist/browser/sizes.json).
// Installing needs the npm registry (core depends on ndarray): when npm or the registry is unavailable the tests
// are skipped with the reason, unless CI=true (then they fail). About 30-60 s. The packing, installing and tarball
// checks are shared with packages/cli/test/pack.test.ts (every publishable package): test-utils/pack.ts.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, evaluateInChromium, startStaticServer } from '../../../test-utils/chromium.js';
import {
  checkTarball,
  type PackedApp,
  packAndInstall,
  RESOLUTIONS,
  REPO as repo,
  run,
  snippet,
  typecheckConsumer,
} from '../../../test-utils/pack.js';
import { loadModel, saveModel } from '../src/index.js';
import { method5Spec } from './fixtures.js';

const PACKAGES = ['kernels', 'core', 'infer'] as const;
/** In the generated consumer sources: a name, so that check-deps does not read them as this package's imports. */
const CORE = '@ecgnn/core';

const spec = method5Spec({ length: 720, seed: 11 });
const bytes = saveModel(spec);
const x = Float32Array.from({ length: 720 }, (_, i) => Math.sin(i / 11) + 0.3 * Math.cos(i / 3));
let packed: PackedApp;

beforeAll(async () => {
  // Fresh build output (incremental: seconds when nothing changed); infer's prepack rebuilds its bundles.
  packed = await packAndInstall('pack', PACKAGES);
  writeFileSync(join(packed.app, 'model.ecgnn'), bytes);
}, 150_000);

afterAll(() => {
  if (packed) rmSync(packed.tmp, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  it('carry README and LICENSE, no .tsbuildinfo, main/types beside exports, published dependency ranges', () => {
    for (const p of PACKAGES) {
      const { files, pkg } = checkTarball(packed.tarball(p), packed.tmp);
      if (p === 'infer') {
        expect(pkg.dependencies ?? {}).toEqual({});
        expect(files).toContain('package/dist/browser/infer.min.js');
        expect(pkg.exports['.'].browser).toBe('./dist/browser/infer.min.js');
        expect(files.filter((f) => f.startsWith('package/dist/tsc/'))).toEqual([]);
      }
    }
  });
});

describe('installed into a fresh folder', () => {
  it('Node: the README examples run; a model saved and loaded through the packages gives the workspace logits', (ctx) => {
    if (packed.skip) ctx.skip();
    writeFileSync(join(packed.app, 'readme-core.mjs'), snippet(join(repo, 'packages/core/README.md'), 'js'));
    writeFileSync(
      join(packed.app, 'readme-infer.mjs'),
      snippet(join(repo, 'packages/infer/README.md'), 'js'),
    );
    const fit = JSON.parse(run('node', ['readme-core.mjs'], packed.app).replace(/\s+/g, '')) as number[][];
    expect(Math.abs(fit[0][0] - 1)).toBeLessThan(0.05);
    expect(Math.abs(fit[1][0] - 2)).toBeLessThan(0.05);
    expect(run('node', ['readme-infer.mjs'], packed.app)).toMatch(
      /label: '[^']+', index: \d, probability: 0\.\d+/,
    );
    writeFileSync(
      join(packed.app, 'check.mjs'),
      `import { readFileSync } from 'node:fs';
import ndarray from 'ndarray';
import { fromNdarray, tensor, toNdarray } from '${CORE}';
import { loadModel, topLabel } from '@ecgnn/infer';
import { readModelFile, writeModelFile } from '@ecgnn/infer/node';
const x = new Float32Array(new Uint8Array(readFileSync('x.f32')).buffer);
const model = loadModel(readFileSync('model.ecgnn'));
await writeModelFile('copy.ecgnn', readFileSync('model.ecgnn'));
const copy = await readModelFile('copy.ecgnn');
const nd = toNdarray(tensor([1, 2, 3, 4, 5, 6], [2, 3]));
const back = fromNdarray(ndarray(new Float64Array([0, 1, 2, 3, 4, 5]), [2, 3]).transpose(1, 0));
console.log(JSON.stringify({
  logits: Array.from(model.logits(x)),
  copy: Array.from(copy.logits(x)),
  top: topLabel(model, model.predict(x)).label,
  nd: nd.get(1, 2),
  back: back.toArray(),
}));
`,
    );
    writeFileSync(join(packed.app, 'x.f32'), new Uint8Array(x.buffer));
    const got = JSON.parse(run('node', ['check.mjs'], packed.app));
    const expected = Array.from(loadModel(bytes).logits(x));
    expect(got.logits).toEqual(expected);
    expect(got.copy).toEqual(expected);
    expect(loadModel(bytes).metadata.classes).toContain(got.top);
    expect(got.nd).toBe(6);
    expect(got.back).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
  });

  // One file using the public types (a wrong use must fail: the types are not `any`), checked three ways.
  const CHECK_TS = `import { type NdArray, type Tensor, tensor, toNdarray } from '${CORE}';
import { loadModelFromUrl, type Model, ModelFetchError, type TopLabel, topLabel } from '@ecgnn/infer';
import { packSigns } from '@ecgnn/infer/binary';
import { readModelFile } from '@ecgnn/infer/node';
import { createWasmKernelSet } from '@ecgnn/kernels/wasm';

const t: Tensor = tensor([1, 2, 3, 4], [2, 2]);
const nd: NdArray = toNdarray(t).transpose(1, 0);
const v: number = nd.get(0, 1);
async function main(): Promise<[Model, Model]> {
  return [await loadModelFromUrl('/m.ecgnn'), await readModelFile('m.ecgnn')];
}
function top(m: Model, p: Float32Array): TopLabel {
  return topLabel(m, p);
}
const err = new ModelFetchError('u: HTTP 404', 'u', 404);
const status: number | undefined = err.status;
const words: Uint32Array = packSigns([1, -1], 2);
// @ts-expect-error: a label is a string
const wrong: number = topLabel({} as Model, new Float32Array(1)).label;
export { main, top, v, status, words, wrong, createWasmKernelSet };
`;
  for (const [name, options] of RESOLUTIONS) {
    it(`tsc --noEmit with moduleResolution ${name}, no skipLibCheck, no @types/ndarray`, async (ctx) => {
      if (packed.skip) ctx.skip();
      expect(existsSync(join(packed.app, 'node_modules/@types/ndarray'))).toBe(false);
      await typecheckConsumer(packed.app, `check-${name}`, CHECK_TS, options);
    });
  }

  const browserSkip = browserSkipReason('pack test (browser page)');
  it.skipIf(browserSkip !== null)(
    `browser: the README page imports the installed bundle with no build step${browserSkip ? ` (skipped: ${browserSkip})` : ''}`,
    async (ctx) => {
      if (packed.skip) ctx.skip();
      const srv = await startStaticServer('ecgnn-pack-chromium-');
      try {
        const bundle = 'node_modules/@ecgnn/infer/dist/browser/infer.min.js';
        srv.files.set(`/${bundle}`, {
          type: 'text/javascript',
          body: readFileSync(join(packed.app, bundle)),
        });
        srv.files.set('/model.ecgnn', { type: 'application/octet-stream', body: bytes });
        srv.files.set('/x.f32', { type: 'application/octet-stream', body: new Uint8Array(x.buffer) });
        const page = snippet(join(repo, 'packages/infer/README.md'), 'html');
        srv.files.set('/', { type: 'text/html', body: `<!doctype html><title>ecgnn</title>${page}` });
        const { value, pageErrors } = await evaluateInChromium<{
          result: string;
          logits: number[];
          missing: string;
        }>(
          chromium,
          srv,
          `(async () => {
            const infer = await import('/${bundle}');
            const el = document.getElementById('result');
            for (let i = 0; i < 200 && !el.textContent; i++) await new Promise((r) => setTimeout(r, 25));
            const x = new Float32Array(await (await fetch('/x.f32')).arrayBuffer());
            const model = await infer.loadModelFromUrl('/model.ecgnn');
            const missing = await infer.loadModelFromUrl('/missing.ecgnn').catch((e) => e.name + ' ' + e.status);
            return { result: el.textContent, logits: Array.from(model.logits(x)), missing };
          })()`,
        );
        expect(pageErrors).toEqual([]);
        expect(value.result).toMatch(/^\S+ \d+\.\d %$/);
        expect(value.missing).toBe('ModelFetchError 404');
        // Binary network: integer maths and the same float32 epilogue in both engines.
        expect(value.logits).toEqual(Array.from(loadModel(bytes).logits(x)));
      } finally {
        await srv.close();
      }
    },
  );

  it('docs/infer.md states the bundle sizes the build wrote', (ctx) => {
    if (packed.skip) ctx.skip();
    const sizes = JSON.parse(
      readFileSync(join(packed.app, 'node_modules/@ecgnn/infer/dist/browser/sizes.json'), 'utf8'),
    );
    const doc = readFileSync(join(repo, 'docs/infer.md'), 'utf8');
    const kib = (n: number) => (n / 1024).toFixed(1);
    const stated = doc.match(/([\d.]+) KiB minified, \*\*([\d.]+) KiB minified \+ gzip\*\*/);
    expect(stated?.slice(1), 'the "Bundle size" figures of docs/infer.md').toEqual([
      kib(sizes.minified),
      kib(sizes.gzip),
    ]);
    expect(readdirSync(join(packed.app, 'node_modules/@ecgnn/infer/dist/browser')).sort()).toEqual([
      'infer.min.js',
      'sizes.json',
    ]);
  });
});
