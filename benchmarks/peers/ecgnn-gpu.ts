/**
 * gpu.js engines (issue #27): `ecgnn-gpu-<mode>` runs the same `@ecgnn/core` calls as `ecgnn-wasm` / `ecgnn-ts`
 * (coreCase in ecgnn.ts, coreTrainCase in train.ts) with `setBackend(createGpuBackend({ mode }))` of
 * `@ecgnn/gpu`, for mode `cpu`, `webasm` or `headlessgl`. Its output is checked against the same reference as
 * every engine's (common.ts: the reference kernels; the float64 CPU training steps for the training cases).
 *
 * The backend runs part of the kernel contract on gpu.js and the rest (and every call it does not take) on the
 * CPU reference, counting both (docs/gpu.md). Each row therefore carries `backendStats`: the device calls and CPU
 * fallbacks of one timed run (the last) and of the whole process (preparation, reference check, warm-up and timed
 * runs), with the reason of each fallback — a row whose time is mostly CPU fallbacks must say so.
 */
import { setBackend } from '@ecgnn/core';
import { createGpuBackend, type GpuMode } from '@ecgnn/gpu';
import type { CaseName, Engine } from './common.js';
import { coreCase } from './core-case.js';
import { version } from './ecgnn.js';
import { withStats } from './gpu-stats.js';

/** gpu.js modes with a benchmark engine (`webgl2` needs a browser, `webgpu` is refused by the backend). */
export const GPU_ENGINE_MODES = ['cpu', 'webasm', 'headlessgl'] as const satisfies readonly GpuMode[];

/**
 * Cases of the gpu.js engines: the kernel cases and both training cases (not the inference cases, whose engine is
 * @ecgnn/infer). The teacher step is slow here but not prohibitively so: measured once under load on the shared
 * 2-core machine, about 3 s per step at batch 64 in `cpu` and `webasm` mode (0.5 s at batch 8), against about 11 s
 * for tfjs-cpu's train-step, which the suite runs.
 */
export const GPU_CASES: CaseName[] = [
  'matmul-256',
  'conv1d',
  'depthwise-conv1d',
  'conv1d-backward-input',
  'conv1d-backward-weight',
  'train-step',
  'train-step-teacher',
];

/** The engine `ecgnn-gpu-<mode>`. */
export function ecgnnGpuEngine(mode: (typeof GPU_ENGINE_MODES)[number]): Engine {
  return {
    name: `ecgnn-gpu-${mode}`,
    version: () => `${version('core')}, ${version('gpu')}`,
    supports: (c) => GPU_CASES.includes(c),
    async prepare(c, batch, threads) {
      if (threads > 1) throw new Error(`ecgnn-gpu-${mode} has no threaded mode`);
      // Throws a GpuBackendError (reported as the row's error) when the mode cannot run here; run.ts skips
      // unavailable modes with a message before starting this process.
      const gpu = createGpuBackend({ mode });
      setBackend(gpu);
      const note = `@ecgnn/core, createGpuBackend({ mode: '${mode}' }) of @ecgnn/gpu (gpu.js kernels; outputs stay on the device (device-resident storage) and come back only when read: kernel-case runs do not read them, training steps read the loss; kernels it does not run fall back to the CPU reference, counted)`;
      return withStats(coreCase(c, batch, note), gpu);
    },
  };
}
