/**
 * What a browser engine (ecgnn-gpu-browser.ts) asks of its page: prepare a case on a gpu.js backend, check it, time
 * it, read its output and the backend's counters. Runs in the page (`webgl2`) or in the page's worker (`webgpu`,
 * whose backend must live in a worker: docs/gpu.md); the engine process calls these through `benchCall` with
 * JSON arguments and results. The case is the same `@ecgnn/core` code as every core engine's (core-case.ts).
 */
import { setBackend } from '@ecgnn/core';
import type { GpuBackend } from '@ecgnn/gpu';
import type { CaseName, Prepared, TimingOptions } from './common.js';
import { timePrepared } from './common.js';
import { coreCase } from './core-case.js';
import { withStats } from './gpu-stats.js';

/** A request of the engine process. */
export type BenchRequest =
  | { method: 'prepare'; caseName: CaseName; batch: number; note: string }
  | { method: 'run' | 'check' | 'output' | 'rowFields' | 'dispose' }
  | { method: 'timeRuns'; timing: TimingOptions };

/** The page side of a browser engine: answers {@link BenchRequest}s with JSON-serialisable values. */
export function benchHandlers(create: () => Promise<GpuBackend>): (r: BenchRequest) => Promise<unknown> {
  let gpu: GpuBackend | null = null;
  let prepared: Prepared | null = null;
  let caseName: CaseName | null = null;
  const current = (): Prepared => {
    if (prepared === null) throw new Error('no case prepared');
    return prepared;
  };
  return async (r) => {
    switch (r.method) {
      case 'prepare': {
        // One backend per page (a webgpu backend's dispose() closes its device server for good).
        gpu ??= await create();
        setBackend(gpu);
        caseName = r.caseName;
        const core = coreCase(r.caseName, r.batch, r.note);
        if (core.check === undefined) {
          // A browser runs GPU work asynchronously: a kernel case that leaves its output on the device would time
          // only the submission. Each run therefore reads its output back (the training steps read their loss).
          const run = core.run;
          core.run = async () => {
            await run();
            await core.output();
          };
          core.note = `${core.note}; each timed run includes reading the output back to the host`;
        }
        prepared = withStats(core, gpu);
        return { checks: prepared.check !== undefined, note: prepared.note };
      }
      case 'run':
        await current().run();
        return null;
      case 'check':
        return (await current().check?.()) ?? null;
      case 'output':
        return Array.from(await current().output());
      case 'timeRuns':
        return timePrepared(caseName as CaseName, current(), r.timing);
      case 'rowFields':
        return current().rowFields?.() ?? {};
      case 'dispose':
        await prepared?.dispose?.();
        prepared = null;
        return null;
    }
  };
}
