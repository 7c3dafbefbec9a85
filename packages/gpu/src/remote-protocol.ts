/**
 * The wire protocol between a gpu.js backend on one thread (the client, remote-client.ts) and the thread that runs
 * its gpu.js kernels (the device server, remote-server.ts). It exists for gpu.js's `webgpu` mode: its kernels
 * compile asynchronously and its results are read back only through a Promise (WebGPU's `mapAsync`), while core's
 * kernel contract is synchronous. The client runs in a worker and posts kernel runs without waiting; where it
 * needs an answer (the first run of each kernel, a read of values, the handshake) it blocks in `Atomics.wait` on a
 * shared control block until the server — whose event loop is free to await WebGPU — writes the answer there.
 *
 * Messages go over one `MessagePort` (a `MessageChannel`'s, a worker's, Node's `worker_threads`'), in order; the
 * server handles them one after another, so a read sees every run posted before it.
 *
 * The control block (a `SharedArrayBuffer` made by the client, sent with `init`) is an `Int32Array` header —
 * `[0]` the sequence number of the last answered call, `[1]` its status ({@link STATUS_OK} / {@link STATUS_ERROR}),
 * `[2]` the byte length of its answer — followed by the answer as UTF-8 JSON ({@link Answer}) from byte
 * {@link ANSWER_OFFSET}. Values read back go into a second shared buffer, sent with each `read`.
 */
import type { GpuMode } from './runner.js';

/** Byte size of the control block's header (four int32 slots). */
export const ANSWER_OFFSET = 16;

/** Bytes of the control block: header plus room for an answer (error messages are cut to fit). */
export const CONTROL_BYTES = ANSWER_OFFSET + 64 * 1024;

/** Header slot: sequence number of the last answered call. */
export const SLOT_SEQ = 0;
/** Header slot: status of that answer. */
export const SLOT_STATUS = 1;
/** Header slot: byte length of the JSON answer. */
export const SLOT_LENGTH = 2;

/** Status: the call succeeded. */
export const STATUS_OK = 1;
/** Status: the call (or an earlier run that was not waited for) failed; the answer has the error. */
export const STATUS_ERROR = 2;

/** A kernel argument on the wire: a device value by id, or host values (a copy, transferred). */
export type WireArgument = { readonly id: number } | Float32Array | Float64Array | Int32Array;

/** Opens the connection: the server creates gpu.js in `mode` and answers whether it can run here. */
export interface InitMessage {
  readonly op: 'init';
  readonly seq: number;
  readonly mode: GpuMode;
  /** The control block ({@link CONTROL_BYTES} bytes). */
  readonly control: SharedArrayBuffer;
}

/**
 * Runs compiled kernel `kid` on `args` and keeps its output as device value `out`. The first run of a kernel
 * carries its `source` and `size` (the server compiles it) and a `seq`: the client waits for that answer, which
 * reports compile errors and the kernel class that ran. Later runs are not answered.
 */
export interface RunMessage {
  readonly op: 'run';
  readonly kid: number;
  /** Contract kernel name, for messages. */
  readonly name: string;
  readonly args: readonly WireArgument[];
  readonly out: number;
  readonly seq?: number;
  readonly source?: string;
  readonly size?: number;
}

/** Reads device value `id` (`length` float32 values) into `data` and answers. */
export interface ReadMessage {
  readonly op: 'read';
  readonly seq: number;
  readonly id: number;
  readonly length: number;
  readonly data: SharedArrayBuffer;
}

/** Frees device value `id`. */
export interface FreeMessage {
  readonly op: 'free';
  readonly id: number;
}

/** Makes device value `to` a copy of `id` that can be freed on its own. */
export interface CloneMessage {
  readonly op: 'clone';
  readonly id: number;
  readonly to: number;
}

/** Frees every device value and compiled kernel, answers, and stops serving. */
export interface CloseMessage {
  readonly op: 'close';
  readonly seq: number;
}

/** Any message from the client. */
export type ClientMessage =
  | InitMessage
  | RunMessage
  | ReadMessage
  | FreeMessage
  | CloneMessage
  | CloseMessage;

/** The JSON answer of a call. */
export interface Answer {
  /** gpu.js's name of the kernel class that ran (first runs). */
  readonly kernelClass?: string;
  /** What the server found about its device (init). */
  readonly device?: string;
  /** The error's class name (`GpuBackendError`, `GpuKernelClassError`, …) and message (status error). */
  readonly errorName?: string;
  readonly error?: string;
}

/** The part of a `MessagePort` (browser, worker or Node `worker_threads`) the client uses: it only posts. */
export interface PostPort {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
}

/**
 * A message listener as ports declare theirs (DOM: `(this: MessagePort, ev: MessageEvent) => any`); written as a
 * method so that its parameter is compared bivariantly and a DOM port fits.
 */
export type MessageListener = {
  listener(event: { readonly data: unknown }): void;
}['listener'];

/**
 * The part of a `MessagePort` the device server uses: a browser `MessagePort` or worker scope, or Node's
 * `worker_threads` `MessagePort` (which has `onmessage` at run time, though its typings omit it).
 */
export interface PortLike extends PostPort {
  onmessage: MessageListener | null;
  close?(): void;
}
