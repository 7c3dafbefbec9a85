// Prepared binary convolutions (`prepareBinaryConv1d`: dots + max pool on the dots + float copy or folded
// thresholds → packed bits), sign packing and binary dense products, in both kernel sets (reference and
// WebAssembly), against the naive ±1 oracles of @ecgnn/kernels/testing over fast-check random geometries; plus
// the WebAssembly specifics: the long-receptive-field kernel, module sizes, memory growth, weight caching, and
// the fallback to the reference for padding beyond the receptive field.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packConvWeights, packSigns } from '../src/binary/conventions.js';
import {
  type BinaryConv1dParams,
  type BinaryConvEpilogue,
  KernelArgumentError,
  type Kernels,
} from '../src/contract.js';
import { referenceKernels } from '../src/ref/index.js';
import {
  naiveBinaryDense,
  naivePackedBinaryConv1d,
  naiveSignPack,
  naiveBinaryConvPlan as refPlan,
} from '../src/testing.js';
import {
  BINARY_DOTS_MAX_TERMS,
  binaryDotsTile,
  binaryTerms,
  buildBinaryDotsLoopModule,
  buildBinaryDotsModule,
  buildBinaryHelperModule,
  getWasmKernels,
} from '../src/wasm/index.js';

type BinaryKernels = Pick<Kernels, 'signPack' | 'binaryConv1d' | 'binaryDense' | 'prepareBinaryConv1d'>;

const wasm = getWasmKernels();
const sets: [string, BinaryKernels][] = [['reference', referenceKernels]];
if (wasm) sets.push(['wasm-simd', wasm]);

/** Deterministic floats in [−1, 1) with some exact zeros, −0 and NaN (they all have sign +1). */
function floats(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s % 29;
    a[i] = r === 0 ? 0 : r === 1 ? -0 : r === 2 ? Number.NaN : s / 2 ** 31 - 1;
  }
  return a;
}

const sgn = (v: number) => (v < 0 ? -1 : 1); // conventions.ts §1: sign(0) = sign(−0) = sign(NaN) = +1

const geometry = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  C: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(32, 64, 96, 128)),
  O: fc.integer({ min: 1, max: 40 }),
  L: fc.integer({ min: 1, max: 40 }),
  K: fc.integer({ min: 1, max: 7 }),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 3 }),
  padFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  padRight: fc.integer({ min: 0, max: 4 }),
  padValue: fc.constantFrom(0 as const, 1 as const),
  pool: fc.option(
    fc.record({ kernelSize: fc.integer({ min: 1, max: 7 }), stride: fc.integer({ min: 1, max: 3 }) }),
    { nil: null },
  ),
  thresholds: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

type Geometry = typeof geometry extends fc.Arbitrary<infer G> ? G : never;

/** A valid conv geometry (left padding within the receptive field) and epilogue from a random record. */
function setup(g: Geometry): { p: BinaryConv1dParams; e: BinaryConvEpilogue } | null {
  const span = g.dilation * (g.K - 1);
  const padLeft = Math.floor(g.padFrac * span);
  const L = Math.max(g.L, span + 1 - padLeft);
  const T = Math.floor((L + padLeft + g.padRight - span - 1) / g.stride) + 1;
  if (g.pool && g.pool.kernelSize > T) return null;
  const p: BinaryConv1dParams = {
    batch: g.batch,
    inChannels: g.C,
    outChannels: g.O,
    inLength: L,
    outLength: T,
    kernelSize: g.K,
    stride: g.stride,
    dilation: g.dilation,
    padLeft,
    padValue: g.padValue,
  };
  // Thresholds of both directions, including the extremes ±2³¹ (constant channels).
  const e: BinaryConvEpilogue = {
    pool: g.pool,
    thresholds: g.thresholds
      ? {
          threshold: Int32Array.from({ length: g.O }, (_, o) =>
            o % 7 === 5 ? -(2 ** 31) : o % 7 === 6 ? 2 ** 31 - 1 : ((o * 13 + g.seed) % 21) - 10,
          ),
          direction: Int8Array.from({ length: g.O }, (_, o) => ((o + g.seed) % 3 === 0 ? -1 : 1)),
        }
      : null,
  };
  return { p, e };
}

