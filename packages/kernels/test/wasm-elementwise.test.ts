// The WebAssembly elementwise kernels (src/wasm/part-elementwise.ts: unary, unaryBackward 'relu', binary with
// broadcasting) against the reference kernels: the same float32 values bit for bit (a NaN for a NaN), with NaN,
// ±0 and ±∞ mixed in, over fast-check random shapes and broadcasts; outputs aliasing an input; the calls the
// WebAssembly kernels do not take (float64, int32, other ops, short arrays, strided operands) run the reference.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BinaryKernelOp,
  KernelArgumentError,
  type TypedArray,
  type UnaryKernelOp,
} from '../src/contract.js';
import { referenceKernels as ref } from '../src/ref/index.js';
import { mulberry32 as rng } from '../src/testing.js';
import {
  buildPartsModule,
  createWasmKernelSet,
  EW_BINARY_OPS,
  EW_BLOCK,
  EW_MIN_WASM,
  EW_UNARY_OPS,
  elementwisePart,
  getWasmKernels,
  planBinary,
  WASM_TRAINING_PARTS,
} from '../src/wasm/index.js';

const wasmOrNull = getWasmKernels();
if (wasmOrNull === null) throw new Error('these tests need WebAssembly SIMD (Node 20 has it)');
const wasm = wasmOrNull;

const SPECIAL = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

/** Random float32 values in [−2, 2) with a share `special` of NaN/±0/±∞ and as many small integers (ties). */
function values(n: number, seed: number, special = 0.05): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < special) out[i] = SPECIAL[Math.floor(r() * SPECIAL.length)];
    else if (u < 2 * special) out[i] = Math.round(r() * 4) - 2;
    else out[i] = r() * 4 - 2;
  }
  return out;
}

