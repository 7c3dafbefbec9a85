/**
 * Method 4 (multi-scale attention network) in @ecgnn/train: both networks exported to @ecgnn/infer (depthwise
 * convolutions, squeeze-excitation, concatenations, sigmoid outputs) agree with core's evaluation-mode output on
 * windows of a synthetic multi-label dataset; the experiment's helpers (balanced positive weights, infer/core
 * comparison, trivial baselines, multi-label MIT-BIH windows when the data is present).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Generator, noGrad, randn, sigmoid, type Tensor } from '@ecgnn/core';
import { DS1, databaseDir } from '@ecgnn/data';
import { loadModel, saveModel } from '@ecgnn/infer';
import { createModel, type EcgClassifier, type ModelConfig } from '@ecgnn/models';
import { describe, expect, it } from 'vitest';
import {
  balancedPosWeight,
  compareProbabilities,
  DataLoader,
  type Dataset,
  exportClassifier,
  forwardBatch,
  fragmentPreprocessing,
  inferInputs,
  loadMultiLabelWindows,
  MULTILABEL_LABELS,
  MULTISCALE_RUN_DEFAULTS,
  MULTISCALE_WIDTHS,
  multiScaleNetworkConfig,
  trivialBaseline,
} from '../src/index.js';

const L = 240;
const LABELS = ['a', 'b', 'c'];
const spec = fragmentPreprocessing({ sampleRate: 24, length: L });

/** A small multi-label dataset of random windows (seeded) with targets from a fixed rule. */
function randomWindows(n: number, seed: number): Dataset {
  const window = randn([n, 1, L], { generator: new Generator(seed) }).data as Float32Array;
  const targets = new Float32Array(n * LABELS.length);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < LABELS.length; j++) targets[i * 3 + j] = (i + j) % (j + 2) === 0 ? 1 : 0;
  return {
    count: n,
    inputs: [{ name: 'window', shape: [1, L], data: window }],
    label: new Int32Array(n),
    classes: ['window'],
    group: new Array<string>(n).fill('synthetic'),
    targets,
    targetNames: [...LABELS],
    preprocessing: spec,
    description: `${n} random windows (seed ${seed})`,
  };
}

/** A model with non-trivial BatchNorm running statistics (training-mode passes, no updates). */
function warmed(config: ModelConfig, ds: Dataset): EcgClassifier {
  const model = createModel(config, { generator: new Generator(11) });
  model.train();
  const loader = new DataLoader(ds, { batchSize: 8, sampler: { kind: 'shuffled' }, seed: 1 });
  noGrad(() => {
    for (const batch of loader.epoch(0)) forwardBatch(model, batch);
  });
  model.eval();
  return model;
}

describe('multi-scale export to @ecgnn/infer', () => {
  const ds = randomWindows(24, 5);
  for (const network of ['lamscn', 'mobilenet'] as const) {
    it(`${network}: sigmoid outputs equal core's eval-mode sigmoid(logits) on every window`, () => {
      // The experiment's own widths, on short windows.
      const config = multiScaleNetworkConfig(network, L, LABELS.length, MULTISCALE_RUN_DEFAULTS);
      const model = warmed(config, ds);
      const bytes = saveModel(
        exportClassifier(model, spec, { classes: LABELS, outputActivation: 'sigmoid' }),
      );
      const loaded = loadModel(bytes);
      expect(loaded.metadata.outputActivation).toBe('sigmoid');
      if (network === 'lamscn') {
        expect(loaded.metadata.plan).toEqual(expect.arrayContaining(['squeezeExcitation', 'concat']));
      }
      const core = noGrad(() => {
        const z = model.call(forwardInput(ds)) as Tensor;
        return sigmoid(z).data as Float32Array;
      });
      const got = loaded.predict(inferInputs(ds));
      expect(got.length).toBe(core.length);
      const cmp = compareProbabilities(got, core, LABELS.length, [0.5, 0.5, 0.5]);
      expect(cmp.maxAbsProbDiff).toBeLessThan(1e-5);
      expect(cmp.disagreements).toBe(0);
      // Outputs vary across windows (not a constant network).
      expect(Math.max(...got) - Math.min(...got)).toBeGreaterThan(1e-3);
    });
  }

  it('the experiment widths: the multi-scale network has fewer parameters than the baseline', () => {
    const a = createModel(multiScaleNetworkConfig('lamscn', 1200, 10, MULTISCALE_RUN_DEFAULTS));
    const b = createModel(multiScaleNetworkConfig('mobilenet', 1200, 10, MULTISCALE_RUN_DEFAULTS));
    expect(a.numParameters()).toBeLessThan(b.numParameters());
    expect(MULTISCALE_WIDTHS.lamscn.stemPool).toBe(MULTISCALE_WIDTHS.mobilenet.stemPool);
  });
});

