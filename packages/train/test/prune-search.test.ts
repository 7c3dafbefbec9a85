/**
 * The goal-driven lottery-ticket search (src/prune-search.ts): the stop returns the last ticket that met the
 * goal (with and without the half-fraction retry), rewinding inside the search, resuming between rounds after
 * a kill to the uninterrupted search's tickets, the random-reinitialisation control — on a small seeded
 * problem (synthetic beats, a tiny student CNN, the real Trainer) and, for the stopping logic, with a metric
 * that is a known function of the remaining weights.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, type nn, optim, type Tensor } from '@ecgnn/core';
import { createModel, type EcgClassifier } from '@ecgnn/models';
import { afterAll, describe, expect, test } from 'vitest';
import {
  beatPreprocessing,
  DataLoader,
  type Dataset,
  evaluate,
  type LotteryTicketResult,
  lotteryTicketSearch,
  maskCounts,
  pruneTargets,
  type RoundRecord,
  type RoundTraining,
  randomReinitControl,
  syntheticBeatDataset,
  Trainer,
} from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-lth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const spec = beatPreprocessing({ sampleRate: 90, length: 64, before: 23 });
let cache: { train: Dataset; validation: Dataset } | null = null;
function data(): { train: Dataset; validation: Dataset } {
  cache ??= {
    train: syntheticBeatDataset({ records: 2, seconds: 30, seed: 1, preprocessing: spec }),
    validation: syntheticBeatDataset({ records: 1, seconds: 20, seed: 50, preprocessing: spec }),
  };
  return cache;
}

function student(seed = 3): EcgClassifier {
  return createModel(
    { kind: 'student', length: 64, rrFeatures: 4, classes: 5, channels: [6, 8], kernels: [5, 3], dropout: 0 },
    { generator: new Generator(seed) },
  );
}

const arr = (t: Tensor): number[] => Array.from(t.data, (v) => v + 0);

/** Remaining share of the prunable weights. */
function share(model: nn.AnyModule): number {
  const c = maskCounts(pruneTargets(model));
  return c.kept / c.total;
}

/** A search whose metric is 1 while more than `cut` of the weights remain, else 0.5 (no training). */
function stepSearch(cut: number, retries: number, goal = 0.99): LotteryTicketResult {
  const model = student();
  return lotteryTicketSearch({
    model,
    train: () => undefined,
    score: (m) => (share(m) > cut ? 1 : 0.5),
    retries,
    goal,
  });
}

const labels = (rs: RoundRecord[]): string[] => rs.map((r) => r.label);

