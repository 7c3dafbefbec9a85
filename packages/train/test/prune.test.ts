/**
 * Model pruning for the lottery-ticket method (src/prune.ts) on a small seeded problem: targets, pruning
 * fractions (global and per layer), masked weights through Adam and SGD with momentum and weight decay,
 * parameter counts, rewinding to the initial weights and to step k.
 */
import { Generator, nn, optim, type Tensor } from '@ecgnn/core';
import { createModel, type EcgClassifier } from '@ecgnn/models';
import { describe, expect, test } from 'vitest';
import {
  applyMasks,
  beatPreprocessing,
  DataLoader,
  type Dataset,
  defaultLoss,
  forwardBatch,
  maskCounts,
  parameterCounts,
  preparePruning,
  pruneModel,
  pruneTargets,
  rewindCapture,
  syntheticBeatDataset,
  Trainer,
  ticketMasks,
  weightLayerPaths,
} from '../src/index.js';

const spec = beatPreprocessing({ sampleRate: 90, length: 64, before: 23 });
let data: Dataset | null = null;
function train(): Dataset {
  data ??= syntheticBeatDataset({ records: 2, seconds: 30, seed: 1, preprocessing: spec });
  return data;
}

function student(seed = 3): EcgClassifier {
  return createModel(
    { kind: 'student', length: 64, rrFeatures: 4, classes: 5, channels: [6, 8], kernels: [5, 3], dropout: 0 },
    { generator: new Generator(seed) },
  );
}

/** `+ 0` maps −0 (w · 0 with w < 0) to 0. */
const arr = (t: Tensor): number[] => Array.from(t.data, (v) => v + 0);

/** Effective weights and masks of every target. */
function effective(model: nn.AnyModule): Array<{ w: number[]; mask: number[] }> {
  return pruneTargets(model).map((t) => ({
    w: arr((t.module as nn.Conv1d).weight),
    mask: arr(t.module.getBuffer('weightMask') as Tensor),
  }));
}

function steps(model: nn.AnyModule, opt: optim.Optimizer<optim.BaseOptions>, n: number, seed: number): void {
  const loader = new DataLoader(train(), { batchSize: 8, sampler: { kind: 'shuffled' }, seed });
  model.train();
  let done = 0;
  for (let epoch = 0; done < n; epoch++) {
    for (const batch of loader.epoch(epoch)) {
      if (done >= n) break;
      opt.zeroGrad();
      defaultLoss(forwardBatch(model, batch), batch).backward();
      opt.step();
      done++;
    }
  }
}

describe('pruneTargets', () => {
  test('every conv and linear weight, the output layer excluded by default', () => {
    const m = student();
    const layers = weightLayerPaths(m);
    expect(layers).toEqual(['features.0', 'features.4', 'head']);
    expect(pruneTargets(m).map((t) => t.path)).toEqual(['features.0', 'features.4']);
    expect(pruneTargets(m, { excludeOutput: false }).map((t) => t.path)).toEqual(layers);
    expect(pruneTargets(m, { exclude: ['features.0'] }).map((t) => t.path)).toEqual(['features.4']);
    expect(pruneTargets(m).map((t) => t.size)).toEqual([6 * 1 * 5, 8 * 6 * 3]);
    expect(() => pruneTargets(m, { exclude: ['features.1'] })).toThrow(/features\.1.*not a Conv1d/);
    expect(() => pruneTargets(m, { exclude: ['features.0', 'features.4'] })).toThrow(/nothing to prune/);
  });
});

