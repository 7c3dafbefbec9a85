#!/usr/bin/env node
// `prepack` of every published package (run by `pnpm pack` / `pnpm publish` in the package's directory): copies
// the repository's LICENSE into the package (the copy is git-ignored: one source of truth), and refuses to pack
// a package whose build output is missing (run `pnpm build` at the root first).
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
