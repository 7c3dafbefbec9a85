/** The WebAssembly matmul: {@link MatmulParams} products on the `gemm` kernel (emit.ts). */
import type { FloatArray, MatmulParams } from '../contract.js';
import { matmul as refMatmul } from '../ref/matmul.js';
import {
  copyRows,
  float32,
  Layout,
  type PartContext,
  roundUp,
  TC,
  TR,
  type WasmKernelPart,
} from './arena.js';
import { emitGemm } from './emit.js';
import { checkMatmul } from './types.js';

const FLAG_ACCUMULATE = 1;

/** Binds the matmul kernel to a module instance. */
function bindMatmul(ctx: PartContext) {
  const { arena, gemm } = ctx;
  function matmul(aAny: FloatArray, bAny: FloatArray, outAny: FloatArray, p: MatmulParams): void {
    if (!float32(aAny, bAny, outAny) || !(p.batch > 0 && p.m > 0 && p.k > 0 && p.n > 0)) {
      refMatmul(aAny, bAny, outAny, p);
      return;
    }
    const a = aAny as Float32Array;
    const b = bAny as Float32Array;
    const out = outAny as Float32Array;
    const { batch, m, k: kk, n, transA, transB } = p;
    const sa = p.batchStrideA ?? m * kk;
    const sb = p.batchStrideB ?? kk * n;
    checkMatmul(a, b, out, p, sa, sb);
    const accumulate = p.accumulate === true;
    const panels = Math.ceil(m / TR);
    const np = roundUp(n, TC);
    const lay = new Layout();
    const aAt = lay.take(panels * TR * kk + TR * m);
    const bAt = lay.take(kk * np);
    const cAt = lay.take(panels * TR * np);
    arena.reserve(lay.bytes);
    const { f32 } = arena.views();
    for (let bt = 0; bt < batch; bt++) {
      if (bt === 0 || sa !== 0) {
        // a(i, p) at aOff + i·rowStride + p·colStride
        // A is read in place by the kernel (transposed through its strides); rows past m are
        // zero (row-major) or ignored (transposed: their results are never copied out).
        if (transA) f32.set(a.subarray(bt * sa, bt * sa + m * kk), aAt / 4);
        else copyRows(f32, aAt / 4, a, bt * sa, m, kk);
      }
      if (bt === 0 || sb !== 0) {
        // B row-major [k][np] (columns past n are never copied out, so they may hold anything).
        const bOff = bt * sb;
        const base = bAt / 4;
        if (!transB) {
          if (np === n) f32.set(b.subarray(bOff, bOff + kk * n), base);
          else
            for (let q = 0; q < kk; q++) f32.set(b.subarray(bOff + q * n, bOff + q * n + n), base + q * np);
        } else {
          for (let j = 0; j < n; j++) {
            const src = bOff + j * kk;
            for (let q = 0; q < kk; q++) f32[base + q * np + j] = b[src + q];
          }
        }
      }
      const oOff = bt * m * n;
      if (accumulate) {
        for (let i = 0; i < m; i++) f32.set(out.subarray(oOff + i * n, oOff + i * n + n), cAt / 4 + i * np);
      }
      const aRow = transA ? 4 : kk * 4;
      const aK = transA ? m * 4 : 4;
      gemm(aAt, bAt, cAt, panels, np, aRow, aK, 1, kk, 0, np * 4, np * 4, accumulate ? FLAG_ACCUMULATE : 0);
      if (np === n)
        out.set(f32.subarray(cAt / 4, cAt / 4 + m * n), oOff); // rows contiguous: one copy
      else
        for (let i = 0; i < m; i++)
          out.set(f32.subarray(cAt / 4 + i * np, cAt / 4 + i * np + n), oOff + i * n);
    }
  }
  return matmul;
}

/** `matmul`: float32 products of positive sizes in WebAssembly; float64 and empty ones run the reference. */
export const matmulPart: WasmKernelPart<'matmul'> = {
  emitters: [emitGemm],
  bind: (ctx) => ({ matmul: bindMatmul(ctx) }),
  warm(k) {
    const f = new Float32Array(64).fill(0.5);
    k.matmul(f, f, new Float32Array(64), { batch: 1, m: 5, k: 3, n: 9, transA: false, transB: false });
  },
};
