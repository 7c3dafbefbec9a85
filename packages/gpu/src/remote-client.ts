/**
 * The client side of a gpu.js backend whose kernels run on a device server on another thread
 * (remote-server.ts; protocol in remote-protocol.ts). This is how gpu.js's `webgpu` mode serves core's synchronous
 * kernel contract: the backend lives in a worker, posts each kernel run to the server without waiting, and blocks
 * (`Atomics.wait`) only where it needs an answer — the first run of a kernel (compile errors, the kernel class that
 * ran), a read of values back to the host (`tensor.data`, a CPU kernel's operands, `await tensor.read()`), the
 * handshake and `dispose()`. Device values are handles by id ({@link RemoteValue}); the backend's device-resident
 * storage treats them as it treats GL textures.
 */
import { backendOn, type GpuBackend } from './backend.js';
import { GpuBackendError, GpuKernelClassError } from './errors.js';
import {
  ANSWER_OFFSET,
  type Answer,
  type ClientMessage,
  CONTROL_BYTES,
  type PostPort,
  SLOT_LENGTH,
  SLOT_SEQ,
  SLOT_STATUS,
  STATUS_ERROR,
  type WireArgument,
} from './remote-protocol.js';
import type { DeviceValue, GpuTexture } from './residency.js';
import {
  expectedKernelClass,
  type GpuBackendStats,
  type GpuMode,
  type KernelRunner,
  type KernelSpec,
  kernelCacheKey,
  RunnerCounters,
} from './runner.js';

/** Options of {@link connectGpuBackend}. */
export interface ConnectGpuBackendOptions {
  /** The gpu.js mode the server runs (default `'webgpu'`, the mode this exists for). */
  mode?: GpuMode;
  /** Backend name (default `gpu.js:<mode>`). */
  name?: string;
  /** Most loop iterations one device thread may run; kernels past it run on CPU (default unlimited). */
  maxLoopIterations?: number;
  /** How long to wait for one answer of the server before a `GpuBackendError` (ms, default 120,000). */
  timeoutMs?: number;
}

/** A message of a call: any client message, without the sequence number the link adds. */
type Call = ClientMessage extends infer M ? (M extends unknown ? Omit<M, 'seq'> : never) : never;

/** The connection: posts messages, and waits for the answers of calls in the shared control block. */
class Link {
  closed = false;
  private seq = 0;
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private data = new SharedArrayBuffer(4 * 1024);

  constructor(
    private readonly port: PostPort,
    readonly control: SharedArrayBuffer,
    private readonly timeoutMs: number,
  ) {
    this.header = new Int32Array(control, 0, ANSWER_OFFSET / 4);
    this.bytes = new Uint8Array(control);
  }

  post(message: ClientMessage, transfer: ArrayBuffer[] = []): void {
    if (this.closed)
      throw new GpuBackendError('the gpu.js device server connection is closed (backend disposed)');
    this.port.postMessage(message, transfer);
  }

  /** Posts `message` with the next sequence number and blocks until the server answers it. */
  call(message: Call, transfer: ArrayBuffer[] = []): Answer {
    const seq = ++this.seq;
    this.post({ ...message, seq } as ClientMessage, transfer);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const done = Atomics.load(this.header, SLOT_SEQ);
      if (done === seq) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new GpuBackendError(
          `the gpu.js device server did not answer '${message.op}' within ${this.timeoutMs} ms ` +
            '(is serveGpuDevice(port) running on a thread whose event loop is free?)',
        );
      }
      Atomics.wait(this.header, SLOT_SEQ, done, left);
    }
    const length = this.header[SLOT_LENGTH];
    // TextDecoder refuses views of shared memory: copy the answer out first.
    const text = new TextDecoder().decode(this.bytes.slice(ANSWER_OFFSET, ANSWER_OFFSET + length));
    const answer = JSON.parse(text) as Answer;
    if (this.header[SLOT_STATUS] === STATUS_ERROR) {
      const what = `gpu.js device server (${message.op}${message.op === 'run' ? ` '${message.name}'` : ''})`;
      if (answer.errorName === 'GpuKernelClassError')
        throw new GpuKernelClassError(`${what}: ${answer.error}`);
      throw new GpuBackendError(`${what}: ${answer.errorName ?? 'Error'}: ${answer.error}`);
    }
    return answer;
  }

  /** The `length` float32 values of device value `id` (a copy on this thread). */
  read(id: number, length: number): Float32Array {
    if (this.data.byteLength < 4 * length) this.data = new SharedArrayBuffer(4 * length);
    this.call({ op: 'read', id, length, data: this.data });
    return new Float32Array(this.data, 0, length).slice();
  }
}

/**
 * A device value held by the server, by id: what the backend's device-resident storage keeps for a kernel output
 * (it behaves as a GL texture does: read back with `toArray()`, freed with `delete()`, shared with `clone()`).
 */
export class RemoteValue implements GpuTexture {
  /** Output size of the kernel that made it. */
  readonly output: readonly number[];
  private deleted = false;

  constructor(
    private readonly link: Link,
    private readonly ids: { next: number },
    /** The server's id of the value. */
    readonly id: number,
    private readonly length: number,
  ) {
    this.output = [length];
  }

  /** The values, read back from the server (blocks until it answers). */
  toArray(): Float32Array {
    if (this.deleted) throw new GpuBackendError(`device value ${this.id} was freed`);
    return this.link.read(this.id, this.length);
  }

