// `ecgnn data info|verify|fetch`: SHA-256 verification and failed downloads on folders made here; class counts
// and a download from a local server on MIT-BIH (run when present, fail when CI=true and absent).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AAMI_CLASSES, DE_CHAZAL_PUBLISHED_COUNTS, DS1, DS2, databaseDir, listRecords } from '@ecgnn/data';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK } from '../src/index.js';
import { cli, runDataTests, serveFolder } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe('ecgnn data verify', () => {
  const root = join(tmp, 'verify');
  const toy = join(root, 'toy');
  mkdirSync(toy, { recursive: true });
  writeFileSync(join(toy, 'a.bin'), 'alpha');
  writeFileSync(join(toy, 'b.bin'), 'beta');
  writeFileSync(join(toy, 'SHA256SUMS'), `${sha256('alpha')}  a.bin\n${sha256('beta')}  b.bin\n`);

  it('every database of the data directory: all files ok → exit 0', async () => {
    const r = await cli('data', 'verify', '--data', root);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain(
      `toy: 2 files listed in ${join(toy, 'SHA256SUMS')}: 2 ok, 0 mismatched, 0 missing`,
    );
  });

  it('a changed file is a mismatch naming its path → exit 1; a missing one is reported', async () => {
    writeFileSync(join(toy, 'b.bin'), 'BETA');
    unlinkSync(join(toy, 'a.bin'));
    const r = await cli('data', 'verify', 'toy', '--data', root);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.out).toContain(
      `MISMATCH  ${join(toy, 'b.bin')}: listed ${sha256('beta')}, file has ${sha256('BETA')}`,
    );
    expect(r.out).toContain(`missing   ${join(toy, 'a.bin')}`);
    const j = await cli('data', 'verify', '--data', root, '--json');
    expect(j.code).toBe(EXIT_FAILURE);
    const res = JSON.parse(j.out);
    expect(res.databases).toHaveLength(1);
    expect(res.databases[0]).toMatchObject({ database: 'toy', ok: false });
    expect(
      res.databases[0].problems.map((p: { file: string; status: string }) => [p.file, p.status]),
    ).toEqual([
      ['a.bin', 'missing'],
      ['b.bin', 'mismatch'],
    ]);
  });

  it('a data directory without checksum lists exits 1', async () => {
    mkdirSync(join(tmp, 'bare'), { recursive: true });
    const r = await cli('data', 'verify', '--data', join(tmp, 'bare'));
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain('no database folder with SHA256SUMS');
  });
});

describe('ecgnn data fetch and info without the data', () => {
  it('a failed download exits 1, says what to do, and leaves no empty folder behind', async () => {
    const server = await serveFolder(tmp, 500);
    try {
      const root = join(tmp, 'new', 'data');
      const r = await cli('data', 'fetch', '--data', root, '--base-url', server.url);
      expect(r.code).toBe(EXIT_FAILURE);
      for (const s of ['--data', 'ECGNN_DATA', '--no-download', join(root, 'mitdb')])
        expect(r.err).toContain(s);
      expect(existsSync(join(tmp, 'new'))).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('info without MIT-BIH exits 1 naming the folder and the fetch command', async () => {
    const r = await cli('data', 'info', '--data', join(tmp, 'nothing'));
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain(join(tmp, 'nothing', 'mitdb'));
    expect(r.err).toContain('ecgnn data fetch');
  });
});

describe.runIf(runDataTests)('ecgnn data on MIT-BIH', () => {
  it('info: per-split counts are the published DS1/DS2 counts, and the per-record counts add up to them', async () => {
    const r = await cli('data', 'info', '--json');
    expect(r.code).toBe(EXIT_OK);
    const res = JSON.parse(r.out);
    expect(Object.keys(res.records).sort()).toEqual(listRecords('mitdb').sort());
    expect(res.splits.counts.train).toEqual(DE_CHAZAL_PUBLISHED_COUNTS.DS1);
    expect(res.splits.counts.test).toEqual(DE_CHAZAL_PUBLISHED_COUNTS.DS2);
    for (const [set, published] of [
      [DS1, DE_CHAZAL_PUBLISHED_COUNTS.DS1],
      [DS2, DE_CHAZAL_PUBLISHED_COUNTS.DS2],
    ] as const)
      for (const k of AAMI_CLASSES)
        expect(set.reduce((a, rec) => a + res.records[rec][k], 0)).toBe(published[k]);
    const text = await cli('data', 'info');
    expect(text.out.split('\n').filter((l) => /^\d{3}\s/.test(l))).toHaveLength(listRecords('mitdb').length);
    expect(text.out).toMatch(/^100\s+DS2\s/m);
    expect(text.out).toMatch(/^102\s+paced\s/m);
  });

  it('info --records: only those records, no split counts', async () => {
    const r = await cli('data', 'info', '--records', '100,119', '--json');
    expect(r.code).toBe(EXIT_OK);
    const res = JSON.parse(r.out);
    expect(Object.keys(res.records)).toEqual(['100', '119']);
    expect(res.splits).toBeUndefined();
    expect(res.records['119'].V).toBeGreaterThan(400); // record 119 is rich in ventricular beats
  });

  it('fetch: downloads a record from a server, verifies it, skips it the second time', async () => {
    const server = await serveFolder(databaseDir('mitdb'));
    try {
      const root = join(tmp, 'fetched');
      const r = await cli(
        'data',
        'fetch',
        '--data',
        root,
        '--records',
        '100',
        '--base-url',
        server.url,
        '--json',
      );
      expect(r.code).toBe(EXIT_OK);
      const res = JSON.parse(r.out);
      expect(res.verified).toBe(true);
      expect([...res.downloaded].sort()).toEqual(['100.atr', '100.dat', '100.hea']);
      expect(r.err).toContain('100.dat');
      for (const f of res.downloaded)
        expect(sha256(readFileSync(join(root, 'mitdb', f)))).toBe(
          sha256(readFileSync(join(databaseDir('mitdb'), f))),
        );
      const again = await cli(
        'data',
        'fetch',
        'mitdb',
        '--data',
        root,
        '--records',
        '100',
        '--base-url',
        server.url,
      );
      expect(again.code).toBe(EXIT_OK);
      expect(again.out).toContain('0 downloaded, 3 already present, SHA-256 verified');
    } finally {
      await server.close();
    }
  });
});
