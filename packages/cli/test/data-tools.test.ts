// `ecgnn data record|split|qrs` (what the former `ecgnn-data` binary did): a record's header, signals and beat
// counts on a small WFDB database written here (and an empty .atr refused with its path); the validation split
// and the QRS detector on MIT-BIH (run when present, fail when CI=true and absent).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AAMI_CLASSES,
  annotationCode,
  DE_CHAZAL_PUBLISHED_COUNTS,
  DS1,
  DS2,
  encodeFormat,
  wfdbChecksum,
  writeAnnotations,
} from '@ecgnn/data';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { cli, runDataTests } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-data-tools-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A database `mitdb` in `root` holding record `r`: 2000 samples at 360 Hz of one lead, `beats` N beats. */
function database(root: string, atr?: Uint8Array, beats = 5): string {
  const dir = join(root, 'mitdb');
  mkdirSync(dir, { recursive: true });
  const n = 2000;
  const sig = Int16Array.from({ length: n }, (_, i) => Math.round(200 * Math.sin(i / 20)));
  writeFileSync(join(dir, 'RECORDS'), 'r\n');
  writeFileSync(
    join(dir, 'r.hea'),
    `r 1 360 ${n}\nr.dat 16 200 16 0 ${sig[0]} ${wfdbChecksum(sig)} 0 MLII\n`,
  );
  writeFileSync(join(dir, 'r.dat'), encodeFormat(16, [sig]));
  writeFileSync(
    join(dir, 'r.atr'),
    atr ??
      writeAnnotations({
        sample: Int32Array.from({ length: beats }, (_, i) => 200 + 300 * i),
        code: Uint8Array.from({ length: beats }, (_, i) => annotationCode(i === 2 ? 'V' : 'N')),
        subtype: new Int16Array(beats),
        chan: new Int16Array(beats),
        num: new Int16Array(beats),
        aux: new Array(beats).fill(null),
      }),
  );
  return dir;
}

describe('ecgnn data record', () => {
  it('prints the header, each signal with its verified checksum, and the AAMI beat counts', async () => {
    const root = join(tmp, 'ok');
    const dir = database(root);
    const r = await cli('data', 'record', 'r', '--data', root);
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(r.out).toContain(`${join(dir, 'r')}: 2000 samples × 1 signals at 360 Hz`);
    expect(r.out).toMatch(/signal 0 MLII: format 16, gain 200 adu\/mV, baseline 0, checksum -?\d+ verified/);
    expect(r.out).toContain('AAMI beats: N 4  S 0  V 1  F 0  Q 0');
    const j = JSON.parse((await cli('data', 'record', 'r', '--data', root, '--json')).out);
    expect(j).toMatchObject({ fs: 360, samples: 2000, beats: { N: 4, V: 1 } });
  });

  it('an empty .atr is refused naming the file; a missing record names its path (exit 1)', async () => {
    const root = join(tmp, 'empty-atr');
    const dir = database(root, new Uint8Array(0));
    const r = await cli('data', 'record', 'r', '--data', root);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain(join(dir, 'r.atr'));
    const m = await cli('data', 'record', 'nope', '--data', root);
    expect(m.code).toBe(EXIT_FAILURE);
    expect(m.err).toContain(join(dir, 'nope.hea'));
  });

  it('usage errors exit 2', async () => {
    expect((await cli('data', 'record')).code).toBe(EXIT_USAGE);
    expect((await cli('data', 'split', '--validation', '0')).code).toBe(EXIT_USAGE);
    expect((await cli('data', 'qrs', '--records', ',')).code).toBe(EXIT_USAGE);
  });
});

describe.runIf(runDataTests)('ecgnn data split and qrs on MIT-BIH', () => {
  it('split: k DS1 records for validation, the rest for training, DS2 for test; the counts add up to DS1', async () => {
    const r = await cli('data', 'split', '--validation', '5', '--seed', '3', '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    const s = JSON.parse(r.out);
    expect(s.records.validation).toHaveLength(5);
    expect([...s.records.train, ...s.records.validation].sort()).toEqual([...DS1].sort());
    expect(s.records.test).toEqual([...DS2]);
    for (const k of AAMI_CLASSES)
      expect(s.counts.train[k] + s.counts.validation[k]).toBe(DE_CHAZAL_PUBLISHED_COUNTS.DS1[k]);
    expect(s.counts.test).toEqual(DE_CHAZAL_PUBLISHED_COUNTS.DS2);
    const other = JSON.parse((await cli('data', 'split', '--validation', '5', '--seed', '4', '--json')).out);
    expect(other.records.validation).not.toEqual(s.records.validation);
  });

  it('qrs --records: Se and +P against the reference beats of each record', async () => {
    const r = await cli('data', 'qrs', '--records', '100', '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    const e = JSON.parse(r.out);
    expect(e.records.map((x: { record: string }) => x.record)).toEqual(['100']);
    expect(e.records[0].tp + e.records[0].fn).toBe(e.records[0].beats);
    expect(e.total.sensitivity).toBeGreaterThan(99);
    const text = await cli('data', 'qrs', '--records', '100');
    expect(text.out).toMatch(/^100\s+MLII\s+\d+/m);
    expect(text.out).toContain('TOTAL (whole records)');
  });
});
