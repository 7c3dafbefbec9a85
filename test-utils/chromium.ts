// Shared harness of the headless-Chromium tests: Debian's `chromium`, the launch flags this machine needs,
// the skip-or-require rule, and a static 127.0.0.1 server for the bundled page and its files.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Chromium executable (Debian's package), overridable by CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launch flags: headless, no sandbox (root), and no background network traffic on this closed network. */
export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Why a browser test cannot run here (null when it can). Missing prerequisites skip the test with that
 * message on a user's machine, and fail it when CI=true.
 */
export function browserSkipReason(test: string, extra: readonly string[] = []): string | null {
  const reasons: string[] = [];
  if (!existsSync(CHROMIUM)) {
    reasons.push(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  }
  reasons.push(...extra);
  if (reasons.length === 0) return null;
  if (process.env.CI === 'true') throw new Error(`${test} is required when CI=true: ${reasons.join('; ')}`);
  return reasons.join('; ');
}

/**
 * Chromium flags for WebGL2 and WebGPU without a GPU: ANGLE on SwiftShader (Chromium 156 headless picks it without
 * flags too, but Chrome is removing that automatic software fallback, hence explicit), and WebGPU enabled (Dawn
 * then offers SwiftShader as a fallback adapter).
 */
export const GPU_FLAGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'];

/** The part of esbuild's `build` the harness uses (passed in: test-utils has no dependencies). */
export type EsbuildLike = (options: {
  entryPoints: string[];
  bundle: true;
  format: 'esm';
  platform: 'browser';
  target: string;
  conditions: string[];
  write: false;
  logLevel: 'error';
}) => Promise<{ outputFiles: { contents: Uint8Array }[] }>;

/**
 * `entry` bundled for the browser by esbuild's `build`: ESM, ES2022, the workspace packages from their sources
 * (condition `@ecgnn/source`; gpu.js resolves to its browser build, which never loads the native `gl`).
 */
export async function bundleForBrowser(build: EsbuildLike, entry: string): Promise<Uint8Array> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@ecgnn/source'],
    write: false,
    logLevel: 'error',
  });
  return out.outputFiles[0].contents;
}

/** A file served by {@link startStaticServer}. */
export interface ServedFile {
  type: string;
  body: Uint8Array | string;
}

/** A running static server: add files to `files` at any time; `close` also removes the profile directory. */
export interface StaticServer {
  base: string;
  files: Map<string, ServedFile>;
  userDataDir: string;
  close(): Promise<void>;
}

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /**
   * Serve every file cross-origin isolated (`Cross-Origin-Opener-Policy: same-origin`,
   * `Cross-Origin-Embedder-Policy: require-corp`): pages get `SharedArrayBuffer` and `Atomics.wait` in workers.
   */
  isolated?: boolean;
}

/**
 * Starts a static server on 127.0.0.1 (random port) and creates a fresh Chromium profile directory.
 */
export async function startStaticServer(
  profilePrefix: string,
  options: StaticServerOptions = {},
): Promise<StaticServer> {
  const isolation = options.isolated
    ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
    : {};
  const files = new Map<string, ServedFile>();
  const server = createServer((req, res) => {
    // Files are keyed by path: a query string (a page's parameters) does not change the file served.
    const f = files.get(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f.type, ...isolation }).end(f.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const userDataDir = mkdtempSync(join(tmpdir(), profilePrefix));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    files,
    userDataDir,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The part of playwright-core's `chromium` the harness uses (passed in: test-utils has no dependencies). */
export interface ChromiumLauncher {
  launchPersistentContext(
    userDataDir: string,
    options: { executablePath: string; headless: boolean; args: string[] },
  ): Promise<BrowserContextLike>;
}

/** The part of a playwright browser context the harness uses. */
export interface BrowserContextLike {
  pages(): PageLike[];
  newPage(): Promise<PageLike>;
  close(): Promise<void>;
}

/** The part of a playwright page the harness uses. */
export interface PageLike {
  on(event: 'pageerror', listener: (error: Error) => void): unknown;
  goto(url: string): Promise<unknown>;
  evaluate(script: string): Promise<unknown>;
}

/** Result of {@link evaluateInChromium}. */
export interface PageResult<T> {
  /** What the page script's promise resolved to. */
  value: T;
  /** Uncaught errors the page reported while it ran (expected to be empty). */
  pageErrors: string[];
}

/**
 * Opens `srv`'s page `/` in a fresh headless Chromium (Debian's, {@link FLAGS}; `chromium` is playwright-core's
 * launcher), evaluates `script` there and returns its value with the page's uncaught errors. The script is
 * passed as source text (an async IIFE): a function would be rewritten by vitest's transform, which breaks
 * dynamic `import()` of the served bundle. `extraArgs` are launch flags added to {@link FLAGS} (e.g. the
 * WebGL/WebGPU ones of packages/gpu/test/webgl2-browser.test.ts).
 */
export async function evaluateInChromium<T>(
  chromium: ChromiumLauncher,
  srv: StaticServer,
  script: string,
  extraArgs: readonly string[] = [],
): Promise<PageResult<T>> {
  if (!srv.files.has('/'))
    srv.files.set('/', { type: 'text/html', body: '<!doctype html><title>ecgnn</title>' });
  const context = await chromium.launchPersistentContext(srv.userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...extraArgs],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${srv.base}/`);
    const value = (await page.evaluate(script)) as T;
    return { value, pageErrors };
  } finally {
    await context.close();
  }
}
