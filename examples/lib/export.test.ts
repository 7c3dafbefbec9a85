/** BeatNet's export: its emitter, checked against the core forward pass (no data needed). */
import { Generator, nn, noGrad, Tensor } from '@ecgnn/core';
import { ExportError, exporterFor, toOnnx } from '@ecgnn/export';
import { loadModel, saveModel } from '@ecgnn/infer';
import { describe, expect, test } from 'vitest';
import { RR_FEATURE_NAMES } from './beats.js';
import { emitBeatNet, exportBeatNet } from './export.js';
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

const info = {
  name: 't',
  classes: ['N', 'S', 'V', 'F', 'Q'],
  sampleRate: 180,
  beatBefore: 20,
  rrFeatures: RR_FEATURE_NAMES,
  rrLocalHalfWidth: 5,
  zscoreEps: 1e-6,
  provenance: { test: true },
};

describe('exportBeatNet', () => {
  test('BeatNet has a registered emitter (this module registers it)', () => {
    const g = new Generator(1);
    expect(exporterFor(new BeatNet({ length: 32, rrFeatures: 4, classes: 5, generator: g }))).toBe(
      emitBeatNet,
    );
  });

  test('two named inputs, beat and rr: the exported file computes what the core model computes', () => {
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
    const spec = exportBeatNet(model, info);
    expect(spec.graph.inputs).toEqual([
      { name: 'beat', shape: [1, L], source: { kind: 'window' } },
      { name: 'rr', shape: [R], source: { kind: 'rr', features: [...RR_FEATURE_NAMES], localHalfWidth: 5 } },
    ]);
    // The trunk's BatchNorms are folded into the convolutions: no batchNorm node is left.
    expect(spec.graph.nodes.map((n) => n.op)).not.toContain('batchNorm');
    const loaded = loadModel(saveModel(spec));
    const run = (r: Float32Array) => loaded.logits({ beat: beat.data as Float32Array, rr: r });
    expect(maxAbsDiff(run(rr.data as Float32Array), expected)).toBeLessThan(1e-5);
    // The RR features matter: changing them changes the exported model's output.
    const rr2 = new Float32Array(rr.data as Float32Array).map((v) => v + 1);
    expect(maxAbsDiff(run(rr2), expected)).toBeGreaterThan(1e-3);
    // The same graph as ONNX has the same two inputs.
    expect(toOnnx(spec).inputs.map((i) => i.name)).toEqual(['beat', 'rr']);
  });

  test('a waveform-only BeatNet exports with one input; a count mismatch is an ExportError', () => {
    const g = new Generator(6);
    const model = new BeatNet({ length: 32, rrFeatures: 0, classes: 5, generator: g });
    const spec = exportBeatNet(model, { ...info, rrFeatures: [] });
    expect(spec.graph.inputs.map((i) => i.name)).toEqual(['beat']);
    expect(() => exportBeatNet(model, info)).toThrow(ExportError);
  });
});
