import { describe, expect, it } from 'vitest';
import { loadModel, ModelFormatError, type ModelSpec, ShapeError, saveModel } from '../src/index.js';
import { floatZooSpec, method5Spec, randn, rng } from './fixtures.js';
import { refForward } from './reference.js';

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let e = 0;
  for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e / Math.max(scale, 1e-30);
}

/** Same spec with the fusion pattern broken (an identity node consumes the sign input twice). */
function unfused(spec: ModelSpec): ModelSpec {
  const nodes = spec.graph.nodes.flatMap((n) =>
    n.op === 'sign' ? [{ op: 'identity', inputs: [n.inputs[0]], outputs: [`${n.inputs[0]}.keep`] }, n] : [n],
  );
  return { ...spec, graph: { ...spec.graph, nodes } };
}

describe('runtime: float model with every float op', () => {
  it('matches the float64 reference on random inputs', () => {
    const spec = floatZooSpec();
    const model = loadModel(saveModel(spec));
    const r = rng(7);
    const batch = 3;
    const n = spec.input.channels * spec.input.length;
    const input = randn(batch * n, r);
    const logits = model.logits(input);
    for (let b = 0; b < batch; b++) {
      const ref = refForward(spec, input.subarray(b * n, (b + 1) * n));
      expect(maxRelErr(logits.subarray(b * 4, b * 4 + 4), ref)).toBeLessThan(1e-5);
    }
    const probs = model.predict(input, [batch, 2, spec.input.length]);
    for (let i = 0; i < probs.length; i++) expect(probs[i]).toBeCloseTo(1 / (1 + Math.exp(-logits[i])), 6);
  });

  it('reuses buffers: repeated calls give identical results, and predict can write into a given array', () => {
    const spec = floatZooSpec(3);
    const model = loadModel(saveModel(spec));
    const input = randn(2 * 128, rng(1));
    const a = model.predict(input);
    const out = new Float32Array(8);
    const b = model.predict(input, undefined, out);
    expect(b).toBe(out);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('rejects inputs of the wrong size or shape with ShapeError', () => {
    const model = loadModel(saveModel(floatZooSpec()));
    expect(() => model.predict(new Float32Array(127))).toThrow(ShapeError);
    expect(() => model.predict(new Float32Array(0))).toThrow(ShapeError);
    expect(() => model.predict(new Float32Array(128), [1, 1, 128])).toThrow(ShapeError);
    expect(() => model.predict([1, 2] as unknown as Float32Array)).toThrow(ShapeError);
    expect(() => model.predict(new Float32Array(128), undefined, new Float32Array(2))).toThrow(ShapeError);
  });
});

describe('runtime: method 5 binary network', () => {
  const spec = method5Spec({ seed: 11 });
  const model = loadModel(saveModel(spec));

  it('fuses binaryConv → maxPool → PReLU → BN → sign into packed threshold kernels', () => {
    expect(model.metadata.plan).toEqual([
      'conv1d',
      'maxPool1d',
      'prelu',
      'batchNorm',
      'sign',
      'binaryConv1d+maxPool1d+prelu+batchNorm+sign',
      'binaryConv1d+maxPool1d+prelu+batchNorm+sign',
      'binaryConv1d+maxPool1d+prelu+batchNorm+sign',
      'binaryConv1d+maxPool1d+prelu+batchNorm+sign',
      'binaryConv1d',
      'maxPool1d',
      'prelu',
      'batchNorm',
      'dropout',
      'sumOverTime',
    ]);
  });

  it('fused and unfused execution give bit-identical logits', () => {
    const plain = loadModel(saveModel(unfused(spec)));
    expect(plain.metadata.plan.some((p) => p.includes('+'))).toBe(false);
    const input = randn(4 * 3600, rng(5));
    expect(Array.from(model.logits(input))).toEqual(Array.from(plain.logits(input)));
  });

  it('matches the float64 reference (binary layers exactly, epilogue to 1e-5)', () => {
    const r = rng(9);
    for (let s = 0; s < 3; s++) {
      const input = randn(3600, r);
      const ref = refForward(spec, input);
      const got = model.logits(input);
      expect(maxRelErr(got, ref)).toBeLessThan(1e-5);
    }
  });

  it('keeps the float epilogue when sign ∘ epilogue is not monotone (PReLU with negative slopes)', () => {
    const s2 = method5Spec({ seed: 12, length: 900 });
    for (const t of s2.tensors)
      if (t.name.endsWith('.prelu')) t.data = Float32Array.from(t.data, (v) => -2 - v);
    const m2 = loadModel(saveModel(s2));
    // Block 2..5 epilogues are no longer monotone for most channels: nothing fused.
    expect(m2.metadata.plan.filter((p) => p.includes('+')).length).toBe(0);
    const input = randn(900, rng(4));
    expect(maxRelErr(m2.logits(input), refForward(s2, input))).toBeLessThan(1e-5);
  });

  it('probabilities sum to 1 and match softmax of logits', () => {
    const input = randn(2 * 3600, rng(3));
    const p = model.predict(input);
    const z = model.logits(input);
    for (let b = 0; b < 2; b++) {
      const row = Array.from(z.subarray(b * 5, b * 5 + 5));
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, c) => a + c, 0);
      for (let c = 0; c < 5; c++) expect(p[b * 5 + c]).toBeCloseTo(e[c] / s, 6);
    }
  });
});

describe('runtime: graph validation errors', () => {
  it('rejects a graph whose output is not [classes]', () => {
    const spec = method5Spec({ classes: 5 });
    spec.classes = ['a', 'b'];
    expect(() => saveModel(spec)).toThrow(ModelFormatError);
  });
  it('rejects unknown ops, undefined inputs and shape mismatches naming the node', () => {
    const base = floatZooSpec();
    const bad1 = structuredClone(base);
    bad1.graph.nodes[2].op = 'gelu';
    expect(() => saveModel(bad1)).toThrow(/node 2 \(gelu\): unknown op/);
    const bad2 = structuredClone(base);
    bad2.graph.nodes[2].inputs = ['nope'];
    expect(() => saveModel(bad2)).toThrow(/input "nope" is not defined/);
    const bad3 = structuredClone(base);
    bad3.tensors.find((t) => t.name === 'c1.b')!.shape = [7];
    bad3.tensors.find((t) => t.name === 'c1.b')!.data = new Float32Array(7);
    expect(() => saveModel(bad3)).toThrow(/tensor "bias" \(c1.b\) has shape \[7\], expected \[8\]/);
  });
});
