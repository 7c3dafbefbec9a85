/**
 * Single-threaded speed of the @ecgnn/core CPU kernels: conv1d forward / backward-input /
 * backward-weight (dense, depthwise, strided), and matmul 256³. Reports the median of the timed runs after
 * a warm-up (wall time, and process CPU time which is steadier on a shared machine), GFLOP/s (2 flops per
 * multiply-add) and the backward/forward ratios (of wall-time medians; a case's three kernels are timed round-robin so their
 * ratios see the same machine load).
 *
 *   pnpm exec tsx --conditions=@ecgnn/source benchmarks/core-kernels.ts [--runs 30] [--json]
 *
 * Kernels are called through `kernels()` (the active backend's table, CPU by default) on preallocated
 * typed arrays, so those figures are kernel time without tensor allocation or autograd bookkeeping; one
 * extra row times the public `conv1d` op forward + backward through autograd (3× the forward flops).
 */
import os from 'node:os';
import {
  type Conv1dParams,
  conv1d,
  type FloatArray,
  Generator,
  getBackend,
  kernels,
  Tensor,
} from '@ecgnn/core';

const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 30;
const WARMUP = 10;
const asJson = args.includes('--json');

function rand(n: number, gen: Generator): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen.normal();
  return a;
}

function median(t: number[]): number {
  const v = [...t].sort((a, b) => a - b);
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/**
 * Times a group of functions round-robin (run i of every function before run i+1 of any), so that the
 * ratios between them (backward/forward) are measured under the same machine load. Returns, per function,
 * the median wall time and the median process CPU time (user + system, ms) of `RUNS` calls after `WARMUP`
 * untimed calls. CPU time leaves out the time the process waits while other processes use the cores, so on
 * a shared machine it is the steadier figure; wall time is the one a user sees.
 */
function measureGroup(fns: Array<() => void>): Array<{ wall: number; cpu: number }> {
  for (const fn of fns) for (let i = 0; i < WARMUP; i++) fn();
  const wall = fns.map(() => [] as number[]);
  const cpu = fns.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, fn] of fns.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fn();
      wall[k].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[k].push((c.user + c.system) / 1000);
    }
  }
  return fns.map((_, k) => ({ wall: median(wall[k]), cpu: median(cpu[k]) }));
}

interface Row {
  case: string;
  /** Median wall time, ms. */
  ms: number;
  gflops: number;
  /** Median process CPU time, ms. */
  cpuMs: number;
  cpuGflops: number;
}

const rows: Row[] = [];
/** Measures the cases round-robin and records them; returns the median wall times. */
function recordGroup(cases: Array<{ name: string; flops: number; fn: () => void }>): number[] {
  const m = measureGroup(cases.map((c) => c.fn));
  return cases.map((c, k) => {
    const { wall, cpu } = m[k];
    rows.push({
      case: c.name,
      ms: wall,
      gflops: c.flops / wall / 1e6,
      cpuMs: cpu,
      cpuGflops: c.flops / cpu / 1e6,
    });
    return wall;
  });
}
function record(name: string, flops: number, fn: () => void): number {
  return recordGroup([{ name, flops, fn }])[0];
}

const gen = new Generator(42);
const K = kernels();

function convCase(label: string, p: Conv1dParams): { fwd: number; bwdIn: number; bwdW: number } {
  const x = rand(p.batch * p.inChannels * p.inLength, gen);
  const w = rand((p.outChannels * p.inChannels * p.kernelSize) / p.groups, gen);
  const b = rand(p.outChannels, gen);
  const g = rand(p.batch * p.outChannels * p.outLength, gen);
  const out: FloatArray = new Float32Array(g.length);
  const gx: FloatArray = new Float32Array(x.length);
  const gw: FloatArray = new Float32Array(w.length);
  // One multiply-add per (batch, output channel, output position, input channel of the group, tap).
  const flops = 2 * p.batch * p.outChannels * p.outLength * (p.inChannels / p.groups) * p.kernelSize;
  const [fwd, bwdIn, bwdW] = recordGroup([
    { name: `${label} forward`, flops, fn: () => K.conv1dForward(x, w, b, out, p) },
    { name: `${label} backward-input`, flops, fn: () => K.conv1dBackwardInput(g, w, gx, p) },
    { name: `${label} backward-weight`, flops, fn: () => K.conv1dBackwardWeight(x, g, gw, p) },
  ]);
  return { fwd, bwdIn, bwdW };
}

