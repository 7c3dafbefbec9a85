// Bad database folders (issue #20): empty annotation files where beats are expected, SHA256SUMS
// verification on read (`verify: true`) and by `verifyDatabaseDir` (what `ecgnn data verify` of @ecgnn/cli runs;
// the command itself is tested in packages/cli/test/data.test.ts). No data files needed: each test builds a small
// WFDB database in a temporary folder.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  annotationCode,
  DataNotFoundError,
  EmptyAnnotationsError,
  encodeFormat,
  extractBeats,
  IntegrityError,
  interPatientSplit,
  loadAnnotations,
  loadBeats,
  loadRecord,
  readAnnotations,
  recordAamiCounts,
  splitSummary,
  verifyDatabaseDir,
  wfdbChecksum,
  writeAnnotations,
} from '../src/index.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/**
 * Writes database `db` with one record `r` (2000 samples of a 360 Hz sine, format 16) into a new data
 * directory; the annotation file holds `beats` N beats unless `atr` replaces its bytes. With `sums`, a
 * SHA256SUMS list of every file is written.
 */
function makeDatabase(opts: { beats?: number; atr?: Uint8Array; sums?: boolean; db?: string } = {}): {
  root: string;
  dir: string;
} {
  const root = mkdtempSync(join(tmpdir(), 'ecgnn-integrity-'));
  roots.push(root);
  const db = opts.db ?? 'mitdb';
  const dir = join(root, db);
  mkdirSync(dir);
  const n = 2000;
  const sig = Int16Array.from({ length: n }, (_, i) => Math.round(200 * Math.sin(i / 20)));
  const files: Record<string, Uint8Array | string> = {
    RECORDS: 'r\n',
    'r.hea': `r 1 360 ${n}\nr.dat 16 200 16 0 ${sig[0]} ${wfdbChecksum(sig)} 0 MLII\n`,
    'r.dat': encodeFormat(16, [sig]),
  };
  const beats = opts.beats ?? 5;
  files['r.atr'] =
    opts.atr ??
    writeAnnotations({
      sample: Int32Array.from({ length: beats }, (_, i) => 200 + 300 * i),
      code: new Uint8Array(beats).fill(annotationCode('N')),
      subtype: new Int16Array(beats),
      chan: new Int16Array(beats),
      num: new Int16Array(beats),
      aux: new Array(beats).fill(null),
    });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  if (opts.sums ?? true)
    writeFileSync(
      join(dir, 'SHA256SUMS'),
      Object.entries(files)
        .map(([name, content]) => `${sha(content)}  ${name}\n`)
        .join(''),
    );
  return { root, dir };
}

describe('an annotation file without annotations', () => {
  it('the byte-level reader returns an empty list (zero length, or the end word alone)', () => {
    expect(readAnnotations(new Uint8Array(0)).sample.length).toBe(0);
    expect(readAnnotations(Uint8Array.of(0, 0)).sample.length).toBe(0);
  });

  it('loadAnnotations: EmptyAnnotationsError naming the full path, unless allowEmpty', () => {
    const { root, dir } = makeDatabase({ atr: new Uint8Array(0) });
    const path = join(dir, 'r.atr');
    let err: unknown;
    try {
      loadAnnotations('mitdb', 'r', 'atr', { dataDir: root });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EmptyAnnotationsError);
    expect((err as EmptyAnnotationsError).file).toBe(path);
    expect((err as Error).message).toContain(path);
    expect(loadAnnotations('mitdb', 'r', 'atr', { dataDir: root, allowEmpty: true }).sample.length).toBe(0);
  });

  it('extractBeats, loadBeats, recordAamiCounts and splitSummary refuse a record without beats', () => {
    const { root, dir } = makeDatabase({ beats: 0 }); // the end word alone
    const path = join(dir, 'r.atr');
    const rec = loadRecord('mitdb', 'r', { dataDir: root });
    const empty = loadAnnotations('mitdb', 'r', 'atr', { dataDir: root, allowEmpty: true });
    expect(() => extractBeats(rec, empty)).toThrow(EmptyAnnotationsError);
    expect(() => extractBeats(rec, empty)).toThrow(path);
    // Annotations built in memory (no file): the record is named instead.
    expect(() => extractBeats(rec, { ...empty, file: undefined })).toThrow(/annotations of record r/);
    expect(() => loadBeats(['r'], { dataDir: root })).toThrow(path);
    expect(() => recordAamiCounts(['r'], { dataDir: root })).toThrow(EmptyAnnotationsError);
    const split = { ...interPatientSplit(), records: { test: ['r'] } };
    expect(() => splitSummary(split, { dataDir: root })).toThrow(EmptyAnnotationsError);
  });

  it('annotations but no beat annotation is refused too where beats are expected', () => {
    const rhythmOnly = writeAnnotations({
      sample: Int32Array.of(10),
      code: Uint8Array.of(annotationCode('+')),
      subtype: new Int16Array(1),
      chan: new Int16Array(1),
      num: new Int16Array(1),
      aux: ['(N'],
    });
    const { root } = makeDatabase({ atr: rhythmOnly });
    expect(loadAnnotations('mitdb', 'r', 'atr', { dataDir: root }).sample.length).toBe(1);
    expect(() => loadBeats(['r'], { dataDir: root })).toThrow(/1 annotations but no beat annotation/);
  });

  it('a record with beats still loads (the checks do not fire on good data)', () => {
    const { root } = makeDatabase({ beats: 5 });
    expect(loadBeats(['r'], { dataDir: root }).count).toBe(5);
    expect(recordAamiCounts(['r'], { dataDir: root }).r.N).toBe(5);
  });
});

