// `ecgnn binarize --smoke` on the 17-class fragments through the CLI (its own file: the longest smoke run of the
// experiment commands). The fragments are never downloaded: the test runs when they are there, fails when CI=true
// and they are absent.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseDir } from '@ecgnn/data';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_OK } from '../src/index.js';
import { cli } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-binarize-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const runFragmentTests = existsSync(join(databaseDir('mitbih17'), 'index.csv')) || process.env.CI === 'true';

describe.runIf(runFragmentTests)('ecgnn binarize --smoke on the 17-class fragments', () => {
  it('trains the binary network, writes report.json/report.md, prints the report with --json', async () => {
    const out = join(tmp, 'bnn');
    const r = await cli('binarize', '--smoke', '--binary', '--epochs', '1', '--out', out, '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    const report = JSON.parse(r.out) as {
      variants: Record<string, { id: string }>;
      rows: Array<{ id: string }>;
    };
    expect(Object.keys(report.variants)).toEqual(['binary']);
    expect(report.rows.map((x) => x.id)).toEqual(['bnn/binary-17']);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(
      /^# Binary neural network \(method 5\) — smoke run/,
    );
  });
});
