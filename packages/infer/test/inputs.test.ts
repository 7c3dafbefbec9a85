// Model inputs: named multiple inputs (a beat window [1, L] and an RR vector [4] concatenated after a conv trunk),
// the batch inferred and checked across inputs, typed errors naming the input, and the NaN/∞ check.
import { describe, expect, it } from 'vitest';
import { InputError, loadModel, type Model, type ModelSpec, ShapeError, saveModel } from '../src/index.js';
import { beatRrSpec, floatZooSpec, randn, rng } from './fixtures.js';
import { refForward } from './reference.js';

const MODES = ['wasm', 'typescript'] as const;

/** Largest |a − b| relative to the largest |b| (at least 1e-3). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-3;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/** `batch` random windows of each input of `model`. */
function inputsOf(model: Model, batch: number, seed: number): Record<string, Float32Array> {
  const r = rng(seed);
  const out: Record<string, Float32Array> = {};
  for (const inp of model.inputs) out[inp.name] = randn(batch * inp.shape.reduce((a, b) => a * b, 1), r);
  return out;
}

/** Window b of each input. */
function windowOf(model: Model, x: Record<string, Float32Array>, b: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const inp of model.inputs) {
    const n = inp.shape.reduce((p, q) => p * q, 1);
    out[inp.name] = x[inp.name].slice(b * n, (b + 1) * n);
  }
  return out;
}

describe.each(MODES)('two-input model: beat window + RR features (%s kernels)', (mode) => {
  const spec: ModelSpec = beatRrSpec();
  const model = loadModel(saveModel(spec), { kernels: mode, batchCapacity: 4 });

  it('exposes its inputs and outputs', () => {
    expect(model.inputs.map((i) => [i.name, i.shape, i.source.kind])).toEqual([
      ['beat', [1, 64], 'window'],
      ['rr', [4], 'rr'],
    ]);
    expect(model.metadata.outputs).toEqual(['logits', 'g']);
    expect(model.metadata.inputs).toEqual(model.inputs);
  });

  it('matches the float64 reference, window by window', () => {
    const x = inputsOf(model, 3, 1);
    const got = model.logits(x);
    for (let b = 0; b < 3; b++) {
      const want = refForward(spec, windowOf(model, x, b));
      expect(relErr(got.subarray(b * 3, (b + 1) * 3), want)).toBeLessThan(1e-5);
    }
  });

  it('batched equals one window at a time (batches below, at and above the capacity)', () => {
    for (const batch of [2, 4, 7]) {
      const x = inputsOf(model, batch, 10 + batch);
      const got = model.logits(x);
      const dense = model
        .batchPlan(batch)!
        .modes.some((m, i) => m === 'batched-wasm' && model.metadata.plan[i] === 'linear');
      for (let b = 0; b < batch; b++) {
        const one = model.logits(windowOf(model, x, b));
        const part = got.subarray(b * 3, (b + 1) * 3);
        if (dense) expect(relErr(part, one)).toBeLessThan(1e-5);
        else expect(sameBits(part, one)).toBe(true);
      }
    }
  });

  it('batch 1 reads the caller arrays directly: same results as the copying path, inputs untouched', () => {
    const x = inputsOf(model, 1, 5);
    const keep = { beat: x.beat.slice(), rr: x.rr.slice() };
    const direct = model.predict(x);
    // Arrays sharing memory with the output take the copying path.
    const buf = new Float32Array(64 + 4 + 3);
    buf.set(x.beat, 0);
    buf.set(x.rr, 64);
    const out = buf.subarray(68);
    model.predict({ beat: buf.subarray(0, 64), rr: buf.subarray(64, 68) }, undefined, out);
    expect(sameBits(direct, out.slice())).toBe(true);
    expect(sameBits(x.beat, keep.beat) && sameBits(x.rr, keep.rr)).toBe(true);
  });

  it('infers the batch and checks it across inputs, naming the input', () => {
    const x = inputsOf(model, 2, 3);
    expect(() => model.logits({ beat: x.beat, rr: x.rr.subarray(0, 4) })).toThrow(
      /input "rr" holds 1 windows but input "beat" holds 2/,
    );
    expect(() => model.logits({ beat: x.beat, rr: x.rr.subarray(0, 5) })).toThrow(
      /input "rr" has 5 values, not a positive multiple of its per-sample size 4/,
    );
    expect(() => model.logits({ beat: x.beat })).toThrow(/input "rr" is missing/);
    expect(() => model.logits({ ...x, qrs: x.rr })).toThrow(/unknown input "qrs"/);
    expect(() => model.logits(x.beat)).toThrow(/this model has 2 inputs \(beat, rr\): pass a Record/);
    expect(() => model.logits({ beat: x.beat, rr: Array.from(x.rr) as unknown as Float32Array })).toThrow(
      /input "rr" must be a Float32Array/,
    );
    for (const bad of [() => model.logits({ beat: x.beat })]) expect(bad).toThrow(ShapeError);
    // predict's shape check, per input
    expect(() => model.predict(x, { beat: [2, 1, 64], rr: [2, 4] })).not.toThrow();
    expect(() => model.predict(x, { beat: [2, 1, 64], rr: [2, 5] })).toThrow(/input "rr"/);
    expect(() => model.predict(x, [2, 1, 64])).toThrow(/give one shape per input name/);
  });

  it('rejects NaN and ±∞ with an InputError naming the input, window and value; checkFinite: false skips it', () => {
    const x = inputsOf(model, 3, 8);
    x.rr[2 * 4 + 3] = Number.NaN;
    let err: unknown;
    try {
      model.logits(x);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/input "rr": window 2, value 3 is NaN/);
    expect([(err as InputError).input, (err as InputError).window, (err as InputError).index]).toEqual([
      'rr',
      2,
      3,
    ]);
    x.rr[2 * 4 + 3] = 0;
    x.beat[64 + 10] = Number.NEGATIVE_INFINITY;
    expect(() => model.predict(x)).toThrow(/input "beat": window 1, value 10 is -Infinity/);
    const unchecked = loadModel(saveModel(spec), { kernels: mode, checkFinite: false });
    const y = unchecked.logits(x);
    expect(y.subarray(3, 6).some((v) => Number.isNaN(v))).toBe(true);
    expect(y.subarray(0, 3).every((v) => Number.isFinite(v))).toBe(true);
  });
});

