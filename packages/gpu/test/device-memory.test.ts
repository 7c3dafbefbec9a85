/**
 * Issue #27: device memory does not grow over 1,000 training steps on the gpu.js backend. The run is a child
 * process (device-memory-run.ts, with --expose-gc) so that its samples are not disturbed by other tests; each
 * step runs inside tidy() as the Trainer's do. In `headlessgl` (under xvfb-run) the device values are GL textures.
 */
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpuMode } from '@ecgnn/gpu';
import { describe, expect, test } from 'vitest';
// A type only: importing the script's type does not run it (the import is erased).
import type { DeviceMemorySample } from './device-memory-run.js';
import { skipUnavailableMode } from './mode-skip.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');

describe.each(['cpu', 'webasm', 'headlessgl'] as GpuMode[])(
  'device memory over 1,000 training steps on gpu.js %s',
  (mode) => {
    if (skipUnavailableMode(mode)) return;
    test('held device memory after each step, its peak per 100 steps and the traffic stay constant', () => {
      const out = execFileSync(
        process.execPath,
        [
          '--expose-gc',
          '--import',
          'tsx',
          '--conditions=@ecgnn/source',
          resolve(here, 'device-memory-run.ts'),
          '--mode',
          mode,
          '--steps',
          '1000',
          '--every',
          '100',
        ],
        { cwd: root, encoding: 'utf8', timeout: 300_000 },
      );
      const run = JSON.parse(out.trim().split('\n').pop() as string) as {
        gc: boolean;
        samples: DeviceMemorySample[];
      };
      expect(run.gc).toBe(true);
      expect(run.samples.map((s) => s.step)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
      const [first] = run.samples;
      // Device values live during a step (outputs kept on the device) …
      expect(first.stored).toBeGreaterThan(0);
      expect(first.peakBytes).toBeGreaterThan(0);
      for (const s of run.samples) {
        // … and tidy() frees all of them when the step ends: nothing is left between steps, nothing waits for GC.
        expect(s.buffers, `step ${s.step}`).toBe(0);
        expect(s.bytes, `step ${s.step}`).toBe(0);
        expect(s.freedByGc, `step ${s.step}`).toBe(0);
        // Each window of 100 steps peaks at the same device memory and moves the same values.
        expect(s.peakBytes, `step ${s.step}`).toBe(first.peakBytes);
        expect(s.stored, `step ${s.step}`).toBe(first.stored);
        expect(s.downloads, `step ${s.step}`).toBe(first.downloads);
        expect(Number.isFinite(s.loss)).toBe(true);
      }
    });
  },
);
