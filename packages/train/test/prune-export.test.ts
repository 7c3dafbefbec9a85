/**
 * A pruned ticket exported with sparse storage (@ecgnn/export's default 'auto' sparse policy, no
 * extra code): the pruned weights are stored as bitmap/index sparse tensors whose non-zero count is the
 * ticket's, the file is smaller than the same model stored dense, and @ecgnn/infer's outputs equal the pruned
 * core model's (and the densely stored file's).
 */
import { Generator, optim } from '@ecgnn/core';
import { loadModel, readModel, saveModel } from '@ecgnn/infer';
import { type BuiltinModelConfig, createModel, type EcgClassifier } from '@ecgnn/models';
import { describe, expect, test } from 'vitest';
import {
  beatPreprocessing,
  compareWithInfer,
  DataLoader,
  type Dataset,
  type DatasetPreprocessing,
  evaluate,
  exportClassifier,
  maskCounts,
  parameterCounts,
  pruneModel,
  pruneTargets,
  syntheticBeatDataset,
  Trainer,
} from '../src/index.js';

const spec = beatPreprocessing({ sampleRate: 90, length: 64, before: 23 });
let cache: Dataset | null = null;
function data(): Dataset {
  cache ??= syntheticBeatDataset({ records: 2, seconds: 30, seed: 1, preprocessing: spec });
  return cache;
}

const io = { length: 64, rrFeatures: 4, classes: 5 };
const configs: Array<[string, BuiltinModelConfig]> = [
  ['student', { kind: 'student', ...io, channels: [16, 32], kernels: [7, 5], dropout: 0 }],
  [
    'resnet-teacher',
    {
      kind: 'resnet-teacher',
      ...io,
      stemChannels: 8,
      stages: [
        { channels: 8, blocks: 1 },
        { channels: 16, blocks: 1 },
      ],
    },
  ],
];

/** Trains 2 epochs, prunes 20 % of the remaining weights 10 times (≈ 89 % pruned), trains 1 epoch more. */
function prunedModel(config: BuiltinModelConfig): EcgClassifier {
  const model = createModel(config, { generator: new Generator(2) });
  const fit = (epochs: number): void => {
    new Trainer({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }),
      train: new DataLoader(data(), { batchSize: 8, sampler: { kind: 'shuffled' }, seed: 1 }),
      epochs,
      progress: 'none',
    }).fit();
  };
  fit(2);
  const targets = pruneTargets(model);
  for (let r = 0; r < 10; r++) pruneModel(targets, 0.2);
  fit(1);
  model.eval();
  return model;
}

function exportBytes(model: EcgClassifier, sparse: boolean): Uint8Array {
  return saveModel(
    exportClassifier(model, data().preprocessing as DatasetPreprocessing, {
      classes: data().classes,
      storage: sparse ? undefined : { sparse: false },
    }),
  );
}

describe.each(configs)('sparse export of a pruned %s', (_name, config) => {
  test('pruned weights are stored sparse and infer equals the pruned core model', () => {
    const model = prunedModel(config);
    const targets = pruneTargets(model);
    const counts = maskCounts(targets);
    expect(counts.kept / counts.total).toBeLessThan(0.12);
    const sparseBytes = exportBytes(model, true);
    const denseBytes = exportBytes(model, false);
    const file = readModel(sparseBytes);
    let nnz = 0;
    for (const t of targets) {
      const entry = file.tensors.get(`${t.path}.weight`)?.entry;
      expect(entry, t.path).toBeDefined();
      expect(entry?.sparse, t.path).toBeDefined();
      nnz += entry?.sparse?.nnz ?? 0;
    }
    // Folding BatchNorm scales weights per output channel: zeros stay zeros, non-zeros stay non-zero.
    expect(nnz).toBe(counts.kept);
    expect(readModel(denseBytes).tensors.get(`${targets[0].path}.weight`)?.entry.sparse).toBeUndefined();
    expect(sparseBytes.length).toBeLessThan(denseBytes.length);
    const { nonZero, dense } = parameterCounts(model, targets);
    expect(nonZero).toBeLessThan(dense / 3);

    const ds = data();
    const core = evaluate(model, ds).predictions.probs;
    const sparse = compareWithInfer(loadModel(sparseBytes), ds, core);
    expect(sparse.agreement).toBe(1);
    expect(sparse.maxAbsProbDiff).toBeLessThan(1e-5);
    // Sparse storage is lossless: the densely stored file gives the very same outputs.
    const densified = compareWithInfer(loadModel(denseBytes), ds, core);
    expect(Array.from(densified.probs)).toEqual(Array.from(sparse.probs));
  });
});
