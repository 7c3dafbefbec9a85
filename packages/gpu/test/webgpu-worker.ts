/**
 * The worker of webgpu-page.ts: connects a gpu.js backend in mode `webgpu` to the device server on the page's main
 * thread (the port it is sent) and runs the checks of browser-checks.ts on it, plus an `await tensor.read()` of a
 * device-held tensor. Posts
 * `{ result }` or `{ error }`.
 */
import { tensor, withBackend } from '@ecgnn/core';
import { connectGpuBackend, type GpuBackend, type PostPort } from '@ecgnn/gpu';
import {
  type CasesResult,
  type PageOptions,
  runCases,
  runTraining,
  type TrainingResult,
} from './browser-checks.js';

/** What the worker posts back. */
export interface WorkerResult extends CasesResult {
  /** The training comparison, or null with `trainingError`. */
  training: TrainingResult | null;
  trainingError: string | null;
  /** Values of `relu([1, −2, 3, −4])·2` read with `await read()` while on the device, and device values held before. */
  read: { values: number[]; heldBefore: number };
}

/** The worker scope as this file uses it (the DOM library types `self` as a window). */
const scope = self as unknown as {
  onmessage: ((e: { data: { opts: PageOptions; port: PostPort } }) => void) | null;
  postMessage(m: unknown): void;
};

async function checks(opts: PageOptions, port: PostPort): Promise<WorkerResult> {
  // One connection serves every check: disposing the backend closes the server, so the checks get a view of it
  // whose dispose() only resets the counters, and the backend is disposed once, at the end.
  const backend = await connectGpuBackend(port, { mode: 'webgpu' });
  const keep: GpuBackend = { ...backend, dispose: () => backend.resetStats() };
  const x = withBackend(backend, () =>
    tensor([1, -2, 3, -4])
      .relu()
      .mul(tensor([2, 2, 2, 2])),
  );
  const heldBefore = backend.memory().buffers;
  const read = { values: Array.from(await x.read()), heldBefore };
  const { cases, caseStats } = runCases(keep, 'webgpu', opts);
  let training: TrainingResult | null = null;
  let trainingError: string | null = null;
  try {
    training = runTraining(keep, opts);
  } catch (e) {
    trainingError = String((e as Error).stack ?? e);
  }
  backend.dispose();
  return { cases, caseStats, training, trainingError, read };
}

scope.onmessage = (e) => {
  checks(e.data.opts, e.data.port).then(
    (result) => scope.postMessage({ result }),
    (error: unknown) => scope.postMessage({ error: String((error as Error).stack ?? error) }),
  );
};
