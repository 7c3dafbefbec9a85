/**
 * Beat preparation and the download-when-absent path of the main job. Needs MIT-BIH record 100 (served to the
 * downloader by a local HTTP server; no network): runs when present, fails when CI=true and absent, skips with
 * a message otherwise.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countAami, databaseDir, dataDir, hasDatabase, loadAnnotations } from '@ecgnn/data';
import { afterAll, describe, expect, test } from 'vitest';
import { BEAT_LENGTH, countLabels, ensureMitdb, prepareBeats, RR_COUNT, rrModelFeatures } from './beats.js';

const present = hasDatabase('mitdb');
const ci = process.env.CI === 'true';
if (!present && !ci) {
  console.warn(`examples/lib/beats.test.ts: skipping data tests: MIT-BIH not found in ${dataDir()}/mitdb`);
}

test('RR features are ratios to the local and record rhythm', () => {
  // previous, next, local mean, record mean (seconds) of two beats
  const raw = new Float32Array([0.6, 1.0, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]);
  const f = rrModelFeatures(raw, 2);
  const expected = [0.6 / 0.8 - 1, 1.0 / 0.8 - 1, 0, 0.6 / 0.8 - 1];
  expected.forEach((e, i) => {
    expect(f[i]).toBeCloseTo(e, 6);
  });
  expect(Array.from(f.subarray(4))).toEqual([0, 0, 0, 0]);
  // a record with one beat has zero intervals: ratios default to 1 (features 0), never NaN
  expect(Array.from(rrModelFeatures(new Float32Array(4), 1))).toEqual([0, 0, 0, 0]);
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
