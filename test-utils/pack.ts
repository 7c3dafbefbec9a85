// Shared harness of the packing tests (packages/infer/test/pack.test.ts, packages/cli/test/pack.test.ts): build,
// `pnpm pack` (each package's `prepack` runs), install the tarballs with npm into a fresh folder outside the
// workspace, the checks every tarball passes, and `tsc --noEmit` of a consumer file against the installed types.
import { execFile, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** Runs a command; returns its output, or throws with the command, its status and its output. */
export function run(cmd: string, args: string[], cwd: string, timeout = 60_000): string {
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

/**
 * {@link run} without blocking the worker: vitest's worker answers its RPC calls on the event loop, and a
 * synchronous minute of building and packing on a loaded machine ends in "Timeout calling onTaskUpdate".
 */
export function runAsync(cmd: string, args: string[], cwd: string, timeout = 60_000): Promise<string> {
  const env = { ...process.env, FORCE_COLOR: '0' };
  return new Promise((done, fail) => {
    execFile(cmd, args, { cwd, env, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`;
      if (err)
        fail(
          new Error(`\`${cmd} ${args.join(' ')}\` in ${cwd} failed (${err.message.split('\n')[0]}):\n${out}`),
        );
      else done(out);
    });
  });
}

/** The first fenced block of `lang` in a README. */
export function snippet(readme: string, lang: string): string {
  const m = readFileSync(readme, 'utf8').match(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``));
  if (!m) throw new Error(`${readme}: no \`\`\`${lang} block`);
  return m[1];
}

/**
 * Runs `fn` holding a lock directory in node_modules: the packing tests run in parallel workers, and two `tsc -b`
 * or two `pnpm pack` of @ecgnn/infer (its prepack rebuilds the bundles) writing the same dist at once would race.
 * A lock older than `staleMs` is left from a killed run and is taken over.
 */
async function withRepoLock<T>(fn: () => Promise<T>, staleMs = 600_000): Promise<T> {
  const lock = join(REPO, 'node_modules', '.ecgnn-pack.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > staleMs) rmdirSync(lock);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmdirSync(lock);
  }
}

/** What {@link packAndInstall} made. */
export interface PackedApp {
  /** The temporary folder holding `tarballs/` and `app/` (remove it in `afterAll`). */
  tmp: string;
  /** The consumer folder the tarballs are installed in (`npm install`, its own package.json). */
  app: string;
  /** Why the installed-package tests are skipped (npm or the registry unavailable), or null. */
  skip: string | null;
  /** The tarball of workspace package `p` (`kernels`, `core`, …). */
  tarball(p: string): string;
}

/**
 * Builds the workspace packages `packages` (and what they reference: `tsc -b`, incremental), packs each with
 * `pnpm pack`, and installs all the tarballs together with npm into a fresh folder outside the workspace, with
 * the consumer's `devDependencies` from the registry. When npm or the registry is unavailable, `skip` gives the
 * reason, unless CI=true (then it throws).
 */
export async function packAndInstall(
  name: string,
  packages: readonly string[],
  devDependencies: Record<string, string> = {},
): Promise<PackedApp> {
  const tmp = mkdtempSync(join(tmpdir(), `ecgnn-${name}-`));
  const tarballs = join(tmp, 'tarballs');
  const app = join(tmp, 'app');
  const tarball = (p: string) => join(tarballs, `ecgnn-${p}-0.1.0.tgz`);
  await withRepoLock(async () => {
    await runAsync(process.execPath, [TSC, '-b', ...packages.map((p) => `packages/${p}`)], REPO, 120_000);
    for (const p of packages) {
      await runAsync('pnpm', ['pack', '--pack-destination', tarballs], join(REPO, 'packages', p), 120_000);
    }
  });
  mkdirSync(app);
  const dependencies = Object.fromEntries(packages.map((p) => [`@ecgnn/${p}`, `file:${tarball(p)}`]));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module', dependencies, devDependencies }),
  );
  let skip: string | null = null;
  try {
    await runAsync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app, 75_000);
  } catch (err) {
    const reason = `npm install of the packed tarballs failed (no registry access?): ${(err as Error).message.split('\n')[0]}`;
    if (process.env.CI === 'true') throw new Error(`${reason} — required when CI=true`);
    skip = reason;
    console.warn(`[${name} test] skipped: ${reason}`);
  }
  return { tmp, app, skip, tarball };
}

