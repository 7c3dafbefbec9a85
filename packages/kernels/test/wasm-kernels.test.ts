// The WebAssembly SIMD kernel set and the reference kernels (`ref/`: register-tiled) against the naive oracles
// of @ecgnn/kernels/testing, over fast-check random shapes (odd lengths, size-1 dims, groups, dilation,
// stride), float32 and float64 (WebAssembly: float64 and geometries it does not take run the reference kernel
// inside the set); plus the module builder, kernel selection and memory growth.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Conv1dParams, FloatArray, Kernels, Pool1dParams } from '../src/contract.js';
import { referenceKernels } from '../src/ref/index.js';
import {
  naiveAvgPool1d,
  naiveConv1dBackwardInput,
  naiveConv1dBackwardWeight,
  naiveConv1dForward,
  naiveMatmul,
  naiveMaxPool1d,
} from '../src/testing.js';
import {
  buildKernelModule,
  createKernels,
  getWasmKernels,
  loadWasmKernels,
  ModuleBuilder,
  sleb128,
  uleb128,
  ValType,
  wasmSimdSupported,
} from '../src/wasm/index.js';

// ---------------------------------------------------------------------------------------------
// Helpers

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Deterministic pseudo-random floats in [−1, 1) (LCG; fast-check supplies the seed). */
function randomArray(n: number, seed: number, T: FloatCtor = Float32Array): FloatArray {
  const a = new T(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

/** Tolerance per element: float32 1e-4 relative (times `scale` for long reductions), float64 1e-11. */
function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  n: number,
  what: string,
  scale = 1,
): void {
  const rel = actual instanceof Float64Array ? 1e-11 : 1e-4;
  for (let i = 0; i < n; i++) {
    const tol = rel * scale * (1 + Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

type FloatKernels = Pick<
  Kernels,
  'matmul' | 'conv1dForward' | 'conv1dBackwardInput' | 'conv1dBackwardWeight' | 'maxPool1d' | 'avgPool1d'
>;

const wasm = getWasmKernels();
const implementations: [string, FloatKernels][] = [['reference', referenceKernels]];
// The WebAssembly set has no average pooling (memory-bound: the reference loop is as fast): resolve it as users do.
if (wasm) implementations.push(['wasm-simd', { ...referenceKernels, ...wasm }]);

/** Conv geometries; `wide` also draws padding beyond the receptive field (whole windows of padding). */
function convArb(wide: boolean) {
  return fc
    .record({
      batch: fc.integer({ min: 1, max: 3 }),
      groups: fc.integer({ min: 1, max: 3 }),
      cg: fc.integer({ min: 1, max: 6 }),
      og: fc.integer({ min: 1, max: 6 }),
      inLength: fc.integer({ min: 1, max: 40 }),
      kernelSize: fc.integer({ min: 1, max: 7 }),
      stride: fc.integer({ min: 1, max: 3 }),
      dilation: fc.integer({ min: 1, max: 3 }),
      padFrac: fc.double({ min: 0, max: wide ? 2 : 1, noNaN: true }),
      padRight: fc.integer({ min: 0, max: wide ? 12 : 4 }),
      padValue: fc.constantFrom(0, 1, -0.5),
      relu: fc.boolean(),
      f64: fc.boolean(),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    })
    .map((r) => {
      const span = r.dilation * (r.kernelSize - 1);
      const padLeft = Math.floor(r.padFrac * span) + (wide && r.padFrac > 1 ? 1 : 0);
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
      return { p, seed: r.seed, T: r.f64 ? Float64Array : Float32Array };
    });
}

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
    expect(createKernels().avgPool1d).toBe(referenceKernels.avgPool1d);
  });

  it('compiles asynchronously for browsers (loadWasmKernels)', async () => {
    const k = await loadWasmKernels();
    expect(k?.kind).toBe('wasm-simd');
    expect(await loadWasmKernels({ simd: false })).toBeNull();
    expect(await loadWasmKernels({ detect: () => false })).toBeNull();
  });

  it('falls back to the reference kernels when SIMD is reported missing or switched off', () => {
    expect(getWasmKernels({ detect: () => false })).toBeNull();
    const k = createKernels({ detect: () => false });
    expect(k.kind).toBe('typescript');
    expect(createKernels({ simd: false }).conv1dForward).toBe(referenceKernels.conv1dForward);
    // and the fallback computes
    const out = new Float32Array(4);
    k.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), out, {
      batch: 1,
      m: 2,
      k: 2,
      n: 2,
      transA: false,
      transB: false,
    });
    expect([...out]).toEqual([1, 2, 3, 4]);
  });
});

