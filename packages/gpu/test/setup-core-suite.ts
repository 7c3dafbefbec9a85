// Vitest setup file of the `core@gpu.js:<mode>` projects (vitest.config.ts): registers the gpu.js backends in
// @ecgnn/core before core's own setup (packages/core/test/setup-backend.ts) selects the one named by
// ECGNN_TEST_BACKEND, so @ecgnn/core's whole op suite — backend-parity.test.ts's float32 comparisons with the
// CPU reference included — runs its float32 kernels on gpu.js (float64 gradient checks fall back to CPU).
// Only `cpu` and `webasm` (and the mode under test): backend-parity.test.ts and elementwise-grad.test.ts compare
// every registered backend, and the GL modes' NaN semantics are known to differ (docs/gpu.md), so headlessgl joins
// only its own project (ECGNN_GPU_HEADLESSGL=1), not the others whenever `gl` happens to be built.
import { type GpuMode, registerGpuBackends } from '@ecgnn/gpu';

const want = process.env.ECGNN_TEST_BACKEND;
const modes: GpuMode[] = ['cpu', 'webasm'];
if (want === 'gpu.js:headlessgl') modes.push('headlessgl');
const names = registerGpuBackends(modes);
if (want !== undefined && !names.includes(want)) {
  throw new Error(
    `ECGNN_TEST_BACKEND=${want}: not a gpu.js backend available here (available: ${names.join(', ')})`,
  );
}
