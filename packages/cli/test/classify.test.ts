// `ecgnn classify` on MIT-BIH record 100 (run when present, fail when CI=true and absent) with a small model
// written here; its results must be @ecgnn/infer's classifyRecord's on the same samples.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aamiCountsInRange, databaseDir, loadAnnotations, loadRecord } from '@ecgnn/data';
import { classifyRecord, loadModel, saveModel } from '@ecgnn/infer';
import { writeModelFile } from '@ecgnn/infer/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, locateRecord } from '../src/index.js';
import { beatModelSpec, cli, runDataTests } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-classify-'));
const model = join(tmp, 'beat.ecgnn');
const spec = beatModelSpec(3);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await writeModelFile(model, spec);
});

interface Beat {
  time: number;
  sample: number;
  label: string;
  probability: number;
  reference?: string | null;
}

describe('ecgnn classify: record arguments', () => {
  it('a bare name is a record of the database in the data directory; a path names the files', () => {
    const dd = { dataDir: '/d' };
    expect(locateRecord('100', dd, 'mitdb')).toEqual({ dataDir: '/d', db: 'mitdb', record: '100' });
    expect(locateRecord('/x/y/db/201.hea', dd, 'mitdb')).toEqual({
      dataDir: '/x/y',
      db: 'db',
      record: '201',
    });
    expect(locateRecord('/x/rec', dd, 'mitdb')).toEqual({ dataDir: '/', db: 'x', record: 'rec' });
  });

  it('a missing record exits 1 naming the full path of its header', async () => {
    const r = await cli('classify', '999', '--model', model, '--data', tmp);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain(join(tmp, 'mitdb', '999.hea'));
  });
});

describe.runIf(runDataTests)('ecgnn classify on MIT-BIH record 100', () => {
  const fs = 360;

  it('the first minute: beats and labels equal classifyRecord’s, matched to the reference beats', async () => {
    const r = await cli('classify', '100', '--model', model, '--seconds', '60', '--json');
    expect(r.code).toBe(EXIT_OK);
    const res = JSON.parse(r.out) as { beats: Beat[]; [k: string]: unknown };
    const rec = loadRecord('mitdb', '100');
    const direct = classifyRecord(loadModel(saveModel(spec)), rec.signals[0].subarray(0, 60 * fs), fs);
    expect(res.beats.map((b) => [b.sample, b.label])).toEqual(direct.map((d) => [d.sample, d.label]));
    res.beats.forEach((b, i) => {
      expect(b.time).toBeCloseTo(b.sample / fs, 9);
      expect(b.probability).toBeCloseTo(direct[i].probabilities[direct[i].classIndex], 6);
    });
    // Record 100 beats at about 75 per minute; the detector finds nearly all, each within 150 ms of a reference beat.
    const ann = loadAnnotations('mitdb', '100');
    const refCounts = aamiCountsInRange(ann, 0, 60 * fs);
    const refTotal = refCounts.reduce((a, b) => a + b, 0);
    expect(res.reference).toEqual({
      N: refCounts[0],
      S: refCounts[1],
      V: refCounts[2],
      F: refCounts[3],
      Q: refCounts[4],
    });
    expect(res.count).toBe(res.beats.length);
    expect(res.beats.length).toBeGreaterThanOrEqual(refTotal - 3);
    expect(res.beats.length).toBeLessThanOrEqual(refTotal);
    expect(res.matchedToReference).toBe(res.beats.length);
    expect(res.beats.every((b) => b.reference === 'N' || b.reference === 'S')).toBe(true);
    const predicted = res.predicted as Record<string, number>;
    expect(Object.values(predicted).reduce((a, b) => a + b, 0)).toBe(res.beats.length);
    expect(res).toMatchObject({
      record: join(databaseDir('mitdb'), '100'),
      lead: 'MLII',
      from: 0,
      seconds: 60,
    });
  });

  it('--summary prints the per-class counts only; text rows otherwise', async () => {
    const s = await cli('classify', '100', '--model', model, '--seconds', '60', '--summary');
    expect(s.code).toBe(EXIT_OK);
    const m = /predicted: N (\d+) {2}S (\d+) {2}V (\d+)/.exec(s.out);
    expect(m).not.toBeNull();
    const j = JSON.parse(
      (await cli('classify', '100', '--model', model, '--seconds', '60', '--summary', '--json')).out,
    );
    expect(j.beats).toBeUndefined();
    expect(m!.slice(1).map(Number)).toEqual([j.predicted.N, j.predicted.S, j.predicted.V]);
    expect(s.out).not.toMatch(/^time s/m);
    const t = await cli('classify', '100', '--model', model, '--seconds', '10');
    expect(t.out).toMatch(/^time s\s+sample\s+label\s+p\s+reference$/m);
  });

  it('a path to the record and --from select the same samples', async () => {
    const path = join(databaseDir('mitdb'), '100.hea');
    const a = JSON.parse(
      (await cli('classify', path, '--model', model, '--from', '1200', '--seconds', '20', '--json')).out,
    );
    const b = JSON.parse(
      (await cli('classify', '100', '--model', model, '--from', '1200', '--seconds', '20', '--json')).out,
    );
    expect(a.beats).toEqual(b.beats);
    expect(a.beats.length).toBeGreaterThan(15);
    for (const beat of a.beats as Beat[]) {
      expect(beat.time).toBeGreaterThanOrEqual(1200);
      expect(beat.time).toBeLessThan(1220);
    }
  });

  it('a lead the record does not have is a usage error naming its signals', async () => {
    const r = await cli('classify', '100', '--model', model, '--lead', '5');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain('MLII, V5');
  });
});
