/**
 * The `pytorch-cpu` engine (training cases only): PyTorch's eager CPU backend, run by pytorch_train.py as a child
 * process. This process builds the case's `@ecgnn/core` model (train.ts), writes its module tree, its float32
 * initial weights and the seeded batches to a setup file, and drives the script over stdin/stdout: `check` (the
 * first steps from the initial weights, compared here with the float64 reference) and `time` (warm-up and timed
 * steps, each timed in Python with `time.perf_counter`, so no pipe latency is in the times). Threads:
 * `torch.set_num_threads(threads)` (the `pytorch-cpu@2` row), one inter-op thread.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CaseName, Engine, Prepared } from './common.js';
import { missingTorch, torchPython } from './python.js';
import {
  moduleSpec,
  TRAIN,
  TRAIN_CASES,
  type TrainCase,
  trainBatches,
  trainCheckError,
  trainInputShape,
  trainModel,
  trainReference,
} from './train.js';

const script = fileURLToPath(new URL('./pytorch_train.py', import.meta.url));

/** One pytorch_train.py process: JSON commands in, one JSON line out per command. */
class TorchSession {
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** The next answer line, parsed; throws with the script's stderr when it ended or answered an error. */
  async read(): Promise<Record<string, unknown>> {
    const next = await this.lines.next();
    if (next.done) throw new Error(`pytorch_train.py ended: ${this.stderr}`);
    const answer = JSON.parse(next.value) as Record<string, unknown>;
    if (answer.error) throw new Error(`pytorch_train.py: ${String(answer.error)}`);
    return answer;
  }

  async request(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    return this.read();
  }

  close(): void {
    this.child.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
  }
}

let version = 'torch (not started)';

/** Writes the setup file of a case and starts the script on it. */
async function startSession(name: TrainCase, batch: number, threads: number): Promise<TorchSession> {
  const python = torchPython().python;
  if (python === null) throw new Error(missingTorch() ?? 'no torch');
  const model = trainModel(name);
  const { length, rrFeatures } = trainInputShape(name);
  const setup = {
    threads,
    lr: TRAIN.lr,
    momentum: TRAIN.momentum,
    spec: moduleSpec(model),
    params: [...model.namedParameters()].map(([n, p]) => [n, p.shape, Array.from(p.data)]),
    batches: trainBatches(name, batch).map((b) => ({
      x: Array.from(b.x),
      xShape: [batch, 1, length],
      rr: b.rr === null ? null : Array.from(b.rr),
      rrShape: [batch, rrFeatures],
      y: Array.from(b.y),
    })),
  };
  const dir = mkdtempSync(join(os.tmpdir(), 'ecgnn-bench-torch-'));
  const file = join(dir, 'setup.json');
  writeFileSync(file, JSON.stringify(setup));
  const child = spawn(python, [script, file], {
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  const session = new TorchSession(child);
  try {
    const ready = await session.read();
    version = String(ready.version);
    if (ready.threads !== threads)
      throw new Error(`torch runs ${String(ready.threads)} threads, not ${threads}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return session;
}

/** The training case on PyTorch: the check and the timing both run in the Python process. */
async function torchCase(name: TrainCase, batch: number, threads: number): Promise<Prepared> {
  const session = await startSession(name, batch, threads);
  const names = [...trainModel(name).namedParameters()].map(([n]) => n);
  let last = Number.NaN;
  return {
    run: () => {
      throw new Error('pytorch-cpu times its steps in Python (timeRuns)');
    },
    output: () => [last],
    check: async () => {
      const r = (await session.request({ cmd: 'check', steps: TRAIN.checkSteps })) as {
        losses: number[];
        deltaNorms: Record<string, number>;
      };
      last = r.losses[r.losses.length - 1];
      const got = [...r.losses, ...names.map((n) => r.deltaNorms[n] ?? Number.NaN)];
      return { error: trainCheckError(got, trainReference(name, batch)), tolerance: TRAIN.tolerance };
    },
    timeRuns: async (o) => {
      const r = (await session.request({ cmd: 'time', ...o })) as { times: number[]; lastLoss: number };
      last = r.lastLoss;
      return r.times;
    },
    dispose: () => session.close(),
    note: `PyTorch eager CPU (${version}), ${threads} thread${threads > 1 ? 's' : ''} (torch.set_num_threads); the same module tree and float32 weights; zero_grad, model(x), F.cross_entropy, loss.item(), backward, torch.optim.SGD step, timed in Python`,
  };
}

/** `pytorch-cpu`: training cases only. */
export function pytorchEngine(): Engine {
  return {
    name: 'pytorch-cpu',
    version: () => version,
    supports: (c: CaseName) => (TRAIN_CASES as readonly string[]).includes(c),
    prepare: (c, batch, threads) => torchCase(c as TrainCase, batch, threads),
  };
}
