/**
 * Emits the kernel module: four SIMD kernels that every public kernel is built from.
 *
 * - `gemm`: C (+)= A·B for an A read in place through strides and a B whose rows are addressed
 *   as `b + outer·strideOuter + inner·strideInner` (this covers plain matrices, the shifted rows of
 *   a padded conv input, and im2col buffers). Register tile {@link GEMM_TILE}.
 * - `dwconv`: one row of taps per output row (depthwise), tile 1 row × 16 columns.
 * - `dwgrad`: per (row, tap) dot products, for the depthwise weight gradient.
 * - `bconv`: binary XOR/popcount over i64 words, tile 4 output channels × 1 position.
 * - `maxpool` (`emit-pool.ts`): max pooling over contiguous rows, 4 positions per f32x4, branch-free.
 * - `nonfinite` (`emit-finite.ts`): whether a range of float32 values holds a NaN or ±∞.
 *
 * The kernels of training (elementwise, max pooling with indices) are a second module of their own
 * (`WASM_TRAINING_PARTS` in wasm-kernels.ts), so that each module stays under the 4 KiB that browsers compile
 * synchronously on their main thread.
 *
 * All pointers are byte addresses into the imported memory. Sizes are pre-padded by the caller
 * (M and N to the tile, binary words to pairs) so the kernels have no edge cases.
 */
import { type FunctionCode, ModuleBuilder, ValType } from './builder.js';
import { emitBconv } from './emit-binary.js';
import { emitNonFinite } from './emit-finite.js';
import { emitMaxPool } from './emit-pool.js';

const { i32, v128 } = ValType;

/** Emits `acc = acc + a * b` for v128 locals (f32x4 mul then add: no fused multiply-add in base SIMD). */
function madd(c: FunctionCode, acc: number, a: number, b: number): void {
  c.localGet(acc).localGet(a).localGet(b).f32x4Mul().f32x4Add().localSet(acc);
}

/**
 * Register tile of `gemm`: rows of C × columns of C per step. Measured on x64 V8 (256³, one
 * process, interleaved): 2 × 16 (8 accumulators + 4 B vectors + 1 splat = 13 live v128) ≈ 50
 * GFLOP/s, 4 × 8 ≈ 43, 2 × 12 ≈ 45; tiles needing 16 or more live v128 (2 × 20, 4 × 12, 3 × 16,
 * 6 × 8) spill and drop to 20–28.
 */
export const GEMM_TILE = { rows: 2, cols: 16 } as const;

/**
 * gemm(aPtr, bPtr, cPtr, panels, n, aRow, aK, nOuter, nInner, strideOuter, strideInner, ldc, flags)
 * A element (row i, reduction index q) at `aPtr + i·aRow + q·aK` (row-major or transposed, read in
 * place, no packing; rows up to rows·panels − 1 must be readable); B as described above; C:
 * (rows·panels) × ldc bytes; n is a multiple of the tile's columns; the reduction has
 * nOuter·nInner steps. flags bit 0: add into C; bit 1: ReLU at the store.
 */