function runBoth(
  k: BinaryKernels,
  p: BinaryConv1dParams,
  e: BinaryConvEpilogue,
  x: Float32Array,
  w: Float32Array,
) {
  const plan = k.prepareBinaryConv1d(packConvWeights(w, p.outChannels, p.inChannels, p.kernelSize), p, e);
  const packed = new Uint32Array(p.batch * p.inLength * Math.ceil(p.inChannels / 32));
  k.signPack(x, packed, { batch: p.batch, channels: p.inChannels, length: p.inLength });
  const make = () =>
    e.thresholds
      ? new Uint32Array(p.batch * plan.outSize).fill(0xdeadbeef)
      : new Float32Array(p.batch * plan.outSize).fill(-7777);
  const a = make();
  plan.run(packed, a);
  const b = make();
  plan.runFloat(x, b);
  return { plan, packed, fromPacked: Array.from(a), fromFloat: Array.from(b) };
}

describe.each(sets)('prepared binary conv and sign packing (%s kernels)', (_name, k) => {
  it('signPack equals the reference bits (0, −0, NaN → +1; odd channel counts; any length)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(32, 64, 96)),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (batch, C, L, seed) => {
          const x = floats(batch * C * L, seed);
          const out = new Uint32Array(batch * L * Math.ceil(C / 32)).fill(0xffffffff);
          k.signPack(x, out, { batch, channels: C, length: L });
          expect(Array.from(out)).toEqual(Array.from(naiveSignPack(x, batch, C, L)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('dots, max pool, float output or thresholds → packed bits equal the ±1 reference (random geometries)', () => {
    fc.assert(
      fc.property(geometry, (g) => {
        const s = setup(g);
        fc.pre(s !== null);
        const { p, e } = s!;
        const x = floats(p.batch * p.inChannels * p.inLength, g.seed);
        const w = floats(p.outChannels * p.inChannels * p.kernelSize, g.seed + 1);
        const ref = refPlan(x, w, p, e);
        const got = runBoth(k, p, e, x, w);
        expect(got.plan.outLength).toBe(ref.outLength);
        expect(got.fromPacked).toEqual(ref.out);
        expect(got.fromFloat).toEqual(ref.out);
        // The kernel-set dots agree with the plan's unpooled float output.
        const dots = new Int32Array(p.batch * p.outChannels * p.outLength);
        k.binaryConv1d(got.packed, packConvWeights(w, p.outChannels, p.inChannels, p.kernelSize), dots, p);
        const plain = refPlan(x, w, p, { pool: null, thresholds: null });
        expect(Array.from(dots)).toEqual(plain.out);
      }),
      { numRuns: 250 },
    );
  });

  it('long receptive fields (more terms than the unrolled kernel takes: the loop kernel) equal the reference', () => {
    fc.assert(
      fc.property(
        fc.record({
          C: fc.integer({ min: 1400, max: 2600 }),
          K: fc.integer({ min: 3, max: 7 }),
          dilation: fc.integer({ min: 1, max: 2 }),
          padValue: fc.constantFrom(0 as const, 1 as const),
          thresholds: fc.boolean(),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        (r) => {
          const W = Math.ceil(r.C / 32);
          expect(binaryTerms(W, r.K, r.dilation).length).toBeGreaterThan(BINARY_DOTS_MAX_TERMS);
          const span = r.dilation * (r.K - 1);
          const L = span + 4;
          const p: BinaryConv1dParams = {
            batch: 1,
            inChannels: r.C,
            outChannels: 3,
            inLength: L,
            outLength: L,
            kernelSize: r.K,
            stride: 1,
            dilation: r.dilation,
            padLeft: span >> 1,
            padValue: r.padValue,
          };
          const e: BinaryConvEpilogue = {
            pool: { kernelSize: 2, stride: 1 },
            thresholds: r.thresholds
              ? { threshold: Int32Array.of(0, -5, 9), direction: Int8Array.of(1, -1, 1) }
              : null,
          };
          const x = floats(r.C * L, r.seed);
          const w = floats(3 * r.C * r.K, r.seed + 1);
          const got = runBoth(k, p, e, x, w);
          const ref = refPlan(x, w, p, e);
          expect(got.fromPacked).toEqual(ref.out);
          expect(got.fromFloat).toEqual(ref.out);
          // binaryConv1d on the loop kernel (plans this long run the reference)
          const dots = new Int32Array(3 * L);
          k.binaryConv1d(got.packed, packConvWeights(w, 3, r.C, r.K), dots, p);
          expect(Array.from(dots)).toEqual(refPlan(x, w, p, { pool: null, thresholds: null }).out);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('rejects bad plans and calls with KernelArgumentError', () => {
    const p: BinaryConv1dParams = {
      batch: 1,
      inChannels: 40,
      outChannels: 3,
      inLength: 10,
      outLength: 10,
      kernelSize: 3,
      stride: 1,
      dilation: 1,
      padLeft: 1,
      padValue: 1,
    };
    const w = new Uint32Array(3 * 3 * 2);
    const none: BinaryConvEpilogue = { pool: null, thresholds: null };
    expect(() => k.prepareBinaryConv1d(new Uint32Array(5), p, none)).toThrow(/weight has 5/);
    expect(() => k.prepareBinaryConv1d(w, { ...p, outLength: 0 }, none)).toThrow(KernelArgumentError);
    expect(() =>
      k.prepareBinaryConv1d(w, p, { pool: { kernelSize: 11, stride: 1 }, thresholds: null }),
    ).toThrow(/bad pool/);
    expect(() =>
      k.prepareBinaryConv1d(w, p, {
        pool: null,
        thresholds: { threshold: new Int32Array(2), direction: new Int8Array(3) },
      }),
    ).toThrow(/thresholds/);
    const plan = k.prepareBinaryConv1d(w, p, none);
    expect(() => plan.run(new Uint32Array(19), new Float32Array(30))).toThrow(/input has 19/);
    expect(() => plan.run(new Uint32Array(20), new Float32Array(29))).toThrow(/output has 29/);
    expect(() => plan.run(new Uint32Array(20), new Uint32Array(30))).toThrow(/Float32Array/);
    expect(() => plan.runFloat(new Float32Array(399), new Float32Array(30))).toThrow(/input has 399/);
    expect(() =>
      k.signPack(new Float32Array(10), new Uint32Array(1), { batch: 1, channels: 2, length: 5 }),
    ).toThrow(/output has 1/);
    expect(() =>
      k.signPack(new Float32Array(10), new Uint32Array(5), { batch: 1, channels: 0, length: 5 }),
    ).toThrow(KernelArgumentError);
  });
});

describe.each(sets)('binary dense and wide padding (%s kernels)', (_name, k) => {
  it('binaryDense equals the ±1 dense product', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 130 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (batch, inF, outF, seed) => {
          const x = floats(batch * inF, seed);
          const w = floats(outF * inF, seed + 1);
          const xs = x.map(sgn);
          const ws = w.map(sgn);
          const out = new Int32Array(batch * outF).fill(12345);
          const p = { batch, inFeatures: inF, outFeatures: outF };
          k.binaryDense(packSigns(xs, inF), packSigns(ws, inF), out, p);
          expect(Array.from(out)).toEqual(Array.from(naiveBinaryDense(x, w, p)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('left padding beyond the receptive field (whole windows of padding) equals the reference', () => {
    for (const padValue of [0, 1] as const) {
      // K 3, padLeft 4: the first two outputs see padding only.
      const p: BinaryConv1dParams = {
        batch: 2,
        inChannels: 35,
        outChannels: 6,
        inLength: 16,
        outLength: 18,
        kernelSize: 3,
        stride: 1,
        dilation: 1,
        padLeft: 4,
        padValue,
      };
      const x = floats(2 * 35 * 16, 5);
      const w = floats(6 * 35 * 3, 6);
      const e: BinaryConvEpilogue = { pool: null, thresholds: null };
      const got = runBoth(k, p, e, x, w);
      expect(got.fromPacked).toEqual(refPlan(x, w, p, e).out);
      expect(got.fromFloat).toEqual(refPlan(x, w, p, e).out);
      const dots = new Int32Array(2 * 6 * 18);
      k.binaryConv1d(got.packed, packConvWeights(w, 6, 35, 3), dots, p);
      expect(Array.from(dots)).toEqual(refPlan(x, w, p, e).out);
    }
  });
});

/** Kinds of non-finite values planted in an input (a negative NaN has the sign bit set, like −∞). */
const NON_FINITE = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 'negative NaN'] as const;

/** `floats` without NaN, then (unless `kind` is null) one non-finite value of that kind at index `at`. */
function plant(n: number, seed: number, kind: (typeof NON_FINITE)[number] | null, at: number): Float32Array {
  const a = floats(n, seed).map((v) => (Number.isNaN(v) ? 0.25 : v));
  if (kind === 'negative NaN') new Uint32Array(a.buffer)[at] = 0xffc00001;
  else if (kind !== null) a[at] = kind;
  return a;
}

describe.each(sets)('finiteness flag of sign packing (%s kernels)', (_name, k) => {
  it('signPack returns false iff some value is NaN or ±∞ (any position: vector blocks, groups, tails)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(32, 64, 96)),
        fc.integer({ min: 1, max: 70 }),
        fc.option(fc.constantFrom(...NON_FINITE), { nil: null }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (batch, C, L, kind, where, seed) => {
          const n = batch * C * L;
          const x = plant(n, seed, kind, Math.floor(where * n));
          const out = new Uint32Array(batch * L * Math.ceil(C / 32));
          expect(k.signPack(x, out, { batch, channels: C, length: L })).toBe(kind === null);
          expect(Array.from(out)).toEqual(Array.from(naiveSignPack(x, batch, C, L)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('runFloat returns false iff some input value is NaN or ±∞, and computes the same output either way', () => {
    fc.assert(
      fc.property(
        geometry,
        fc.option(fc.constantFrom(...NON_FINITE), { nil: null }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (g, kind, where) => {
          const s = setup(g);
          fc.pre(s !== null);
          const { p, e } = s!;
          const n = p.batch * p.inChannels * p.inLength;
          const x = plant(n, g.seed, kind, Math.floor(where * n));
          const w = floats(p.outChannels * p.inChannels * p.kernelSize, g.seed + 1);
          const plan = k.prepareBinaryConv1d(
            packConvWeights(w, p.outChannels, p.inChannels, p.kernelSize),
            p,
            e,
          );
          const out = e.thresholds
            ? new Uint32Array(p.batch * plan.outSize)
            : new Float32Array(p.batch * plan.outSize);
          expect(plan.runFloat(x, out)).toBe(kind === null);
          expect(Array.from(out)).toEqual(refPlan(x, w, p, e).out);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe.each(sets)('binaryConv1d on packed words (%s kernels) = the plain-loop oracle', (_name, k) => {
  /** Random words `[rows][W]` with the bits past `C` zero (conventions.ts §3). */
  function words(rows: number, C: number, seed: number): Uint32Array {
    const W = Math.ceil(C / 32);
    const a = new Uint32Array(rows * W);
    let s = seed >>> 0 || 1;
    for (let i = 0; i < a.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const valid = Math.min(32, C - 32 * (i % W));
      a[i] = valid === 32 ? s : s & ((1 << valid) - 1);
    }
    return a;
  }

  it('word runs around the 31-word popcount chunks, small channel counts, dilation, any padding', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 2 }),
          // 31·32 and 32·32 channels at K 1 put the run of words at the SWAR chunk boundary
          C: fc.oneof(fc.constantFrom(992, 993, 1024, 1056), fc.integer({ min: 1, max: 20 })),
          O: fc.integer({ min: 1, max: 9 }),
          L: fc.integer({ min: 1, max: 12 }),
          K: fc.integer({ min: 1, max: 4 }),
          stride: fc.integer({ min: 1, max: 3 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          padLeft: fc.integer({ min: 0, max: 10 }),
          padRight: fc.integer({ min: 0, max: 10 }),
          padValue: fc.constantFrom(0 as const, 1 as const),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        (g) => {
          const span = g.dilation * (g.K - 1);
          const T = Math.floor((g.L + g.padLeft + g.padRight - span - 1) / g.stride) + 1;
          fc.pre(T >= 1);
          const p: BinaryConv1dParams = {
            batch: g.batch,
            inChannels: g.C,
            outChannels: g.O,
            inLength: g.L,
            outLength: T,
            kernelSize: g.K,
            stride: g.stride,
            dilation: g.dilation,
            padLeft: g.padLeft,
            padValue: g.padValue,
          };
          const x = words(g.batch * g.L, g.C, g.seed);
          const w = words(g.O * g.K, g.C, g.seed + 7);
          const out = new Int32Array(g.batch * g.O * T).fill(-99999);
          k.binaryConv1d(x, w, out, p);
          expect(Array.from(out)).toEqual(Array.from(naivePackedBinaryConv1d(x, w, p)));
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('WebAssembly binary kernels', () => {
  it('every emitted module validates and stays under 4 KiB (synchronous compile on browsers’ main thread)', () => {
    const sizes: number[] = [buildBinaryHelperModule().length];
    expect(WebAssembly.validate(buildBinaryHelperModule())).toBe(true);
    for (let n = 1; n <= BINARY_DOTS_MAX_TERMS; n++) {
      const { tc, tt } = binaryDotsTile(n);
      for (const float of [false, true]) {
        // all wide terms but the last (the largest code for n terms)
        const bytes = buildBinaryDotsModule({
          terms: binaryTerms(2 * n - 1, 1, 1),
          posStep: 1 << 20,
          tc,
          tt,
          totalBits: 1 << 20,
          float,
        });
        expect(WebAssembly.validate(bytes)).toBe(true);
        sizes.push(bytes.length);
      }
    }
    const loop = buildBinaryDotsLoopModule(
      { terms: binaryTerms(500, 1, 1), posStep: 4000, tc: 1, tt: 1, totalBits: 16000, float: false },
      { taps: 1, tapStride: 0, chunks: 7, rest: binaryTerms(52, 1, 1) },
    );
    expect(WebAssembly.validate(loop)).toBe(true);
    sizes.push(loop.length);
    expect(Math.max(...sizes)).toBeLessThan(4096);
  });

  it.runIf(wasm !== null)('plans stay right when the memory grows between two calls (no stale views)', () => {
    const k = getWasmKernels({ initialMemoryBytes: 65536 })!;
    const p: BinaryConv1dParams = {
      batch: 1,
      inChannels: 64,
      outChannels: 16,
      inLength: 300,
      outLength: 300,
      kernelSize: 5,
      stride: 1,
      dilation: 1,
      padLeft: 2,
      padValue: 1,
    };
    const x = floats(64 * 300, 3);
    const w = floats(16 * 64 * 5, 4);
    const thr: BinaryConvEpilogue = {
      pool: { kernelSize: 3, stride: 2 },
      thresholds: { threshold: new Int32Array(16).fill(4), direction: new Int8Array(16).fill(1) },
    };
    const plans = [
      k.prepareBinaryConv1d(packConvWeights(w, 16, 64, 5), p, { pool: null, thresholds: null }),
      k.prepareBinaryConv1d(packConvWeights(w, 16, 64, 5), p, thr),
    ];
    const expected = [refPlan(x, w, p, { pool: null, thresholds: null }).out, refPlan(x, w, p, thr).out];
    const outs = () => [new Float32Array(plans[0].outSize), new Uint32Array(plans[1].outSize)];
    const first = outs();
    for (let i = 0; i < 2; i++) plans[i].runFloat(x, first[i]);
    const buffer = k.arena.memory.buffer;
    const before = k.arena.byteLength;
    k.arena.reserve(before + 5 * 65536); // growth detaches the buffer the plans made their views on
    expect(buffer.byteLength).toBe(0);
    const second = outs();
    for (let i = 0; i < 2; i++) plans[i].runFloat(x, second[i]);
    // … and a large call of another kernel in between grows it again
    const big = 1 << 20;
    k.signPack(new Float32Array(big), new Uint32Array(big / 32), {
      batch: 1,
      channels: 32,
      length: big / 32,
    });
    const third = outs();
    for (let i = 0; i < 2; i++) plans[i].runFloat(x, third[i]);
    for (let i = 0; i < 2; i++) {
      expect(Array.from(first[i])).toEqual(expected[i]);
      expect(Array.from(second[i])).toEqual(expected[i]);
      expect(Array.from(third[i])).toEqual(expected[i]);
    }
  });

  it.runIf(wasm !== null)(
    'binaryConv1d sees weights changed in place between two calls of one geometry',
    () => {
      const k = wasm!;
      const p: BinaryConv1dParams = {
        batch: 1,
        inChannels: 33,
        outChannels: 4,
        inLength: 12,
        outLength: 12,
        kernelSize: 3,
        stride: 1,
        dilation: 1,
        padLeft: 1,
        padValue: 0,
      };
      const x = floats(33 * 12, 8);
      const wf = floats(4 * 33 * 3, 9);
      const packed = new Uint32Array(12 * 2);
      k.signPack(x, packed, { batch: 1, channels: 33, length: 12 });
      const w = packConvWeights(wf, 4, 33, 3);
      const a = new Int32Array(48);
      k.binaryConv1d(packed, w, a, p);
      expect(Array.from(a)).toEqual(refPlan(x, wf, p, { pool: null, thresholds: null }).out);
      // Flip one weight bit in place: word (o 0, tap 2, word 0) = 4, bit 4 → input channel 4 of tap 2.
      w[4] ^= 0x10;
      const wf2 = wf.slice();
      wf2[4 * 3 + 2] = -sgn(wf2[4 * 3 + 2]);
      const b = new Int32Array(48);
      k.binaryConv1d(packed, w, b, p);
      expect(Array.from(b)).toEqual(refPlan(x, wf2, p, { pool: null, thresholds: null }).out);
      expect(Array.from(b)).not.toEqual(Array.from(a));
    },
  );
});