describe('goal-driven stop', () => {
  test('without retries: stops at the first round that breaks the goal and returns the one before', () => {
    // 0.8^r of the weights remain (up to rounding): 0.8, 0.64, 0.512, 0.41, 0.328, 0.262 < 0.3 at round 6.
    const r = stepSearch(0.3, 0);
    expect(labels(r.rounds)).toEqual(['dense', ...[1, 2, 3, 4, 5, 6].map((i) => `round-${i}`)]);
    expect(r.stopReason).toBe('goal-broken');
    expect(r.rounds.map((x) => x.passed)).toEqual([true, true, true, true, true, true, false]);
    expect(r.ticket.label).toBe('round-5');
    expect(r.ticket.remaining / r.ticket.prunable).toBeCloseTo(0.8 ** 5, 2);
    // The model and the masks are those of the returned ticket, not of the failed round.
    const c = maskCounts(r.targets);
    expect(c.kept).toBe(r.ticket.remaining);
    expect(Object.values(r.masks).reduce((s, m) => s + arr(m).filter((v) => v === 1).length, 0)).toBe(
      r.ticket.remaining,
    );
    expect(r.denseMetric).toBe(1);
    expect(r.threshold).toBe(0.99);
  });

  test('a retry with half the fraction that also fails returns the last passing ticket', () => {
    // Round 6 (0.262) fails; its retry prunes 10 % of round 5's 0.328 → 0.295 < 0.3, fails too.
    const r = stepSearch(0.3, 1);
    expect(labels(r.rounds).slice(-2)).toEqual(['round-6', 'round-6-retry-1']);
    expect(r.rounds.at(-1)?.fraction).toBeCloseTo(0.1, 12);
    expect(r.rounds.at(-1)?.passed).toBe(false);
    expect(r.ticket.label).toBe('round-5');
    expect(maskCounts(r.targets).kept).toBe(r.ticket.remaining);
  });

  test('a passing retry becomes the ticket and the search goes on with the smaller fraction', () => {
    // cut 0.29: round 6 (0.262) fails, retry (0.295) passes, round 7 at 10 % (0.266) fails, its retry at
    // 5 % (0.280) fails → the ticket is round 6's retry.
    const r = stepSearch(0.29, 1);
    expect(labels(r.rounds).slice(-4)).toEqual(['round-6', 'round-6-retry-1', 'round-7', 'round-7-retry-1']);
    expect(r.rounds.slice(-4).map((x) => x.passed)).toEqual([false, true, false, false]);
    expect(r.rounds.slice(-4).map((x) => x.fraction)).toEqual([0.2, 0.1, 0.1, 0.05]);
    expect(r.ticket.label).toBe('round-6-retry-1');
    expect(maskCounts(r.targets).kept).toBe(r.ticket.remaining);
  });

  test('the goal is relative to the dense metric; maxRounds and nothing-to-prune end the search', () => {
    // Metric 1 − (pruned share)/2: round 1 ≈ 0.9 ≥ 0.85, round 2 ≈ 0.82 < 0.85.
    const model = student();
    const r = lotteryTicketSearch({
      model,
      train: () => undefined,
      score: (m) => 1 - (1 - share(m)) / 2,
      goal: 0.85,
      retries: 0,
    });
    expect(r.ticket.label).toBe('round-1');
    expect(r.rounds.at(-1)?.label).toBe('round-2');
    const limited = lotteryTicketSearch({
      model: student(),
      train: () => undefined,
      score: () => 1,
      maxRounds: 3,
    });
    expect(limited.stopReason).toBe('max-rounds');
    expect(limited.ticket.label).toBe('round-3');
    const all = lotteryTicketSearch({
      model: student(),
      train: () => undefined,
      score: () => 1,
      fraction: 0.9,
    });
    expect(all.stopReason).toBe('nothing-to-prune');
    // round(0.9 · 1) = 1 weight can still go, round(0.9 · 0) = 0 cannot: it ends with nothing left.
    expect(all.ticket.remaining).toBe(0);
  });

  test('tracing past the stop prunes the last run further, records traced runs and keeps the ticket', () => {
    // cut 0.3, no retry: round 6 (0.262) breaks the goal; the trace prunes round 6's weights by 20 % per round
    // to round 9: 0.21, 0.168, 0.134 of the weights, all failing, none the ticket.
    const model = student();
    const r = lotteryTicketSearch({
      model,
      train: () => undefined,
      score: (m) => (share(m) > 0.3 ? 1 : 0.5),
      retries: 0,
      traceRounds: 9,
    });
    expect(labels(r.rounds).slice(-4)).toEqual(['round-6', 'trace-7', 'trace-8', 'trace-9']);
    expect(r.rounds.map((x) => x.traced)).toEqual([...Array(7).fill(false), true, true, true]);
    const shares = r.rounds.slice(-4).map((x) => x.remaining / x.prunable);
    for (const [i, v] of shares.entries()) expect(v).toBeCloseTo(0.8 ** (6 + i), 2);
    expect(r.stopReason).toBe('goal-broken');
    expect(r.ticket.label).toBe('round-5');
    // The model holds the ticket again, not the last traced run.
    expect(maskCounts(r.targets).kept).toBe(r.ticket.remaining);
  });

  test('a traced search resumed after a kill continues the trace from the saved round', () => {
    const dir = join(tmp, 'trace-resume');
    const opts = {
      train: () => undefined,
      score: (m: nn.AnyModule) => (share(m) > 0.3 ? 1 : 0.5),
      retries: 0,
      dir,
    };
    // The first process stops after trace-7 (traceRounds 7); the second raises the limit to 9 and resumes.
    const first = lotteryTicketSearch({ ...opts, model: student(), traceRounds: 7 });
    expect(labels(first.rounds).at(-1)).toBe('trace-7');
    const resumed = lotteryTicketSearch({ ...opts, model: student(), traceRounds: 9, resume: true });
    const whole = lotteryTicketSearch({ ...opts, model: student(), traceRounds: 9, dir: null });
    expect(labels(resumed.rounds)).toEqual(labels(whole.rounds));
    expect(resumed.rounds.map((x) => x.remaining)).toEqual(whole.rounds.map((x) => x.remaining));
    expect(resumed.reused).toBe(false);
    expect(resumed.ticket.label).toBe('round-5');
    expect(maskCounts(resumed.targets).kept).toBe(resumed.ticket.remaining);
  });

  test('bad options are ValueErrors', () => {
    const base = { train: () => undefined, score: () => 1 };
    expect(() => lotteryTicketSearch({ ...base, model: student(), fraction: 1 })).toThrow(/fraction/);
    expect(() => lotteryTicketSearch({ ...base, model: student(), goal: 1.5 })).toThrow(/goal/);
    expect(() => lotteryTicketSearch({ ...base, model: student(), rewindStep: -1 })).toThrow(/rewindStep/);
    expect(() => lotteryTicketSearch({ ...base, model: student(), retries: 0.5 })).toThrow(/retries/);
    expect(() => lotteryTicketSearch({ ...base, model: student(), traceRounds: -1 })).toThrow(/traceRounds/);
    expect(() => lotteryTicketSearch({ ...base, model: student(), resume: true })).toThrow(/dir/);
    // Late rewinding needs a dense run that reaches step k.
    expect(() => lotteryTicketSearch({ ...base, model: student(), rewindStep: 5 })).toThrow(/never reached/);
  });
});

