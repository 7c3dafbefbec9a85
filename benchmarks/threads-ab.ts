/**
 * The training step on `@ecgnn/core`'s WebAssembly backend at 1 and 2 threads, interleaved step by step in one
 * process (issue #22): on a virtual machine whose speed drifts over minutes, interleaving keeps the drift out of the
 * ratio. Prints the median step time of each and the 2-thread speed-up.
 *
 *   pnpm exec tsx --conditions=@ecgnn/source benchmarks/threads-ab.ts [--case train-step] [--batch 64] [--steps 60]
 */
import { createWasmBackend, findBackend, setBackend } from '@ecgnn/core';
import { coreTrainer, TRAIN_CASES, type TrainCase, trainModel } from './peers/train.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i], process.argv[i + 1]);
const name = (args.get('--case') ?? 'train-step') as TrainCase;
if (!TRAIN_CASES.includes(name)) throw new Error(`--case: one of ${TRAIN_CASES.join(', ')}`);
const batch = Number(args.get('--batch') ?? 64);
const steps = Number(args.get('--steps') ?? 60);

const one = findBackend('wasm');
const two = createWasmBackend({ threads: 2 });
if (one === null || two === null) throw new Error('WebAssembly SIMD unavailable');
const backends = [one, two];
// Each backend trains its own copy of the model (same seeded weights), so both run the same steps.
const trainers = backends.map((b) => {
  setBackend(b);
  return coreTrainer(name, batch, trainModel(name));
});
const times: number[][] = [[], []];
for (let s = 0; s < steps + 10; s++) {
  for (let i = 0; i < 2; i++) {
    setBackend(backends[i]);
    const t0 = performance.now();
    trainers[i].step();
    if (s >= 10) times[i].push(performance.now() - t0);
  }
}
two.dispose();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const [m1, m2] = times.map(median);
console.log(
  `${name}, batch ${batch}, ${steps} steps each, interleaved: 1 thread ${m1.toFixed(2)} ms, 2 threads ${m2.toFixed(2)} ms, speed-up ${(m1 / m2).toFixed(2)}×`,
);
