/**
 * The small-CNN training case of the gpu.js backend, shared by the Node test (train.test.ts) and the headless-
 * Chromium page (webgl2-page.ts): a 1-D CNN (conv, batch norm, ReLU, max and average pooling, linear,
 * cross-entropy, SGD with momentum) trained from a fixed seed on noisy bumps, with whichever backend is active.
 * No test framework here.
 */
import { crossEntropy, Generator, nn, optim, type Tensor, tensor, tidy } from '@ecgnn/core';

/** A labelled batch. */
export interface Batch {
  /** Inputs `[N, 1, L]`. */
  x: Tensor;
  /** Class indices `[N]` (int32). */
  y: Tensor;
}

/** Two classes of noisy signals `[n, 1, length]`: a bump in the first or the second half (as core's learning test). */
export function bumps(n: number, length: number, gen: Generator): Batch {
  const x = new Float32Array(n * length);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    const centre = (y[i] === 0 ? 4 : length / 2 + 4) + gen.randint(length / 2 - 8);
    for (let t = 0; t < length; t++)
      x[i * length + t] = Math.exp(-((t - centre) ** 2) / 4) + 0.25 * gen.normal();
  }
  return { x: tensor(x, [n, 1, length]), y: tensor(y, [n], { dtype: 'int32' }) };
}

/** The contract kernels a training step of {@link smallCnnLosses} runs on the device at least once. */
export const SMALL_CNN_KERNELS: readonly string[] = [
  'matmul',
  'conv1dForward',
  'conv1dBackwardInput',
  'conv1dBackwardWeight',
  'maxPool1d',
  'channelMoments',
  'batchNormForward',
  'batchNormBackward',
  'avgPool1d',
  'avgPool1dBackward',
];

/** The small CNN of {@link smallCnnLosses}, with its seed-0 initial weights (inputs `[N, 1, L]`, 2 classes). */
export function smallCnn(): nn.Sequential {
  const g = new Generator(0);
  return new nn.Sequential(
    new nn.Conv1d(1, 6, 5, { padding: 2, generator: g }),
    new nn.BatchNorm1d(6),
    new nn.ReLU(),
    new nn.MaxPool1d(2),
    new nn.Conv1d(6, 8, 3, { padding: 1, generator: g }),
    new nn.ReLU(),
    new nn.AvgPool1d(2),
    new nn.AdaptiveAvgPool1d(2),
    new nn.Flatten(),
    new nn.Linear(16, 2, { generator: g }),
  );
}

/**
 * The losses of `steps` SGD steps (lr 0.1, momentum 0.9) of a fresh seed-0 small CNN on `data` (`[N, 1, L]`
 * with L divisible by 4, two classes), with the active backend.
 */
export function smallCnnLosses(data: Batch, steps: number): number[] {
  const model = smallCnn();
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    opt.zeroGrad();
    const loss = crossEntropy(model.call(data.x), data.y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return losses;
}

/**
 * One training step inside `tidy()`, as the Trainer runs them (zero the gradients, forward, cross-entropy,
 * backward, optimizer step); returns the loss. Every tensor of the step but the parameters and their gradients
 * is disposed when it ends, and with it the device values of a device backend.
 */
export function tidyStep(model: nn.Module, opt: optim.SGD, data: Batch): number {
  return tidy(() => {
    opt.zeroGrad();
    const loss = crossEntropy(model.call(data.x), data.y);
    loss.backward();
    opt.step();
    return loss.item();
  });
}

/** Largest |got[i] − want[i]| / |want[i]| over two loss curves. */
export function largestRelativeDifference(got: readonly number[], want: readonly number[]): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.abs(want[i]));
  return worst;
}
