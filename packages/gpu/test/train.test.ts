/**
 * Training on the gpu.js backend gives the CPU backend's losses (issue #27: 50 steps, same losses within
 * tolerance), in gpu.js `cpu` and `webasm` modes (`headlessgl` when the `gl` package loads, else a printed skip):
 *
 * - a small generic 1-D CNN on synthetic bumps (small-cnn.ts, also run in Chromium by webgl2-browser.test.ts);
 * - the compact `student` ECG model of @ecgnn/models on real MIT-BIH beats (records 208 and 232: N, S, V and F
 *   beats; windows 0.25 s before to 0.45 s after the R peak at 360 Hz, z-scored; two RR ratios), 50 SGD steps over
 *   two class-balanced batches of 16. It runs when MIT-BIH is in the data directory (ECGNN_DATA, else
 *   ../shared/data), is skipped with a message otherwise, and fails when CI=true and the data is missing.
 *
 * The float32 device arithmetic differs from the reference in the last bits, and the differences grow a little
 * with every step; the losses must agree to 1e-3 relative and the kernels that carry the training must have run
 * on gpu.js.
 */
import { Generator, withBackend } from '@ecgnn/core';
import { createGpuBackend, type GpuBackendStats, type GpuMode } from '@ecgnn/gpu';
import { describe, expect, test } from 'vitest';
import { skipUnavailableMode } from './mode-skip.js';
import { bumps, largestRelativeDifference, SMALL_CNN_KERNELS, smallCnnLosses } from './small-cnn.js';
import { STUDENT_KERNELS, studentLosses } from './student-ecg.js';
import { ECG_RECORDS, ecgCaseRuns, loadEcgBatches } from './student-ecg-data.js';

/** SGD steps compared. */
const STEPS = 50;
/** Largest relative difference of a step's loss from the CPU backend's. */
const LOSS_TOLERANCE = 1e-3;

/**
 * Trains with the CPU backend, then with a fresh gpu.js backend in `mode`; both loss curves and the stats. Yields
 * to the event loop between the two runs: a long synchronous stretch can time out vitest's worker RPC.
 */
async function compare(
  mode: GpuMode,
  train: () => number[],
): Promise<{ want: number[]; got: number[]; stats: GpuBackendStats }> {
  const want = withBackend('cpu', train);
  await new Promise((resolve) => setImmediate(resolve));
  const backend = createGpuBackend({ mode });
  try {
    const got = withBackend(backend, train);
    return { want, got, stats: backend.stats() };
  } finally {
    backend.dispose();
  }
}

/** Asserts the gpu.js curve follows the CPU one step by step and `kernels` ran on the device every step. */
function expectSameTraining(
  r: { want: number[]; got: number[]; stats: GpuBackendStats },
  kernels: readonly string[],
): void {
  for (let i = 0; i < STEPS; i++) {
    expect(Math.abs(r.got[i] - r.want[i]) / r.want[i], `step ${i}`).toBeLessThan(LOSS_TOLERANCE);
  }
  for (const k of kernels) expect(r.stats.deviceCalls[k] ?? 0, k).toBeGreaterThanOrEqual(STEPS);
  expect(r.stats.kernelClasses).toHaveLength(1);
}

const mean = (a: readonly number[]): number => a.reduce((s, v) => s + v, 0) / a.length;

// --- the student ECG model on MIT-BIH beats (student-ecg.ts, student-ecg-data.ts) ---------------------------------

const runDataTests = ecgCaseRuns('@ecgnn/gpu train test');

describe.each(['cpu', 'webasm', 'headlessgl'] as GpuMode[])('training on gpu.js %s', (mode) => {
  if (skipUnavailableMode(mode)) return;

  test(`${STEPS} SGD steps of a small CNN give the CPU backend’s losses`, async () => {
    const data = bumps(32, 48, new Generator(5));
    const r = await compare(mode, () => smallCnnLosses(data, STEPS));
    console.log(
      `gpu.js ${mode}: small CNN, ${STEPS} losses, largest relative difference from CPU ${largestRelativeDifference(r.got, r.want).toExponential(2)}`,
    );
    // The model learns (so the comparison is not between two flat curves) …
    expect(r.want[STEPS - 1]).toBeLessThan(0.8 * r.want[0]);
    // … and gpu.js follows the CPU backend step by step.
    expectSameTraining(r, SMALL_CNN_KERNELS);
  });

  test.runIf(runDataTests)(
    `${STEPS} SGD steps of the student ECG model on MIT-BIH beats give the CPU backend’s losses`,
    async () => {
      // Fails (DataNotFoundError) when CI=true and the data is missing.
      const { batches, length } = loadEcgBatches();
      const started = performance.now();
      const r = await compare(mode, () => studentLosses(batches, length, STEPS));
      console.log(
        `gpu.js ${mode}: student on MIT-BIH ${ECG_RECORDS.join('+')} (batch ${batches[0].y.length}, length ${length}), ${STEPS} losses ${r.want[0].toFixed(3)} → ${r.want[STEPS - 1].toFixed(3)}, largest relative difference from CPU ${largestRelativeDifference(r.got, r.want).toExponential(2)} (${((performance.now() - started) / 1000).toFixed(1)} s both backends)`,
      );
      // The student learns the beats (mean loss of the last 10 steps well below the first 10's) …
      expect(mean(r.want.slice(-10))).toBeLessThan(0.8 * mean(r.want.slice(0, 10)));
      // … and gpu.js follows the CPU backend step by step (conv without bias, BN, ReLU, max pool, global average
      // pooling as a reduction, concat of the RR features, linear).
      expectSameTraining(r, STUDENT_KERNELS);
    },
  );
});
