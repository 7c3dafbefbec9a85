/**
 * The elementwise kernels of the kernel module (bound by `part-elementwise.ts`): `ewunary`, `ewrelugrad` and
 * `ewbinary`, float32, four values per `f32x4`, without branches on the data.
 *
 * Why in WebAssembly although they move little arithmetic: the TypeScript ReLU (`v > 0 || isNaN(v) ? v : 0`) and
 * its gradient as `g · [x > 0]` compile to branches, and on activations that look random about half go either
 * way, so the mispredictions (~20 cycles each) cost more than the copies in and out of linear memory.
 *
 * Each result is the reference kernel's bit for bit (up to the payload of a NaN): `+ − × ÷` and √ of float32
 * operands rounded once to float32 equal the float64 result rounded to float32 (double rounding is innocuous
 * for these operations since 53 ≥ 2·24 + 2: Figueroa, "When is double rounding innocuous?", SIGNUM 1995), and
 * the selections below reproduce the reference's comparisons lane by lane.
 */
import { type FunctionCode, type ModuleBuilder, ValType } from './builder.js';
import { emitSimdOp as simd } from './emit-finite.js';

const { i32, v128 } = ValType;

/** SIMD sub-opcodes (after the 0xFD prefix) the builder has no method for (WebAssembly 2.0, §5.4.8). */
const S = {
  f32x4Splat: 0x13,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  v128And: 0x4e,
  v128Andnot: 0x4f,
  v128Or: 0x50,
  v128Bitselect: 0x52,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
} as const;

/** The unary ops of `ewunary`, by code (index). */
export const EW_UNARY_OPS = ['relu', 'neg', 'abs', 'sqrt', 'square', 'reciprocal'] as const;

/** The binary ops of `ewbinary`, by code (index). */
export const EW_BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;

/**
 * Emits `op(x)` on the v128 local `x`, leaving the result on the stack (`zero` and `one`: splat constants):
 * - relu: `x & ~(x ≤ 0)` — x where x > 0 or x is NaN (NaN ≤ 0 is false), +0 elsewhere (so relu(−0) = +0), as
 *   the reference `v > 0 || isNaN(v) ? v : 0`;
 * - neg, abs, sqrt: the lane-wise instructions; square: x·x; reciprocal: 1/x.
 */
function emitUnaryOp(
  c: FunctionCode,
  op: (typeof EW_UNARY_OPS)[number],
  x: number,
  zero: number,
  one: number,
) {
  switch (op) {
    case 'relu':
      c.localGet(x).localGet(x).localGet(zero);
      simd(c, S.f32x4Le);
      simd(c, S.v128Andnot);
      return;
    case 'neg':
      c.localGet(x);
      simd(c, S.f32x4Neg);
      return;
    case 'abs':
      c.localGet(x);
      simd(c, S.f32x4Abs);
      return;
    case 'sqrt':
      c.localGet(x);
      simd(c, S.f32x4Sqrt);
      return;
    case 'square':
      c.localGet(x).localGet(x);
      simd(c, S.f32x4Mul);
      return;
    case 'reciprocal':
      c.localGet(one).localGet(x);
      simd(c, S.f32x4Div);
      return;
  }
}

/**
 * Emits `op(a, b)` on the v128 locals `a`, `b`, leaving the result on the stack. maximum: `a` where
 * `a > b || a ≠ a`, else `b` (the reference's rule: a NaN in either operand propagates, and of +0 / −0 the
 * second is kept); minimum likewise with `a < b`.
 */
function emitBinaryOp(c: FunctionCode, op: (typeof EW_BINARY_OPS)[number], a: number, b: number) {
  const arith = { add: S.f32x4Add, sub: S.f32x4Sub, mul: S.f32x4Mul, div: S.f32x4Div } as const;
  if (op === 'maximum' || op === 'minimum') {
    c.localGet(a).localGet(b).localGet(a).localGet(b);
    simd(c, op === 'maximum' ? S.f32x4Gt : S.f32x4Lt);
    c.localGet(a).localGet(a);
    simd(c, S.f32x4Ne);
    simd(c, S.v128Or);
    simd(c, S.v128Bitselect);
    return;
  }
  c.localGet(a).localGet(b);
  simd(c, arith[op]);
}

/** `local = splat(value)` for an f32 constant. */
function splatConst(c: FunctionCode, local: number, value: number): void {
  c.f32Const(value);
  simd(c, S.f32x4Splat);
  c.localSet(local);
}

