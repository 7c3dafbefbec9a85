/**
 * What every example script does the same way: the start of a run (backend, data, output folder, provenance),
 * run `main` when the file is the one Node was started with (expected failures print their message only and
 * exit 1), and merge its results rows into a results file.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBackend, setBackend } from '@ecgnn/core';
import {
  DataError,
  DataNotFoundError,
  databaseDir,
  dataDir as defaultDataDir,
  findRepoRoot,
} from '@ecgnn/data';
import { type ResultsRow, recordResultsRow } from '@ecgnn/train';
import { ensureMitdb } from './data.js';
import { gitInfo } from './report.js';

/**
 * Runs `main(process.argv.slice(2))` when the module at `metaUrl` (its `import.meta.url`) is the script Node was
 * started with. Errors that are instances of `expected` (usage errors) or @ecgnn/data's `DataError` (missing data,
 * a failed download) print `error: <message>`; anything else prints with its stack. Either sets exit code 1.
 */
export function runIfInvoked(
  metaUrl: string,
  main: (argv: readonly string[]) => Promise<unknown>,
  expected: ReadonlyArray<abstract new (...args: never[]) => Error> = [],
): void {
  if (process.argv[1] === undefined || resolve(process.argv[1]) !== fileURLToPath(metaUrl)) return;
  main(process.argv.slice(2)).then(
    () => undefined,
    (err: unknown) => {
      if (err instanceof DataError || expected.some((E) => err instanceof E))
        console.error(`error: ${(err as Error).message}`);
      else console.error(err);
      process.exitCode = 1;
    },
  );
}

/** Merges `rows` into the results file `file` by id (regenerating results.md beside it) and logs which. */
export function recordRows(file: string, rows: readonly ResultsRow[], log: (line: string) => void): void {
  for (const row of rows) recordResultsRow(file, row);
  log(`results: ${rows.map((r) => r.id).join(', ')} merged into ${file} (and results.md beside it)`);
}

/** What {@link startScript} needs from a script's parsed options. */
export interface ScriptStartOptions {
  /** How the script is invoked (e.g. `pnpm exec tsx --conditions=@ecgnn/source examples/bnn.ts`). */
  script: string;
  /** The script's arguments, recorded in the results rows' `command`. */
  argv: readonly string[];
  /** Smoke run (never recorded into docs/results.json). */
  smoke: boolean;
  /** `--record` file, if any. */
  record: string | undefined;
  /** Requested core backend for training. */
  backend: 'wasm' | 'cpu';
  /** `--data`, if given. */
  data: string | undefined;
  /** Output folder (created). */
  out: string;
  /** The database the run reads: MIT-BIH (downloaded when absent, unless `download` is false), the 17-class fragments (never downloaded), or none. */
  needs: 'mitdb' | 'mitbih17' | null;
  /** Allow downloading MIT-BIH when absent. */
  download: boolean;
  /** Progress lines. */
  log: (line: string) => void;
}

/** What a script knows once {@link startScript} has run. */
export interface ScriptStart {
  /** Repository root (or the working directory outside a checkout). */
  root: string;
  /** The backend in use: wasm when requested and available, else cpu. */
  backend: 'wasm' | 'cpu';
  /** The data directory (`--data`, else `$ECGNN_DATA`, else ../shared/data beside the repository). */
  dataDir: string;
  /** Commit of the repository and whether its tree differs from it. */
  commit: string;
  dirty: boolean | null;
  /** The command that reproduces the run (arguments with spaces quoted). */
  command: string;
}

/**
 * The start every experiment script shares: refuses to record smoke rows into the repository's
 * docs/results.json (UsageError `usage`), selects the backend (saying so when wasm is not available), finds the
 * data directory and makes sure the run's database is there, creates the output folder, and returns the
 * provenance of the rows (commit, dirty tree, command).
 */
export async function startScript(
  o: ScriptStartOptions,
  usage: new (message: string) => Error,
): Promise<ScriptStart> {
  const root = findRepoRoot() ?? process.cwd();
  if (o.record && o.smoke && resolve(o.record) === resolve(root, 'docs', 'results.json'))
    throw new usage('--record refuses to write smoke rows into docs/results.json: they are not results');
  const backend = o.backend === 'wasm' && findBackend('wasm') !== null ? 'wasm' : 'cpu';
  if (backend === 'wasm') setBackend('wasm');
  else if (o.backend === 'wasm') o.log('the wasm backend is not available here: training on the cpu backend');
  const dataDir = defaultDataDir({ dataDir: o.data });
  if (o.needs === 'mitdb') await ensureMitdb({ dataDir, log: o.log, download: o.download });
  const fragments = databaseDir('mitbih17', { dataDir });
  if (o.needs === 'mitbih17' && !existsSync(join(fragments, 'index.csv'))) {
    throw new DataNotFoundError(
      `the 17-class fragment set is not in ${fragments} (index.csv and MLII/; Plawiak 2018, see ../shared/data/mitbih17/README.md); it is not downloaded automatically`,
    );
  }
  const { commit, dirty } = gitInfo(root);
  await mkdir(o.out, { recursive: true });
  const args = o.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
  return { root, backend, dataDir, commit, dirty, command: args === '' ? o.script : `${o.script} ${args}` };
}
