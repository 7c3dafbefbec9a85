// Downloading PhysioNet databases (Node only): resumable, checksummed, atomic.
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname, join } from 'node:path';
import { FetchError } from './errors.js';
import { parseHeader } from './wfdb.js';

/** Progress of one file download. */
export interface FetchProgress {
  /** File name relative to the database. */
  file: string;
  /** Bytes on disk so far (including a resumed part). */
  received: number;
  /** Total bytes, when the server said. */
  total: number | undefined;
}

/** Options of {@link fetchDatabase}. */
export interface FetchOptions {
  /** Base URL of the database files (default `https://physionet.org/files/<db>/1.0.0/`). */
  baseUrl?: string;
  /** Only these records (default: all records of `RECORDS`). */
  records?: readonly string[];
  /** Progress callback, called as bytes arrive. */
  onProgress?: (p: FetchProgress) => void;
  /** Retries per file after a dropped connection, resuming each time (default 2). */
  retries?: number;
  /** Per-request inactivity timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Name of the checksum list on the server (default `SHA256SUMS.txt`, PhysioNet's name). */
  sumsFile?: string;
}

/** Result of {@link fetchDatabase}. */
export interface FetchResult {
  /** Directory written. */
  dir: string;
  /** Files downloaded by this call. */
  downloaded: string[];
  /** Files already present and verified. */
  skipped: string[];
  /** Whether SHA-256 sums were available and checked. */
  verified: boolean;
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  stream: http.IncomingMessage;
}

