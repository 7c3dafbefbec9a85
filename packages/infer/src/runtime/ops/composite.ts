/**
 * Composite ops, composed from contract kernels: squeeze-and-excitation (mean over time, two dense layers,
 * ReLU, sigmoid, channel scaling) and single-head scaled dot-product self-attention (three projections, scores,
 * softmax, weighted sum — matrix products in the WebAssembly matmul when the set has it).
 */
import type { MatmulParams } from '@ecgnn/kernels';
import { denseRows } from './dense.js';
import { meanOverTime } from './pool.js';
import {
  type BindContext,
  type Bound,
  MAX_ACTIVATION_ELEMENTS,
  type NodeChecker,
  type OpDef,
  PerBatch,
  prefix,
  type ValueInfo,
  windows,
} from './types.js';

/**
 * `squeezeExcitation` (Hu et al. 2018): `z = mean_t x`, `s = σ(W2·relu(W1·z + b1) + b2)`, `y[c, t] = x[c, t]·s[c]`,
 * every intermediate stored as float32. W1 `[R, C]`, W2 `[C, R]`.
 */
export const squeezeExcitation: OpDef = {
  arity: 1,
  input: 'float',
  rank: [2],
  check(c: NodeChecker, [x]: ValueInfo[]) {
    const C = x.shape[0];
    const [R] = c.tensor('w1', true, ['R', C], 'float').shape;
    c.tensor('w2', true, [C, R], 'float');
    c.tensor('b1', false, [R], 'float');
    c.tensor('b2', false, [C], 'float');
    return { output: { kind: 'float', shape: x.shape.slice() }, attrs: {} };
  },
  bind(ctx: BindContext, batch: number): Bound {
    const [C, L] = ctx.ins[0].info.shape;
    const w1 = ctx.floats('w1')!;
    const w2 = ctx.floats('w2')!;
    const b1 = ctx.floats('b1');
    const b2 = ctx.floats('b2');
    const R = w1.length / C;
    const z = new Float32Array(batch * C);
    const h = new Float32Array(batch * R);
    const s = new Float32Array(batch * C);
    const hs = prefix(h, R);
    const ss = prefix(s, C);
    const X = ctx.ins[0].buf as Float32Array;
    const ys = prefix(ctx.out.buf as Float32Array, C * L);
    // The dense layers are tiny (C → C/r → C): the reference matmul.
    const dense1 = denseRows(ctx.reference.matmul, w1, b1, C, R, true);
    const dense2 = denseRows(ctx.reference.matmul, w2, b2, R, C, true);
    // y[b, c, t] = x[b, c, t]·s[b, c]: s broadcast over time (stride 0).
    const xStrides = [C * L, L, 1];
    const sStrides = [C, 1, 0];
    const shapes = new PerBatch((nb) => [nb, C, L]);
    const mean = meanOverTime(batch, C, L);
    const { avgPool1d, activation, binary } = ctx.kernels;
    return {
      run: (nb) => {
        mean.batch = nb;
        avgPool1d(X, z, mean, true);
        dense1(z, h, nb);
        activation('relu', hs.get(nb), hs.get(nb));
        dense2(h, s, nb);
        activation('sigmoid', ss.get(nb), ss.get(nb));
        binary('mul', X, xStrides, s, sStrides, ys.get(nb), shapes.get(nb));
      },
      wasm: false,
    };
  },
};

/**
 * `attention`: single-head scaled dot-product self-attention over time (Vaswani et al. 2017; SNAIL's attention
 * block). For x `[C, L]`: `q_t = Wq·x_t + bq`, `k_t`, `v_t` likewise; `a_t = Σ_j softmax_j(q_t·k_j / √D)·v_j` with
 * `j ≤ t` when `causal`. Output `[V, L]`, or `[C + V, L]` (x then a) with `concat`.
 */
