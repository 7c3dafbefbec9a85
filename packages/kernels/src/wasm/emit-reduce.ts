/**
 * The row-sum kernel of the WebAssembly `reduce` (bound by `part-reduce.ts`):
 *
 * - `rowsum(x, rows, len, out)`: `out[r] = f32(Σ_{k<len} x[r·len + k])`, each sum taken in float64 from +0 in
 *   index order and rounded once: the same operations in the same order as the reference (`ref/elementwise.ts`,
 *   a JavaScript number accumulating the promoted float32 values), so the results are bit for bit the
 *   reference's. The sum of one row is a chain of dependent additions; four rows are summed side by side (four
 *   independent chains hide the latency of `f64.add`), then the remaining rows one at a time.
 */
import { F64_OP, type ModuleBuilder, ValType } from './builder.js';

const { i32, f64 } = ValType;

/** Rows summed side by side. */
const LANES = 4;

/** Emits `rowsum` (see the file comment). */
export function emitRowSum(mb: ModuleBuilder): void {
  mb.addFunction('rowsum', [i32, i32, i32, i32], [], (c) => {
    const [x, rows, len, out] = [0, 1, 2, 3];
    const r = c.local(i32);
    const k = c.local(i32);
    const rowBytes = c.local(i32);
    const full = c.local(i32);
    const p = Array.from({ length: LANES }, () => c.local(i32));
    const s = Array.from({ length: LANES }, () => c.local(f64));
    c.localGet(len).i32Const(2).i32Shl().localSet(rowBytes);
    // full = rows rounded down to a multiple of LANES
    c.localGet(rows).i32Const(-LANES).i32And().localSet(full);
    /** Sums rows r … r + n − 1 (n = 1 or LANES), storing each to out. */
    const sumRows = (n: number) => {
      for (let i = 0; i < n; i++) {
        // p_i = x + (r + i)·rowBytes; s_i = +0
        c.localGet(x).localGet(r);
        if (i > 0) c.i32Const(i).i32Add();
        c.localGet(rowBytes).i32Mul().i32Add().localSet(p[i]);
        c.raw(F64_OP.f64Const, 0, 0, 0, 0, 0, 0, 0, 0);
        c.localSet(s[i]);
      }
      c.forLoop(k, 0, { local: len }, 1, () => {
        for (let i = 0; i < n; i++) {
          c.localGet(s[i]).localGet(p[i]).f32Load(0);
          c.raw(F64_OP.f64PromoteF32, F64_OP.f64Add);
          c.localSet(s[i]);
          c.addTo(p[i], 4);
        }
      });
      for (let i = 0; i < n; i++) {
        // out[r + i] = f32(s_i)
        c.localGet(out).localGet(r);
        if (i > 0) c.i32Const(i).i32Add();
        c.i32Const(2).i32Shl().i32Add();
        c.localGet(s[i]);
        c.raw(F64_OP.f32DemoteF64);
        c.f32Store(0);
      }
    };
    c.forLoop(r, 0, { local: full }, LANES, () => sumRows(LANES));
    c.forLoop(r, { local: full }, { local: rows }, 1, () => sumRows(1));
  });
}
