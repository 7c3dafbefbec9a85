/**
 * Smoke test of the benchmark suite (`pnpm bench --smoke`): every case × engine runs end to end in its own
 * process (1 warm-up + 2 timed runs; the gpu.js engines on two cases only, GPU_SMOKE_CASES in run.ts), its output
 * matches the TypeScript reference, its median is finite, the gpu.js rows report their CPU fallbacks, and
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
  note?: string;
  backendStats?: {
    backend: string;
    perRun: { deviceCalls: Record<string, number>; fallbacks: Record<string, number> };
    total: { deviceCalls: Record<string, number>; fallbacks: Record<string, number> };
    fallbackReasons: Record<string, string>;
    kernelClasses: string[];
  };
}

/** gpu.js engines checked by the smoke (run.ts GPU_SMOKE_CASES) and the kernel class each must run. */
const GPU_ENGINES: Record<string, string> = {
  'ecgnn-gpu-cpu': 'CPUKernel',
  'ecgnn-gpu-webasm': 'WebAssemblyKernel',
  'ecgnn-gpu-webgl2': 'WebGL2Kernel',
  'ecgnn-gpu-webgpu': 'WebGPUKernel',
};
const GPU_SMOKE_CASES = ['depthwise-conv1d', 'train-step'];
const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

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
    // The ecgnn engines have no optional dependency: they must never be skipped — except gpu.js's headlessgl mode,
    // which needs the native gl package built and an X display, and is skipped saying so.
    expect(
      skipped.filter((r) => r.engine.startsWith('ecgnn') && r.engine !== 'ecgnn-gpu-headlessgl'),
    ).toEqual([]);
    for (const r of skipped.filter((x) => x.engine === 'ecgnn-gpu-headlessgl')) {
      expect(r.skipped).toContain('native gl package');
    }
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

    // gpu.js engines: each ran its smoke cases (matching the reference, above) in its own mode's kernel class, with
    // kernels on the device, and its row reports the CPU fallbacks — counted per timed run and over the process.
    const md = readFileSync(join(tmp, 'smoke.md'), 'utf8');
    for (const [engine, kernelClass] of Object.entries(GPU_ENGINES)) {
      for (const c of GPU_SMOKE_CASES) {
        const r = ran.find((x) => x.engine === engine && x.case === c);
        expect(r, `${engine} ${c}`).toBeDefined();
        const s = r?.backendStats;
        expect(s?.backend, `${engine} ${c}`).toBe(`gpu.js:${engine.slice('ecgnn-gpu-'.length)}`);
        expect(s?.kernelClasses).toEqual([kernelClass]);
        expect(s?.perRun.deviceCalls.conv1dForward, `${engine} ${c}`).toBeGreaterThan(0);
        // The process ran the case at least 4 times (check, warm-up, 2 timed runs): totals ≥ 4 × one run.
        expect(sum(s?.total.deviceCalls ?? {})).toBeGreaterThanOrEqual(4 * sum(s?.perRun.deviceCalls ?? {}));
        expect(sum(s?.total.fallbacks ?? {})).toBeGreaterThanOrEqual(sum(s?.perRun.fallbacks ?? {}));
        // Every fallback kernel has its reason, and the report shows the counts beside the row.
        for (const k of Object.keys(s?.total.fallbacks ?? {})) expect(s?.fallbackReasons[k], k).toBeTruthy();
        const line = `${s?.backend}, per timed run: ${sum(s?.perRun.deviceCalls ?? {})} device calls (`;
        expect(md).toContain(line);
        const shown = md.slice(md.indexOf(line) + line.length).match(/^[^)]*\); (\d+) CPU fallbacks/);
        expect(Number(shown?.[1]), `${engine} ${c}: fallbacks in the report`).toBe(
          sum(s?.perRun.fallbacks ?? {}),
        );
      }
    }
    // The training step needs kernels the backend does not run today (the SGD update, softmax, gathers: docs/gpu.md),
    // so a row without counted fallbacks would mean the counting is lost (revisit once every kernel runs on gpu.js).
    for (const engine of Object.keys(GPU_ENGINES)) {
      const r = ran.find((x) => x.engine === engine && x.case === 'train-step');
      expect(sum(r?.backendStats?.perRun.fallbacks ?? {}), engine).toBeGreaterThan(0);
    }
    // Outside their smoke cases the gpu.js engines do not run under --smoke.
    expect(
      report.rows.filter((r) => r.engine.startsWith('ecgnn-gpu-') && !GPU_SMOKE_CASES.includes(r.case)),
    ).toEqual([]);

    // Report, its .md twin and one chart per case × batch, all in the temp folder.
    expect(md).toContain('**Smoke run**');
    const charts = readdirSync(join(tmp, 'smoke')).filter((f) => f.endsWith('.svg'));
    expect(charts.length).toBe(11);
    for (const f of charts) expect(md).toContain(`](smoke/${f})`);

    // Nothing under docs/ was created or modified.
    expect(snapshot(docs)).toEqual(before);
  }, 500_000);
});
