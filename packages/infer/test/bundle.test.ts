// The published bundles of @ecgnn/infer (scripts/build.mjs): they import nothing but what they must (nothing for
// the main and binary entries; node: builtins and ./index.js for the node entry), use no eval/Function and no Node
// API in the browser entries, run, and stay small; the bundled declarations import no other package.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleOptions } from '../scripts/build.mjs';
import { method5Spec } from './fixtures.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Most bytes the main entry may take minified + gzipped (runtime, WebAssembly kernels, DSP, classifier). 40 KiB
 * until the entry reached it with loadModelFromUrl/topLabel and the polyphase strided conv; 42 KiB until the
 * float layers folded into float thresholds (`thresholdPack`, its WebAssembly kernel, the threshold search) and
 * the dense layout of narrow binary layers took it to 43.5 KiB (docs/infer.md).
 */
const MAIN_BUDGET = 44 * 1024;

async function bundle(entry: 'index' | 'binary/index' | 'node', minify = true) {
  const r = await build({ ...bundleOptions(entry), minify, write: false, metafile: true });
  const out = Object.values(r.metafile.outputs)[0];
  const code = r.outputFiles[0].text;
  return {
    code,
    imports: out.imports.map((i) => i.path),
    min: r.outputFiles[0].contents.length,
    gz: gzipSync(r.outputFiles[0].contents, { level: 9 }).length,
  };
}

const kib = (n: number) => (n / 1024).toFixed(1);
const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-infer-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bundle', () => {
  it('main entry: no imports, no eval/Function, no Node API, size within budget', async () => {
    const b = await bundle('index');
    expect(b.imports).toEqual([]);
    expect(b.code).not.toMatch(/\beval\s*\(/);
    expect(b.code).not.toMatch(/\bnew Function\b|[^.\w]Function\s*\(/);
    expect(b.code).not.toMatch(/require\(|process\.|["'`]node:/);
    console.log(`[infer bundle] index: ${kib(b.min)} KiB minified, ${kib(b.gz)} KiB min+gzip`);
    expect(b.gz).toBeLessThanOrEqual(MAIN_BUDGET);
  });

  it('the bundle runs on its own: a model saved and loaded through it equals the source build', async () => {
    const b = await bundle('index', false);
    const file = join(tmp, 'index.js');
    writeFileSync(file, b.code);
    const infer = await import(pathToFileURL(file).href);
    const src = await import('../src/index.js');
    const spec = method5Spec({ length: 720, seed: 5 });
    const model = infer.loadModel(infer.saveModel(spec));
    const x = Float32Array.from({ length: 720 }, (_, i) => Math.sin(i / 7));
    expect(Array.from(model.logits(x))).toEqual(Array.from(src.loadModel(src.saveModel(spec)).logits(x)));
    expect(typeof infer.createClassifier).toBe('function');
    expect(typeof infer.classifyRecord).toBe('function');
  });

  it('binary subpath bundles alone and small', async () => {
    const b = await bundle('binary/index');
    expect(b.imports).toEqual([]);
    console.log(`[infer bundle] binary/index: ${kib(b.min)} KiB minified, ${kib(b.gz)} KiB min+gzip`);
    expect(b.gz).toBeLessThan(5 * 1024);
  });

  it('node entry imports only node: builtins and the main entry', async () => {
    const b = await bundle('node');
    expect(b.imports.filter((p) => !p.startsWith('node:'))).toEqual(['./index.js']);
    expect(b.min).toBeLessThan(2 * 1024);
  });

  // The declaration bundles need tsc's declarations (dist/tsc, written by `tsc -b`, which `pnpm test` runs first).
  const dts = existsSync(join(root, 'dist', 'tsc', 'index.d.ts'))
    ? null
    : 'dist/tsc/index.d.ts missing (run `tsc -b` first)';
  if (dts && process.env.CI === 'true') throw new Error(dts);
  it.skipIf(dts !== null)(
    `declaration bundles import no package ${dts ? `— skipped: ${dts}` : ''}`,
    async () => {
      const { generateDtsBundle } = await import('dts-bundle-generator');
      const [main] = generateDtsBundle(
        [
          {
            filePath: join(root, 'dist', 'tsc', 'index.d.ts'),
            libraries: { inlinedLibraries: ['@ecgnn/kernels', '@ecgnn/dsp'] },
            output: { noBanner: true },
          },
        ],
        { preferredConfigPath: join(root, 'tsconfig.bundle.json') },
      );
      expect(main).not.toMatch(/^\s*(import|export)\b[^;]*\bfrom\s*['"]/m);
      expect(main).toMatch(/export declare function loadModel\(/);
      expect(main).toMatch(/export declare class Model\b/);
      // node.d.ts (tsc's own) imports the main entry only.
      const node = readFileSync(join(root, 'dist', 'tsc', 'node.d.ts'), 'utf8');
      expect([...node.matchAll(/from\s*['"]([^'"]+)['"]/g)].map((m) => m[1])).toEqual(['./index.js']);
    },
  );
});
