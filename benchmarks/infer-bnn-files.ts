// Benchmark: `predict` latency of a trained binary network and its float twin as model files (the `models/`
// folder of an `examples/bnn.ts` run: binary.ecgnn, float.ecgnn), batch 1, one thread, WebAssembly kernels (or
// `--typescript`): medians of 25 interleaved rounds × 50 calls on a fixed synthetic ECG-like window, and the
// ratio (issue #23: binary ≥ 5× faster than its float twin). Prints each model's plan (which nodes were fused).
// Run: pnpm exec tsx --conditions=@ecgnn/source benchmarks/infer-bnn-files.ts <run>/models [--typescript]
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { loadModel } from '@ecgnn/infer';

const dir = process.argv[2];
if (!dir || dir.startsWith('--')) {
  console.error(
    'usage: benchmarks/infer-bnn-files.ts <folder with binary.ecgnn and float.ecgnn> [--typescript]',
  );
  process.exit(2);
}
const kernels = process.argv.includes('--typescript') ? 'typescript' : 'wasm';
const models = ['binary', 'float'].map((name) => ({
  name,
  model: loadModel(readFileSync(join(dir, `${name}.ecgnn`)), { kernels }),
}));
const n = models[0].model.inputs[0].shape.reduce((a, b) => a * b, 1);
const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 20) + 0.3 * Math.sin(i / 3));
const out = new Float32Array(models[0].model.metadata.classes.length);
const fns = models.map(
  ({ model }) =>
    () =>
      model.predict(x, undefined, out),
);
for (const f of fns) for (let i = 0; i < 200; i++) f();
const samples: number[][] = fns.map(() => []);
for (let r = 0; r < 25; r++)
  fns.forEach((f, k) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 50; i++) f();
    samples[k].push(Number(process.hrtime.bigint() - t0) / 50 / 1e6);
  });
const median = (a: number[]) => a.slice().sort((p, q) => p - q)[a.length >> 1];
const [tb, tf] = samples.map(median);
console.log(
  `node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, load average ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')}; ${kernels} kernels`,
);
for (const { name, model } of models) console.log(`plan (${name}): ${model.metadata.plan.join(', ')}`);
console.log(
  `binary ${tb.toFixed(4)} ms, float twin ${tf.toFixed(4)} ms per window: ${(tf / tb).toFixed(2)}× faster`,
);
