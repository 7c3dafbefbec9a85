/**
 * `pnpm bench` — the ecgnn benchmark suite against TensorFlow.js and ONNX Runtime.
 *
 *   pnpm bench            full run (5 rounds × about 1.2 s of timed runs per case × engine, ~15 min)
 *   pnpm bench --quick    shorter budgets (whole suite well under 10 minutes)
 *   pnpm bench --smoke    1 warm-up + 2 timed runs per case, checks every engine end to end; writes
 *                         nothing unless --out is given (benchmarks/bench-smoke.test.ts runs this)
 *   pnpm bench --render docs/benchmarks.json   re-render the .md and charts of a recorded run
 *   pnpm bench --micro    per-op micro-benchmarks of @ecgnn/core on the wasm and cpu backends (benchmark.js
 *                         statistics; options in benchmarks/micro.ts)
 *   options: --cases a,b  --engines a,b  --rounds N (default 5, --quick 1, --smoke 1)
 *            --cpu N|none (pin single-thread engine processes to CPU N with taskset; default 0 on Linux)
 *            --out FILE.json (default docs/benchmarks.json; its .md twin is written beside it and one
 *            SVG chart per case × batch into the folder FILE/, e.g. docs/benchmarks/conv1d-batch8.svg)
 *
 * Engines: `ecgnn-wasm` / `ecgnn-ts` are @ecgnn/core's public ops with setBackend('wasm') / ('cpu');
 * `ecgnn-infer` is @ecgnn/infer's loadModel + predict on model files written by saveModel;
 * `ecgnn-kernels` (comparison only) the raw kernels of @ecgnn/kernels/wasm (see peers/ecgnn.ts). Peers whose npm package is not installed are skipped with a message.
 * `ecgnn-gpu-cpu` / `ecgnn-gpu-webasm` / `ecgnn-gpu-headlessgl` (issue #27, peers/ecgnn-gpu.ts) and
 * `ecgnn-gpu-webgl2` / `ecgnn-gpu-webgpu` (in headless Chromium on SwiftShader, peers/ecgnn-gpu-browser.ts; skipped
 * with a message without Chromium): the same
 * @ecgnn/core calls on the gpu.js backend of @ecgnn/gpu in that mode, on the kernel and training cases; each row
 * records the backend's device calls and CPU fallbacks (`backendStats`, printed and in the report). A mode that
 * cannot run here (headlessgl without the native `gl` package built or without an X display) is skipped with a
 * message. Under --smoke they run only on the cases of {@link GPU_SMOKE_CASES} (gpu.js is slow on a CPU).
 * Training cases (`train-step`, `train-step-teacher`, peers/train.ts): one SGD step of the reference CNN / the
 * distillation teacher at batch 64 (batch 8 under --smoke), also on `tfjs-cpu` (train-step) and `pytorch-cpu`
 * at 1 and 2 threads (peers/pytorch.ts: PyTorch's CPU build run by peers/pytorch_train.py; it needs a Python
 * with torch — on Debian `apt-get install -y python3-torch`, found as /usr/bin/python3 even when another python3
 * is first on the PATH, or set ECGNN_PYTHON — and is skipped with that message otherwise).
 *
 * With several rounds the engines of a case take turns (round-robin, one process each time) and
 * the timed runs of all rounds are pooled, so a burst of load from other jobs hits all engines.
 *
 * Every case × engine runs in its own child process (`tsx benchmarks/peers/<engine>.ts`; a job's `pair` case is
 * timed in the same process, runs alternating with the first case's), with the
 * same seeded inputs and weights; each child first compares its output with the TypeScript
 * reference, then times single-threaded runs and prints one `RESULT {json}` line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMicro } from './micro.js';
import { missingTorch } from './peers/python.js';
import { atomicWrite, backendStatsText, chartDir, fmt, type Row, TARGETS, writeReport } from './report.js';
import { measureWasmPeak } from './wasm-peak.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

interface Job {
  case: string;
  /**
   * A second case timed in the same engine processes, runs alternating with `case` (see `runEngine` in
   * peers/common.ts): for the ratio target between two cases of one engine.
   */
  pair?: string;
  batch: number;
  engines: string[];
  /** Batch of the job under `--smoke` (default `batch`): the training cases check their engines at batch 8. */
  smokeBatch?: number;
  /**
   * Timed runs at least (default 5): 3 for the training cases, whose slowest engines (tfjs-cpu, ecgnn-ts on the
   * teacher) take seconds per step.
   */
  minRuns?: number;
}

