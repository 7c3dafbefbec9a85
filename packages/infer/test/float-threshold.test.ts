// Float layers folded into float thresholds (fusion.ts: `conv1d → [maxPool1d] → monotone elementwise* → sign`,
// conventions.ts §7): every output bit equals the unfused path's, probed one channel at a time on dense grids of
// floats around the epilogue's zero crossing, ties, ±0, ±∞ and NaN (`checkFinite: false`), in both kernel sets;
// and epilogues that are not monotone, or not for their weights, stay unfused.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LoadOptions, loadModel, type ModelSpec, type NodeSpec, saveModel } from '../src/index.js';

const MODES = ['wasm', 'typescript'] as const;

/** Parameters of one probe channel: conv weight, pool, then the epilogue ops in order. */
interface Probe {
  weight: number;
  pool: { kernelSize: number; stride: number } | null;
  /** `prelu` slope, or null for none. */
  slope: number | null;
  /** BatchNorm (mean, var, gamma, beta), or null for none. */
  bn: [number, number, number, number] | null;
  /** Extra op between them (`relu`, `sigmoid`, `leakyRelu` with this slope), or null. */
  extra: { op: 'relu' | 'sigmoid' | 'leakyRelu'; slope?: number } | null;
  /** BatchNorm before PReLU (which may then see its overflow). */
  bnFirst?: boolean;
  length: number;
}

/**
 * One channel, so that each output bit is visible: conv1d 1→1 (kernel 1, weight `weight`) → [maxPool1d] →
 * [prelu] → [extra] → [batchNorm] → sign → binaryConv1d 1→1 kernel 1 with weight +1 (a dot of ±1: the sign
 * itself) → flatten: one logit per position. `keep` adds a second reader of the sign's input (no fusion).
 */
function probeSpec(p: Probe, keep: boolean): ModelSpec {
  const nodes: NodeSpec[] = [{ op: 'conv1d', inputs: ['x'], outputs: ['c'], tensors: { weight: 'w' } }];
  let prev = 'c';
  const then = (node: Omit<NodeSpec, 'inputs' | 'outputs'>, out: string) => {
    nodes.push({ ...node, inputs: [prev], outputs: [out] } as NodeSpec);
    prev = out;
  };
  if (p.pool) then({ op: 'maxPool1d', attrs: { kernelSize: p.pool.kernelSize, stride: p.pool.stride } }, 'p');
  const bn = () => {
    if (p.bn) then({ op: 'batchNorm', tensors: { mean: 'm', var: 'v', weight: 'g', bias: 'b' } }, 'n');
  };
  if (p.bnFirst) bn();
  if (p.slope !== null) then({ op: 'prelu', tensors: { weight: 'a' } }, 'r');
  if (p.extra)
    then({ op: p.extra.op, attrs: p.extra.slope === undefined ? {} : { negativeSlope: p.extra.slope } }, 'e');
  if (!p.bnFirst) bn();
  if (keep) nodes.push({ op: 'identity', inputs: [prev], outputs: ['kept'] });
  then({ op: 'sign' }, 's');
  then({ op: 'binaryConv1d', tensors: { weight: 'one' } }, 'd');
  then({ op: 'flatten' }, 'logits');
  const T = p.pool ? Math.floor((p.length - p.pool.kernelSize) / p.pool.stride) + 1 : p.length;
  const [m, v, g, b] = p.bn ?? [0, 1, 1, 0];
  return {
    input: { channels: 1, length: p.length, sampleRate: 360 },
    classes: Array.from({ length: T }, (_, i) => `t${i}`),
    outputActivation: 'none',
    graph: { input: 'x', output: 'logits', nodes },
    tensors: [
      { name: 'w', shape: [1, 1, 1], data: Float32Array.of(p.weight) },
      { name: 'a', shape: [1], data: Float32Array.of(p.slope ?? 1) },
      { name: 'm', shape: [1], data: Float32Array.of(m) },
      { name: 'v', shape: [1], data: Float32Array.of(v) },
      { name: 'g', shape: [1], data: Float32Array.of(g) },
      { name: 'b', shape: [1], data: Float32Array.of(b) },
      { name: 'one', shape: [1, 1, 1], data: Float32Array.of(1), dtype: 'bits' },
    ],
  };
}

/** `n` consecutive float32 values centred on `v` (neighbours by bit pattern), then specials. */
function grid(v: number, n: number): Float32Array {
  const f = new Float32Array(1);
  const bits = new Int32Array(f.buffer);
  f[0] = Number.isFinite(v) ? v : 0;
  const c = bits[0];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    bits[0] = c + i - (n >> 1);
    out[i] = Number.isNaN(f[0]) ? 0 : f[0];
  }
  const specials = [0, -0, Number.NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -1e-45];
  for (let i = 0; i < specials.length; i++) out[(i * 37) % n] = specials[i];
  return out;
}

/** The y at which BN(prelu(y)) crosses 0 in float64 (where the grid must be dense). */
function crossing(p: Probe): number {
  const [m, v, g, b] = p.bn ?? [0, 1, 1, 0];
  if (g === 0 || p.bnFirst) return 0;
  const z = m - (b * Math.sqrt(v + 1e-5)) / g; // prelu output at the crossing
  const y = z > 0 || p.slope === null ? z : z / p.slope;
  return y / p.weight;
}

