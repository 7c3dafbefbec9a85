/**
 * The pooling kernel of the shared kernel module (built by `emit.ts`): `maxpool`, max pooling over contiguous
 * rows, four output positions per `f32x4`, without branches on the data.
 *
 * Why in WebAssembly although pooling moves little arithmetic: the TypeScript loop's compare-and-select compiles
 * to a branch, and on activations that look random (after a ReLU, about half the comparisons go either way) the
 * mispredictions cost about 20 cycles per window; measured on the development machine, batch of 64 windows of
 * 16 × 360 floats, kernel 2 stride 2: 5.8 ms per 256 windows in TypeScript vs about 0.5 ms here, copies
 * included (docs/infer.md, "Batches").
 */
import { type ModuleBuilder, ValType } from './builder.js';

const { i32, v128 } = ValType;

/** Byte lanes of `i8x16.shuffle` picking f32 lanes 0, 2 of `a` and 0, 2 of `b` (the even floats of a‖b). */
const EVEN_FLOATS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];

/** Strides the `maxpool` kernel handles (its caller runs other strides in TypeScript). */
export const MAXPOOL_STRIDES: readonly number[] = [1, 2];

/**
 * maxpool(xPtr, outPtr, rows, rowIn, outL, K, S), S ∈ {1, 2}:
 * `out[r·outL + t] = max_{j<K} x[r·rowIn/4 + t·S + j]` for every row r and t < outL, with the semantics of the
 * TypeScript max pool: the first of equal values is kept (`m < v ? v : m`, i.e. `f32x4.pmax`, so −0 vs +0 as
 * PyTorch) and a NaN propagates (`v ≠ v` selects v). Rows of `x` are `rowIn` bytes apart and already padded
 * (padding holds −∞); output rows are contiguous (`outL` floats each). Each step computes four positions, so
 * the last step of a row writes up to 3 floats past the row (into the next row, computed later, or past the
 * end: the caller leaves slack) and reads up to `4·S + 4` floats past its window (also slack).
 */
export function emitMaxPool(mb: ModuleBuilder): void {
  mb.addFunction('maxpool', [i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [xPtr, outPtr, rows, rowIn, outL, K, S] = [0, 1, 2, 3, 4, 5, 6];
    const r = c.local(i32);
    const t = c.local(i32);
    const j = c.local(i32);
    const xr = c.local(i32);
    const op = c.local(i32);
    const q = c.local(i32);
    const m = c.local(v128);
    const v = c.local(v128);
    for (const stride of MAXPOOL_STRIDES) {
      // The four taps j of positions t … t+3 as one vector: contiguous for stride 1, the even floats of
      // two loads for stride 2.
      const tap = (dst: number) => {
        if (stride === 1) {
          c.localGet(q).v128Load(0, 2).localSet(dst);
          return;
        }
        c.localGet(q).v128Load(0, 2).localGet(q).v128Load(16, 2);
        c.i8x16Shuffle(EVEN_FLOATS);
        c.localSet(dst);
      };
      c.localGet(S).i32Const(stride).i32Eq().if();
      c.forLoop(r, 0, { local: rows }, 1, () => {
        c.localGet(xPtr).localGet(r).localGet(rowIn).i32Mul().i32Add().localSet(xr);
        c.localGet(outPtr).localGet(r).localGet(outL).i32Mul().i32Const(2).i32Shl().i32Add().localSet(op);
        c.forLoop(t, 0, { local: outL }, 4, () => {
          // q = xr + 4·S·t (bytes)
          c.localGet(xr)
            .localGet(t)
            .i32Const(stride === 1 ? 2 : 3)
            .i32Shl()
            .i32Add()
            .localSet(q);
          tap(m);
          c.forLoop(j, 1, { local: K }, 1, () => {
            c.addTo(q, 4);
            tap(v);
            // m = v ≠ v ? v : pmax(m, v)
            c.localGet(v).localGet(m).localGet(v);
            c.f32x4Pmax();
            c.localGet(v).localGet(v);
            c.f32x4Ne();
            c.v128Bitselect();
            c.localSet(m);
          });
          c.localGet(op).localGet(m).v128Store(0, 2);
          c.addTo(op, 16);
        });
      });
      c.end();
    }
  });
}
