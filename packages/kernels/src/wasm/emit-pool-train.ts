/**
 * The pooling kernels of training (bound by `part-pool-train.ts`): `maxpoolarg`, max pooling that also records
 * each window's first-maximum position, four outputs per `f32x4` without branches on the data, and
 * `poolscatter`, its gradient (each output's gradient added at that position).
 *
 * As for `maxpool` (emit-pool.ts): in TypeScript the compare-and-select of a window compiles to a branch that
 * activations after a ReLU mispredict about half the time.
 */
import { type FunctionCode, type ModuleBuilder, ValType } from './builder.js';
import { emitSimdOp as simd } from './emit-finite.js';
import { MAXPOOL_STRIDES } from './emit-pool.js';

const { i32, v128 } = ValType;

/** SIMD sub-opcodes (after the 0xFD prefix) the builder has no method for (WebAssembly 2.0, §5.4.8). */
const S = {
  v128Const: 0x0c,
  f32x4Eq: 0x41,
  f32x4Le: 0x45,
  v128Andnot: 0x4f,
  v128Bitselect: 0x52,
  i32x4Add: 0xae,
  i32x4Mul: 0xb5,
} as const;
const I32_LT_U = 0x49;

/** Byte lanes of `i8x16.shuffle` picking f32 lanes 0, 2 of `a` and 0, 2 of `b` (the even floats of a‖b). */
const EVEN_FLOATS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];

/** Pushes the i32x4 constant [0, 1, 2, 3]. */
function laneIndices(c: FunctionCode): void {
  simd(c, S.v128Const);
  for (const lane of [0, 1, 2, 3]) c.bytes.push(lane, 0, 0, 0);
}

/**
 * maxpoolarg(xPtr, outPtr, argPtr, rows, L, T, K, S), S ∈ {1, 2}: over rows of `L` contiguous floats without
 * padding ((T − 1)·S + K ≤ L), `out[r·T + t] = max_{j<K} x[r·L + t·S + j]` and `arg[r·T + t]` = the position
 * `t·S + j` of the first maximum, with the reference's rule: tap j replaces the current maximum m iff
 * `!(v ≤ m) && m = m` (v larger or NaN, unless m is already NaN; of equal values, ±0 included, the first stays).
 * Each step computes four outputs, so the last step of a row writes up to 3 values past the row of `out` and
 * `arg` (into the next row, computed later, or into the caller's slack) and reads up to `4·S + 4` floats past
 * its window.
 */
