/**
 * `pnpm bench` — the ecgnn benchmark suite against TensorFlow.js and ONNX Runtime.
 *
 *   pnpm bench            full run (5 rounds × about 1.2 s of timed runs per case × engine, ~15 min)
 *   pnpm bench --quick    shorter budgets (whole suite well under 10 minutes)
 *   pnpm bench --smoke    1 warm-up + 2 timed runs per case, checks every engine end to end; writes
 *                         nothing unless --out is given (benchmarks/bench-smoke.test.ts runs this)
 *   pnpm bench --render docs/benchmarks.json   re-render the .md and charts of a recorded run
 *   options: --cases a,b  --engines a,b  --rounds N (default 5, --quick 1, --smoke 1)
 *            --cpu N|none (pin single-thread engine processes to CPU N with taskset; default 0 on Linux)
 *            --out FILE.json (default docs/benchmarks.json; its .md twin is written beside it and one
 *            SVG chart per case × batch into the folder FILE/, e.g. docs/benchmarks/conv1d-batch8.svg)
 *
 * Engines: `ecgnn-wasm` / `ecgnn-ts` are @ecgnn/core's public ops with setBackend('wasm') / ('cpu');
 * `ecgnn-infer` is @ecgnn/infer's loadModel + predict on model files written by saveModel;
 * `ecgnn-kernels` (comparison only) the raw kernels of @ecgnn/kernels/wasm (see peers/ecgnn.ts). Peers whose npm package is not installed are skipped with a message.
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
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
}

const FLOAT_PEERS = ['tfjs-cpu', 'tfjs-wasm', 'ort-web', 'ort-node'];
const JOBS: Job[] = [
  {
    case: 'matmul-256',
    batch: 1,
    engines: ['ecgnn-wasm', 'ecgnn-wasm@2', 'ecgnn-ts', 'ecgnn-kernels', ...FLOAT_PEERS],
  },
  {
    case: 'conv1d',
    batch: 8,
    engines: ['ecgnn-wasm', 'ecgnn-wasm@2', 'ecgnn-ts', 'ecgnn-kernels', ...FLOAT_PEERS],
  },
  {
    case: 'depthwise-conv1d',
    batch: 8,
    engines: ['ecgnn-wasm', 'ecgnn-ts', 'ecgnn-kernels', ...FLOAT_PEERS],
  },
  {
    case: 'conv1d-backward-input',
    batch: 8,
    engines: ['ecgnn-wasm', 'ecgnn-wasm@2', 'ecgnn-ts', 'ecgnn-kernels'],
  },
  {
    case: 'conv1d-backward-weight',
    batch: 8,
    engines: ['ecgnn-wasm', 'ecgnn-wasm@2', 'ecgnn-ts', 'ecgnn-kernels'],
  },
  { case: 'ecg-cnn-ref', batch: 1, engines: ['ecgnn-infer', 'ecgnn-wasm', 'ecgnn-ts', ...FLOAT_PEERS] },
  { case: 'ecg-cnn-ref', batch: 256, engines: ['ecgnn-infer', 'ecgnn-wasm', 'ecgnn-ts', ...FLOAT_PEERS] },
  {
    case: 'binary-conv1d',
    pair: 'float-conv1d-same-shape',
    batch: 1,
    engines: ['ecgnn-infer', 'ecgnn-kernels'],
  },
];

/** npm packages each peer engine needs (devDependencies of benchmarks/package.json). */
const PEER_PACKAGES: Record<string, string[]> = {
  'tfjs-cpu': ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'],
  'tfjs-wasm': ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm'],
  'ort-web': ['onnxruntime-web'],
  'ort-node': ['onnxruntime-node'],
};

/** Why an engine cannot run here (a peer package is not installed), or null. */
function missingPeer(engine: string): string | null {
  // NOTE: looks for the package folder (as pnpm links it) rather than resolving an entry point: some
  // packages' `exports` hide package.json or offer only an `import` condition.
  for (const pkg of PEER_PACKAGES[engine] ?? []) {
    if (!existsSync(join(here, 'node_modules', pkg, 'package.json'))) {
      return `${pkg} is not installed (pnpm install in the workspace installs the benchmark peers)`;
    }
  }
  return null;
}