/** The dataset's windows as one core tensor `[n, 1, L]`. */
function forwardInput(ds: Dataset): Tensor {
  const loader = new DataLoader(ds, { batchSize: ds.count, sampler: { kind: 'sequential' } });
  const [batch] = [...loader.epoch(0)];
  return batch.inputs[0];
}

describe('multi-scale experiment helpers', () => {
  it('balancedPosWeight: N⁻/N⁺ per label, capped, 1 without positives', () => {
    const ds = randomWindows(12, 1);
    // Label a: (i + 0) % 2 === 0 → 6 of 12; b: (i + 1) % 3 === 0 → 4; c: (i + 2) % 4 === 0 → 3.
    expect([...balancedPosWeight(ds, 10)]).toEqual([1, 2, 3]);
    expect([...balancedPosWeight(ds, 2.5)]).toEqual([1, 2, 2.5]);
    const none = { ...ds, targets: new Float32Array(ds.targets?.length ?? 0) };
    expect([...balancedPosWeight(none, 10)]).toEqual([1, 1, 1]);
  });

  it('compareProbabilities: largest difference, argmax or thresholded-set disagreements', () => {
    const core = [0.1, 0.6, 0.3, 0.7, 0.2, 0.1];
    const infer = [0.1, 0.4, 0.5, 0.7, 0.2, 0.1];
    const arg = compareProbabilities(infer, core, 3, null);
    expect(arg.disagreements).toBe(1);
    expect(arg.maxAbsProbDiff).toBeCloseTo(0.2, 6);
    expect(compareProbabilities(infer, core, 3, [0.5, 0.5, 0.5]).disagreements).toBe(1);
    expect(compareProbabilities(infer, core, 3, [0.5, 0.3, 0.6]).disagreements).toBe(0);
    expect(() => compareProbabilities([0.1], core, 3, null)).toThrow(/probabilities/);
  });

  it('trivialBaseline: every label present (multi-label), most frequent class (single-label)', () => {
    const ds = randomWindows(12, 2);
    const b = trivialBaseline(ds, ds);
    // F1 of always-present = 2p/(1+p): p = 1/2, 1/3, 1/4.
    expect(b.macroF1).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 5) / 3, 6);
    const single: Dataset = {
      ...ds,
      targets: undefined,
      targetNames: undefined,
      classes: ['x', 'y'],
      label: Int32Array.from([0, 1, 1, 1]),
      count: 4,
    };
    const s = trivialBaseline(single, single);
    expect(s.rule).toMatch(/always y/);
    expect(s.accuracy).toBe(0.75);
  });

  const mitdb = existsSync(join(databaseDir('mitdb'), '201.hea'));
  it.skipIf(!mitdb)('loadMultiLabelWindows: 10-s windows of a record, targets from beats and rhythms', () => {
    expect(DS1).toContain('201');
    const ds = loadMultiLabelWindows(['201'], { sampleRate: 120, every: 4 });
    expect(ds.inputs[0].shape).toEqual([1, 1200]);
    expect(ds.targetNames).toEqual([...MULTILABEL_LABELS]);
    // Record 201 (30 min 5 s): 180 windows, every 4th kept.
    expect(ds.count).toBe(45);
    const col = (name: string): number[] => {
      const j = MULTILABEL_LABELS.indexOf(name);
      return Array.from(
        { length: ds.count },
        (_, i) => (ds.targets as Float32Array)[i * MULTILABEL_LABELS.length + j],
      );
    };
    // 201 has atrial fibrillation episodes and normal sinus rhythm, N beats throughout, no paced beats.
    expect(col('(AFIB').some((v) => v === 1)).toBe(true);
    expect(col('(N').some((v) => v === 1)).toBe(true);
    expect(col('N').filter((v) => v === 1).length).toBeGreaterThan(40);
    // z-scored windows
    const w = ds.inputs[0].data.subarray(0, 1200);
    const mean = w.reduce((a, b) => a + b, 0) / 1200;
    expect(Math.abs(mean)).toBeLessThan(1e-3);
  });
});
