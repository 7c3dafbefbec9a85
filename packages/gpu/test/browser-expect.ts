/**
 * The Node side of the headless-Chromium tests of the gpu.js backend (webgl2-browser.test.ts,
 * webgpu-browser.test.ts): the page options (with the MIT-BIH beats of the student case, read here), the report
 * lines, and the assertions on what the pages' checks (browser-checks.ts) return.
 */
import { GPU_KERNEL_NAMES } from '@ecgnn/gpu';
import { expect } from 'vitest';
import type { CasesResult, PageOptions, TrainingResult } from './browser-checks.js';
import { ECG_RECORDS, loadEcgBatches } from './student-ecg-data.js';

/**
 * What the pages run: 6 fast-check runs per property (every new geometry compiles shaders), a fixed seed so a
 * failure reproduces, 50 SGD steps of each training case.
 */
export const BROWSER_RUNS = { numRuns: 6, seed: 27, steps: 50 } as const;

/** Largest relative difference of a step's loss from the CPU backend's (as train.test.ts). */
export const LOSS_TOLERANCE = 1e-3;

/**
 * The page options: {@link BROWSER_RUNS} and, when `student`, the MIT-BIH beats read here (the page has no files).
 */
export function pageOptions(student: boolean): PageOptions {
  return { ...BROWSER_RUNS, ecg: student ? loadEcgBatches() : null };
}

/** Report lines of the conformance cases and the training. */
export function reportLines(
  r: CasesResult,
  t: TrainingResult | null,
  trainingError: string | null,
): string[] {
  return [
    ...r.cases.map(
      (c) =>
        `  ${c.name}: ${c.failure ?? 'ok'}; max |diff| ${c.worst.absolute.toExponential(2)} (${(100 * c.worst.ofTolerance).toFixed(1)} % of tolerance), ${c.ms} ms`,
    ),
    `  cases: kernel classes ${r.caseStats.kernelClasses}, ${r.caseStats.compiledKernels} kernels compiled, device calls ${JSON.stringify(r.caseStats.deviceCalls)}`,
    t
      ? `  training, ${t.device.length} steps: largest relative loss difference from CPU ${t.largestRelativeDifference.toExponential(2)} (${t.ms} ms); device calls ${JSON.stringify(t.stats.deviceCalls)}; CPU fallbacks ${JSON.stringify(t.stats.fallbacks)}; device memory ${JSON.stringify(t.memory)}; device values held before 5 tidy steps ${t.heldBeforeTidySteps}, after each ${JSON.stringify(t.heldAfterTidySteps)}`
      : `  training: ${trainingError}`,
    t?.student
      ? `  student on MIT-BIH ${ECG_RECORDS.join('+')}, ${t.student.device.length} steps: losses ${t.student.cpu[0].toFixed(3)} → ${t.student.cpu[t.student.cpu.length - 1].toFixed(3)}, largest relative difference from CPU ${t.student.largestRelativeDifference.toExponential(2)} (${t.student.ms} ms)`
      : '  student: not run (no MIT-BIH)',
  ];
}

/** Every conformance case passed on the device, as `kernelClass`, and every gpu.js kernel ran there. */
export function expectCasesOnDevice(r: CasesResult, kernelClass: string): void {
  expect(r.cases.map((c) => c.name)).toHaveLength(5);
  for (const c of r.cases) {
    expect(c.failure, c.name).toBeNull();
    expect(c.problems, c.name).toEqual([]);
    expect(c.worst.ofTolerance, c.name).toBeLessThanOrEqual(1);
  }
  expect(r.caseStats.kernelClasses).toEqual([kernelClass]);
  for (const k of GPU_KERNEL_NAMES) expect(r.caseStats.deviceCalls[k] ?? 0, k).toBeGreaterThan(0);
}

/** The small CNN's losses follow the CPU backend's, on the device, as `kernelClass`. */
export function expectSmallCnnTraining(
  t: TrainingResult | null,
  trainingError: string | null,
  kernelClass: string,
): void {
  expect(trainingError).toBeNull();
  if (t === null) throw new Error('no training result');
  const steps = BROWSER_RUNS.steps;
  expect(t.device).toHaveLength(steps);
  expect(t.cpu[steps - 1]).toBeLessThan(t.cpu[0]); // it learns: not two flat curves
  expect(t.largestRelativeDifference).toBeLessThan(LOSS_TOLERANCE);
  expect(t.stats.kernelClasses).toEqual([kernelClass]);
  expect(t.problems).toEqual([]);
  // The kernels gpu.js does not implement (softmax, adaptive pooling, optimizer steps, …) are counted.
  expect(Object.keys(t.stats.fallbacks).length).toBeGreaterThan(0);
}

/** The student's losses fall and follow the CPU backend's, its kernels on the device. */
export function expectStudentTraining(t: TrainingResult | null): void {
  const st = t?.student;
  if (st === null || st === undefined) throw new Error('no student result');
  expect(st.device).toHaveLength(BROWSER_RUNS.steps);
  const mean = (a: number[]) => a.reduce((u, v) => u + v, 0) / a.length;
  expect(mean(st.cpu.slice(-10))).toBeLessThan(0.8 * mean(st.cpu.slice(0, 10)));
  expect(st.largestRelativeDifference).toBeLessThan(LOSS_TOLERANCE);
  expect(st.problems).toEqual([]);
}

/** More outputs stayed on the device than came back, and each step inside tidy() freed all of its own. */
export function expectDeviceResidency(t: TrainingResult | null): void {
  if (t === null) throw new Error('no training result');
  expect(t.memory.stored).toBeGreaterThan(t.memory.downloads);
  expect(t.memory.peakBytes).toBeGreaterThan(0);
  const h = t.heldBeforeTidySteps;
  expect(t.heldAfterTidySteps).toEqual([h, h, h, h, h]);
}