  /** Frees the value on the server (once; nothing after the connection closed). */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    if (!this.link.closed) this.link.post({ op: 'free', id: this.id });
  }

  /** A copy on the server that can be freed on its own. */
  clone(): RemoteValue {
    if (this.deleted) throw new GpuBackendError(`device value ${this.id} was freed`);
    const to = this.ids.next++;
    this.link.post({ op: 'clone', id: this.id, to });
    return new RemoteValue(this.link, this.ids, to, this.length);
  }

  /** The value as a kernel argument, checked to belong to `link` and to be alive. */
  wire(link: Link): WireArgument {
    if (link !== this.link)
      throw new GpuBackendError(`device value ${this.id} belongs to another gpu.js backend`);
    if (this.deleted) throw new GpuBackendError(`device value ${this.id} was freed`);
    return { id: this.id };
  }
}

/** A {@link KernelRunner} whose gpu.js kernels run on the device server at the other end of a {@link Link}. */
class RemoteRunner implements KernelRunner {
  private readonly kernels = new Map<string, { readonly kid: number; readonly size: number }>();
  private readonly counters = new RunnerCounters();
  private readonly ids = { next: 1 };

  constructor(
    private readonly link: Link,
    readonly mode: GpuMode,
    readonly maxLoopIterations: number,
  ) {}

  run(name: string, key: string, make: () => KernelSpec, args: readonly unknown[]): DeviceValue {
    const transfer: ArrayBuffer[] = [];
    const wire = args.map((a): WireArgument => {
      if (a instanceof RemoteValue) return a.wire(this.link);
      if (a instanceof Float32Array || a instanceof Float64Array || a instanceof Int32Array) {
        // A copy of just this view (storage may be a view of a larger buffer), moved to the server.
        const copy = a.slice();
        transfer.push(copy.buffer as ArrayBuffer);
        return copy;
      }
      throw new GpuBackendError(
        `gpu.js kernel '${name}': argument ${Object.prototype.toString.call(a)} cannot be sent`,
      );
    });
    const out = this.ids.next++;
    const cacheKey = kernelCacheKey(name, key, args);
    let k = this.kernels.get(cacheKey);
    if (k === undefined) {
      const spec = make();
      const kid = this.kernels.size + 1;
      // The first run is waited for: compile errors and the kernel class that ran come back with it.
      const answer = this.link.call(
        { op: 'run', kid, name, args: wire, out, source: spec.source, size: spec.size },
        transfer,
      );
      if (answer.kernelClass !== expectedKernelClass(this.mode)) {
        throw new GpuKernelClassError(`gpu.js device server ran '${name}' as ${answer.kernelClass}`);
      }
      k = { kid, size: spec.size };
      this.kernels.set(cacheKey, k);
    } else {
      this.link.post({ op: 'run', kid: k.kid, name, args: wire, out }, transfer);
    }
    this.counters.deviceCall(name, expectedKernelClass(this.mode));
    return new RemoteValue(this.link, this.ids, out, k.size);
  }

  share(v: DeviceValue): DeviceValue {
    return (v as RemoteValue).clone();
  }

  countFallback(name: string, reason: string): void {
    this.counters.fallbackCall(name, reason);
  }

  stats(): GpuBackendStats {
    return this.counters.snapshot(this.mode, this.kernels.size);
  }

  resetStats(): void {
    this.counters.reset();
  }

  destroy(): void {
    if (this.link.closed) return;
    try {
      this.link.call({ op: 'close' });
    } finally {
      this.link.closed = true;
    }
  }
}

/** Why this thread cannot wait for the server, or null. */
function blockingRefusal(): string | null {
  if (typeof SharedArrayBuffer !== 'function') {
    return (
      'SharedArrayBuffer is missing: in a browser, serve the page cross-origin isolated ' +
      "(headers 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp')"
    );
  }
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    return "this thread cannot block in Atomics.wait (a browser's main thread): create the backend in a worker";
  }
  return null;
}

/**
 * Creates a gpu.js backend whose kernels run on the device server at the other end of `port`
 * ({@link serveGpuDevice} on another thread), in `options.mode` (default `'webgpu'`). This is how gpu.js's WebGPU
 * kernels, which are asynchronous, serve core's synchronous kernel contract: call it in a worker (it blocks in
 * `Atomics.wait` for the server's answers, so it needs `SharedArrayBuffer`: a cross-origin-isolated page), with
 * the server on the page's main thread. The backend is a {@link GpuBackend} like {@link createGpuBackend}'s: the
 * same kernels, fallbacks, counters and device-resident storage. Rejects with a `GpuBackendError` when this thread
 * cannot block or the server's mode cannot run there.
 *
 * @example
 * ```ts
 * // worker.ts (the page calls serveGpuDevice(channel.port1) and sends channel.port2 here)
 * self.onmessage = async ({ data }) => {
 *   const gpu = await connectGpuBackend(data.gpuPort, { mode: 'webgpu' });
 *   setBackend(gpu);
 *   const probs = await softmax(model.call(x), -1).read();
 * };
 * ```
 */
export async function connectGpuBackend(
  port: PostPort,
  options: ConnectGpuBackendOptions = {},
): Promise<GpuBackend> {
  const why = blockingRefusal();
  if (why !== null) throw new GpuBackendError(`connectGpuBackend: ${why}`);
  const mode = options.mode ?? 'webgpu';
  const link = new Link(port, new SharedArrayBuffer(CONTROL_BYTES), options.timeoutMs ?? 120_000);
  link.call({ op: 'init', mode, control: link.control });
  const runner = new RemoteRunner(link, mode, options.maxLoopIterations ?? Number.POSITIVE_INFINITY);
  return backendOn(runner, options.name ?? `gpu.js:${mode}`);
}
