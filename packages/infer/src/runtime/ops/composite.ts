/**
 * Composite ops, composed from contract kernels: squeeze-and-excitation (mean over time, two dense layers,
 * ReLU, sigmoid, channel scaling) and single-head scaled dot-product self-attention (three projections, scores,
 * softmax, weighted sum — matrix products in the WebAssembly matmul when the set has it).
 */
import type { MatmulParams } from '@ecgnn/kernels';
import {
  type BindContext,
  type Bound,
  MAX_ACTIVATION_ELEMENTS,
  type NodeChecker,
  type OpDef,
  PerBatch,
  Prefix,
  type ValueInfo,
  windows,
} from './types.js';
import { meanOverTime } from './pool.js';

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
    const hs = new Prefix(h, R);
    const ss = new Prefix(s, C);
    const X = ctx.ins[0].buf as Float32Array;
    const ys = new Prefix(ctx.out.buf as Float32Array, C * L);
    const p1: MatmulParams = {
      batch: 1,
      m: batch,
      k: C,
      n: R,
      transA: false,
      transB: true,
      accumulate: !!b1,
    };
    const p2: MatmulParams = {
      batch: 1,
      m: batch,
      k: R,
      n: C,
      transA: false,
      transB: true,
      accumulate: !!b2,
    };
    // y[b, c, t] = x[b, c, t]·s[b, c]: s broadcast over time (stride 0).
    const xStrides = [C * L, L, 1];
    const sStrides = [C, 1, 0];
    const shapes = new PerBatch((nb) => [nb, C, L]);
    const mean = meanOverTime(batch, C, L);
    const { avgPool1d, unary, binary } = ctx.kernels;
    // The dense layers are tiny (C → C/r → C): the reference matmul.
    const matmul = ctx.reference.matmul;
    return {
      run: (nb) => {
        mean.batch = nb;
        avgPool1d(X, z, mean, true);
        if (b1) for (let r = 0; r < nb; r++) h.set(b1, r * R);
        p1.m = nb;
        matmul(z, w1, h, p1);
        unary('relu', hs.get(nb), hs.get(nb));
        if (b2) for (let r = 0; r < nb; r++) s.set(b2, r * C);
        p2.m = nb;
        matmul(h, w2, s, p2);
        unary('sigmoid', ss.get(nb), ss.get(nb));
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
    if (L * (2 * D + V) + 2 * L * L > MAX_ACTIVATION_ELEMENTS)
      c.fail('attention scratch would be too large');
    return { output: { kind: 'float', shape: [concat ? C + V : V, L] }, attrs: { causal, concat } };
  },
  bind(ctx: BindContext, batch: number): Bound {
    const [C, L] = ctx.ins[0].info.shape;
    const wq = ctx.floats('wq')!;
    const wk = ctx.floats('wk')!;
    const wv = ctx.floats('wv')!;
    const D = wq.length / C;
    const V = wv.length / C;
    const concat = ctx.attrs.concat ?? false;
    // Biases as whole [L, rows] blocks (the bias of every time step), made once: the projections start from them.
    const biasBlock = (role: string, rows: number): Float32Array | null => {
      const b = ctx.floats(role);
      if (!b) return null;
      return ctx.derive(`attention.${role}`, () => {
        const t = new Float32Array(L * rows);
        for (let i = 0; i < L; i++) t.set(b, i * rows);
        return t;
      });
    };
    const bq = biasBlock('bq', D);
    const bk = biasBlock('bk', D);
    const bv = biasBlock('bv', V);
    const mask = ctx.attrs.causal
      ? ctx.derive('attention.mask', () => {
          // 0 where j ≤ t, −∞ where j > t: exp(−∞) = 0 drops the future from the softmax.
          const m = new Float32Array(L * L);
          for (let t = 0; t < L; t++) m.fill(Number.NEGATIVE_INFINITY, t * L + t + 1, (t + 1) * L);
          return m;
        })
      : null;
    const scale = Float32Array.of(1 / Math.sqrt(D));
    const q = new Float32Array(L * D);
    const k = new Float32Array(L * D);
    const v = new Float32Array(L * V);
    const S = new Float32Array(L * L);
    const P = new Float32Array(L * L);
    // q = xᵀ·Wqᵀ: x [C, L] read transposed, W [D, C] read transposed.
    const proj = (n: number, bias: Float32Array | null): MatmulParams => ({
      batch: 1,
      m: L,
      k: C,
      n,
      transA: true,
      transB: true,
      accumulate: bias !== null,
    });
    const pq = proj(D, bq);
    const pk = proj(D, bk);
    const pv = proj(V, bv);
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
      if (bq) q.set(bq);
      matmul(x, wq, q, pq);
      if (bk) k.set(bk);
      matmul(x, wk, k, pk);
      if (bv) v.set(bv);
      matmul(x, wv, v, pv);
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
