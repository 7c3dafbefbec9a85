/**
 * Dense layers and concatenation: `linear` (the contract's `matmul` on the chunk's rows), `binaryLinear`
 * (`binaryDense` on packed words, then `cast` to float), `concat` (copies of each window's parts).
 */
import type { MatmulParams } from '@ecgnn/kernels';
import {
  type BindContext,
  type Bound,
  type InferKernels,
  type NodeChecker,
  type OpDef,
  prefix,
  size,
  type ValueInfo,
  windows,
} from './types.js';

/**
 * Columns of the WebAssembly matmul tile: a dense output padded to a multiple of it avoids the matmul's slow
 * per-row copies of a partial tile.
 */
const MATMUL_COLUMNS = 16;

/**
 * At batch 1 a dense layer with fewer multiply-adds than this runs in TypeScript even with WebAssembly kernels:
 * below it the call and copies cost more than the arithmetic (measured on the development machine, output padded
 * to 16 columns: 64→5 0.44 µs TypeScript vs 0.49 µs WebAssembly, 64→16 1.7 vs 0.5 µs, 64→64 7.4 vs 1.0 µs).
 */
const DENSE_WASM_MIN_MACS = 512;

/**
 * Batched, a dense layer runs as one WebAssembly matmul of the chunk's rows when each row has at least
 * {@link DENSE_WASM_MIN_ROW_MACS} multiply-adds and the chunk at least {@link DENSE_WASM_MIN_CHUNK_MACS}; smaller
 * chunks run the TypeScript path. Measured (µs per chunk, TypeScript vs WebAssembly): 64→5 at 2 rows 1.0 vs 3.5,
 * 4 rows 2.1 vs 0.8, 64 rows 40 vs 16; 16→4 at 64 rows 6.5 vs 8.8; 8→2 at 64 rows 2.2 vs 6.6; 64→64 at 2 rows 11
 * vs 1.2.
 */
const DENSE_WASM_MIN_ROW_MACS = 256;
const DENSE_WASM_MIN_CHUNK_MACS = 1024;

/** `linear`: `[F]` → `[O]`, `y = W·x + b` with W `[O, F]`. */
export const linear: OpDef = {
  arity: 1,
  input: 'float',
  rank: [1],
  check(c: NodeChecker, [x]: ValueInfo[]) {
    const [O] = c.tensor('weight', true, ['out', x.shape[0]], 'float').shape;
    c.tensor('bias', false, [O], 'float');
    return { output: { kind: 'float', shape: [O] }, attrs: {} };
  },
  bind(ctx: BindContext, batch: number): Bound {
    const n = size(ctx.ins[0].info);
    const O = ctx.out.info.shape[0];
    const w = ctx.floats('weight')!;
    const bias = ctx.floats('bias');
    const X = ctx.ins[0].buf as Float32Array;
    const Y = ctx.out.buf as Float32Array;
    const macs = n * O;
    const minRows = Math.max(1, Math.ceil(DENSE_WASM_MIN_CHUNK_MACS / macs));
    const useWasm =
      ctx.wasm &&
      (batch === 1 ? macs >= DENSE_WASM_MIN_MACS : macs >= DENSE_WASM_MIN_ROW_MACS && minRows <= batch);
    const ts = denseRows(ctx.reference.matmul, w, bias, n, O, true);
    let step = ts;
    if (useWasm) {
      // WebAssembly: the weight transposed once to [F, Op] (Op = O rounded up to the tile width, zero columns),
      // so the matmul reads it row-major; the scratch product's rows start from the (padded) bias.
      const { wt, bp, Op } = ctx.derive('linear', () => {
        const Op = Math.ceil(O / MATMUL_COLUMNS) * MATMUL_COLUMNS;
        const wt = new Float32Array(n * Op);
        for (let o = 0; o < O; o++) for (let i = 0; i < n; i++) wt[i * Op + o] = w[o * n + i];
        const bp = new Float32Array(Op);
        if (bias) bp.set(bias);
        return { wt, bp, Op };
      });
      const yp = new Float32Array(batch * Op);
      const heads = windows(yp, Op, batch).map((row) => row.subarray(0, O));
      const wm = denseRows(ctx.kernels.matmul, wt, bp, n, Op, false);
      step = (x, y, nb) => {
        if (nb < minRows && batch > 1) return ts(x, y, nb);
        wm(x, yp, nb);
        for (let r = 0; r < nb; r++) y.set(heads[r], r * O);
      };
    }
    return { run: (nb) => step(X, Y, nb), wasm: useWasm, direct: (xi, yi) => step(xi ?? X, yi ?? Y, 1) };
  },
};