const probe = fc.record({
  weight: fc.constantFrom(1, -1, 0.5, 3),
  pool: fc.option(
    fc.record({ kernelSize: fc.integer({ min: 1, max: 7 }), stride: fc.integer({ min: 1, max: 3 }) }),
    { nil: null },
  ),
  slope: fc.option(fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 2, noNaN: true })), { nil: null }),
  bn: fc.option(
    fc.tuple(
      fc.double({ min: -3, max: 3, noNaN: true }),
      fc.double({ min: 0.01, max: 20, noNaN: true }),
      fc.oneof(
        {
          weight: 9,
          arbitrary: fc.double({ min: 0.05, max: 2, noNaN: true }).chain((g) => fc.constantFrom(g, -g)),
        },
        { weight: 1, arbitrary: fc.constant(0) },
      ),
      fc.double({ min: -2, max: 2, noNaN: true }),
    ),
    { nil: null },
  ),
  extra: fc.constantFrom(
    null,
    { op: 'relu' as const },
    { op: 'leakyRelu' as const, slope: 0.1 },
    { op: 'leakyRelu' as const, slope: 0 },
  ),
  bnFirst: fc.boolean(),
  length: fc.integer({ min: 8, max: 300 }),
});

describe.each(MODES)('float threshold fusion (%s kernels)', (mode) => {
  const opts: LoadOptions = { kernels: mode, checkFinite: false };

  it('every bit equals the unfused path on floats around the crossing, ±0, ±∞, NaN (random epilogues)', () => {
    let folded = 0;
    let runs = 0;
    fc.assert(
      fc.property(probe, fc.integer({ min: 0, max: 2 ** 30 }), (p, seed) => {
        const fused = loadModel(saveModel(probeSpec(p, false)), opts);
        const plain = loadModel(saveModel(probeSpec(p, true)), opts);
        // Folded, or (a zero slope or scale after a node that may overflow) left as it is.
        expect(fused.metadata.plan[0]).toMatch(/^conv1d(\+.*sign)?$/);
        runs++;
        if (fused.metadata.plan[0] !== 'conv1d') folded++;
        expect(plain.metadata.plan.some((s) => s.endsWith('+sign'))).toBe(false);
        const x = grid(crossing(p), p.length);
        // Shuffled copies too, so that windows mix values from both sides of the crossing.
        let s = seed || 1;
        const y = x.slice();
        for (let i = y.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const j = s % (i + 1);
          [y[i], y[j]] = [y[j], y[i]];
        }
        for (const input of [x, y]) {
          const a = Array.from(fused.logits(input));
          const b = Array.from(plain.logits(input));
          expect(a).toEqual(b);
        }
      }),
      // FT_RUNS: more runs for a stress run (3,000 per kernel set passed on 7 Dec 2026).
      { numRuns: Number(process.env.FT_RUNS ?? 150) },
    );
    // About a quarter of the drawn epilogues cannot be folded (a zero slope after a possible overflow): the
    // property must still be about folded ones (7 standard deviations below the expected three quarters).
    expect(folded).toBeGreaterThan(runs * 0.5);
  });

  it('a batch of windows runs the batched program with the same bits', () => {
    const p: Probe = {
      weight: 1,
      pool: { kernelSize: 7, stride: 2 },
      slope: 0.2,
      bn: [0.3, 2, -0.7, 0.1],
      extra: null,
      length: 100,
    };
    const fused = loadModel(saveModel(probeSpec(p, false)), opts);
    const plain = loadModel(saveModel(probeSpec(p, true)), opts);
    const x = new Float32Array(5 * 100);
    for (let b = 0; b < 5; b++) x.set(grid(crossing(p) * (1 + b / 10), 100), b * 100);
    expect(Array.from(fused.predict(x, [5, 1, 100]))).toEqual(Array.from(plain.predict(x, [5, 1, 100])));
  });

  it('stays unfused where the search would not be exact: sigmoid, negative slopes, NaN from ±∞ after overflow', () => {
    const base: Probe = {
      weight: 1,
      pool: null,
      slope: 0.2,
      bn: [0.3, 2, 0.7, 0.1],
      extra: null,
      length: 16,
    };
    const cases: Probe[] = [
      { ...base, extra: { op: 'sigmoid' } },
      { ...base, slope: -0.2 },
      { ...base, extra: { op: 'leakyRelu', slope: -0.1 } },
      // BatchNorm may overflow to −∞, which a zero slope then turns into NaN: finite inputs could reach NaN.
      { ...base, slope: 0, bnFirst: true },
      // A slope above 1 may overflow; a zero BatchNorm scale then turns ±∞ into NaN.
      { ...base, slope: 1.5, bn: [0.3, 2, 0, 0.1] },
    ];
    for (const c of cases) {
      const model = loadModel(saveModel(probeSpec(c, false)), opts);
      expect(model.metadata.plan[0], JSON.stringify(c)).toBe('conv1d');
      const plain = loadModel(saveModel(probeSpec(c, true)), opts);
      const x = grid(0, 16);
      expect(Array.from(model.logits(x))).toEqual(Array.from(plain.logits(x)));
    }
    // Folded: the base case, a zero slope first (−∞ → NaN is an infinity bit), a zero scale after slopes ≤ 1.
    for (const c of [
      base,
      { ...base, slope: 0 },
      { ...base, slope: 0.5, bn: [0.3, 2, 0, -0.1] as Probe['bn'] },
    ])
      expect(loadModel(saveModel(probeSpec(c, false)), opts).metadata.plan[0], JSON.stringify(c)).toBe(
        'conv1d+prelu+batchNorm+sign',
      );
  });
});
