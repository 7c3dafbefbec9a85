// Types of build.mjs (imported by test/bundle.test.ts and test/browser.test.ts).
import type { BuildOptions } from 'esbuild';

/** The esbuild options of one published entry (see build.mjs). */
export function bundleOptions(entry: 'index' | 'binary/index' | 'node'): BuildOptions;