/** Trains with SGD + momentum + weight decay, 3 epochs, fixed batch order; checkpoints in `run.dir`. */
function trainRound(
  model: EcgClassifier,
  run: RoundTraining,
  seen?: string[],
): { epochs: number; steps: number } {
  seen?.push(run.label);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 });
  const trainer = new Trainer({
    model,
    optimizer,
    train: new DataLoader(data().train, { batchSize: 8, sampler: { kind: 'shuffled' }, seed: 4 }),
    validation: data().validation,
    monitor: 'macroF1',
    epochs: 3,
    checkpointDir: run.dir,
    progress: 'none',
    callbacks: run.callbacks,
  });
  const resuming = run.resume && run.dir !== null && existsSync(join(run.dir, 'last.ckpt'));
  const r = resuming ? trainer.resume() : trainer.fit();
  return { epochs: r.history.length, steps: r.steps };
}

const macroF1 = (m: EcgClassifier): number => evaluate(m, data().validation).metrics?.macroF1 ?? 0;

describe('search with training', () => {
  test('each round rewinds the survivors to the step-k weights before retraining', () => {
    const model = student(4);
    const rewound: number[][] = [];
    const r = lotteryTicketSearch({
      model,
      rewindStep: 3,
      maxRounds: 2,
      train: (m, run) => {
        if (run.round > 0) rewound.push(arr(m.stateDict()['features.4.weightOrig']));
        return trainRound(m, run);
      },
      score: () => 1,
    });
    expect(r.rewindStep).toBe(3);
    const k = arr(r.rewindState['features.4.weightOrig']);
    // Every pruning round starts from the step-3 weights (all of them: pruned ones are masked, not zeroed).
    expect(rewound).toEqual([k, k]);
    expect(arr(r.rewindState['features.4.weightMask']).every((v) => v === 1)).toBe(true);
  });

  test('resumes between rounds after a kill to the uninterrupted search', () => {
    const opts = { fraction: 0.3, goal: 0.9, maxRounds: 4, retries: 1, rewindStep: 2 };
    const fullModel = student();
    const full = lotteryTicketSearch({
      ...opts,
      model: fullModel,
      train: (m, run) => trainRound(m, run),
      score: macroF1,
    });
    const dir = join(tmp, 'resume');
    const killAt = full.rounds[2].label;
    const first: string[] = [];
    expect(() =>
      lotteryTicketSearch({
        ...opts,
        model: student(),
        dir,
        train: (m, run) => {
          if (run.label === killAt) throw new Error('killed');
          return trainRound(m, run, first);
        },
        score: macroF1,
      }),
    ).toThrow('killed');
    expect(first).toEqual(full.rounds.slice(0, 2).map((x) => x.label));
    expect(existsSync(join(dir, 'lth.ckpt'))).toBe(true);
    const second: string[] = [];
    const model = student(11); // other initial weights: everything must come from the checkpoints
    const resumed = lotteryTicketSearch({
      ...opts,
      model,
      dir,
      resume: true,
      train: (m, run) => trainRound(m, run, second),
      score: macroF1,
    });
    expect(second[0]).toBe(killAt);
    expect(second).not.toContain('dense');
    const strip = (rs: RoundRecord[]) => rs.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(resumed.rounds)).toEqual(strip(full.rounds));
    expect(resumed.ticket.label).toBe(full.ticket.label);
    // The same ticket, bit for bit: trained weights, masks, BatchNorm statistics, head.
    const a = model.stateDict();
    const b = fullModel.stateDict();
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const key of Object.keys(b)) expect(arr(a[key]), key).toEqual(arr(b[key]));
    // A finished search is reused without training.
    const third: string[] = [];
    const again = lotteryTicketSearch({
      ...opts,
      model: student(),
      dir,
      resume: true,
      train: (m, run) => trainRound(m, run, third),
      score: macroF1,
    });
    expect(third).toEqual([]);
    expect(again.reused).toBe(true);
    // Other settings do not resume this search.
    expect(() =>
      lotteryTicketSearch({
        ...opts,
        fraction: 0.5,
        model: student(),
        dir,
        resume: true,
        train: () => undefined,
        score: macroF1,
      }),
    ).toThrow(/fraction/);
  });

  test('a dense run killed after the late-rewinding step resumes with the stored rewind point', () => {
    const opts = { rewindStep: 3, maxRounds: 1, score: macroF1 };
    const full = lotteryTicketSearch({ ...opts, model: student(), train: (m, run) => trainRound(m, run) });
    const dir = join(tmp, 'dense-kill');
    // The first attempt trains 5 steps (past step 3, with checkpoints every epoch end only: none yet) and dies.
    expect(() =>
      lotteryTicketSearch({
        ...opts,
        model: student(),
        dir,
        train: (m, run) => {
          const killed = new Trainer({
            model: m,
            optimizer: new optim.SGD(m.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }),
            train: new DataLoader(data().train, { batchSize: 8, sampler: { kind: 'shuffled' }, seed: 4 }),
            epochs: 3,
            maxSteps: 5,
            progress: 'none',
            callbacks: run.callbacks,
          });
          killed.fit();
          throw new Error('killed');
        },
      }),
    ).toThrow('killed');
    expect(existsSync(join(dir, 'rewind.ckpt'))).toBe(true);
    // Resumed on a model with other initial weights: the rewind point must come from rewind.ckpt.
    const resumed = lotteryTicketSearch({
      ...opts,
      model: student(12),
      dir,
      resume: true,
      train: (m, run) => trainRound(m, run),
    });
    for (const key of Object.keys(full.rewindState))
      expect(arr(resumed.rewindState[key]), key).toEqual(arr(full.rewindState[key]));
  });

  test('the random-reinitialisation control trains the ticket mask on fresh weights', () => {
    const ticket = lotteryTicketSearch({
      model: student(),
      maxRounds: 2,
      train: (m, run) => trainRound(m, run),
      score: macroF1,
    });
    const control = student(99);
    const before = arr((pruneTargets(control)[0].module as nn.Conv1d).weight);
    const labelsSeen: string[] = [];
    const c = randomReinitControl({
      model: control,
      masks: ticket.masks,
      train: (m, run) => trainRound(m, run, labelsSeen),
      score: macroF1,
    });
    expect(labelsSeen).toEqual(['control']);
    expect(c.params).toBe(ticket.ticket.params);
    expect(c.compression).toBeCloseTo(ticket.ticket.compression, 12);
    expect(maskCounts(pruneTargets(control)).kept).toBe(ticket.ticket.remaining);
    expect(c.metric).toBeCloseTo(macroF1(control), 12);
    // Fresh weights, not the ticket's.
    expect(before).not.toEqual(arr(ticket.rewindState['features.0.weightOrig']));
  });
});
