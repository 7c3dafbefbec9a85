// What a user installs: `pnpm pack` of @ecgnn/kernels, @ecgnn/core and @ecgnn/infer (each runs its `prepack`), the
// tarballs installed with npm into a fresh folder outside the workspace, then
//  - the tarballs' contents (README, LICENSE, no .tsbuildinfo, main/types beside exports, no workspace: ranges);
//  - a Node script: the README examples of core and infer, a model saved and loaded through the installed
//    packages (its logits equal the workspace's), scijs ndarray interop with the installed ndarray;
//  - `tsc --noEmit` against the installed types with moduleResolution node10, node16 and bundler, without
//    skipLibCheck and without @types/ndarray;
//  - the README's browser page in headless Chromium, importing the installed package's browser bundle as is;
//  - docs/infer.md states the bundle sizes the build wrote (dist/browser/sizes.json).
// Installing needs the npm registry (core depends on ndarray): when npm or the registry is unavailable the tests
// are skipped with the reason, unless CI=true (then they fail). About 30-60 s.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, evaluateInChromium, startStaticServer } from '../../../test-utils/chromium.js';
import { loadModel, saveModel } from '../src/index.js';
import { method5Spec } from './fixtures.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGES = ['kernels', 'core', 'infer'] as const;
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
/** In the generated consumer sources: a name, so that check-deps does not read them as this package's imports. */
const CORE = '@ecgnn/core';

/** Runs a command; returns its output, or throws with the command, its status and its output. */
function run(cmd: string, args: string[], cwd: string, timeout = 60_000): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) {
    const why = r.error ? String(r.error) : `exit status ${r.status}`;
    throw new Error(`\`${cmd} ${args.join(' ')}\` in ${cwd} failed (${why}):\n${out}`);
  }
  return out;
}

/** The first fenced block of `lang` in a README. */
function snippet(readme: string, lang: string): string {
  const m = readFileSync(readme, 'utf8').match(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``));
  if (!m) throw new Error(`${readme}: no \`\`\`${lang} block`);
  return m[1];
}

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-pack-'));
const tarballs = join(tmp, 'tarballs');
const app = join(tmp, 'app');
const spec = method5Spec({ length: 720, seed: 11 });
const bytes = saveModel(spec);
const x = Float32Array.from({ length: 720 }, (_, i) => Math.sin(i / 11) + 0.3 * Math.cos(i / 3));
let skip: string | null = null;

