/**
 * Beat preparation and the download-when-absent path of the main job. Needs MIT-BIH record 100 (served to the
 * downloader by a local HTTP server; no network): runs when present, fails when CI=true and absent, skips with
 * a message otherwise.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  countAami,
  databaseDir,
  dataDir,
  EmptyAnnotationsError,
  extractBeats,
  hasDatabase,
  IntegrityError,
  loadAnnotations,
  loadRecord,
  normalizeRr,
  rrFeatures,
} from '@ecgnn/data';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { BEAT_LENGTH, countLabels, ensureMitdb, prepareBeats, RR_COUNT, RR_FEATURE_NAMES } from './beats.js';

const present = hasDatabase('mitdb');
const ci = process.env.CI === 'true';
if (!present && !ci) {
  console.warn(`examples/lib/beats.test.ts: skipping data tests: MIT-BIH not found in ${dataDir()}/mitdb`);
}

/**
 * The RR feature computation this file had before it moved to @ecgnn/dsp's `normalizeRr` (kept verbatim as the
 * oracle: the model's RR inputs must stay bit-identical).
 */
function previousRrModelFeatures(raw: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const pre = raw[i * 4];
    const post = raw[i * 4 + 1];
    const local = raw[i * 4 + 2];
    const rec = raw[i * 4 + 3];
    const safeLocal = local > 0 ? local : 1;
    const safeRec = rec > 0 ? rec : 1;
    out[i * 4] = (local > 0 ? pre / safeLocal : 1) - 1;
    out[i * 4 + 1] = (local > 0 ? post / safeLocal : 1) - 1;
    out[i * 4 + 2] = (rec > 0 ? local / safeRec : 1) - 1;
    out[i * 4 + 3] = (rec > 0 ? pre / safeRec : 1) - 1;
  }
  return out;
}

test('RR features are ratios to the local and record rhythm', () => {
  // previous, next, local mean, record mean (seconds) of two beats
  const raw = new Float32Array([0.6, 1.0, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]);
  const f = normalizeRr(raw, 2, RR_FEATURE_NAMES);
  const expected = [0.6 / 0.8 - 1, 1.0 / 0.8 - 1, 0, 0.6 / 0.8 - 1];
  expected.forEach((e, i) => {
    expect(f[i]).toBeCloseTo(e, 6);
  });
  expect(Array.from(f.subarray(4))).toEqual([0, 0, 0, 0]);
  // a record with one beat has zero intervals: ratios default to 1 (features 0), never NaN
  expect(Array.from(normalizeRr(new Float32Array(4), 1, RR_FEATURE_NAMES))).toEqual([0, 0, 0, 0]);
});

test('RR features are bit-identical to the previous in-example implementation', () => {
  // Random raw features, including zero and negative denominators.
  const value = fc.oneof(fc.constant(0), fc.float({ min: -2, max: 3, noNaN: true }));
  fc.assert(
    fc.property(fc.array(fc.tuple(value, value, value, value), { maxLength: 40 }), (rows) => {
      const raw = Float32Array.from(rows.flat());
      expect(normalizeRr(raw, rows.length, RR_FEATURE_NAMES)).toEqual(
        previousRrModelFeatures(raw, rows.length),
      );
    }),
  );
  // Raw features of real beat trains (irregular intervals; 1 and 2 beats).
  const trains = [
    Int32Array.of(17),
    Int32Array.of(5, 300),
    Int32Array.of(0, 290, 610, 800, 1300, 1555, 1900),
  ];
  for (const beats of trains) {
    const raw = rrFeatures(beats, 360);
    expect(normalizeRr(raw, beats.length, RR_FEATURE_NAMES)).toEqual(
      previousRrModelFeatures(raw, beats.length),
    );
  }
});

