// Batched execution (runtime/program.ts, chunks of windows): a batch of N windows must give what running the windows one at a time
// gives — over random models (fast-check seeds), batch sizes around and below the chunk capacity, both kernel sets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  loadModel,
  type Model,
  type ModelSpec,
  type NodeSpec,
  OPS,
  readModel,
  saveModel,
  type TensorSpec,
} from '../src/index.js';
import { floatZooSpec, method5Spec, randn, rng } from './fixtures.js';

const MODES = ['wasm', 'typescript'] as const;

/** Logits of each window run alone (the batch-1 program), back to back. */
function oneAtATime(model: Model, input: Float32Array, batch: number): Float32Array {
  const n = model.windowSize;
  const M = model.metadata.classes.length;
  const out = new Float32Array(batch * M);
  for (let b = 0; b < batch; b++) out.set(model.logits(input.slice(b * n, (b + 1) * n)), b * M);
  return out;
}

/** Largest |a − b| over each window's outputs, relative to that window's largest |b| (at least 1e-3). */
function maxRelErr(a: Float32Array, b: Float32Array, M: number): number {
  let worst = 0;
  for (let w = 0; w < b.length / M; w++) {
    let scale = 1e-3;
    for (let i = w * M; i < (w + 1) * M; i++) scale = Math.max(scale, Math.abs(b[i]));
    for (let i = w * M; i < (w + 1) * M; i++) {
      const e = Math.abs(a[i] - b[i]) / scale;
      // NaN/∞ must match exactly
      if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) worst = Object.is(a[i], b[i]) ? worst : Infinity;
      else worst = Math.max(worst, e);
    }
  }
  return worst;
}

function exactlyEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(a[i] === 0 && b[i] === 0)) return false;
  return true;
}

/**
 * Batched logits vs the windows run alone: identical, bit for bit — every kernel computes each window exactly as
 * at batch 1 — except where a dense layer runs in the WebAssembly matmul batched while it runs in TypeScript
 * alone (float32 vs float64 sums): then within 1e-5 relative.
 */
function expectSameAsAlone(model: Model, batch: number, got: Float32Array, want: Float32Array): void {
  const plan = model.batchPlan(batch)!;
  const denseWasm = model.metadata.plan.some((op, i) => op === 'linear' && plan.modes[i] === 'batched-wasm');
  if (denseWasm) expect(maxRelErr(got, want, model.metadata.classes.length)).toBeLessThan(1e-5);
  else expect(exactlyEqual(got, want)).toBe(true);
}

/**
 * A random model from a seed: a chain of float layers (conv1d with every padding form, groups/depthwise, stride,
 * dilation, pad value, fused ReLU; pools with padding; batchNorm, prelu, elementwise ops, softmax, squeeze-
 * excitation, attention, a residual add/concat), binary blocks when `binary` (sign → binaryConv1d, with
 * optional pool attribute, and the fusable pattern binaryConv1d → maxPool1d → prelu → batchNorm → sign), then
 * a head (global pools, sum over time or flatten; sign → binaryLinear when binary) and a linear layer.
 */