/**
 * `y = x·Wᵀ + b` on the first `nb` rows of `x` (`[rows][k]`), `y` `[rows][n]`: W `[n, k]` (`transB`) or `[k, n]`,
 * `b` `[n]` or null (the rows start from it and the product is accumulated).
 */
export function denseRows(
  matmul: InferKernels['matmul'],
  w: Float32Array,
  bias: Float32Array | null,
  k: number,
  n: number,
  transB: boolean,
): (x: Float32Array, y: Float32Array, nb: number) => void {
  const p: MatmulParams = { batch: 1, m: 1, k, n, transA: false, transB, accumulate: !!bias };
  return (x, y, nb) => {
    if (bias) for (let r = 0; r < nb; r++) y.set(bias, r * n);
    p.m = nb;
    matmul(x, w, y, p);
  };
}

/** `binaryLinear`: bits `[F]` → float `[O]`, the integer dots `F − 2·popcount(x ^ w[o])`. */
export const binaryLinear: OpDef = {
  arity: 1,
  input: 'bits',
  rank: [1],
  check(c: NodeChecker, [x]: ValueInfo[]) {
    const [O] = c.tensor('weight', true, ['out', x.shape[0]], 'bits').shape;
    return { output: { kind: 'float', shape: [O] }, attrs: {} };
  },
  bind(ctx: BindContext, batch: number): Bound {
    const w = ctx.tensor('weight')!;
    const [O, F] = w.entry.shape;
    const p = { batch, inFeatures: F, outFeatures: O };
    const dots = new Int32Array(batch * O);
    const ds = prefix(dots, O);
    const ys = prefix(ctx.out.buf as Float32Array, O);
    const X = ctx.ins[0].buf as Uint32Array;
    const wb = w.data as Uint32Array;
    // NOTE: the reference kernel in both modes: the WebAssembly binaryDense re-interleaves the weights on every
    // call and measured slower at batch 1 (64→16: 0.07 vs 0.32 µs; 512→256: 9.9 vs 21 µs; 1024→512: 47 vs 72 µs).
    const dense = ctx.reference.binaryDense;
    const cast = ctx.kernels.cast;
    return {
      run: (nb) => {
        p.batch = nb;
        dense(X, wb, dots, p);
        cast(ds.get(nb), ys.get(nb));
      },
      wasm: false,
    };
  },
};

/** `concat` along channels: `[C_i, L]`… → `[ΣC_i, L]`, or `[F_i]`… → `[ΣF_i]`. */
export const concat: OpDef = {
  arity: 'variadic',
  input: 'float',
  check(c: NodeChecker, inputs: ValueInfo[]) {
    const x = inputs[0];
    let total = 0;
    for (const v of inputs) {
      if (v.shape.length !== x.shape.length || (x.shape.length === 2 && v.shape[1] !== x.shape[1])) {
        c.fail(`inputs must all be [C_i, ${x.shape[1]}] (or all [F_i]), got [${v.shape}]`);
      }
      total += v.shape[0];
    }
    return {
      output: { kind: 'float', shape: x.shape.length === 2 ? [total, x.shape[1]] : [total] },
      attrs: {},
    };
  },
  bind(ctx: BindContext, batch: number): Bound {
    // Channel-axis concat of [C_i, L] windows is a plain concatenation of their row-major data.
    const offsets: number[] = [];
    let off = 0;
    for (const v of ctx.ins) {
      offsets.push(off);
      off += size(v.info);
    }
    const parts = ctx.ins.map((v) => windows(v.buf as Float32Array, size(v.info), batch));
    const ys = windows(ctx.out.buf as Float32Array, size(ctx.out.info), batch);
    const k = parts.length;
    return {
      run: (nb) => {
        for (let b = 0; b < nb; b++) for (let i = 0; i < k; i++) ys[b].set(parts[i][b], offsets[i]);
      },
      wasm: false,
      perWindow: batch > 1,
    };
  },
};
