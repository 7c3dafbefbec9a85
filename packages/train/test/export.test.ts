import { Generator, noGrad, Tensor } from '@ecgnn/core';
import { ExportError } from '@ecgnn/export';
import { loadModel, saveModel } from '@ecgnn/infer';
import { type BuiltinModelConfig, createModel, type EcgClassifier } from '@ecgnn/models';
import { describe, expect, it } from 'vitest';
import {
  beatPreprocessing,
  compareWithInfer,
  DataLoader,
  type Dataset,
  evaluate,
  exportClassifier,
  forwardBatch,
  inferLatency,
  syntheticBeatDataset,
  timePredict,
} from '../src/index.js';

const spec = beatPreprocessing({ sampleRate: 90, length: 64, before: 23 });
const data = syntheticBeatDataset({ records: 1, seconds: 20, seed: 3, preprocessing: spec });
const io = { length: 64, rrFeatures: 4, classes: 5 };

/** A model with non-trivial BatchNorm running statistics (a few training-mode passes, no updates). */
function warmed(config: BuiltinModelConfig, ds: Dataset = data): EcgClassifier {
  const model = createModel(config, { generator: new Generator(11) });
  model.train();
  const loader = new DataLoader(ds, { batchSize: 16, sampler: { kind: 'shuffled' }, seed: 1 });
  noGrad(() => {
    for (const batch of loader.epoch(0)) forwardBatch(model, batch);
  });
  model.eval();
  return model;
}

describe('exportClassifier', () => {
  const configs: BuiltinModelConfig[] = [
    {
      kind: 'resnet-teacher',
      ...io,
      stemChannels: 4,
      stages: [
        { channels: 4, blocks: 1 },
        { channels: 8, blocks: 1 },
      ],
    },
    { kind: 'student', ...io, channels: [4, 8], kernels: [5, 3] },
    { kind: 'student', ...io, channels: [4, 8], kernels: [5, 3], separable: true },
    { kind: 'beatnet', ...io, channels: [4, 8], kernels: [5, 3] },
  ];
  for (const config of configs) {
    it(`${config.kind}${(config as { separable?: boolean }).separable ? ' (separable)' : ''}: infer agrees with core`, () => {
      const model = warmed(config);
      const exported = exportClassifier(model, spec, {
        classes: data.classes,
        name: 'x',
        provenance: { seed: 11 },
      });
      const loaded = loadModel(saveModel(exported));
      const core = evaluate(model, data).predictions.probs;
      const cmp = compareWithInfer(loaded, data, core);
      expect(cmp.agreement).toBe(1);
      expect(cmp.maxAbsProbDiff).toBeLessThan(1e-5);
      expect(loaded.inputs.map((i) => [i.name, i.shape])).toEqual([
        ['window', [1, 64]],
        ['rr', [4]],
      ]);
      expect(loaded.inputs[1].source).toEqual({ kind: 'rr', features: spec.rr?.features, localHalfWidth: 5 });
      expect(loaded.metadata.input).toEqual({ channels: 1, length: 64, sampleRate: 90 });
      expect(loaded.metadata.windowing).toEqual({ mode: 'beat', before: 23 });
      expect(loaded.metadata.preprocessing).toMatchObject({ normalize: 'zscore', removeBaseline: false });
      const prov = loaded.metadata.provenance as Record<string, unknown>;
      expect(prov.model).toEqual(model.config);
      expect(prov.seed).toBe(11);
    });
  }

  it('a waveform-only model exports with one input', () => {
    const noRr = beatPreprocessing({ sampleRate: 90, length: 64, before: 23, rr: null });
    const ds = syntheticBeatDataset({ records: 1, seconds: 10, seed: 4, preprocessing: noRr });
    const model = warmed({ kind: 'student', ...io, rrFeatures: 0, channels: [4], kernels: [5] }, ds);
    const loaded = loadModel(saveModel(exportClassifier(model, noRr, { classes: ds.classes })));
    expect(loaded.inputs.map((i) => i.name)).toEqual(['window']);
    expect(compareWithInfer(loaded, ds, evaluate(model, ds).predictions.probs).agreement).toBe(1);
  });

  it('refuses models whose inputs or classes differ from the preprocessing, and foreign modules', () => {
    const model = warmed({ kind: 'student', ...io, channels: [4], kernels: [5] });
    const noRr = beatPreprocessing({ sampleRate: 90, length: 64, before: 23, rr: null });
    expect(() => exportClassifier(model, noRr, { classes: data.classes })).toThrow(/4 RR features/);
    const longer = beatPreprocessing({ sampleRate: 90, length: 80, before: 23 });
    expect(() => exportClassifier(model, longer, { classes: data.classes })).toThrow(ExportError);
    expect(() => exportClassifier(model, spec, { classes: ['N', 'V'] })).toThrow(/2 class names/);
    const foreign = { constructor: { name: 'Foreign' } } as unknown as EcgClassifier;
    expect(() => exportClassifier(foreign, spec, { classes: data.classes })).toThrow(
      /not a PooledClassifier/,
    );
  });
});

