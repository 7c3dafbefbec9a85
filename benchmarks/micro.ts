/**
 * `pnpm bench --micro` — per-op micro-benchmarks of @ecgnn/core's public ops on the WebAssembly and the
 * TypeScript (CPU) backends, timed by benchmark.js (Benchmark.Suite: it calibrates the number of calls per
 * sample to the timer's resolution, takes samples until `maxTime`, and reports the mean with its relative
 * margin of error at 95 % (Student's t) — the statistics a per-op figure of a few microseconds needs, which
 * the end-to-end cases of `pnpm bench` (medians of whole runs) do not).
 *
 *   pnpm bench --micro [--ops conv1d,relu] [--max-time 1] [--json FILE] [--smoke]
 *
 * The ops are those of a training step of the benchmark's reference CNN (batch 64 of 360-sample windows):
 * conv1d forward and forward + backward, batchNorm (training) forward + backward, relu, maxPool1d, linear and
 * crossEntropy forward + backward. Each op runs on the same seeded inputs on both backends; before timing,
 * the WebAssembly output is compared with the CPU output (the oracle), and a case whose outputs differ beyond
 * float32 tolerance fails the run. Outputs of each call are disposed so the storage pool recycles them, as in
 * a training loop. Rows: op, backend, mean µs per call, ± RME %, samples, and the CPU/WASM speed ratio.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import {
  batchNorm,
  conv1d,
  crossEntropy,
  Generator,
  linear,
  maxPool1d,
  noGrad,
  randn,
  relu,
  setBackend,
  type Tensor,
  tensor,
} from '@ecgnn/core';
import Benchmark from 'benchmark';

/** One micro-benchmark: builds its inputs once, then `run` is one timed call (outputs disposed inside). */
interface MicroCase {
  name: string;
  /** What the call computes, in words (shapes). */
  shape: string;
  /** Sets up inputs (on the current backend) and returns the timed call and the output to compare. */
  setup(): { run: () => void; output: () => Float32Array };
}

const B = 64;
const L = 360;

function inputs(shape: number[], seed: number, requiresGrad = false): Tensor {
  return randn(shape, { generator: new Generator(seed), requiresGrad });
}

/** Forward only (no autograd) of `f` on the inputs; the output is disposed after every call. */
function forwardCase(name: string, shape: string, make: () => { f: () => Tensor }): MicroCase {
  return {
    name,
    shape,
    setup() {
      const { f } = make();
      return {
        run: () => noGrad(() => f()).dispose(),
        output: () => Float32Array.from(noGrad(() => f()).data),
      };
    },
  };
}

/** Forward + backward of `sum(f(x) · w)` (a fixed random cotangent), gradients freed after every call. */
function trainCase(
  name: string,
  shape: string,
  make: () => { f: () => Tensor; leaves: Tensor[]; outShape: number[] },
): MicroCase {
  return {
    name,
    shape,
    setup() {
      const { f, leaves, outShape } = make();
      const w = inputs(outShape, 99);
      const step = (): Tensor => {
        for (const t of leaves) t.grad = null;
        const y = f();
        y.mul(w).sum().backward();
        y.dispose();
        return leaves[0].grad as Tensor;
      };
      return { run: () => void step(), output: () => Float32Array.from(step().data) };
    },
  };
}

const CASES: MicroCase[] = [
  forwardCase('conv1d', `[${B}, 16, ${L}] * [32, 16, 7], pad 3`, () => {
    const x = inputs([B, 16, L], 1);
    const w = inputs([32, 16, 7], 2);
    return { f: () => conv1d(x, w, null, { padding: 3 }) };
  }),
  trainCase('conv1d fwd+bwd', `[${B}, 16, ${L}] * [32, 16, 7], pad 3`, () => {
    const x = inputs([B, 16, L], 1, true);
    const w = inputs([32, 16, 7], 2, true);
    return { f: () => conv1d(x, w, null, { padding: 3 }), leaves: [x, w], outShape: [B, 32, L] };
  }),
  trainCase('batchNorm fwd+bwd (training)', `[${B}, 32, ${L}]`, () => {
    const x = inputs([B, 32, L], 3, true);
    const g = inputs([32], 4, true);
    const b = inputs([32], 5, true);
    return {
      f: () => batchNorm(x, null, null, g, b, { training: true }),
      leaves: [x, g, b],
      outShape: [B, 32, L],
    };
  }),
  trainCase('relu fwd+bwd', `[${B}, 32, ${L}]`, () => {
    const x = inputs([B, 32, L], 6, true);
    return { f: () => relu(x), leaves: [x], outShape: [B, 32, L] };
  }),
  trainCase('maxPool1d fwd+bwd', `[${B}, 32, ${L}], kernel 2`, () => {
    const x = inputs([B, 32, L], 7, true);
    return { f: () => maxPool1d(x, 2), leaves: [x], outShape: [B, 32, L / 2] };
  }),
  trainCase('linear fwd+bwd', `[${B}, 1024] · [64, 1024]ᵀ`, () => {
    const x = inputs([B, 1024], 8, true);
    const w = inputs([64, 1024], 9, true);
    return { f: () => linear(x, w), leaves: [x, w], outShape: [B, 64] };
  }),
  trainCase('crossEntropy fwd+bwd', `[${B}, 5] logits`, () => {
    const x = inputs([B, 5], 10, true);
    const target = tensor(
      Array.from({ length: B }, (_, i) => i % 5),
      [B],
      { dtype: 'int32' },
    );
    // The loss is a scalar: reshape so the cotangent is [1].
    return { f: () => crossEntropy(x, target).reshape([1]), leaves: [x], outShape: [1] };
  }),
];

