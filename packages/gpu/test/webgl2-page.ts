/**
 * The page module of webgl2-browser.test.ts, bundled by esbuild (sources through the `@ecgnn/source` condition)
 * and run in headless Chromium: the gpu.js backend in mode `webgl2` (gpu.js's `WebGL2Kernel`, i.e. GLSL ES 3.0
 * shaders on the browser's WebGL2 context, SwiftShader without a GPU).
 *
 * {@link run} runs the checks of browser-checks.ts (kernel conformance cases, counters, training against the CPU
 * backend, device memory) under `webgl2`, and probes WebGPU (`navigator.gpu`); `createGpuBackend` refuses mode
 * `webgpu` (it runs behind a device server: webgpu-page.ts). It returns plain data; the Node test asserts.
 */
import { createGpuBackend, gpuModeAvailable } from '@ecgnn/gpu';
import {
  type CasesResult,
  type PageOptions,
  probeAdapter,
  runCases,
  runTraining,
  type TrainingResult,
} from './browser-checks.js';

export type { PageOptions } from './browser-checks.js';

/** The result of {@link run}. */
export interface PageResult extends CasesResult {
  /** `navigator.userAgent`. */
  userAgent: string;
  /** gpu.js's own test of WebGL2 (`GPU.isWebGL2Supported`). */
  webgl2: boolean;
  /** The WebGL2 renderer string (unmasked when the page may read it), or null without WebGL2. */
  renderer: string | null;
  /** The training comparison. */
  training: TrainingResult | null;
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

/** The WebGPU probe: the adapter, and `createGpuBackend`'s refusal of mode `webgpu` on this thread. */
async function probeWebGpu(): Promise<PageResult['webgpu']> {
  const adapter = await probeAdapter();
  let refusal = 'not refused';
  try {
    createGpuBackend({ mode: 'webgpu' }).dispose();
  } catch (e) {
    refusal = `${(e as Error).name}: ${(e as Error).message}`;
  }
  const navigatorGpu = (navigator as unknown as { gpu?: unknown }).gpu !== undefined;
  return { navigatorGpu, adapter, refusal };
}

/** Runs the checks of the module comment and returns their results (see {@link PageResult}). */
export async function run(opts: PageOptions): Promise<PageResult> {
  const webgl2 = gpuModeAvailable('webgl2');
  const base = { userAgent: navigator.userAgent, webgl2, renderer: webgl2Renderer() };
  const webgpu = await probeWebGpu();
  const empty = { deviceCalls: {}, kernelClasses: [], compiledKernels: 0 };
  if (!webgl2) return { ...base, cases: [], caseStats: empty, training: null, trainingError: null, webgpu };
  const { cases, caseStats } = runCases(createGpuBackend({ mode: 'webgl2' }), 'webgl2', opts);
  let training: PageResult['training'] = null;
  let trainingError: string | null = null;
  try {
    training = runTraining(createGpuBackend({ mode: 'webgl2' }), opts);
  } catch (e) {
    trainingError = String((e as Error).stack ?? e);
  }
  return { ...base, cases, caseStats, training, trainingError, webgpu };
}
