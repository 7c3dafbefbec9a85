/**
 * The binary-network experiment's parts without the data: the trained model of @ecgnn/models (`kind: 'bnn'`)
 * exported by `exportBnn` and run by @ecgnn/infer gives core's predictions; the LR + sharpness schedule and its
 * checkpoint state; the per-class thinning of the smoke subset; a few training steps on synthetic fragments
 * that learn and resume bit for bit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, nn, noGrad, optim, randn, Tensor, ValueError } from '@ecgnn/core';
import { loadModel, saveModel } from '@ecgnn/infer';
import { type BinaryEcgNet, createModel } from '@ecgnn/models';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BNN_RUN_DEFAULTS,
  BnnSchedule,
  type BnnSettings,
  bnnSettings,
  bnnVariantConfig,
  compareWithInfer,
  type Dataset,
  evaluate,
  everyNthOfClass,
  exportBnn,
  fragmentPreprocessing,
  sharpnessAt,
  trainBnn,
} from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-bnn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Synthetic fragments: class k is a sine of frequency 1 + 2k Hz plus noise, z-scored by construction. */
function sines(count: number, length: number, classes: number, seed: number): Dataset {
  const g = new Generator(seed);
  const data = new Float32Array(count * length);
  const label = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const k = i % classes;
    label[i] = k;
    const phase = 2 * Math.PI * g.random();
    for (let t = 0; t < length; t++) {
      data[i * length + t] =
        Math.SQRT2 * Math.sin((2 * Math.PI * (1 + 2 * k) * t) / 360 + phase) + 0.2 * g.normal();
    }
  }
  return {
    count,
    inputs: [{ name: 'window', shape: [1, length], data }],
    label,
    classes: Array.from({ length: classes }, (_, k) => `c${k}`),
    group: new Array<string>(count).fill('synthetic'),
    preprocessing: fragmentPreprocessing({ length }),
    description: 'synthetic sines',
  };
}

/** Trained-looking BatchNorm statistics and positive PReLU slopes (foldable epilogues). */
function calibrate(m: BinaryEcgNet, x: Tensor, g: Generator): void {
  m.eval();
  let v = x;
  noGrad(() => {
    for (const mod of m.features.children()) {
      if (mod instanceof nn.PReLU)
        for (let c = 0; c < mod.numSlopes; c++) mod.weight.data[c] = 0.05 + 0.4 * g.random();
      if (mod instanceof nn.BatchNorm1d) {
        const [N, C, L] = v.shape;
        for (let c = 0; c < C; c++) {
          let s = 0;
          let s2 = 0;
          for (let n = 0; n < N; n++)
            for (let t = 0; t < L; t++) {
              const y = v.data[(n * C + c) * L + t];
              s += y;
              s2 += y * y;
            }
          const mean = s / (N * L);
          (mod.runningMean as Tensor).data[c] = mean;
          (mod.runningVar as Tensor).data[c] = Math.max(1e-3, s2 / (N * L) - mean * mean);
          (mod.weight as Tensor).data[c] = (g.random() < 0.3 ? -1 : 1) * (0.5 + g.random());
          (mod.bias as Tensor).data[c] = 0.3 * g.normal();
        }
      }
      v = mod.call(v) as Tensor;
    }
  });
}

describe('exportBnn', () => {
  it.each(['binary', 'float'] as const)(
    '%s: @ecgnn/infer predicts what core predicts on every fragment',
    (variant) => {
      const g = new Generator(variant === 'binary' ? 1 : 2);
      const ds = sines(60, 3600, 17, 3);
      const m = createModel(bnnVariantConfig(variant, 17, 3600, BNN_RUN_DEFAULTS), {
        generator: g,
      }) as BinaryEcgNet;
      calibrate(m, new Tensor(ds.inputs[0].data.slice(0, 8 * 3600), [8, 1, 3600]), g);
      const ev = evaluate(m, ds);
      const spec = exportBnn(m, ds.preprocessing as ReturnType<typeof fragmentPreprocessing>, {
        classes: ds.classes,
      });
      expect(spec.graph.nodes.at(-1)?.op).toBe('sumOverTime');
      const binaryNodes = spec.graph.nodes.filter((n) => n.op === 'binaryConv1d').length;
      expect(binaryNodes).toBe(variant === 'binary' ? 5 : 0);
      const loaded = loadModel(saveModel(spec));
      const cmp = compareWithInfer(loaded, ds, ev.predictions.probs);
      expect(cmp.disagreements).toBe(0);
      expect(cmp.maxAbsProbDiff).toBeLessThan(1e-3);
      // Not a degenerate comparison: several classes are predicted.
      expect(new Set(cmp.pred).size).toBeGreaterThan(2);
    },
  );

  it('refuses a model whose input length differs from the preprocessing', () => {
    const m = createModel({ kind: 'bnn', classes: 3, length: 720 }) as BinaryEcgNet;
    expect(() => exportBnn(m, fragmentPreprocessing(), { classes: ['a', 'b', 'c'] })).toThrow(/720/);
    const ok = createModel({ kind: 'bnn', classes: 3 }) as BinaryEcgNet;
    expect(() => exportBnn(ok, fragmentPreprocessing(), { classes: ['a', 'b'] })).toThrow(/class names/);
  });
});