describe('compareWithInfer and inferLatency', () => {
  const model = warmed({ kind: 'student', ...io, channels: [4], kernels: [5] });
  const loaded = loadModel(saveModel(exportClassifier(model, spec, { classes: data.classes })));
  const core = evaluate(model, data).predictions.probs;

  it('counts the items whose argmax differs from the given core probabilities', () => {
    const changed = core.slice();
    const K = 5;
    // Move the maximum of items 0, 3 and 5 to another class.
    for (const i of [0, 3, 5]) {
      const row = changed.subarray(i * K, (i + 1) * K);
      const arg = row.indexOf(Math.max(...row));
      row[(arg + 1) % K] = 2;
    }
    const cmp = compareWithInfer(loaded, data, changed);
    expect(cmp.disagreements).toBe(3);
    expect(cmp.agreement).toBeCloseTo(1 - 3 / data.count, 12);
    expect(cmp.maxAbsProbDiff).toBeGreaterThan(1);
    expect(() => compareWithInfer(loaded, data, core.subarray(5))).toThrow(/core probabilities/);
  });

  it('times batch-1 predictions', () => {
    const lat = inferLatency(loaded, data, { perRun: 5, runs: 3 });
    expect(lat.msPerItem).toBeGreaterThan(0);
    expect(lat.method).toMatch(/median of 3 runs of 5/);
    expect(() => inferLatency(loaded, data, { perRun: 0 })).toThrow(/perRun/);
  });

  it('timePredict: batches of synthetic inputs for every graph input, the median run per call and per item', () => {
    const t = timePredict(loaded, { batch: 4, runs: 5, minRunMs: 2, warmupMs: 5 });
    expect(loaded.inputs).toHaveLength(2);
    expect(t).toMatchObject({ batch: 4, runs: 5 });
    expect(t.msPerCall).toBeGreaterThan(0);
    expect(t.msPerItem).toBeCloseTo(t.msPerCall / 4, 12);
    expect(t.itemsPerSecond).toBeCloseTo(4000 / t.msPerCall, 6);
    expect(t.p10).toBeLessThanOrEqual(t.msPerCall);
    expect(t.p90).toBeGreaterThanOrEqual(t.msPerCall);
    expect(t.warmupCalls).toBeGreaterThanOrEqual(5);
    expect(t.callsPerRun).toBeGreaterThanOrEqual(1);
    expect(() => timePredict(loaded, { batch: 0 })).toThrow(/batch and runs/);
  });

  it('exported probabilities match a direct core forward of one item', () => {
    const w = data.inputs[0].data.subarray(0, 64);
    const r = data.inputs[1].data.subarray(0, 4);
    const logits = noGrad(
      () => model.call(new Tensor(w.slice(), [1, 1, 64]), new Tensor(r.slice(), [1, 4])) as Tensor,
    );
    const p = loaded.predict({ window: w, rr: r });
    const z = Array.from(logits.data);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, c) => {
      expect(p[c]).toBeCloseTo(v / s, 5);
    });
  });
});
