#!/usr/bin/env node
// `pnpm clean`: removes every package's build output (packages/*/dist, with its .tsbuildinfo), so that the next
// `pnpm build` writes only the modules of today's sources (`tsc -b` never deletes the output of a removed file).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'packages');
for (const name of readdirSync(packages)) {
  const dist = join(packages, name, 'dist');
  if (existsSync(dist)) {
    rmSync(dist, { recursive: true, force: true });
    console.log(`removed packages/${name}/dist`);
  }
}