export function emitGemm(mb: ModuleBuilder): void {
  const R = GEMM_TILE.rows;
  const V = GEMM_TILE.cols / 4;
  mb.addFunction('gemm', [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [aPtr, bPtr, cPtr, panels, n, aRow, aK, nOuter, nInner, strideOuter, strideInner, ldc, flags] = [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ];
    const ar = Array.from({ length: R }, () => c.local(i32));
    const pi = c.local(i32);
    const j = c.local(i32);
    const o = c.local(i32);
    const q = c.local(i32);
    const bp = c.local(i32);
    const bpo = c.local(i32);
    const cp = c.local(i32);
    const cr = c.local(i32);
    const acc = Array.from({ length: R * V }, () => c.local(v128));
    const bv = Array.from({ length: V }, () => c.local(v128));
    const av = c.local(v128);
    const zero = c.local(v128);
    c.v128ConstZero().localSet(zero);

    c.forLoop(pi, 0, { local: panels }, 1, () => {
      c.forLoop(j, 0, { local: n }, 4 * V, () => {
        // cp = cPtr + pi·R·ldc + j·4
        c.localGet(cPtr).localGet(pi).i32Const(R).i32Mul().localGet(ldc).i32Mul().i32Add();
        c.localGet(j).i32Const(2).i32Shl().i32Add().localSet(cp);
        // accumulators: load C (accumulate / bias) or zero
        c.localGet(flags).i32Const(1).i32And().if();
        c.localGet(cp).localSet(cr);
        for (let r = 0; r < R; r++) {
          for (let h = 0; h < V; h++)
            c.localGet(cr)
              .v128Load(16 * h, 2)
              .localSet(acc[r * V + h]);
          if (r < R - 1) c.addTo(cr, { local: ldc });
        }
        c.else();
        for (const a of acc) c.localGet(zero).localSet(a);
        c.end();
        // ar[r] = aPtr + (R·pi + r)·aRow; ap = offset along the reduction
        for (let r = 0; r < R; r++) {
          c.localGet(aPtr)
            .localGet(pi)
            .i32Const(R)
            .i32Mul()
            .i32Const(r)
            .i32Add()
            .localGet(aRow)
            .i32Mul()
            .i32Add();
          c.localSet(ar[r]);
        }
        c.localGet(bPtr).localGet(j).i32Const(2).i32Shl().i32Add().localSet(bpo);
        c.forLoop(o, 0, { local: nOuter }, 1, () => {
          c.localGet(bpo).localSet(bp);
          // NOTE: a do-while over a count-down with the row pointers advanced in place: 5 scalar ops per
          // reduction step instead of 7 (measured 7–12 % faster; the loop is dispatch-bound, 16 of its ~27 ops
          // are the f32x4 mul/add). Unrolling it by two measured 1.5× slower (the engine spills registers).
          c.localGet(nInner).localTee(q).if(); // nInner = 0: no reduction (the do-while needs ≥ 1 step)
          c.loop();
          for (let h = 0; h < V; h++)
            c.localGet(bp)
              .v128Load(16 * h, 2)
              .localSet(bv[h]);
          for (let r = 0; r < R; r++) {
            c.localGet(ar[r]).v128Load32Splat(0).localSet(av);
            for (let h = 0; h < V; h++) madd(c, acc[r * V + h], av, bv[h]);
          }
          for (let r = 0; r < R; r++) c.addTo(ar[r], { local: aK });
          c.addTo(bp, { local: strideInner });
          c.localGet(q).i32Const(1).i32Sub().localTee(q).brIf(0);
          c.end();
          c.end();
          c.addTo(bpo, { local: strideOuter });
        });
        // store, with optional ReLU
        c.localGet(flags).i32Const(2).i32And().if();
        for (const a of acc) c.localGet(a).localGet(zero).f32x4Max().localSet(a);
        c.end();
        c.localGet(cp).localSet(cr);
        for (let r = 0; r < R; r++) {
          for (let h = 0; h < V; h++)
            c.localGet(cr)
              .localGet(acc[r * V + h])
              .v128Store(16 * h, 2);
          if (r < R - 1) c.addTo(cr, { local: ldc });
        }
      });
    });
  });
}

/**
 * dwconv(aPtr, bPtr, cPtr, rows, n, k, mult, bRowStride, tapStride, ldc, flags)
 * C[r, t] (+)= Σ_j A[r·k + j] · B[(r / mult)·bRowStride + j·tapStride + 4t]; n multiple of 16.
 */
export function emitDwconv(mb: ModuleBuilder): void {
  mb.addFunction('dwconv', [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [aPtr, bPtr, cPtr, rows, n, k, mult, bRowStride, tapStride, ldc, flags] = [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ];
    const r = c.local(i32);
    const j = c.local(i32);
    const t = c.local(i32);
    const ap = c.local(i32);
    const bp = c.local(i32);
    const brow = c.local(i32);
    const crow = c.local(i32);
    const cp = c.local(i32);
    const acc = Array.from({ length: 4 }, () => c.local(v128));
    const av = c.local(v128);
    const zero = c.local(v128);
    c.v128ConstZero().localSet(zero);
    c.forLoop(r, 0, { local: rows }, 1, () => {
      c.localGet(bPtr)
        .localGet(r)
        .localGet(mult)
        .i32DivU()
        .localGet(bRowStride)
        .i32Mul()
        .i32Add()
        .localSet(brow);
      c.localGet(cPtr).localGet(r).localGet(ldc).i32Mul().i32Add().localSet(crow);
      c.forLoop(t, 0, { local: n }, 16, () => {
        c.localGet(crow).localGet(t).i32Const(2).i32Shl().i32Add().localSet(cp);
        c.localGet(flags).i32Const(1).i32And().if();
        for (let h = 0; h < 4; h++)
          c.localGet(cp)
            .v128Load(16 * h, 2)
            .localSet(acc[h]);
        c.else();
        for (const a of acc) c.localGet(zero).localSet(a);
        c.end();
        c.localGet(aPtr).localGet(r).localGet(k).i32Mul().i32Const(2).i32Shl().i32Add().localSet(ap);
        c.localGet(brow).localGet(t).i32Const(2).i32Shl().i32Add().localSet(bp);
        c.forLoop(j, 0, { local: k }, 1, () => {
          c.localGet(ap).v128Load32Splat(0).localSet(av);
          for (let h = 0; h < 4; h++) {
            c.localGet(acc[h])
              .localGet(av)
              .localGet(bp)
              .v128Load(16 * h, 2)
              .f32x4Mul()
              .f32x4Add()
              .localSet(acc[h]);
          }
          c.addTo(ap, 4);
          c.addTo(bp, { local: tapStride });
        });
        c.localGet(flags).i32Const(2).i32And().if();
        for (const a of acc) c.localGet(a).localGet(zero).f32x4Max().localSet(a);
        c.end();
        for (let h = 0; h < 4; h++)
          c.localGet(cp)
            .localGet(acc[h])
            .v128Store(16 * h, 2);
      });
    });
  });
}

