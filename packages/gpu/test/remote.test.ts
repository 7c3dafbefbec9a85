/**
 * The device-server protocol of mode `webgpu` (remote-client.ts ↔ remote-server.ts), checked in Node where WebGPU
 * is missing: the server runs gpu.js `cpu` mode on a `worker_threads` thread (remote-server-worker.ts, bundled by
 * esbuild), the backend on this thread blocks in `Atomics.wait` for its answers. The kernel conformance cases, a
 * training run (bit-identical to gpu.js `cpu` mode on this thread: the protocol moves values, it does not change
 * them), device memory, and the errors: a server that cannot run the mode, a server that does not answer, use
 * after dispose. The real `webgpu` mode runs in headless Chromium (webgpu-browser.test.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Generator, tensor, withBackend } from '@ecgnn/core';
import { connectGpuBackend, createGpuBackend, type GpuBackend, GpuBackendError } from '@ecgnn/gpu';
import type { Kernels } from '@ecgnn/kernels';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deviceProblems, elementwiseTolerance, hostSynced, KERNEL_CASES } from './kernel-cases.js';
import { bumps, SMALL_CNN_KERNELS, smallCnnLosses } from './small-cnn.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The bundled server, inside the package's node_modules so that its `import 'gpu.js'` resolves. */
const bundle = join(here, '..', 'node_modules', '.ecgnn-test', 'remote-server-worker.mjs');

beforeAll(async () => {
  mkdirSync(dirname(bundle), { recursive: true });
  await build({
    entryPoints: [join(here, 'remote-server-worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['@ecgnn/source'],
    external: ['gpu.js'],
    outfile: bundle,
  });
});

/** A server thread and the port of its other end. */
function startServer(): { worker: Worker; port: MessageChannel['port2'] } {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(bundle, { workerData: { port: port1 }, transferList: [port1] });
  return { worker, port: port2 };
}

describe('gpu.js backend behind a device server (mode cpu on a worker thread)', () => {
  let backend: GpuBackend;
  let worker: Worker;

  beforeAll(async () => {
    const s = startServer();
    worker = s.worker;
    backend = await connectGpuBackend(s.port, { mode: 'cpu', timeoutMs: 60_000 });
  });
  afterAll(async () => {
    backend.dispose();
    await worker.terminate();
  });

  test.each(KERNEL_CASES.map((c) => [c.name, c] as const))('%s matches the CPU reference', (_, c) => {
    backend.resetStats();
    const k = hostSynced(backend.kernels as Kernels);
    c.run(k, {
      numRuns: Math.min(c.numRuns, 10),
      seed: 27,
      elementwiseTolerance: elementwiseTolerance('cpu'),
    });
    expect(deviceProblems(backend.stats(), c.kernels)).toEqual([]);
    expect(backend.stats().kernelClasses).toEqual(['CPUKernel']);
  });

  test('20 SGD steps give exactly the losses of gpu.js cpu mode on this thread', () => {
    const data = bumps(32, 48, new Generator(5));
    const local = createGpuBackend({ mode: 'cpu' });
    let want: number[];
    try {
      want = withBackend(local, () => smallCnnLosses(data, 20));
    } finally {
      local.dispose();
    }
    backend.resetStats();
    const got = withBackend(backend, () => smallCnnLosses(data, 20));
    expect(got).toEqual(want);
    expect(got[19]).toBeLessThan(got[0]);
    expect(deviceProblems(backend.stats(), SMALL_CNN_KERNELS)).toEqual([]);
    const m = backend.memory();
    expect(m.stored).toBeGreaterThan(m.downloads);
  });

  test('outputs stay on the server until read; await read() and .data give the values', async () => {
    const x = withBackend(backend, () =>
      tensor([1, -2, 3, -4])
        .relu()
        .mul(tensor([2, 2, 2, 2])),
    );
    expect(backend.memory().buffers).toBeGreaterThan(0);
    expect(Array.from(await x.read())).toEqual([2, 0, 6, 0]);
    const y = withBackend(backend, () => x.add(x));
    expect(Array.from(y.data)).toEqual([4, 0, 12, 0]);
  });
});

describe('device server errors', () => {
  test('a mode the server cannot run is a GpuBackendError from connectGpuBackend', async () => {
    const { worker, port } = startServer();
    try {
      // Node has no navigator.gpu: the server refuses webgpu.
      await expect(connectGpuBackend(port, { mode: 'webgpu', timeoutMs: 60_000 })).rejects.toThrow(
        /GpuBackendError: gpu.js mode 'webgpu' is not available/,
      );
    } finally {
      await worker.terminate();
    }
  });

  test('a server that does not answer is a GpuBackendError after the timeout', async () => {
    const { port1 } = new MessageChannel();
    const started = Date.now();
    await expect(connectGpuBackend(port1, { timeoutMs: 300 })).rejects.toThrow(GpuBackendError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    port1.close();
  });

  test('after dispose, values still on the server are a GpuBackendError to read', async () => {
    const { worker, port } = startServer();
    try {
      const b = await connectGpuBackend(port, { mode: 'cpu', timeoutMs: 60_000 });
      const x = withBackend(b, () => tensor([1, 2, 3]).mul(tensor([2, 2, 2])));
      b.dispose();
      expect(() => x.data).toThrow(GpuBackendError);
    } finally {
      await worker.terminate();
    }
  });
});
