/**
 * The device server: runs the gpu.js kernels of a backend that lives on another thread (remote-client.ts), on
 * this thread's gpu.js, and keeps their outputs as device values by id. Its reason to exist is gpu.js's `webgpu`
 * mode, whose kernels and reads are asynchronous: here they may be, because this thread's event loop is free (the
 * client blocks in `Atomics.wait` only for answers, see remote-protocol.ts). In a browser the server is the page's
 * main thread (or any worker that does not block) and the client a worker; it serves any gpu.js mode, which the
 * Node tests use (`cpu` on a `worker_threads` thread) to check the protocol where WebGPU is missing.
 */
import gpujs from 'gpu.js';
import { GpuBackendError } from './errors.js';
import {
  ANSWER_OFFSET,
  type Answer,
  type ClientMessage,
  type PortLike,
  type RunMessage,
  SLOT_LENGTH,
  SLOT_SEQ,
  SLOT_STATUS,
  STATUS_ERROR,
  STATUS_OK,
  type WireArgument,
} from './remote-protocol.js';
import { assertKernelClass, type GpuMode, gpuModeAvailable, kernelSettings } from './runner.js';

const { GPU } = gpujs;

/** gpu.js 2.24's WebGPU device singleton (exported by the package, missing from its typings). */
interface WebGpuContextStatic {
  acquire(): Promise<{ adapter: { info?: Record<string, unknown> } }>;
}

/** A pipelined gpu.js output: a `Float32Array` (`cpu`, `webasm`) or a handle (texture, WebGPU buffer). */
type Held = Float32Array | { toArray(): unknown; delete(): void; clone(): Held };

/** A compiled kernel as its run shortcut exposes it (its result is a Promise in mode `webgpu`). */
interface Shortcut {
  (...args: unknown[]): unknown;
  readonly kernel: object;
}

/** A running device server (see {@link serveGpuDevice}). */
export interface GpuDeviceServer {
  /** Resolves when the client closed the connection (its backend's `dispose()`), or {@link GpuDeviceServer.close}. */
  readonly closed: Promise<void>;
  /** Stops serving now: frees every device value and compiled kernel. */
  close(): void;
}

/**
 * Serves gpu.js kernels to the backend that `connectGpuBackend` creates on the other end of `port` (on another
 * thread). Call it on a thread with WebGPU whose event loop stays free: a page's main thread, or a worker.
 *
 * @example
 * ```ts
 * // page (main thread): WebGPU here, the model in a worker
 * const channel = new MessageChannel();
 * serveGpuDevice(channel.port1);
 * worker.postMessage({ gpuPort: channel.port2 }, [channel.port2]);
 * // worker: const gpu = await connectGpuBackend(port, { mode: 'webgpu' }); setBackend(gpu);
 * ```
 */
