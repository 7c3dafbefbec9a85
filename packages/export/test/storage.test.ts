/**
 * Storage options: float16 and int8 (one scale per tensor) weights within their rounding of core's output,
 * sparse storage of pruned weights (a smaller file, same output), per-tensor policies, and binary weights that
 * stay packed bits whatever the policy.
 */
import { Generator, nn } from '@ecgnn/core';
import { readModel } from '@ecgnn/infer';
import { describe, expect, test } from 'vitest';
import type { StoragePolicy } from '../src/index.js';
import { checkParity, randomizeBatchNorm } from './helpers.js';

const x = (...shape: number[]) => [{ name: 'x', shape }];

function cnn(g: Generator): nn.Sequential {
  const m = new nn.Sequential(
    new nn.Conv1d(2, 16, 7, { padding: 3, generator: g }),
    new nn.BatchNorm1d(16),
    new nn.ReLU(),
    new nn.MaxPool1d(2),
    new nn.Conv1d(16, 16, 5, { padding: 2, generator: g }),
    new nn.ReLU(),
    new nn.GlobalAvgPool1d(),
    new nn.Linear(16, 5, { generator: g }),
  );
  randomizeBatchNorm(m, g);
  return m;
}

function dtypes(bytes: Uint8Array): Record<string, string> {
  return Object.fromEntries(readModel(bytes).header.tensors.map((t) => [t.name, t.dtype]));
}

describe('storage dtypes', () => {
  test.each([
    ['float16', 2e-3],
    ['int8', 3e-2],
  ] as const)('%s weights: within the rounding of the storage', (dtype, rel) => {
    const g = new Generator(4);
    const m = cnn(g);
    const f32 = checkParity(m, x(2, 64), g).bytes;
    const { bytes } = checkParity(m, x(2, 64), g, { rel, extra: { storage: dtype } });
    const d = dtypes(bytes);
    expect(d['0.weight']).toBe(dtype);
    expect(d['7.weight']).toBe(dtype);
    expect(d['0.bias']).toBe('float32'); // parameters stay float32 unless a policy function says otherwise
    expect(bytes.length).toBeLessThan(f32.length);
    if (dtype === 'int8') {
      const t = readModel(bytes).header.tensors.find((e) => e.name === '0.weight');
      expect(t?.scale).toBeGreaterThan(0);
    }
  });

  test('a per-tensor policy function', () => {
    const g = new Generator(5);
    const policy: StoragePolicy = (t) =>
      t.name.startsWith('4.') ? 'int8' : t.role === 'param' ? 'float16' : undefined;
    const { bytes } = checkParity(cnn(g), x(2, 64), g, { rel: 3e-2, extra: { storage: policy } });
    const d = dtypes(bytes);
    expect(d['4.weight']).toBe('int8');
    expect(d['0.weight']).toBe('float32');
    expect(d['0.bias']).toBe('float16');
  });
});

describe('sparse storage of pruned weights', () => {
  test('a 90 %-pruned model writes its weights sparse: a much smaller file, the same output', () => {
    const g = new Generator(6);
    const m = cnn(g);
    const dense = checkParity(m, x(2, 64), g).bytes;
    nn.prune.globalUnstructured(
      [m.at(0), m.at(4), m.at(7)].map((mod) => [mod, 'weight'] as const),
      0.9,
    );
    const { bytes } = checkParity(m, x(2, 64), g);
    const entries = readModel(bytes).header.tensors;
    for (const name of ['0.weight', '4.weight', '7.weight']) {
      expect(entries.find((e) => e.name === name)?.sparse?.format).toMatch(/bitmap|index/);
    }
    expect(bytes.length).toBeLessThan(0.5 * dense.length);
    const forcedDense = checkParity(m, x(2, 64), g, { extra: { storage: { sparse: false } } }).bytes;
    expect(readModel(forcedDense).header.tensors.every((e) => e.sparse === undefined)).toBe(true);
    expect(forcedDense.length).toBeGreaterThan(bytes.length);
  });

  test('binary weights stay packed bits under any storage policy', () => {
    const g = new Generator(7);
    const m = new nn.Sequential(new nn.BinaryConv1d(8, 4, 3, { generator: g }), new nn.Flatten());
    const { bytes } = checkParity(m, x(8, 10), g, { rel: 0, extra: { storage: 'int8' } });
    expect(dtypes(bytes)['0.weight']).toBe('bits');
  });
});
