// WebAssembly SIMD kernels and their TypeScript fallback, both checked against naive float64
// references over fast-check random shapes (odd lengths, size-1 dims, groups, dilation, stride).

import { packConvWeights, packSigns } from '@ecgnn/kernels';
import {
  type BinaryConv1dParams,
  buildKernelModule,
  type Conv1dParams,
  createKernels,
  getWasmKernels,
  KernelArgumentError,
  type Kernels,
  loadWasmKernels,
  ModuleBuilder,
  type Pool1dParams,
  sleb128,
  tsKernels,
  uleb128,
  ValType,
  wasmSimdSupported,
} from '@ecgnn/kernels/wasm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// ---------------------------------------------------------------------------------------------
// Naive references (float64, direct from the definitions).

function naiveMatmul(
  a: Float32Array,
  b: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  sa: number,
  sb: number,
): Float64Array {
  const out = new Float64Array(batch * m * n);
  for (let bt = 0; bt < batch; bt++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a[bt * sa + p * m + i] : a[bt * sa + i * k + p];
          const bv = transB ? b[bt * sb + j * k + p] : b[bt * sb + p * n + j];
          s += av * bv;
        }
        out[(bt * m + i) * n + j] = s;
      }
  return out;
}

/** Input value at padded position (padValue outside [0, L)). */
function xAt(x: Float32Array, p: Conv1dParams, b: number, c: number, i: number): number {
  return i >= 0 && i < p.inLength ? x[(b * p.inChannels + c) * p.inLength + i] : p.padValue;
}

function naiveConvForward(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  p: Conv1dParams,
): Float64Array {
  const cg = p.inChannels / p.groups;
  const og = p.outChannels / p.groups;
  const out = new Float64Array(p.batch * p.outChannels * p.outLength);
  for (let b = 0; b < p.batch; b++)
    for (let o = 0; o < p.outChannels; o++)
      for (let t = 0; t < p.outLength; t++) {
        const g = Math.floor(o / og);
        let s = bias ? bias[o] : 0;
        for (let c = 0; c < cg; c++)
          for (let j = 0; j < p.kernelSize; j++)
            s +=
              w[(o * cg + c) * p.kernelSize + j] *
              xAt(x, p, b, g * cg + c, t * p.stride + j * p.dilation - p.padLeft);
        out[(b * p.outChannels + o) * p.outLength + t] = p.activation === 'relu' ? Math.max(0, s) : s;
      }
  return out;
}

function naiveConvBackwardInput(gradOut: Float32Array, w: Float32Array, p: Conv1dParams): Float64Array {
  const cg = p.inChannels / p.groups;
  const og = p.outChannels / p.groups;
  const gx = new Float64Array(p.batch * p.inChannels * p.inLength);
  for (let b = 0; b < p.batch; b++)
    for (let o = 0; o < p.outChannels; o++)
      for (let t = 0; t < p.outLength; t++) {
        const g = Math.floor(o / og);
        const go = gradOut[(b * p.outChannels + o) * p.outLength + t];
        for (let c = 0; c < cg; c++)
          for (let j = 0; j < p.kernelSize; j++) {
            const i = t * p.stride + j * p.dilation - p.padLeft;
            if (i >= 0 && i < p.inLength)
              gx[(b * p.inChannels + g * cg + c) * p.inLength + i] += w[(o * cg + c) * p.kernelSize + j] * go;
          }
      }
  return gx;
}

function naiveConvBackwardWeight(x: Float32Array, gradOut: Float32Array, p: Conv1dParams): Float64Array {
  const cg = p.inChannels / p.groups;
  const og = p.outChannels / p.groups;
  const gw = new Float64Array(p.outChannels * cg * p.kernelSize);
  for (let b = 0; b < p.batch; b++)
    for (let o = 0; o < p.outChannels; o++)
      for (let t = 0; t < p.outLength; t++) {
        const g = Math.floor(o / og);
        const go = gradOut[(b * p.outChannels + o) * p.outLength + t];
        for (let c = 0; c < cg; c++)
          for (let j = 0; j < p.kernelSize; j++)
            gw[(o * cg + c) * p.kernelSize + j] +=
              go * xAt(x, p, b, g * cg + c, t * p.stride + j * p.dilation - p.padLeft);
      }
  return gw;
}

