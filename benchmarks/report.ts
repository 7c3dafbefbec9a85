/**
 * The report of `pnpm bench` (benchmarks/run.ts): rows, targets, the markdown page and one SVG chart per
 * case × batch.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Whether a case is one of the training cases (one SGD step per run; peers/train.ts). */
export function isTrainCase(caseName: string): boolean {
  return caseName.startsWith('train-step');
}

/** The ecgnn engine whose time is divided by each peer's in the ratio columns. */
export function ecgnnEngineOf(caseName: string): string {
  return caseName === 'ecg-cnn-ref' || caseName.includes('same-shape') || caseName.startsWith('binary')
    ? 'ecgnn-infer'
    : 'ecgnn-wasm';
}

/**
 * Counters of a backend that runs part of the kernel contract and falls back to the CPU reference for the rest
 * (the gpu.js engines `ecgnn-gpu-<mode>`, peers/ecgnn-gpu.ts): contract-kernel calls by where they ran.
 */
export interface BackendStats {
  /** Backend name, e.g. `gpu.js:webasm`. */
  backend: string;
  /** Calls of one timed run (the last of the process). */
  perRun: { deviceCalls: Record<string, number>; fallbacks: Record<string, number> };
  /** Calls over the whole engine process: reference check, warm-up and timed runs. */
  total: { deviceCalls: Record<string, number>; fallbacks: Record<string, number> };
  /** Why each kernel fell back (the last reason seen, per kernel). */
  fallbackReasons: Record<string, string>;
  /** gpu.js kernels compiled in the process (one per kernel and geometry). */
  compiledKernels: number;
  /** gpu.js kernel classes that ran (the mode's class; anything else is an error of the backend). */
  kernelClasses: string[];
}

const sumCounts = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
const listCounts = (c: Record<string, number>) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** Fallback counts grouped by reason: `reason: kernel n, kernel n; reason: …`. */
function fallbacksByReason(c: Record<string, number>, reasons: Record<string, string>): string {
  const groups = new Map<string, Record<string, number>>();
  for (const [k, v] of Object.entries(c)) {
    const reason = reasons[k] ?? 'reason not recorded';
    groups.set(reason, { ...groups.get(reason), [k]: v });
  }
  return [...groups]
    .sort((a, b) => sumCounts(b[1]) - sumCounts(a[1]))
    .map(([reason, counts]) => `${reason}: ${listCounts(counts)}`)
    .join('; ');
}

/**
 * One line on where a row's kernel calls ran (rows with {@link Row.backendStats}): device calls and CPU fallbacks
 * per timed run, the fallbacks grouped by reason (the backend keeps the last reason per kernel, so a kernel that
 * fell back for several reasons is listed under its last one), and the process totals.
 */
export function backendStatsText(s: BackendStats): string {
  const dev = sumCounts(s.perRun.deviceCalls);
  const fb = sumCounts(s.perRun.fallbacks);
  // Kernels that fell back outside the timed runs only (e.g. weight initialisation while preparing the case).
  const elsewhere = Object.fromEntries(
    Object.entries(s.total.fallbacks).filter(([k]) => !(k in s.perRun.fallbacks)),
  );
  return [
    `${s.backend}, per timed run: ${dev} device calls (${listCounts(s.perRun.deviceCalls) || 'none'})`,
    `${fb} CPU fallbacks${fb > 0 ? ` (by last reason: ${fallbacksByReason(s.perRun.fallbacks, s.fallbackReasons)})` : ''}`,
    `whole process (preparation, check, warm-up, timed runs): ${sumCounts(s.total.deviceCalls)} device calls, ${sumCounts(
      s.total.fallbacks,
    )} CPU fallbacks${
      Object.keys(elsewhere).length > 0
        ? ` (outside the timed runs also ${fallbacksByReason(elsewhere, s.fallbackReasons)})`
        : ''
    }; ${s.compiledKernels} gpu.js kernels compiled; kernel classes ${s.kernelClasses.join(', ') || 'none'}`,
  ].join('; ');
}

export interface Row {
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
  /**
   * Device calls and CPU fallbacks of a partial backend (the gpu.js engines); shown beside the note. With several
   * rounds, those of the first round's process (every round runs the same calls).
   */
  backendStats?: BackendStats;
  error?: string;
  unsupported?: boolean;
  /** Set when the engine was not run (its npm package is not installed). */
  skipped?: string;
  times?: number[];
  rounds?: number;
}

/** Display name of a row's engine: `ecgnn-wasm`, or `ecgnn-wasm (2 threads)`. */
export function engineLabel(r: { engine: string; threads?: number }): string {
  return (r.threads ?? 1) > 1 ? `${r.engine} (${r.threads} threads)` : r.engine;
}

export const fmt = (v: number | undefined, digits = 3) =>
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

