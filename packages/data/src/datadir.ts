// Locating the data directory and reading records from it (Node only).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Annotations, readAnnotations } from './annotations.js';
import { DataNotFoundError, EmptyAnnotationsError } from './errors.js';
import { verifyFileBytes } from './integrity.js';
import { decodeRecord, parseHeader, type WfdbRecord } from './wfdb.js';

/** Options that locate the data directory. */
export interface DataDirOptions {
  /** Explicit data directory; wins over `ECGNN_DATA` and the default. */
  dataDir?: string;
}

/** Options of the functions that read a database's files. */
export interface ReadOptions extends DataDirOptions {
  /**
   * Check every file read against the database folder's `SHA256SUMS` (or `SHA256SUMS.txt`) list
   * (default false): an IntegrityError names the file and both hashes on a mismatch or when the list
   * does not name the file; a DataNotFoundError when the folder has no list.
   */
  verify?: boolean;
}

/** Walks up from `start` to the directory holding `pnpm-workspace.yaml` (the repo root). */
export function findRepoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * The data directory: `opts.dataDir` if given, else the `ECGNN_DATA` environment variable, else
 * `../shared/data` beside the repository root (found from this module's location, then from the
 * working directory). The directory is not required to exist.
 */
export function dataDir(opts: DataDirOptions = {}): string {
  if (opts.dataDir) return resolve(opts.dataDir);
  const env = process.env.ECGNN_DATA;
  if (env) return resolve(env);
  const root = findRepoRoot() ?? findRepoRoot(process.cwd()) ?? process.cwd();
  return resolve(root, '..', 'shared', 'data');
}

/** Path of database `db` (e.g. `mitdb`) inside the data directory. */
export function databaseDir(db: string, opts: DataDirOptions = {}): string {
  return join(dataDir(opts), db);
}

/** Whether database `db` is present (its directory holds a `RECORDS` file). */
export function hasDatabase(db: string, opts: DataDirOptions = {}): boolean {
  return existsSync(join(databaseDir(db, opts), 'RECORDS'));
}

/** Reads file `name` of folder `dir`, verified against the folder's checksum list when `verify`. */
function readBytes(dir: string, name: string, verify: boolean | undefined): Uint8Array {
  const path = join(dir, name);
  if (!existsSync(path)) throw new DataNotFoundError(`file not found: ${path}`);
  const b = readFileSync(path);
  const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (verify) verifyFileBytes(dir, name, bytes);
  return bytes;
}

/** Record names listed in the database's `RECORDS` file. */
export function listRecords(db: string, opts: DataDirOptions = {}): string[] {
  const p = join(databaseDir(db, opts), 'RECORDS');
  if (!existsSync(p))
    throw new DataNotFoundError(
      `no RECORDS file in ${databaseDir(db, opts)} (set ECGNN_DATA or pass dataDir)`,
    );
  return readFileSync(p, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Reads and decodes a WFDB record (header + signal files) from database `db`, verifying each
 * signal's first value and checksum, and with `verify` each file's SHA-256 against the folder's
 * `SHA256SUMS`.
 *
 * @param db - database folder name, e.g. `mitdb`
 * @param record - record name, e.g. `100`
 */
export function loadRecord(db: string, record: string, opts: ReadOptions = {}): WfdbRecord {
  const dir = databaseDir(db, opts);
  const heaPath = join(dir, `${record}.hea`);
  if (!existsSync(heaPath)) throw new DataNotFoundError(`header not found: ${heaPath}`);
  const heaBytes = readBytes(dir, `${record}.hea`, opts.verify);
  const header = parseHeader(Buffer.from(heaBytes).toString('latin1'), heaPath);
  const files = new Map<string, Uint8Array>();
  for (const s of header.signals)
    if (!files.has(s.fileName)) files.set(s.fileName, readBytes(dir, s.fileName, opts.verify));
  return decodeRecord(header, files);
}

/**
 * Reads the annotation file `<record>.<annotator>` of database `db` (with `verify`, checked against the
 * folder's `SHA256SUMS`). A file holding no annotations (e.g. zero-length) is an
 * {@link EmptyAnnotationsError} naming its path unless `allowEmpty` (the byte-level `readAnnotations`
 * returns an empty list).
 *
 * @param annotator - file extension, default `atr` (reference annotations)
 */
export function loadAnnotations(
  db: string,
  record: string,
  annotator = 'atr',
  opts: ReadOptions & { allowEmpty?: boolean } = {},
): Annotations {
  const dir = databaseDir(db, opts);
  const name = `${record}.${annotator}`;
  const p = join(dir, name);
  const ann = readAnnotations(readBytes(dir, name, opts.verify), p);
  if (ann.sample.length === 0 && !opts.allowEmpty)
    throw new EmptyAnnotationsError(p, 'the annotation file holds no annotations (empty or truncated file?)');
  return ann;
}
