/**
 * The backend counters of a gpu.js engine's row (peers/ecgnn-gpu.ts, peers/ecgnn-gpu-browser.ts): device calls
 * and CPU fallbacks of one timed run and of the whole engine process. No Node API: bundled into the browser page.
 */
import type { GpuBackend, GpuBackendStats } from '@ecgnn/gpu';
import type { BackendStats } from '../report.js';
import type { Prepared } from './common.js';

/** Adds `into` the counts of `from`, kernel by kernel. */
function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/**
 * Wraps a prepared case so that the backend's counters are split per timed run: they are folded into a process
 * total and zeroed before each `run()`, and read after it (the last run's counts are `perRun`).
 */
export function withStats(prepared: Prepared, gpu: GpuBackend): Prepared {
  const total = { deviceCalls: {} as Record<string, number>, fallbacks: {} as Record<string, number> };
  const reasons: Record<string, string> = {};
  const classes = new Set<string>();
  let last: GpuBackendStats | null = null;
  const absorb = () => {
    const s = gpu.stats();
    addCounts(total.deviceCalls, s.deviceCalls);
    addCounts(total.fallbacks, s.fallbacks);
    Object.assign(reasons, s.fallbackReasons);
    for (const c of s.kernelClasses) classes.add(c);
    gpu.resetStats();
  };
  return {
    ...prepared,
    run: async () => {
      absorb();
      await prepared.run();
      last = gpu.stats();
    },
    rowFields: () => {
      const perRun = last ?? gpu.stats();
      absorb();
      const stats: BackendStats = {
        backend: gpu.name,
        perRun: { deviceCalls: { ...perRun.deviceCalls }, fallbacks: { ...perRun.fallbacks } },
        total,
        fallbackReasons: reasons,
        compiledKernels: gpu.stats().compiledKernels,
        kernelClasses: [...classes],
      };
      return { backendStats: stats };
    },
  };
}
