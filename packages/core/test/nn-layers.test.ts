import { conv1d, Generator, gradcheck, Module, nn, randn, type Tensor, tensor } from '@ecgnn/core';
import { describe, expect, test } from 'vitest';

const arr = (t: Tensor): number[] => Array.from(t.data);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol);
};
const setData = (t: Tensor, values: number[]): void => {
  expect(t.size).toBe(values.length);
  t.data.set(values);
};

/** Gradient check of a whole model w.r.t. its input and every parameter, through `functionalCall`. */
function gradcheckModel(model: Module, x: Tensor, opts: { atol?: number; rtol?: number } = {}): void {
  const named = [...model.namedParameters()];
  gradcheck(
    (xx, ...ps) => nn.functionalCall(model, Object.fromEntries(named.map(([n], i) => [n, ps[i]])), xx),
    [x, ...named.map(([, p]) => p.detach())],
    { atol: opts.atol ?? 1e-6, rtol: opts.rtol ?? 1e-5 },
  );
}

describe('forward against hand-computed values', () => {
  test('Linear', () => {
    const l = new nn.Linear(2, 2);
    setData(l.weight, [1, 2, 3, 4]);
    setData(l.bias!, [0.5, -1]);
    expect(arr(l.call(tensor([[1, 1]])))).toEqual([3.5, 6]);
    expect(() => l.call(tensor([[1, 1, 1]]))).toThrow('Linear: expected input [..., 2], got [1, 3]');
    expect(() => new nn.Linear(0, 2)).toThrow(/inFeatures must be a positive integer/);
  });

  test('Conv1d: padding, padValue, stride, dilation, groups, same', () => {
    const c = new nn.Conv1d(1, 1, 3, { padding: 1 });
    setData(c.weight, [1, 0, -1]);
    setData(c.bias!, [0]);
    const x = tensor([[[1, 2, 3, 4, 5]]]);
    // y[i] = x[i−1] − x[i+1] with zero padding.
    expect(arr(c.call(x))).toEqual([-2, -2, -2, -2, 4]);
    const c1 = new nn.Conv1d(1, 1, 3, { padding: 1, padValue: 1, bias: false });
    setData(c1.weight, [1, 0, -1]);
    expect(arr(c1.call(x))).toEqual([-1, -2, -2, -2, 3]);
    const cs = new nn.Conv1d(1, 1, 2, { stride: 2, dilation: 2, bias: false });
    setData(cs.weight, [1, 10]);
    // windows start at 0 and 2 (stride 2), taps 2 apart: x0 + 10·x2, x2 + 10·x4.
    expect(arr(cs.call(x))).toEqual([31, 53]);
    const cg = new nn.Conv1d(2, 2, 1, { groups: 2, bias: false });
    setData(cg.weight, [2, 3]);
    expect(
      arr(
        cg.call(
          tensor([
            [
              [1, 2],
              [3, 4],
            ],
          ]),
        ),
      ),
    ).toEqual([2, 4, 9, 12]);
    const same = new nn.Conv1d(1, 2, 4, { padding: 'same' });
    expect(same.call(x).shape).toEqual([1, 2, 5]);
    const asym = new nn.Conv1d(1, 1, 2, { padding: [1, 0], bias: false });
    setData(asym.weight, [1, 1]);
    expect(arr(asym.call(x))).toEqual([1, 3, 5, 7, 9]);
    expect(() => new nn.Conv1d(3, 4, 3, { groups: 2 })).toThrow(/divisible by groups 2/);
    expect(() => c.call(tensor([[[1, 2]], [[1, 2]]]).reshape(1, 2, 2))).toThrow(
      'Conv1d: expected input [N, 1, L], got [1, 2, 2]',
    );
    expect(c.toString()).toContain('Conv1d(1, 1, kernelSize=3, padding=1, bias=true)');
  });

  test('DepthwiseSeparableConv1d equals depthwise then pointwise convolution', () => {
    const g = new Generator(4);
    const m = new nn.DepthwiseSeparableConv1d(3, 5, 3, { padding: 1, generator: g, depthMultiplier: 2 });
    expect(m.numParameters()).toBe(3 * 2 * 3 + 6 + 6 * 5 + 5);
    const x = randn([2, 3, 7], { generator: g });
    const ref = conv1d(
      conv1d(x, m.depthwise.weight, m.depthwise.bias, { padding: 1, groups: 3 }),
      m.pointwise.weight,
      m.pointwise.bias,
    );
    close(m.call(x).data, ref.data, 1e-6);
    expect(Object.keys(m.stateDict())).toEqual([
      'depthwise.weight',
      'depthwise.bias',
      'pointwise.weight',
      'pointwise.bias',
    ]);
  });

  test('BatchNorm1d: batch statistics in training, running statistics in evaluation', () => {
    const bn = new nn.BatchNorm1d(1);
    const x = tensor([[1], [3]]);
    const s = 1 / Math.sqrt(1 + 1e-5);
    close(bn.call(x).data, [-s, s]);
    // running = 0.9·running + 0.1·batch, with the unbiased batch variance (2).
    close(bn.runningMean!.data, [0.2]);
    close(bn.runningVar!.data, [0.9 + 0.2]);
    expect(bn.numBatchesTracked!.data[0]).toBe(1);
    bn.eval();
    close(bn.call(x).data, [(1 - 0.2) / Math.sqrt(1.1 + 1e-5), (3 - 0.2) / Math.sqrt(1.1 + 1e-5)]);
    expect(bn.numBatchesTracked!.data[0]).toBe(1);
    // Evaluation does not touch the running statistics.
    close(bn.runningMean!.data, [0.2]);
    // Affine parameters scale and shift.
    setData(bn.weight!, [2]);
    setData(bn.bias!, [1]);
    close(bn.call(tensor([[0.2]])).data, [1]);
    // Buffers are buffers, not parameters.
    expect([...bn.namedParameters()].map(([n]) => n)).toEqual(['weight', 'bias']);
    expect([...bn.namedBuffers()].map(([n]) => n)).toEqual([
      'runningMean',
      'runningVar',
      'numBatchesTracked',
    ]);
    expect(Object.keys(bn.stateDict())).toEqual([
      'weight',
      'bias',
      'runningMean',
      'runningVar',
      'numBatchesTracked',
    ]);
  });

  test('BatchNorm1d: cumulative average (momentum null), no tracking, [N, C, L] input', () => {
    const bn = new nn.BatchNorm1d(2, { momentum: null, affine: false });
    bn.call(
      tensor([
        [
          [1, 3],
          [0, 0],
        ],
        [
          [1, 3],
          [2, 2],
        ],
      ]),
    );
    bn.call(
      tensor([
        [
          [5, 5],
          [0, 0],
        ],
        [
          [5, 5],
          [0, 0],
        ],
      ]),
    );
    // Channel 0: batch means 2 and 5 → cumulative mean 3.5; channel 1: 1 and 0 → 0.5.
    close(bn.runningMean!.data, [3.5, 0.5]);
    // Unbiased variances: ch0 4/3 and 0 → 2/3; ch1 4/3 and 0 → 2/3.
    close(bn.runningVar!.data, [2 / 3, 2 / 3]);
    expect(bn.numParameters()).toBe(0);
    const nt = new nn.BatchNorm1d(1, { trackRunningStats: false }).eval();
    expect(nt.buffers()).toEqual([]);
    // Without running statistics, evaluation still normalises with the batch's.
    close(nt.call(tensor([[1], [3]])).data, [-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5)]);
  });

  test('LayerNorm normalises trailing axes per sample, the same in train and eval', () => {
    const ln = new nn.LayerNorm(3);
    const x = tensor([
      [1, 2, 3],
      [0, 0, 3],
    ]);
    const r = Math.sqrt(2 / 3 + 1e-5);
    const y = ln.call(x);
    close(y.data.subarray(0, 3), [-1 / r, 0, 1 / r]);
    ln.eval();
    close(ln.call(x).data, y.data);
    setData(ln.weight!, [1, 2, 3]);
    setData(ln.bias!, [1, 1, 1]);
    close(ln.call(x).data.subarray(0, 3), [1 - 1 / r, 1, 1 + 3 / r]);
  });

  test('Dropout: zero or scaled in training, identity in evaluation, reproducible with a generator', () => {
    const d = new nn.Dropout(0.5, { generator: new Generator(7) });
    const x = tensor(Array.from({ length: 1000 }, () => 1));
    const y = d.call(x);
    const vals = new Set(arr(y));
    expect([...vals].sort()).toEqual([0, 2]);
    const kept = arr(y).filter((v) => v === 2).length;
    expect(kept).toBeGreaterThan(400);
    expect(kept).toBeLessThan(600);
    const d2 = new nn.Dropout(0.5, { generator: new Generator(7) });
    expect(arr(d2.call(x))).toEqual(arr(y));
    d.eval();
    expect(arr(d.call(x))).toEqual(arr(x));
    expect(() => new nn.Dropout(1.5)).toThrow(/p must be in \[0, 1\]/);
  });

  test('pooling layers and Flatten', () => {
    const x = tensor([[[1, 3, 2, 5, 4]]]);
    expect(arr(new nn.MaxPool1d(2).call(x))).toEqual([3, 5]);
    expect(arr(new nn.MaxPool1d(3, { stride: 1 }).call(x))).toEqual([3, 5, 5]);
    expect(arr(new nn.AvgPool1d(2).call(x))).toEqual([2, 3.5]);
    close(new nn.AvgPool1d(2, { padding: 1 }).call(x).data, [0.5, 2.5, 4.5]);
    close(new nn.AdaptiveAvgPool1d(2).call(x).data, [2, 11 / 3]);
    expect(arr(new nn.GlobalAvgPool1d().call(x))).toEqual([3]);
    expect(new nn.GlobalAvgPool1d(true).call(x).shape).toEqual([1, 1, 1]);
    expect(new nn.Flatten().call(randn([2, 3, 4])).shape).toEqual([2, 12]);
    expect(new nn.Unflatten(1, [3, 4]).call(randn([2, 12])).shape).toEqual([2, 3, 4]);
    expect(() => new nn.MaxPool1d(2).call(tensor([1, 2]))).toThrow(
      'MaxPool1d: expected input [N, C, L], got [2]',
    );
  });

  test('activations', () => {
    const x = tensor([-2, 0.5]);
    expect(arr(new nn.ReLU().call(x))).toEqual([0, 0.5]);
    close(new nn.LeakyReLU(0.1).call(x).data, [-0.2, 0.5]);
    close(new nn.ELU(1).call(x).data, [Math.exp(-2) - 1, 0.5]);
    close(new nn.Sigmoid().call(x).data, [1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(-0.5))]);
    close(new nn.Tanh().call(x).data, [Math.tanh(-2), Math.tanh(0.5)]);
    close(new nn.Hardtanh().call(x).data, [-1, 0.5]);
    close(new nn.SiLU().call(x).data, [-2 / (1 + Math.exp(2)), 0.5 / (1 + Math.exp(-0.5))]);
    close(new nn.Softplus().call(x).data, [Math.log(1 + Math.exp(-2)), Math.log(1 + Math.exp(0.5))]);
    close(new nn.Softplus(2).call(x).data, [Math.log(1 + Math.exp(-4)) / 2, Math.log(1 + Math.exp(1)) / 2]);
    // GELU(x) = x·Φ(x): Φ(−2) = 0.0227501319, Φ(0.5) = 0.6914624613.
    close(new nn.GELU().call(x).data, [-2 * 0.0227501319, 0.5 * 0.6914624613], 1e-6);
    const e = [Math.exp(-2), Math.exp(0.5)];
    close(new nn.Softmax().call(x).data, [e[0] / (e[0] + e[1]), e[1] / (e[0] + e[1])]);
    close(new nn.LogSoftmax().call(x).data, [-2 - Math.log(e[0] + e[1]), 0.5 - Math.log(e[0] + e[1])]);
  });

  test('PReLU learns one slope per channel', () => {
    const p = new nn.PReLU({ numParameters: 2 });
    expect(arr(p.weight)).toEqual([0.25, 0.25]);
    setData(p.weight, [0.1, 0.5]);
    close(
      p.call(
        tensor([
          [
            [-1, 2],
            [-4, 3],
          ],
        ]),
      ).data,
      [-0.1, 2, -2, 3],
    );
    expect(p.numParameters()).toBe(2);
  });

  test('MultiheadAttention (one head, identity projections) against a hand computation; causal mask', () => {
    const m = new nn.MultiheadAttention(1, 1);
    setData(m.inProjWeight, [1, 1, 1]);
    setData(m.outProj.weight, [1]);
    expect(arr(m.inProjBias!)).toEqual([0, 0, 0]);
    expect(arr(m.outProj.bias!)).toEqual([0]);
    const x = tensor([[[1], [2]]]);
    // Query i attends keys j with weights softmax_j(x_i·x_j), output Σ_j w_ij x_j.
    const out = (i: number, n: number): number => {
      const xs = [1, 2].slice(0, n);
      const w = xs.map((xj) => Math.exp([1, 2][i] * xj));
      const z = w.reduce((a, b) => a + b, 0);
      return xs.reduce((s, xj, j) => s + (w[j] / z) * xj, 0);
    };
    close(m.call(x).data, [out(0, 2), out(1, 2)], 1e-6);
    close(m.call(x, x, x, { isCausal: true }).data, [1, out(1, 2)], 1e-6);
    const m4 = new nn.MultiheadAttention(8, 2);
    expect(m4.call(randn([3, 5, 8])).shape).toEqual([3, 5, 8]);
    expect(m4.numParameters()).toBe(3 * 8 * 8 + 3 * 8 + 8 * 8 + 8);
    expect(() => new nn.MultiheadAttention(6, 4)).toThrow(/divisible by numHeads 4/);
    // Attention dropout acts in training only.
    const md = new nn.MultiheadAttention(8, 2, { dropout: 0.5, generator: new Generator(1) });
    const xi = randn([2, 4, 8], { generator: new Generator(2) });
    expect(Array.from(md.call(xi).data)).not.toEqual(Array.from(md.call(xi).data));
    md.eval();
    expect(Array.from(md.call(xi).data)).toEqual(Array.from(md.call(xi).data));
  });

  test('SqueezeExcitation1d scales each channel by σ(W₂ ReLU(W₁ mean))', () => {
    const se = new nn.SqueezeExcitation1d(2, { squeezeChannels: 1 });
    setData(se.fc1.weight, [1, 1]);
    setData(se.fc1.bias!, [0]);
    setData(se.fc2.weight, [1, -1]);
    setData(se.fc2.bias!, [0, 0]);
    const x = tensor([
      [
        [1, 3],
        [0, 2],
      ],
    ]);
    // means 2 and 1 → h = ReLU(3) = 3 → gates σ(3), σ(−3).
    const s = (v: number): number => 1 / (1 + Math.exp(-v));
    close(se.call(x).data, [s(3), 3 * s(3), 0, 2 * s(-3)]);
  });

  test('containers and skip connections', () => {
    const a = new nn.Linear(2, 2);
    setData(a.weight, [1, 0, 0, 1]);
    setData(a.bias!, [1, 1]);
    const seq = new nn.Sequential(a, new nn.ReLU());
    expect(arr(seq.call(tensor([[-3, 2]])))).toEqual([0, 3]);
    expect(seq.length).toBe(2);
    expect(seq.at(-1)).toBeInstanceOf(nn.ReLU);
    expect([...seq].length).toBe(2);
    const named = nn.Sequential.fromNamed({ fc: a, act: new nn.ReLU() });
    expect([...named.namedParameters()].map(([n]) => n)).toEqual(['fc.weight', 'fc.bias']);
    expect(arr(new nn.Residual(a).call(tensor([[1, 2]])))).toEqual([3, 5]);
    expect(arr(new nn.Residual(a, new nn.Identity()).call(tensor([[1, 2]])))).toEqual([3, 5]);
    expect(() => new nn.Residual(new nn.Linear(2, 3)).call(tensor([[1, 2]]))).toThrow(
      /give a projection shortcut/,
    );
    expect(arr(new nn.ConcatSkip(a, 1).call(tensor([[1, 2]])))).toEqual([1, 2, 2, 3]);
    expect(arr(new nn.Parallel([a, new nn.Identity()]).call(tensor([[1, 2]])))).toEqual([2, 3, 1, 2]);
    expect(arr(new nn.Parallel([a, new nn.Identity()], 'add').call(tensor([[1, 2]])))).toEqual([3, 5]);
    const list = new nn.ModuleList([new nn.Linear(1, 1), new nn.Linear(1, 1)]);
    expect([...list.namedParameters()].map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(list.at(1)).toBe([...list][1]);
    expect(() => list.forward()).toThrow(/no forward/);
    const dict = new nn.ModuleDict({ enc: new nn.Linear(1, 2), dec: new nn.Linear(2, 1) });
    expect(dict.keys()).toEqual(['enc', 'dec']);
    expect(dict.get('dec').numParameters()).toBe(3);
    expect(() => dict.get('nope')).toThrow(/no module 'nope'/);
    expect(arr(new nn.Lambda((t) => t.sum(1), 'sum').call(tensor([[1, 2]])))).toEqual([3]);
  });
});