function request(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { headers }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, stream: res });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new FetchError(url, `no response for ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof FetchError ? e : new FetchError(url, e.message)));
  });
}

async function getText(url: string, timeoutMs: number): Promise<string | undefined> {
  const res = await request(url, {}, timeoutMs);
  if (res.status === 404) {
    res.stream.resume();
    return undefined;
  }
  if (res.status !== 200) {
    res.stream.resume();
    throw new FetchError(url, `HTTP ${res.status}`);
  }
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    res.stream.on('data', (c: Buffer) => chunks.push(c));
    res.stream.on('end', () => resolve());
    res.stream.on('aborted', () => reject(new FetchError(url, 'connection dropped')));
    res.stream.on('error', (e) => reject(new FetchError(url, e.message)));
  });
  if (!res.stream.complete) throw new FetchError(url, 'connection dropped');
  return Buffer.concat(chunks).toString('utf8');
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** Parses a `sha256sum`-style list (`<hex>  <file>` per line). */
export function parseSha256Sums(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const r = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line.trim());
    if (r) m.set(r[2].trim(), r[1].toLowerCase());
  }
  return m;
}

/**
 * Downloads one file to `dest` through `dest.part`: resumes a partial `.part` with an HTTP
 * Range request (restarting if the server ignores it), checks the SHA-256 when `sha` is given,
 * then renames atomically. A dropped connection leaves only the `.part` (never a final file).
 */
async function downloadFile(
  url: string,
  dest: string,
  name: string,
  sha: string | undefined,
  opts: FetchOptions,
): Promise<void> {
  const part = `${dest}.part`;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const retries = opts.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    const have = existsSync(part) ? statSync(part).size : 0;
    const res = await request(url, have > 0 ? { Range: `bytes=${have}-` } : {}, timeoutMs);
    if (res.status === 416 && have > 0) {
      // the part is already complete (or longer than the file): verify below
      res.stream.resume();
    } else if (res.status !== 200 && res.status !== 206) {
      res.stream.resume();
      if (existsSync(part) && statSync(part).size === 0) unlinkSync(part);
      throw new FetchError(url, `HTTP ${res.status}`);
    } else {
      const append = res.status === 206 && have > 0;
      let received = append ? have : 0;
      const len = Number(res.headers['content-length']);
      const total = Number.isFinite(len) ? len + received : undefined;
      const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
      try {
        await new Promise<void>((resolve, reject) => {
          res.stream.on('data', (c: Buffer) => {
            received += c.length;
            opts.onProgress?.({ file: name, received, total });
          });
          res.stream.on('aborted', () =>
            reject(new FetchError(url, `connection dropped after ${received} bytes`)),
          );
          res.stream.on('error', (e) => reject(new FetchError(url, e.message)));
          res.stream.pipe(out);
          out.on('finish', () => {
            if (!res.stream.complete)
              reject(new FetchError(url, `connection dropped after ${received} bytes`));
            else if (total !== undefined && received !== total)
              reject(new FetchError(url, `received ${received} bytes of ${total}`));
            else resolve();
          });
          out.on('error', (e) => reject(new FetchError(url, `write failed: ${e.message}`)));
        });
      } catch (e) {
        out.destroy();
        await new Promise<void>((r) => {
          out.once('close', () => r());
          out.once('error', () => r());
        });
        if (attempt < retries) continue;
        throw e;
      }
    }
    if (sha !== undefined) {
      const got = await sha256File(part);
      if (got !== sha) {
        unlinkSync(part);
        throw new FetchError(url, `SHA-256 mismatch: got ${got}, expected ${sha}`);
      }
    }
    renameSync(part, dest);
    return;
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Downloads a PhysioNet WFDB database into `dir`: reads `RECORDS` (and `ANNOTATORS`, default
 * `atr`), then for every record its header, the signal files the header names, and its
 * annotation files. Each file is streamed to `<file>.part` with progress callbacks, resumed with
 * an HTTP Range request if a `.part` exists, checked against PhysioNet's published SHA-256 sums
 * (`SHA256SUMS.txt`) when the server has them, and renamed into place. Files already present
 * with a matching sum (or present, when there are no sums) are skipped. On failure a
 * FetchError is thrown; only complete, verified files ever carry their final name.
 *
 * @param db - PhysioNet database slug, e.g. `mitdb`
 * @param dir - destination directory (created if needed)
 */
export async function fetchDatabase(db: string, dir: string, opts: FetchOptions = {}): Promise<FetchResult> {
  if (!/^[a-z0-9-]+$/.test(db)) throw new FetchError(db, 'invalid database name');
  let base = opts.baseUrl ?? `https://physionet.org/files/${db}/1.0.0/`;
  if (!base.endsWith('/')) base += '/';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  mkdirSync(dir, { recursive: true });
  const recordsText = await getText(`${base}RECORDS`, timeoutMs);
  if (recordsText === undefined) throw new FetchError(`${base}RECORDS`, 'HTTP 404 (no RECORDS file)');
  const all = recordsText
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const records = opts.records ?? all;
  for (const r of records) if (!all.includes(r)) throw new FetchError(`${base}RECORDS`, `no record '${r}'`);
  const annotatorsText = await getText(`${base}ANNOTATORS`, timeoutMs);
  const annotators = annotatorsText
    ? annotatorsText
        .split(/\r?\n/)
        .map((l) => l.trim().split(/\s+/)[0])
        .filter((s) => s)
    : ['atr'];
  const sumsText = await getText(`${base}${opts.sumsFile ?? 'SHA256SUMS.txt'}`, timeoutMs);
  const sums = sumsText ? parseSha256Sums(sumsText) : undefined;
  const result: FetchResult = { dir, downloaded: [], skipped: [], verified: sums !== undefined };
  const fetchOne = async (name: string): Promise<void> => {
    if (name.includes('..') || name.startsWith('/')) throw new FetchError(name, 'unsafe file name');
    const dest = join(dir, name);
    mkdirSync(dirname(dest), { recursive: true });
    const sha = sums?.get(name);
    if (existsSync(dest) && (sha === undefined || (await sha256File(dest)) === sha)) {
      result.skipped.push(name);
      return;
    }
    await downloadFile(`${base}${name}`, dest, name, sha, opts);
    result.downloaded.push(name);
  };
  for (const r of records) {
    await fetchOne(`${r}.hea`);
    const heaPath = join(dir, `${r}.hea`);
    const header = parseHeader(readFileSync(heaPath, 'latin1'), heaPath);
    for (const f of new Set(header.signals.map((s) => s.fileName))) await fetchOne(f);
    for (const a of annotators) await fetchOne(`${r}.${a}`);
  }
  writeAtomic(join(dir, 'RECORDS'), `${records.join('\n')}\n`);
  if (annotatorsText) writeAtomic(join(dir, 'ANNOTATORS'), annotatorsText);
  if (sumsText) writeAtomic(join(dir, 'SHA256SUMS.txt'), sumsText);
  return result;
}
