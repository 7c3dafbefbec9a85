// scripts/prepack.mjs on a throwaway package: it refuses to pack a build output that is missing or stale (a
// compiled module whose source file is gone — `tsc -b` never deletes those), names the files, and accepts a
// bundle the package names in its exports.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = resolve(dirname(fileURLToPath(import.meta.url)), 'prepack.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-prepack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A package folder with `files` (path → content) and its package.json. */
function fixture(name: string, pkg: object, files: Record<string, string>): string {
  const dir = join(tmp, name);
  for (const [path, text] of Object.entries({ 'README.md': '# x\n', ...files })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `@t/${name}`, ...pkg }));
  return dir;
}

function prepack(dir: string): { code: number | null; err: string } {
  const r = spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, err: r.stderr };
}

const pkg = {
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', '!dist/.tsbuildinfo', 'src'],
  exports: { '.': { browser: './dist/browser/bundle.min.js', default: './dist/index.js' } },
};
const built = {
  'src/index.ts': 'export const a = 1;\n',
  'src/sub/b.ts': 'export const b = 2;\n',
  'dist/index.js': '',
  'dist/index.d.ts': '',
  'dist/sub/b.js': '',
  'dist/browser/bundle.min.js': '',
};

describe('scripts/prepack.mjs', () => {
  it('packs a fresh build, a named bundle included', () => {
    const r = prepack(fixture('fresh', pkg, built));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('refuses compiled modules whose source is gone, naming them', () => {
    const r = prepack(fixture('stale', pkg, { ...built, 'dist/old.js': '', 'dist/sub/gone.d.ts': '' }));
    expect(r.code).toBe(1);
    expect(r.err).toContain('@t/stale: cannot pack, 2 built module(s) without a source file would ship');
    expect(r.err).toContain('dist/old.js');
    expect(r.err).toContain('dist/sub/gone.d.ts');
    expect(r.err).toContain('pnpm clean && pnpm build');
  });

  it('ignores stale output outside the packed files', () => {
    const r = prepack(
      fixture(
        'unpacked',
        { ...pkg, files: ['dist/*.js', 'dist/*.d.ts', 'src'] },
        {
          ...built,
          'dist/tsc/old.js': '',
        },
      ),
    );
    expect(r.code).toBe(0);
  });

  it('refuses a missing build output', () => {
    const r = prepack(fixture('missing', pkg, { 'src/index.ts': '' }));
    expect(r.code).toBe(1);
    expect(r.err).toContain('missing ./dist/index.js, ./dist/index.d.ts');
  });
});
