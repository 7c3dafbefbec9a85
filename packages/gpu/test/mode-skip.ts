/**
 * The one rule for gpu.js modes a test file cannot run here (`headlessgl` without the native `gl` package built
 * or without an X display): a printed, listed skip — never a silent pass — or, where the environment promises the
 * mode (`ECGNN_REQUIRE_HEADLESSGL=1`, set by .ci/run after scripts/headless-gl.sh succeeded), a failing test.
 */
import { type GpuMode, gpuModeAvailable } from '@ecgnn/gpu';
import { test } from 'vitest';

/** Registers the skip (or the failure) inside the current `describe` and returns true when `mode` cannot run here. */
export function skipUnavailableMode(mode: GpuMode): boolean {
  if (gpuModeAvailable(mode)) return false;
  const why = `gpu.js mode '${mode}' is not available here (the native gl package is not built, or no X display: xvfb-run)`;
  if (mode === 'headlessgl' && process.env.ECGNN_REQUIRE_HEADLESSGL === '1') {
    test(`mode '${mode}' is available (ECGNN_REQUIRE_HEADLESSGL=1)`, () => {
      throw new Error(`${why}, but ECGNN_REQUIRE_HEADLESSGL=1 says it was built`);
    });
    return true;
  }
  console.log(`@ecgnn/gpu: ${why}; skipped`);
  test.skip(`mode '${mode}' is not available here`, () => {});
  return true;
}
