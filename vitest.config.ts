import { defineConfig } from 'vitest/config';

// One vitest config for the whole monorepo. Packages resolve each other through their
// `exports`; the `@ecgnn/source` condition points them at TypeScript sources in development.
export default defineConfig({
  resolve: { conditions: ['@ecgnn/source'] },
  // Vite applies `resolve.conditions` to the client environment only; tests run in the SSR (Node) one.
  ssr: { resolve: { conditions: ['@ecgnn/source'], externalConditions: ['@ecgnn/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'benchmarks/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test-utils/summary-reporter.ts'],
  },
});
