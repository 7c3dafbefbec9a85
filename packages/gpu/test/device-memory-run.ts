/**
 * Device memory over a long training run on the gpu.js backend (issue #27): `steps` SGD steps of the small CNN
 * (small-cnn.ts) on a gpu.js mode, each step inside `tidy()` as the Trainer runs them, sampling the backend's
 * device memory (`memory()`: host arrays whose newest values stay on the device, and their bytes) every
 * `every` steps (and, per window of `every` steps, the peak, the outputs kept on the device and the copies back),
 * then a full garbage collection when the process has `--expose-gc`. Prints one JSON object.
 * Run by device-memory.test.ts:
 *
 *   node --expose-gc --import tsx --conditions=@ecgnn/source packages/gpu/test/device-memory-run.ts \
 *     --mode cpu --steps 1000 --every 100
 */
import { Generator, optim, setBackend } from '@ecgnn/core';
import { createGpuBackend, type GpuMode } from '@ecgnn/gpu';
import { bumps, smallCnn, tidyStep } from './small-cnn.js';

/** One sample of the run (device memory now and per window of `every` steps; see the module comment). */
export interface DeviceMemorySample {
  step: number;
  loss: number;
  /** Device values held after the step, and their bytes. */
  buffers: number;
  bytes: number;
  /** Over the window: peak bytes, outputs kept on the device, copies back, frees left to the garbage collector. */
  peakBytes: number;
  stored: number;
  downloads: number;
  freedByGc: number;
  heapUsed: number;
}

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const mode = flag('mode', 'cpu') as GpuMode;
const steps = Number(flag('steps', '1000'));
const every = Number(flag('every', '100'));
const gc = (globalThis as { gc?: () => void }).gc;

const backend = createGpuBackend({ mode });
setBackend(backend);
const data = bumps(16, 32, new Generator(1));
const model = smallCnn();
const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const samples: DeviceMemorySample[] = [];
let loss = Number.NaN;
for (let step = 1; step <= steps; step++) {
  loss = tidyStep(model, opt, data);
  if (step % every === 0) {
    // A collection would free device values of arrays the program dropped without disposing; sampling
    // before it shows what tidy() and dispose() freed by themselves (freedByGc counts the rest).
    const before = backend.memory();
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 0)); // let FinalizationRegistry callbacks run
    samples.push({
      step,
      loss,
      buffers: before.buffers,
      bytes: before.bytes,
      peakBytes: before.peakBytes,
      freedByGc: backend.memory().freedByGc,
      stored: before.stored,
      downloads: before.downloads,
      heapUsed: process.memoryUsage().heapUsed,
    });
    backend.resetStats(); // counters and peak per window of `every` steps
  }
}
console.log(JSON.stringify({ mode, steps, every, gc: gc !== undefined, samples }));
