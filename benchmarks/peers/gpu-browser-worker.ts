/**
 * The worker of the `webgpu` browser engine (gpu-browser-page.ts): the gpu.js backend connected to the page's
 * device server (`connectGpuBackend`, mode `webgpu`) and the handlers of gpu-browser-handlers.ts, answering the
 * page's `{ id, request }` messages with `{ id, value }` or `{ id, error }`.
 */
import { connectGpuBackend, type PostPort } from '@ecgnn/gpu';
import { type BenchRequest, benchHandlers } from './gpu-browser-handlers.js';

/** The worker scope as this file uses it (the DOM library types `self` as a window). */
const scope = self as unknown as {
  onmessage: ((e: { data: { port?: PostPort; id?: number; request?: BenchRequest } }) => void) | null;
  postMessage(m: unknown): void;
};

let handle: ((r: BenchRequest) => Promise<unknown>) | null = null;

scope.onmessage = ({ data }) => {
  if (data.port !== undefined) {
    const port = data.port;
    handle = benchHandlers(() => connectGpuBackend(port, { mode: 'webgpu' }));
    return;
  }
  const { id, request } = data as { id: number; request: BenchRequest };
  (handle as NonNullable<typeof handle>)(request).then(
    (value) => scope.postMessage({ id, value }),
    (e: unknown) => scope.postMessage({ id, error: String((e as Error).stack ?? e) }),
  );
};
