/**
 * Making sure a PhysioNet database is in the data directory: `fetchDatabase` (resumable, SHA-256 checked) with
 * progress lines and the error contract of every command that downloads (the `ecgnn` CLI, the examples): a
 * failed download names `--data`, `ECGNN_DATA` and `--no-download`, and leaves no empty folder behind.
 */
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hasDatabase } from './datadir.js';
import { DataNotFoundError, FetchError } from './errors.js';
import { type FetchProgress, type FetchResult, fetchDatabase } from './fetch.js';

/** Options of {@link downloadDatabase}. */
export interface DownloadOptions {
  /** Base URL of the database files (default: PhysioNet's). */
  baseUrl?: string;
  /** Only these records (default: all records of the database's `RECORDS`). */
  records?: readonly string[];
  /** Where progress lines go (one when a file starts, every 2 s while it downloads, one when it is complete). */
  log: (line: string) => void;
  /** Progress as bytes arrive, instead of the lines through `log` (e.g. a terminal progress bar). */
  onProgress?: (p: FetchProgress) => void;
}

/** The folders on the way from `dir` up that do not exist yet, deepest first. */
function missingFolders(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    out.push(d);
    if (dirname(d) === d) break;
  }
  return out;
}

/** Removes the folders of `created` (deepest first) that are empty, stopping at the first that is not. */
function removeEmpty(created: readonly string[]): void {
  for (const d of created) {
    if (!existsSync(d) || readdirSync(d).length > 0) return;
    rmdirSync(d);
  }
}

/**
 * Downloads database `db` into `<root>/<db>` (files already present and verified are skipped). On failure the
 * folders this call created are removed again if they are empty, and a {@link FetchError} is re-thrown with
 * what to do appended.
 */
export async function downloadDatabase(
  db: string,
  root: string,
  opts: DownloadOptions,
): Promise<FetchResult> {
  const dir = join(root, db);
  const created = missingFolders(dir);
  let lastFile = '';
  let lastReport = 0;
  try {
    return await fetchDatabase(db, dir, {
      baseUrl: opts.baseUrl,
      records: opts.records,
      onProgress:
        opts.onProgress ??
        ((p: FetchProgress) => {
          const now = Date.now();
          const done = p.total !== undefined && p.received >= p.total;
          if (p.file !== lastFile || now - lastReport > 2000 || done) {
            const total = p.total === undefined ? '?' : (p.total / 1e6).toFixed(2);
            opts.log(`  ${p.file}: ${(p.received / 1e6).toFixed(2)} / ${total} MB`);
            lastFile = p.file;
            lastReport = now;
          }
        }),
    });
  } catch (e) {
    removeEmpty(created);
    if (e instanceof FetchError)
      throw new FetchError(
        e.url,
        `${e.message.startsWith(`${e.url}: `) ? e.message.slice(e.url.length + 2) : e.message}\n` +
          `  downloading ${db} into ${dir} failed. Put the data elsewhere with --data <dir> or ECGNN_DATA=<dir>;` +
          ' if it is already there, point --data at it (commands that download on their own take --no-download' +
          ' to fail instead of downloading).',
      );
    throw e;
  }
}

/**
 * Makes sure database `db` is in data directory `root`: returns at once when its `RECORDS` file is there,
 * downloads it when `download`, else throws a {@link DataNotFoundError} naming the folder and the options.
 *
 * @returns whether a download happened
 */
export async function ensureDatabase(
  db: string,
  root: string,
  opts: {
    download: boolean;
    log: (line: string) => void;
    baseUrl?: string;
    onProgress?: (p: FetchProgress) => void;
  },
): Promise<boolean> {
  if (hasDatabase(db, { dataDir: root })) return false;
  const dir = join(root, db);
  if (!opts.download)
    throw new DataNotFoundError(
      `${db} not found in ${dir} (no RECORDS file) and downloading is off (--no-download); ` +
        'point --data or ECGNN_DATA at the folder holding it',
    );
  opts.log(`${db} not found in ${dir}: downloading it from PhysioNet…`);
  const res = await downloadDatabase(db, root, {
    log: opts.log,
    baseUrl: opts.baseUrl,
    onProgress: opts.onProgress,
  });
  opts.log(
    `${dir}: ${res.downloaded.length} files downloaded, SHA-256 ${res.verified ? 'verified' : 'not available'}`,
  );
  return true;
}
