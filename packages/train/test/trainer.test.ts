import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { abs, add, crossEntropy, mul, optim, sqrt, sum, type Tensor } from '@ecgnn/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AugmentSpec,
  type Batch,
  loadCheckpoint,
  ProgressReporter,
  TrainingDivergedError,
} from '../src/index.js';
import { smallData, smallRun, weightsOf } from './fixtures/small-run.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-trainer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const newDir = (): string => join(tmp, `run${dirs++}`);

function logRecords(dir: string): Array<Record<string, unknown>> {
  return readFileSync(join(dir, 'train.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('Trainer', () => {
  it('trains, validates each epoch, keeps the best epoch, logs JSON lines and writes checkpoints', () => {
    const dir = newDir();
    const { trainer, model } = smallRun(dir);
    const before = weightsOf(model);
    const r = trainer.fit();
    expect(r.history).toHaveLength(3);
    expect(r.steps).toBe(18);
    expect(r.stopReason).toBe('completed');
    expect(r.history[2].trainLoss).toBeLessThan(r.history[0].trainLoss);
    const best = r.history.find((h) => h.best && h.epoch === r.bestEpoch);
    expect(best?.monitor).toBe(r.bestValue);
    for (const h of r.history) expect(h.monitor).toBeLessThanOrEqual(r.bestValue as number);
    // Each record's seconds: time since training started, increasing, never past the run's total.
    const secs = r.history.map((h) => h.seconds);
    for (let e = 1; e < secs.length; e++) expect(secs[e]).toBeGreaterThanOrEqual(secs[e - 1]);
    expect(secs[secs.length - 1]).toBeLessThanOrEqual(r.seconds + 1e-9);
    expect(weightsOf(model)).not.toEqual(before);
    const recs = logRecords(dir);
    expect(recs[0]).toMatchObject({
      type: 'start',
      epochs: 3,
      batchesPerEpoch: 6,
      monitor: 'macroF1',
      mode: 'max',
    });
    expect(recs.filter((x) => x.type === 'step')).toHaveLength(18);
    expect(recs.filter((x) => x.type === 'epoch')).toHaveLength(3);
    expect(recs.at(-1)).toMatchObject({ type: 'stop', reason: 'completed', step: 18 });
    expect(loadCheckpoint(join(dir, 'last.ckpt')).progress).toEqual({ epoch: 3, batch: 0, step: 18 });
    // The model ends with the best epoch's weights, which best.ckpt holds.
    const bestCk = loadCheckpoint(join(dir, 'best.ckpt'));
    const sd = model.stateDict();
    for (const [k, t] of Object.entries(bestCk.model.state))
      expect(Array.from(t.data)).toEqual(Array.from(sd[k].data));
  });

  it('is deterministic for a seed', () => {
    const a = smallRun(null);
    a.trainer.fit();
    const b = smallRun(null);
    b.trainer.fit();
    const c = smallRun(null, { seed: 8 });
    c.trainer.fit();
    expect(weightsOf(b.model)).toEqual(weightsOf(a.model));
    expect(weightsOf(c.model)).not.toEqual(weightsOf(a.model));
  });

  it('resumes from a mid-epoch checkpoint to bit-identical weights (in process)', () => {
    const full = smallRun(null);
    const fullResult = full.trainer.fit();
    const dir = newDir();
    const cut = smallRun(dir, { maxSteps: 8 }); // stops at epoch 2, batch 2
    expect(cut.trainer.fit().stopReason).toBe('max-steps');
    expect(loadCheckpoint(join(dir, 'last.ckpt')).progress).toEqual({ epoch: 1, batch: 2, step: 8 });
    const again = smallRun(dir);
    const r = again.trainer.resume();
    expect(weightsOf(again.model)).toEqual(weightsOf(full.model));
    expect(r.history.map((h) => h.trainLoss)).toEqual(fullResult.history.map((h) => h.trainLoss));
    expect(r.bestEpoch).toBe(fullResult.bestEpoch);
    expect(logRecords(dir).some((x) => x.type === 'resume' && x.step === 8)).toBe(true);
  });

  it('resumes an augmented run mid-epoch to bit-identical weights; the augmentation changes them', () => {
    const augment = {
      steps: [
        { kind: 'shift', max: 6 },
        { kind: 'scale', min: 0.8, max: 1.2 },
        { kind: 'noise', std: 0.05, p: 0.5 },
      ],
    } as const satisfies AugmentSpec;
    const full = smallRun(null, { augment });
    full.trainer.fit();
    const plain = smallRun(null);
    plain.trainer.fit();
    expect(weightsOf(full.model)).not.toEqual(weightsOf(plain.model));
    const dir = newDir();
    smallRun(dir, { augment, maxSteps: 9 }).trainer.fit(); // epoch 2, batch 3
    expect(loadCheckpoint(join(dir, 'last.ckpt')).progress).toEqual({ epoch: 1, batch: 3, step: 9 });
    const again = smallRun(dir, { augment });
    again.trainer.resume();
    expect(weightsOf(again.model)).toEqual(weightsOf(full.model));
  });

  it('resumes the hard-example sampler mid-epoch too', () => {
    const sampler = { kind: 'hard-example', refreshEvery: 2 } as const;
    const full = smallRun(null, { sampler });
    full.trainer.fit();
    const dir = newDir();
    const perEpoch = Math.ceil(smallData().train.count / 8);
    const cut = smallRun(dir, { sampler, maxSteps: perEpoch + 3 }); // epoch 2, batch 3
    cut.trainer.fit();
    const ck = loadCheckpoint(join(dir, 'last.ckpt'));
    expect(ck.progress).toEqual({ epoch: 1, batch: 3, step: perEpoch + 3 });
    expect(ck.sampler?.state?.scores?.length).toBe(smallData().train.count);
    const again = smallRun(dir, { sampler });
    again.trainer.resume();
    expect(weightsOf(again.model)).toEqual(weightsOf(full.model));
  });

  it('stops early on a plateau (patience, min-delta)', () => {
    // lr 0: only the BatchNorm running statistics move, so the validation loss never improves by min-delta.
    const run = smallRun(null, {
      epochs: 10,
      monitor: 'loss',
      earlyStopping: { patience: 2, minDelta: 10 },
      scheduler: null,
      optimizer: (p) => new optim.SGD(p, { lr: 0 }),
    });
    const r = run.trainer.fit();
    expect(r.stopReason).toBe('early-stopping');
    expect(r.history).toHaveLength(3);
    expect(r.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
  });

  it('clips gradients: max-norm 0 leaves SGD weights unchanged', () => {
    const run = smallRun(null, {
      epochs: 1,
      scheduler: null,
      gradClip: { maxNorm: 0 },
      optimizer: (p) => new optim.SGD(p, { lr: 0.5 }),
    });
    const params = () => run.model.parameters().flatMap((p) => Array.from(p.data));
    const before = params();
    run.trainer.fit();
    expect(params()).toEqual(before);
  });

  it('steps the LR schedule per batch', () => {
    const run = smallRun(null, { epochs: 2 });
    run.trainer.fit();
    // Cosine over 2 × 6 steps from 0.02 to 0.002, stepped 12 times.
    expect(run.optimizer.paramGroups[0].lr).toBeCloseTo(run.scheduler.lrAt(12)[0], 12);
    expect(run.scheduler.lastEpoch).toBe(12);
  });

  it('stops on a NaN loss naming the step, keeping the last good checkpoint', () => {
    const dir = newDir();
    let calls = 0;
    const loss = (logits: Tensor, batch: Batch): Tensor => {
      calls++;
      const ce = crossEntropy(logits, batch.label);
      return calls === 4 ? mul(ce, Number.NaN) : ce;
    };
    const { trainer } = smallRun(dir, { loss });
    expect(() => trainer.fit()).toThrow(TrainingDivergedError);
    const ck = loadCheckpoint(join(dir, 'last.ckpt'));
    expect(ck.progress.step).toBe(3);
    const rec = logRecords(dir).find((x) => x.type === 'diverged');
    expect(rec?.message).toMatch(/training diverged at step 4 \(epoch 1, batch 4\): the loss is NaN/);
  });

  it('stops on a non-finite gradient naming the parameter', () => {
    // sqrt(|β|) of a BatchNorm shift that starts at 0: value 0, gradient ∞·0 = NaN.
    let beta: Tensor | null = null;
    const loss = (logits: Tensor, batch: Batch): Tensor =>
      add(crossEntropy(logits, batch.label), mul(sum(sqrt(abs(beta as Tensor))), 0));
    const run = smallRun(null, { loss });
    beta = [...run.model.namedParameters()].find(([n]) => n === 'features.1.bias')?.[1] ?? null;
    expect(beta).not.toBeNull();
    expect(() => run.trainer.fit()).toThrow(
      /step 1 \(epoch 1, batch 1\): the gradient of 'features\.1\.bias' has NaN/,
    );
  });
});

describe('ProgressReporter', () => {
  it('draws a bar on a terminal and plain lines elsewhere', () => {
    let t = 0;
    const tty = {
      out: '',
      isTTY: true,
      columns: 100,
      write(s: string) {
        this.out += s;
      },
    };
    const bar = new ProgressReporter(tty, 'auto', () => t);
    bar.startEpoch(1, 2, 4);
    for (let b = 1; b <= 4; b++) {
      t += 500;
      bar.update(b, 8, 1 / b);
    }
    bar.line('done');
    expect(tty.out).toContain('\r[');
    expect(tty.out).toMatch(/epoch 1\/2 4\/4 loss 0\.2500 16 items\/s ETA 00:00/);
    expect(tty.out.endsWith('done\n')).toBe(true);
    const file = {
      out: '',
      write(s: string) {
        this.out += s;
      },
    };
    const lines = new ProgressReporter(file, 'auto', () => t);
    lines.startEpoch(1, 1, 20);
    for (let b = 1; b <= 20; b++) lines.update(b, 1, 0.5);
    expect(file.out.split('\n').filter(Boolean)).toHaveLength(9); // every 2 batches, not at the last
    expect(file.out).not.toContain('\r');
  });
});

const haveTsx = existsSync(join(root, 'node_modules', 'tsx'));

describe.skipIf(!haveTsx)('kill and resume', () => {
  it('a run SIGKILLed mid-epoch resumes to the weights of an uninterrupted run', async () => {
    const reference = smallRun(null);
    reference.trainer.fit();
    const dir = newDir();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@ecgnn/source',
        join(here, 'fixtures', 'resume-child.ts'),
        dir,
        '20',
        '9',
        '1000',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // Kill it once the log shows step 9 (epoch 2 of 3, batch 3 of 6); from there it sleeps 1 s per step.
    const deadline = Date.now() + 60_000;
    let killedAt = -1;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 15));
      const log = join(dir, 'train.jsonl');
      if (!existsSync(log)) continue;
      const steps = logRecords(dir).filter((x) => x.type === 'step');
      if (steps.length > 0 && (steps.at(-1)?.step as number) >= 9) {
        child.kill('SIGKILL');
        killedAt = steps.at(-1)?.step as number;
        break;
      }
    }
    await exited;
    expect(killedAt, `child did not reach step 9: ${stderr}`).toBeGreaterThanOrEqual(9);
    const ck = loadCheckpoint(join(dir, 'last.ckpt'));
    expect(ck.progress.step).toBeLessThan(18);
    expect(ck.progress.batch, 'the checkpoint resumed from is mid-epoch').toBeGreaterThan(0);
    const resumed = smallRun(dir);
    resumed.trainer.resume();
    expect(weightsOf(resumed.model)).toEqual(weightsOf(reference.model));
  });
});