beforeAll(() => {
  // Fresh build output (incremental: seconds when nothing changed); infer's prepack rebuilds its bundles.
  run(
    process.execPath,
    [tsc, '-b', ...['kernels', 'dsp', 'core', 'infer'].map((p) => `packages/${p}`)],
    repo,
    120_000,
  );
  for (const p of PACKAGES) run('pnpm', ['pack', '--pack-destination', tarballs], join(repo, 'packages', p));
  mkdirSync(app);
  const tgz = (p: string) => `file:${join(tarballs, `ecgnn-${p}-0.1.0.tgz`)}`;
  const deps = Object.fromEntries(PACKAGES.map((p) => [`@ecgnn/${p}`, tgz(p)]));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: deps }),
  );
  writeFileSync(join(app, 'model.ecgnn'), bytes);
  try {
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app, 75_000);
  } catch (err) {
    const reason = `npm install of the packed tarballs failed (no registry access?): ${(err as Error).message.split('\n')[0]}`;
    if (process.env.CI === 'true') throw new Error(`${reason} — required when CI=true`);
    skip = reason;
    console.warn(`[pack test] skipped: ${reason}`);
  }
}, 150_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('packed tarballs', () => {
  it('carry README and LICENSE, no .tsbuildinfo, main/types beside exports, published dependency ranges', () => {
    for (const p of PACKAGES) {
      const file = join(tarballs, `ecgnn-${p}-0.1.0.tgz`);
      const files = run('tar', ['tzf', file], tmp).trim().split('\n');
      expect(files, p).toContain('package/README.md');
      expect(files, p).toContain('package/LICENSE');
      expect(
        files.filter((f) => f.endsWith('.tsbuildinfo')),
        p,
      ).toEqual([]);
      const pkg = JSON.parse(run('tar', ['xzOf', file, 'package/package.json'], tmp));
      expect(files, p).toContain(`package/${pkg.main.replace('./', '')}`);
      expect(files, p).toContain(`package/${pkg.types.replace('./', '')}`);
      expect(pkg.exports['.'].default).toBe(pkg.main);
      expect(JSON.stringify(pkg.dependencies)).not.toMatch(/workspace:/);
      expect(run('tar', ['xzOf', file, 'package/LICENSE'], tmp)).toMatch(
        /^MIT License\n\nCopyright \(c\) 2026 the ecgnn authors/,
      );
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
    if (skip) ctx.skip();
    writeFileSync(join(app, 'readme-core.mjs'), snippet(join(repo, 'packages/core/README.md'), 'js'));
    writeFileSync(join(app, 'readme-infer.mjs'), snippet(join(repo, 'packages/infer/README.md'), 'js'));
    const fit = JSON.parse(run('node', ['readme-core.mjs'], app).replace(/\s+/g, '')) as number[][];
    expect(Math.abs(fit[0][0] - 1)).toBeLessThan(0.05);
    expect(Math.abs(fit[1][0] - 2)).toBeLessThan(0.05);
    expect(run('node', ['readme-infer.mjs'], app)).toMatch(/label: '[^']+', index: \d, probability: 0\.\d+/);
    writeFileSync(
      join(app, 'check.mjs'),
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
    writeFileSync(join(app, 'x.f32'), new Uint8Array(x.buffer));
    const got = JSON.parse(run('node', ['check.mjs'], app));
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
  for (const [name, options] of [
    ['node10', { module: 'esnext', moduleResolution: 'node10' }],
    ['node16', { module: 'node16', moduleResolution: 'node16' }],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
  ] as const) {
    it(`tsc --noEmit with moduleResolution ${name}, no skipLibCheck, no @types/ndarray`, (ctx) => {
      if (skip) ctx.skip();
      expect(existsSync(join(app, 'node_modules/@types/ndarray'))).toBe(false);
      writeFileSync(join(app, 'check.ts'), CHECK_TS);
      const config = {
        compilerOptions: {
          ...options,
          target: 'es2022',
          lib: ['es2022', 'dom'],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['check.ts'],
      };
      writeFileSync(join(app, `tsconfig.${name}.json`), JSON.stringify(config));
      run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], app);
    });
  }

  const browserSkip = browserSkipReason('pack test (browser page)');
  it.skipIf(browserSkip !== null)(
    `browser: the README page imports the installed bundle with no build step${browserSkip ? ` (skipped: ${browserSkip})` : ''}`,
    async (ctx) => {
      if (skip) ctx.skip();
      const srv = await startStaticServer('ecgnn-pack-chromium-');
      try {
        const bundle = 'node_modules/@ecgnn/infer/dist/browser/infer.min.js';
        srv.files.set(`/${bundle}`, { type: 'text/javascript', body: readFileSync(join(app, bundle)) });
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
    if (skip) ctx.skip();
    const sizes = JSON.parse(
      readFileSync(join(app, 'node_modules/@ecgnn/infer/dist/browser/sizes.json'), 'utf8'),
    );
    const doc = readFileSync(join(repo, 'docs/infer.md'), 'utf8');
    const kib = (n: number) => (n / 1024).toFixed(1);
    const stated = doc.match(/([\d.]+) KiB minified, \*\*([\d.]+) KiB minified \+ gzip\*\*/);
    expect(stated?.slice(1), 'the "Bundle size" figures of docs/infer.md').toEqual([
      kib(sizes.minified),
      kib(sizes.gzip),
    ]);
    expect(readdirSync(join(app, 'node_modules/@ecgnn/infer/dist/browser')).sort()).toEqual([
      'infer.min.js',
      'sizes.json',
    ]);
  });
});