export interface Target {
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

export const TARGETS: Target[] = [
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
  ratioTarget(
    'train-step batch 64: ecgnn-wasm at least as fast as pytorch-cpu (1 thread each)',
    'train-step',
    'ecgnn-wasm',
    'pytorch-cpu',
    1,
    64,
  ),
  ratioTarget(
    'train-step-teacher batch 64: ecgnn-wasm at least as fast as pytorch-cpu (1 thread each)',
    'train-step-teacher',
    'ecgnn-wasm',
    'pytorch-cpu',
    1,
    64,
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
      '**Smoke run** (1 warm-up + 2 timed runs per case; the training cases at batch 8): it checks that every engine runs and matches the reference; its times are not measurements to quote.',
      '',
    );
  }
  const gpuRowsNote = rows.some((r) => r.engine.startsWith('ecgnn-gpu-'))
    ? ''
    : ' This record has no gpu.js rows (it predates them).';
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
    "  - `ecgnn-gpu-cpu`, `ecgnn-gpu-webasm`, `ecgnn-gpu-headlessgl` (issue #27; benchmarks/peers/ecgnn-gpu.ts): the same `@ecgnn/core` calls as `ecgnn-wasm` (kernel and training cases) after `setBackend(createGpuBackend({ mode }))` of `@ecgnn/gpu` (docs/gpu.md): gpu.js kernels whose outputs stay on the device between kernels (device-resident storage; a kernel-case run does not read its output back, a training step reads its loss), copied back when read or when a CPU kernel needs them; the contract kernels it does not run, and float64 operands, run the CPU reference. Each row's note gives the backend's device calls and CPU fallbacks (by reason) per timed run and over the process. `headlessgl` needs the native `gl` package built and an X display (`xvfb-run -a pnpm bench …`), else it is skipped with a message. To run only these rows without overwriting this record: `pnpm bench --cases conv1d,train-step --engines ecgnn-gpu-webasm,ecgnn-wasm --out /tmp/gpu-bench.json`." +
      gpuRowsNote,
    "- Training cases (benchmarks/peers/train.ts; issue #22): one timed run = one SGD step (lr 0.05, momentum 0.9) in training mode (batchnorm on batch statistics): forward, mean cross-entropy, reading the loss, backward, update; the engines cycle through the same 4 seeded batches. `train-step`: the ecg-cnn-ref CNN (unfolded batchnorm, 360-sample windows, the seeded weights above). `train-step-teacher`: `@ecgnn/models` `resnet-teacher` of the distillation experiment (98,857 parameters; 126-sample beat windows + 4 RR features; its seeded initial weights; head dropout 0 so that the engines' losses are comparable). Before timing, each engine's first 2 steps from the initial weights are compared with the same steps in float64 on `@ecgnn/core`'s CPU backend: both losses and the change of every parameter tensor (‖θ₂ − θ₀‖), each within 0.2 % (`match`). `ecgnn-wasm` / `ecgnn-ts`: `nn` modules and `optim.SGD` inside `tidy()`, as the Trainer steps; `tfjs-cpu` (train-step only): the CNN in tfjs-core ops with `tf.train.momentum(...).minimize` (gradients by `tf.variableGrads`; tfjs-backend-wasm has no convolution gradients); `pytorch-cpu`: PyTorch's eager CPU build (Debian `python3-torch`) running the same module tree and weights in `benchmarks/peers/pytorch_train.py`, each step timed in Python, `torch.set_num_threads(1 or 2)` — skipped with a message where no Python has torch. `samples/s` = batch ÷ median step time. PyTorch needs a Python with torch (Debian: `apt-get install -y python3-torch`; `/usr/bin/python3` is found even when another `python3` comes first on the PATH; `ECGNN_PYTHON` picks one). Memory over 2,000 steps: `node --expose-gc --import tsx --conditions=@ecgnn/source benchmarks/train-memory.ts`; where a step's time goes (per phase and kernel): `benchmarks/train-profile.ts`.",
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
  out.push('## Targets (issues #15 and #22)', '', '| target | result | measured |', '|---|---|---|');
  for (const t of TARGETS) {
    const r = t.check(rows);
    out.push(`| ${t.text} | ${r.pass === null ? 'n/a' : r.pass ? 'met' : '**not met**'} | ${r.detail} |`);
  }
  out.push('');
  out.push(...ceilingSection(rows, meta.wasmPeakGflops as number | undefined));
  for (const [c, b] of groupKeys(rows)) {
    const group = rows.filter((r) => r.case === c && String(r.batch) === b);
    const ours = group.find((r) => r.engine === ecgnnEngineOf(c) && (r.threads ?? 1) === 1);
    // Training cases also give the throughput: samples per second = batch ÷ median step time.
    const train = isTrainCase(c);
    out.push(`## ${c} (batch ${b})`, '');
    out.push(
      `| engine | median ms | p10 ms | p90 ms |${train ? ' samples/s |' : ''} runs | match | ecgnn ÷ engine | speed-up | version | note |`,
    );
    out.push(`|---|---|---|---|${train ? '---|' : ''}---|---|---|---|---|---|`);
    for (const r of group) {
      if (r.error || r.unsupported || r.skipped) {
        out.push(
          `| ${engineLabel(r)} | – | – | – |${train ? ' – |' : ''} – | – | – | – | – | ${
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
        `| ${engineLabel(r)} | ${fmt(r.medianMs)} | ${fmt(r.p10Ms)} | ${fmt(r.p90Ms)} |${
          train && r.medianMs ? ` ${Math.round((r.batch * 1000) / r.medianMs)} |` : ''
        } ${r.runs} | ${r.outputsMatch ? 'yes' : '**NO**'} | ${
          ratio === undefined ? '–' : ratio.toFixed(2)
        } | ${ratio === undefined ? '–' : `${(1 / ratio).toFixed(2)}×`} | ${r.engineVersion ?? ''} | ${[
          r.note,
          r.backendStats && backendStatsText(r.backendStats),
        ]
          .filter(Boolean)
          .join('. ')} |`,
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
export function chartDir(jsonPath: string): string {
  return jsonPath.replace(/\.json$/, '');
}

/** File name of the chart of one case × batch. */
function chartFile(caseName: string, batch: number | string): string {
  return `${caseName}-batch${batch}.svg`;
}

/** Writes the .md twin of a report and one SVG chart per case × batch. */
export function writeReport(jsonPath: string, rows: Row[], meta: Record<string, unknown>): void {
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

export function atomicWrite(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
