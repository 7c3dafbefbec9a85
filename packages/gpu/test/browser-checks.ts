/**
 * The checks the headless-Chromium pages run on a gpu.js backend (webgl2-page.ts: mode `webgl2` on the page's
 * thread; webgpu-worker.ts: mode `webgpu` behind a device server): the kernel conformance cases of kernel-cases.ts
 * against the CPU reference kernels, the backend's counters, and SGD steps of the small CNN of small-cnn.ts (with
 * device memory across steps inside tidy()) and of the student ECG model (student-ecg.ts, when the page is given
 * MIT-BIH beats) on the backend and on the CPU backend in the same page. They return plain data; the Node tests
 * make the assertions.
 */
import { Generator, optim, withBackend } from '@ecgnn/core';
import type { GpuBackend, GpuBackendStats, GpuMode, ResidencyStats } from '@ecgnn/gpu';
import type { Kernels } from '@ecgnn/kernels';
import {
  deviceProblems,
  elementwiseTolerance,
  hostSynced,
  KERNEL_CASES,
  noDifference,
  type Worst,
} from './kernel-cases.js';
import {
  bumps,
  largestRelativeDifference,
  SMALL_CNN_KERNELS,
  smallCnn,
  smallCnnLosses,
  tidyStep,
} from './small-cnn.js';
import { type EcgBatchData, STUDENT_KERNELS, studentLosses } from './student-ecg.js';

/** What a page is asked to do. */
export interface PageOptions {
  /** fast-check runs per conformance property (each new geometry compiles shaders). */
  numRuns: number;
  /** fast-check seed of every property. */
  seed: number;
  /** SGD steps of each training comparison. */
  steps: number;
  /** MIT-BIH beats for the student ECG model's training comparison (student-ecg.ts), or null to leave it out. */
  ecg: { batches: EcgBatchData[]; length: number } | null;
}

/** One training comparison: the losses under the CPU backend and under the gpu.js backend. */
export interface LossComparison {
  /** Losses under the CPU backend. */
  cpu: number[];
  /** Losses under the gpu.js backend. */
  device: number[];
  largestRelativeDifference: number;
  /** Kernels that did not run on the device or fell back. */
  problems: string[];
  /** Wall time of the gpu.js run, ms. */
  ms: number;
}

/** One conformance case as it ran in the page. */
export interface PageCaseResult {
  /** Case name. */
  name: string;
  /** The thrown mismatch (kernel, geometry, element), or null. */
  failure: string | null;
  /** Kernels that did not run on the device or fell back (see `deviceProblems`). */
  problems: string[];
  /** Largest differences from the reference. */
  worst: Worst;
  /** Wall time, ms. */
  ms: number;
}

/** The conformance cases and the backend counters summed over them. */
export interface CasesResult {
  /** The conformance cases. */
  cases: PageCaseResult[];
  /** Backend counters summed over the conformance cases. */
  caseStats: { deviceCalls: Record<string, number>; kernelClasses: string[]; compiledKernels: number };
}

/** The training comparison. */
export interface TrainingResult {
  /** Losses under the CPU backend. */
  cpu: number[];
  /** Losses under the gpu.js backend. */
  device: number[];
  largestRelativeDifference: number;
  stats: GpuBackendStats;
  /** Kernels of the training that did not run on the device or fell back. */
  problems: string[];
  ms: number;
  /** Device memory and traffic of the training (outputs kept on the device, copies back). */
  memory: ResidencyStats;
  /**
   * Device values held before 5 more steps run inside tidy() (those the untidied run above left to the garbage
   * collector), and after each of them (the same number: each step frees all its own).
   */
  heldBeforeTidySteps: number;
  heldAfterTidySteps: number[];
  /** The student ECG model on MIT-BIH beats, or null when the page was given no beats. */
  student: LossComparison | null;
}

