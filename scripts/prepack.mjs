#!/usr/bin/env node
// `prepack` of every published package (run by `pnpm pack` / `pnpm publish` in the package's directory): copies
// the repository's LICENSE into the package (the copy is git-ignored: one source of truth), and refuses to pack
// a package whose build output is missing (run `pnpm build` at the root first) or stale: `tsc -b` never deletes
// the output of a source file that was removed or renamed, so such modules would ship (run `pnpm clean`, then
// `pnpm build`).
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = process.cwd();
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

copyFileSync(join(repo, 'LICENSE'), join(pkgDir, 'LICENSE'));
const missing = [pkg.main, pkg.types, 'README.md'].filter((f) => f && !existsSync(join(pkgDir, f)));
if (missing.length > 0) {
  console.error(
    `${pkg.name}: cannot pack, missing ${missing.join(', ')} (run \`pnpm build\` at the repository root)`,
  );
  process.exit(1);
}

/** Every file under `dir`, as paths relative to the package, with '/' separators. */
function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p) : [relative(pkgDir, p).split('\\').join('/')];
  });
}

/** Whether `path` is packed under the `files` field (entries: a path or folder, `*` within one segment, `!` to exclude). */
function packed(path) {
  const match = (entry) => {
    if (entry.includes('*')) {
      const re = new RegExp(
        `^${entry
          .split('*')
          .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*')}$`,
      );
      return re.test(path);
    }
    return path === entry || path.startsWith(`${entry.replace(/\/$/, '')}/`);
  };
  const files = pkg.files ?? ['dist'];
  return (
    files.some((e) => !e.startsWith('!') && match(e)) &&
    !files.some((e) => e.startsWith('!') && match(e.slice(1)))
  );
}

// Targets named by the package (a bundle such as infer's browser build has no source module of its own).
const named = new Set(
  [pkg.main, pkg.types, pkg.browser, ...(JSON.stringify(pkg.exports ?? {}).match(/"\.\/[^"]+"/g) ?? [])]
    .filter(Boolean)
    .map((f) => f.replace(/^"|"$/g, '').replace(/^\.\//, '')),
);
// A compiled module is stale when no source module src/<same path>.ts compiles to it.
const stale = walk(join(pkgDir, 'dist'))
  .filter((f) => /\.(js|d\.ts)$/.test(f) && packed(f) && !named.has(f))
  .filter((f) => {
    const stem = f.replace(/^dist\//, '').replace(/\.(js|d\.ts)$/, '');
    return !existsSync(join(pkgDir, 'src', `${stem}.ts`));
  });
if (stale.length > 0) {
  console.error(
    `${pkg.name}: cannot pack, ${stale.length} built module(s) without a source file would ship: ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', …' : ''} (run \`pnpm clean && pnpm build\` at the repository root)`,
  );
  process.exit(1);
}
