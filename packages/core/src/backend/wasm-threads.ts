/**
 * Worker threads for the WebAssembly backend (Node): the kernel module is compiled for a shared memory, each
 * worker instantiates it on that same memory, and large `gemm` / `gemmNT` calls (matmul, conv forward and both
 * conv gradients) are split by row panels (`splitKernelCall` of `@ecgnn/kernels/wasm`): one block on the calling
 * thread, one per worker. Every output element is computed by exactly one thread with the same arithmetic as
 * the unsplit call, so results are bit-identical to one thread.
 *
 * Hand-over is a shared `Int32Array` per worker, no messages: the caller writes the arguments, bumps a sequence
 * number and `Atomics.notify`s; the worker, parked in `Atomics.wait`, runs the kernel and stores the sequence
 * back. The calling thread blocks in `Atomics.wait` for the workers (allowed in Node's main thread; core's ops
 * are synchronous). Workers are `unref`'d: they never keep the process alive.
 */
import { type ParallelRunner, splitKernelCall } from '@ecgnn/kernels/wasm';
import { ValueError } from '../errors.js';

/** Slots of a worker's control block (Int32Array over a SharedArrayBuffer). */
const SEQ = 0; // job sequence, caller → worker; −1 stops the worker
const DONE = 1; // sequence of the last finished job, worker → caller; −seq when the kernel threw
const KERNEL = 2; // 0 gemm, 1 gemmNT
const ARGS = 3; // the kernel's arguments (at most 13)
const SLOTS = ARGS + 13;
/** Polls of the shared sequence before a thread sleeps in `Atomics.wait` (about 50–100 µs of spinning). */
const SPIN = 100_000;
/** Longest wait for a worker's block before giving up with an error (a kernel block takes milliseconds). */
const WAIT_MS = 60_000;

// The worker: CommonJS (Node's eval'd workers), no imports beyond worker_threads.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(ctrl);
let seq = 0;
for (;;) {
  // Spin a little before sleeping: the next block of a layer usually follows within microseconds, and waking a
  // sleeping thread costs tens to hundreds of microseconds on a virtual machine.
  for (let i = 0; i < ${SPIN} && Atomics.load(c, ${SEQ}) === seq; i++);
  Atomics.wait(c, ${SEQ}, seq);
  const next = Atomics.load(c, ${SEQ});
  if (next < 0) break;
  seq = next;
  let done = seq;
  try {
    const a = ${ARGS};
    if (c[${KERNEL}] === 0) k.gemm(c[a], c[a+1], c[a+2], c[a+3], c[a+4], c[a+5], c[a+6], c[a+7], c[a+8], c[a+9], c[a+10], c[a+11], c[a+12]);
    else k.gemmNT(c[a], c[a+1], c[a+2], c[a+3], c[a+4], c[a+5], c[a+6], c[a+7], c[a+8], c[a+9], c[a+10]);
  } catch (e) {
    done = -seq;
  }
  Atomics.store(c, ${DONE}, done);
  Atomics.notify(c, ${DONE});
}
`;

interface WorkerLike {
  unref(): void;
  terminate(): Promise<number>;
}

interface WorkerThreadsModule {
  Worker: new (source: string, options: { eval: true; workerData: unknown }) => WorkerLike;
}

/** Node's `worker_threads`, or null where there is none (browsers, or a Node without `process.getBuiltinModule`). */
export function nodeWorkerThreads(): WorkerThreadsModule | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function' || typeof SharedArrayBuffer === 'undefined') return null;
  return (proc.getBuiltinModule('node:worker_threads') as WorkerThreadsModule | undefined) ?? null;
}

interface Slot {
  worker: WorkerLike;
  c: Int32Array;
  seq: number;
}

/** A {@link ParallelRunner} over `threads − 1` Node worker threads sharing `memory`. */
export class WorkerPool implements ParallelRunner {
  private readonly slots: Slot[] = [];

  /** Threads taking part: the caller and the running workers (1 after {@link WorkerPool.terminate}). */
  get threads(): number {
    return this.slots.length + 1;
  }

  constructor(
    wt: WorkerThreadsModule,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    threads: number,
  ) {
    for (let i = 1; i < threads; i++) {
      const ctrl = new SharedArrayBuffer(SLOTS * 4);
      const worker = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl } });
      worker.unref();
      this.slots.push({ worker, c: new Int32Array(ctrl), seq: 0 });
    }
  }

  run(kernel: 'gemm' | 'gemmNT', args: readonly number[], local: (args: readonly number[]) => void): void {
    const parts = splitKernelCall(kernel, args, this.slots.length + 1);
    for (let i = 1; i < parts.length; i++) {
      const s = this.slots[i - 1];
      const p = parts[i];
      s.c[KERNEL] = kernel === 'gemm' ? 0 : 1;
      for (let j = 0; j < p.length; j++) s.c[ARGS + j] = p[j];
      s.seq++;
      Atomics.store(s.c, SEQ, s.seq);
      Atomics.notify(s.c, SEQ);
    }
    local(parts[0]);
    for (let i = 1; i < parts.length; i++) {
      const s = this.slots[i - 1];
      const deadline = Date.now() + WAIT_MS;
      for (let k = 0; k < SPIN && Atomics.load(s.c, DONE) !== s.seq; k++);
      for (;;) {
        const done = Atomics.load(s.c, DONE);
        if (done === s.seq) break;
        if (done === -s.seq) throw new ValueError(`wasm backend: ${kernel} failed in worker thread ${i}`);
        if (Date.now() > deadline)
          throw new ValueError(`wasm backend: worker thread ${i} did not answer in ${WAIT_MS} ms`);
        Atomics.wait(s.c, DONE, done, 100);
      }
    }
  }

  /** Stops the workers (the pool cannot run afterwards). */
  terminate(): void {
    for (const s of this.slots) {
      Atomics.store(s.c, SEQ, -1);
      Atomics.notify(s.c, SEQ);
      void s.worker.terminate();
    }
    this.slots.length = 0;
  }
}
