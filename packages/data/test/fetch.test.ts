// fetchDatabase against local HTTP servers on 127.0.0.1 that serve the shared mitdb files.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { databaseDir, FetchError, type FetchProgress, fetchDatabase, loadRecord } from '../src/index.js';
import { describeWithData } from './data-helper.js';

type Mode = { drop?: string; notFound?: string; corrupt?: string; ignoreRange?: boolean };

interface TestServer {
  url: string;
  ranges: string[];
  close: () => Promise<void>;
}

/** Serves `src` files (SHA256SUMS.txt → SHA256SUMS), honouring Range; stops by itself after 60 s. */
function serve(src: string, mode: Mode): Promise<TestServer> {
  const ranges: string[] = [];
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
    const file = join(src, name === 'SHA256SUMS.txt' ? 'SHA256SUMS' : name);
    if (name.includes('..') || name === mode.notFound || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    let body = readFileSync(file);
    if (name === mode.corrupt) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    let start = 0;
    const range = req.headers.range;
    if (range && !mode.ignoreRange) {
      ranges.push(`${name} ${range}`);
      start = Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0);
      if (start >= body.length) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, {
        'Content-Length': body.length - start,
        'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
    } else res.writeHead(200, { 'Content-Length': body.length });
    const part = body.subarray(start);
    if (name === mode.drop) {
      // send half of the bytes, then kill the connection
      res.write(part.subarray(0, part.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(part);
  });
  const timer = setTimeout(() => {
    server.closeAllConnections();
    server.close();
  }, 60_000);
  timer.unref();
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        ranges,
        close: () =>
          new Promise<void>((r) => {
            clearTimeout(timer);
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describeWithData('mitdb', 'fetchDatabase (local HTTP server)', () => {
  const src = databaseDir('mitdb');
  const dirs: string[] = [];
  const servers: TestServer[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'ecgnn-fetch-'));
    dirs.push(d);
    return join(d, 'mitdb');
  };
  const start = async (mode: Mode = {}): Promise<TestServer> => {
    const s = await serve(src, mode);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('downloads records with progress and SHA-256 checks; a second call skips them', async () => {
    const s = await start();
    const dir = tmp();
    const progress: FetchProgress[] = [];
    const res = await fetchDatabase('mitdb', dir, {
      baseUrl: s.url,
      records: ['100', '101'],
      onProgress: (p) => progress.push(p),
    });
    expect(res.verified).toBe(true);
    expect(res.downloaded.sort()).toEqual(['100.atr', '100.dat', '100.hea', '101.atr', '101.dat', '101.hea']);
    for (const f of res.downloaded) expect(sha(join(dir, f))).toBe(sha(join(src, f)));
    expect(
      progress.some((p) => p.file === '100.dat' && p.received === 1_950_000 && p.total === 1_950_000),
    ).toBe(true);
    expect(readFileSync(join(dir, 'RECORDS'), 'utf8')).toBe('100\n101\n');
    // the downloaded copy decodes (checksums verified)
    expect(loadRecord('mitdb', '100', { dataDir: join(dir, '..') }).nSamples).toBe(650000);
    const again = await fetchDatabase('mitdb', dir, { baseUrl: s.url, records: ['100', '101'] });
    expect(again.downloaded).toEqual([]);
    expect(again.skipped.length).toBe(6);
  });

  it('a dropped connection leaves no final file; the next call resumes with a Range request', async () => {
    const bad = await start({ drop: '100.dat' });
    const dir = tmp();
    await expect(
      fetchDatabase('mitdb', dir, { baseUrl: bad.url, records: ['100'], retries: 0 }),
    ).rejects.toThrow(FetchError);
    expect(existsSync(join(dir, '100.dat'))).toBe(false);
    const partSize = statSync(join(dir, '100.dat.part')).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(1_950_000);
    const good = await start();
    const res = await fetchDatabase('mitdb', dir, { baseUrl: good.url, records: ['100'] });
    expect(res.downloaded).toContain('100.dat');
    expect(good.ranges).toEqual([`100.dat bytes=${partSize}-`]);
    expect(sha(join(dir, '100.dat'))).toBe(sha(join(src, '100.dat')));
    expect(existsSync(join(dir, '100.dat.part'))).toBe(false);
  });

  it('retries resume automatically after drops, and restart when the server ignores Range', async () => {
    const dir = tmp();
    // the server drops the first response half-way every time, but the resumed tail is half of the rest…
    const flaky = await start({ drop: '100.dat' });
    await expect(
      fetchDatabase('mitdb', dir, { baseUrl: flaky.url, records: ['100'], retries: 3 }),
    ).rejects.toThrow(/connection dropped/);
    expect(existsSync(join(dir, '100.dat'))).toBe(false);
    // …each retry resumed from the larger part file
    expect(flaky.ranges.length).toBe(3);
    const noRange = await start({ ignoreRange: true });
    await fetchDatabase('mitdb', dir, { baseUrl: noRange.url, records: ['100'] });
    expect(sha(join(dir, '100.dat'))).toBe(sha(join(src, '100.dat')));
  });

  it('HTTP 404 gives a FetchError naming the URL and leaves nothing behind', async () => {
    const s = await start({ notFound: '100.atr' });
    const dir = tmp();
    const err = await fetchDatabase('mitdb', dir, { baseUrl: s.url, records: ['100'] }).catch((e) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect(String(err.message)).toMatch(/100\.atr: HTTP 404/);
    expect(existsSync(join(dir, '100.atr'))).toBe(false);
    expect(existsSync(join(dir, '100.atr.part'))).toBe(false);
  });

  it('a SHA-256 mismatch is refused and the bad bytes are deleted', async () => {
    const s = await start({ corrupt: '100.dat' });
    const dir = tmp();
    await expect(fetchDatabase('mitdb', dir, { baseUrl: s.url, records: ['100'] })).rejects.toThrow(
      /SHA-256 mismatch/,
    );
    expect(existsSync(join(dir, '100.dat'))).toBe(false);
    expect(existsSync(join(dir, '100.dat.part'))).toBe(false);
  });

  it('rejects unknown records and a server without RECORDS', async () => {
    const s = await start({ notFound: 'RECORDS' });
    const dir = tmp();
    await expect(fetchDatabase('mitdb', dir, { baseUrl: s.url })).rejects.toThrow(/RECORDS/);
    const t = await start();
    await expect(fetchDatabase('mitdb', dir, { baseUrl: t.url, records: ['999'] })).rejects.toThrow(
      /no record '999'/,
    );
  });
});