describe.each(implementations)('%s kernels', (_name, k) => {
  /** `conv1dBackwardWeight` of `k` on random data against the naive oracle (tolerance factor `tol`). */
  function checkWeightGrad(p: Conv1dParams, seed: number, T: FloatCtor, tol: number): void {
    const x = randomArray(p.batch * p.inChannels * p.inLength, seed, T);
    const g = randomArray(p.batch * p.outChannels * p.outLength, seed + 1, T);
    const gw = new T(p.outChannels * (p.inChannels / p.groups) * p.kernelSize).fill(Number.NaN);
    k.conv1dBackwardWeight(x, g, gw, p);
    expectClose(
      gw,
      naiveConv1dBackwardWeight(x, g, p),
      gw.length,
      `backward weight ${JSON.stringify(p)}`,
      tol,
    );
  }

  it('matmul on fixed values, with transposes and accumulate', () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]); // 2×3
    const b = new Float32Array([1, 0, -1, 2, 0.5, 1]); // 3×2
    const out = new Float32Array(4);
    const p = { batch: 1, m: 2, k: 3, n: 2, transA: false, transB: false };
    k.matmul(a, b, out, p);
    expect([...out]).toEqual([0.5, 7, 2, 16]);
    k.matmul(a, b, out, { ...p, accumulate: true });
    expect([...out]).toEqual([1, 14, 4, 32]);
  });

  it('matmul matches the naive oracle (random shapes, transposes, broadcast, accumulate, float32/64)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 1, max: 23 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('none', 'a', 'b'),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (batch, m, kk, n, tA, tB, bcast, accumulate, f64, seed) => {
          const T = f64 ? Float64Array : Float32Array;
          const p = {
            batch,
            m,
            k: kk,
            n,
            transA: tA,
            transB: tB,
            batchStrideA: bcast === 'a' ? 0 : m * kk,
            batchStrideB: bcast === 'b' ? 0 : kk * n,
            accumulate,
          };
          const a = randomArray(bcast === 'a' ? m * kk : batch * m * kk, seed, T);
          const b = randomArray(bcast === 'b' ? kk * n : batch * kk * n, seed + 7, T);
          const init = randomArray(batch * m * n, seed + 9, T);
          const out = accumulate ? init.slice() : new T(batch * m * n).fill(Number.NaN);
          k.matmul(a, b, out, p);
          const want = naiveMatmul(a, b, p);
          if (accumulate) for (let i = 0; i < want.length; i++) want[i] += init[i];
          expectClose(out, want, out.length, 'matmul');
        },
      ),
      { numRuns: 80 },
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

  for (const wide of [false, true]) {
    const padding = wide ? 'any padding (whole windows of padding)' : 'padding within the receptive field';
    it(`conv1d forward matches the naive oracle, ${padding}`, () => {
      fc.assert(
        fc.property(convArb(wide), fc.boolean(), ({ p, seed, T }, withBias) => {
          const cg = p.inChannels / p.groups;
          const x = randomArray(p.batch * p.inChannels * p.inLength, seed, T);
          const w = randomArray(p.outChannels * cg * p.kernelSize, seed + 1, T);
          const bias = withBias ? randomArray(p.outChannels, seed + 2, T) : null;
          const out = new T(p.batch * p.outChannels * p.outLength).fill(Number.NaN);
          k.conv1dForward(x, w, bias, out, p);
          expectClose(out, naiveConv1dForward(x, w, bias, p), out.length, `forward ${JSON.stringify(p)}`);
        }),
        { numRuns: 120 },
      );
    });

    it(`conv1d backward input matches the naive oracle, ${padding}`, () => {
      fc.assert(
        fc.property(convArb(wide), ({ p, seed, T }) => {
          const cg = p.inChannels / p.groups;
          const g = randomArray(p.batch * p.outChannels * p.outLength, seed, T);
          const w = randomArray(p.outChannels * cg * p.kernelSize, seed + 1, T);
          const gx = new T(p.batch * p.inChannels * p.inLength).fill(Number.NaN);
          k.conv1dBackwardInput(g, w, gx, p);
          expectClose(
            gx,
            naiveConv1dBackwardInput(g, w, p),
            gx.length,
            `backward input ${JSON.stringify(p)}`,
          );
        }),
        { numRuns: 120 },
      );
    });

    it(`conv1d backward weight matches the naive oracle, ${padding}`, () => {
      fc.assert(
        fc.property(convArb(wide), ({ p, seed, T }) => checkWeightGrad(p, seed, T, 10)),
        { numRuns: 120 },
      );
    });
  }

  it('conv1d backward weight, ungrouped stride 1 with 12+ input channels (WASM: gemm per tap), matches the naive oracle', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 14 }),
          inChannels: fc.integer({ min: 12, max: 40 }),
          outChannels: fc.integer({ min: 1, max: 40 }),
          inLength: fc.integer({ min: 1, max: 320 }),
          kernelSize: fc.integer({ min: 1, max: 7 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          padFrac: fc.double({ min: 0, max: 1, noNaN: true }),
          padRight: fc.integer({ min: 0, max: 6 }),
          padValue: fc.constantFrom(0, 1, -0.5),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        (r) => {
          const span = r.dilation * (r.kernelSize - 1);
          const padLeft = Math.floor(r.padFrac * span);
          const inLength = Math.max(r.inLength, span + 1 - padLeft);
          const p: Conv1dParams = {
            batch: r.batch,
            inChannels: r.inChannels,
            outChannels: r.outChannels,
            inLength,
            outLength: inLength + padLeft + r.padRight - span,
            kernelSize: r.kernelSize,
            stride: 1,
            dilation: r.dilation,
            padLeft,
            groups: 1,
            padValue: r.padValue,
          };
          checkWeightGrad(p, r.seed, Float32Array, 30);
        },
      ),
      { numRuns: 60 },
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
      // Many batch entries: the gradients lay entries side by side in chunks (weight gradient: 2048 reduction
      // positions per call, input gradient: 4096 columns), so these take several chunks and a partial last one.
      {
        batch: 29,
        inChannels: 4,
        outChannels: 6,
        inLength: 301,
        outLength: 299,
        kernelSize: 5,
        stride: 1,
        dilation: 2,
        padLeft: 3,
        groups: 2,
        padValue: -0.5,
      },
      // The train-step's second conv: the weight gradient on gemm per tap (WASM), in chunks of 11 entries.
      {
        batch: 29,
        inChannels: 16,
        outChannels: 32,
        inLength: 180,
        outLength: 180,
        kernelSize: 5,
        stride: 1,
        dilation: 1,
        padLeft: 2,
        groups: 1,
        padValue: 0,
      },
      {
        batch: 23,
        inChannels: 3,
        outChannels: 5,
        inLength: 190,
        outLength: 63,
        kernelSize: 6,
        stride: 3,
        dilation: 1,
        padLeft: 2,
        groups: 1,
        padValue: 1,
      },
    ] satisfies Conv1dParams[]) {
      const cg = p.inChannels / p.groups;
      const x = randomArray(p.batch * p.inChannels * p.inLength, 3);
      const w = randomArray(p.outChannels * cg * p.kernelSize, 4);
      const g = randomArray(p.batch * p.outChannels * p.outLength, 5);
      const out = new Float32Array(p.batch * p.outChannels * p.outLength);
      k.conv1dForward(x, w, null, out, p);
      expectClose(out, naiveConv1dForward(x, w, null, p), out.length, 'forward');
      const gx = new Float32Array(x.length);
      k.conv1dBackwardInput(g, w, gx, p);
      expectClose(gx, naiveConv1dBackwardInput(g, w, p), gx.length, 'backward input');
      const gw = new Float32Array(w.length);
      k.conv1dBackwardWeight(x, g, gw, p);
      expectClose(gw, naiveConv1dBackwardWeight(x, g, p), gw.length, 'backward weight', 30);
    }
  });

  it('max and average pooling match the naive oracles (padding, dilation, ceil-mode windows, float32/64)', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          channels: fc.integer({ min: 1, max: 4 }),
          inLength: fc.integer({ min: 1, max: 30 }),
          kernelSize: fc.integer({ min: 1, max: 5 }),
          stride: fc.integer({ min: 1, max: 3 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          pad: fc.integer({ min: 0, max: 4 }),
          ceil: fc.boolean(),
          withArg: fc.boolean(),
          countIncludePad: fc.boolean(),
          f64: fc.boolean(),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        (r) => {
          const T = r.f64 ? Float64Array : Float32Array;
          const span = r.dilation * (r.kernelSize - 1) + 1;
          const padLeft = Math.min(r.pad, Math.floor(span / 2));
          const num = r.inLength + 2 * padLeft - span;
          fc.pre(num >= 0);
          let outLength = (r.ceil ? Math.ceil(num / r.stride) : Math.floor(num / r.stride)) + 1;
          if (r.ceil && (outLength - 1) * r.stride >= r.inLength + padLeft) outLength--;
          const p: Pool1dParams = {
            batch: r.batch,
            channels: r.channels,
            inLength: r.inLength,
            outLength,
            kernelSize: r.kernelSize,
            stride: r.stride,
            padLeft,
            dilation: r.dilation,
          };
          const n = r.batch * r.channels * outLength;
          const x = randomArray(r.batch * r.channels * r.inLength, r.seed, T);
          const mx = new T(n).fill(Number.NaN);
          const arg = r.withArg ? new Int32Array(n).fill(-7) : null;
          k.maxPool1d(x, mx, arg, p);
          const want = naiveMaxPool1d(x, p);
          expect(Array.from(mx)).toEqual(Array.from(want.out));
          if (arg) expect(Array.from(arg)).toEqual(Array.from(want.arg));
          // Average pooling has no dilation (PyTorch).
          const q = { ...p, dilation: 1 };
          const numA = r.inLength + 2 * padLeft - r.kernelSize;
          fc.pre(numA >= 0 && padLeft <= r.kernelSize / 2);
          let outA = (r.ceil ? Math.ceil(numA / r.stride) : Math.floor(numA / r.stride)) + 1;
          if (r.ceil && (outA - 1) * r.stride >= r.inLength + padLeft) outA--;
          q.outLength = outA;
          const av = new T(r.batch * r.channels * outA).fill(Number.NaN);
          k.avgPool1d(x, av, q, r.countIncludePad);
          expectClose(av, naiveAvgPool1d(x, q, r.countIncludePad), av.length, 'avgPool1d');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('max pooling on fixed values: padding never wins, NaN propagates', () => {
    const x = new Float32Array([-5, -1, 3, Number.NaN, 2, 7]);
    const out = new Float32Array(4);
    const arg = new Int32Array(4);
    // kernel 2, stride 2, padLeft 1: windows [pad,-5] [-1,3] [NaN,2] [7,pad]
    const p: Pool1dParams = {
      batch: 1,
      channels: 1,
      inLength: 6,
      outLength: 4,
      kernelSize: 2,
      stride: 2,
      padLeft: 1,
      dilation: 1,
    };
    k.maxPool1d(x, out, arg, p);
    expect([...out]).toEqual([-5, 3, Number.NaN, 7]);
    expect([...arg]).toEqual([0, 2, 3, 5]);
    const noArg = new Float32Array(4);
    k.maxPool1d(x, noArg, null, p);
    expect([...noArg]).toEqual([-5, 3, Number.NaN, 7]);
    const avg = new Float32Array(4);
    k.avgPool1d(x, avg, p, false);
    expect(avg[0]).toBe(-5);
    expect(avg[1]).toBe(1);
    expect(avg[3]).toBe(7);
  });
});

describe('WebAssembly kernels: argument checks', () => {
  it.runIf(wasm !== null)('rejects short buffers and inconsistent groups with KernelArgumentError', () => {
    const k = wasm!;
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
    expect(() => k.conv1dForward(f, f, null, f, p)).toThrow(/not divisible by groups/); // 3 channels, 2 groups
    expect(() => k.conv1dForward(new Float32Array(5), f, null, f, { ...p, inChannels: 2 })).toThrow(
      /input has 5/,
    );
    const mp = { batch: 1, m: 2, k: 2, n: 2, transA: false, transB: false };
    expect(() => k.matmul(f, f, new Float32Array(3), mp)).toThrow(/out has 3/);
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
    const expected = naiveConv1dForward(x, w, null, p);
    const out1 = new Float32Array(2 * 5 * 40);
    k.conv1dForward(x, w, null, out1, p);
    expectClose(out1, expected, out1.length, 'before growth');
    const before = k.arena.byteLength;
    const buffer = k.arena.memory.buffer;
    // A large matmul forces memory.grow (old ArrayBuffer detached) …
    const n = 300;
    const a = randomArray(n * n, 3);
    const big = new Float32Array(n * n);
    const mp = { batch: 1, m: n, k: n, n, transA: false, transB: false };
    k.matmul(a, a, big, mp);
    expect(k.arena.byteLength).toBeGreaterThan(before);
    expect(buffer.byteLength).toBe(0); // detached by the growth
    expectClose(big.subarray(0, 3 * n), naiveMatmul(a, a, { ...mp, m: 3 }), 3 * n, 'grown');
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
