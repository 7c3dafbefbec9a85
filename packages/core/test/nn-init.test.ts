import { Generator, manualSeed, nn, zeros } from '@ecgnn/core';
import { describe, expect, test } from 'vitest';

const stats = (d: ArrayLike<number>) => {
  let s = 0;
  let s2 = 0;
  let mx = 0;
  for (let i = 0; i < d.length; i++) {
    s += d[i];
    s2 += d[i] * d[i];
    mx = Math.max(mx, Math.abs(d[i]));
  }
  const mean = s / d.length;
  return { mean, std: Math.sqrt(s2 / d.length - mean * mean), maxAbs: mx };
};

describe('initialisers', () => {
  test('same seed → identical weights; different seed → different', () => {
    const build = (seed: number) =>
      new nn.Sequential(
        new nn.Conv1d(1, 8, 7, { generator: new Generator(seed) }),
        new nn.Linear(8, 3, { generator: new Generator(seed + 1) }),
      );
    const a = build(1).stateDict();
    const b = build(1).stateDict();
    const c = build(2).stateDict();
    for (const k of Object.keys(a)) expect(Array.from(b[k].data)).toEqual(Array.from(a[k].data));
    expect(Array.from(c['0.weight'].data)).not.toEqual(Array.from(a['0.weight'].data));
    // The global default generator, reseeded by manualSeed, gives the same guarantee.
    manualSeed(42);
    const d = new nn.Linear(5, 5).stateDict();
    manualSeed(42);
    const e = new nn.Linear(5, 5).stateDict();
    expect(Array.from(e.weight.data)).toEqual(Array.from(d.weight.data));
  });

  test('PyTorch defaults: Linear/Conv1d weights and biases in U(±1/√fanIn)', () => {
    const l = new nn.Linear(16, 400, { generator: new Generator(3) });
    const bound = 1 / 4;
    const w = stats(l.weight.data);
    expect(w.maxAbs).toBeLessThanOrEqual(bound);
    // U(−b, b) has standard deviation b/√3.
    expect(Math.abs(w.std - bound / Math.sqrt(3))).toBeLessThan(0.01);
    expect(stats(l.bias!.data).maxAbs).toBeLessThanOrEqual(bound);
    const c = new nn.Conv1d(4, 64, 9, { groups: 2, generator: new Generator(4) });
    expect(stats(c.weight.data).maxAbs).toBeLessThanOrEqual(1 / Math.sqrt(2 * 9));
    expect(stats(c.weight.data).maxAbs).toBeGreaterThan(0.9 / Math.sqrt(2 * 9));
  });

  test('kaiming, xavier, constants: bounds and standard deviations follow the formulas', () => {
    const g = new Generator(5);
    const t = zeros([200, 50, 3]);
    // fanIn = 150, fanOut = 600.
    nn.init.kaimingUniform(t, { nonlinearity: 'relu', generator: g });
    const ku = stats(t.data);
    expect(ku.maxAbs).toBeLessThanOrEqual(Math.sqrt(2) * Math.sqrt(3 / 150));
    expect(Math.abs(ku.std - Math.sqrt(2 / 150))).toBeLessThan(0.003);
    nn.init.kaimingNormal(t, { nonlinearity: 'relu', mode: 'fanOut', generator: g });
    expect(Math.abs(stats(t.data).std - Math.sqrt(2 / 600))).toBeLessThan(0.002);
    nn.init.xavierUniform(t, { generator: g });
    const xu = stats(t.data);
    expect(xu.maxAbs).toBeLessThanOrEqual(Math.sqrt(6 / 750));
    expect(Math.abs(xu.std - Math.sqrt(2 / 750))).toBeLessThan(0.002);
    nn.init.xavierNormal(t, { gain: 2, generator: g });
    expect(Math.abs(stats(t.data).std - 2 * Math.sqrt(2 / 750))).toBeLessThan(0.003);
    nn.init.normal(t, 3, 0.5, { generator: g });
    expect(Math.abs(stats(t.data).mean - 3)).toBeLessThan(0.01);
    nn.init.constant(t, 0.25);
    expect(stats(t.data)).toEqual({ mean: 0.25, std: 0, maxAbs: 0.25 });
    nn.init.zeros(t);
    expect(stats(t.data).maxAbs).toBe(0);
    nn.init.ones(t);
    expect(stats(t.data).mean).toBe(1);
    expect(nn.init.calculateGain('leakyRelu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(nn.init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(() => nn.init.kaimingUniform(zeros([3]))).toThrow(/at least 2 dimensions, got \[3\]/);
  });
});
