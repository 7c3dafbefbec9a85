/**
 * The WebAssembly elementwise kernels of training: `unary` (relu, neg, abs, sqrt, square, reciprocal),
 * `unaryBackward` ('relu') and `binary` (add, sub, mul, div, maximum, minimum) on float32, over the branch-free
 * kernels of emit-elementwise.ts. Operands are copied into linear memory in blocks of {@link EW_BLOCK} values
 * (a block stays in the L2 cache between copy, kernel and copy out) and the result copied out, so an output may
 * be one of the inputs (the contract allows it for elementwise kernels).
 *
 * `binary` takes every broadcast whose innermost run is either a row of values or one value per row for each
 * operand — same shapes, a scalar, per-channel `[1, C, 1]` against `[B, C, L]`, a bias row `[N]` against
 * `[M, N]` — see {@link planBinary}. Other ops, float64 or int32 operands, other broadcasts and arrays shorter
 * than {@link EW_MIN_WASM} run the reference kernels.
 */
import {
  type BinaryKernelOp,
  type FloatArray,
  KernelArgumentError,
  type TypedArray,
  type UnaryGradKernelOp,
  type UnaryKernelOp,
} from '../contract.js';
import { unary as refUnary, unaryBackward as refUnaryBackward } from '../ref/activation.js';
import { binary as refBinary } from '../ref/elementwise.js';
import { Layout, type PartContext, type WasmKernelPart } from './arena.js';
import {
  EW_BINARY_OPS,
  EW_UNARY_OPS,
  emitEwBinary,
  emitEwReluGrad,
  emitEwUnary,
} from './emit-elementwise.js';

/** Values per operand copied into linear memory at a time (64 KiB). */
export const EW_BLOCK = 16384;
/** Fewest values for which the WebAssembly kernels run (below, the call and copies cost more than they save). */
export const EW_MIN_WASM = 256;

/** Throws a {@link KernelArgumentError} unless `out` has room for `n` values. */
function needOut(kernel: string, out: ArrayLike<number>, n: number): void {
  if (out.length < n)
    throw new KernelArgumentError(`${kernel}: output has ${out.length} elements, needs ${n}`);
}

/**
 * How `binary` runs a broadcast as rows: `rows` rows of `len` output values; operand X's row r starts at
 * `xOff[r]`, and is a row of `len` values (`xSplat` false) or one value repeated (`xSplat` true).
 */
export interface BinaryPlan {
  rows: number;
  len: number;
  aSplat: boolean;
  bSplat: boolean;
  aOff: Int32Array;
  bOff: Int32Array;
}

/**
 * Splits a broadcast into rows (or null when some operand is not either contiguous or constant over an innermost
 * run, or both are constant there): drops size-1 dimensions, takes the innermost run of dimensions over which
 * each operand is contiguous with the output (a row) or has stride 0 (a splat), and walks the outer dimensions
 * with an odometer for each row's start offsets.
 */
export function planBinary(
  aStrides: readonly number[],
  bStrides: readonly number[],
  outShape: readonly number[],
): BinaryPlan | null {
  const dims: number[] = [];
  for (let d = 0; d < outShape.length; d++) if (outShape[d] !== 1) dims.push(d);
  if (dims.length === 0) return null;
  const last = dims[dims.length - 1];
  const kind = (s: number) => (s === 1 ? 'v' : s === 0 ? 's' : null);
  const ka = kind(aStrides[last]);
  const kb = kind(bStrides[last]);
  if (ka === null || kb === null || (ka === 's' && kb === 's')) return null;
  // Innermost run: while each operand stays contiguous (stride = values so far) or constant (stride 0).
  let len = 1;
  let k = dims.length;
  while (k > 0) {
    const d = dims[k - 1];
    const fits = (kd: 'v' | 's', s: number) => (kd === 'v' ? s === len : s === 0);
    if (!fits(ka, aStrides[d]) || !fits(kb, bStrides[d])) break;
    len *= outShape[d];
    k--;
  }
  const outer = dims.slice(0, k);
  let rows = 1;
  for (const d of outer) rows *= outShape[d];
  const aOff = new Int32Array(rows);
  const bOff = new Int32Array(rows);
  const idx = new Array<number>(outer.length).fill(0);
  let ai = 0;
  let bi = 0;
  for (let r = 0; r < rows; r++) {
    aOff[r] = ai;
    bOff[r] = bi;
    for (let j = outer.length - 1; j >= 0; j--) {
      const d = outer[j];
      idx[j]++;
      ai += aStrides[d];
      bi += bStrides[d];
      if (idx[j] < outShape[d]) break;
      ai -= aStrides[d] * outShape[d];
      bi -= bStrides[d] * outShape[d];
      idx[j] = 0;
    }
  }
  return { rows, len, aSplat: ka === 's', bSplat: kb === 's', aOff, bOff };
}