/** A row of the report. */
export interface MicroRow {
  op: string;
  shape: string;
  backend: 'wasm' | 'cpu';
  /** Mean seconds per call (benchmark.js `stats.mean`). */
  meanS: number;
  /** Relative margin of error of the mean, % (95 %). */
  rme: number;
  /** Samples taken. */
  samples: number;
}

function parseArgs(argv: string[]) {
  const o = { ops: null as string[] | null, maxTime: 1, json: null as string | null, smoke: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--' || a === '--micro') continue;
    if (a === '--smoke') o.smoke = true;
    else if (a === '--ops') o.ops = argv[++i].split(',');
    else if (a === '--max-time') o.maxTime = Number(argv[++i]);
    else if (a === '--json') o.json = argv[++i];
    else throw new Error(`unknown option ${a} (see the header of benchmarks/micro.ts)`);
  }
  if (!(o.maxTime > 0)) throw new Error(`--max-time must be a positive number of seconds, got ${o.maxTime}`);
  if (o.smoke) o.maxTime = Math.min(o.maxTime, 0.05);
  return o;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
    if (!(d <= m)) m = d; // NaN counts as a difference
  }
  return m;
}

/** Runs the selected cases; returns the rows (also printed). */
export function runMicro(argv: string[]): MicroRow[] {
  const o = parseArgs(argv);
  const unknown = (o.ops ?? []).filter((n) => !CASES.some((c) => c.name.startsWith(n)));
  if (unknown.length > 0)
    throw new Error(`--ops: unknown ${unknown.join(', ')}; ops are ${CASES.map((c) => c.name).join(', ')}`);
  const cases = o.ops ? CASES.filter((c) => o.ops?.some((n) => c.name.startsWith(n))) : CASES;
  const rows: MicroRow[] = [];
  console.log(
    `micro-benchmarks (benchmark.js, maxTime ${o.maxTime} s per op × backend): ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`,
  );
  for (const c of cases) {
    const outputs: Partial<Record<'wasm' | 'cpu', Float32Array>> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      setBackend(backend);
      const { run, output } = c.setup();
      outputs[backend] = output();
      const bench = new Benchmark(`${c.name} ${backend}`, run, {
        maxTime: o.maxTime,
        minSamples: o.smoke ? 2 : 5,
        initCount: 1,
      });
      bench.run({ async: false });
      if (bench.error) throw bench.error;
      rows.push({
        op: c.name,
        shape: c.shape,
        backend,
        meanS: bench.stats.mean,
        rme: bench.stats.rme,
        samples: bench.stats.sample.length,
      });
    }
    setBackend('cpu');
    const diff = maxRelDiff(outputs.wasm as Float32Array, outputs.cpu as Float32Array);
    if (!(diff < 1e-3))
      throw new Error(`${c.name}: wasm and cpu outputs differ (max relative difference ${diff})`);
  }
  const us = (s: number): string => (s * 1e6).toFixed(1).padStart(10);
  console.log(
    `${'op'.padEnd(30)}${'shape'.padEnd(38)}${'cpu µs'.padStart(10)} ${'±%'.padStart(5)}${'wasm µs'.padStart(10)} ${'±%'.padStart(5)}  cpu/wasm`,
  );
  for (let i = 0; i < rows.length; i += 2) {
    const [cpu, wasm] = [rows[i], rows[i + 1]];
    console.log(
      `${cpu.op.padEnd(30)}${cpu.shape.padEnd(38)}${us(cpu.meanS)} ${cpu.rme.toFixed(1).padStart(5)}${us(wasm.meanS)} ${wasm.rme.toFixed(1).padStart(5)}  ${(cpu.meanS / wasm.meanS).toFixed(2)}×`,
    );
  }
  if (o.json) {
    writeFileSync(
      o.json,
      `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, rows }, null, 2)}\n`,
    );
  }
  return rows;
}
