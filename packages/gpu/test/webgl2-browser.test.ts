/**
 * The gpu.js backend in mode `webgl2`, in real headless Chromium (Debian's `chromium`, driven by playwright-core,
 * harness test-utils/chromium.ts). esbuild bundles webgl2-page.ts with @ecgnn/gpu, core and kernels from their
 * sources (condition `@ecgnn/source`) and gpu.js's browser build (its package.json `browser` field:
 * dist/gpu-browser.js, which does not load the native `gl` package); a static 127.0.0.1 server serves it. Without
 * a GPU, Chromium's WebGL2 is ANGLE on SwiftShader (a CPU Vulkan implementation): {@link GL_FLAGS}.
 *
 * In the page (browser-checks.ts): the kernel conformance cases of kernel-cases.ts (the ones kernels.test.ts runs in
 * Node, with the GL tolerances), the backend's counters (the `WebGL2Kernel` class ran, device calls of every gpu.js
 * kernel), 50 SGD steps of the small CNN of small-cnn.ts and of the student ECG model on MIT-BIH beats (read here,
 * handed to the page; student-ecg.ts) under `webgl2` vs the CPU backend (assertions in browser-expect.ts), and a
 * WebGPU probe (reported; mode `webgpu` runs behind a device server: webgpu-browser.test.ts). Skipped with a message when Chromium is missing, unless CI=true
 * (then it fails).
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
import type { PageResult } from './webgl2-page.js';

const runStudent = ecgCaseRuns('gpu.js webgl2 browser test');

const reason = browserSkipReason('gpu.js webgl2 browser test');
if (reason) console.warn(`[gpu.js webgl2 browser test] skipped: ${reason}`);

describe.skipIf(reason !== null)(
  `gpu.js webgl2 mode in headless Chromium${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let srv: StaticServer;
    let result: PageResult;

    beforeAll(async () => {
      srv = await startStaticServer('ecgnn-chromium-gpu-');
      const entry = join(dirname(fileURLToPath(import.meta.url)), 'webgl2-page.ts');
      srv.files.set('/page.js', { type: 'text/javascript', body: await bundleForBrowser(build, entry) });
      // Passed as source text: vitest would otherwise rewrite the dynamic import() inside a function.
      const script = `import('/page.js').then((m) => m.run(${JSON.stringify(pageOptions(runStudent))}))`;
      const { value, pageErrors } = await evaluateInChromium<PageResult>(chromium, srv, script, GPU_FLAGS);
      expect(pageErrors).toEqual([]);
      result = value;
      console.log(
        [
          `[gpu.js webgl2] ${result.userAgent}`,
          `  WebGL2: ${result.webgl2}, renderer ${result.renderer}`,
          ...reportLines(result, result.training, result.trainingError),
          `  WebGPU: navigator.gpu ${result.webgpu.navigatorGpu}, adapter ${result.webgpu.adapter}; backend: ${result.webgpu.refusal}`,
        ].join('\n'),
      );
    }, 600_000);

    afterAll(async () => {
      await srv?.close();
    });

    it('Chromium gives WebGL2 and gpu.js accepts it', () => {
      expect(result.webgl2, `renderer ${result.renderer}`).toBe(true);
    });

    it('every gpu.js kernel matches the CPU reference kernels, on the device, as WebGL2Kernel', () => {
      expectCasesOnDevice(result, 'WebGL2Kernel');
    });

    it(`${BROWSER_RUNS.steps} SGD steps of a small CNN under webgl2 give the CPU backend’s losses`, () => {
      expectSmallCnnTraining(result.training, result.trainingError, 'WebGL2Kernel');
    });

    it.runIf(runStudent)(
      `${BROWSER_RUNS.steps} SGD steps of the student ECG model on MIT-BIH beats under webgl2 give the CPU backend’s losses`,
      () => expectStudentTraining(result.training),
    );

    it('outputs stay on the device as textures between kernels, and tidy() frees them after each step', () => {
      expectDeviceResidency(result.training);
    });

    it('createGpuBackend refuses mode webgpu on the page thread (it runs behind a device server)', () => {
      expect(result.webgpu.refusal).toMatch(/^GpuBackendError: .*asynchronous/);
    });
  },
);