/**
 * How rows `r0 … r0+nr` of operand offsets `off` are laid out in its source: one start repeated (checked first,
 * so a single row counts as repeated), starts `len` apart (one run), or neither.
 */
function rowLayout(off: Int32Array, r0: number, nr: number, len: number): 'repeat' | 'run' | 'scattered' {
  let run = true;
  let repeat = true;
  for (let r = 1; r < nr && (run || repeat); r++) {
    const o = off[r0 + r];
    if (o !== off[r0] + r * len) run = false;
    if (o !== off[r0]) repeat = false;
  }
  return repeat ? 'repeat' : run ? 'run' : 'scattered';
}

/** Binds the elementwise kernels to a module instance. */
function bindElementwise(ctx: PartContext) {
  const { arena, exports: k } = ctx;

  /**
   * Runs `kernel(ptrs, outPtr, bytes)` over `n` values in blocks: each input's block copied to its region, the
   * output region copied out to `out`. `bytes` is the block length rounded up to whole vectors (the regions'
   * slack takes the excess).
   */
  function streamBlocks(
    inputs: readonly Float32Array[],
    out: Float32Array,
    n: number,
    kernel: (ptrs: number[], outPtr: number, bytes: number) => void,
  ): void {
    const lay = new Layout();
    const ptrs = inputs.map(() => lay.take(EW_BLOCK));
    const outPtr = lay.take(EW_BLOCK);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    for (let s = 0; s < n; s += EW_BLOCK) {
      const m = Math.min(EW_BLOCK, n - s);
      inputs.forEach((x, j) => {
        f32.set(x.subarray(s, s + m), ptrs[j] / 4);
      });
      kernel(ptrs, outPtr, Math.ceil(m / 4) * 16);
      out.set(f32.subarray(outPtr / 4, outPtr / 4 + m), s);
    }
  }

  function unary(op: UnaryKernelOp, x: TypedArray, out: TypedArray, p0?: number, p1?: number): void {
    const code = (EW_UNARY_OPS as readonly string[]).indexOf(op);
    if (code < 0 || !(x instanceof Float32Array && out instanceof Float32Array) || x.length < EW_MIN_WASM) {
      refUnary(op, x, out, p0, p1);
      return;
    }
    needOut('unary', out, x.length);
    streamBlocks([x], out, x.length, ([xp], op0, bytes) => k.ewunary(code, xp, op0, bytes));
  }

  function unaryBackward(
    op: UnaryGradKernelOp,
    x: FloatArray,
    y: FloatArray,
    g: FloatArray,
    gx: FloatArray,
    p0?: number,
    p1?: number,
  ): void {
    if (
      op !== 'relu' ||
      !(x instanceof Float32Array && g instanceof Float32Array && gx instanceof Float32Array) ||
      x.length < EW_MIN_WASM
    ) {
      refUnaryBackward(op, x, y, g, gx, p0, p1);
      return;
    }
    const n = x.length;
    if (g.length < n) throw new KernelArgumentError(`unaryBackward: g has ${g.length} elements, needs ${n}`);
    needOut('unaryBackward', gx, n);
    streamBlocks([x, g], gx, n, ([xp, gp], op0, bytes) => k.ewrelugrad(xp, gp, op0, bytes));
  }

  /**
   * Copies rows `r0 … r0+nr` of operand `x` (plan offsets `off`) to float index `at` and returns the kernel's row
   * step in bytes: a splat operand's row values four times each, one vector per row (or one vector, when every
   * row has the same value), a row operand's rows (`cols` values from column `c0`) as one run, once when they
   * repeat, else row by row.
   */
  function stageOperand(
    f32: Float32Array,
    at: number,
    x: Float32Array,
    off: Int32Array,
    splat: boolean,
    r0: number,
    nr: number,
    len: number,
    c0: number,
    cols: number,
  ): number {
    const layout = rowLayout(off, r0, nr, len);
    if (splat) {
      const n = layout === 'repeat' ? 1 : nr;
      for (let r = 0; r < n; r++) f32.fill(x[off[r0 + r]], at + 4 * r, at + 4 * r + 4);
      return n === 1 ? 0 : 16;
    }
    if (layout === 'repeat') {
      f32.set(x.subarray(off[r0] + c0, off[r0] + c0 + cols), at);
      return 0;
    }
    if (layout === 'run') f32.set(x.subarray(off[r0] + c0, off[r0] + c0 + (nr - 1) * len + cols), at);
    else
      for (let r = 0; r < nr; r++)
        f32.set(x.subarray(off[r0 + r] + c0, off[r0 + r] + c0 + cols), at + r * len);
    return 4 * len;
  }

  function binary(
    op: BinaryKernelOp,
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    out: TypedArray,
    outShape: readonly number[],
  ): void {
    const code = (EW_BINARY_OPS as readonly string[]).indexOf(op);
    const plan =
      code >= 0 &&
      a instanceof Float32Array &&
      b instanceof Float32Array &&
      out instanceof Float32Array &&
      out.length >= EW_MIN_WASM
        ? planBinary(aStrides, bStrides, outShape)
        : null;
    if (plan === null) {
      refBinary(op, a, aStrides, b, bStrides, out, outShape);
      return;
    }
    const fa = a as Float32Array;
    const fb = b as Float32Array;
    const fo = out as Float32Array;
    const { rows, len, aSplat, bSplat, aOff, bOff } = plan;
    needOut('binary', fo, rows * len);
    const last = rows - 1;
    const reach = (off: Int32Array, splat: boolean) => (splat ? off[last] + 1 : off[last] + len);
    if (fa.length < reach(aOff, aSplat) || fb.length < reach(bOff, bSplat)) {
      throw new KernelArgumentError(
        `binary: operands of ${fa.length} and ${fb.length} elements are too short for strides [${aStrides.join(', ')}] and [${bStrides.join(', ')}] over shape [${outShape.join(', ')}]`,
      );
    }
    // A block: whole rows (as many as fit), or a segment of one long row.
    const blockRows = len >= EW_BLOCK ? 1 : Math.floor(EW_BLOCK / len);
    const lay = new Layout();
    // A splat operand takes 4 floats per row (rows ≤ EW_BLOCK / len).
    const aAt = lay.take(aSplat ? 4 * blockRows : EW_BLOCK);
    const bAt = lay.take(bSplat ? 4 * blockRows : EW_BLOCK);
    const oAt = lay.take(EW_BLOCK);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    for (let r0 = 0; r0 < rows; r0 += blockRows) {
      const nr = Math.min(blockRows, rows - r0);
      for (let c0 = 0; c0 < len; c0 += EW_BLOCK) {
        const cols = Math.min(EW_BLOCK, len - c0);
        const aRow = stageOperand(f32, aAt / 4, fa, aOff, aSplat, r0, nr, len, c0, cols);
        const bRow = stageOperand(f32, bAt / 4, fb, bOff, bSplat, r0, nr, len, c0, cols);
        // With one row per block, the row is `cols` long; with several, cols = len.
        k.ewbinary(code, aAt, aRow, aSplat ? 0 : -1, bAt, bRow, bSplat ? 0 : -1, oAt, nr, 4 * cols);
        const o = r0 * len + c0;
        fo.set(f32.subarray(oAt / 4, oAt / 4 + (nr - 1) * len + cols), o);
      }
    }
  }

  return { unary, unaryBackward, binary };
}

/** `unary`, `unaryBackward` ('relu') and `binary` on float32 (the rest: the reference kernels). */
export const elementwisePart: WasmKernelPart<'unary' | 'unaryBackward' | 'binary'> = {
  emitters: [emitEwUnary, emitEwReluGrad, emitEwBinary],
  bind: (ctx) => bindElementwise(ctx),
  warm(k) {
    const x = new Float32Array(2 * EW_MIN_WASM).fill(0.5);
    const out = new Float32Array(x.length);
    k.unary('relu', x, out);
    k.unaryBackward('relu', x, out, x, out);
    k.binary('mul', x, [1], x, [1], out, [x.length]);
  },
};
