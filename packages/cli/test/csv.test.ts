// CSV input of `ecgnn classify`: the reader (columns by name or index, header detection, delimiters) and its
// typed errors naming line and column; a generated CSV of a synthetic ECG classified through the CLI must give
// @ecgnn/infer's classifyRecord's beats on the same samples.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvError, parseCsvSamples, syntheticEcg } from '@ecgnn/data';
import { classifyRecord, loadModel, saveModel } from '@ecgnn/infer';
import { writeModelFile } from '@ecgnn/infer/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { beatModelSpec, cli } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-csv-'));
const model = join(tmp, 'beat.ecgnn');
const spec = beatModelSpec(5);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await writeModelFile(model, spec);
});

/** The CsvError `f` throws. */
function csvError(f: () => unknown): CsvError {
  try {
    f();
  } catch (e) {
    if (e instanceof CsvError) return e;
    throw e;
  }
  throw new Error('no CsvError thrown');
}

describe('parseCsvSamples', () => {
  it('one column, with or without a header, CRLF and a trailing newline', () => {
    expect(Array.from(parseCsvSamples('0.5\n-1\n2e-1\n', 'a.csv').samples)).toEqual([
      0.5,
      -1,
      Math.fround(0.2),
    ]);
    const h = parseCsvSamples('mV\r\n1\r\n2\r\n', 'a.csv');
    expect(h).toMatchObject({ column: 'mV', header: true });
    expect(Array.from(h.samples)).toEqual([1, 2]);
  });

  it('several columns: by header name or 0-based index; comma, semicolon or tab', () => {
    const text = 'time,MLII,V5\n0,0.1,1\n0.003,0.2,2\n';
    expect(Array.from(parseCsvSamples(text, 'a.csv', 'MLII').samples)).toEqual([0.1, 0.2].map(Math.fround));
    expect(Array.from(parseCsvSamples(text, 'a.csv', '2').samples)).toEqual([1, 2]);
    expect(Array.from(parseCsvSamples('1;5\n2;6\n', 'a.csv', '1').samples)).toEqual([5, 6]);
    expect(parseCsvSamples('1;5\n2;6\n', 'a.csv', '1').column).toBe('column 1');
    expect(Array.from(parseCsvSamples('"a"\t"b"\n1\t"7"\n', 'a.csv', 'b').samples)).toEqual([7]);
  });

  it('typed errors name the file, the line (1-based) and the column', () => {
    const bad = csvError(() => parseCsvSamples('t,ii\n0,1\n1,x1\n', 'f.csv', 'ii'));
    expect(bad).toMatchObject({ line: 3, column: 'ii' });
    expect(bad.message).toBe("f.csv, line 3, column 'ii': 'x1' is not a number");
    const short = csvError(() => parseCsvSamples('1,2\n3\n', 'f.csv', '1'));
    expect(short).toMatchObject({ line: 2, column: 'column 1' });
    expect(short.message).toContain('line 2');
    const empty = csvError(() => parseCsvSamples('ii\n1\n\n2\n', 'f.csv', 'ii'));
    expect(empty.message).toContain("line 3, column 'ii': '' is not a number");
    expect(csvError(() => parseCsvSamples('a,b\n1,2\n', 'f.csv')).message).toContain('choose one (--column');
    expect(csvError(() => parseCsvSamples('a,b\n1,2\n', 'f.csv', 'c')).message).toContain(
      "no column named 'c'",
    );
    expect(csvError(() => parseCsvSamples('a,b\n1,2\n', 'f.csv', '2')).message).toContain('2 columns');
    expect(csvError(() => parseCsvSamples('\n\n', 'f.csv')).message).toContain('empty');
    expect(csvError(() => parseCsvSamples('mV\n', 'f.csv')).message).toContain('no samples');
  });
});

describe('ecgnn classify <file.csv>', () => {
  const ecg = syntheticEcg({ seconds: 30, fs: 250, seed: 4, pvcProbability: 0.2 });
  const csv = join(tmp, 'strip.csv');
  beforeAll(() => {
    const lines = ['time,ecg', ...Array.from(ecg.signal, (x, i) => `${(i / ecg.fs).toFixed(4)},${x}`)];
    writeFileSync(csv, `${lines.join('\n')}\n`);
  });

  it('classifies the named column at --sample-rate: the beats of classifyRecord on the same samples', async () => {
    const r = await cli(
      'classify',
      csv,
      '--model',
      model,
      '--column',
      'ecg',
      '--sample-rate',
      '250',
      '--json',
    );
    expect(r.code, r.err).toBe(EXIT_OK);
    const res = JSON.parse(r.out) as {
      record: string;
      lead: string;
      sampleRate: number;
      reference?: unknown;
      beats: Array<{ sample: number; label: string; time: number }>;
    };
    const direct = classifyRecord(loadModel(saveModel(spec)), ecg.signal, ecg.fs);
    expect(direct.length).toBeGreaterThan(20);
    expect(res.beats.map((b) => [b.sample, b.label])).toEqual(direct.map((d) => [d.sample, d.label]));
    expect(res).toMatchObject({ record: csv, lead: 'ecg', sampleRate: 250 });
    expect(res.reference).toBeUndefined();
    expect(res.beats[3].time).toBeCloseTo(res.beats[3].sample / 250, 9);
  });

  it('--from/--seconds cut the span; the text output ends with the per-class summary', async () => {
    const r = await cli(
      'classify',
      csv,
      '--model',
      model,
      '--column',
      '1',
      '--sample-rate',
      '250',
      '--from',
      '10',
      '--seconds',
      '10',
    );
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(r.out).toContain(`${csv}, ecg, 10–20 s at 250 Hz:`);
    expect(r.out).toMatch(/^predicted: N \d+ {2}S \d+ {2}V \d+$/m);
  });

  it('without --sample-rate: usage error (2); a bad value: data error (1) naming line and column', async () => {
    const a = await cli('classify', csv, '--model', model, '--column', 'ecg');
    expect(a.code).toBe(EXIT_USAGE);
    expect(a.err).toContain('--sample-rate');
    const broken = join(tmp, 'broken.csv');
    writeFileSync(broken, 'ecg\n0.1\n0.2\nNaN?\n0.3\n');
    const b = await cli('classify', broken, '--model', model, '--sample-rate', '360');
    expect(b.code).toBe(EXIT_FAILURE);
    expect(b.err).toContain(`${broken}, line 4, column 'ecg': 'NaN?' is not a number`);
    const c = await cli('classify', '100', '--model', model, '--sample-rate', '360');
    expect(c.code).toBe(EXIT_USAGE);
    expect(c.err).toContain('are for CSV files');
  });
});