/**
 * dwgrad(aPtr, bPtr, outPtr, rows, k, len, aRowStride, bRowStride, tapStride)
 * out[r·k + j] += Σ_{t<len} A[r·aRowStride + 4t] · B[r·bRowStride + j·tapStride + 4t]; len multiple of 8.
 */
export function emitDwgrad(mb: ModuleBuilder): void {
  mb.addFunction('dwgrad', [i32, i32, i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [aPtr, bPtr, outPtr, rows, k, len, aRowStride, bRowStride, tapStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const r = c.local(i32);
    const j = c.local(i32);
    const t = c.local(i32);
    const ap = c.local(i32);
    const bp = c.local(i32);
    const op = c.local(i32);
    const lenBytes = c.local(i32);
    const s0 = c.local(v128);
    const s1 = c.local(v128);
    c.localGet(len).i32Const(2).i32Shl().localSet(lenBytes);
    c.localGet(outPtr).localSet(op);
    c.forLoop(r, 0, { local: rows }, 1, () => {
      c.forLoop(j, 0, { local: k }, 1, () => {
        c.localGet(aPtr).localGet(r).localGet(aRowStride).i32Mul().i32Add().localSet(ap);
        c.localGet(bPtr).localGet(r).localGet(bRowStride).i32Mul().i32Add();
        c.localGet(j).localGet(tapStride).i32Mul().i32Add().localSet(bp);
        c.v128ConstZero().localTee(s0).localSet(s1);
        c.forLoop(t, 0, { local: lenBytes }, 32, () => {
          c.localGet(s0)
            .localGet(ap)
            .v128Load(0, 2)
            .localGet(bp)
            .v128Load(0, 2)
            .f32x4Mul()
            .f32x4Add()
            .localSet(s0);
          c.localGet(s1)
            .localGet(ap)
            .v128Load(16, 2)
            .localGet(bp)
            .v128Load(16, 2)
            .f32x4Mul()
            .f32x4Add()
            .localSet(s1);
          c.addTo(ap, 32);
          c.addTo(bp, 32);
        });
        c.localGet(s0).localGet(s1).f32x4Add().localSet(s0);
        // out[op] += lane0 + lane1 + lane2 + lane3
        c.localGet(op).localGet(op).f32Load(0);
        c.localGet(s0).f32x4ExtractLane(0).localGet(s0).f32x4ExtractLane(1).f32Add();
        c.localGet(s0).f32x4ExtractLane(2).localGet(s0).f32x4ExtractLane(3).f32Add().f32Add();
        c.f32Add().f32Store(0);
        c.addTo(op, 4);
      });
    });
  });
}

/**
 * gemmNT(aPtr, bPtr, cPtr, mPanels, nPairs, len, lda, nInner, strideOuter, strideInner, ldc)
 * C[m, n] += Σ_{t<len} A[m·lda + 4t] · B_n[4t] with B row n at
 * `bPtr + floor(n / nInner)·strideOuter + (n mod nInner)·strideInner`: both operands contiguous
 * along the reduction (the conv weight gradient without im2col). Tile 4 rows × 2 columns;
 * len is a multiple of 4, rows padded to 4 and columns to 2 by the caller.
 */
export function emitGemmNT(mb: ModuleBuilder): void {
  mb.addFunction('gemmNT', [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [aPtr, bPtr, cPtr, mPanels, nPairs, len, lda, nInner, strideOuter, strideInner, ldc] = [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ];
    const mp = c.local(i32);
    const np = c.local(i32);
    const n = c.local(i32);
    const t = c.local(i32);
    const lenBytes = c.local(i32);
    const bRow = [c.local(i32), c.local(i32)];
    const aRow = [c.local(i32), c.local(i32), c.local(i32), c.local(i32)];
    const cp = c.local(i32);
    const acc = Array.from({ length: 8 }, () => c.local(v128));
    const bv = [c.local(v128), c.local(v128)];
    const av = c.local(v128);
    c.localGet(len).i32Const(2).i32Shl().localSet(lenBytes);
    c.forLoop(mp, 0, { local: mPanels }, 1, () => {
      c.forLoop(np, 0, { local: nPairs }, 1, () => {
        for (let h = 0; h < 2; h++) {
          // n = 2·np + h; bRow = bPtr + (n / nInner)·strideOuter + (n − (n / nInner)·nInner)·strideInner
          c.localGet(np).i32Const(1).i32Shl().i32Const(h).i32Add().localSet(n);
          c.localGet(bPtr);
          c.localGet(n).localGet(nInner).i32DivU().localGet(strideOuter).i32Mul().i32Add();
          c.localGet(n).localGet(n).localGet(nInner).i32DivU().localGet(nInner).i32Mul().i32Sub();
          c.localGet(strideInner).i32Mul().i32Add().localSet(bRow[h]);
        }
        for (let r = 0; r < 4; r++) {
          c.localGet(aPtr)
            .localGet(mp)
            .i32Const(2)
            .i32Shl()
            .i32Const(r)
            .i32Add()
            .localGet(lda)
            .i32Mul()
            .i32Add();
          c.localSet(aRow[r]);
        }
        for (const a of acc) c.v128ConstZero().localSet(a);
        c.forLoop(t, 0, { local: lenBytes }, 16, () => {
          for (let h = 0; h < 2; h++) c.localGet(bRow[h]).localGet(t).i32Add().v128Load(0, 2).localSet(bv[h]);
          for (let r = 0; r < 4; r++) {
            c.localGet(aRow[r]).localGet(t).i32Add().v128Load(0, 2).localSet(av);
            for (let h = 0; h < 2; h++) madd(c, acc[2 * r + h], av, bv[h]);
          }
        });
        // C[(4·mp + r)·ldc + 4·(2·np + h)] += horizontal sum of acc[2r + h]
        for (let r = 0; r < 4; r++) {
          for (let h = 0; h < 2; h++) {
            const a = acc[2 * r + h];
            c.localGet(cPtr)
              .localGet(mp)
              .i32Const(2)
              .i32Shl()
              .i32Const(r)
              .i32Add()
              .localGet(ldc)
              .i32Mul()
              .i32Add();
            c.localGet(np)
              .i32Const(3)
              .i32Shl()
              .i32Const(4 * h)
              .i32Add()
              .i32Add()
              .localSet(cp);
            c.localGet(cp).localGet(cp).f32Load(0);
            c.localGet(a).f32x4ExtractLane(0).localGet(a).f32x4ExtractLane(1).f32Add();
            c.localGet(a).f32x4ExtractLane(2).localGet(a).f32x4ExtractLane(3).f32Add().f32Add();
            c.f32Add().f32Store(0);
          }
        }
      });
    });
  });
}

/**
 * Bytes of the kernel module (imports `env.memory`; a shared memory of at most `sharedMaxPages` pages when given,
 * for kernel sets whose calls are split across threads).
 */
export function buildKernelModule(options: { sharedMaxPages?: number } = {}): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder().importMemory('env', 'memory', 1, options.sharedMaxPages);
  emitGemm(mb);
  emitDwconv(mb);
  emitDwgrad(mb);
  emitGemmNT(mb);
  emitBconv(mb);
  emitMaxPool(mb);
  emitNonFinite(mb);
  return mb.build();
}

/** Bytes of a tiny module using SIMD instructions (`v128.const`, `i8x16.popcnt`, `f32x4.add`), for feature detection. */
export function buildSimdProbe(): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.addFunction('probe', [], [i32], (c) => {
    c.v128ConstZero().i8x16Popcnt().v128ConstZero().f32x4Add().i32x4ExtractLane(0);
  });
  return mb.build();
}