const FLOAT_PEERS = ['tfjs-cpu', 'tfjs-wasm', 'ort-web', 'ort-node'];
/**
 * The gpu.js engines, one per mode: the Node modes (peers/ecgnn-gpu.ts) and the browser modes in headless Chromium
 * (peers/ecgnn-gpu-browser.ts).
 */
const GPU_ENGINES = [
  'ecgnn-gpu-cpu',
  'ecgnn-gpu-webasm',
  'ecgnn-gpu-headlessgl',
  'ecgnn-gpu-webgl2',
  'ecgnn-gpu-webgpu',
];
/**
 * Cases the gpu.js engines run under --smoke: one kernel case and the training step (batch 8), which with the
 * reference check exercise every gpu.js kernel the CNN uses and the fallbacks. Every engine process costs a Node
 * start and gpu.js compilations (about 1–2 s each here), so the smoke does not run all 7 cases × 3 modes; the full
 * suite runs the engines on every case of their jobs.
 */
const GPU_SMOKE_CASES = ['depthwise-conv1d', 'train-step'];
const JOBS: Job[] = [
  {
    case: 'matmul-256',
    batch: 1,
    engines: ['ecgnn-wasm', 'ecgnn-wasm@2', 'ecgnn-ts', 'ecgnn-kernels', ...FLOAT_PEERS, ...GPU_ENGINES],
  },
  {
    case: 'conv1d',
    batch: 8,
    engines: ['ecgnn-wasm', 'ecgnn-wasm@2', 'ecgnn-ts', 'ecgnn-kernels', ...FLOAT_PEERS, ...GPU_ENGINES],
  },
  {
    case: 'depthwise-conv1d',
    batch: 8,
    engines: ['ecgnn-wasm', 'ecgnn-ts', 'ecgnn-kernels', ...FLOAT_PEERS, ...GPU_ENGINES],
  },
  {
    case: 'conv1d-backward-input',
    batch: 8,
    engines: ['ecgnn-wasm', 'ecgnn-wasm@2', 'ecgnn-ts', 'ecgnn-kernels', ...GPU_ENGINES],
  },
  {
    case: 'conv1d-backward-weight',
    batch: 8,
    engines: ['ecgnn-wasm', 'ecgnn-wasm@2', 'ecgnn-ts', 'ecgnn-kernels', ...GPU_ENGINES],
  },
  { case: 'ecg-cnn-ref', batch: 1, engines: ['ecgnn-infer', 'ecgnn-wasm', 'ecgnn-ts', ...FLOAT_PEERS] },
  { case: 'ecg-cnn-ref', batch: 256, engines: ['ecgnn-infer', 'ecgnn-wasm', 'ecgnn-ts', ...FLOAT_PEERS] },
  {
    case: 'binary-conv1d',
    pair: 'float-conv1d-same-shape',
    batch: 1,
    engines: ['ecgnn-infer', 'ecgnn-kernels'],
  },
  {
    case: 'train-step',
    batch: 64,
    smokeBatch: 8,
    minRuns: 3,
    engines: [
      'ecgnn-wasm',
      'ecgnn-wasm@2',
      'ecgnn-ts',
      'tfjs-cpu',
      'pytorch-cpu',
      'pytorch-cpu@2',
      ...GPU_ENGINES,
    ],
  },
  {
    case: 'train-step-teacher',
    batch: 64,
    smokeBatch: 8,
    minRuns: 3,
    engines: ['ecgnn-wasm', 'ecgnn-wasm@2', 'ecgnn-ts', 'pytorch-cpu', 'pytorch-cpu@2', ...GPU_ENGINES],
  },
];