function randomSpec(seed: number, binary: boolean): ModelSpec {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const tensors: TensorSpec[] = [];
  const nodes: NodeSpec[] = [];
  let id = 0;
  const tensor = (shape: number[], scale: number, extra: Partial<TensorSpec> = {}): string => {
    const name = `t${id++}`;
    const n = shape.reduce((a, b) => a * b, 1);
    tensors.push({ name, shape, data: randn(n, r, scale), ...extra });
    return name;
  };
  const positive = (n: number, lo: number, hi: number): string => {
    const name = `t${id++}`;
    tensors.push({ name, shape: [n], data: Float32Array.from({ length: n }, () => lo + (hi - lo) * r()) });
    return name;
  };
  let value = 'x';
  let C = int(1, 4);
  let L = int(6, 48);
  const input = { channels: C, length: L, sampleRate: 250 };
  const node = (
    op: string,
    inputs: string[],
    attrs?: Record<string, unknown>,
    t?: Record<string, string>,
  ) => {
    const out = `v${id++}`;
    nodes.push({ op, inputs, outputs: [out], ...(attrs ? { attrs } : {}), ...(t ? { tensors: t } : {}) });
    return out;
  };
  /** A window geometry valid for the current length (or null). */
  const windowFor = (K: number, allowDilation: boolean, allowPad: 'conv' | 'pool') => {
    const stride = int(1, allowPad === 'pool' ? 3 : 2);
    const dilation = allowDilation ? int(1, 2) : 1;
    const span = dilation * (K - 1) + 1;
    let padding: unknown;
    let pl = 0;
    let pr = 0;
    const form = int(0, 3);
    if (allowPad === 'pool') {
      pl = int(0, K >> 1);
      pr = int(0, K >> 1);
      padding = [pl, pr];
    } else if (form === 0 && stride === 1) {
      padding = 'same';
      pl = (span - 1) >> 1;
      pr = span - 1 - pl;
    } else if (form === 1) {
      padding = int(0, span); // may exceed the receptive field: WebAssembly refuses, TypeScript runs it
      pl = pr = padding as number;
    } else if (form === 2) {
      pl = int(0, span - 1);
      pr = int(0, span);
      padding = [pl, pr];
    } else padding = 'valid';
    if (L + pl + pr < span) return null;
    const Lout = Math.floor((L + pl + pr - span) / stride) + 1;
    return { attrs: { padding, stride, ...(allowDilation ? { dilation } : {}) }, Lout };
  };
  const conv = (relu: boolean) => {
    const K = int(1, 5);
    const g = windowFor(K, true, 'conv');
    if (!g) return;
    const depthwise = C > 1 && r() < 0.3;
    const groups = depthwise ? C : 1;
    const O = depthwise ? C * int(1, 2) : int(1, 12);
    const w = tensor([O, C / groups, K], 1 / Math.sqrt((C / groups) * K));
    const b: Record<string, string> = r() < 0.7 ? { bias: tensor([O], 0.2) } : {};
    const padValue = r() < 0.7 ? 0 : Math.round(randn(1, r)[0] * 100) / 100;
    value = node('conv1d', [value], { ...g.attrs, groups, padValue }, { weight: w, ...b });
    if (relu) value = node('relu', [value]);
    C = O;
    L = g.Lout;
  };
  const pool = (op: 'maxPool1d' | 'avgPool1d', unpadded = false) => {
    const K = int(1, 3);
    const g = windowFor(K, false, 'pool');
    if (!g) return;
    const attrs = unpadded
      ? { kernelSize: K, stride: g.attrs.stride }
      : { kernelSize: K, ...g.attrs, padding: g.attrs.padding };
    if (unpadded && L < K) return;
    value = node(op, [value], attrs);
    L = unpadded ? Math.floor((L - K) / g.attrs.stride) + 1 : g.Lout;
  };
  const bn = () => {
    value = node(
      'batchNorm',
      [value],
      { eps: 1e-5 },
      {
        mean: tensor([C], 0.3),
        var: positive(C, 0.5, 2),
        ...(r() < 0.8 ? { weight: tensor([C], 1) } : {}),
        ...(r() < 0.8 ? { bias: tensor([C], 0.3) } : {}),
      },
    );
  };
  const prelu = () => {
    value = node('prelu', [value], undefined, { weight: positive(r() < 0.5 ? 1 : C, 0.05, 0.4) });
  };
  const binaryBlock = () => {
    // sign → binaryConv1d (float output; optional pool attribute), sometimes followed by the fusable chain.
    const bits = node('sign', [value]);
    const K = int(1, 5);
    const g = windowFor(K, true, 'conv');
    if (!g) return;
    const O = int(1, 40);
    const padValue = pick([0, 1]);
    const poolK = g.Lout >= 2 && r() < 0.3 ? 2 : 0;
    value = node(
      'binaryConv1d',
      [bits],
      { ...g.attrs, padValue, ...(poolK ? { pool: { kernelSize: poolK, stride: 2 } } : {}) },
      { weight: tensor([O, C, K], 1, { dtype: 'bits' }) },
    );
    C = O;
    L = poolK ? Math.floor((g.Lout - poolK) / 2) + 1 : g.Lout;
    if (r() < 0.6) {
      // binaryConv1d → [maxPool1d] → prelu → batchNorm → sign → binaryConv1d: the runtime fuses the first four.
      if (r() < 0.5) pool('maxPool1d', true);
      prelu();
      bn();
      const K2 = int(1, 4);
      const g2 = windowFor(K2, true, 'conv');
      if (!g2) return;
      const bits2 = node('sign', [value]);
      const O2 = int(1, 24);
      value = node(
        'binaryConv1d',
        [bits2],
        { ...g2.attrs, padValue: pick([0, 1]) },
        { weight: tensor([O2, C, K2], 1, { dtype: 'bits' }) },
      );
      C = O2;
      L = g2.Lout;
      // Integer dots can be large: scale them down before any float op that saturates.
      value = node('batchNorm', [value], { eps: 1e-5 }, { mean: tensor([C], 1), var: positive(C, 10, 40) });
    }
  };
  const layers = int(1, 5);
  const binaryAt = binary ? int(0, layers - 1) : -1;
  for (let i = 0; i < layers; i++) {
    const kind = i === binaryAt ? 12 : int(0, 11);
    if (kind <= 2) conv(r() < 0.5);
    else if (kind === 3) pool(pick(['maxPool1d', 'avgPool1d'] as const));
    else if (kind === 4) bn();
    else if (kind === 5) prelu();
    else if (kind === 6)
      value = node(pick(['relu', 'leakyRelu', 'sigmoid', 'tanh', 'identity', 'dropout']), [value], {});
    else if (kind === 7) value = node('softmax', [value]);
    else if (kind === 8) {
      const R = int(1, 3);
      value = node('squeezeExcitation', [value], undefined, {
        w1: tensor([R, C], 0.5),
        b1: tensor([R], 0.2),
        w2: tensor([C, R], 0.5),
        ...(r() < 0.5 ? { b2: tensor([C], 0.2) } : {}),
      });
    } else if (kind === 9) {
      const D = int(1, 4);
      const V = int(1, 4);
      const concat = r() < 0.5;
      value = node(
        'attention',
        [value],
        { causal: r() < 0.5, concat },
        { wq: tensor([D, C], 0.5), wk: tensor([D, C], 0.5), wv: tensor([V, C], 0.5), bq: tensor([D], 0.1) },
      );
      C = concat ? C + V : V;
    } else if (kind === 10) {
      // residual: y = conv_same(x) (C → C); add(x, y) or concat(x, y)
      const K = 2 * int(0, 2) + 1;
      const y = node(
        'conv1d',
        [value],
        { padding: 'same' },
        { weight: tensor([C, C, K], 1 / Math.sqrt(C * K)), bias: tensor([C], 0.1) },
      );
      if (r() < 0.5) value = node('add', [value, y]);
      else {
        value = node('concat', [value, y]);
        C *= 2;
      }
    } else if (kind === 11) pool('maxPool1d');
    else binaryBlock();
  }
  // head
  const head = pick(['globalAvgPool1d', 'globalMaxPool1d', 'sumOverTime', 'flatten'] as const);
  value = node(head, [value]);
  let F = head === 'flatten' ? C * L : C;
  if (binary && r() < 0.5) {
    // no dense layer (as method 5: the pooled features are the logits)
    return {
      name: `random-${seed}`,
      input,
      classes: Array.from({ length: F }, (_, i) => `c${i}`),
      outputActivation: pick(['softmax', 'sigmoid', 'none'] as const),
      graph: { input: 'x', output: value, nodes },
      tensors,
    };
  }
  if (binary && r() < 0.5) {
    const bits = node('sign', [value]);
    const O = int(1, 40);
    value = node('binaryLinear', [bits], undefined, { weight: tensor([O, F], 1, { dtype: 'bits' }) });
    F = O;
  }
  if (r() < 0.4) {
    // a wide hidden layer: its chunks are large enough for the WebAssembly matmul
    const H = int(16, 48);
    value = node('linear', [value], undefined, {
      weight: tensor([H, F], 1 / Math.sqrt(F)),
      bias: tensor([H], 0.1),
    });
    value = node('tanh', [value]);
    F = H;
  }
  const classes = int(2, 12);
  node('linear', [value], undefined, {
    weight: tensor([classes, F], 1 / Math.sqrt(F)),
    ...(r() < 0.7 ? { bias: tensor([classes], 0.1) } : {}),
  });
  return {
    name: `random-${seed}`,
    input,
    classes: Array.from({ length: classes }, (_, i) => `c${i}`),
    outputActivation: pick(['softmax', 'sigmoid', 'none'] as const),
    graph: { input: 'x', output: nodes[nodes.length - 1].outputs[0], nodes },
    tensors,
  };
}

