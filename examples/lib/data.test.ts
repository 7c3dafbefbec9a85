/**
 * The download-when-absent path of the examples (`ensureMitdb`). The download test serves MIT-BIH record 100 to
 * the downloader from a local HTTP server (no network): it runs when the data are present, fails when CI=true
 * and they are absent, and skips with a message otherwise.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseDir, dataDir, hasDatabase, IntegrityError } from '@ecgnn/data';
import { loadBeatDataset } from '@ecgnn/train';
import { afterAll, describe, expect, test } from 'vitest';
import { ensureMitdb } from './data.js';

const present = hasDatabase('mitdb');
const ci = process.env.CI === 'true';
if (!present && !ci) {
  console.warn(
    `examples/lib/data.test.ts: skipping the download test: MIT-BIH not found in ${dataDir()}/mitdb`,
  );
}

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

describe.runIf(present || ci)('ensureMitdb with MIT-BIH', () => {
  let server: Server | undefined;
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  test('downloads a missing database (local server), then leaves a present one alone', async () => {
    if (!present) throw new Error(`CI=true but MIT-BIH not found in ${dataDir()}/mitdb`);
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
    // The downloaded record gives the same beats as the original.
    const fetched = loadBeatDataset(['100'], { dataDir: dir });
    const original = loadBeatDataset(['100'], { dataDir: dataDir() });
    expect(fetched.count).toBeGreaterThan(2000);
    expect(fetched.inputs).toEqual(original.inputs);
    expect(fetched.label).toEqual(original.label);
    expect(await ensureMitdb(opts)).toBe(false);
    const empty = mkdtempSync(join(tmpdir(), 'ecgnn-nodata-'));
    dirs.push(empty);
    await expect(ensureMitdb({ dataDir: empty, log: () => {}, download: false })).rejects.toThrow(
      /not found/,
    );
  });
});