/** npm packages each peer engine needs (devDependencies of benchmarks/package.json). */
const PEER_PACKAGES: Record<string, string[]> = {
  'tfjs-cpu': ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'],
  'tfjs-wasm': ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm'],
  'ort-web': ['onnxruntime-web'],
  'ort-node': ['onnxruntime-node'],
};

/**
 * Why a gpu.js engine's mode cannot run here, or null. @ecgnn/gpu (and gpu.js, which loads the native `gl`
 * package when it is built) is imported only when a gpu.js engine is selected.
 */
async function missingGpuMode(mode: string): Promise<string | null> {
  if (mode === 'webgl2' || mode === 'webgpu') {
    const { CHROMIUM } = await import('../test-utils/chromium.js');
    return existsSync(CHROMIUM)
      ? null
      : `gpu.js mode '${mode}' runs in headless Chromium, which is not at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  }
  const { gpuModeAvailable, GPU_MODES } = await import('@ecgnn/gpu');
  const m = GPU_MODES.find((x) => x === mode);
  if (m === undefined) return `unknown gpu.js mode '${mode}'`;
  if (gpuModeAvailable(m)) return null;
  return m === 'headlessgl'
    ? "gpu.js mode 'headlessgl' is not available here: the native gl package is not built or gives no context (no X display: run under xvfb-run -a); building gl: docs/gpu.md, Not done"
    : `gpu.js mode '${m}' is not available here`;
}

/** Why an engine cannot run here (a peer package is not installed, Python has no torch, a gpu.js mode is unavailable), or null. */
async function missingPeer(engine: string): Promise<string | null> {
  if (engine === 'pytorch-cpu') return missingTorch();
  if (engine.startsWith('ecgnn-gpu-')) return missingGpuMode(engine.slice('ecgnn-gpu-'.length));
  // NOTE: looks for the package folder (as pnpm links it) rather than resolving an entry point: some
  // packages' `exports` hide package.json or offer only an `import` condition.
  for (const pkg of PEER_PACKAGES[engine] ?? []) {
    if (!existsSync(join(here, 'node_modules', pkg, 'package.json'))) {
      return `${pkg} is not installed (pnpm install in the workspace installs the benchmark peers)`;
    }
  }
  return null;
}

function parseArgs(argv: string[]) {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    if (['--cases', '--engines', '--out', '--rounds', '--render', '--cpu'].includes(a))
      values.set(a.slice(2), argv[++i]);
    else if (['--quick', '--smoke'].includes(a)) flags.add(a.slice(2));
    else throw new Error(`unknown option ${a} (see the header of benchmarks/run.ts)`);
  }
  return { flags, values };
}

/**
 * An engine entry of {@link JOBS}: `name` or `name@threads` (e.g. `ecgnn-wasm@2`: the same engine with its
 * kernels split over 2 threads, reported as a `threads: 2` row beside the 1-thread one).
 */
function parseEngine(spec: string): { engine: string; threads: number } {
  const [engine, t] = spec.split('@');
  return { engine, threads: t === undefined ? 1 : Number(t) };
}

/**
 * CPU the single-thread engine processes are pinned to (`taskset -c`, Linux), or null. On the development VM the
 * two virtual CPUs were not equally fast at all times (another tenant's load moved between them: the same conv
 * kernel took 1.2 ms in one process and 2.0 ms in the next, depending only on the CPU it ran on), so unpinned
 * processes made the ratios a lottery. `--cpu N` picks the CPU, `--cpu none` disables pinning.
 */
let pinCpu: number | null = null;

/** Runs one engine process for a job; one row per case of the job (`case`, then `pair`). */
function runChild(
  spec: string,
  job: Job,
  batch: number,
  budgetMs: number,
  minRuns: number,
  maxRuns: number,
): Row[] {
  const { engine, threads } = parseEngine(spec);
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const file = join(here, 'peers', `${engine}.ts`);
  const args = [
    '--conditions=@ecgnn/source',
    file,
    '--case',
    job.case,
    '--batch',
    String(batch),
    '--budget-ms',
    String(budgetMs),
    '--min-runs',
    String(minRuns),
    '--max-runs',
    String(maxRuns),
    '--threads',
    String(threads),
    ...(job.pair ? ['--pair', job.pair] : []),
  ];
  // Single-thread engines all run on the same CPU (see `pinCpu`); threaded rows get every CPU.
  const [cmd, argv] =
    pinCpu !== null && threads === 1 ? ['taskset', ['-c', String(pinCpu), tsx, ...args]] : [tsx, args];
  const res = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 24 });
  const results = (res.stdout ?? '')
    .split('\n')
    .filter((l) => l.startsWith('RESULT '))
    .map((l) => JSON.parse(l.slice(7)) as Row);
  return jobCases(job).map(
    (c) =>
      results.find((r) => r.case === c) ?? {
        case: c,
        engine,
        batch,
        threads,
        error: `no result (exit ${res.status}${res.error ? `, ${res.error.message}` : ''}): ${(res.stderr ?? '').slice(-400)}`,
      },
  );
}

/** The cases a job measures. */
function jobCases(job: Job): string[] {
  return job.pair ? [job.case, job.pair] : [job.case];
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

/** Pools the timed runs of several rounds of one case × engine into one row. */
function pool(rounds: Row[]): Row {
  const failed = rounds.find((r) => r.error || r.unsupported || r.skipped);
  if (failed) return failed;
  const times = rounds.flatMap((r) => r.times ?? []).sort((a, b) => a - b);
  const { times: _t, ...first } = rounds[0];
  return {
    ...first,
    medianMs: percentile(times, 0.5),
    p10Ms: percentile(times, 0.1),
    p90Ms: percentile(times, 0.9),
    runs: times.length,
    rounds: rounds.length,
    outputsMatch: rounds.every((r) => r.outputsMatch),
    maxRelativeError: Math.max(...rounds.map((r) => r.maxRelativeError ?? 0)),
  } as Row;
}

async function main(): Promise<void> {
  if (process.argv.includes('--micro')) {
    runMicro(process.argv.slice(2));
    return;
  }
  const { flags, values } = parseArgs(process.argv.slice(2));
  const render = values.get('render');
  if (render) {
    // Re-render the markdown of an existing run (no measurement).
    const { rows: saved, ...savedMeta } = JSON.parse(readFileSync(resolve(render), 'utf8')) as {
      rows: Row[];
    } & Record<string, unknown>;
    writeReport(resolve(render), saved, savedMeta);
    console.log(`rendered ${render.replace(/\.json$/, '.md')} and charts in ${chartDir(resolve(render))}`);
    return;
  }
  const smoke = flags.has('smoke');
  const cpuArg = values.get('cpu') ?? '0';
  pinCpu =
    cpuArg === 'none' || os.platform() !== 'linux' || spawnSync('taskset', ['-V']).status !== 0
      ? null
      : Number(cpuArg);
  const quick = flags.has('quick');
  const budgetMs = smoke ? 0 : quick ? 1500 : 1200;
  const minRuns = smoke ? 2 : 5;
  const maxRuns = smoke ? 2 : quick ? 300 : 1000;
  const caseFilter = values.get('cases')?.split(',');
  const engineFilter = values.get('engines')?.split(',');
  const rounds = Number(values.get('rounds') ?? (smoke || quick ? 1 : 5));
  const outPath = values.get('out')
    ? resolve(values.get('out')!)
    : smoke
      ? null
      : join(root, 'docs', 'benchmarks.json');

  const rows: Row[] = [];
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  const t0 = Date.now();
  // The machine's WebAssembly SIMD arithmetic ceiling, measured before the cases (about a second).
  const wasmPeakGflops = smoke ? undefined : Number(measureWasmPeak().toFixed(1));
  const loadAtStart = os.loadavg().map((v) => Number(v.toFixed(2)));
  for (const job of JOBS) {
    const cases = jobCases(job);
    const batch = smoke ? (job.smokeBatch ?? job.batch) : job.batch;
    if (caseFilter && !cases.some((c) => caseFilter.includes(c))) continue;
    const engines = job.engines.filter(
      (e) =>
        (!engineFilter || engineFilter.includes(e) || engineFilter.includes(parseEngine(e).engine)) &&
        !(smoke && GPU_ENGINES.includes(e) && !cases.some((c) => GPU_SMOKE_CASES.includes(c))),
    );
    // Rounds of each engine, one list per case of the job.
    const perEngine = new Map<string, Row[][]>(engines.map((e) => [e, cases.map(() => [])]));
    for (const engine of engines) {
      const missing = await missingPeer(parseEngine(engine).engine);
      if (missing) {
        perEngine.get(engine)!.forEach((list, k) => {
          list.push({ case: cases[k], ...parseEngine(engine), batch, skipped: missing });
        });
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const engine of engines) {
        const prev = perEngine.get(engine)!;
        if (prev.some((list) => list.some((r) => r.error || r.unsupported || r.skipped))) continue;
        runChild(engine, job, batch, budgetMs, smoke ? minRuns : (job.minRuns ?? minRuns), maxRuns).forEach(
          (r, k) => {
            prev[k].push(r);
          },
        );
      }
    }
    for (const [k, c] of cases.entries()) {
      for (const engine of engines) {
        const row: Row = { ...pool(perEngine.get(engine)![k]), nodeVersion: process.version, cpuModel };
        rows.push(row);
        const status = row.error
          ? `ERROR ${row.error.split('\n')[0]}`
          : row.skipped
            ? `skipped: ${row.skipped}`
            : row.unsupported
              ? 'unsupported'
              : `${fmt(row.medianMs)} ms (p10 ${fmt(row.p10Ms)}, p90 ${fmt(row.p90Ms)}, ${row.runs} runs) match=${row.outputsMatch}`;
        console.log(`${c.padEnd(24)} b=${String(batch).padEnd(4)} ${engine.padEnd(20)} ${status}`);
        if (row.backendStats) console.log(`${' '.repeat(24)}   ${backendStatsText(row.backendStats)}`);
      }
    }
  }
  const meta = {
    generatedAt: new Date().toISOString(),
    command: `pnpm bench${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    cpuModel,
    cores: os.cpus().length,
    platform: `${os.platform()} ${os.arch()}`,
    nodeVersion: process.version,
    durationSeconds: Math.round((Date.now() - t0) / 1000),
    rounds,
    wasmPeakGflops,
    pinnedCpu: pinCpu,
    loadAverageStart: loadAtStart,
    loadAverageEnd: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
  console.log(`\n${rows.length} rows in ${meta.durationSeconds} s`);
  for (const t of TARGETS) {
    const r = t.check(rows);
    console.log(`${r.pass === null ? 'n/a ' : r.pass ? 'MET ' : 'MISS'} ${t.text}: ${r.detail}`);
  }
  const failures = rows.filter((r) => r.error || (r.outputsMatch === false && !r.unsupported));
  if (outPath) {
    atomicWrite(outPath, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
    writeReport(outPath, rows, meta);
    console.log(`wrote ${outPath}, its .md and charts in ${chartDir(outPath)}`);
  }
  if (failures.length > 0) {
    console.error(`${failures.length} case(s) failed or did not match the reference`);
    process.exitCode = 1;
  }
}

await main();