describe('pruneModel', () => {
  test('global rounds remove round(p · remaining) of the smallest magnitudes over all layers', () => {
    const m = student();
    const targets = pruneTargets(m);
    const total = targets.reduce((s, t) => s + t.size, 0);
    let kept = total;
    for (const p of [0.2, 0.2, 0.5]) {
      const c = pruneModel(targets, p, 'global');
      kept -= Math.round(p * kept);
      expect(c.kept).toBe(kept);
      expect(c.total).toBe(total);
    }
    // Global threshold: every pruned |w| ≤ every kept |w| (weights ranked by their values, all layers).
    const all = pruneTargets(m).flatMap((t) => {
      const orig = t.module.getParameter('weightOrig') as Tensor;
      const mask = t.module.getBuffer('weightMask') as Tensor;
      return Array.from(orig.data, (v, i) => ({ a: Math.abs(v), keep: mask.data[i] === 1 }));
    });
    const maxPruned = Math.max(...all.filter((x) => !x.keep).map((x) => x.a));
    const minKept = Math.min(...all.filter((x) => x.keep).map((x) => x.a));
    expect(maxPruned).toBeLessThanOrEqual(minKept);
    // Layers are pruned unevenly under a global threshold.
    const shares = maskCounts(targets).layers.map((l) => l.kept / l.total);
    expect(shares[0]).not.toBeCloseTo(shares[1], 3);
  });

  test('per-layer rounds remove round(p · remaining) of each layer', () => {
    const m = student();
    const targets = pruneTargets(m);
    const expected = targets.map((t) => t.size);
    for (const p of [0.2, 0.3]) {
      const c = pruneModel(targets, p, 'layer');
      expected.forEach((k, i) => {
        expected[i] = k - Math.round(p * k);
      });
      expect(c.layers.map((l) => l.kept)).toEqual(expected);
    }
    for (const t of targets) {
      const orig = t.module.getParameter('weightOrig') as Tensor;
      const mask = t.module.getBuffer('weightMask') as Tensor;
      const pruned = Array.from(orig.data, Math.abs).filter((_, i) => mask.data[i] === 0);
      const kept = Array.from(orig.data, Math.abs).filter((_, i) => mask.data[i] === 1);
      expect(Math.max(...pruned)).toBeLessThanOrEqual(Math.min(...kept));
    }
  });

  test('bad fractions and scopes are ValueErrors', () => {
    const targets = pruneTargets(student());
    for (const p of [0, 1, -0.1, Number.NaN]) expect(() => pruneModel(targets, p)).toThrow(/fraction/);
    expect(() => pruneModel(targets, 0.2, 'row' as never)).toThrow(/scope/);
  });

  test('preparePruning changes no output and fixes the state-dict keys', () => {
    const m = student();
    const x = train();
    const loader = new DataLoader(x, { batchSize: 16 });
    const batch = loader.epoch(0).next().value;
    if (!batch) throw new Error('no batch');
    m.eval();
    const before = arr(forwardBatch(m, batch));
    preparePruning(pruneTargets(m));
    expect(arr(forwardBatch(m, batch))).toEqual(before);
    expect(Object.keys(m.stateDict())).toContain('features.0.weightMask');
    expect(Object.keys(m.stateDict())).toContain('head.weight');
  });
});

describe('masked weights through optimizer steps', () => {
  const makers: Array<[string, (p: nn.Parameter[]) => optim.Optimizer<optim.BaseOptions>]> = [
    ['Adam with weight decay', (p) => new optim.Adam(p, { lr: 0.01, weightDecay: 0.05 })],
    ['AdamW', (p) => new optim.AdamW(p, { lr: 0.01, weightDecay: 0.05 })],
    [
      'SGD with momentum and weight decay',
      (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, weightDecay: 0.05 }),
    ],
  ];
  test.each(makers)('%s: pruned weights stay exactly 0, the others train', (_name, make) => {
    const m = student();
    const opt = make(m.parameters());
    // Dense steps first, so momentum / Adam moments are non-zero where weights are then pruned.
    steps(m, opt, 5, 1);
    const targets = pruneTargets(m);
    pruneModel(targets, 0.6);
    const before = effective(m);
    steps(m, opt, 12, 2);
    const after = effective(m);
    let moved = 0;
    after.forEach((layer, l) => {
      expect(layer.mask).toEqual(before[l].mask);
      layer.w.forEach((v, i) => {
        if (layer.mask[i] === 0) expect(v).toBe(0);
        else if (v !== before[l].w[i]) moved++;
      });
    });
    expect(moved).toBeGreaterThan(0);
    // The orig values under the mask did move (weight decay, momentum): only the mask keeps them out.
    const orig = targets[1].module.getParameter('weightOrig') as Tensor;
    const zeroed = after[1].mask.map((k, i) => (k === 0 ? orig.data[i] : 0)).filter((v) => v !== 0);
    expect(zeroed.length).toBeGreaterThan(0);
  });
});

