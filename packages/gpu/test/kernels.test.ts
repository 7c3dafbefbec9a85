/**
 * Every kernel of the gpu.js backend against the CPU reference kernels, on random geometries, in each gpu.js mode
 * that runs in Node (`cpu` and `webasm` always; `headlessgl` when the `gl` package loads, else a printed skip).
 * This is the kernel-level check of the modes the core suite projects (`core@gpu.js:*` in vitest.config.ts) do not
 * run. The cases and their float32 tolerances are in kernel-cases.ts, shared with the `webgl2` page in headless
 * Chromium (webgl2-browser.test.ts). Each test also asserts that the device path ran (no fallback counted).
 */
import { createGpuBackend, type GpuBackend, type GpuMode } from '@ecgnn/gpu';
import type { Kernels } from '@ecgnn/kernels';
import { afterAll, describe, expect, test } from 'vitest';
import { deviceProblems, elementwiseTolerance, hostSynced, KERNEL_CASES } from './kernel-cases.js';
import { skipUnavailableMode } from './mode-skip.js';

const modes: GpuMode[] = ['cpu', 'webasm', 'headlessgl'];

describe.each(modes)('gpu.js %s kernels against the CPU reference (float32)', (mode) => {
  if (skipUnavailableMode(mode)) return;
  const backend: GpuBackend = createGpuBackend({ mode });
  const k = hostSynced(backend.kernels as Kernels);
  // Every new geometry compiles shaders; under headless-gl (Mesa's software rasteriser) that is ~0.5 s each.
  const runs = (n: number) => (mode === 'headlessgl' ? Math.min(n, 3) : n);
  afterAll(() => backend.dispose());

  test.each(KERNEL_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    c.run(k, { numRuns: runs(c.numRuns), elementwiseTolerance: elementwiseTolerance(mode) });
    expect(deviceProblems(backend.stats(), c.kernels)).toEqual([]);
    backend.resetStats();
  });
});
