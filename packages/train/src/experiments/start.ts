/**
 * The start every experiment run shares, whoever drives it (the `ecgnn` CLI, the example scripts): refuse to
 * record smoke rows into the repository's docs/results.json, select the core backend, find the data directory
 * and make sure the run's database is there, create the output folder, and collect the provenance of the
 * results rows (commit, dirty tree, command).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findBackend, setBackend } from '@ecgnn/core';
import {
  DataNotFoundError,
  databaseDir,
  dataDir as defaultDataDir,
  ensureDatabase,
  type FetchProgress,
  findRepoRoot,
} from '@ecgnn/data';

/** `git rev-parse HEAD` of the repository holding `cwd`, and whether its tree is dirty (null when unknown). */
export function gitInfo(cwd: string): { commit: string; dirty: boolean | null } {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  let commit: string;
  try {
    commit = git('rev-parse', 'HEAD');
  } catch {
    return { commit: 'unknown', dirty: null };
  }
  try {
    return { commit, dirty: git('status', '--porcelain') !== '' };
  } catch {
    return { commit, dirty: null };
  }
}

/** What {@link startExperiment} needs to know about a run. */
export interface ExperimentStartOptions {
  /** How the run is invoked (e.g. `ecgnn prune` or `pnpm exec tsx … examples/lth.ts`), the start of `command`. */
  script: string;
  /** The run's arguments after `script`, recorded in the results rows' `command`. */
  argv: readonly string[];
  /** Smoke run (never recorded into docs/results.json). */
  smoke: boolean;
  /** The results file rows are merged into, if any. */
  record: string | undefined;
  /** Requested core backend for training. */
  backend: 'wasm' | 'cpu';
  /** The data directory asked for (`--data`), if any; else `$ECGNN_DATA`, else ../shared/data beside the repo. */
  data: string | undefined;
  /** Output folder (created). */
  out: string;
  /**
   * The database the run reads: MIT-BIH (downloaded when absent, unless `download` is false), the 17-class
   * fragments (never downloaded), or none.
   */
  needs: 'mitdb' | 'mitbih17' | null;
  /** Allow downloading MIT-BIH when absent. */
  download: boolean;
  /** Progress lines. */
  log: (line: string) => void;
  /** Download progress as bytes arrive (default: lines through `log`). */
  onDownloadProgress?: (p: FetchProgress) => void;
}

/** What a run knows once {@link startExperiment} has run. */
export interface ExperimentStart {
  /** Repository root (or the working directory outside a checkout). */
  root: string;
  /** The backend in use: wasm when requested and available, else cpu. */
  backend: 'wasm' | 'cpu';
  /** The data directory. */
  dataDir: string;
  /** Commit of the repository. */
  commit: string;
  /** Whether the repository's tree differs from the commit (null when unknown). */
  dirty: boolean | null;
  /** The command that reproduces the run (`script` and the arguments, those with spaces quoted). */
  command: string;
}

/**
 * Starts an experiment run (see the module comment). A smoke run asked to record into the repository's
 * docs/results.json throws `usage` (the caller's usage-error class); a missing database throws @ecgnn/data's
 * DataNotFoundError or FetchError (which names `--data`, `ECGNN_DATA` and `--no-download`).
 */
export async function startExperiment(
  o: ExperimentStartOptions,
  usage: new (message: string) => Error,
): Promise<ExperimentStart> {
  const root = findRepoRoot() ?? process.cwd();
  if (o.record && o.smoke && resolve(o.record) === resolve(root, 'docs', 'results.json'))
    throw new usage('--record refuses to write smoke rows into docs/results.json: they are not results');
  const backend = o.backend === 'wasm' && findBackend('wasm') !== null ? 'wasm' : 'cpu';
  if (backend === 'wasm') setBackend('wasm');
  else if (o.backend === 'wasm') o.log('the wasm backend is not available here: training on the cpu backend');
  const dataDir = defaultDataDir({ dataDir: o.data });
  if (o.needs === 'mitdb')
    await ensureDatabase('mitdb', dataDir, {
      download: o.download,
      log: o.log,
      onProgress: o.onDownloadProgress,
    });
  const fragments = databaseDir('mitbih17', { dataDir });
  if (o.needs === 'mitbih17' && !existsSync(join(fragments, 'index.csv'))) {
    throw new DataNotFoundError(
      `the 17-class fragment set is not in ${fragments} (index.csv and MLII/; Plawiak 2018, see ../shared/data/mitbih17/README.md); it is not downloaded automatically`,
    );
  }
  const { commit, dirty } = gitInfo(root);
  mkdirSync(o.out, { recursive: true });
  const args = o.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
  return { root, backend, dataDir, commit, dirty, command: args === '' ? o.script : `${o.script} ${args}` };
}