/** The ecgnn engine whose time is divided by each peer's in the ratio columns. */
function ecgnnEngineOf(caseName: string): string {
  return caseName === 'ecg-cnn-ref' || caseName.includes('same-shape') || caseName.startsWith('binary')
    ? 'ecgnn-infer'
    : 'ecgnn-wasm';
}

interface Row {
  case: string;
  engine: string;
  batch: number;
  threads: number;
  medianMs?: number;
  p10Ms?: number;
  p90Ms?: number;
  runs?: number;
  outputsMatch?: boolean;
  maxRelativeError?: number;
  /** The other case timed in the same processes, runs alternating (see {@link Job.pair}). */
  pairedWith?: string;
  engineVersion?: string;
  nodeVersion?: string;
  cpuModel?: string;
  note?: string;
  error?: string;
  unsupported?: boolean;
  /** Set when the engine was not run (its npm package is not installed). */
  skipped?: string;
  times?: number[];
  rounds?: number;
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

/** Display name of a row's engine: `ecgnn-wasm`, or `ecgnn-wasm (2 threads)`. */
function engineLabel(r: { engine: string; threads?: number }): string {
  return (r.threads ?? 1) > 1 ? `${r.engine} (${r.threads} threads)` : r.engine;
}

/**
 * CPU the single-thread engine processes are pinned to (`taskset -c`, Linux), or null. On the development VM the
 * two virtual CPUs were not equally fast at all times (another tenant's load moved between them: the same conv
 * kernel took 1.2 ms in one process and 2.0 ms in the next, depending only on the CPU it ran on), so unpinned
 * processes made the ratios a lottery. `--cpu N` picks the CPU, `--cpu none` disables pinning.
 */
let pinCpu: number | null = null;

/** Runs one engine process for a job; one row per case of the job (`case`, then `pair`). */
function runChild(spec: string, job: Job, budgetMs: number, minRuns: number, maxRuns: number): Row[] {
  const { engine, threads } = parseEngine(spec);
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const file = join(here, 'peers', `${engine}.ts`);
  const args = [
    '--conditions=@ecgnn/source',
    file,
    '--case',
    job.case,
    '--batch',
    String(job.batch),
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
        batch: job.batch,
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

const fmt = (v: number | undefined, digits = 3) =>
  v === undefined ? '–' : v < 0.1 ? v.toFixed(4) : v.toFixed(digits);

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Horizontal bar chart of medians with p10–p90 whiskers, log scale (times span 1000×). */
function svgChart(title: string, rows: Row[]): string {
  const ok = rows.filter((r) => r.medianMs !== undefined && r.medianMs > 0);
  if (ok.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="680" height="28" font-family="sans-serif" font-size="12"><title>${escapeXml(title)}: no measurement</title><text x="4" y="16">${escapeXml(title)}: no measurement</text></svg>`;
  }
  const width = 680;
  const left = 110;
  const right = 100;
  const barH = 18;
  const gap = 8;
  const top = 28;
  const height = top + ok.length * (barH + gap) + 24;
  const lo = Math.log10(Math.min(...ok.map((r) => r.p10Ms ?? r.medianMs ?? 1)) / 2);
  const hi = Math.log10(Math.max(...ok.map((r) => r.p90Ms ?? r.medianMs ?? 1)));
  const x = (ms: number) => left + ((Math.log10(ms) - lo) / Math.max(hi - lo, 1e-9)) * (width - left - right);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}: median ms per engine (log scale, whiskers p10–p90)</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="4" y="16" font-weight="bold">${escapeXml(title)}: median ms, log scale (whiskers p10–p90); shorter is faster</text>`,
  ];
  ok.forEach((r, i) => {
    const y = top + i * (barH + gap);
    const xm = x(r.medianMs ?? 1);
    const color =
      r.engine === 'ecgnn-kernels' ? '#f08c00' : r.engine.startsWith('ecgnn') ? '#d9480f' : '#1c7ed6';
    parts.push(`<text x="4" y="${y + 13}">${escapeXml(engineLabel(r))}</text>`);
    parts.push(
      `<rect x="${left}" y="${y}" width="${Math.max(1, xm - left).toFixed(1)}" height="${barH}" fill="${color}"/>`,
    );
    const x10 = x(r.p10Ms ?? r.medianMs ?? 1);
    const x90 = x(r.p90Ms ?? r.medianMs ?? 1);
    parts.push(
      `<line x1="${x10.toFixed(1)}" x2="${x90.toFixed(1)}" y1="${y + barH / 2}" y2="${y + barH / 2}" stroke="#222"/>`,
    );
    parts.push(`<text x="${(Math.max(x90, xm) + 6).toFixed(1)}" y="${y + 13}">${fmt(r.medianMs)} ms</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

interface Target {
  text: string;
  check(rows: Row[]): { pass: boolean | null; detail: string };
}

function median(rows: Row[], c: string, engine: string, batch?: number): number | undefined {
  return rows.find(
    (r) =>
      r.case === c &&
      r.engine === engine &&
      (r.threads ?? 1) === 1 &&
      (batch === undefined || r.batch === batch) &&
      r.outputsMatch,
  )?.medianMs;
}

function ratioTarget(text: string, c: string, a: string, b: string, factor: number, batch?: number): Target {
  return {
    text,
    check(rows) {
      const ta = median(rows, c, a, batch);
      const tb = median(rows, c, b, batch);
      if (ta === undefined || tb === undefined) return { pass: null, detail: 'not measured' };
      const speedup = tb / ta;
      return {
        pass: speedup >= factor,
        detail: `${a} ${fmt(ta)} ms vs ${b} ${fmt(tb)} ms: ${speedup.toFixed(2)}×`,
      };
    },
  };
}

const TARGETS: Target[] = [
  ratioTarget(
    'matmul-256: ecgnn-wasm ≥ 1.5× faster than tfjs-wasm',
    'matmul-256',
    'ecgnn-wasm',
    'tfjs-wasm',
    1.5,
  ),
  ratioTarget('conv1d: ecgnn-wasm ≥ 1.5× faster than tfjs-wasm', 'conv1d', 'ecgnn-wasm', 'tfjs-wasm', 1.5),
  ratioTarget(
    'depthwise-conv1d: ecgnn-wasm at least as fast as tfjs-wasm',
    'depthwise-conv1d',
    'ecgnn-wasm',
    'tfjs-wasm',
    1,
  ),
  ratioTarget(
    'ecg-cnn-ref batch 1: ecgnn-infer faster than ort-web',
    'ecg-cnn-ref',
    'ecgnn-infer',
    'ort-web',
    1,
    1,
  ),
  ratioTarget(
    'ecg-cnn-ref batch 256: ecgnn-infer throughput ≥ tfjs-wasm',
    'ecg-cnn-ref',
    'ecgnn-infer',
    'tfjs-wasm',
    1,
    256,
  ),
  {
    text: 'binary-conv1d ≥ 10× faster than float-conv1d-same-shape (both ecgnn-infer)',
    check(rows) {
      const b = median(rows, 'binary-conv1d', 'ecgnn-infer');
      const f = median(rows, 'float-conv1d-same-shape', 'ecgnn-infer');
      if (b === undefined || f === undefined) return { pass: null, detail: 'not measured' };
      return {
        pass: f / b >= 10,
        detail: `binary ${fmt(b)} ms vs float ${fmt(f)} ms: ${(f / b).toFixed(2)}×`,
      };
    },
  },
  ratioTarget(
    'matmul-256 (kernel level): ecgnn-kernels ≥ 1.5× faster than tfjs-wasm',
    'matmul-256',
    'ecgnn-kernels',
    'tfjs-wasm',
    1.5,
  ),
  ratioTarget(
    'conv1d (kernel level): ecgnn-kernels ≥ 1.5× faster than tfjs-wasm',
    'conv1d',
    'ecgnn-kernels',
    'tfjs-wasm',
    1.5,
  ),
  {
    text: 'binary-conv1d ≥ 10× faster than float-conv1d-same-shape (kernel level, ecgnn-kernels)',
    check(rows) {
      const b = median(rows, 'binary-conv1d', 'ecgnn-kernels');
      const f = median(rows, 'float-conv1d-same-shape', 'ecgnn-kernels');
      if (b === undefined || f === undefined) return { pass: null, detail: 'not measured' };
      return {
        pass: f / b >= 10,
        detail: `binary ${fmt(b)} ms vs float ${fmt(f)} ms: ${(f / b).toFixed(2)}×`,
      };
    },
  },
  ...['conv1d-backward-input', 'conv1d-backward-weight'].map(
    (c): Target => ({
      text: `${c}: within 2.5× of conv1d forward (kernel level, ecgnn-kernels)`,
      check(rows) {
        const bw = median(rows, c, 'ecgnn-kernels');
        const fw = median(rows, 'conv1d', 'ecgnn-kernels');
        if (bw === undefined || fw === undefined) return { pass: null, detail: 'not measured' };
        return {
          pass: bw / fw <= 2.5,
          detail: `${fmt(bw)} ms vs forward ${fmt(fw)} ms: ${(bw / fw).toFixed(2)}×`,
        };
      },
    }),
  ),
];

function markdown(rows: Row[], meta: Record<string, unknown>, chartFolder: string): string {
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(
    `Generated by \`pnpm bench\` (benchmarks/run.ts) from the run recorded in \`${chartFolder}.json\` beside this file; do not edit by hand. Charts: \`${chartFolder}/*.svg\`.`,
    '',
  );
  if (String(meta.command).includes('--smoke')) {
    out.push(
      '**Smoke run** (1 warm-up + 2 timed runs per case): it checks that every engine runs and matches the reference; its times are not measurements to quote.',
      '',
    );
  }
  out.push(`- Command: \`${meta.command}\``);
  out.push(`- Date: ${meta.generatedAt}`);
  out.push(`- Machine: ${meta.cpuModel}, ${meta.cores} cores, ${meta.platform}; Node ${meta.nodeVersion}`);
  out.push(
    `- Rounds: ${meta.rounds} (engines of a case take turns; timed runs pooled); duration ${meta.durationSeconds} s; load average (1/5/15 min) at start ${String(meta.loadAverageStart)}, at end ${String(meta.loadAverageEnd)}`,
  );
  out.push(
    `- Every case × engine ran in its own process, single-threaded (except rows marked "2 threads"), with the same seeded inputs and weights; outputs were compared with the TypeScript reference before timing (\`match\`). The two cases of the binary-vs-float target (\`binary-conv1d\`, \`float-conv1d-same-shape\`) are cases of one engine: each engine times them in the same process, runs alternating, so that load from other jobs falls on both alike. ${
      meta.pinnedCpu === null || meta.pinnedCpu === undefined
        ? 'Processes were not pinned to a CPU.'
        : `Single-thread processes were pinned to CPU ${meta.pinnedCpu} (\`taskset\`): this VM's two CPUs were not equally fast at all times.`
    }`,
    '- Times are medians of individually timed runs (p10/p90 beside them). This machine has 2 cores shared with other jobs: absolute times move a lot between runs; ratios within one run are what count.',
    '- Every ecgnn engine is measured through its public API (benchmarks/peers/ecgnn.ts), one timed run = one call as an application makes it:',
    "  - `ecgnn-wasm`: `@ecgnn/core` ops after `setBackend('wasm')` (WebAssembly SIMD kernels; each kernel call copies its operands into the module's memory and the result out; the previous output is disposed before each call, so the op's output storage is recycled as in an application loop). `ecgnn-ts`: the same calls after `setBackend('cpu')` (TypeScript reference kernels).",
    '  - matmul-256: `matmul(a, b)`; conv1d / depthwise-conv1d: `conv1d(x, w, null, { padding, groups })` (no grad); conv1d-backward-input / -weight: `backward(y, g, { retainGraph: true })` of a prebuilt `y = conv1d(x, w)` with only x (resp. w) requiring grad — the forward is not timed; ecg-cnn-ref: functional ops under `noGrad`, batchnorm in eval mode (not folded).',
    '  - `ecgnn-infer`: `@ecgnn/infer` model files written by `saveModel(spec)` and read by `loadModel(bytes, { kernels: "wasm" })`. ecg-cnn-ref: the CNN with batchnorm folded into the convs, `predict(x, [batch, 1, 360], out)`; binary-conv1d / float-conv1d-same-shape: one-layer models (`sign → binaryConv1d → flatten`, resp. `conv1d → flatten`) run with `logits(x, out)`, so the binary time includes sign-packing the float input and both include the runtime’s input/output copies.',
    '  - `ecgnn-kernels` (comparison only, not an API users call for models): the WebAssembly kernel function of `@ecgnn/kernels/wasm` called directly into a preallocated buffer (binary: on already packed words). The gap between it and `ecgnn-wasm` / `ecgnn-infer` is API overhead (tensor objects, argument checks, output storage; see docs/wasm.md).',
    '- Ratio column: ecgnn time ÷ engine time (below 1 means ecgnn is faster); `speed-up` is the inverse.',
    '',
  );
  const skipped = rows.filter((r) => r.skipped);
  if (skipped.length > 0) {
    out.push(
      `- Skipped (not installed): ${[...new Set(skipped.map((r) => `${r.engine} (${r.skipped})`))].join('; ')}.`,
      '',
    );
  }
  out.push('## Targets of issue #15', '', '| target | result | measured |', '|---|---|---|');
  for (const t of TARGETS) {
    const r = t.check(rows);
    out.push(`| ${t.text} | ${r.pass === null ? 'n/a' : r.pass ? 'met' : '**not met**'} | ${r.detail} |`);
  }
  out.push('');
  out.push(...ceilingSection(rows, meta.wasmPeakGflops as number | undefined));
  for (const [c, b] of groupKeys(rows)) {
    const group = rows.filter((r) => r.case === c && String(r.batch) === b);
    const ours = group.find((r) => r.engine === ecgnnEngineOf(c) && (r.threads ?? 1) === 1);
    out.push(`## ${c} (batch ${b})`, '');
    out.push(
      '| engine | median ms | p10 ms | p90 ms | runs | match | ecgnn ÷ engine | speed-up | version | note |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of group) {
      if (r.error || r.unsupported || r.skipped) {
        out.push(
          `| ${engineLabel(r)} | – | – | – | – | – | – | – | – | ${
            r.skipped
              ? `skipped: ${escapeXml(r.skipped)}`
              : r.unsupported
                ? 'unsupported'
                : `error: ${escapeXml(r.error ?? '')
                    .split('\n')[0]
                    .slice(0, 160)}`
          } |`,
        );
        continue;
      }
      const ratio = ours?.medianMs && r.medianMs ? ours.medianMs / r.medianMs : undefined;
      out.push(
        `| ${engineLabel(r)} | ${fmt(r.medianMs)} | ${fmt(r.p10Ms)} | ${fmt(r.p90Ms)} | ${r.runs} | ${r.outputsMatch ? 'yes' : '**NO**'} | ${
          ratio === undefined ? '–' : ratio.toFixed(2)
        } | ${ratio === undefined ? '–' : `${(1 / ratio).toFixed(2)}×`} | ${r.engineVersion ?? ''} | ${r.note ?? ''} |`,
      );
    }
    out.push('', `![${c}, batch ${b}: median ms per engine](${chartFolder}/${chartFile(c, b)})`, '');
  }
  return out.join('\n');
}

/** Floating-point operations of one run of the cases whose arithmetic is a plain multiply-add count. */
const CASE_FLOPS: Record<string, number> = {
  'matmul-256': 2 * 256 ** 3,
  conv1d: 2 * 8 * 32 * 16 * 7 * 1000,
  'depthwise-conv1d': 2 * 8 * 32 * 5 * 1000,
  'float-conv1d-same-shape': 2 * 64 * 64 * 5 * 1000,
};

/**
 * GFLOP/s of each float engine beside the measured WebAssembly SIMD ceiling (f32x4 mul+add on registers,
 * benchmarks/wasm-peak.ts): what a "1.5× tfjs-wasm" target asks of the arithmetic units.
 */
function ceilingSection(rows: Row[], peak: number | undefined): string[] {
  if (peak === undefined) return [];
  const out = [
    '## Arithmetic ceiling',
    '',
    `WebAssembly SIMD float32 ceiling on this machine: **${peak} GFLOP/s** (\`benchmarks/wasm-peak.ts\`: independent \`f32x4.mul\` + \`f32x4.add\` on registers, no loads or stores; base SIMD has no fused multiply-add, and relaxed SIMD needs a flag on Node 20). No WebAssembly kernel can exceed it; \`tfjs-wasm\` and \`ort-web\` run under the same ceiling, \`ort-node\` (native AVX-512 FMA) does not.`,
    '',
    '| case | engine | GFLOP/s | % of ceiling | 1.5 × tfjs-wasm would need |',
    '|---|---|---|---|---|',
  ];
  for (const [c, flops] of Object.entries(CASE_FLOPS)) {
    const tf = rows.find((r) => r.case === c && r.engine === 'tfjs-wasm' && r.medianMs);
    // (a row with n threads is compared with n × the one-thread ceiling)
    const need = tf?.medianMs ? (1.5 * flops) / tf.medianMs / 1e6 : undefined;
    for (const r of rows.filter((x) => x.case === c && x.medianMs && !x.engine.startsWith('tfjs-cpu'))) {
      const g = flops / (r.medianMs as number) / 1e6;
      out.push(
        `| ${c} | ${engineLabel(r)} | ${g.toFixed(1)} | ${((100 * g) / (peak * (r.threads ?? 1))).toFixed(0)} % | ${
          need === undefined
            ? '–'
            : `${need.toFixed(1)} GFLOP/s = ${((100 * need) / peak).toFixed(0)} % of ceiling`
        } |`,
      );
    }
  }
  out.push('');
  return out;
}

/** Folder of the SVG charts of a report: `docs/benchmarks.json` → `docs/benchmarks/`. */
function chartDir(jsonPath: string): string {
  return jsonPath.replace(/\.json$/, '');
}

/** File name of the chart of one case × batch. */
function chartFile(caseName: string, batch: number | string): string {
  return `${caseName}-batch${batch}.svg`;
}

/** Writes the .md twin of a report and one SVG chart per case × batch. */
function writeReport(jsonPath: string, rows: Row[], meta: Record<string, unknown>): void {
  const dir = chartDir(jsonPath);
  for (const [c, b] of groupKeys(rows)) {
    const group = rows.filter((r) => r.case === c && String(r.batch) === b);
    atomicWrite(join(dir, chartFile(c, b)), `${svgChart(`${c}, batch ${b}`, group)}\n`);
  }
  atomicWrite(jsonPath.replace(/\.json$/, '.md'), `${markdown(rows, meta, basename(dir))}\n`);
}

function groupKeys(rows: Row[]): Array<[string, string]> {
  return [...new Set(rows.map((r) => `${r.case}|${r.batch}`))].map((k) => k.split('|') as [string, string]);
}

function atomicWrite(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

async function main(): Promise<void> {
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
    if (caseFilter && !cases.some((c) => caseFilter.includes(c))) continue;
    const engines = job.engines.filter(
      (e) => !engineFilter || engineFilter.includes(e) || engineFilter.includes(parseEngine(e).engine),
    );
    // Rounds of each engine, one list per case of the job.
    const perEngine = new Map<string, Row[][]>(engines.map((e) => [e, cases.map(() => [])]));
    for (const engine of engines) {
      const missing = missingPeer(parseEngine(engine).engine);
      if (missing) {
        perEngine.get(engine)!.forEach((list, k) => {
          list.push({ case: cases[k], ...parseEngine(engine), batch: job.batch, skipped: missing });
        });
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const engine of engines) {
        const prev = perEngine.get(engine)!;
        if (prev.some((list) => list.some((r) => r.error || r.unsupported || r.skipped))) continue;
        runChild(engine, job, budgetMs, minRuns, maxRuns).forEach((r, k) => {
          prev[k].push(r);
        });
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
        console.log(`${c.padEnd(24)} b=${String(job.batch).padEnd(4)} ${engine.padEnd(13)} ${status}`);
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
