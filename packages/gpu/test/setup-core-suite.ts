// Vitest setup file of the `core@gpu.js:<mode>` projects (vitest.config.ts): registers the gpu.js backends in
// @ecgnn/core before core's own setup (packages/core/test/setup-backend.ts) selects the one named by
// ECGNN_TEST_BACKEND, so @ecgnn/core's whole op suite — backend-parity.test.ts's float32 comparisons with the
// CPU reference included — runs its float32 kernels on gpu.js (float64 gradient checks fall back to CPU).
import { registerGpuBackends } from '@ecgnn/gpu';

const names = registerGpuBackends();
const want = process.env.ECGNN_TEST_BACKEND;
if (want !== undefined && !names.includes(want)) {
  throw new Error(
    `ECGNN_TEST_BACKEND=${want}: not a gpu.js backend available here (available: ${names.join(', ')})`,
  );
}
