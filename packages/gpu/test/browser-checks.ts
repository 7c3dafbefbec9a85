/**
 * The checks the headless-Chromium pages run on a gpu.js backend (webgl2-page.ts: mode `webgl2` on the page's
 * thread; webgpu-worker.ts: mode `webgpu` behind a device server): the kernel conformance cases of kernel-cases.ts
 * against the CPU reference kernels, the backend's counters, and a few SGD steps of the small CNN of small-cnn.ts
 * on the backend and on the CPU backend in the same page, with device memory across steps inside tidy(). They
 * return plain data; the Node tests make the assertions.
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

/** What a page is asked to do. */
export interface PageOptions {
  /** fast-check runs per conformance property (each new geometry compiles shaders). */
  numRuns: number;
  /** fast-check seed of every property. */
  seed: number;
  /** SGD steps of the training comparison. */
  steps: number;
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

/** Trains the small CNN `steps` steps on the CPU backend and on `backend` (then 5 tidy steps), and disposes it. */
export function runTraining(backend: GpuBackend, steps: number): TrainingResult {
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
    return {
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
