/**
 * Meta-learning (method 2): tasks (support/query split, sliding groups), the 95 % interval, the training loop's
 * checkpoint/resume (bit-identical to an uninterrupted run), and a SNAIL step lowering the loss of a fixed
 * episode on a seeded synthetic problem.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator } from '@ecgnn/core';
import { Snail } from '@ecgnn/models';
import { afterAll, describe, expect, it } from 'vitest';
import {
  META_SMOKE,
  MetaTaskError,
  meanCi95,
  metaOptimizer,
  parseSettings,
  runMetaLoop,
  sampleTasks,
  sampleTrainingGroups,
  snailConfigOf,
  snailStep,
  syntheticMetaSplits,
} from '../src/index.js';

const splits = syntheticMetaSplits(new Generator(1), 12, 32);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('few-shot tasks', () => {
  it('k support items per class, the rest queries, labels consistent with the set', () => {
    const tasks = sampleTasks(splits.test, { ways: 3, shots: 2 }, 2, 5, new Generator(2));
    for (const t of tasks) {
      expect(t.support.length).toBe(6);
      expect(t.queries.length).toBe(6);
      for (let c = 0; c < 3; c++) expect(t.supportLabels.filter((l) => l === c).length).toBe(2);
      // one set class per local label, shared by support and queries; no item twice
      const cls = new Map<number, number>();
      [...t.support, ...t.queries].forEach((it, i) => {
        const l = i < 6 ? t.supportLabels[i] : t.queryLabels[i - 6];
        if (!cls.has(l)) cls.set(l, splits.test.label[it]);
        expect(splits.test.label[it]).toBe(cls.get(l));
      });
      expect(new Set([...t.support, ...t.queries]).size).toBe(12);
    }
    expect(() => sampleTasks(splits.test, { ways: 9, shots: 1 }, 1, 1, new Generator(0))).toThrow(
      MetaTaskError,
    );
  });

  it('sliding groups: windows of M·k + 1 consecutive items, M·q of them; balanced groups end in a query', () => {
    const s = sampleTrainingGroups(splits.train, { ways: 3, shots: 2 }, 'sliding', 2, new Generator(3));
    expect(s.steps).toBe(7);
    expect(s.items.length / s.steps).toBe(6);
    for (let gi = 1; gi < 6; gi++) expect(s.items[gi * 7]).toBe(s.items[(gi - 1) * 7 + 1]);
    const b = sampleTrainingGroups(splits.train, { ways: 3, shots: 2 }, 'balanced', 1, new Generator(3));
    expect(b.items.length / b.steps).toBe(3);
    expect(Array.from(b.items.slice(0, 6))).toEqual(Array.from(b.items.slice(7, 13)));
  });

  it('meanCi95 is 1.96·sd/√n; settings parse as MxK', () => {
    const r = meanCi95([0, 1, 0, 1]);
    expect(r.mean).toBe(0.5);
    expect(r.ci95).toBeCloseTo((1.96 * Math.sqrt(1 / 3)) / 2, 12);
    expect(parseSettings('2x1,5x5')).toEqual([
      { ways: 2, shots: 1 },
      { ways: 5, shots: 5 },
    ]);
    expect(() => parseSettings('5-1')).toThrow(MetaTaskError);
  });
});

describe('SNAIL meta-training loop', () => {
  const s = { ...META_SMOKE, embedding: { filters: [4], embedDim: 6, dropout: 0.2 } };
  function run(steps: number, dir: string, resume: boolean) {
    const init = new Generator(7);
    const model = new Snail(snailConfigOf(s, 32), { generator: init });
    const optimizer = metaOptimizer(s, model);
    const episodes = new Generator(8);
    const r = runMetaLoop({
      name: 'snail',
      model,
      optimizer,
      steps,
      validateEvery: 4,
      checkpointDir: dir,
      resume,
      generators: { init, episodes },
      step: () => snailStep(model, optimizer, splits.train, s, episodes),
      validate: () => -Math.abs(model.out.weight.data[0]), // any deterministic score
    });
    return { model, r };
  }

  it('resuming from the checkpoint gives the uninterrupted run bit for bit', () => {
    const a = mkdtempSync(join(tmpdir(), 'meta-a-'));
    const b = mkdtempSync(join(tmpdir(), 'meta-b-'));
    dirs.push(a, b);
    const whole = run(12, a, false);
    run(8, b, false);
    const resumed = run(12, b, true);
    expect(resumed.r.history).toEqual(whole.r.history);
    const sa = whole.model.stateDict();
    const sb = resumed.model.stateDict();
    for (const k of Object.keys(sa)) expect(Array.from(sb[k].data)).toEqual(Array.from(sa[k].data));
  });

  it("update 'group' takes one optimizer step per sample group, in order; 'episode' one per episode", () => {
    for (const update of ['episode', 'group'] as const) {
      const ss = { ...s, groups: 'sliding' as const, update, settings: [{ ways: 2, shots: 2 }] };
      const model = new Snail(snailConfigOf(ss, 32), { generator: new Generator(3) });
      const optimizer = metaOptimizer(ss, model);
      const seen: number[] = [];
      const step = optimizer.step.bind(optimizer);
      optimizer.step = (closure) => {
        seen.push(model.out.weight.data[0]);
        return step(closure);
      };
      snailStep(model, optimizer, splits.train, ss, new Generator(4));
      // 2-way 2-shot sliding windows over an episode of M·(k + q) = 6 beats: M·q = 2 groups.
      expect(seen).toHaveLength(update === 'group' ? 2 : 1);
      // Group 2 starts from the parameters group 1 left.
      if (update === 'group') expect(seen[1]).not.toBe(seen[0]);
    }
  });

  it('training lowers the loss on the synthetic problem', () => {
    const c = mkdtempSync(join(tmpdir(), 'meta-c-'));
    dirs.push(c);
    const { r } = run(40, c, false);
    expect(r.history[r.history.length - 1].loss).toBeLessThan(r.history[0].loss);
  });
});
