// The browser/ESM bundle of @ecgnn/infer: imports nothing, uses no eval/Function, no Node APIs, stays small.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

async function bundle(entry: string) {
  const r = await build({
    entryPoints: [resolve(src, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser', // a node: import would fail to resolve here
    target: 'es2022',
    write: false,
    metafile: true,
  });
  const out = Object.values(r.metafile.outputs)[0];
  const code = r.outputFiles[0].text;
  return {
    code,
    imports: out.imports,
    min: r.outputFiles[0].contents.length,
    gz: gzipSync(r.outputFiles[0].contents, { level: 9 }).length,
  };
}

describe('bundle', () => {
  it('main entry: no imports, no eval/Function, size within budget', async () => {
    const b = await bundle('index.ts');
    expect(b.imports).toEqual([]);
    expect(b.code).not.toMatch(/\beval\s*\(/);
    expect(b.code).not.toMatch(/\bnew Function\b|[^.\w]Function\s*\(/);
    expect(b.code).not.toMatch(/require\(|process\.|node:/);
    console.log(
      `[infer bundle] index.ts: ${(b.min / 1024).toFixed(1)} KiB minified, ${(b.gz / 1024).toFixed(1)} KiB min+gzip`,
    );
    // Budget: tens of KB gzipped, not hundreds.
    expect(b.gz).toBeLessThan(60 * 1024);
  });

  it('binary subpath bundles alone and small', async () => {
    const b = await bundle('binary/index.ts');
    expect(b.imports).toEqual([]);
    console.log(
      `[infer bundle] binary/index.ts: ${(b.min / 1024).toFixed(1)} KiB minified, ${(b.gz / 1024).toFixed(1)} KiB min+gzip`,
    );
    expect(b.gz).toBeLessThan(5 * 1024);
  });
});