describe('schedule', () => {
  const settings: BnnSettings = { ...BNN_RUN_DEFAULTS, epochs: 5, estimator: 'triangular', lr: 0.1 };

  it('sharpness rises geometrically from `from` to `to`', () => {
    expect(sharpnessAt(0, 5, { from: 1, to: 16 })).toBe(1);
    expect(sharpnessAt(2, 5, { from: 1, to: 16 })).toBeCloseTo(4, 12);
    expect(sharpnessAt(4, 5, { from: 1, to: 16 })).toBeCloseTo(16, 12);
    expect(sharpnessAt(0, 1, { from: 2, to: 16 })).toBe(2);
  });

  it('sets lr and sharpness each epoch, and restores both from its state', () => {
    const m = createModel({ kind: 'bnn', classes: 3, length: 720, estimator: 'triangular' });
    const opt = new optim.Adam(m.parameters(), { lr: settings.lr });
    const s = new BnnSchedule(opt, m, settings);
    const quantizer = (m as BinaryEcgNet).features.children().next().value as nn.BinaryConv1d;
    expect(quantizer.weightQuantizer?.sharpness).toBe(1);
    s.step();
    s.step();
    const lr2 = opt.paramGroups[0].lr;
    expect(lr2).toBeCloseTo(0.1 * 0.01 + ((0.1 - 0.001) * (1 + Math.cos((Math.PI * 2) / 5))) / 2, 12);
    expect(quantizer.weightQuantizer?.sharpness).toBeCloseTo(sharpnessAt(2, 5, settings.sharpness), 12);
    const state = JSON.parse(JSON.stringify(s.stateDict()));
    const m2 = createModel({ kind: 'bnn', classes: 3, length: 720, estimator: 'triangular' });
    const opt2 = new optim.Adam(m2.parameters(), { lr: settings.lr });
    const s2 = new BnnSchedule(opt2, m2, settings);
    s2.loadStateDict(state);
    expect(opt2.paramGroups[0].lr).toBe(lr2);
    expect(s2.sharpness).toBe(s.sharpness);
    // The clipped estimator has no sharpness to set.
    expect(new BnnSchedule(opt, m, { ...settings, estimator: 'clipped' }).sharpness).toBeNull();
  });

  it('bnnSettings: smoke picks the smoke settings, epochs override both', () => {
    expect(bnnSettings({ smoke: true }).every).toBe(2);
    expect(bnnSettings({ epochs: 7 }).epochs).toBe(7);
    expect(bnnSettings({ settings: { epochs: 9 } }).epochs).toBe(9);
  });
});

describe('everyNthOfClass', () => {
  it('keeps items 0, k, 2k, … of each class in order', () => {
    expect([...everyNthOfClass([0, 1, 0, 1, 0, 2, 0], 2)]).toEqual([0, 1, 4, 5]);
    expect([...everyNthOfClass([3, 3, 3], 1)]).toEqual([0, 1, 2]);
    expect(() => everyNthOfClass([0], 0)).toThrow(/every/);
  });
});

describe('trainBnn', () => {
  const settings: BnnSettings = { ...BNN_RUN_DEFAULTS, epochs: 3, batchSize: 16, estimator: 'triangular' };
  const train = sines(96, 720, 3, 11);
  const validation = sines(30, 720, 3, 12);
  const config = { ...bnnVariantConfig('binary', 3, 720, settings) };
  const ctx = { resume: false, progress: 'none' as const, log: () => {} };

  it('learns separable synthetic fragments and keeps the best validation epoch', () => {
    const r = trainBnn(
      { name: 'b', config, seed: 0, dir: join(tmp, 'fit') },
      { train, validation },
      settings,
      ctx,
    );
    expect(r.result.history).toHaveLength(3);
    expect(r.validation.metrics?.accuracy).toBe(r.result.bestValue);
    expect(r.validation.metrics?.accuracy).toBeGreaterThan(0.6);
  });

  it('resume reloads a finished run: the same kept weights', () => {
    const dir = join(tmp, 'resume');
    const full = trainBnn({ name: 'b', config, seed: 1, dir }, { train, validation }, settings, ctx);
    const again = trainBnn({ name: 'b', config, seed: 1, dir }, { train, validation }, settings, {
      ...ctx,
      resume: true,
    });
    expect(again.reused).toBe(true);
    const x = randn([2, 1, 720], { generator: new Generator(4) });
    noGrad(() => expect([...again.model.call(x).data]).toEqual([...full.model.call(x).data]));
    // Other latency settings only time the export: the run is still reloaded.
    const timed = { ...settings, latency: { perRun: 1, runs: 1 } };
    expect(
      trainBnn({ name: 'b', config, seed: 1, dir }, { train, validation }, timed, { ...ctx, resume: true })
        .reused,
    ).toBe(true);
    // Settings that change the weights refuse the reload, naming what differs, instead of reusing the run.
    const augmented = { ...settings, augment: { steps: [{ kind: 'noise' as const, std: 0.1 }] } };
    const resumeWith = (s: BnnSettings, seed = 1) =>
      trainBnn({ name: 'b', config, seed, dir }, { train, validation }, s, { ...ctx, resume: true });
    expect(() => resumeWith(augmented)).toThrow(ValueError);
    expect(() => resumeWith(augmented)).toThrow(
      /other settings \(settings: .*"augment":null.* there, .*"noise".* now\)/,
    );
    expect(() => resumeWith(settings, 2)).toThrow(/seed: 1 there, 2 now/);
    // Without resume the directory is simply started over.
    expect(trainBnn({ name: 'b', config, seed: 1, dir }, { train, validation }, augmented, ctx).reused).toBe(
      false,
    );
    expect(resumeWith(augmented).reused).toBe(true);
  });
});