describe('train/eval differences', () => {
  test('a model with BatchNorm and Dropout is deterministic in eval and not in train', () => {
    const g = new Generator(5);
    const m = new nn.Sequential(
      new nn.Linear(4, 8, { generator: g }),
      new nn.BatchNorm1d(8),
      new nn.ReLU(),
      new nn.Dropout(0.5, { generator: g }),
      new nn.Linear(8, 2, { generator: g }),
    );
    const x = randn([6, 4], { generator: g });
    const t1 = arr(m.call(x));
    const t2 = arr(m.call(x));
    expect(t1).not.toEqual(t2);
    m.eval();
    const e1 = arr(m.call(x));
    expect(arr(m.call(x))).toEqual(e1);
    // In eval, a sample's output does not depend on the rest of the batch.
    const single = arr(m.call(x.slice([[0, 1]])));
    close(single, e1.slice(0, 2), 1e-6);
  });
});

describe('gradient checks through whole models (float64)', () => {
  const opts = { generator: new Generator(11), dtype: 'float64' as const };

  test('Conv1d → BatchNorm1d → PReLU → MaxPool1d → Flatten → Linear (training mode)', () => {
    const m = new nn.Sequential(
      new nn.Conv1d(2, 3, 3, { padding: 1, ...opts }),
      new nn.BatchNorm1d(3, { dtype: 'float64' }),
      new nn.PReLU({ numParameters: 3, dtype: 'float64' }),
      new nn.MaxPool1d(2),
      new nn.Flatten(),
      new nn.Linear(3 * 3, 2, opts),
    );
    gradcheckModel(m, randn([3, 2, 6], { dtype: 'float64', generator: new Generator(1) }));
  });

  test('DepthwiseSeparableConv1d, SqueezeExcitation1d, Residual, Parallel, ConcatSkip, pools, GELU/ELU', () => {
    const m = new nn.Sequential(
      new nn.Residual(
        new nn.Sequential(new nn.DepthwiseSeparableConv1d(2, 2, 3, { padding: 1, ...opts }), new nn.GELU()),
      ),
      new nn.Parallel([
        new nn.Conv1d(2, 2, 3, { padding: 'same', ...opts }),
        new nn.Conv1d(2, 1, 5, { padding: 'same', dilation: 1, ...opts }),
      ]),
      new nn.SqueezeExcitation1d(3, { squeezeChannels: 2, ...opts }),
      new nn.ConcatSkip(new nn.Sequential(new nn.Conv1d(3, 2, 1, opts), new nn.ELU())),
      new nn.AvgPool1d(2, { stride: 1 }),
      new nn.AdaptiveAvgPool1d(3),
      new nn.GlobalAvgPool1d(),
    );
    gradcheckModel(m, randn([2, 2, 8], { dtype: 'float64', generator: new Generator(2) }));
  });

  test('MultiheadAttention + LayerNorm residual block, causal', () => {
    class Block extends Module {
      declare readonly attn: nn.MultiheadAttention;
      declare readonly norm: nn.LayerNorm;
      constructor() {
        super();
        this.registerModule('attn', new nn.MultiheadAttention(4, 2, opts));
        this.registerModule('norm', new nn.LayerNorm(4, { dtype: 'float64' }));
      }
      forward(x: Tensor): Tensor {
        return this.norm.call(x.add(this.attn.call(x, x, x, { isCausal: true })));
      }
    }
    gradcheckModel(new Block(), randn([2, 3, 4], { dtype: 'float64', generator: new Generator(3) }));
  });
});
