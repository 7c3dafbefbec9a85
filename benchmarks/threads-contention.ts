/**
 * Can a second thread pay on this machine? (issue #22, the 2-thread targets.) Runs the same single-threaded work
 * alone, then in two processes at once, and prints each process's rate:
 * - `peak`: the register-only WebAssembly SIMD loop of `wasm-peak.ts` (no loads or stores);
 * - `conv`: `conv1d` forward of the train-step's second layer (batch 64, 16 → 32 channels, kernel 5, 180 samples)
 *   on `@ecgnn/core`'s WebAssembly backend, one thread: the kind of kernel a training step is made of.
 * Two independent cores give each process of the pair the solo rate; a shared core or memory path does not. If the
 * pair's `conv` rate falls well below the solo one while `peak` holds, splitting a step's kernels across two
 * threads cannot approach 2× here, whatever the splitting code does.
 *
 *   pnpm exec tsx --conditions=@ecgnn/source benchmarks/threads-contention.ts [--seconds 6]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { conv1d, findBackend, tensor, withBackend } from '@ecgnn/core';
import { measureWasmPeak } from './wasm-peak.js';

type Job = 'peak' | 'conv';

/** GFLOP/s of `job` (median over about `seconds` of repeated runs) in this process. */
function measure(job: Job, seconds: number): number {
  if (job === 'peak') {
    const end = performance.now() + seconds * 1000;
    const rates: number[] = [];
    while (performance.now() < end) rates.push(measureWasmPeak(5));
    return median(rates);
  }
  const wasm = findBackend('wasm');
  if (wasm === null) throw new Error('WebAssembly SIMD unavailable');
  const [B, C, O, K, L] = [64, 16, 32, 5, 180];
  const x = tensor(
    Float32Array.from({ length: B * C * L }, (_, i) => Math.sin(i)),
    [B, C, L],
  );
  const w = tensor(
    Float32Array.from({ length: O * C * K }, (_, i) => Math.cos(i)),
    [O, C, K],
  );
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  withBackend(wasm, () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      conv1d(x, w, null, { padding: 2 }).dispose();
      times.push(performance.now() - t0);
    }
  });
  return (2 * B * O * C * K * L) / median(times) / 1e6;
}

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s[s.length >> 1];
}

/** Runs `count` child processes of this script measuring `job` at the same time; their rates. */
function together(job: Job, count: number, seconds: number): Promise<number[]> {
  const runs = Array.from({ length: count }, () => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1], '--child', job, '--seconds', String(seconds)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    return new Promise<number>((resolve, reject) =>
      child.on('close', (code) =>
        code === 0 ? resolve(Number(out.trim())) : reject(new Error(`child exit ${code}`)),
      ),
    );
  });
  return Promise.all(runs);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seconds = Number(args[args.indexOf('--seconds') + 1] || 6);
  const child = args.indexOf('--child');
  if (child >= 0) {
    console.log(measure(args[child + 1] as Job, seconds).toFixed(2));
    return;
  }
  console.log(
    `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}; ${seconds} s per run`,
  );
  for (const job of ['peak', 'conv'] as const) {
    const [solo] = await together(job, 1, seconds);
    const pair = await together(job, 2, seconds);
    const each = pair.map((r) => `${r.toFixed(1)}`).join(' and ');
    const combined = pair.reduce((s, r) => s + r, 0) / solo;
    console.log(
      `${job}: alone ${solo.toFixed(1)} GFLOP/s; two at once ${each} GFLOP/s (together ${combined.toFixed(2)}× the single process)`,
    );
  }
}

await main();
