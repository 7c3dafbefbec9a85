import { wasmSimdSupported } from '@ecgnn/kernels/wasm';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  type LoadOptions,
  loadModel,
  ModelFormatError,
  type ModelSpec,
  ShapeError,
  saveModel,
} from '../src/index.js';
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

/** Every test below runs once per kernel set; `wasm` requires WebAssembly SIMD (Node 20 has it). */
const MODES = ['wasm', 'typescript'] as const;
const KIND = { wasm: 'wasm-simd', typescript: 'typescript' } as const;

describe.each(MODES)('runtime: float model with every float op (%s kernels)', (mode) => {
  const opts: LoadOptions = { kernels: mode };
  it('matches the float64 reference on random inputs', () => {
    const spec = floatZooSpec();
    const model = loadModel(saveModel(spec), opts);
    expect(model.metadata.kernels).toBe(KIND[mode]);
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
    const model = loadModel(saveModel(spec), opts);
    const input = randn(2 * 128, rng(1));
    const a = model.predict(input);
    const out = new Float32Array(8);
    const b = model.predict(input, undefined, out);
    expect(b).toBe(out);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('rejects inputs of the wrong size or shape with ShapeError', () => {
    const model = loadModel(saveModel(floatZooSpec()), opts);
    expect(() => model.predict(new Float32Array(127))).toThrow(ShapeError);
    expect(() => model.predict(new Float32Array(0))).toThrow(ShapeError);
    expect(() => model.predict(new Float32Array(128), [1, 1, 128])).toThrow(ShapeError);
    expect(() => model.predict([1, 2] as unknown as Float32Array)).toThrow(ShapeError);
    expect(() => model.predict(new Float32Array(128), undefined, new Float32Array(2))).toThrow(ShapeError);
  });
});

describe.each(MODES)('runtime: method 5 binary network (%s kernels)', (mode) => {
  const opts: LoadOptions = { kernels: mode };
  const spec = method5Spec({ seed: 11 });
  const model = loadModel(saveModel(spec), opts);

  it('fuses conv → maxPool → PReLU → BN → sign (float thresholds) and binaryConv → … → sign (integer thresholds)', () => {
    // The float first block hands packed bits to the first binary conv.
    expect(model.metadata.plan).toEqual([
      'conv1d+maxPool1d+prelu+batchNorm+sign',
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

  it('runs the convs, max pools, threshold packing and the binary layers in WebAssembly (wasm mode), the rest in TypeScript', () => {
    const W = KIND[mode];
    const T = 'typescript';
    expect(model.metadata.planKernels).toEqual(
      mode === 'wasm' ? [W, W, W, W, W, W, W, T, T, T, T] : [T, T, T, T, T, T, T, T, T, T, T],
    );
  });

  it('fused and unfused execution give bit-identical logits', () => {
    const plain = loadModel(saveModel(unfused(spec)), opts);
    // Threshold fusion ends a fused step with `+sign`; the unfused model has none (an input sign may still be
    // packed inside a conv's step: `sign+binaryConv1d`).
    expect(plain.metadata.plan.some((p) => p.endsWith('+sign'))).toBe(false);
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
    const m2 = loadModel(saveModel(s2), opts);
    // Block 2..5 epilogues are no longer monotone for most channels: nothing fused.
    expect(m2.metadata.plan.filter((p) => p.endsWith('+sign')).length).toBe(0);
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

describe('runtime: kernel selection', () => {
  it('auto picks WebAssembly SIMD when the engine has it; typescript and wasm can be forced', () => {
    const bytes = saveModel(method5Spec({ seed: 3, length: 900 }));
    expect(loadModel(bytes).metadata.kernels).toBe(wasmSimdSupported() ? 'wasm-simd' : 'typescript');
    expect(loadModel(bytes, { kernels: 'auto' }).metadata.kernels).toBe(
      wasmSimdSupported() ? 'wasm-simd' : 'typescript',
    );
    expect(loadModel(bytes, { kernels: 'typescript' }).metadata.kernels).toBe('typescript');
    expect(loadModel(bytes, { kernels: 'wasm' }).metadata.kernels).toBe('wasm-simd');
  });

  it('rejects an unknown kernels option with ArgumentError', () => {
    const bytes = saveModel(floatZooSpec());
    expect(() => loadModel(bytes, { kernels: 'gpu' as never })).toThrow(ArgumentError);
    expect(() => loadModel(bytes, { kernels: 'gpu' as never })).toThrow(/kernels must be/);
  });

  it('method 5: WebAssembly and TypeScript kernels give bit-identical logits (fused and unfused)', () => {
    const spec = method5Spec({ seed: 21 });
    const input = randn(3 * 3600, rng(8));
    const w = loadModel(saveModel(spec), { kernels: 'wasm' }).logits(input);
    const t = loadModel(saveModel(spec), { kernels: 'typescript' }).logits(input);
    expect(Array.from(w)).toEqual(Array.from(t));
    const wu = loadModel(saveModel(unfused(spec)), { kernels: 'wasm' }).logits(input);
    expect(Array.from(wu)).toEqual(Array.from(t));
  });

  it('float model: WebAssembly and TypeScript kernels agree to float32 rounding', () => {
    const spec = floatZooSpec(5);
    const input = randn(2 * 128, rng(2));
    const w = loadModel(saveModel(spec), { kernels: 'wasm' }).logits(input);
    const t = loadModel(saveModel(spec), { kernels: 'typescript' }).logits(input);
    expect(maxRelErr(w, t)).toBeLessThan(1e-5);
  });
});

describe.each(MODES)('runtime: conv1d + relu fusion (%s kernels)', (mode) => {
  const r = rng(31);
  const spec = (reluTwice: boolean): ModelSpec => ({
    input: { channels: 3, length: 40, sampleRate: 100 },
    classes: ['a', 'b', 'c', 'd'],
    outputActivation: 'none',
    graph: {
      input: 'x',
      output: 'y',
      nodes: [
        {
          op: 'conv1d',
          inputs: ['x'],
          outputs: ['c'],
          attrs: { padding: 'same' },
          tensors: { weight: 'w', bias: 'b' },
        },
        { op: 'relu', inputs: ['c'], outputs: ['r'] },
        // A second consumer of the conv output blocks the fusion.
        ...(reluTwice
          ? [
              { op: 'relu', inputs: ['c'], outputs: ['r2'] },
              { op: 'add', inputs: ['r', 'r2'], outputs: ['s'] },
            ]
          : []),
        { op: 'globalMaxPool1d', inputs: [reluTwice ? 's' : 'r'], outputs: ['y'] },
      ],
    },
    tensors: [
      { name: 'w', shape: [4, 3, 5], data: randn(60, r, 0.5) },
      { name: 'b', shape: [4], data: Float32Array.from([-3, -1, 0, 1]) },
    ],
  });

  it('fuses a conv whose only consumer is a relu, and matches the reference', () => {
    const s = spec(false);
    const m = loadModel(saveModel(s), { kernels: mode });
    expect(m.metadata.plan).toEqual(['conv1d+relu', 'globalMaxPool1d']);
    const x = randn(120, rng(4));
    const got = m.logits(x);
    expect(maxRelErr(got, refForward(s, x))).toBeLessThan(1e-5);
    expect(m.metadata.planKernels[0]).toBe(KIND[mode]);
  });

  it('does not fuse when the conv output has another consumer', () => {
    const s = spec(true);
    const m = loadModel(saveModel(s), { kernels: mode });
    expect(m.metadata.plan).toEqual(['conv1d', 'relu', 'relu', 'add', 'globalMaxPool1d']);
    const x = randn(120, rng(6));
    expect(maxRelErr(m.logits(x), refForward(s, x))).toBeLessThan(1e-5);
  });
});

/** One conv layer as a whole model (`[sign →] conv → flatten`), weights and input from `seed`. */
function oneLayerSpec(binary: boolean, C: number, O: number, L: number, K: number, seed: number): ModelSpec {
  const w = randn(O * C * K, rng(seed));
  return {
    name: binary ? 'one-binary-conv' : 'one-conv',
    input: { channels: C, length: L, sampleRate: 360 },
    classes: Array.from({ length: O * L }, (_, i) => `y${i}`),
    outputActivation: 'none',
    graph: {
      input: 'x',
      output: 'y',
      nodes: [
        ...(binary ? [{ op: 'sign', inputs: ['x'], outputs: ['s'] }] : []),
        {
          op: binary ? 'binaryConv1d' : 'conv1d',
          inputs: [binary ? 's' : 'x'],
          outputs: ['c'],
          attrs: { padding: 'same' },
          tensors: { weight: 'w' },
        },
        { op: 'flatten', inputs: ['c'], outputs: ['y'] },
      ],
    },
    tensors: [{ name: 'w', shape: [O, C, K], data: w, ...(binary ? { dtype: 'bits' as const } : {}) }],
  };
}

describe.each(MODES)('runtime: batch 1 on the caller’s arrays (%s kernels)', (mode) => {
  const opts: LoadOptions = { kernels: mode };
  const specs: [string, ModelSpec][] = [
    ['float conv → flatten', oneLayerSpec(false, 5, 7, 45, 5, 1)],
    ['sign → binary conv → flatten', oneLayerSpec(true, 40, 9, 37, 3, 2)],
    ['method 5 network (softmax head)', method5Spec({ seed: 13, length: 900 })],
  ];
  for (const [name, spec] of specs) {
    it(`${name}: same logits and probabilities as the copying path; input untouched`, () => {
      const model = loadModel(saveModel(spec), opts);
      const n = model.windowSize;
      const M = spec.classes.length;
      for (let s = 0; s < 3; s++) {
        const x = randn(n, rng(20 + s));
        const keep = x.slice();
        // Separate arrays: the first step may read x and the last may write `out` directly.
        const out = new Float32Array(M);
        model.logits(x, out);
        expect(Array.from(x)).toEqual(Array.from(keep));
        // Input and output in one buffer: the copying path (the kernels never see the caller's arrays).
        const shared = new Float32Array(n + M);
        shared.set(x);
        const copied = model.logits(shared.subarray(0, n), shared.subarray(n));
        expect(Array.from(out)).toEqual(Array.from(copied));
        // The input as a view at an offset into a larger buffer (read in place, from the view's start).
        const big = new Float32Array(n + 13).fill(Number.NaN);
        big.set(x, 7);
        const fromView = model.logits(big.subarray(7, 7 + n), new Float32Array(M));
        expect(Array.from(fromView)).toEqual(Array.from(out));
        // An output longer than the classes: copied into its first M values, the rest untouched.
        const long = new Float32Array(M + 3).fill(7);
        model.logits(x, long);
        expect(Array.from(long.subarray(0, M))).toEqual(Array.from(out));
        expect(Array.from(long.subarray(M))).toEqual([7, 7, 7]);
        // Against the float64 reference (binary layers exact, float to rounding).
        expect(maxRelErr(out, refForward(spec, x))).toBeLessThan(1e-5);
        if (spec.outputActivation === 'softmax') {
          const p = model.predict(x, undefined, new Float32Array(M));
          let sum = 0;
          for (const v of p) sum += v;
          expect(sum).toBeCloseTo(1, 5);
          expect(p.indexOf(Math.max(...p))).toBe(out.indexOf(Math.max(...out)));
        }
      }
    });
  }
});