describe('verify: true checks every file read against SHA256SUMS', () => {
  it('passes on intact files', () => {
    const { root } = makeDatabase();
    expect(loadRecord('mitdb', 'r', { dataDir: root, verify: true }).nSamples).toBe(2000);
    expect(loadAnnotations('mitdb', 'r', 'atr', { dataDir: root, verify: true }).sample.length).toBe(5);
    expect(loadBeats(['r'], { dataDir: root, verify: true }).count).toBe(5);
  });

  it('a changed file is an IntegrityError naming the file and both hashes', () => {
    const { root, dir } = makeDatabase();
    // A comment line appended to the header: still a valid header, but not the listed file.
    const hea = join(dir, 'r.hea');
    const edited = `${readFileSync(hea, 'latin1')}# edited\n`;
    writeFileSync(hea, edited, 'latin1');
    let err: unknown;
    try {
      loadRecord('mitdb', 'r', { dataDir: root, verify: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IntegrityError);
    const ie = err as IntegrityError;
    expect(ie.file).toBe(hea);
    expect(ie.actual).toBe(sha(edited));
    expect(ie.expected).toMatch(/^[0-9a-f]{64}$/);
    expect(ie.expected).not.toBe(ie.actual);
    expect(ie.message).toContain(hea);
    expect(ie.message).toContain(ie.expected as string);
    expect(ie.message).toContain(ie.actual);
    // Without verify the edited (valid) header is read as before.
    expect(loadRecord('mitdb', 'r', { dataDir: root }).nSamples).toBe(2000);
  });

  it('a changed annotation file is caught on read', () => {
    const { root, dir } = makeDatabase();
    const atr = join(dir, 'r.atr');
    const bytes = new Uint8Array(readFileSync(atr));
    bytes[0] ^= 1; // first beat one sample later: still a valid file
    writeFileSync(atr, bytes);
    expect(() => loadAnnotations('mitdb', 'r', 'atr', { dataDir: root })).not.toThrow();
    expect(() => loadAnnotations('mitdb', 'r', 'atr', { dataDir: root, verify: true })).toThrow(
      new RegExp(`${atr.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: SHA-256 mismatch`),
    );
  });

  it('a file the list does not name, or a folder without a list, cannot be verified', () => {
    const { root, dir } = makeDatabase();
    writeFileSync(
      join(dir, 'SHA256SUMS'),
      `${sha('r\n')}  RECORDS\n`, // lists RECORDS only
    );
    expect(() => loadRecord('mitdb', 'r', { dataDir: root, verify: true })).toThrow(/not listed in/);
    const bare = makeDatabase({ sums: false });
    expect(() => loadRecord('mitdb', 'r', { dataDir: bare.root, verify: true })).toThrow(DataNotFoundError);
  });

  it('verifyDatabaseDir reports ok, mismatched and missing files', async () => {
    const { dir } = makeDatabase();
    writeFileSync(join(dir, 'r.dat'), new Uint8Array(4000)); // zeros: same length, other content
    rmSync(join(dir, 'RECORDS'));
    const res = await verifyDatabaseDir(dir);
    const status = Object.fromEntries(res.entries.map((e) => [e.file, e.status]));
    expect(status).toEqual({ RECORDS: 'missing', 'r.hea': 'ok', 'r.dat': 'mismatch', 'r.atr': 'ok' });
    expect(res.ok).toBe(false);
    expect(res.entries.find((e) => e.file === 'r.dat')?.actual).toBe(sha(new Uint8Array(4000)));
  });
});
