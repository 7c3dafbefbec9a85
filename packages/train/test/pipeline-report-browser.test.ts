// The pipeline's HTML report rendered in headless Chromium (Debian's, test-utils/chromium.ts; skipped with a
// message when absent, required when CI=true): the page loads offline and a PNG screenshot is saved under the
// test's temporary folder (path printed) for a person to look at.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { browserSkipReason, CHROMIUM, FLAGS } from '../../../test-utils/chromium.js';
import { renderPipelineReport } from '../src/index.js';
import { fixedPipelineView } from './fixtures/pipeline-view.js';

const skip = browserSkipReason('the pipeline report screenshot test');
if (skip) console.warn(`pipeline report in Chromium: skipped: ${skip}`);

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

describe.skipIf(skip !== null)('pipeline report in headless Chromium', () => {
  it('renders offline and is saved as a screenshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecgnn-pipeline-report-'));
    const html = join(dir, 'report.html');
    const png = join(dir, 'report.png');
    writeFileSync(html, renderPipelineReport(fixedPipelineView()));
    const profile = join(dir, 'profile');
    const run = promisify(execFile);
    const args = [...FLAGS, '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${profile}`];
    // The DOM after parsing: every chart is there (Chromium read the page without fetching anything).
    const { stdout: dom } = await run(CHROMIUM, [...args, '--dump-dom', `file://${html}`], {
      maxBuffer: 64 << 20,
    });
    expect((dom.match(/<svg /g) ?? []).length).toBe(7);
    expect(dom).toContain('ecgnn pipeline report — quick run');
    await run(CHROMIUM, [...args, '--window-size=1150,3400', `--screenshot=${png}`, `file://${html}`]);
    const bytes = new Uint8Array(readFileSync(png));
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(pngSize(bytes)).toEqual({ width: 1150, height: 3400 });
    // A blank page of this size compresses to a few kilobytes; charts, tables and the strip take far more.
    expect(statSync(png).size).toBeGreaterThan(100_000);
    rmSync(profile, { recursive: true, force: true });
    console.log(`pipeline report screenshot: ${png}`);
  });
});