/** Runs every conformance case on `backend` (in `mode`, for the tolerances) and disposes it. */
export function runCases(backend: GpuBackend, mode: GpuMode, opts: PageOptions): CasesResult {
  const k = hostSynced(backend.kernels as Kernels);
  const cases: PageCaseResult[] = [];
  const deviceCalls: Record<string, number> = {};
  const classes = new Set<string>();
  try {
    for (const c of KERNEL_CASES) {
      const worst = noDifference();
      const started = performance.now();
      let failure: string | null = null;
      try {
        const numRuns = Math.min(c.numRuns, opts.numRuns);
        c.run(k, { numRuns, seed: opts.seed, elementwiseTolerance: elementwiseTolerance(mode), worst });
      } catch (e) {
        failure = String((e as Error).message ?? e);
      }
      const stats = backend.stats();
      for (const [name, n] of Object.entries(stats.deviceCalls))
        deviceCalls[name] = (deviceCalls[name] ?? 0) + n;
      for (const cls of stats.kernelClasses) classes.add(cls);
      cases.push({
        name: c.name,
        failure,
        problems: deviceProblems(stats, c.kernels),
        worst,
        ms: Math.round(performance.now() - started),
      });
      backend.resetStats();
    }
    const compiledKernels = backend.stats().compiledKernels;
    return { cases, caseStats: { deviceCalls, kernelClasses: [...classes], compiledKernels } };
  } finally {
    backend.dispose();
  }
}

/**
 * Trains the small CNN `opts.steps` steps on the CPU backend and on `backend` (then 5 tidy steps), and the student
 * ECG model when `opts.ecg` has beats; disposes the backend.
 */
export function runTraining(backend: GpuBackend, opts: PageOptions): TrainingResult {
  const steps = opts.steps;
  const data = bumps(32, 48, new Generator(5));
  const cpu = withBackend('cpu', () => smallCnnLosses(data, steps));
  try {
    const started = performance.now();
    const device = withBackend(backend, () => smallCnnLosses(data, steps));
    const stats = backend.stats();
    const ms = Math.round(performance.now() - started);
    const memory = backend.memory();
    const model = smallCnn();
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const heldBeforeTidySteps = backend.memory().buffers;
    const heldAfterTidySteps: number[] = [];
    withBackend(backend, () => {
      for (let i = 0; i < 5; i++) {
        tidyStep(model, opt, data);
        heldAfterTidySteps.push(backend.memory().buffers);
      }
    });
    let student: LossComparison | null = null;
    const ecg = opts.ecg;
    if (ecg !== null) {
      const want = withBackend('cpu', () => studentLosses(ecg.batches, ecg.length, steps));
      backend.resetStats();
      const t0 = performance.now();
      const got = withBackend(backend, () => studentLosses(ecg.batches, ecg.length, steps));
      student = {
        cpu: want,
        device: got,
        largestRelativeDifference: largestRelativeDifference(got, want),
        problems: deviceProblems(backend.stats(), STUDENT_KERNELS),
        ms: Math.round(performance.now() - t0),
      };
    }
    return {
      student,
      cpu,
      device,
      largestRelativeDifference: largestRelativeDifference(device, cpu),
      stats,
      problems: deviceProblems(stats, SMALL_CNN_KERNELS),
      ms,
      memory,
      heldBeforeTidySteps,
      heldAfterTidySteps,
    };
  } finally {
    backend.dispose();
  }
}

/** The part of WebGPU's `navigator.gpu` the probe uses (TypeScript's DOM library has no WebGPU types). */
interface GpuLike {
  requestAdapter(): Promise<{ info?: Record<string, unknown> } | null>;
}

/**
 * The WebGPU adapter of this page as `[vendor, architecture, description, isFallbackAdapter]` (JSON), or why there is
 * none (`no navigator.gpu`, `requestAdapter() gave null`, the error).
 */
export async function probeAdapter(): Promise<string> {
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  if (gpu === undefined) return 'no navigator.gpu';
  try {
    const a = await gpu.requestAdapter();
    if (a === null) return 'requestAdapter() gave null';
    const info = a.info ?? {};
    return JSON.stringify(['vendor', 'architecture', 'description', 'isFallbackAdapter'].map((f) => info[f]));
  } catch (e) {
    return `requestAdapter() threw ${String(e)}`;
  }
}
