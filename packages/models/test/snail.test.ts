/**
 * SNAIL (method 2): causality of every block and of the whole network (changing a later step never changes an
 * earlier output), shapes and channel growth, the dense block's gated activation on fixed values, label slots,
 * config errors, and the embedding CNN's shapes.
 */
import { Generator, noGrad, randn, ShapeError, type Tensor, tensor } from '@ecgnn/core';
import { describe, expect, it } from 'vitest';
import {
  AttentionBlock,
  DenseBlock,
  EcgEmbeddingCnn,
  ModelConfigError,
  Snail,
  type SnailConfig,
  TCBlock,
  tcDepth,
} from '../src/index.js';

const CFG: SnailConfig = {
  ways: 3,
  shots: 2,
  embedding: { length: 32, filters: [4, 6], embedDim: 5, dropout: 0 },
  attention: [
    [4, 3],
    [4, 3],
    [4, 3],
  ],
  tcFilters: 2,
};

/** Changes step `t` of every sequence of `x` [N, T, C] and returns the copy. */
function perturbStep(x: Tensor, t: number): Tensor {
  const [n, T, c] = x.shape;
  const d = Float32Array.from(x.data as Float32Array);
  for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) d[(i * T + t) * c + j] += 3 + j;
  return tensor(d, [n, T, c]);
}

/** Asserts that outputs at steps < t agree and that some output at step ≥ t changed. */
function expectCausal(f: (x: Tensor) => Tensor, x: Tensor, t: number): void {
  const a = noGrad(() => f(x));
  const b = noGrad(() => f(perturbStep(x, t)));
  const [n, T, c] = a.shape;
  let changedLater = false;
  for (let i = 0; i < n; i++)
    for (let s = 0; s < T; s++)
      for (let j = 0; j < c; j++) {
        const k = (i * T + s) * c + j;
        if (s < t) expect(b.data[k]).toBe(a.data[k]);
        else if (Math.abs(b.data[k] - a.data[k]) > 1e-6) changedLater = true;
      }
  expect(changedLater).toBe(true);
}

describe('snail blocks', () => {
  const g = new Generator(3);
  const x = randn([2, 9, 5], { generator: g });

  it('DenseBlock: causal, C → C + D, and tanh(f)·σ(g) on fixed weights', () => {
    const d = new DenseBlock(5, 2, 3, { generator: g });
    expect(d.forward(x).shape).toEqual([2, 9, 8]);
    for (const t of [0, 4, 8]) expectCausal((y) => d.forward(y), x, t);
    // one channel, D = 1, dilation 1: f = w_f·[x_{t−1}, x_t] + b_f, g likewise
    const one = new DenseBlock(1, 1, 1);
    one.convF.weight.data.set([0.5, 1]);
    one.convF.bias!.data.set([0]);
    one.convG.weight.data.set([0, 2]);
    one.convG.bias!.data.set([-1]);
    const y = noGrad(() => one.forward(tensor([1, 2], [1, 2, 1])));
    const act = (f: number, gg: number): number => Math.tanh(f) / (1 + Math.exp(-gg));
    expect(y.data[0]).toBe(1);
    expect(y.data[1]).toBeCloseTo(act(1, 1), 6); // step 0 reads zero padding before it
    expect(y.data[3]).toBeCloseTo(act(0.5 + 2, 3), 6);
  });

  it('TCBlock: ⌈log₂T⌉ dense blocks with dilations 1, 2, 4, …, causal', () => {
    expect([1, 2, 3, 5, 8, 9, 26].map(tcDepth)).toEqual([1, 1, 2, 3, 3, 4, 5]);
    const tc = new TCBlock(5, 9, 2, { generator: g });
    expect([...tc.blocks.children()].map((b) => (b as DenseBlock).dilation)).toEqual([1, 2, 4, 8]);
    expect(tc.forward(x).shape).toEqual([2, 9, 5 + 4 * 2]);
    for (const t of [1, 5, 8]) expectCausal((y) => tc.forward(y), x, t);
  });

  it('AttentionBlock: causal softmax over keys, C → C + V', () => {
    const a = new AttentionBlock(5, 4, 3, { generator: g });
    expect(a.forward(x).shape).toEqual([2, 9, 8]);
    for (const t of [0, 3, 8]) expectCausal((y) => a.forward(y), x, t);
    // step 0 attends only to itself: its read is v₀ exactly
    const y = noGrad(() => a.forward(x));
    const v = noGrad(() => a.value.forward(x));
    for (let j = 0; j < 3; j++) expect(y.data[5 + j]).toBeCloseTo(v.data[j], 6);
  });

  it('rejects inputs of the wrong width with a ShapeError', () => {
    expect(() => new DenseBlock(4, 1, 2).forward(x)).toThrow(ShapeError);
    expect(() => new AttentionBlock(4, 2, 2).forward(x)).toThrow(ShapeError);
  });
});

