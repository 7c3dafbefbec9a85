import { defineConfig } from 'vitest/config';

// One vitest config for the whole monorepo. Packages resolve each other through their `exports`; the
// `@ecgnn/source` condition points them at TypeScript sources in development. Vite applies
// `resolve.conditions` to the client environment only; tests run in the SSR (Node) one, hence `ssr`.
export default defineConfig({
  resolve: { conditions: ['@ecgnn/source'] },
  ssr: { resolve: { conditions: ['@ecgnn/source'], externalConditions: ['@ecgnn/source'] } },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test-utils/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'all',
          include: [
            'packages/*/test/**/*.test.ts',
            'examples/**/*.test.ts',
            'benchmarks/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**'],
        },
      },
      {
        // The same @ecgnn/core suite again with the WebAssembly backend active: every op test then runs its
        // float32 kernels on WASM (float64 gradient checks fall back to CPU; backend-parity.test.ts compares
        // float32 gradients). backend.test.ts tests backend switching from the CPU default, so it is left out.
        extends: true,
        test: {
          name: 'core@wasm',
          include: ['packages/core/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', 'packages/core/test/backend.test.ts'],
          setupFiles: ['packages/core/test/setup-backend.ts'],
          env: { ECGNN_TEST_BACKEND: 'wasm' },
        },
      },
      // The op conformance files of the @ecgnn/core suite on the gpu.js backend (@ecgnn/gpu) in its two modes that
      // run everywhere: gpu.js `cpu` (JavaScript) and `webasm` (WebAssembly); float64 calls fall back to CPU. The
      // rest of the core suite (storage, modules, schedules, …) does not reach the kernels differently; it passes
      // too (include 'packages/core/test/**/*.test.ts' to run it), at about 100 s more per mode.
      // With ECGNN_GPU_HEADLESSGL=1 (the native `gl` package built, under xvfb-run; .ci/run sets it) also
      // `core@gpu.js:headlessgl`.
      ...(process.env.ECGNN_GPU_HEADLESSGL === '1' ? ['cpu', 'webasm', 'headlessgl'] : ['cpu', 'webasm']).map(
        (mode) => ({
          extends: true as const,
          test: {
            name: `core@gpu.js:${mode}`,
            include: [
              'backend-parity',
              'basic-forward',
              'basic-grad',
              'elementwise-grad',
              'conv',
              'pool',
              'nn-ops',
              'nn-layers',
              'losses',
              'sum-axes',
              'sign',
              'learning',
              'device-storage',
            ].map((f) => `packages/core/test/${f}.test.ts`),
            exclude: ['**/node_modules/**', '**/dist/**'],
            setupFiles: ['packages/gpu/test/setup-core-suite.ts', 'packages/core/test/setup-backend.ts'],
            // headless-gl reads results back packed in RGBA8 texels, which cannot hold a NaN (docs/gpu.md): the
            // NaN-propagation checks skip there, saying so (ECGNN_TEST_BACKEND_NO_NAN).
            env: {
              ECGNN_TEST_BACKEND: `gpu.js:${mode}`,
              ...(mode === 'headlessgl' ? { ECGNN_TEST_BACKEND_NO_NAN: '1' } : {}),
            },
          },
        }),
      ),
    ],
  },
});