/** Index of the first element that differs (bits, as `Object.is`; any NaN equals any NaN), or −1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const i = firstDiff(actual, expected);
  if (i >= 0) throw new Error(`${what}: element ${i} is ${actual[i]}, the reference gives ${expected[i]}`);
}

/** Row-major strides of `shape` over `outShape` (right-aligned), 0 on its size-1 (broadcast) dimensions. */
function stridesOver(shape: readonly number[], outShape: readonly number[]): number[] {
  const lead = outShape.length - shape.length;
  const out = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[lead + d] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  return out;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A random output shape and two operand shapes broadcasting to it (dimensions kept or set to 1, leading dropped). */
const broadcastCase = fc
  .record({
    out: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
    long: fc.integer({ min: 1, max: 40 }),
    aMask: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    bMask: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    aDrop: fc.nat(2),
    bDrop: fc.nat(2),
    seed: fc.nat(1 << 20),
    special: fc.constantFrom(0, 0.05, 0.3),
  })
  .map((g) => {
    // The last dimension scaled up so that most cases reach the WebAssembly kernels' minimum size (at most
    // 9·9·9·360 values).
    const out = g.out.map((d, i) => (i === g.out.length - 1 ? d * g.long : d));
    const operand = (mask: boolean[], drop: number) =>
      out.slice(Math.min(drop, out.length - 1)).map((d, i) => (mask[i] ? d : 1));
    return { ...g, out, a: operand(g.aMask, g.aDrop), b: operand(g.bMask, g.bDrop) };
  });

describe('WebAssembly unary and unaryBackward (relu) = the reference', () => {
  it('every op, random lengths (blocks, tails), NaN/±0/±∞, same bits', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EW_UNARY_OPS),
        fc.integer({ min: 1, max: 3 * EW_BLOCK + 5 }),
        fc.nat(1 << 20),
        fc.constantFrom(0, 0.05, 0.5),
        (op, n, seed, special) => {
          const x = values(n, seed, special);
          const expected = new Float32Array(n);
          const actual = new Float32Array(n);
          ref.unary(op, x, expected);
          wasm.unary(op, x, actual);
          expectSame(actual, expected, `${op} n=${n}`);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('relu gradient: g·[x > 0] as a true product (∞·0 = NaN, −g·0 = −0), same bits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 * EW_BLOCK + 7 }),
        fc.nat(1 << 20),
        fc.constantFrom(0, 0.1, 0.5),
        (n, seed, special) => {
          const x = values(n, seed, special);
          const g = values(n, seed + 1, special);
          const expected = new Float32Array(n);
          const actual = new Float32Array(n);
          ref.unaryBackward('relu', x, x, g, expected);
          wasm.unaryBackward('relu', x, x, g, actual);
          expectSame(actual, expected, `relu' n=${n}`);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('the output may be the input (unary) or g or x (relu gradient)', () => {
    const n = EW_BLOCK + 999;
    for (const op of EW_UNARY_OPS) {
      const x = values(n, 7, 0.1);
      const expected = new Float32Array(n);
      ref.unary(op, x, expected);
      wasm.unary(op, x, x);
      expectSame(x, expected, `${op} in place`);
    }
    const x = values(n, 8, 0.1);
    const g = values(n, 9, 0.1);
    const expected = new Float32Array(n);
    ref.unaryBackward('relu', x, x, g, expected);
    const g2 = g.slice();
    wasm.unaryBackward('relu', x, x, g2, g2);
    expectSame(g2, expected, 'relu grad into g');
    const x2 = x.slice();
    wasm.unaryBackward('relu', x2, x2, g, x2);
    expectSame(x2, expected, 'relu grad into x');
  });

  it('what it does not take runs the reference: other ops, float64, int32, short arrays', () => {
    const n = 2 * EW_MIN_WASM;
    const x = values(n, 3);
    for (const op of ['exp', 'tanh', 'leakyRelu', 'clamp'] as UnaryKernelOp[]) {
      const e = new Float32Array(n);
      const a = new Float32Array(n);
      ref.unary(op, x, e, -0.5, 0.5);
      wasm.unary(op, x, a, -0.5, 0.5);
      expectSame(a, e, op);
    }
    const x64 = Float64Array.from(x);
    const e64 = new Float64Array(n);
    const a64 = new Float64Array(n);
    ref.unary('relu', x64, e64);
    wasm.unary('relu', x64, a64);
    expectSame(a64, e64, 'relu float64');
    const xi = Int32Array.from({ length: n }, (_, i) => i - n / 2);
    const ai = new Int32Array(n);
    wasm.unary('abs', xi, ai);
    expect(Array.from(ai)).toEqual(Array.from(xi, Math.abs));
    const short = values(EW_MIN_WASM - 1, 4);
    const es = new Float32Array(short.length);
    const as = new Float32Array(short.length);
    ref.unary('sqrt', short, es);
    wasm.unary('sqrt', short, as);
    expectSame(as, es, 'short');
    const gs = new Float32Array(n);
    const eg = new Float32Array(n);
    ref.unaryBackward('tanh', x, x, x, eg);
    wasm.unaryBackward('tanh', x, x, x, gs);
    expectSame(gs, eg, 'tanh gradient');
  });

  it('a short output is a KernelArgumentError', () => {
    const x = values(1000, 1);
    expect(() => wasm.unary('relu', x, new Float32Array(999))).toThrow(KernelArgumentError);
    expect(() => wasm.unaryBackward('relu', x, x, x, new Float32Array(10))).toThrow(KernelArgumentError);
  });
});

describe('WebAssembly binary = the reference', () => {
  function check(
    op: BinaryKernelOp,
    aShape: number[],
    bShape: number[],
    out: number[],
    seed: number,
    sp = 0.05,
  ) {
    const a = values(size(aShape), seed, sp);
    const b = values(size(bShape), seed + 1, sp);
    const as = stridesOver(aShape, out);
    const bs = stridesOver(bShape, out);
    const expected = new Float32Array(size(out));
    const actual = new Float32Array(size(out));
    ref.binary(op, a, as, b, bs, expected, out);
    wasm.binary(op, a, as, b, bs, actual, out);
    expectSame(actual, expected, `${op} [${aShape}] with [${bShape}] → [${out}]`);
  }

  it('random shapes and broadcasts, every op, NaN/±0/±∞, same bits', () => {
    fc.assert(
      fc.property(fc.constantFrom(...EW_BINARY_OPS), broadcastCase, (op, g) => {
        check(op, g.a, g.b, g.out, g.seed, g.special);
      }),
      { numRuns: 150 },
    );
  });

  it('takes the broadcasts of training in WebAssembly: same shapes, scalar, per channel, bias row', () => {
    const out = [8, 16, 90];
    const cases: Array<[number[], number[]]> = [
      [out, out],
      [out, [1]],
      [[1], out],
      [out, [1, 16, 1]],
      [[16, 1], out],
      [out, [90]],
      [[8, 1, 1], out],
    ];
    for (const [aShape, bShape] of cases) {
      expect(planBinary(stridesOver(aShape, out), stridesOver(bShape, out), out)).not.toBeNull();
      for (const op of EW_BINARY_OPS) check(op, aShape, bShape, out, 11);
    }
    // Both operands constant along the inner run, or a transposed operand: the reference kernel.
    expect(planBinary([1, 0], [0, 0], [5, 7])).toBeNull();
    expect(planBinary([1, 5], [7, 1], [5, 7])).toBeNull();
  });

  it('rows longer than a block are split into segments; long broadcasts repeat a row or a value', () => {
    const len = EW_BLOCK + 1234;
    check('add', [3, len], [3, len], [3, len], 5);
    check('mul', [3, len], [3, 1], [3, len], 6);
    check('sub', [len], [3, len], [3, len], 7);
    check('maximum', [1], [3, len], [3, len], 8, 0.3);
  });

  it('operands laid out neither as one run nor one repeated row (middle broadcast) stay exact', () => {
    // a [4, 1, 30] over [4, 5, 30]: each a row repeats 5 times, then moves on — staged row by row.
    check('div', [4, 1, 30], [4, 5, 30], [4, 5, 30], 9);
    check('minimum', [4, 5, 30], [4, 1, 30], [4, 5, 30], 10, 0.3);
  });

  it('the output may be either operand', () => {
    const out = [6, 16, 70];
    const n = size(out);
    for (const op of EW_BINARY_OPS) {
      const a = values(n, 21, 0.1);
      const c = values(16, 22, 0.1);
      const s = stridesOver(out, out);
      const cs = stridesOver([1, 16, 1], out);
      const expected = new Float32Array(n);
      ref.binary(op, a, s, c, cs, expected, out);
      wasm.binary(op, a, s, c, cs, a, out);
      expectSame(a, expected, `${op} into a`);
      const b = values(n, 23, 0.1);
      ref.binary(op, c, cs, b, s, expected, out);
      wasm.binary(op, c, cs, b, s, b, out);
      expectSame(b, expected, `${op} into b`);
    }
  });

  it('what it does not take runs the reference: pow, float64, int32, small outputs', () => {
    const n = 2 * EW_MIN_WASM;
    const a = values(n, 31);
    const b = values(n, 32);
    const e = new Float32Array(n);
    const r = new Float32Array(n);
    ref.binary('pow', a, [1], b, [1], e, [n]);
    wasm.binary('pow', a, [1], b, [1], r, [n]);
    expectSame(r, e, 'pow');
    const a64 = Float64Array.from(a);
    const e64 = new Float64Array(n);
    const r64 = new Float64Array(n);
    ref.binary('add', a64, [1], a64, [1], e64, [n]);
    wasm.binary('add', a64, [1], a64, [1], r64, [n]);
    expectSame(r64, e64, 'float64');
    const ai: TypedArray = Int32Array.from({ length: n }, (_, i) => i - 100);
    const ri = new Int32Array(n);
    wasm.binary('mul', ai, [1], ai, [1], ri, [n]);
    expect(Array.from(ri)).toEqual(Array.from(ai, (v) => v * v));
    const small = values(10, 33);
    const es = new Float32Array(10);
    const rs = new Float32Array(10);
    ref.binary('sub', small, [1], small, [0], es, [10]);
    wasm.binary('sub', small, [1], small, [0], rs, [10]);
    expectSame(rs, es, 'small');
  });

  it('operands too short for their strides, or a short output, are a KernelArgumentError', () => {
    const n = 1000;
    const a = values(n, 41);
    expect(() => wasm.binary('add', a, [1], a.subarray(0, 999), [1], new Float32Array(n), [n])).toThrow(
      KernelArgumentError,
    );
    expect(() => wasm.binary('add', a, [10, 1], a, [0, 1], new Float32Array(n), [100, 10])).not.toThrow();
    expect(() => wasm.binary('add', a, [1], a, [1], new Float32Array(n - 1), [n])).toThrow(
      KernelArgumentError,
    );
  });
});

describe('the module of the training kernels', () => {
  it("validates and stays under 4 KiB (synchronous compile allowed on browsers' main thread)", () => {
    const bytes = buildPartsModule(WASM_TRAINING_PARTS);
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  it('the elementwise part alone makes a kernel set with only its kernels', () => {
    const k = createWasmKernelSet([elementwisePart]);
    expect(k).not.toBeNull();
    const x = values(1000, 51, 0.1);
    const [e, a] = [new Float32Array(1000), new Float32Array(1000)];
    ref.unary('relu', x, e);
    k?.unary('relu', x, a);
    expectSame(a, e, 'relu of a part set');
    expect(Object.keys(k ?? {}).sort()).toEqual(['arena', 'binary', 'kind', 'unary', 'unaryBackward']);
  });
});
