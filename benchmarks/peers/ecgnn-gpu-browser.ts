/**
 * gpu.js engines in headless Chromium (issue #27): `ecgnn-gpu-webgl2` and `ecgnn-gpu-webgpu` run the same
 * `@ecgnn/core` case code as every core engine (core-case.ts) on the gpu.js backend in a browser mode. The engine
 * process bundles gpu-browser-page.ts (and gpu-browser-worker.ts) with esbuild, serves them cross-origin isolated
 * from 127.0.0.1, opens them in Debian's Chromium (playwright-core; WebGL2 and WebGPU on SwiftShader, no GPU here)
 * and drives the case through `benchCall`: the page checks the output against the same reference as every
 * engine's and times its runs itself (`performance.now()` in the page, warm-up and loop of common.ts), so the
 * DevTools round trip is not in the times. Each row carries the backend's counters (`backendStats`).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import {
  type BrowserContextLike,
  bundleForBrowser,
  CHROMIUM,
  FLAGS,
  GPU_FLAGS,
  type PageLike,
  type StaticServer,
  startStaticServer,
} from '../../test-utils/chromium.js';
import type { Engine, Prepared, TimingOptions } from './common.js';
import { version } from './ecgnn.js';
import { GPU_CASES } from './ecgnn-gpu.js';
import type { BenchRequest } from './gpu-browser-handlers.js';

/** Browser modes with an engine. */
export type BrowserGpuMode = 'webgl2' | 'webgpu';

const here = dirname(fileURLToPath(import.meta.url));

/** `entry` (a file of this folder) bundled for the page. */
function bundle(entry: string): Promise<Uint8Array> {
  return bundleForBrowser(build, join(here, entry));
}

/** The engine `ecgnn-gpu-<mode>` for a browser mode. */
export function ecgnnGpuBrowserEngine(mode: BrowserGpuMode): Engine {
  return {
    name: `ecgnn-gpu-${mode}`,
    version: () => `${version('core')}, ${version('gpu')}, Chromium (${CHROMIUM})`,
    supports: (c) => GPU_CASES.includes(c),
    async prepare(c, batch, threads) {
      if (threads > 1) throw new Error(`ecgnn-gpu-${mode} has no threaded mode`);
      const srv: StaticServer = await startStaticServer(`ecgnn-bench-${mode}-`, { isolated: true });
      let context: BrowserContextLike | null = null;
      try {
        srv.files.set('/page.js', { type: 'text/javascript', body: await bundle('gpu-browser-page.ts') });
        srv.files.set('/worker.js', { type: 'text/javascript', body: await bundle('gpu-browser-worker.ts') });
        srv.files.set('/', { type: 'text/html', body: '<!doctype html><title>ecgnn bench</title>' });
        const open: BrowserContextLike = await chromium.launchPersistentContext(srv.userDataDir, {
          executablePath: CHROMIUM,
          headless: true,
          args: [...FLAGS, ...GPU_FLAGS],
        });
        context = open;
        const page: PageLike = open.pages()[0] ?? (await open.newPage());
        await page.goto(`${srv.base}/`);
        await page.evaluate(`import('/page.js').then((m) => m.start(${JSON.stringify(mode)}))`);
        const call = (r: BenchRequest) => page.evaluate(`globalThis.benchCall(${JSON.stringify(r)})`);
        const where =
          mode === 'webgpu'
            ? 'in a worker, kernels behind a device server on the page thread'
            : 'on the page thread';
        const note = `@ecgnn/core in headless Chromium (SwiftShader, no GPU), gpu.js backend mode '${mode}' ${where}; times taken in the page (performance.now); outputs stay on the device and come back only when read; kernels it does not run fall back to the CPU reference, counted`;
        const ready = (await call({ method: 'prepare', caseName: c, batch, note })) as {
          checks: boolean;
          note: string;
        };
        const prepared: Prepared = {
          run: async () => {
            await call({ method: 'run' });
          },
          output: async () => Float32Array.from((await call({ method: 'output' })) as number[]),
          timeRuns: async (timing: TimingOptions) => (await call({ method: 'timeRuns', timing })) as number[],
          rowFields: () => fields,
          dispose: async () => {
            await call({ method: 'dispose' });
            await open.close();
            await srv.close();
          },
          note: ready.note,
        };
        // rowFields is synchronous in the Prepared contract: the counters are fetched after each timed batch.
        let fields: Record<string, unknown> = {};
        const timeRuns = prepared.timeRuns as NonNullable<Prepared['timeRuns']>;
        prepared.timeRuns = async (timing) => {
          const times = await timeRuns(timing);
          fields = (await call({ method: 'rowFields' })) as Record<string, unknown>;
          return times;
        };
        if (ready.checks) {
          prepared.check = async () =>
            (await call({ method: 'check' })) as { error: number; tolerance: number };
        }
        return prepared;
      } catch (e) {
        await context?.close();
        await srv.close();
        throw e;
      }
    },
  };
}