describe('the non-finite check finds the first NaN or ±∞ wherever it is', () => {
  it('every position of a batch (block boundaries of the scan included), both kernel sets', () => {
    for (const mode of MODES) {
      const model = loadModel(saveModel(floatZooSpec(3, 20)), { kernels: mode });
      const n = model.windowSize; // 2 × 20
      const x = randn(3 * n, rng(6));
      for (let j = 0; j < x.length; j++) {
        const keep = x[j];
        x[j] = j % 3 === 0 ? Number.NaN : j % 3 === 1 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
        let err: unknown;
        try {
          model.logits(x);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(InputError);
        expect([(err as InputError).window, (err as InputError).index]).toEqual([Math.floor(j / n), j % n]);
        x[j] = keep;
      }
      expect(model.logits(x).every((v) => Number.isFinite(v))).toBe(true);
    }
  });
});

/**
 * sign → binaryConv1d → flatten on a `[C, L]` input, each class one output value: the input is read by the sign
 * packing only (with WebAssembly fused into the conv: `runFloat`), which reports non-finite values itself.
 */
function signFirstSpec(C: number, L: number, O: number): ModelSpec {
  const r = rng(11);
  return {
    name: 'sign-first',
    input: { channels: C, length: L, sampleRate: 360 },
    classes: Array.from({ length: O * L }, (_, i) => `y${i}`),
    outputActivation: 'none',
    graph: {
      input: 'x',
      output: 'out',
      nodes: [
        { op: 'sign', inputs: ['x'], outputs: ['bits'] },
        {
          op: 'binaryConv1d',
          inputs: ['bits'],
          outputs: ['conv'],
          attrs: { padding: 'same' },
          tensors: { weight: 'w' },
        },
        { op: 'flatten', inputs: ['conv'], outputs: ['out'] },
      ],
    },
    tensors: [{ name: 'w', shape: [O, C, 3], data: randn(O * C * 3, r), dtype: 'bits' }],
  };
}

describe('inputs read by a sign packing: the kernel reports non-finite values (no scan before the run)', () => {
  it('the same InputError at batch 1 (direct input and output, or copies) and batched; unchecked it runs', () => {
    const spec = signFirstSpec(40, 24, 4);
    for (const mode of MODES) {
      const model = loadModel(saveModel(spec), { kernels: mode });
      const n = model.windowSize;
      const M = model.metadata.classes.length;
      expect(model.metadata.plan[0]).toBe(mode === 'wasm' ? 'sign+binaryConv1d' : 'sign');
      for (const batch of [1, 3]) {
        const x = randn(batch * n, rng(batch));
        const clean = model.logits(x);
        for (const j of [0, n - 1, batch * n - 1, Math.floor((batch * n) / 2)]) {
          for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
            x[j] = v;
            for (const out of [undefined, new Float32Array(batch * M)]) {
              let err: unknown;
              try {
                model.logits(x, out);
              } catch (e) {
                err = e;
              }
              expect(err).toBeInstanceOf(InputError);
              const e = err as InputError;
              expect([e.input, e.window, e.index]).toEqual(['x', Math.floor(j / n), j % n]);
            }
            x[j] = 0;
          }
        }
        // The flag of a clean run raises nothing, and the model runs on as before.
        expect(sameBits(model.logits(x), model.logits(x))).toBe(true);
        x.set(randn(batch * n, rng(batch)));
        expect(sameBits(model.logits(x), clean)).toBe(true);
      }
      const unchecked = loadModel(saveModel(spec), { kernels: mode, checkFinite: false });
      const x = randn(n, rng(1));
      x[3] = Number.NaN;
      expect(() => unchecked.logits(x)).not.toThrow();
    }
  });
});

describe('single-input models take a Float32Array or a Record', () => {
  it('the same logits either way; the input is named', () => {
    const spec = floatZooSpec(3, 32);
    const model = loadModel(saveModel(spec));
    const x = randn(2 * model.windowSize, rng(4));
    expect(sameBits(model.logits(x), model.logits({ x }))).toBe(true);
    expect(() => model.logits({ y: x })).toThrow(/unknown input "y"/);
    x[5] = Number.POSITIVE_INFINITY;
    expect(() => model.logits(x)).toThrow(/input "x": window 0, value 5 is Infinity/);
  });
});
