// Test helpers: seeded numbers, core evaluation, infer evaluation and closeness checks.
import { type Generator, nn, noGrad, Tensor } from '@ecgnn/core';
import { type LoadOptions, loadModel, type Model } from '@ecgnn/infer';
import { mulberry32 } from '@ecgnn/kernels/testing';
import { expect } from 'vitest';
import { type ExportOptions, exportModelBytes } from '../src/index.js';

/** mulberry32 (@ecgnn/kernels/testing): small deterministic PRNG, uniform in [0, 1). */
export const rng = mulberry32;

/** Standard normal samples (Box–Muller), times `scale`. */
export function randn(n: number, r: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()) * scale;
  }
  return out;
}

/** A float32 tensor of standard normal values from `g`. */
export function randomTensor(shape: number[], g: Generator, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = scale * g.normal();
  return new Tensor(d, shape);
}

/** Non-trivial running statistics and affine parameters in every BatchNorm1d of `m`. */
export function randomizeBatchNorm(m: nn.AnyModule, g: Generator): void {
  for (const mod of m.modules()) {
    if (mod instanceof nn.BatchNorm1d) {
      for (let c = 0; c < mod.numFeatures; c++) {
        if (mod.runningMean) mod.runningMean.data[c] = 0.5 * g.normal();
        if (mod.runningVar) mod.runningVar.data[c] = 0.5 + g.random();
        if (mod.weight) mod.weight.data[c] = 1 + 0.3 * g.normal();
        if (mod.bias) mod.bias.data[c] = 0.3 * g.normal();
      }
    }
  }
}

/** The core model's evaluation-mode output on `inputs`, flattened. */
export function coreOutput(module: nn.AnyModule, inputs: Tensor[]): Float32Array {
  const was = [...module.modules()].map((m) => [m, m.training] as const);
  module.eval();
  try {
    const y = noGrad(() => module.call(...inputs)) as Tensor;
    return Float32Array.from(y.data);
  } finally {
    for (const [m, t] of was) m.training = t;
  }
}

/** Logits of a loaded model on named per-batch inputs (a plain array for single-input models). */
export function inferLogits(model: Model, inputs: Record<string, Float32Array>): Float32Array {
  const names = Object.keys(inputs);
  return names.length === 1 ? model.logits(inputs[names[0]]) : model.logits(inputs);
}

/** max |got − want| relative to max |want| is at most `rel`. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rel = 1e-5): void {
  expect(got.length).toBe(want.length);
  let scale = 1e-12;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
  expect(err / scale, `max error ${err} at output scale ${scale}`).toBeLessThanOrEqual(rel);
}

/** A named batch input of the exported model. */
export interface BatchInput {
  name: string;
  /** Per-sample shape. */
  shape: number[];
  /** Batch values `[batch, …shape]`. */
  tensor: Tensor;
}

/** Random batch inputs for per-sample `shapes` (names x, x1, …, or as given). */
export function batchInputs(
  shapes: Array<{ name: string; shape: number[] }>,
  batch: number,
  g: Generator,
): BatchInput[] {
  return shapes.map(({ name, shape }) => ({ name, shape, tensor: randomTensor([batch, ...shape], g) }));
}

/** Exports `module` for `inputs` (classes from the core output size) and loads it with infer. */
export function exportAndLoad(
  module: nn.AnyModule,
  inputs: readonly BatchInput[],
  outSize: number,
  extra: Partial<ExportOptions> = {},
  load: LoadOptions = {},
): { model: Model; bytes: Uint8Array } {
  const bytes = exportModelBytes(module, {
    inputs: inputs.map((i) => ({ name: i.name, shape: i.shape })),
    classes: Array.from({ length: outSize }, (_, k) => `c${k}`),
    // header.input describes a [C, L] window input; a model of vectors only states a nominal one.
    input: inputs.some((i) => i.shape.length === 2)
      ? { sampleRate: 100 }
      : { sampleRate: 100, channels: 1, length: 1 },
    outputActivation: 'none',
    ...extra,
  });
  return { model: loadModel(bytes, load), bytes };
}

/**
 * Core output vs infer output of `module` on a random batch: returns both (flattened) after checking that
 * infer's is within `rel` of core's (`rel = 0`: exactly equal).
 */
export function checkParity(
  module: nn.AnyModule,
  shapes: Array<{ name: string; shape: number[] }>,
  g: Generator,
  opts: { rel?: number; batch?: number; extra?: Partial<ExportOptions>; load?: LoadOptions } = {},
): { want: Float32Array; got: Float32Array; model: Model; bytes: Uint8Array } {
  const batch = opts.batch ?? 3;
  const inputs = batchInputs(shapes, batch, g);
  const want = coreOutput(
    module,
    inputs.map((i) => i.tensor),
  );
  const { model, bytes } = exportAndLoad(module, inputs, want.length / batch, opts.extra, opts.load);
  const got = inferLogits(
    model,
    Object.fromEntries(inputs.map((i) => [i.name, i.tensor.data as Float32Array])),
  );
  if ((opts.rel ?? 1e-5) === 0) expect(Array.from(got)).toEqual(Array.from(want));
  else expectClose(got, want, opts.rel ?? 1e-5);
  return { want, got, model, bytes };
}
