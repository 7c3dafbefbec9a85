/** The exporter: core modules → @ecgnn/infer graph, checked against the core forward pass (no data needed). */
import { Generator, nn, noGrad, Tensor } from '@ecgnn/core';
import { loadModel, saveModel } from '@ecgnn/infer';
import { describe, expect, test } from 'vitest';
import { ExportError, exportBeatNet, GraphBuilder, packBeatInput } from './export.js';
import { BeatNet } from './model.js';

function randomTensor(shape: number[], g: Generator): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = g.normal();
  return new Tensor(d, shape);
}

/** Puts non-trivial statistics and affine parameters into every BatchNorm1d. */
function randomizeBatchNorm(m: nn.AnyModule, g: Generator): void {
  for (const mod of m.modules()) {
    if (mod instanceof nn.BatchNorm1d) {
      for (let c = 0; c < mod.numFeatures; c++) {
        (mod.runningMean as Tensor).data[c] = 0.5 * g.normal();
        (mod.runningVar as Tensor).data[c] = 0.5 + g.random();
        (mod.weight as Tensor).data[c] = 1 + 0.3 * g.normal();
        (mod.bias as Tensor).data[c] = 0.3 * g.normal();
      }
    }
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('GraphBuilder', () => {
  test.each([true, false])('a Sequential with every supported layer matches core (fold BN: %s)', (fold) => {
    const g = new Generator(11);
    const seq = new nn.Sequential(
      new nn.Conv1d(2, 6, 5, { padding: [1, 3], generator: g }),
      new nn.BatchNorm1d(6),
      new nn.LeakyReLU(0.1),
      new nn.MaxPool1d(3, { stride: 2, padding: 1 }),
      new nn.Conv1d(6, 6, 3, { padding: 'same', dilation: 2, groups: 3, bias: false, generator: g }),
      new nn.BatchNorm1d(6),
      new nn.Tanh(),
      new nn.Conv1d(6, 4, 3, { stride: 2, generator: g }),
      new nn.ReLU(),
      new nn.BatchNorm1d(4),
      new nn.AvgPool1d(2),
      new nn.Dropout(0.5),
      new nn.Sigmoid(),
      new nn.GlobalAvgPool1d(),
      new nn.Linear(4, 3, { generator: g }),
    );
    randomizeBatchNorm(seq, g);
    seq.eval();
    const B = 4;
    const L = 40;
    const x = randomTensor([B, 2, L], g);
    const expected = noGrad(() => seq.call(x)).data as Float32Array;
    const b = new GraphBuilder();
    const input = b.value('x');
    const out = b.module(input, seq, 'net', fold);
    const bytes = saveModel({
      input: { channels: 2, length: L, sampleRate: 100 },
      classes: ['a', 'b', 'c'],
      outputActivation: 'none',
      graph: { input, output: out, nodes: b.nodes },
      tensors: b.tensors,
    });
    const model = loadModel(bytes);
    const ops = model.metadata.plan;
    expect(ops.filter((o) => o === 'batchNorm').length).toBe(fold ? 1 : 3);
    expect(ops).not.toContain('dropout');
    const got = model.logits(x.data as Float32Array);
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-5);
  });

  test('unsupported modules are named in an ExportError', () => {
    const m = new nn.Sequential(new nn.Conv1d(1, 2, 3), new nn.GELU());
    expect(() => new GraphBuilder().module('x', m, 'net')).toThrow(ExportError);
    expect(() => new GraphBuilder().module('x', m, 'net')).toThrow(/net\.1.*GELU/);
  });
});

describe('exportBeatNet', () => {
  test('the exported file computes what the core model computes, RR features included', () => {
    const g = new Generator(5);
    const L = 64;
    const R = 4;
    const model = new BeatNet({ length: L, rrFeatures: R, classes: 5, generator: g });
    randomizeBatchNorm(model, g);
    model.eval();
    const B = 6;
    const beat = randomTensor([B, 1, L], g);
    const rr = randomTensor([B, R], g);
    const expected = noGrad(() => model.call(beat, rr)).data as Float32Array;
    const spec = exportBeatNet(model, {
      name: 't',
      classes: ['N', 'S', 'V', 'F', 'Q'],
      sampleRate: 180,
      beatBefore: 20,
      provenance: { test: true },
    });
    const loaded = loadModel(saveModel(spec));
    expect(loaded.metadata.input).toEqual({ channels: 2, length: L, sampleRate: 180 });
    const packed = packBeatInput(beat.data as Float32Array, rr.data as Float32Array, B, L, R);
    expect(maxAbsDiff(loaded.logits(packed), expected)).toBeLessThan(1e-5);
    // The RR features matter: changing them changes the exported model's output.
    const rr2 = new Float32Array(rr.data as Float32Array).map((v) => v + 1);
    const packed2 = packBeatInput(beat.data as Float32Array, rr2, B, L, R);
    expect(maxAbsDiff(loaded.logits(packed2), expected)).toBeGreaterThan(1e-3);
  });

  test('packBeatInput checks its sizes', () => {
    expect(() => packBeatInput(new Float32Array(10), new Float32Array(4), 2, 5, 3)).toThrow(RangeError);
    expect(() => packBeatInput(new Float32Array(9), null, 2, 5, 0)).toThrow(RangeError);
  });
});