/** ±1 reference of a binary conv: float dot over valid taps (padValue 0 taps skipped). */
function naiveBinaryConv(xs: Float32Array, ws: Float32Array, p: BinaryConv1dParams): Int32Array {
  // xs: [batch, L, C] signs; ws: [outC, C, K] signs
  const out = new Int32Array(p.batch * p.outChannels * p.outLength);
  for (let b = 0; b < p.batch; b++)
    for (let o = 0; o < p.outChannels; o++)
      for (let t = 0; t < p.outLength; t++) {
        let s = 0;
        for (let j = 0; j < p.kernelSize; j++) {
          const i = t * p.stride + j * p.dilation - p.padLeft;
          for (let c = 0; c < p.inChannels; c++) {
            const xv = i >= 0 && i < p.inLength ? xs[(b * p.inLength + i) * p.inChannels + c] : p.padValue;
            s += xv * ws[(o * p.inChannels + c) * p.kernelSize + j];
          }
        }
        out[(b * p.outChannels + o) * p.outLength + t] = s;
      }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Deterministic pseudo-random floats in [−1, 1) (LCG; fast-check supplies the seed). */
function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  n: number,
  what: string,
  scale = 1,
): void {
  for (let i = 0; i < n; i++) {
    const tol = 1e-4 * scale * (1 + Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

const wasm = getWasmKernels();
const implementations: [string, Kernels][] = [['typescript', tsKernels]];
if (wasm) implementations.push(['wasm-simd', wasm]);

const convArb = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 6 }),
    og: fc.integer({ min: 1, max: 6 }),
    inLength: fc.integer({ min: 1, max: 40 }),
    kernelSize: fc.integer({ min: 1, max: 7 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 3 }),
    padFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    padRight: fc.integer({ min: 0, max: 4 }),
    padValue: fc.constantFrom(0, 1, -0.5),
    relu: fc.boolean(),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map((r) => {
    const span = r.dilation * (r.kernelSize - 1);
    const padLeft = Math.floor(r.padFrac * span);
    const inLength = Math.max(r.inLength, span + 1 - padLeft); // at least one output
    const outLength = Math.floor((inLength + padLeft + r.padRight - span - 1) / r.stride) + 1;
    const p: Conv1dParams = {
      batch: r.batch,
      inChannels: r.cg * r.groups,
      outChannels: r.og * r.groups,
      inLength,
      outLength,
      kernelSize: r.kernelSize,
      stride: r.stride,
      dilation: r.dilation,
      padLeft,
      groups: r.groups,
      padValue: r.padValue,
      activation: r.relu ? 'relu' : 'none',
    };
    return { p, seed: r.seed };
  });

// ---------------------------------------------------------------------------------------------

describe('WebAssembly module builder', () => {
  it('encodes LEB128 as in the specification examples', () => {
    expect(uleb128(0)).toEqual([0]);
    expect(uleb128(127)).toEqual([0x7f]);
    expect(uleb128(128)).toEqual([0x80, 0x01]);
    expect(uleb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(63)).toEqual([0x3f]);
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(() => uleb128(-1)).toThrow();
  });

  it('builds a scalar module that validates and computes', () => {
    const mb = new ModuleBuilder();
    mb.addFunction('sumTo', [ValType.i32], [ValType.i32], (c) => {
      const i = c.local(ValType.i32);
      const acc = c.local(ValType.i32);
      c.forLoop(i, 0, { local: 0 }, 1, () => {
        c.addTo(acc, { local: i });
      });
      c.localGet(acc);
    });
    const bytes = mb.build();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    expect((inst.exports.sumTo as (n: number) => number)(10)).toBe(45);
  });

  it('emits a kernel module that validates (SIMD engines)', () => {
    const bytes = buildKernelModule();
    expect(bytes.length).toBeLessThan(4096); // synchronous compile stays allowed on browsers' main thread
    if (wasmSimdSupported()) expect(WebAssembly.validate(bytes)).toBe(true);
  });
});

describe('kernel selection and fallback', () => {
  it('uses WASM SIMD on Node 20 (which has SIMD)', () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(createKernels().kind).toBe('wasm-simd');
  });

  it('compiles asynchronously for browsers (loadWasmKernels)', async () => {
    const k = await loadWasmKernels();
    expect(k?.kind).toBe('wasm-simd');
    expect(await loadWasmKernels({ simd: false })).toBeNull();
    expect(await loadWasmKernels({ detect: () => false })).toBeNull();
  });

  it('falls back to TypeScript when SIMD is reported missing or switched off', () => {
    expect(getWasmKernels({ detect: () => false })).toBeNull();
    expect(createKernels({ detect: () => false }).kind).toBe('typescript');
    expect(createKernels({ simd: false })).toBe(tsKernels);
    // and the fallback computes
    const k = createKernels({ detect: () => false });
    const out = new Float32Array(4);
    k.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), out, 1, 2, 2, 2, false, false);
    expect([...out]).toEqual([1, 2, 3, 4]);
  });
});

