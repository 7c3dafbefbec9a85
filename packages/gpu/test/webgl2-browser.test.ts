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
 * handed to the page; student-ecg.ts) under `webgl2` vs the CPU backend, and a WebGPU probe (reported; mode
 * `webgpu` runs behind a device server: webgpu-browser.test.ts). Skipped with a message when Chromium is missing, unless CI=true
 * (then it fails).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPU_KERNEL_NAMES } from '@ecgnn/gpu';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserSkipReason,
  evaluateInChromium,
  type StaticServer,
  startStaticServer,
} from '../../../test-utils/chromium.js';
import type { PageOptions } from './browser-checks.js';
import { ECG_RECORDS, ecgCaseRuns, loadEcgBatches } from './student-ecg-data.js';
import type { PageResult } from './webgl2-page.js';

/**
 * Chromium flags for WebGL2 and WebGPU without a GPU: ANGLE on SwiftShader (Chromium 156 headless picks it
 * without flags too, but Chrome is removing that automatic software fallback, hence explicit), and WebGPU enabled
 * for the probe (Dawn then offers SwiftShader as a fallback adapter).
 */
const GL_FLAGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'];

/**
 * What the page runs: 6 fast-check runs per property (every new geometry compiles shaders in SwiftShader), a
 * fixed seed so a failure reproduces, 50 SGD steps of each training case.
 */
const OPTIONS: Omit<PageOptions, 'ecg'> = { numRuns: 6, seed: 27, steps: 50 };

/** Largest relative difference of a step's loss from the CPU backend's (as train.test.ts). */
const LOSS_TOLERANCE = 1e-3;

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
      const out = await build({
        entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'webgl2-page.ts')],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        conditions: ['@ecgnn/source'],
        write: false,
      });
      srv.files.set('/page.js', { type: 'text/javascript', body: out.outputFiles[0].contents });
      // Passed as source text: vitest would otherwise rewrite the dynamic import() inside a function.
      // The student's MIT-BIH beats are read here (Node) and handed to the page; without MIT-BIH the student case is
      // left out (printed), and CI=true fails on the missing data.
      const ecg = runStudent ? loadEcgBatches() : null;
      const opts: PageOptions = { ...OPTIONS, ecg };
      const script = `import('/page.js').then((m) => m.run(${JSON.stringify(opts)}))`;
      const { value, pageErrors } = await evaluateInChromium<PageResult>(chromium, srv, script, GL_FLAGS);
      expect(pageErrors).toEqual([]);
      result = value;
      const t = result.training;
      console.log(
        [
          `[gpu.js webgl2] ${result.userAgent}`,
          `  WebGL2: ${result.webgl2}, renderer ${result.renderer}`,
          ...result.cases.map(
            (c) =>
              `  ${c.name}: ${c.failure ?? 'ok'}; max |diff| ${c.worst.absolute.toExponential(2)} (${(100 * c.worst.ofTolerance).toFixed(1)} % of tolerance), ${c.ms} ms`,
          ),
          `  cases: kernel classes ${result.caseStats.kernelClasses}, ${result.caseStats.compiledKernels} kernels compiled, device calls ${JSON.stringify(result.caseStats.deviceCalls)}`,
          t
            ? `  training, ${t.device.length} steps: largest relative loss difference from CPU ${t.largestRelativeDifference.toExponential(2)} (${t.ms} ms); device calls ${JSON.stringify(t.stats.deviceCalls)}; CPU fallbacks ${JSON.stringify(t.stats.fallbacks)} (last reasons ${JSON.stringify(t.stats.fallbackReasons)}); device memory ${JSON.stringify(t.memory)}; device values held before 5 tidy steps ${t.heldBeforeTidySteps}, after each ${JSON.stringify(t.heldAfterTidySteps)}`
            : `  training: ${result.trainingError}`,
          t?.student
            ? `  student on MIT-BIH ${ECG_RECORDS.join('+')}, ${t.student.device.length} steps: losses ${t.student.cpu[0].toFixed(3)} → ${t.student.cpu[t.student.cpu.length - 1].toFixed(3)}, largest relative difference from CPU ${t.student.largestRelativeDifference.toExponential(2)} (${t.student.ms} ms)`
            : '  student: not run (no MIT-BIH)',
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
      expect(result.cases.map((c) => c.name)).toHaveLength(5);
      for (const c of result.cases) {
        expect(c.failure, c.name).toBeNull();
        expect(c.problems, c.name).toEqual([]);
        expect(c.worst.ofTolerance, c.name).toBeLessThanOrEqual(1);
      }
      expect(result.caseStats.kernelClasses).toEqual(['WebGL2Kernel']);
      for (const k of GPU_KERNEL_NAMES) expect(result.caseStats.deviceCalls[k] ?? 0, k).toBeGreaterThan(0);
    });

    it(`${OPTIONS.steps} SGD steps of a small CNN under webgl2 give the CPU backend’s losses`, () => {
      expect(result.trainingError).toBeNull();
      const t = result.training;
      if (t === null) throw new Error('no training result');
      expect(t.device).toHaveLength(OPTIONS.steps);
      expect(t.cpu[OPTIONS.steps - 1]).toBeLessThan(t.cpu[0]); // it learns: not two flat curves
      expect(t.largestRelativeDifference).toBeLessThan(LOSS_TOLERANCE);
      expect(t.stats.kernelClasses).toEqual(['WebGL2Kernel']);
      expect(t.problems).toEqual([]);
      // The kernels gpu.js does not implement (softmax, adaptive pooling, optimizer steps, …) are counted.
      expect(Object.keys(t.stats.fallbacks).length).toBeGreaterThan(0);
    });

    it.runIf(runStudent)(
      `${OPTIONS.steps} SGD steps of the student ECG model on MIT-BIH beats under webgl2 give the CPU backend’s losses`,
      () => {
        const st = result.training?.student;
        if (st === null || st === undefined) throw new Error('no student result');
        expect(st.device).toHaveLength(OPTIONS.steps);
        const mean = (a: number[]) => a.reduce((u, v) => u + v, 0) / a.length;
        expect(mean(st.cpu.slice(-10))).toBeLessThan(0.8 * mean(st.cpu.slice(0, 10)));
        expect(st.largestRelativeDifference).toBeLessThan(LOSS_TOLERANCE);
        expect(st.problems).toEqual([]);
      },
    );

    it('outputs stay on the device as textures between kernels, and tidy() frees them after each step', () => {
      const t = result.training;
      if (t === null) throw new Error('no training result');
      // Per step, more device outputs are kept on the device than are copied back to the host.
      expect(t.memory.stored).toBeGreaterThan(t.memory.downloads);
      expect(t.memory.peakBytes).toBeGreaterThan(0);
      const h = t.heldBeforeTidySteps;
      expect(t.heldAfterTidySteps).toEqual([h, h, h, h, h]);
    });

    it('createGpuBackend refuses mode webgpu on the page thread (it runs behind a device server)', () => {
      expect(result.webgpu.refusal).toMatch(/^GpuBackendError: .*asynchronous/);
    });
  },
);
