// SHA-256 verification of database files against the folder's `SHA256SUMS` list (Node only).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { DataNotFoundError, FormatError, IntegrityError } from './errors.js';
import { parseSha256Sums } from './fetch.js';

/**
 * Names of the checksum list in a database folder, in order of preference: `SHA256SUMS` (what
 * `sha256sum * > SHA256SUMS` writes) and `SHA256SUMS.txt` (PhysioNet's name, kept by `fetchDatabase`).
 */
export const SUMS_FILES: readonly string[] = ['SHA256SUMS', 'SHA256SUMS.txt'];

/** Path of the checksum list of folder `dir`, or undefined when it has none. */
export function findSumsFile(dir: string): string | undefined {
  for (const name of SUMS_FILES) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

interface CachedSums {
  mtimeMs: number;
  size: number;
  sums: Map<string, string>;
}

/** Parsed lists by path, re-read when the file's modification time or size changes. */
const sumsCache = new Map<string, CachedSums>();

/** The parsed checksum list at `path` (file name → lowercase hex SHA-256); names are checked to stay inside the folder. */
function readSums(path: string): Map<string, string> {
  const st = statSync(path);
  const hit = sumsCache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.sums;
  const sums = parseSha256Sums(readFileSync(path, 'utf8'));
  for (const name of sums.keys())
    if (isAbsolute(name) || name.split(/[\\/]/).includes('..'))
      throw new FormatError(path, `unsafe file name '${name}' (must stay inside the folder)`);
  sumsCache.set(path, { mtimeMs: st.mtimeMs, size: st.size, sums });
  return sums;
}

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Checks the contents `bytes` of file `name` of database folder `dir` against the folder's checksum list.
 *
 * @throws DataNotFoundError when the folder has no checksum list ({@link SUMS_FILES})
 * @throws IntegrityError naming the file's full path and both hashes on a mismatch, or when the list does
 *   not name the file
 */
export function verifyFileBytes(dir: string, name: string, bytes: Uint8Array): void {
  const sumsPath = findSumsFile(dir);
  if (sumsPath === undefined)
    throw new DataNotFoundError(`cannot verify ${join(dir, name)}: no ${SUMS_FILES.join(' or ')} in ${dir}`);
  const expected = readSums(sumsPath).get(name);
  const actual = sha256Hex(bytes);
  if (expected !== actual) throw new IntegrityError(join(dir, name), expected, actual, sumsPath);
}

/** Status of one listed file in {@link verifyDatabaseDir}. */
export interface VerifyEntry {
  /** File name as listed (relative to the folder). */
  file: string;
  /** `ok`: hashes agree; `mismatch`: they differ; `missing`: listed but not in the folder. */
  status: 'ok' | 'mismatch' | 'missing';
  /** Listed SHA-256. */
  expected: string;
  /** The file's SHA-256 (absent when missing). */
  actual?: string;
}

/** Result of {@link verifyDatabaseDir}. */
export interface VerifyResult {
  /** Folder verified. */
  dir: string;
  /** Checksum list used. */
  sumsFile: string;
  /** One entry per listed file, in list order. */
  entries: VerifyEntry[];
  /** Whether no present file mismatched (missing files are reported, not failures: a partial download lists every file). */
  ok: boolean;
}

function sha256FileStream(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/**
 * Verifies every file listed in folder `dir`'s checksum list (streamed, so large signal files are not held
 * in memory), calling `onEntry` after each.
 *
 * @throws DataNotFoundError when the folder has no checksum list
 */
export async function verifyDatabaseDir(
  dir: string,
  onEntry?: (e: VerifyEntry) => void,
): Promise<VerifyResult> {
  const sumsFile = findSumsFile(dir);
  if (sumsFile === undefined)
    throw new DataNotFoundError(`cannot verify ${dir}: no ${SUMS_FILES.join(' or ')} in it`);
  const entries: VerifyEntry[] = [];
  for (const [file, expected] of readSums(sumsFile)) {
    const p = join(dir, file);
    let e: VerifyEntry;
    if (!existsSync(p)) e = { file, status: 'missing', expected };
    else {
      const actual = await sha256FileStream(p);
      e = { file, status: actual === expected ? 'ok' : 'mismatch', expected, actual };
    }
    entries.push(e);
    onEntry?.(e);
  }
  return { dir, sumsFile, entries, ok: entries.every((e) => e.status !== 'mismatch') };
}

/**
 * Throws the {@link IntegrityError} of the first mismatching file of `result`, if any.
 */
export function assertVerified(result: VerifyResult): void {
  const bad = result.entries.find((e) => e.status === 'mismatch');
  if (bad)
    throw new IntegrityError(join(result.dir, bad.file), bad.expected, bad.actual ?? '', result.sumsFile);
}