describe.each(MODES)('batched execution equals one window at a time (%s kernels)', (mode) => {
  it('random float models, random batch sizes and capacities', () => {
    fc.assert(
      fc.property(
        fc.nat(1 << 30),
        fc.integer({ min: 2, max: 40 }),
        fc.constantFrom(2, 3, 8, 32),
        (seed, batch, capacity) => {
          const spec = randomSpec(seed, false);
          const model = loadModel(saveModel(spec), { kernels: mode, batchCapacity: capacity });
          const x = randn(batch * model.windowSize, rng(seed + 1));
          const got = model.logits(x);
          const want = oneAtATime(model, x, batch);
          const M = spec.classes.length;
          expectSameAsAlone(model, batch, got, want);
          // probabilities too (the output activation runs per window on the batched logits)
          const p = model.predict(x);
          const q = new Float32Array(batch * M);
          for (let b = 0; b < batch; b++)
            q.set(model.predict(x.slice(b * model.windowSize, (b + 1) * model.windowSize)), b * M);
          expect(maxRelErr(p, q, M)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 60, seed: 20261123 },
    );
  });

  it('random binary models: bit-identical logits', () => {
    fc.assert(
      fc.property(
        fc.nat(1 << 30),
        fc.integer({ min: 2, max: 40 }),
        fc.constantFrom(2, 5, 16, 32),
        (seed, batch, capacity) => {
          const spec = randomSpec(seed, true);
          const model = loadModel(saveModel(spec), { kernels: mode, batchCapacity: capacity });
          const x = randn(batch * model.windowSize, rng(seed + 2));
          const got = model.logits(x);
          const want = oneAtATime(model, x, batch);
          expectSameAsAlone(model, batch, got, want);
          if (!spec.graph.nodes.some((n) => n.op === 'linear')) expect(exactlyEqual(got, want)).toBe(true);
        },
      ),
      { numRuns: 40, seed: 11232026 },
    );
  });

  it('method 5 (fused binary blocks): bit-identical at batch sizes below, at and above the capacity', () => {
    const bytes = saveModel(method5Spec({ seed: 3, length: 720 }));
    const model = loadModel(bytes, { kernels: mode, batchCapacity: 8 });
    expect(model.metadata.plan).toContain('binaryConv1d+maxPool1d+prelu+batchNorm+sign');
    for (const batch of [2, 5, 8, 19]) {
      const x = randn(batch * model.windowSize, rng(batch));
      expect(exactlyEqual(model.logits(x), oneAtATime(model, x, batch))).toBe(true);
    }
    const plan = model.batchPlan()!;
    expect(plan.capacity).toBe(8);
    // the fused binary blocks run their prepared plan per window; the float first conv one call per chunk
    plan.modes.forEach((m, i) => {
      if (model.metadata.plan[i].startsWith('binaryConv1d'))
        expect(m).toBe(mode === 'wasm' ? 'per-window-wasm' : 'per-window');
    });
    expect(plan.modes[0]).toBe(mode === 'wasm' ? 'batched-wasm' : 'batched');
  });

  it('every op the runtime supports, in random models found deterministically', () => {
    const covered = new Set<string>();
    for (let seed = 0; seed < 2000 && covered.size < OPS.length; seed++) {
      const spec = randomSpec(seed, seed % 2 === 1);
      const ops = spec.graph.nodes.map((n) => n.op);
      if (ops.every((op) => covered.has(op))) continue;
      for (const op of ops) covered.add(op);
      const model = loadModel(saveModel(spec), { kernels: mode, batchCapacity: 4 });
      const batch = 7;
      const x = randn(batch * model.windowSize, rng(seed));
      const got = model.logits(x);
      const want = oneAtATime(model, x, batch);
      expectSameAsAlone(model, batch, got, want);
    }
    expect([...covered].sort()).toEqual([...OPS].sort());
  });

  it('the float zoo model (18 ops): batched equals one at a time', () => {
    const spec = floatZooSpec(5, 40);
    const model = loadModel(saveModel(spec), { kernels: mode, batchCapacity: 4 });
    for (const batch of [2, 3, 4, 9]) {
      const x = randn(batch * model.windowSize, rng(100 + batch));
      const got = model.logits(x);
      const want = oneAtATime(model, x, batch);
      expectSameAsAlone(model, batch, got, want);
    }
  });

  it('NaN and ±∞ inputs propagate per window as they do one at a time', () => {
    const spec = floatZooSpec(6, 24);
    const model = loadModel(saveModel(spec), { kernels: mode, batchCapacity: 4, checkFinite: false });
    const batch = 6;
    const x = randn(batch * model.windowSize, rng(9));
    x[3] = Number.NaN;
    x[model.windowSize * 2 + 5] = Number.POSITIVE_INFINITY;
    x[model.windowSize * 4 + 1] = Number.NEGATIVE_INFINITY;
    const got = model.logits(x);
    const want = oneAtATime(model, x, batch);
    for (let i = 0; i < got.length; i++) expect(Number.isNaN(got[i])).toBe(Number.isNaN(want[i]));
    expect(
      maxRelErr(
        got.map((v) => (Number.isNaN(v) ? 0 : v)),
        want.map((v) => (Number.isNaN(v) ? 0 : v)),
        4,
      ),
    ).toBeLessThan(1e-5);
  });
});

describe('batched program: compilation, capacity and buffers', () => {
  const bytes = saveModel(floatZooSpec(2, 32));

  it('compiles lazily, grows the capacity only when a larger batch needs it, and reuses the program', () => {
    const model = loadModel(bytes, { batchCapacity: 16 });
    const n = model.windowSize;
    const internal = model as unknown as { batched: unknown };
    model.logits(randn(n, rng(1)));
    expect(internal.batched).toBeNull(); // batch 1 never compiles it
    model.logits(randn(3 * n, rng(2)));
    const small = internal.batched;
    expect(model.batchPlan(3)?.capacity).toBe(4);
    model.logits(randn(4 * n, rng(3)));
    expect(internal.batched).toBe(small);
    model.logits(randn(40 * n, rng(4)));
    const big = internal.batched;
    expect(big).not.toBe(small);
    expect(model.batchPlan()?.capacity).toBe(16);
    for (const b of [2, 16, 17, 40]) model.logits(randn(b * n, rng(b)));
    expect(internal.batched).toBe(big);
  });

  it('recycles value buffers: less memory than one buffer per value', () => {
    const model = loadModel(bytes, { batchCapacity: 8 });
    const { bytes: used, capacity } = model.batchPlan()!;
    const spec = floatZooSpec(2, 32);
    // sum over all graph values of one window's size (floats), the allocation without recycling
    const sizes = new Map<string, number>();
    for (const [name, info] of readModel(bytes).graph.values)
      sizes.set(
        name,
        info.shape.reduce((a, b) => a * b, 1),
      );
    let all = 0;
    for (const v of sizes.values()) all += v * 4 * capacity;
    expect(spec.graph.nodes.length).toBeGreaterThan(10);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(all);
  });

  it('repeated calls with a caller-supplied output give identical results', () => {
    const model = loadModel(bytes, { batchCapacity: 8 });
    const x = randn(21 * model.windowSize, rng(5));
    const out = new Float32Array(21 * 4);
    const first = model.predict(x).slice();
    for (let i = 0; i < 3; i++) {
      expect(model.predict(x, undefined, out)).toBe(out);
      expect(exactlyEqual(out, first)).toBe(true);
    }
  });

  it('bounds the buffers: large activations get a smaller capacity, or none (windows one at a time)', () => {
    const wide = (channels: number, length: number): ModelSpec => ({
      input: { channels: 1, length, sampleRate: 250 },
      classes: ['a', 'b'],
      outputActivation: 'none',
      graph: {
        input: 'x',
        output: 'y',
        nodes: [
          { op: 'conv1d', inputs: ['x'], outputs: ['c'], tensors: { weight: 'w' } },
          { op: 'sumOverTime', inputs: ['c'], outputs: ['s'] },
          { op: 'linear', inputs: ['s'], outputs: ['y'], tensors: { weight: 'd' } },
        ],
      },
      tensors: [
        { name: 'w', shape: [channels, 1, 1], data: randn(channels, rng(1)) },
        { name: 'd', shape: [2, channels], data: randn(2 * channels, rng(2), 1e-3) },
      ],
    });
    // 64 × 20000 floats per window: about 5.2 MB of buffers per window → at most 12 windows in 64 MiB
    const mid = loadModel(saveModel(wide(64, 20000)));
    const plan = mid.batchPlan(40)!;
    expect(plan.capacity).toBe(12);
    expect(plan.bytes).toBeLessThanOrEqual(64 * 1024 * 1024);
    const x = randn(13 * mid.windowSize, rng(3));
    expectSameAsAlone(mid, 13, mid.logits(x), oneAtATime(mid, x, 13));
    // 128 × 70000 floats per window (36 MB): no batched program
    const big = loadModel(saveModel(wide(128, 70000)));
    expect(big.batchPlan(4)).toBeNull();
    const y = randn(2 * big.windowSize, rng(4));
    expect(exactlyEqual(big.logits(y), oneAtATime(big, y, 2))).toBe(true);
  });

  it('batchCapacity 1 runs windows one at a time; bad capacities are an ArgumentError', () => {
    const one = loadModel(bytes, { batchCapacity: 1 });
    const x = randn(5 * one.windowSize, rng(6));
    const internal = one as unknown as { batched: unknown };
    expect(exactlyEqual(one.logits(x), oneAtATime(one, x, 5))).toBe(true);
    expect(internal.batched).toBeNull();
    for (const bad of [0, -1, 1.5, 5000, Number.NaN]) {
      expect(() => loadModel(bytes, { batchCapacity: bad })).toThrow(ArgumentError);
    }
  });
});