export const attention: OpDef = {
  arity: 1,
  input: 'float',
  rank: [2],
  check(c: NodeChecker, [x]: ValueInfo[]) {
    const [C, L] = x.shape;
    const [D] = c.tensor('wq', true, ['D', C], 'float').shape;
    c.tensor('wk', true, [D, C], 'float');
    const [V] = c.tensor('wv', true, ['V', C], 'float').shape;
    c.tensor('bq', false, [D], 'float');
    c.tensor('bk', false, [D], 'float');
    c.tensor('bv', false, [V], 'float');
    const causal = c.bool('causal', false);
    const concat = c.bool('concat', false);
    // Scratch: the projections L·(2D + V), the scores and their softmax 2·L².
    if (L * (2 * D + V) + 2 * L * L > MAX_ACTIVATION_ELEMENTS) c.fail('attention scratch would be too large');
    return { output: { kind: 'float', shape: [concat ? C + V : V, L] }, attrs: { causal, concat } };
  },
  bind(ctx: BindContext, batch: number): Bound {
    const [C, L] = ctx.ins[0].info.shape;
    const concat = ctx.attrs.concat ?? false;
    // The projections q, k, v `[L, rows]` = xᵀ·Wᵀ (x [C, L] and W [rows, C] read transposed), each starting from
    // its bias as a whole [L, rows] block (the bias of every time step), made once.
    const projections = ['q', 'k', 'v'].map((r) => {
      const w = ctx.floats(`w${r}`)!;
      const rows = w.length / C;
      const b = ctx.floats(`b${r}`);
      const bias =
        b &&
        ctx.derive(`attention.b${r}`, () => {
          const t = new Float32Array(L * rows);
          for (let i = 0; i < L; i++) t.set(b, i * rows);
          return t;
        });
      const p: MatmulParams = { batch: 1, m: L, k: C, n: rows, transA: true, transB: true, accumulate: !!b };
      return { w, rows, bias, p, y: new Float32Array(L * rows) };
    });
    const [{ y: q, rows: D }, { y: k }, { y: v, rows: V }] = projections;
    const mask = ctx.attrs.causal
      ? ctx.derive('attention.mask', () => {
          // 0 where j ≤ t, −∞ where j > t: exp(−∞) = 0 drops the future from the softmax.
          const m = new Float32Array(L * L);
          for (let t = 0; t < L; t++) m.fill(Number.NEGATIVE_INFINITY, t * L + t + 1, (t + 1) * L);
          return m;
        })
      : null;
    const scale = Float32Array.of(1 / Math.sqrt(D));
    const S = new Float32Array(L * L);
    const P = new Float32Array(L * L);
    const ps: MatmulParams = { batch: 1, m: L, k: D, n: L, transA: false, transB: true };
    // a[r, t] = Σ_j v[j, r]·P[t, j]: v [L, V] read transposed, P [L, L] read transposed → [V, L].
    const pa: MatmulParams = { batch: 1, m: V, k: L, n: L, transA: true, transB: true };
    const xs = windows(ctx.ins[0].buf as Float32Array, C * L, batch);
    const ys = windows(ctx.out.buf as Float32Array, (concat ? C + V : V) * L, batch);
    const as = ys.map((y) => y.subarray(concat ? C * L : 0));
    const unit = [1];
    const broadcast = [0];
    const scoreShape = [L * L];
    const { matmul, binary, softmax } = ctx.kernels;
    const one = (b: number) => {
      const x = xs[b];
      for (let j = 0; j < 3; j++) {
        const { w, bias, p, y } = projections[j];
        if (bias) y.set(bias);
        matmul(x, w, y, p);
      }
      matmul(q, k, S, ps);
      binary('mul', S, unit, scale, broadcast, S, scoreShape);
      if (mask) binary('add', S, unit, mask, unit, S, scoreShape);
      softmax(S, P, L, L, 1, false);
      matmul(v, P, as[b], pa);
      if (concat) ys[b].set(x);
    };
    return {
      run: (nb) => {
        for (let b = 0; b < nb; b++) one(b);
      },
      wasm: ctx.wasm,
      perWindow: batch > 1,
    };
  },
};