/**
 * ewunary(op, xPtr, outPtr, bytes): `out[i] = op(x[i])` over `bytes` (a multiple of 16) of float32 values, `op`
 * the index of the op in {@link EW_UNARY_OPS}. `out` may be `x`.
 */
export function emitEwUnary(mb: ModuleBuilder): void {
  mb.addFunction('ewunary', [i32, i32, i32, i32], [], (c) => {
    const [op, xPtr, outPtr, bytes] = [0, 1, 2, 3];
    const i = c.local(i32);
    const x = c.local(v128);
    const zero = c.local(v128);
    const one = c.local(v128);
    c.v128ConstZero().localSet(zero);
    splatConst(c, one, 1);
    EW_UNARY_OPS.forEach((name, code) => {
      c.localGet(op).i32Const(code).i32Eq().if();
      c.forLoop(i, 0, { local: bytes }, 16, () => {
        c.localGet(xPtr).localGet(i).i32Add().v128Load(0, 2).localSet(x);
        c.localGet(outPtr).localGet(i).i32Add();
        emitUnaryOp(c, name, x, zero, one);
        c.v128Store(0, 2);
      });
      c.end();
    });
  });
}

/**
 * ewrelugrad(xPtr, gPtr, gxPtr, bytes): `gx[i] = g[i] · (x[i] > 0 ? 1 : 0)` over `bytes` (a multiple of 16) of
 * float32 values — a true product, as the reference's, so an infinite or NaN g where x ≤ 0 gives NaN and a
 * negative g gives −0. `gx` may be `g` or `x`.
 */
export function emitEwReluGrad(mb: ModuleBuilder): void {
  mb.addFunction('ewrelugrad', [i32, i32, i32, i32], [], (c) => {
    const [xPtr, gPtr, gxPtr, bytes] = [0, 1, 2, 3];
    const i = c.local(i32);
    const zero = c.local(v128);
    const one = c.local(v128);
    c.v128ConstZero().localSet(zero);
    splatConst(c, one, 1);
    c.forLoop(i, 0, { local: bytes }, 16, () => {
      c.localGet(gxPtr).localGet(i).i32Add();
      c.localGet(gPtr).localGet(i).i32Add().v128Load(0, 2);
      // [x > 0] as 1.0 / 0.0: the comparison mask and the bits of 1.0
      c.localGet(xPtr).localGet(i).i32Add().v128Load(0, 2).localGet(zero);
      simd(c, S.f32x4Gt);
      c.localGet(one);
      simd(c, S.v128And);
      simd(c, S.f32x4Mul);
      c.v128Store(0, 2);
    });
  });
}

/**
 * ewbinary(op, aPtr, aRow, aMask, bPtr, bRow, bMask, outPtr, rows, lenBytes): for each row r < rows and each
 * vector i (byte offset, < lenBytes) `out[r][i] = op(A[r][i & aMask], B[r][i & bMask])`, with `op` the index in
 * {@link EW_BINARY_OPS}. Operand X's row r starts at `ptr + r·row` (bytes; row 0 repeats every row); with mask
 * −1 it is a row of values, with mask 0 one vector read for every i — a value broadcast along the row, which the
 * caller stores four times. Output rows are contiguous, `lenBytes` apart. Each row is computed in whole vectors:
 * the last one writes up to 3 floats past the row (into the next row, computed later, or past the end: the
 * caller leaves slack) and reads up to 3 floats past a row operand.
 */
export function emitEwBinary(mb: ModuleBuilder): void {
  mb.addFunction('ewbinary', [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [op, aPtr, aRow, aMask, bPtr, bRow, bMask, outPtr, rows, lenBytes] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const r = c.local(i32);
    const i = c.local(i32);
    const op0 = c.local(i32);
    const a = c.local(v128);
    const b = c.local(v128);
    EW_BINARY_OPS.forEach((name, code) => {
      c.localGet(op).i32Const(code).i32Eq().if();
      c.localGet(outPtr).localSet(op0);
      c.forLoop(r, 0, { local: rows }, 1, () => {
        c.forLoop(i, 0, { local: lenBytes }, 16, () => {
          c.localGet(aPtr).localGet(i).localGet(aMask).i32And().i32Add().v128Load(0, 2).localSet(a);
          c.localGet(bPtr).localGet(i).localGet(bMask).i32And().i32Add().v128Load(0, 2).localSet(b);
          c.localGet(op0).localGet(i).i32Add();
          emitBinaryOp(c, name, a, b);
          c.v128Store(0, 2);
        });
        c.addTo(aPtr, { local: aRow });
        c.addTo(bPtr, { local: bRow });
        c.addTo(op0, { local: lenBytes });
      });
      c.end();
    });
  });
}
