/**
 * The gpu.js backend in mode `webgpu`, in real headless Chromium (Debian's `chromium`, driven by playwright-core,
 * harness test-utils/chromium.ts) with WebGPU on SwiftShader (Dawn's CPU fallback adapter: no GPU here). gpu.js's
 * WebGPU kernels are asynchronous, so the backend runs in a worker (`connectGpuBackend`) and the page's main thread
 * serves the kernels (`serveGpuDevice`); the page is served cross-origin isolated (SharedArrayBuffer, Atomics.wait
 * in the worker). esbuild bundles webgpu-page.ts and webgpu-worker.ts with gpu.js's browser build. The worker runs
 * the kernel conformance cases of kernel-cases.ts and 50 training steps of the small CNN (small-cnn.ts) and of the
 * student ECG model on MIT-BIH beats (student-ecg.ts; the beats read here and handed to the page) against the CPU
 * backend (browser-checks.ts, shared with the webgl2 page; assertions in browser-expect.ts). Skipped with a
 * message when Chromium is missing, unless CI=true (then it fails).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserSkipReason,
  bundleForBrowser,
  evaluateInChromium,
  GPU_FLAGS,
  type StaticServer,
  startStaticServer,
} from '../../../test-utils/chromium.js';
import {
  BROWSER_RUNS,
  expectCasesOnDevice,
  expectDeviceResidency,
  expectSmallCnnTraining,
  expectStudentTraining,
  pageOptions,
  reportLines,
} from './browser-expect.js';
import { ecgCaseRuns } from './student-ecg-data.js';
import type { WebGpuPageResult } from './webgpu-page.js';
import type { WorkerResult } from './webgpu-worker.js';

const runStudent = ecgCaseRuns('gpu.js webgpu browser test');

const reason = browserSkipReason('gpu.js webgpu browser test');
if (reason) console.warn(`[gpu.js webgpu browser test] skipped: ${reason}`);

const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(reason !== null)(
  `gpu.js webgpu mode in headless Chromium, behind a device server${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let srv: StaticServer;
    let page: WebGpuPageResult;
    let result: WorkerResult;

    beforeAll(async () => {
      srv = await startStaticServer('ecgnn-chromium-webgpu-', { isolated: true });
      for (const [path, entry] of [
        ['/page.js', 'webgpu-page.ts'],
        ['/worker.js', 'webgpu-worker.ts'],
      ]) {
        srv.files.set(path, {
          type: 'text/javascript',
          body: await bundleForBrowser(build, join(here, entry)),
        });
      }
      // Passed as source text: vitest would otherwise rewrite the dynamic import() inside a function.
      const script = `import('/page.js').then((m) => m.run(${JSON.stringify(pageOptions(runStudent))}))`;
      const { value, pageErrors } = await evaluateInChromium<WebGpuPageResult>(
        chromium,
        srv,
        script,
        GPU_FLAGS,
      );
      expect(pageErrors).toEqual([]);
      page = value;
      if (page.worker === null) throw new Error(`the worker failed: ${page.workerError}`);
      result = page.worker;
      console.log(
        [
          `[gpu.js webgpu] ${page.userAgent}`,
          `  cross-origin isolated ${page.crossOriginIsolated}; adapter ${page.adapter}`,
          `  main thread: ${page.mainThreadRefusal}`,
          ...reportLines(result, result.training, result.trainingError),
        ].join('\n'),
      );
    }, 900_000);

    afterAll(async () => {
      await srv?.close();
    });

    it('Chromium gives a WebGPU adapter to a cross-origin-isolated page', () => {
      expect(page.crossOriginIsolated).toBe(true);
      expect(page.adapter).toMatch(/^\[/);
    });

    it('connectGpuBackend refuses the main thread (it cannot block) with a GpuBackendError', () => {
      expect(page.mainThreadRefusal).toMatch(/^GpuBackendError: .*worker/);
    });

    it('a tensor computed on the device reads back with await read()', () => {
      expect(result.read.heldBefore).toBeGreaterThan(0);
      expect(result.read.values).toEqual([2, 0, 6, 0]);
    });

    it('every gpu.js kernel matches the CPU reference kernels, on the device, as WebGPUKernel', () => {
      expectCasesOnDevice(result, 'WebGPUKernel');
    });

    it(`${BROWSER_RUNS.steps} SGD steps of a small CNN under webgpu give the CPU backend’s losses`, () => {
      expectSmallCnnTraining(result.training, result.trainingError, 'WebGPUKernel');
    });

    it.runIf(runStudent)(
      `${BROWSER_RUNS.steps} SGD steps of the student ECG model on MIT-BIH beats under webgpu give the CPU backend’s losses`,
      () => expectStudentTraining(result.training),
    );

    it('outputs stay on the device between kernels, and tidy() frees them after each step', () => {
      expectDeviceResidency(result.training);
    });
  },
);
