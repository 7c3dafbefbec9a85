import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distillationLoss, Generator, optim, Parameter, Tensor } from '@ecgnn/core';
import { createModel, layerCount, parameterCount } from '@ecgnn/models';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Batch,
  DataLoader,
  distillationObjective,
  hyperparameterSearch,
  lossHardness,
  type SoftLabels,
  Trainer,
  teacherSoftLabels,
  temperedSoftmax,
} from '../src/index.js';
import { smallData } from './fixtures/small-run.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-distill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function softmax(z: number[], T = 1): number[] {
  const m = Math.max(...z.map((v) => v / T));
  const e = z.map((v) => Math.exp(v / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** A one-item batch (index 0) with label `y`. */
function batchOf(y: number, n = 1): Batch {
  return {
    inputs: [],
    label: new Tensor(
      Int32Array.from({ length: n }, () => y),
      [n],
    ),
    target: null,
    index: Int32Array.from({ length: n }, (_, i) => i),
    size: n,
  };
}

const TEACHER = [0.5, 2, -1];
const soft: SoftLabels = { logits: Float32Array.from(TEACHER), count: 1, classes: 3, teacher: 0, dataset: 0 };

describe('distillation loss', () => {
  it('patent form at T = 1 is exactly CE(y, p) + CE(z, p)', () => {
    const s = [1, 0.2, -0.3];
    const p = softmax(s);
    const z = softmax(TEACHER);
    const expected = -Math.log(p[1]) - z.reduce((a, zc, c) => a + zc * Math.log(p[c]), 0);
    const loss = distillationObjective(soft)(new Tensor(Float32Array.from(s), [1, 3]), batchOf(1));
    expect(loss.item()).toBeCloseTo(expected, 5);
  });

  it('patent form at temperature T scales the soft term by T²', () => {
    const s = [1, 0.2, -0.3];
    const T = 3;
    const pT = softmax(s, T);
    const zT = softmax(TEACHER, T);
    const expected = -Math.log(softmax(s)[2]) - T * T * zT.reduce((a, zc, c) => a + zc * Math.log(pT[c]), 0);
    const loss = distillationObjective(soft, { temperature: T })(
      new Tensor(Float32Array.from(s), [1, 3]),
      batchOf(2),
    );
    expect(loss.item()).toBeCloseTo(expected, 4);
    expect(
      Array.from(temperedSoftmax(Float32Array.from(TEACHER), 3, T)).map((v) => Number(v.toFixed(6))),
    ).toEqual(zT.map((v) => Number(Math.fround(v).toFixed(6))));
  });

  it('the Hinton form with α = ½, T = 1 has half the patent gradient', () => {
    const grad = (form: 'patent' | 'hinton'): number[] => {
      const logits = new Parameter(new Tensor(Float32Array.from([1, 0.2, -0.3]), [1, 3]));
      distillationObjective(soft, { form })(logits, batchOf(0)).backward();
      return Array.from(logits.grad?.data ?? []);
    };
    const gp = grad('patent');
    const gh = grad('hinton');
    expect(gp).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(gh[i]).toBeCloseTo(gp[i] / 2, 6);
    // And the Hinton form is core's distillationLoss on the teacher logits.
    const s = new Tensor(Float32Array.from([0.3, -1, 2]), [1, 3]);
    const ours = distillationObjective(soft, { form: 'hinton', temperature: 2, alpha: 0.7 })(
      s,
      batchOf(1),
    ).item();
    const core = distillationLoss(s, new Tensor(Float32Array.from(TEACHER), [1, 3]), batchOf(1).label, {
      temperature: 2,
      alpha: 0.7,
    }).item();
    expect(ours).toBe(core);
  });

  it('checks its options and inputs', () => {
    expect(() => distillationObjective(soft, { temperature: 0 })).toThrow(/temperature must be > 0/);
    expect(() => distillationObjective(soft, { alpha: 2 })).toThrow(/alpha must be in \[0, 1\]/);
    const f = distillationObjective(soft);
    expect(() => f(new Tensor(new Float32Array(4), [1, 4]), batchOf(0))).toThrow(/teacher's 3 classes/);
    expect(() => f(new Tensor(new Float32Array(6), [2, 3]), batchOf(0, 2))).toThrow(
      /item 1 has no soft label/,
    );
  });
});

describe('teacher → student', () => {
  const { train, validation } = smallData();
  const io = { length: 64, rrFeatures: 4, classes: 5 };
  const teacherConfig = {
    kind: 'resnet-teacher',
    ...io,
    stemChannels: 8,
    stages: [
      { channels: 8, blocks: 2 },
      { channels: 16, blocks: 2 },
    ],
  } as const;
  const studentConfig = { kind: 'student', ...io, channels: [4, 8], kernels: [5, 3] } as const;

  it('the student has fewer layers and parameters than the teacher', () => {
    expect(layerCount(studentConfig)).toBeLessThan(layerCount(teacherConfig));
    expect(parameterCount(studentConfig)).toBeLessThan(parameterCount(teacherConfig));
  });

  it('soft labels are computed once and cached per teacher and dataset', () => {
    const teacher = createModel(teacherConfig, { generator: new Generator(1) });
    let forwards = 0;
    teacher.registerForwardHook(() => {
      forwards++;
      return undefined;
    });
    const file = join(tmp, 'soft.ckpt');
    const a = teacherSoftLabels(teacher, train, { cacheFile: file, batchSize: 64 });
    const first = forwards;
    expect(first).toBeGreaterThan(0);
    expect(existsSync(file)).toBe(true);
    expect(a.logits.length).toBe(train.count * 5);
    const b = teacherSoftLabels(teacher, train, { cacheFile: file });
    expect(forwards).toBe(first); // read from the cache
    expect(b.logits).toEqual(a.logits);
    // Other weights: recomputed and the cache rewritten.
    teacher.parameters()[0].data[0] += 1;
    const c = teacherSoftLabels(teacher, train, { cacheFile: file });
    expect(forwards).toBeGreaterThan(first);
    expect(c.teacher).not.toBe(a.teacher);
    expect(readFileSync(file).length).toBeGreaterThan(0);
  });

  it('trains a teacher with hard-example batches, then distils a student', () => {
    const g = new Generator(3);
    const teacher = createModel(teacherConfig, { generator: g });
    const tLoader = new DataLoader(train, {
      batchSize: 16,
      sampler: { kind: 'hard-example', refreshEvery: 2 },
      score: lossHardness(teacher, train),
      seed: 3,
    });
    const tr = new Trainer({
      model: teacher,
      optimizer: new optim.SGD(teacher.parameters(), { lr: 0.05, momentum: 0.9 }),
      train: tLoader,
      validation,
      epochs: 2,
      progress: 'none',
    }).fit();
    expect(tr.history).toHaveLength(2);
    const soft = teacherSoftLabels(teacher, train);
    const student = createModel(studentConfig, { generator: new Generator(4) });
    const r = new Trainer({
      model: student,
      optimizer: new optim.Adam(student.parameters(), { lr: 0.01 }),
      train: new DataLoader(train, { batchSize: 16, sampler: { kind: 'shuffled' }, seed: 4 }),
      validation,
      epochs: 2,
      loss: distillationObjective(soft, { temperature: 2 }),
      monitor: 'macroF1',
      progress: 'none',
    }).fit();
    expect(r.history.every((h) => Number.isFinite(h.trainLoss))).toBe(true);
    expect(r.bestValue).not.toBeNull();
  });
});

describe('hyper-parameter search', () => {
  it('grid: every combination in order; the best by validation score; failures recorded', () => {
    const log = join(tmp, 'search.jsonl');
    const seen: string[] = [];
    const r = hyperparameterSearch({
      space: { lr: [0.1, 0.01], width: [4, 8, 16] },
      logFile: log,
      objective: ({ lr, width }, trial) => {
        seen.push(`${lr}/${width}`);
        if (trial === 5) throw new Error('diverged');
        return { score: width - lr * 100, note: trial };
      },
    });
    expect(seen).toEqual(['0.1/4', '0.1/8', '0.1/16', '0.01/4', '0.01/8', '0.01/16']);
    expect(r.best?.params).toEqual({ lr: 0.01, width: 8 }); // 0.01/16 failed
    expect(r.trials[5]).toMatchObject({ score: null, details: { error: 'diverged' } });
    expect(r.trials[1].details).toEqual({ note: 1 });
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(7);
    expect(lines.at(-1)).toEqual({ type: 'best', trial: 4 });
  });

  it('random: distinct combinations, reproducible by seed; min direction', () => {
    const run = (seed: number) =>
      hyperparameterSearch({
        space: { a: [1, 2, 3, 4], b: [10, 20, 30] },
        strategy: 'random',
        trials: 5,
        seed,
        direction: 'min',
        objective: ({ a, b }) => ({ score: a * b }),
      });
    const x = run(1);
    const keys = x.trials.map((t) => `${t.params.a}/${t.params.b}`);
    expect(new Set(keys).size).toBe(5);
    expect(run(1).trials.map((t) => t.params)).toEqual(x.trials.map((t) => t.params));
    expect(x.best?.score).toBe(Math.min(...x.trials.map((t) => t.score as number)));
    expect(
      hyperparameterSearch({
        space: { a: [1, 2] },
        strategy: 'random',
        trials: 9,
        objective: () => ({ score: 0 }),
      }).trials,
    ).toHaveLength(2);
  });
});
