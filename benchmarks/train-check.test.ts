/**
 * The correctness check of the benchmark's training cases (benchmarks/peers/train.ts): the float32 ecgnn-wasm
 * steps agree with the float64 reference, and the check fails on a wrong forward pass (batchnorm in evaluation
 * mode) or a 1 % error in a single parameter's change. The module tree handed to PyTorch covers every layer of
 * both models. (The engines themselves, PyTorch included where installed, run in bench-smoke.test.ts.)
 */
import { setBackend } from '@ecgnn/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  coreTrainer,
  moduleSpec,
  TRAIN,
  trainCheckError,
  trainModel,
  trainReference,
} from './peers/train.js';

describe('benchmark training cases: first-step check', () => {
  const batch = 8;
  setBackend('wasm');
  afterAll(() => {
    setBackend('cpu');
  });

  it('ecgnn-wasm float32 steps match the float64 reference; wrong steps do not', () => {
    const ref = trainReference('train-step', batch);
    expect(ref.length).toBe(TRAIN.checkSteps + 11); // 2 losses + 11 parameter tensors
    const got = coreTrainer('train-step', batch, trainModel('train-step')).checkVector(TRAIN.checkSteps);
    expect(trainCheckError(got, ref)).toBeLessThan(TRAIN.tolerance);

    // Batchnorm on running statistics instead of the batch's: a different forward pass.
    const evalMode = trainModel('train-step').eval();
    const wrong = coreTrainer('train-step', batch, evalMode).checkVector(TRAIN.checkSteps);
    expect(trainCheckError(wrong, ref)).toBeGreaterThan(TRAIN.tolerance);

    // One parameter tensor's change off by 1 % (e.g. a gradient term lost in one layer).
    const oneOff = Float64Array.from(got);
    oneOff[TRAIN.checkSteps + 3] *= 1.01;
    expect(trainCheckError(oneOff, ref)).toBeGreaterThan(TRAIN.tolerance);
    expect(trainCheckError(got.subarray(1), ref)).toBe(Number.POSITIVE_INFINITY);
  });

  it('the teacher has 98,857 parameters and a module tree PyTorch can rebuild', () => {
    const teacher = trainModel('train-step-teacher');
    expect(teacher.numParameters()).toBe(98_857);
    const types = new Set<string>();
    const walk = (s: unknown): void => {
      if (Array.isArray(s)) s.forEach(walk);
      else if (s !== null && typeof s === 'object') {
        const t = (s as { type?: unknown }).type;
        if (typeof t === 'string') types.add(t);
        Object.values(s).forEach(walk);
      }
    };
    walk(moduleSpec(teacher));
    walk(moduleSpec(trainModel('train-step')));
    expect([...types].sort()).toEqual(
      [
        'BatchNorm1d',
        'Conv1d',
        'Dropout',
        'GlobalAvgPool1d',
        'Linear',
        'MaxPool1d',
        'PooledClassifier',
        'ReLU',
        'Residual',
        'Sequential',
      ].sort(),
    );
  });
});
