/**
 * Training on the gpu.js backend gives the CPU backend's losses: a small 1-D CNN (conv, batch norm, ReLU, max
 * and average pooling, linear, cross-entropy, SGD with momentum) trained for 50 steps (the count) from the same seed on the
 * CPU backend and on gpu.js (`cpu` and `webasm` modes; `headlessgl` when the `gl` package loads, else a printed skip). The float32 device arithmetic differs from the reference
 * in the last bits, and the differences grow a little with every step; the losses must agree to 1e-3 relative
 * and the kernels that carry the training must have run on gpu.js.
 */
import { crossEntropy, Generator, nn, optim, type Tensor, tensor, withBackend } from '@ecgnn/core';
import { createGpuBackend, type GpuMode, gpuModeAvailable } from '@ecgnn/gpu';
import { describe, expect, test } from 'vitest';

/** Two classes of noisy signals: a bump in the first or the second half (as core's learning test). */
function bumps(n: number, length: number, gen: Generator): { x: Tensor; y: Tensor } {
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

/** The losses of {@link STEPS} SGD steps of a fresh seed-0 model on `data`, with the active backend. */
/** SGD steps compared. */
const STEPS = 50;

function trainLosses(data: { x: Tensor; y: Tensor }): number[] {
  const g = new Generator(0);
  const model = new nn.Sequential(
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
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    opt.zeroGrad();
    const loss = crossEntropy(model.call(data.x), data.y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return losses;
}

describe.each(['cpu', 'webasm', 'headlessgl'] as GpuMode[])('training on gpu.js %s', (mode) => {
  if (!gpuModeAvailable(mode)) {
    console.log(
      `@ecgnn/gpu: gpu.js mode '${mode}' is not available here (the native gl package is not built, or no X display: xvfb-run); skipped`,
    );
    test.skip(`mode '${mode}' is not available here`, () => {});
    return;
  }
  test(`${STEPS} SGD steps of a small CNN give the CPU backend’s losses`, () => {
    const data = bumps(32, 48, new Generator(5));
    const want = withBackend('cpu', () => trainLosses(data));
    const backend = createGpuBackend({ mode });
    const got = withBackend(backend, () => trainLosses(data));
    const stats = backend.stats();
    backend.dispose();
    const worst = Math.max(...got.map((v, i) => Math.abs(v - want[i]) / want[i]));
    console.log(
      `gpu.js ${mode}: ${STEPS} losses, largest relative difference from CPU ${worst.toExponential(2)}`,
    );
    // The model learns (so the comparison is not between two flat curves) …
    expect(want[STEPS - 1]).toBeLessThan(0.8 * want[0]);
    // … and gpu.js follows the CPU backend step by step.
    for (let i = 0; i < STEPS; i++)
      expect(Math.abs(got[i] - want[i]) / want[i], `step ${i}`).toBeLessThan(1e-3);
    for (const k of ['matmul', 'conv1dForward', 'conv1dBackwardInput', 'conv1dBackwardWeight', 'maxPool1d']) {
      expect(stats.deviceCalls[k] ?? 0, k).toBeGreaterThanOrEqual(STEPS);
    }
    for (const k of [
      'channelMoments',
      'batchNormForward',
      'batchNormBackward',
      'avgPool1d',
      'avgPool1dBackward',
    ]) {
      expect(stats.deviceCalls[k] ?? 0, k).toBeGreaterThanOrEqual(STEPS);
    }
    expect(stats.kernelClasses).toHaveLength(1);
  });
});