/** The package.json a tarball carries (as packed: workspace ranges rewritten). */
export interface PackedManifest {
  name: string;
  main: string;
  types: string;
  exports: Record<string, Record<string, string>>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** Bare package names imported (static, dynamic, `import type`) by the .js/.mjs/.d.ts files under `dir`. */
function importedPackages(dir: string): Set<string> {
  const names = new Set<string>();
  const valid = /^(@[a-z0-9~-][\w.~-]*\/)?[a-z0-9~-][\w.~-]*$/;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(m?js|d\.ts)$/.test(entry.name)) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const name = spec
        .split('/')
        .slice(0, spec.startsWith('@') ? 2 : 1)
        .join('/');
      if (valid.test(name)) names.add(name);
    }
  }
  return names;
}

/**
 * The checks every tarball passes: README and the repository's LICENSE, no .tsbuildinfo, `main`/`types` in the
 * tarball and beside `exports['.']` (moduleResolution node10), the `bin` files present, no `workspace:` ranges,
 * and every package its shipped code imports declared in `dependencies` (so it installs alone). Returns the
 * file list and the packed package.json.
 */
export function checkTarball(file: string, cwd: string): { files: string[]; pkg: PackedManifest } {
  const files = run('tar', ['tzf', file], cwd).trim().split('\n');
  const pkg = JSON.parse(run('tar', ['xzOf', file, 'package/package.json'], cwd)) as PackedManifest;
  const p = pkg.name;
  expect(files, p).toContain('package/README.md');
  expect(files, p).toContain('package/LICENSE');
  expect(
    files.filter((f) => f.endsWith('.tsbuildinfo')),
    p,
  ).toEqual([]);
  expect(files, p).toContain(`package/${pkg.main.replace('./', '')}`);
  expect(files, p).toContain(`package/${pkg.types.replace('./', '')}`);
  expect(pkg.exports['.'].default, p).toBe(pkg.main);
  expect(pkg.exports['.'].types, p).toBe(pkg.types);
  for (const bin of Object.values(pkg.bin ?? {}))
    expect(files, p).toContain(`package/${bin.replace('./', '')}`);
  expect(JSON.stringify(pkg.dependencies ?? {}), p).not.toMatch(/workspace:/);
  expect(run('tar', ['xzOf', file, 'package/LICENSE'], cwd), p).toMatch(
    /^MIT License\n\nCopyright \(c\) 2026 the ecgnn authors/,
  );
  const unpacked = mkdtempSync(join(cwd, 'unpacked-'));
  run('tar', ['xzf', file, '-C', unpacked], cwd);
  const declared = new Set([pkg.name, ...Object.keys(pkg.dependencies ?? {})]);
  const imported = [...importedPackages(join(unpacked, 'package'))];
  expect(
    imported.filter((n) => !declared.has(n)),
    `${p}: packages its dist imports without declaring them`,
  ).toEqual([]);
  return { files, pkg };
}

/** moduleResolution settings a consumer may use, with the `module` each requires. */
export const RESOLUTIONS = [
  ['node10', { module: 'esnext', moduleResolution: 'node10' }],
  ['node16', { module: 'node16', moduleResolution: 'node16' }],
  ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
] as const;

/**
 * `tsc --noEmit` of `source` (written as `<name>.ts` in `app`) with `options` (module, moduleResolution), strict,
 * without skipLibCheck, and only the ambient types in `types` (none by default); throws with tsc's errors.
 */
export async function typecheckConsumer(
  app: string,
  name: string,
  source: string,
  options: Record<string, string>,
  types: string[] = [],
): Promise<void> {
  writeFileSync(join(app, `${name}.ts`), source);
  const config = {
    compilerOptions: {
      ...options,
      target: 'es2022',
      lib: ['es2022', 'dom'],
      types,
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    },
    files: [`${name}.ts`],
  };
  writeFileSync(join(app, `tsconfig.${name}.json`), JSON.stringify(config));
  await runAsync(process.execPath, [TSC, '-p', `tsconfig.${name}.json`], app, 120_000);
}
