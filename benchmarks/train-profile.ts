/**
 * Where the time of one ecgnn training step goes (issue #22): runs the bench's `train-step` (or
 * `train-step-teacher`) on `@ecgnn/core`'s WebAssembly backend — the model, batches and SGD step of the
 * `ecgnn-wasm` engine (benchmarks/peers/train.ts) — with every kernel of the backend wrapped in a timer, and
 * prints per step:
 * - the phases: forward + loss, `loss.item()`, backward, `optim.SGD.step`, and the rest (zeroGrad, disposal at
 *   the end of `tidy`);
 * - time and calls per kernel, by phase, and whether the kernel is a WebAssembly one (`wasm`) or one of the CPU
 *   backend's TypeScript kernels the WASM backend falls back to (`cpu`);
 * - "outside kernels" = step time − kernel time: autograd bookkeeping, tensor objects, argument checks and output
 *   storage, i.e. the overhead around the kernels.
 * The wrappers cost ~0.1 µs per call; the step is otherwise the benchmark's.
 *
 *   pnpm exec tsx --conditions=@ecgnn/source benchmarks/train-profile.ts [--case train-step] [--batch 64]
 *        [--steps 30] [--warmup 10] [--threads 1]
 *
 * For a JS-level profile of the same loop: `node --cpu-prof --import tsx --conditions=@ecgnn/source
 * benchmarks/train-profile.ts` (writes a .cpuprofile for Chrome DevTools).
 */
import { createWasmBackend, findBackend, getCpuBackend, type Kernels, setBackend } from '@ecgnn/core';
import { coreTrainer, type StepPhase, TRAIN_CASES, type TrainCase, trainModel } from './peers/train.js';

const PHASES: StepPhase[] = ['forward', 'item', 'backward', 'optimizer', 'other'];

let phase: StepPhase = 'other';
/** kernel name → phase → [ms, calls] */
const kernelTime = new Map<string, Map<StepPhase, [number, number]>>();

/** The WASM backend with each kernel (its own and the CPU ones it falls back to) timed into {@link kernelTime}. */
function timedWasmBackend(threads: number) {
  const wasm = threads === 1 ? findBackend('wasm') : createWasmBackend({ threads });
  if (wasm === null) throw new Error('WebAssembly SIMD unavailable');
  const table = { ...getCpuBackend().kernels, ...wasm.kernels } as Record<string, unknown>;
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(table)) {
    if (typeof fn !== 'function') continue;
    wrapped[name] = (...args: unknown[]) => {
      const t0 = performance.now();
      const out = (fn as (...a: unknown[]) => unknown)(...args);
      const dt = performance.now() - t0;
      let byPhase = kernelTime.get(name);
      if (byPhase === undefined) kernelTime.set(name, (byPhase = new Map()));
      const cell = byPhase.get(phase) ?? [0, 0];
      cell[0] += dt;
      cell[1]++;
      byPhase.set(phase, cell);
      return out;
    };
  }
  return { name: 'wasm-timed', kernels: wrapped as Partial<Kernels> };
}

function parseArgs(argv: string[]) {
  const o = { case: 'train-step' as TrainCase, batch: 64, steps: 30, warmup: 10, threads: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--case' && (TRAIN_CASES as readonly string[]).includes(value)) o.case = value as TrainCase;
    else if (
      ['--batch', '--steps', '--warmup', '--threads'].includes(flag) &&
      Number.isInteger(Number(value))
    )
      o[flag.slice(2) as 'batch' | 'steps' | 'warmup' | 'threads'] = Number(value);
    else
      throw new Error(
        `usage: --case ${TRAIN_CASES.join('|')} --batch N --steps N --warmup N --threads N (got ${flag} ${value})`,
      );
  }
  return o;
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  setBackend(timedWasmBackend(o.threads));
  const phaseTime = new Map<StepPhase, number>(PHASES.map((p) => [p, 0]));
  let record = false;
  let t = 0;
  // Called as each part of the benchmark's step begins: the time since the last call belongs to `phase`.
  const onPhase = (next: StepPhase) => {
    const now = performance.now();
    if (record) phaseTime.set(phase, (phaseTime.get(phase) ?? 0) + now - t);
    t = now;
    phase = next;
  };
  const trainer = coreTrainer(o.case, o.batch, trainModel(o.case), onPhase);
  for (let k = 0; k < o.warmup; k++) trainer.step();
  kernelTime.clear();
  record = true;
  let total = 0;
  for (let k = 0; k < o.steps; k++) {
    const t0 = performance.now();
    t = t0;
    phase = 'other';
    trainer.step();
    onPhase('other'); // the disposal at the end of tidy()
    total += performance.now() - t0;
  }

  const per = (ms: number) => ms / o.steps;
  const kernelTotal = [...kernelTime.values()].reduce(
    (s, m) => s + [...m.values()].reduce((a, [ms]) => a + ms, 0),
    0,
  );
  console.log(
    `${o.case}, batch ${o.batch}, ecgnn-wasm ${o.threads} thread(s), mean of ${o.steps} steps after ${o.warmup} warm-up`,
  );
  console.log(
    `step ${per(total).toFixed(2)} ms; in kernels ${per(kernelTotal).toFixed(2)} ms (${((100 * kernelTotal) / total).toFixed(0)} %), outside kernels ${per(total - kernelTotal).toFixed(2)} ms`,
  );
  console.log('\nphase        ms/step   kernels ms   outside kernels ms');
  for (const p of PHASES) {
    const k = [...kernelTime.values()].reduce((s, m) => s + (m.get(p)?.[0] ?? 0), 0);
    const all = phaseTime.get(p) ?? 0;
    console.log(
      `${p.padEnd(10)} ${per(all).toFixed(2).padStart(9)} ${per(k).toFixed(2).padStart(12)} ${per(all - k)
        .toFixed(2)
        .padStart(20)}`,
    );
  }
  const wasmOwn = new Set(Object.keys(findBackend('wasm')?.kernels ?? {}));
  console.log('\nkernel                        ms/step  calls/step  from   (by phase: ms/step)');
  const rows = [...kernelTime.entries()]
    .map(([name, m]) => ({
      name,
      m,
      ms: [...m.values()].reduce((a, [ms]) => a + ms, 0),
      calls: [...m.values()].reduce((a, [, c]) => a + c, 0),
    }))
    .sort((a, b) => b.ms - a.ms);
  for (const r of rows) {
    const phases = [...r.m.entries()].map(([p, [ms]]) => `${p} ${per(ms).toFixed(2)}`).join(', ');
    console.log(
      `${r.name.padEnd(28)} ${per(r.ms).toFixed(3).padStart(8)} ${(r.calls / o.steps).toFixed(0).padStart(10)}  ${wasmOwn.has(r.name) ? 'wasm' : 'cpu '}   (${phases})`,
    );
  }
}

main();
