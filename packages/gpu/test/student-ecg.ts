/**
 * The ECG training case of the gpu.js backend: the compact `student` model of @ecgnn/models trained with SGD on
 * real MIT-BIH beats, shared by the Node test (train.test.ts) and the headless-Chromium pages (browser-checks.ts).
 * The beats arrive as plain arrays ({@link EcgBatchData}): Node reads them from the data directory
 * (student-ecg-data.ts) and hands them to the pages as JSON. No Node API and no test framework here.
 */
import { crossEntropy, Generator, optim, tensor } from '@ecgnn/core';
import { createModel } from '@ecgnn/models';
import { SMALL_CNN_KERNELS } from './small-cnn.js';

/** RR features given to the model next to the window (see @ecgnn/dsp `normalizeRr`). */
export const RR_FEATURES = 2;
/** AAMI classes the model predicts (N, S, V, F, Q). */
export const ECG_CLASSES = 5;

/** One batch of beats as plain arrays: z-scored windows `[n, 1, length]`, RR ratios `[n, 2]`, classes `[n]`. */
export interface EcgBatchData {
  x: number[];
  rr: number[];
  y: number[];
}

/** The device kernels a student step runs: the small CNN's but average pooling (the student has none). */
export const STUDENT_KERNELS: readonly string[] = SMALL_CNN_KERNELS.filter((k) => !k.startsWith('avgPool1d'));

/**
 * The losses of `steps` SGD steps (lr 0.05, momentum 0.9) of a fresh seed-0 student (window `length`), alternating
 * over `batches`, with the active backend.
 */
export function studentLosses(batches: readonly EcgBatchData[], length: number, steps: number): number[] {
  const data = batches.map((b) => {
    const n = b.y.length;
    return {
      x: tensor(Float32Array.from(b.x), [n, 1, length]),
      rr: tensor(Float32Array.from(b.rr), [n, RR_FEATURES]),
      y: tensor(Int32Array.from(b.y), [n], { dtype: 'int32' }),
    };
  });
  const model = createModel(
    { kind: 'student', length, rrFeatures: RR_FEATURES, classes: ECG_CLASSES },
    { generator: new Generator(0) },
  );
  model.train();
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const b = data[step % data.length];
    opt.zeroGrad();
    const loss = crossEntropy(model.call(b.x, b.rr), b.y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return losses;
}