describe.each(implementations)('%s kernels', (_name, k) => {
  it('matmul on fixed values, with transposes and accumulate', () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]); // 2×3
    const b = new Float32Array([1, 0, -1, 2, 0.5, 1]); // 3×2
    const out = new Float32Array(4);
    k.matmul(a, b, out, 1, 2, 3, 2, false, false);
    expect([...out]).toEqual([0.5, 7, 2, 16]);
    k.matmul(a, b, out, 1, 2, 3, 2, false, false, true);
    expect([...out]).toEqual([1, 14, 4, 32]);
  });

  it('matmul matches the naive reference (random shapes, transposes, broadcast)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 1, max: 23 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('none', 'a', 'b'),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (batch, m, kk, n, tA, tB, bcast, seed) => {
          const sa = bcast === 'a' ? 0 : m * kk;
          const sb = bcast === 'b' ? 0 : kk * n;
          const a = randomArray(bcast === 'a' ? m * kk : batch * m * kk, seed);
          const b = randomArray(bcast === 'b' ? kk * n : batch * kk * n, seed + 7);
          const out = new Float32Array(batch * m * n).fill(Number.NaN);
          k.matmul(a, b, out, batch, m, kk, n, tA, tB, { batchStrideA: sa, batchStrideB: sb });
          expectClose(out, naiveMatmul(a, b, batch, m, kk, n, tA, tB, sa, sb), out.length, 'matmul');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('conv1d forward on fixed values (padding with a constant)', () => {
    // x = [1, 2, 3], w = [1, 10, 100], padLeft 1, pad value −1, outLength 3
    const p: Conv1dParams = {
      batch: 1,
      inChannels: 1,
      outChannels: 1,
      inLength: 3,
      outLength: 3,
      kernelSize: 3,
      stride: 1,
      dilation: 1,
      padLeft: 1,
      groups: 1,
      padValue: -1,
    };
    const out = new Float32Array(3);
    k.conv1dForward(
      new Float32Array([1, 2, 3]),
      new Float32Array([1, 10, 100]),
      new Float32Array([0.5]),
      out,
      p,
    );
    expect([...out]).toEqual([-1 + 10 + 200 + 0.5, 1 + 20 + 300 + 0.5, 2 + 30 - 100 + 0.5]);
  });

  it('conv1d forward matches the naive reference', () => {
    fc.assert(
      fc.property(convArb, fc.boolean(), ({ p, seed }, withBias) => {
        const cg = p.inChannels / p.groups;
        const x = randomArray(p.batch * p.inChannels * p.inLength, seed);
        const w = randomArray(p.outChannels * cg * p.kernelSize, seed + 1);
        const bias = withBias ? randomArray(p.outChannels, seed + 2) : null;
        const out = new Float32Array(p.batch * p.outChannels * p.outLength).fill(Number.NaN);
        k.conv1dForward(x, w, bias, out, p);
        expectClose(out, naiveConvForward(x, w, bias, p), out.length, `forward ${JSON.stringify(p)}`);
      }),
      { numRuns: 120 },
    );
  });

  it('conv1d backward input matches the naive reference', () => {
    fc.assert(
      fc.property(convArb, ({ p, seed }) => {
        const cg = p.inChannels / p.groups;
        const g = randomArray(p.batch * p.outChannels * p.outLength, seed);
        const w = randomArray(p.outChannels * cg * p.kernelSize, seed + 1);
        const gx = new Float32Array(p.batch * p.inChannels * p.inLength).fill(Number.NaN);
        k.conv1dBackwardInput(g, w, gx, p);
        expectClose(gx, naiveConvBackwardInput(g, w, p), gx.length, `backward input ${JSON.stringify(p)}`);
      }),
      { numRuns: 120 },
    );
  });

  it('conv1d backward weight matches the naive reference', () => {
    fc.assert(
      fc.property(convArb, ({ p, seed }) => {
        const cg = p.inChannels / p.groups;
        const x = randomArray(p.batch * p.inChannels * p.inLength, seed);
        const g = randomArray(p.batch * p.outChannels * p.outLength, seed + 1);
        const gw = new Float32Array(p.outChannels * cg * p.kernelSize).fill(Number.NaN);
        k.conv1dBackwardWeight(x, g, gw, p);
        expectClose(
          gw,
          naiveConvBackwardWeight(x, g, p),
          gw.length,
          `backward weight ${JSON.stringify(p)}`,
          10,
        );
      }),
      { numRuns: 120 },
    );
  });

  it('larger conv shapes cross the register tiles and the reduction blocks', () => {
    for (const p of [
      // kernel 7 same padding, as in the benchmark (long reduction for the weight gradient)
      {
        batch: 3,
        inChannels: 5,
        outChannels: 9,
        inLength: 301,
        outLength: 301,
        kernelSize: 7,
        stride: 1,
        dilation: 1,
        padLeft: 3,
        groups: 1,
        padValue: 0,
      },
      // depthwise, channel multiplier 2
      {
        batch: 2,
        inChannels: 5,
        outChannels: 10,
        inLength: 77,
        outLength: 73,
        kernelSize: 5,
        stride: 1,
        dilation: 1,
        padLeft: 0,
        groups: 5,
        padValue: 0,
      },
      // depthwise, stride 2
      {
        batch: 2,
        inChannels: 6,
        outChannels: 6,
        inLength: 50,
        outLength: 25,
        kernelSize: 4,
        stride: 2,
        dilation: 1,
        padLeft: 1,
        groups: 6,
        padValue: 0.25,
      },
    ] satisfies Conv1dParams[]) {
      const cg = p.inChannels / p.groups;
      const x = randomArray(p.batch * p.inChannels * p.inLength, 3);
      const w = randomArray(p.outChannels * cg * p.kernelSize, 4);
      const g = randomArray(p.batch * p.outChannels * p.outLength, 5);
      const out = new Float32Array(p.batch * p.outChannels * p.outLength);
      k.conv1dForward(x, w, null, out, p);
      expectClose(out, naiveConvForward(x, w, null, p), out.length, 'forward');
      const gx = new Float32Array(x.length);
      k.conv1dBackwardInput(g, w, gx, p);
      expectClose(gx, naiveConvBackwardInput(g, w, p), gx.length, 'backward input');
      const gw = new Float32Array(w.length);
      k.conv1dBackwardWeight(x, g, gw, p);
      expectClose(gw, naiveConvBackwardWeight(x, g, p), gw.length, 'backward weight', 30);
    }
  });

  it('max and average pooling match the definitions (count_include_pad = false)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (batch, channels, inLength, kernelSize, stride, pl, seed) => {
          const padLeft = Math.min(pl, kernelSize - 1);
          const outLength = Math.floor((inLength + 2 * padLeft - kernelSize) / stride) + 1;
          fc.pre(outLength >= 1);
          const p: Pool1dParams = { batch, channels, inLength, outLength, kernelSize, stride, padLeft };
          const x = randomArray(batch * channels * inLength, seed);
          const mx = new Float32Array(batch * channels * outLength);
          const arg = new Int32Array(mx.length);
          const av = new Float32Array(mx.length);
          k.maxPool1dForward(x, mx, arg, p);
          k.avgPool1dForward(x, av, p);
          for (let r = 0; r < batch * channels; r++)
            for (let t = 0; t < outLength; t++) {
              const win: number[] = [];
              for (let j = 0; j < kernelSize; j++) {
                const i = t * stride - padLeft + j;
                if (i >= 0 && i < inLength) win.push(x[r * inLength + i]);
              }
              const o = r * outLength + t;
              if (win.length === 0) {
                expect(arg[o]).toBe(-1);
                expect(av[o]).toBe(0);
                continue;
              }
              expect(mx[o]).toBe(Math.max(...win));
              expect(x[r * inLength + arg[o]]).toBe(mx[o]);
              expect(av[o]).toBeCloseTo(win.reduce((s, v) => s + v, 0) / win.length, 5);
            }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('max pooling on fixed values: padding never wins, NaN propagates', () => {
    const x = new Float32Array([-5, -1, 3, Number.NaN, 2, 7]);
    const out = new Float32Array(4);
    const arg = new Int32Array(4);
    // kernel 2, stride 2, padLeft 1: windows [pad,-5] [-1,3] [NaN,2] [7,pad]
    k.maxPool1dForward(x, out, arg, {
      batch: 1,
      channels: 1,
      inLength: 6,
      outLength: 4,
      kernelSize: 2,
      stride: 2,
      padLeft: 1,
    });
    expect([...out]).toEqual([-5, 3, Number.NaN, 7]);
    expect([...arg]).toEqual([0, 2, 3, 5]);
    const avg = new Float32Array(4);
    k.avgPool1dForward(x, avg, {
      batch: 1,
      channels: 1,
      inLength: 6,
      outLength: 4,
      kernelSize: 2,
      stride: 2,
      padLeft: 1,
    });
    expect(avg[0]).toBe(-5);
    expect(avg[1]).toBe(1);
    expect(avg[3]).toBe(7);
  });

  it('binary conv1d matches the ±1 float reference (padding +1 and 0, odd channel counts)', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 2 }),
          inChannels: fc.integer({ min: 1, max: 100 }),
          outChannels: fc.integer({ min: 1, max: 9 }),
          inLength: fc.integer({ min: 1, max: 25 }),
          kernelSize: fc.integer({ min: 1, max: 6 }),
          stride: fc.integer({ min: 1, max: 3 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          padFrac: fc.double({ min: 0, max: 1, noNaN: true }),
          padRight: fc.integer({ min: 0, max: 3 }),
          padValue: fc.constantFrom(0 as const, 1 as const),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        (r) => {
          const span = r.dilation * (r.kernelSize - 1);
          const padLeft = Math.floor(r.padFrac * span);
          const inLength = Math.max(r.inLength, span + 1 - padLeft);
          const outLength = Math.floor((inLength + padLeft + r.padRight - span - 1) / r.stride) + 1;
          const p: BinaryConv1dParams = { ...r, inLength, outLength, padLeft };
          // signs: x as [batch, L, C] (time-major, as packed), w as [outC, C, K]
          const xs = randomArray(r.batch * inLength * r.inChannels, r.seed).map((v) => (v < 0 ? -1 : 1));
          const ws = randomArray(r.outChannels * r.inChannels * r.kernelSize, r.seed + 1).map((v) =>
            v < 0 ? -1 : 1,
          );
          const xp = packSigns(xs, r.inChannels);
          const wp = packConvWeights(ws, r.outChannels, r.inChannels, r.kernelSize);
          const out = new Int32Array(r.batch * r.outChannels * outLength).fill(12345);
          k.binaryConv1d(xp, wp, out, p);
          expect([...out]).toEqual([...naiveBinaryConv(xs, ws, p)]);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('binary dense matches the ±1 float reference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 130 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (batch, inF, outF, seed) => {
          const xs = randomArray(batch * inF, seed).map((v) => (v < 0 ? -1 : 1));
          const ws = randomArray(outF * inF, seed + 1).map((v) => (v < 0 ? -1 : 1));
          const out = new Int32Array(batch * outF);
          k.binaryDense(packSigns(xs, inF), packSigns(ws, inF), out, {
            batch,
            inFeatures: inF,
            outFeatures: outF,
          });
          for (let b = 0; b < batch; b++)
            for (let o = 0; o < outF; o++) {
              let s = 0;
              for (let i = 0; i < inF; i++) s += xs[b * inF + i] * ws[o * inF + i];
              expect(out[b * outF + o]).toBe(s);
            }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects inconsistent arguments with KernelArgumentError', () => {
    const p: Conv1dParams = {
      batch: 1,
      inChannels: 3,
      outChannels: 4,
      inLength: 10,
      outLength: 10,
      kernelSize: 3,
      stride: 1,
      dilation: 1,
      padLeft: 1,
      groups: 2,
      padValue: 0,
    };
    const f = new Float32Array(100);
    expect(() => k.conv1dForward(f, f, null, f, p)).toThrow(KernelArgumentError); // 3 channels, 2 groups
    expect(() => k.conv1dForward(new Float32Array(5), f, null, f, { ...p, inChannels: 2 })).toThrow(
      /input has 5/,
    );
    expect(() => k.matmul(f, f, new Float32Array(3), 1, 2, 2, 2, false, false)).toThrow(/out has 3/);
    expect(() => k.matmul(f, f, f, 1, 0, 2, 2, false, false)).toThrow(KernelArgumentError);
  });
});

describe('WebAssembly memory growth', () => {
  it('results stay right when memory grows between two kernel calls', () => {
    const k = getWasmKernels({ initialMemoryBytes: 65536 });
    expect(k).not.toBeNull();
    if (!k) return;
    const p: Conv1dParams = {
      batch: 2,
      inChannels: 3,
      outChannels: 5,
      inLength: 40,
      outLength: 40,
      kernelSize: 3,
      stride: 1,
      dilation: 1,
      padLeft: 1,
      groups: 1,
      padValue: 0,
    };
    const x = randomArray(2 * 3 * 40, 1);
    const w = randomArray(5 * 3 * 3, 2);
    const expected = naiveConvForward(x, w, null, p);
    const out1 = new Float32Array(2 * 5 * 40);
    k.conv1dForward(x, w, null, out1, p);
    expectClose(out1, expected, out1.length, 'before growth');
    const before = k.arena.byteLength;
    const buffer = k.arena.memory.buffer;
    // A large matmul forces memory.grow (old ArrayBuffer detached) …
    const n = 300;
    const a = randomArray(n * n, 3);
    const big = new Float32Array(n * n);
    k.matmul(a, a, big, 1, n, n, n, false, false);
    expect(k.arena.byteLength).toBeGreaterThan(before);
    expect(buffer.byteLength).toBe(0); // detached by the growth
    expectClose(big.subarray(0, 3 * n), naiveMatmul(a, a, 1, 3, n, n, false, false, 0, 0), 3 * n, 'grown');
    // … and the next small call must use fresh views.
    const out2 = new Float32Array(2 * 5 * 40);
    k.conv1dForward(x, w, null, out2, p);
    expect([...out2]).toEqual([...out1]);
    // explicit growth through the arena as well
    k.arena.reserve(k.arena.byteLength + 3 * 65536);
    const out3 = new Float32Array(2 * 5 * 40);
    k.conv1dForward(x, w, null, out3, p);
    expect([...out3]).toEqual([...out1]);
  });
});