export function emitMaxPoolArg(mb: ModuleBuilder): void {
  mb.addFunction('maxpoolarg', [i32, i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [xPtr, outPtr, argPtr, rows, L, T, K, Sp] = [0, 1, 2, 3, 4, 5, 6, 7];
    const r = c.local(i32);
    const t = c.local(i32);
    const j = c.local(i32);
    const q = c.local(i32);
    const op = c.local(i32);
    const ap = c.local(i32);
    const m = c.local(v128);
    const v = c.local(v128);
    const take = c.local(v128);
    const idx = c.local(v128);
    const cand = c.local(v128);
    const base = c.local(v128);
    const step = c.local(v128);
    const one = c.local(v128);
    const lanesS = c.local(v128);
    c.i32Const(1).i32x4Splat().localSet(one);
    // lanesS = [0, S, 2S, 3S]: the positions of tap 0 of the four outputs t … t+3, relative to t·S
    laneIndices(c);
    c.localGet(Sp).i32x4Splat();
    simd(c, S.i32x4Mul);
    c.localSet(lanesS);
    c.localGet(Sp).i32Const(2).i32Shl().i32x4Splat().localSet(step); // 4·S
    c.localGet(outPtr).localSet(op);
    c.localGet(argPtr).localSet(ap);
    for (const stride of MAXPOOL_STRIDES) {
      const tap = (dst: number) => {
        if (stride === 1) c.localGet(q).v128Load(0, 2).localSet(dst);
        else {
          c.localGet(q).v128Load(0, 2).localGet(q).v128Load(16, 2);
          c.i8x16Shuffle(EVEN_FLOATS);
          c.localSet(dst);
        }
      };
      c.localGet(Sp).i32Const(stride).i32Eq().if();
      c.forLoop(r, 0, { local: rows }, 1, () => {
        c.localGet(lanesS).localSet(base);
        c.forLoop(t, 0, { local: T }, 4, () => {
          // q = xPtr + 4·(r·L + t·S)
          c.localGet(xPtr).localGet(r).localGet(L).i32Mul().localGet(t).i32Const(stride).i32Mul().i32Add();
          c.i32Const(2).i32Shl().i32Add().localSet(q);
          tap(m);
          c.localGet(base).localTee(cand).localSet(idx);
          c.forLoop(j, 1, { local: K }, 1, () => {
            c.addTo(q, 4);
            tap(v);
            c.localGet(cand).localGet(one);
            simd(c, S.i32x4Add);
            c.localSet(cand);
            // take = (m = m) & ~(v ≤ m)
            c.localGet(m).localGet(m);
            simd(c, S.f32x4Eq);
            c.localGet(v).localGet(m);
            simd(c, S.f32x4Le);
            simd(c, S.v128Andnot);
            c.localSet(take);
            c.localGet(v).localGet(m).localGet(take);
            simd(c, S.v128Bitselect);
            c.localSet(m);
            c.localGet(cand).localGet(idx).localGet(take);
            simd(c, S.v128Bitselect);
            c.localSet(idx);
          });
          c.localGet(op).localGet(m).v128Store(0, 2);
          c.localGet(ap).localGet(idx).v128Store(0, 2);
          c.addTo(op, 16);
          c.addTo(ap, 16);
          c.localGet(base).localGet(step);
          simd(c, S.i32x4Add);
          c.localSet(base);
        });
        // The row's outputs end at T values (the step wrote up to 3 past: the next row starts there).
        c.localGet(outPtr)
          .localGet(r)
          .i32Const(1)
          .i32Add()
          .localGet(T)
          .i32Mul()
          .i32Const(2)
          .i32Shl()
          .i32Add();
        c.localSet(op);
        c.localGet(argPtr)
          .localGet(r)
          .i32Const(1)
          .i32Add()
          .localGet(T)
          .i32Mul()
          .i32Const(2)
          .i32Shl()
          .i32Add();
        c.localSet(ap);
      });
      c.end();
    }
  });
}

/**
 * poolscatter(gPtr, argPtr, outPtr, rows, L, T): `out` (rows of L floats) set to 0, then for each row r and
 * t < T in order, `out[r·L + a] += g[r·T + t]` where a = arg[r·T + t] is in [0, L) (other positions, e.g. −1
 * for a window without input, add nothing). `rows·L` must be a multiple of 4 (the caller's slack).
 */
export function emitPoolScatter(mb: ModuleBuilder): void {
  mb.addFunction('poolscatter', [i32, i32, i32, i32, i32, i32], [], (c) => {
    const [gPtr, argPtr, outPtr, rows, L, T] = [0, 1, 2, 3, 4, 5];
    const i = c.local(i32);
    const end = c.local(i32);
    const r = c.local(i32);
    const t = c.local(i32);
    const a = c.local(i32);
    const row = c.local(i32);
    const zero = c.local(v128);
    c.v128ConstZero().localSet(zero);
    c.localGet(rows).localGet(L).i32Mul().i32Const(2).i32Shl().localSet(end);
    c.forLoop(i, 0, { local: end }, 16, () => {
      c.localGet(outPtr).localGet(i).i32Add().localGet(zero).v128Store(0, 2);
    });
    c.forLoop(r, 0, { local: rows }, 1, () => {
      c.localGet(outPtr).localGet(r).localGet(L).i32Mul().i32Const(2).i32Shl().i32Add().localSet(row);
      c.forLoop(t, 0, { local: T }, 1, () => {
        c.localGet(argPtr).i32Load(0).localSet(a);
        c.localGet(a).localGet(L);
        c.bytes.push(I32_LT_U); // unsigned: −1 is not below L
        c.if();
        c.localGet(row).localGet(a).i32Const(2).i32Shl().i32Add().localTee(i);
        c.localGet(i).f32Load(0).localGet(gPtr).f32Load(0).f32Add().f32Store(0);
        c.end();
        c.addTo(argPtr, 4);
        c.addTo(gPtr, 4);
      });
    });
  });
}