test('ensureMitdb verify: checks a present folder against its SHA256SUMS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecgnn-verify-'));
  try {
    mkdirSync(join(dir, 'mitdb'));
    const records = join(dir, 'mitdb', 'RECORDS');
    writeFileSync(records, '100\n');
    const sum = createHash('sha256').update('100\n').digest('hex');
    writeFileSync(join(dir, 'mitdb', 'SHA256SUMS'), `${sum}  RECORDS\n`);
    const lines: string[] = [];
    const opts = { dataDir: dir, log: (l: string) => lines.push(l), download: false, verify: true };
    expect(await ensureMitdb(opts)).toBe(false);
    expect(lines.join('\n')).toMatch(/1 files verified/);
    writeFileSync(records, '101\n');
    await expect(ensureMitdb(opts)).rejects.toThrow(IntegrityError);
    await expect(ensureMitdb(opts)).rejects.toThrow(`lists ${sum}`);
    // verify off: the changed folder is not read
    expect(await ensureMitdb({ ...opts, verify: false })).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe.runIf(present || ci)('with MIT-BIH', () => {
  const need = (): void => {
    if (!present) throw new Error(`CI=true but MIT-BIH not found in ${dataDir()}/mitdb`);
  };

  test('prepareBeats: every AAMI beat, z-scored 126-sample windows, finite RR features', () => {
    need();
    const b = prepareBeats(['100'], { dataDir: dataDir() });
    const c = countAami(loadAnnotations('mitdb', '100'));
    expect(countLabels(b)).toEqual(c);
    expect(b.x.length).toBe(b.count * BEAT_LENGTH);
    expect(b.rr.length).toBe(b.count * RR_COUNT);
    for (let i = 0; i < b.count; i += 97) {
      const w = b.x.subarray(i * BEAT_LENGTH, (i + 1) * BEAT_LENGTH);
      const mean = w.reduce((a, v) => a + v, 0) / BEAT_LENGTH;
      const sd = Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / BEAT_LENGTH);
      expect(Math.abs(mean)).toBeLessThan(1e-4);
      expect(sd).toBeCloseTo(1, 3);
    }
    expect(b.rr.every((v) => Number.isFinite(v))).toBe(true);
    const every4 = prepareBeats(['100'], { dataDir: dataDir(), every: 4 });
    expect(every4.count).toBe(Math.ceil(b.count / 4));
    expect(every4.x.subarray(BEAT_LENGTH, 2 * BEAT_LENGTH)).toEqual(
      b.x.subarray(4 * BEAT_LENGTH, 5 * BEAT_LENGTH),
    );
  });

  test('prepareBeats RR features are bit-identical to the previous implementation on MIT-BIH records', () => {
    need();
    for (const r of ['100', '207', '232']) {
      const b = prepareBeats([r], { dataDir: dataDir() });
      const rec = loadRecord('mitdb', r);
      const meta = extractBeats(rec, loadAnnotations('mitdb', r), { before: 0, after: 1 / rec.fs });
      expect(b.rr).toEqual(previousRrModelFeatures(meta.rr, meta.count));
    }
  });

  test('prepareBeats refuses a zero-length .atr (issue #20: the test set shrank silently)', () => {
    need();
    const dir = mkdtempSync(join(tmpdir(), 'ecgnn-emptyatr-'));
    try {
      mkdirSync(join(dir, 'mitdb'));
      for (const f of ['100.hea', '100.dat'])
        copyFileSync(join(databaseDir('mitdb'), f), join(dir, 'mitdb', f));
      writeFileSync(join(dir, 'mitdb', '100.atr'), new Uint8Array(0));
      expect(() => prepareBeats(['100'], { dataDir: dir })).toThrow(EmptyAnnotationsError);
      expect(() => prepareBeats(['100'], { dataDir: dir })).toThrow(join(dir, 'mitdb', '100.atr'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('ensureMitdb', () => {
    let server: Server | undefined;
    const dirs: string[] = [];
    afterAll(async () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    });

    test('downloads a missing database (local server), then leaves a present one alone', async () => {
      need();
      const src = databaseDir('mitdb');
      server = createServer((req, res) => {
        const name = (req.url ?? '/').replace(/^\//, '');
        if (name === 'RECORDS') {
          res.end('100\n');
          return;
        }
        if (!['100.hea', '100.dat', '100.atr'].includes(name)) {
          res.statusCode = 404;
          res.end();
          return;
        }
        const bytes = readFileSync(join(src, name));
        res.setHeader('content-length', String(bytes.length));
        res.end(bytes);
      });
      await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as AddressInfo).port;
      const dir = mkdtempSync(join(tmpdir(), 'ecgnn-fetch-'));
      dirs.push(dir);
      const lines: string[] = [];
      const opts = { dataDir: dir, log: (l: string) => lines.push(l), baseUrl: `http://127.0.0.1:${port}/` };
      expect(await ensureMitdb(opts)).toBe(true);
      expect(lines.some((l) => l.includes('100.dat'))).toBe(true);
      expect(hasDatabase('mitdb', { dataDir: dir })).toBe(true);
      const fetched = prepareBeats(['100'], { dataDir: dir });
      const original = prepareBeats(['100'], { dataDir: dataDir() });
      expect(fetched.x).toEqual(original.x);
      expect(await ensureMitdb(opts)).toBe(false);
      const empty = mkdtempSync(join(tmpdir(), 'ecgnn-nodata-'));
      dirs.push(empty);
      await expect(ensureMitdb({ dataDir: empty, log: () => {}, download: false })).rejects.toThrow(
        /not found/,
      );
    });
  });
});
