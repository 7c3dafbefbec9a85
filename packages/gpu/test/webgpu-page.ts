/**
 * The page module of webgpu-browser.test.ts (bundled by esbuild, run in headless Chromium on a cross-origin-isolated
 * page). gpu.js's `webgpu` kernels are asynchronous, so the page's main thread is the device server
 * (`serveGpuDevice`) and the backend lives in a worker (webgpu-worker.ts, `connectGpuBackend`), which runs the
 * checks of browser-checks.ts and posts their results back. The page also probes the WebGPU adapter and checks that
 * `connectGpuBackend` refuses to run on the main thread (which may not block).
 */
import { connectGpuBackend, serveGpuDevice } from '@ecgnn/gpu';
import { type PageOptions, probeAdapter } from './browser-checks.js';
import type { WorkerResult } from './webgpu-worker.js';

/** The result of {@link run}. */
export interface WebGpuPageResult {
  /** `navigator.userAgent`. */
  userAgent: string;
  /** Whether the page is cross-origin isolated (SharedArrayBuffer available). */
  crossOriginIsolated: boolean;
  /** The adapter `navigator.gpu.requestAdapter()` gave (vendor, architecture, description, fallback), or why none. */
  adapter: string;
  /** What `connectGpuBackend` on the main thread threw. */
  mainThreadRefusal: string;
  /** The worker's checks, or null with `workerError`. */
  worker: WorkerResult | null;
  /** Error the worker reported or threw, or null. */
  workerError: string | null;
}

/** Runs the checks of the module comment and returns their results (see {@link WebGpuPageResult}). */
export async function run(opts: PageOptions): Promise<WebGpuPageResult> {
  const adapter = await probeAdapter();
  let mainThreadRefusal = 'not refused';
  try {
    await connectGpuBackend(new MessageChannel().port1, { timeoutMs: 1000 });
  } catch (e) {
    mainThreadRefusal = `${(e as Error).name}: ${(e as Error).message}`;
  }
  const base = {
    userAgent: navigator.userAgent,
    crossOriginIsolated: self.crossOriginIsolated,
    adapter,
    mainThreadRefusal,
  };
  const channel = new MessageChannel();
  const server = serveGpuDevice(channel.port1);
  const worker = new Worker('/worker.js', { type: 'module' });
  try {
    const reply = await new Promise<{ result?: WorkerResult; error?: string }>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => resolve({ error: `worker error: ${e.message}` });
      worker.postMessage({ opts, port: channel.port2 }, [channel.port2]);
    });
    return { ...base, worker: reply.result ?? null, workerError: reply.error ?? null };
  } finally {
    worker.terminate();
    server.close();
  }
}