export function serveGpuDevice(port: PortLike): GpuDeviceServer {
  let gpu: InstanceType<typeof GPU> | null = null;
  let mode: GpuMode = 'cpu';
  let header: Int32Array | null = null;
  let bytes: Uint8Array | null = null;
  const kernels = new Map<number, Shortcut>();
  const values = new Map<number, Held>();
  /** The first error of a run nobody waited for; the next answer reports it. */
  let deferred: unknown = null;
  let chain: Promise<void> = Promise.resolve();
  let finish: () => void = () => {};
  const closed = new Promise<void>((r) => {
    finish = r;
  });

  function answer(seq: number, status: number, body: Answer): void {
    if (header === null || bytes === null) return;
    let text = new TextEncoder().encode(JSON.stringify(body));
    const room = bytes.length - ANSWER_OFFSET;
    if (text.length > room) {
      const cut = { ...body, error: `${(body.error ?? '').slice(0, room / 4)} … (cut)` };
      text = new TextEncoder().encode(JSON.stringify(cut));
    }
    bytes.set(text, ANSWER_OFFSET);
    header[SLOT_STATUS] = status;
    header[SLOT_LENGTH] = text.length;
    Atomics.store(header, SLOT_SEQ, seq);
    Atomics.notify(header, SLOT_SEQ);
  }

  function failure(e: unknown): Answer {
    const err = e instanceof Error ? e : new Error(String(e));
    return { errorName: err.name, error: err.message };
  }

  /** Answers `seq` with `body`, or with the error of an earlier run nobody waited for. */
  function reply(seq: number, body: Answer): void {
    if (deferred !== null) {
      const e = deferred;
      deferred = null;
      answer(seq, STATUS_ERROR, failure(e));
      return;
    }
    answer(seq, STATUS_OK, body);
  }

  function value(id: number): Held {
    const v = values.get(id);
    if (v === undefined)
      throw new GpuBackendError(`device value ${id} does not exist (freed, or its run failed)`);
    return v;
  }

  function argument(a: WireArgument): unknown {
    return ArrayBuffer.isView(a) ? a : value((a as { id: number }).id);
  }

  function freeAll(): void {
    for (const v of values.values()) if (!(v instanceof Float32Array)) v.delete();
    values.clear();
    kernels.clear();
    gpu?.destroy();
    gpu = null;
  }

  async function run(m: RunMessage): Promise<void> {
    if (gpu === null) throw new GpuBackendError('device server: run before init');
    let k = kernels.get(m.kid);
    if (k === undefined) {
      if (m.source === undefined || m.size === undefined) {
        throw new GpuBackendError(`device server: kernel ${m.kid} ('${m.name}') was never compiled`);
      }
      k = gpu.createKernel(m.source, kernelSettings(m.size)) as unknown as Shortcut;
      kernels.set(m.kid, k);
    }
    const result = (await k(...m.args.map(argument))) as Held;
    // gpu.js builds on the first call: the class that ran is known only now (it falls back between modes silently).
    const kernelClass = assertKernelClass(mode, k.kernel, m.name);
    values.set(m.out, result);
    if (m.seq !== undefined) reply(m.seq, { kernelClass });
  }

  async function handle(m: ClientMessage): Promise<void> {
    switch (m.op) {
      case 'init': {
        header = new Int32Array(m.control, 0, ANSWER_OFFSET / 4);
        bytes = new Uint8Array(m.control);
        mode = m.mode;
        try {
          let device: string = mode;
          if (mode === 'webgpu') {
            if (!(await GPU.isWebGPUAvailable())) {
              throw new GpuBackendError(
                "gpu.js mode 'webgpu' is not available on the device server's thread (no navigator.gpu, or no adapter)",
              );
            }
            const ctx = (gpujs as unknown as { WebGPUContext: WebGpuContextStatic }).WebGPUContext;
            const info = (await ctx.acquire()).adapter.info ?? {};
            device = `webgpu ${JSON.stringify(['vendor', 'architecture', 'description', 'isFallbackAdapter'].map((f) => info[f]))}`;
          } else if (!gpuModeAvailable(mode)) {
            throw new GpuBackendError(`gpu.js mode '${mode}' is not available on the device server's thread`);
          }
          gpu = new GPU({ mode });
          reply(m.seq, { device });
        } catch (e) {
          answer(m.seq, STATUS_ERROR, failure(e));
        }
        return;
      }
      case 'run':
        try {
          await run(m);
        } catch (e) {
          if (m.seq !== undefined) answer(m.seq, STATUS_ERROR, failure(e));
          else deferred ??= e;
        }
        return;
      case 'read':
        try {
          const v = value(m.id);
          const host = v instanceof Float32Array ? v : await v.toArray();
          if (!(host instanceof Float32Array) || host.length < m.length) {
            throw new GpuBackendError(
              `device value ${m.id} read back as ${Object.prototype.toString.call(host)}, expected ${m.length} float32 values`,
            );
          }
          new Float32Array(m.data, 0, m.length).set(host.subarray(0, m.length));
          reply(m.seq, {});
        } catch (e) {
          answer(m.seq, STATUS_ERROR, failure(e));
        }
        return;
      case 'free': {
        const v = values.get(m.id);
        values.delete(m.id);
        if (v !== undefined && !(v instanceof Float32Array)) v.delete();
        return;
      }
      case 'clone':
        try {
          const v = value(m.id);
          values.set(m.to, v instanceof Float32Array ? v : v.clone());
        } catch (e) {
          deferred ??= e;
        }
        return;
      case 'close':
        freeAll();
        reply(m.seq, {});
        stop();
        return;
    }
  }

  function stop(): void {
    port.onmessage = null;
    port.close?.();
    finish();
  }

  port.onmessage = (event) => {
    const m = event.data as ClientMessage;
    chain = chain
      .then(() => handle(m))
      .catch((e: unknown) => {
        deferred ??= e;
      });
  };
  return {
    closed,
    close: () => {
      chain = chain.then(() => {
        freeAll();
        stop();
      });
    },
  };
}
