import type { FloatArray, MatmulParams } from '../contract.js';
import { floatScratch, Scratch } from './scratch.js';

const accumulateScratch32 = new Scratch(Float32Array);
const accumulateScratch64 = new Scratch(Float64Array);

/**
 * Batched matrix product (see {@link MatmulParams}): register-tiled (below); products of fewer than 4 rows
 * (a vector times a matrix: dense layers at batch 1) run {@link matmulFewRows}, which packs nothing. With
 * `accumulate`, the product is computed into scratch and added to `out`.
 */
export function matmul(a: FloatArray, b: FloatArray, out: FloatArray, p: MatmulParams): void {
  const { batch, m, k, n, transA, transB } = p;
  const sa = p.batchStrideA ?? m * k;
  const sb = p.batchStrideB ?? k * n;
  const core = m < 4 ? matmulFewRows : matmulCore;
  if (!p.accumulate) {
    core(a, b, out, batch, m, k, n, transA, transB, sa, sb);
    return;
  }
  const size = batch * m * n;
  const tmp = floatScratch(accumulateScratch32, accumulateScratch64, out, size);
  core(a, b, tmp, batch, m, k, n, transA, transB, sa, sb);
  for (let i = 0; i < size; i++) out[i] += tmp[i];
}

const rowScratch = new Scratch(Float64Array);

/**
 * Matmul of few rows (m < 4) without packing: packing B would cost as much as the product itself and the 4×4
 * tile would waste 4/m of its work. With B transposed each output is a dot product of two contiguous rows
 * (4 accumulators); otherwise rows of B are streamed into a float64 row of accumulators (i-q-j order).
 */
function matmulFewRows(
  a: FloatArray,
  b: FloatArray,
  out: FloatArray,
  batch: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  aBatchStride: number,
  bBatchStride: number,
): void {
  // Element (row r, col c) of op(A) is at aRow·r + aCol·c.
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const acc = transB ? null : rowScratch.get(n);
  for (let bt = 0; bt < batch; bt++) {
    const aOff = bt * aBatchStride;
    const bOff = bt * bBatchStride;
    for (let i = 0; i < m; i++) {
      const a0 = aOff + i * aRow;
      const o0 = bt * m * n + i * n;
      if (acc === null) {
        for (let j = 0; j < n; j++) {
          const b0 = bOff + j * k;
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          let q = 0;
          for (; q + 3 < k; q += 4) {
            s0 += a[a0 + q * aCol] * b[b0 + q];
            s1 += a[a0 + (q + 1) * aCol] * b[b0 + q + 1];
            s2 += a[a0 + (q + 2) * aCol] * b[b0 + q + 2];
            s3 += a[a0 + (q + 3) * aCol] * b[b0 + q + 3];
          }
          for (; q < k; q++) s0 += a[a0 + q * aCol] * b[b0 + q];
          out[o0 + j] = s0 + s1 + (s2 + s3);
        }
      } else {
        acc.fill(0, 0, n);
        for (let q = 0; q < k; q++) {
          const av = a[a0 + q * aCol];
          const br = bOff + q * n;
          for (let j = 0; j < n; j++) acc[j] += av * b[br + j];
        }
        for (let j = 0; j < n; j++) out[o0 + j] = acc[j];
      }
    }
  }
}

// Scratch panels, grown on demand and reused across calls (no allocation in the hot loops).
const panelA32 = new Scratch(Float32Array);
const panelB32 = new Scratch(Float32Array);
const panelA64 = new Scratch(Float64Array);
const panelB64 = new Scratch(Float64Array);

/**
 * Batched matmul, register-tiled: B is packed once per batch into 4-column panels (k×4, contiguous), A into
 * a 4-row panel per row block; a 4×4 micro-kernel keeps 16 accumulators in registers over the k loop
 * (8 loads per 16 multiply-adds). Edges are zero-padded in the panels and masked on store.
 */