const L = 1000;
const dense = convCase('conv1d B8 16→32 L1000 K7 same', {
  batch: 8,
  inChannels: 16,
  outChannels: 32,
  inLength: L,
  outLength: L,
  kernelSize: 7,
  stride: 1,
  dilation: 1,
  padLeft: 3,
  groups: 1,
  padValue: 0,
});
const depthwise = convCase('depthwise B8 32ch L1000 K5 same', {
  batch: 8,
  inChannels: 32,
  outChannels: 32,
  inLength: L,
  outLength: L,
  kernelSize: 5,
  stride: 1,
  dilation: 1,
  padLeft: 2,
  groups: 32,
  padValue: 0,
});

// A strided (downsampling) layer: exercises the polyphase input-gradient path.
const strided = convCase('conv1d B8 32→32 L1000 K5 stride 2 pad 2', {
  batch: 8,
  inChannels: 32,
  outChannels: 32,
  inLength: L,
  outLength: 500,
  kernelSize: 5,
  stride: 2,
  dilation: 1,
  padLeft: 2,
  groups: 1,
  padValue: 0,
});

// The same convolution through the public op and autograd (output/gradient allocation, bias gradient and
// graph bookkeeping included): forward + backward of x, w and b.
{
  const x = new Tensor(rand(8 * 16 * L, gen), [8, 16, L], true);
  const w = new Tensor(rand(32 * 16 * 7, gen), [32, 16, 7], true);
  const b = new Tensor(rand(32, gen), [32], true);
  const g = new Tensor(rand(8 * 32 * L, gen), [8, 32, L]);
  record('conv1d op forward+backward (autograd)', 3 * 2 * 8 * 32 * L * 16 * 7, () => {
    x.grad = null;
    w.grad = null;
    b.grad = null;
    conv1d(x, w, b, { padding: 'same' }).backward(g);
  });
}

const n = 256;
const A = rand(n * n, gen);
const B = rand(n * n, gen);
const C = new Float32Array(n * n);
record('matmul 256³', 2 * n * n * n, () =>
  K.matmul(A, B, C, { batch: 1, m: n, k: n, n, transA: false, transB: false }),
);

const ratios = {
  'conv1d backward-input / forward': dense.bwdIn / dense.fwd,
  'conv1d backward-weight / forward': dense.bwdW / dense.fwd,
  'depthwise backward-input / forward': depthwise.bwdIn / depthwise.fwd,
  'depthwise backward-weight / forward': depthwise.bwdW / depthwise.fwd,
  'strided backward-input / forward': strided.bwdIn / strided.fwd,
  'strided backward-weight / forward': strided.bwdW / strided.fwd,
};

const machine = {
  node: process.version,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  loadavg: os.loadavg().map((v) => +v.toFixed(2)),
  backend: getBackend().name,
  threads: 1,
  runs: RUNS,
  warmup: WARMUP,
  command: 'pnpm exec tsx --conditions=@ecgnn/source benchmarks/core-kernels.ts',
};

if (asJson) {
  console.log(JSON.stringify({ machine, rows, ratios }, null, 2));
} else {
  console.log(
    `core kernels — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, backend ${machine.backend}`,
  );
  console.log(
    `median of ${RUNS} runs after ${WARMUP} warm-up, single thread; load average ${machine.loadavg.join(' ')}`,
  );
  console.log(`command: ${machine.command}\n`);
  const w = Math.max(...rows.map((r) => r.case.length));
  const head = ['wall ms', 'GFLOP/s', 'cpu ms', 'GFLOP/s(cpu)'].map((h) => h.padStart(14)).join('');
  console.log(`${'case'.padEnd(w)}${head}`);
  for (const r of rows) {
    const cells = [r.ms.toFixed(3), r.gflops.toFixed(2), r.cpuMs.toFixed(3), r.cpuGflops.toFixed(2)];
    console.log(`${r.case.padEnd(w)}${cells.map((c) => c.padStart(14)).join('')}`);
  }
  console.log('');
  for (const [k, v] of Object.entries(ratios)) console.log(`${k}: ${v.toFixed(2)}×`);
}