describe('parameter counts and masks', () => {
  test('compression = dense parameters / non-zero parameters', () => {
    const m = student();
    const targets = pruneTargets(m);
    const dense = m.numParameters();
    expect(parameterCounts(m, targets)).toEqual({ dense, nonZero: dense, compression: 1 });
    const c = pruneModel(targets, 0.5);
    const pruned = c.total - c.kept;
    const p = parameterCounts(m, targets);
    expect(p.dense).toBe(dense);
    expect(p.nonZero).toBe(dense - pruned);
    expect(p.compression).toBeCloseTo(dense / (dense - pruned), 12);
  });

  test('ticketMasks / applyMasks carry a sparsity pattern to a freshly initialised model', () => {
    const a = student(3);
    pruneModel(pruneTargets(a), 0.7);
    const masks = ticketMasks(pruneTargets(a));
    const b = student(9);
    const tb = pruneTargets(b);
    applyMasks(tb, masks);
    expect(maskCounts(tb)).toEqual(maskCounts(pruneTargets(a)));
    for (const t of tb) expect(arr(t.module.getBuffer('weightMask') as Tensor)).toEqual(arr(masks[t.path]));
    expect(() => applyMasks(tb, { ...masks, nope: masks['features.0'] })).toThrow(/nope/);
    const { 'features.0': _drop, ...partial } = masks;
    expect(() => applyMasks(pruneTargets(student(1)), partial)).toThrow(/features\.0/);
  });
});

describe('rewinding', () => {
  test('to the initial weights: survivors get their initial values, masks stay, everything else is initial', () => {
    const m = student();
    const targets = pruneTargets(m);
    preparePruning(targets);
    const init = m.stateDict();
    steps(m, new optim.SGD(m.parameters(), { lr: 0.05, momentum: 0.9 }), 8, 1);
    pruneModel(targets, 0.5);
    const masks = ticketMasks(targets);
    nn.prune.rewind(m, init);
    const sd = m.stateDict();
    for (const [k, t] of Object.entries(init)) {
      if (k.endsWith('weightMask')) expect(arr(sd[k])).toEqual(arr(masks[k.slice(0, -'.weightMask'.length)]));
      else expect(arr(sd[k]), k).toEqual(arr(t));
    }
    // Effective weights: initial values where kept, 0 where pruned.
    for (const t of targets) {
      const w = arr((t.module as nn.Conv1d).weight);
      const w0 = arr(init[`${t.path}.weightOrig`]);
      const mask = arr(masks[t.path]);
      expect(w).toEqual(w0.map((v, i) => (mask[i] === 1 ? v : 0) + 0));
    }
  });

  test('late rewinding: the state captured at step k equals a run stopped after k steps', () => {
    const k = 4;
    const run = (maxSteps?: number): { model: EcgClassifier; captured: nn.StateDict | null } => {
      const model = student(5);
      preparePruning(pruneTargets(model));
      let captured: nn.StateDict | null = null;
      const trainer = new Trainer({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }),
        train: new DataLoader(train(), { batchSize: 8, sampler: { kind: 'shuffled' }, seed: 2 }),
        epochs: 2,
        maxSteps,
        progress: 'none',
        callbacks: maxSteps === undefined ? [rewindCapture(model, k, (sd) => (captured = sd))] : [],
      });
      trainer.fit();
      return { model, captured };
    };
    const full = run();
    const stopped = run(k);
    expect(full.captured).not.toBeNull();
    const cap = full.captured as nn.StateDict;
    const ref = stopped.model.stateDict();
    for (const key of Object.keys(ref)) expect(arr(cap[key]), key).toEqual(arr(ref[key]));
    // …and differs from the end of the run.
    expect(arr(cap['features.0.weightOrig'])).not.toEqual(
      arr(full.model.stateDict()['features.0.weightOrig']),
    );
    expect(() => rewindCapture(full.model, 0, () => undefined)).toThrow(/step/);
  });
});
