#!/usr/bin/env node
// Launcher of the `ecgnn` binary. Runs the compiled program (dist/bin.js, what the published package ships); in a
// source checkout that has not been built yet, runs the TypeScript sources through tsx (the workspace root's
// devDependency) with the `@ecgnn/source` condition, so `pnpm exec ecgnn` works right after `pnpm install`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/bin.js', import.meta.url);
if (existsSync(fileURLToPath(dist))) {
  await import(dist.href);
} else {
  let tsx;
  try {
    tsx = import.meta.resolve('tsx');
  } catch {
    console.error('ecgnn: not built (no dist/bin.js) and tsx not found: run `pnpm build` first');
    process.exit(1);
  }
  const src = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
  const args = ['--import', tsx, '--conditions=@ecgnn/source', src, ...process.argv.slice(2)];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