function matmulCore(
  a: FloatArray,
  b: FloatArray,
  out: FloatArray,
  batch: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  aBatchStride: number,
  bBatchStride: number,
): void {
  const nBlocks = Math.ceil(n / 4);
  const bp = floatScratch(panelB32, panelB64, out, nBlocks * k * 4);
  const ap = floatScratch(panelA32, panelA64, out, k * 4);
  // Element (row r, col c) of op(A) is at aRow*r + aCol*c; same for B.
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  for (let bt = 0; bt < batch; bt++) {
    const aOff = bt * aBatchStride;
    const bOff = bt * bBatchStride;
    const oOff = bt * m * n;
    // Pack B: panel jb holds columns 4jb..4jb+3 for every p, as bp[(jb*k + p)*4 + c].
    for (let jb = 0; jb < nBlocks; jb++) {
      const j0 = jb * 4;
      const base = jb * k * 4;
      for (let p = 0; p < k; p++) {
        const src = bOff + p * bRow;
        const dst = base + p * 4;
        for (let c = 0; c < 4; c++) {
          const j = j0 + c;
          bp[dst + c] = j < n ? b[src + j * bCol] : 0;
        }
      }
    }
    for (let i0 = 0; i0 < m; i0 += 4) {
      // Pack A rows i0..i0+3 as ap[p*4 + r].
      for (let p = 0; p < k; p++) {
        const src = aOff + p * aCol;
        for (let r = 0; r < 4; r++) {
          const i = i0 + r;
          ap[p * 4 + r] = i < m ? a[src + i * aRow] : 0;
        }
      }
      const rows = Math.min(4, m - i0);
      for (let jb = 0; jb < nBlocks; jb++) {
        let c00 = 0,
          c01 = 0,
          c02 = 0,
          c03 = 0;
        let c10 = 0,
          c11 = 0,
          c12 = 0,
          c13 = 0;
        let c20 = 0,
          c21 = 0,
          c22 = 0,
          c23 = 0;
        let c30 = 0,
          c31 = 0,
          c32 = 0,
          c33 = 0;
        let pb = jb * k * 4;
        let pa = 0;
        for (let p = 0; p < k; p++) {
          const a0 = ap[pa];
          const a1 = ap[pa + 1];
          const a2 = ap[pa + 2];
          const a3 = ap[pa + 3];
          const b0 = bp[pb];
          const b1 = bp[pb + 1];
          const b2 = bp[pb + 2];
          const b3 = bp[pb + 3];
          c00 += a0 * b0;
          c01 += a0 * b1;
          c02 += a0 * b2;
          c03 += a0 * b3;
          c10 += a1 * b0;
          c11 += a1 * b1;
          c12 += a1 * b2;
          c13 += a1 * b3;
          c20 += a2 * b0;
          c21 += a2 * b1;
          c22 += a2 * b2;
          c23 += a2 * b3;
          c30 += a3 * b0;
          c31 += a3 * b1;
          c32 += a3 * b2;
          c33 += a3 * b3;
          pa += 4;
          pb += 4;
        }
        const j0 = jb * 4;
        const cols = Math.min(4, n - j0);
        let o = oOff + i0 * n + j0;
        if (cols === 4) {
          out[o] = c00;
          out[o + 1] = c01;
          out[o + 2] = c02;
          out[o + 3] = c03;
          if (rows > 1) {
            o += n;
            out[o] = c10;
            out[o + 1] = c11;
            out[o + 2] = c12;
            out[o + 3] = c13;
          }
          if (rows > 2) {
            o += n;
            out[o] = c20;
            out[o + 1] = c21;
            out[o + 2] = c22;
            out[o + 3] = c23;
          }
          if (rows > 3) {
            o += n;
            out[o] = c30;
            out[o + 1] = c31;
            out[o + 2] = c32;
            out[o + 3] = c33;
          }
        } else {
          storeRow(out, o, cols, c00, c01, c02);
          if (rows > 1) storeRow(out, o + n, cols, c10, c11, c12);
          if (rows > 2) storeRow(out, o + 2 * n, cols, c20, c21, c22);
          if (rows > 3) storeRow(out, o + 3 * n, cols, c30, c31, c32);
        }
      }
    }
  }
}

function storeRow(out: FloatArray, o: number, cols: number, v0: number, v1: number, v2: number): void {
  out[o] = v0;
  if (cols > 1) out[o + 1] = v1;
  if (cols > 2) out[o + 2] = v2;
}
