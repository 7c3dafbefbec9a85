/**
 * The WebAssembly `reduce`: sums of float32 rows (`[outer, reduce, 1]`, the last axis — a global average pool, the
 * mean of a loss) on `rowsum` (emit-reduce.ts), bit for bit the reference's float64 sums. Rows are copied into
 * linear memory in blocks of whole rows of about {@link REDUCE_BLOCK} floats. Other reductions (max / min, an
 * inner axis, float64 or int32 data, argmax) and inputs under {@link REDUCE_MIN_WASM} values run the reference
 * kernel.
 */
import { KernelArgumentError, type ReduceKernelOp, type TypedArray } from '../contract.js';
import { reduce as refReduce } from '../ref/elementwise.js';
import { Layout, type PartContext, type WasmKernelPart } from './arena.js';
import { emitRowSum } from './emit-reduce.js';

/** Floats of input rows copied per block (256 KiB). */
export const REDUCE_BLOCK = 1 << 16;
/** Fewest values for which the WebAssembly kernel runs (below, the call and the copy cost more than they save). */
export const REDUCE_MIN_WASM = 1024;

/** Binds `reduce` to a module instance. */
function bindReduce(ctx: PartContext) {
  const { arena, exports: k } = ctx;
  function reduce(
    op: ReduceKernelOp,
    x: TypedArray,
    out: TypedArray,
    outer: number,
    r: number,
    inner: number,
    argOut?: Int32Array,
  ): void {
    if (
      op !== 'sum' ||
      inner !== 1 ||
      argOut !== undefined ||
      !(x instanceof Float32Array) ||
      !(out instanceof Float32Array) ||
      r === 0 ||
      outer * r < REDUCE_MIN_WASM
    ) {
      refReduce(op, x, out, outer, r, inner, argOut);
      return;
    }
    if (x.length < outer * r)
      throw new KernelArgumentError(`reduce: input has ${x.length} elements, needs ${outer} × ${r}`);
    if (out.length < outer)
      throw new KernelArgumentError(`reduce: output has ${out.length} elements, needs ${outer}`);
    const rowsPerBlock = Math.max(1, Math.min(outer, Math.floor(REDUCE_BLOCK / r)));
    const lay = new Layout();
    const xAt = lay.take(rowsPerBlock * r);
    const oAt = lay.take(rowsPerBlock);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    for (let r0 = 0; r0 < outer; r0 += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, outer - r0);
      f32.set(x.subarray(r0 * r, (r0 + rows) * r), xAt / 4);
      k.rowsum(xAt, rows, r, oAt);
      out.set(f32.subarray(oAt / 4, oAt / 4 + rows), r0);
    }
  }
  return { reduce };
}

/** `reduce` (row sums on WebAssembly, the rest on the reference kernel). */
export const reducePart: WasmKernelPart<'reduce'> = {
  emitters: [emitRowSum],
  bind: bindReduce,
  warm(k) {
    const x = new Float32Array(REDUCE_MIN_WASM).fill(0.5);
    k.reduce('sum', x, new Float32Array(8), 8, REDUCE_MIN_WASM / 8, 1);
  },
};
