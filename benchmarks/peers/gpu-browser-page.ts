/**
 * The page of the browser engines (ecgnn-gpu-browser.ts), bundled by esbuild: `start(mode)` installs
 * `globalThis.benchCall(request)`, which the engine process calls through the page. In mode `webgl2` the handlers
 * (gpu-browser-handlers.ts) run here, on the page's thread; in mode `webgpu` they run in a worker
 * (gpu-browser-worker.ts) with the backend behind a device server on this thread (`serveGpuDevice`), the only way
 * gpu.js's asynchronous WebGPU kernels serve core's synchronous kernels (docs/gpu.md).
 */
import { createGpuBackend, serveGpuDevice } from '@ecgnn/gpu';
import { type BenchRequest, benchHandlers } from './gpu-browser-handlers.js';

/** Installs `globalThis.benchCall` for `mode`. */
export function start(mode: 'webgl2' | 'webgpu'): void {
  const g = globalThis as unknown as { benchCall: (r: BenchRequest) => Promise<unknown> };
  if (mode === 'webgl2') {
    g.benchCall = benchHandlers(async () => createGpuBackend({ mode: 'webgl2' }));
    return;
  }
  const channel = new MessageChannel();
  serveGpuDevice(channel.port1);
  const worker = new Worker('/worker.js', { type: 'module' });
  worker.postMessage({ port: channel.port2 }, [channel.port2]);
  let next = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  worker.onmessage = (e: MessageEvent<{ id: number; value?: unknown; error?: string }>) => {
    const w = waiting.get(e.data.id);
    waiting.delete(e.data.id);
    if (e.data.error !== undefined) w?.reject(new Error(e.data.error));
    else w?.resolve(e.data.value);
  };
  g.benchCall = (request) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, request });
    });
}
