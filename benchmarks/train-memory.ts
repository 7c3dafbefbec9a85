/**
 * Steady-state memory of training (issue #22: "no growth over 2,000 steps"): runs the bench's `train-step` (or
 * `train-step-teacher`) on `@ecgnn/core`'s WebAssembly backend — the same model, batches and step as the
 * `ecgnn-wasm` engine of `pnpm bench` (benchmarks/peers/train.ts) — and prints the JS heap, RSS, external and
 * ArrayBuffer memory and core's storage pool every `--every` steps, then the growth between the first sample
 * and the last.
 *
 *   node --expose-gc --import tsx --conditions=@ecgnn/source benchmarks/train-memory.ts
 *        [--steps 2000] [--every 100] [--threads 1] [--case train-step|train-step-teacher] [--batch 64]
 *
 * With `--expose-gc` every sample is taken after a full collection, so heap figures are live memory, not garbage
 * awaiting collection (without it they are printed as they are, and say so). The first sample, at step
 * `--every`, is the baseline: by then the storage pool, the WebAssembly memory and the JIT have warmed up.
 */
import { createWasmBackend, setBackend, storagePoolStats } from '@ecgnn/core';
import { coreTrainer, TRAIN_CASES, type TrainCase, trainModel } from './peers/train.js';

interface Sample {
  step: number;
  heapUsed: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  poolBytes: number;
  msPerStep: number;
}

const MB = 1024 * 1024;

function parseArgs(argv: string[]) {
  const opts = { steps: 2000, every: 100, threads: 1, case: 'train-step' as TrainCase, batch: 64 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--case') {
      if (!(TRAIN_CASES as readonly string[]).includes(value))
        throw new Error(`--case must be one of ${TRAIN_CASES.join(', ')}, got ${value}`);
      opts.case = value as TrainCase;
      continue;
    }
    const key = { '--steps': 'steps', '--every': 'every', '--threads': 'threads', '--batch': 'batch' }[
      flag
    ] as 'steps' | 'every' | 'threads' | 'batch' | undefined;
    const n = Number(value);
    if (key === undefined || !Number.isInteger(n) || n < 1)
      throw new Error(`usage: --steps N --every N --threads N --batch N --case NAME (got ${flag} ${value})`);
    opts[key] = n;
  }
  return opts;
}

function sample(step: number, msPerStep: number): Sample {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  return {
    step,
    heapUsed: m.heapUsed,
    rss: m.rss,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    poolBytes: storagePoolStats().bytes,
    msPerStep,
  };
}

const fmtMb = (bytes: number) => (bytes / MB).toFixed(2).padStart(9);

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const backend = o.threads === 1 ? 'wasm' : createWasmBackend({ threads: o.threads });
  if (backend === null) throw new Error('WebAssembly SIMD unavailable');
  setBackend(backend);
  const trainer = coreTrainer(o.case, o.batch, trainModel(o.case));
  const hasGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  console.log(
    `${o.case}, batch ${o.batch}, ecgnn-wasm ${o.threads} thread(s), ${o.steps} steps; ${
      hasGc ? 'samples after a full GC' : 'WITHOUT --expose-gc: heap figures include uncollected garbage'
    }`,
  );
  console.log('     step   heap MB    RSS MB   extern MB  arrbuf MB   pool MB   ms/step   last loss');
  const samples: Sample[] = [];
  let t0 = performance.now();
  let loss = Number.NaN;
  for (let step = 1; step <= o.steps; step++) {
    loss = trainer.step();
    if (step % o.every === 0 || step === o.steps) {
      const s = sample(step, (performance.now() - t0) / (step - (samples.at(-1)?.step ?? 0)));
      samples.push(s);
      console.log(
        `${String(step).padStart(9)} ${fmtMb(s.heapUsed)} ${fmtMb(s.rss)} ${fmtMb(s.external)} ${fmtMb(s.arrayBuffers)} ${fmtMb(s.poolBytes)} ${s.msPerStep.toFixed(1).padStart(9)}   ${loss.toFixed(4)}`,
      );
      t0 = performance.now();
    }
  }
  if (samples.length < 2) return;
  const [first, last] = [samples[0], samples[samples.length - 1]];
  const per1000 = (a: number, b: number) => ((b - a) / MB / (last.step - first.step)) * 1000;
  console.log(
    `growth from step ${first.step} to ${last.step}: heap ${((last.heapUsed - first.heapUsed) / MB).toFixed(2)} MB (${per1000(first.heapUsed, last.heapUsed).toFixed(3)} MB per 1,000 steps), RSS ${((last.rss - first.rss) / MB).toFixed(2)} MB (${per1000(first.rss, last.rss).toFixed(3)} MB per 1,000 steps), external ${((last.external - first.external) / MB).toFixed(2)} MB, pool ${((last.poolBytes - first.poolBytes) / MB).toFixed(2)} MB; largest heap ${(Math.max(...samples.map((s) => s.heapUsed)) / MB).toFixed(2)} MB, largest RSS ${(Math.max(...samples.map((s) => s.rss)) / MB).toFixed(2)} MB`,
  );
  // The second half alone: growth once every one-off allocation (pool, WASM memory, JIT code) is long done.
  const mid = samples.find((s) => s.step >= last.step / 2) ?? first;
  if (mid !== first && mid !== last) {
    console.log(
      `second half, step ${mid.step} to ${last.step}: heap ${((last.heapUsed - mid.heapUsed) / MB).toFixed(2)} MB, RSS ${((last.rss - mid.rss) / MB).toFixed(2)} MB, external ${((last.external - mid.external) / MB).toFixed(2)} MB`,
    );
  }
  if (typeof backend !== 'string') backend.dispose();
}

main();
