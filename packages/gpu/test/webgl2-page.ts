/**
 * The page module of webgl2-browser.test.ts, bundled by esbuild (sources through the `@ecgnn/source` condition)
 * and run in headless Chromium: the gpu.js backend in mode `webgl2` (gpu.js's `WebGL2Kernel`, i.e. GLSL ES 3.0
 * shaders on the browser's WebGL2 context, SwiftShader without a GPU).
 *
 * {@link run} checks (a) the kernel conformance cases of kernel-cases.ts against the CPU reference kernels,
 * (b) the backend's counters, (c) a few training steps of the small CNN of small-cnn.ts under `webgl2` and under
 * the CPU backend in the same page, and probes WebGPU (`navigator.gpu`) without using it: the backend refuses
 * mode `webgpu`. It returns plain data; the Node test makes the assertions.
 */
import { Generator, optim, withBackend } from '@ecgnn/core';
import { createGpuBackend, type GpuBackendStats, gpuModeAvailable, type ResidencyStats } from '@ecgnn/gpu';
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

/** What the page is asked to do. */
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

/** The result of {@link run}. */
export interface PageResult {
  /** `navigator.userAgent`. */
  userAgent: string;
  /** gpu.js's own test of WebGL2 (`GPU.isWebGL2Supported`). */
  webgl2: boolean;
  /** The WebGL2 renderer string (unmasked when the page may read it), or null without WebGL2. */
  renderer: string | null;
  /** The conformance cases. */
  cases: PageCaseResult[];
  /** Backend counters summed over the conformance cases. */
  caseStats: { deviceCalls: Record<string, number>; kernelClasses: string[]; compiledKernels: number };
  /** The training comparison. */
  training: {
    cpu: number[];
    webgl2: number[];
    largestRelativeDifference: number;
    stats: GpuBackendStats;
    /** Kernels of the training that did not run on the device or fell back. */
    problems: string[];
    ms: number;
    /** Device memory and traffic of the training (outputs kept as textures, copies back). */
    memory: ResidencyStats;
    /**
     * Device values held before 5 more steps run inside tidy() (those the untidied run above left to the garbage
     * collector), and after each of them (the same number: each step frees all its own).
     */
    heldBeforeTidySteps: number;
    heldAfterTidySteps: number[];
  } | null;
  /** Error thrown by the training under `webgl2`, or null. */
  trainingError: string | null;
  /** WebGPU probe: whether `navigator.gpu` exists, the adapter found (or why none), and the backend's refusal. */
  webgpu: { navigatorGpu: boolean; adapter: string; refusal: string };
}

/** The WebGL2 renderer of a fresh canvas, or null. */
function webgl2Renderer(): string | null {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (gl === null) return null;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

/** The part of WebGPU's `navigator.gpu` the probe uses (TypeScript's DOM library has no WebGPU types). */
interface GpuLike {
  requestAdapter(): Promise<{ info?: Record<string, unknown> } | null>;
}

async function probeWebGpu(): Promise<PageResult['webgpu']> {
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  let adapter = 'no navigator.gpu';
  if (gpu !== undefined) {
    try {
      const a = await gpu.requestAdapter();
      const info = a?.info ?? {};
      const fields = ['vendor', 'architecture', 'description', 'isFallbackAdapter'];
      adapter = a === null ? 'requestAdapter() gave null' : JSON.stringify(fields.map((f) => info[f]));
    } catch (e) {
      adapter = `requestAdapter() threw ${String(e)}`;
    }
  }
  let refusal = 'not refused';
  try {
    createGpuBackend({ mode: 'webgpu' }).dispose();
  } catch (e) {
    refusal = `${(e as Error).name}: ${(e as Error).message}`;
  }
  return { navigatorGpu: gpu !== undefined, adapter, refusal };
}

function runCases(opts: PageOptions): Pick<PageResult, 'cases' | 'caseStats'> {
  const backend = createGpuBackend({ mode: 'webgl2' });
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
        c.run(k, { numRuns, seed: opts.seed, elementwiseTolerance: elementwiseTolerance('webgl2'), worst });
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

function runTraining(steps: number): PageResult['training'] {
  const data = bumps(32, 48, new Generator(5));
  const cpu = withBackend('cpu', () => smallCnnLosses(data, steps));
  const backend = createGpuBackend({ mode: 'webgl2' });
  try {
    const started = performance.now();
    const webgl2 = withBackend(backend, () => smallCnnLosses(data, steps));
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
      webgl2,
      largestRelativeDifference: largestRelativeDifference(webgl2, cpu),
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

/** Runs the checks of the module comment and returns their results (see {@link PageResult}). */
export async function run(opts: PageOptions): Promise<PageResult> {
  const webgl2 = gpuModeAvailable('webgl2');
  const base = { userAgent: navigator.userAgent, webgl2, renderer: webgl2Renderer() };
  const webgpu = await probeWebGpu();
  const empty = { deviceCalls: {}, kernelClasses: [], compiledKernels: 0 };
  if (!webgl2) return { ...base, cases: [], caseStats: empty, training: null, trainingError: null, webgpu };
  const { cases, caseStats } = runCases(opts);
  let training: PageResult['training'] = null;
  let trainingError: string | null = null;
  try {
    training = runTraining(opts.steps);
  } catch (e) {
    trainingError = String((e as Error).stack ?? e);
  }
  return { ...base, cases, caseStats, training, trainingError, webgpu };
}