describe('Snail', () => {
  it('the whole network is causal over the episode sequence', () => {
    const g = new Generator(5);
    const m = new Snail(CFG, { generator: g });
    m.eval();
    const T = m.maxSteps;
    expect(T).toBe(7);
    const steps = randn([2, T, CFG.embedding.embedDim + CFG.ways], { generator: g });
    expect(m.forward(steps).shape).toEqual([2, T, 3]);
    for (const t of [0, 3, T - 1]) expectCausal((y) => m.forward(y), steps, t);
  });

  it('label slots: one-hot for support steps, zero for the query; classify scores the last step', () => {
    const g = new Generator(6);
    const m = new Snail(CFG, { generator: g });
    m.eval();
    const e = randn([1, 3, 5], { generator: g });
    const s = m.steps(e, [2, 0, -1]);
    expect(s.shape).toEqual([1, 3, 8]);
    expect(Array.from(s.data.slice(5, 8))).toEqual([0, 0, 1]);
    expect(Array.from(s.data.slice(13, 16))).toEqual([1, 0, 0]);
    expect(Array.from(s.data.slice(21, 24))).toEqual([0, 0, 0]);
    expect(() => m.steps(e, [3, 0, -1])).toThrow(ShapeError);
    const beats = randn([2 * 4, 32], { generator: g });
    const labels = [0, 1, 2, -1, 1, 1, 0, -1];
    const out = noGrad(() => m.classify(beats, labels, 4));
    expect(out.shape).toEqual([2, 3]);
    // the same as the full forward's last step
    const emb = noGrad(() => m.embed.forward(beats)).reshape([2, 4, 5]);
    const full = noGrad(() => m.forward(m.steps(emb, labels)));
    for (let i = 0; i < 2; i++)
      for (let c = 0; c < 3; c++) expect(out.data[i * 3 + c]).toBeCloseTo(full.data[(i * 4 + 3) * 3 + c], 5);
    expect(() => m.classify(beats, labels, 9)).toThrow(ShapeError);
  });

  it('config errors name the field', () => {
    expect(() => new Snail({ ...CFG, ways: 1 })).toThrow(/ways/);
    expect(() => new Snail({ ...CFG, attention: [[1, 1]] })).toThrow(ModelConfigError);
    expect(() => new Snail({ ...CFG, embedding: { ...CFG.embedding, length: 3 } })).toThrow(/length/);
  });
});

describe('EcgEmbeddingCnn', () => {
  it('beats [N, L] → [N, embedDim]; halves the length per block; rejects other lengths', () => {
    const m = new EcgEmbeddingCnn(
      { length: 32, filters: [4, 4, 8], embedDim: 6, dropout: 0.1 },
      {
        generator: new Generator(1),
      },
    );
    expect(m.forward(randn([3, 32])).shape).toEqual([3, 6]);
    expect(m.forward(randn([3, 1, 32])).shape).toEqual([3, 6]);
    expect(m.blocks.length).toBe(3);
    expect(() => m.forward(randn([3, 31]))).toThrow(ShapeError);
  });
});
