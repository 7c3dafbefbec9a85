/**
 * Smoke test of the benchmark suite (`pnpm bench --smoke`): every case × engine runs end to end in its own
 * process (1 warm-up + 2 timed runs), its output matches the TypeScript reference, its median is finite, and
 * the run writes its report only where `--out` points (a temp folder), never into docs/.
 * Timing is not asserted (speed is reported by the suite, never asserted by a test).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const docs = join(root, 'docs');

interface Row {
  case: string;
  engine: string;
  batch: number;
  threads: number;
  medianMs?: number;
  outputsMatch?: boolean;
  error?: string;
  unsupported?: boolean;
  skipped?: string;
}

/** name → mtime of every file under docs/ (recursively). */
function snapshot(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p, statSync(p).mtimeMs);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

describe('pnpm bench --smoke', () => {
  const tmp = mkdtempSync(join(os.tmpdir(), 'ecgnn-bench-smoke-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('runs every engine and case, matching the reference, writing only to --out', async () => {
    const before = snapshot(docs);
    const out = join(tmp, 'smoke.json');
    const tsx = join(root, 'node_modules', '.bin', 'tsx');
    // Asynchronous child: a synchronous one would block this worker's event loop (and vitest's RPC) for a minute.
    const res = await new Promise<{ error: Error | null; log: string }>((done) => {
      execFile(
        tsx,
        ['--conditions=@ecgnn/source', join(root, 'benchmarks', 'run.ts'), '--smoke', '--out', out],
        { cwd: root, encoding: 'utf8', timeout: 480_000, maxBuffer: 1 << 24 },
        (error, stdout, stderr) => done({ error, log: `${stdout}\n${stderr}` }),
      );
    });
    expect(res.error, res.log).toBeNull();

    const report = JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[]; command: string };
    expect(report.command).toContain('--smoke');
    const skipped = report.rows.filter((r) => r.skipped);
    for (const r of skipped) console.warn(`bench smoke: ${r.engine} skipped on ${r.case}: ${r.skipped}`);
    // The ecgnn engines have no optional dependency: they must never be skipped.
    expect(skipped.filter((r) => r.engine.startsWith('ecgnn'))).toEqual([]);
    const ran = report.rows.filter((r) => !r.skipped);
    // All 11 jobs (10 cases, ecg-cnn-ref at batch 1 and 256) with at least their ecgnn engine.
    expect(new Set(ran.map((r) => `${r.case}|${r.batch}`)).size).toBe(11);
    // The training cases run at batch 8 under --smoke, on both ecgnn backends, 1 and 2 threads.
    for (const c of ['train-step', 'train-step-teacher']) {
      const engines = ran.filter((r) => r.case === c && r.batch === 8).map((r) => `${r.engine}@${r.threads}`);
      expect(engines, c).toEqual(expect.arrayContaining(['ecgnn-wasm@1', 'ecgnn-wasm@2', 'ecgnn-ts@1']));
    }
    // PyTorch runs where a Python with torch is found, else it is skipped saying how to install it.
    for (const r of skipped.filter((x) => x.engine === 'pytorch-cpu')) {
      expect(r.skipped).toContain('python3-torch');
    }
    for (const r of ran) {
      const what = `${r.case} b=${r.batch} ${r.engine}`;
      expect(r.error, what).toBeUndefined();
      expect(r.unsupported, what).toBeUndefined();
      expect(r.outputsMatch, what).toBe(true);
      expect(Number.isFinite(r.medianMs) && (r.medianMs as number) > 0, `${what} median ${r.medianMs}`).toBe(
        true,
      );
    }
    for (const engine of ['ecgnn-wasm', 'ecgnn-ts', 'ecgnn-infer', 'ecgnn-kernels']) {
      expect(ran.some((r) => r.engine === engine)).toBe(true);
    }

    // Report, its .md twin and one chart per case × batch, all in the temp folder.
    const md = readFileSync(join(tmp, 'smoke.md'), 'utf8');
    expect(md).toContain('**Smoke run**');
    const charts = readdirSync(join(tmp, 'smoke')).filter((f) => f.endsWith('.svg'));
    expect(charts.length).toBe(11);
    for (const f of charts) expect(md).toContain(`](smoke/${f})`);

    // Nothing under docs/ was created or modified.
    expect(snapshot(docs)).toEqual(before);
  }, 500_000);
});
