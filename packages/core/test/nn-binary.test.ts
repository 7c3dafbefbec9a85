import { Generator, nn, optim, randn, sum, type Tensor, tensor } from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const arr = (t: Tensor): number[] => Array.from(t.data);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol);
};
const sgn = (v: number): number => (v >= 0 ? 1 : -1);

describe('BinaryConv1d forward', () => {
  const x = tensor([[[0.5, -1, 2, 0]]]);

  test('sign inputs and weights, pad +1 (default)', () => {
    const c = new nn.BinaryConv1d(1, 1, 3, { padding: 1 });
    c.weight.data.set([0.3, -0.2, 0.5]);
    expect(arr(c.quantizedWeight())).toEqual([1, -1, 1]);
    // sign(x) = [1, −1, 1, 1] (sign(0) = +1), padded with +1: [1, 1, −1, 1, 1, 1]; taps [1, −1, 1].
    expect(arr(c.call(x))).toEqual([-1, 3, -1, 1]);
  });

  test('pad 0, per-channel scale α = mean|w|, float input', () => {
    const c0 = new nn.BinaryConv1d(1, 1, 3, { padding: 1, padValue: 0 });
    c0.weight.data.set([0.3, -0.2, 0.5]);
    expect(arr(c0.call(x))).toEqual([-2, 3, -1, 0]);
    const cs = new nn.BinaryConv1d(1, 1, 3, { padding: 1, padValue: 0, scale: 'channel' });
    cs.weight.data.set([0.3, -0.2, 0.5]);
    close(cs.call(x).data, [-2 / 3, 1, -1 / 3, 0]);
    const cf = new nn.BinaryConv1d(1, 1, 3, { padding: 1, padValue: 0, inputQuantizer: 'none' });
    cf.weight.data.set([0.3, -0.2, 0.5]);
    // Float input [0.5, −1, 2, 0] with zero padding and taps [1, −1, 1].
    close(cf.call(x).data, [0 - 0.5 - 1, 0.5 + 1 + 2, -1 - 2 + 0, 2 - 0 + 0]);
  });

  test('options are validated and shown', () => {
    expect(() => new nn.BinaryConv1d(1, 1, 3, { padValue: 0.5 })).toThrow(/padValue must be \+1, 0 or −1/);
    expect(() => new nn.BinaryConv1d(1, 1, 3, { weightClip: 0 })).toThrow(/weightClip must be positive/);
    expect(() => new nn.BinaryConv1d(1, 1, 3, { scale: 'x' as nn.BinaryScale })).toThrow(/scale must be/);
    const c = new nn.BinaryConv1d(2, 4, 7, { stride: 2, padding: 5, inputQuantizer: 'none' });
    expect(c.bias).toBeNull();
    expect(c.toString()).toContain(
      'BinaryConv1d(2, 4, kernelSize=7, stride=2, padding=5, padValue=1, bias=false, inputQuantizer=none, weightQuantizer=sign(clipped), weightClip=1)',
    );
    expect(c.getParameter('weight')!.constraint!.name).toBe('clip(-1, 1)');
  });
});

describe('binary gradients against their closed forms', () => {
  // Weights inside and outside [−1, 1] (outside the clipped STE passes no gradient).
  const wVals = [0.3, -1.5, 0.5, -0.25, 1.2, 0.7];
  const r = [0.4, -1, 2, 0.5, -0.3, 1.1];

  function weightGrad(
    scale: nn.BinaryScale,
    scaleGradient: boolean,
    estimator: nn.SteEstimator = 'clipped',
    s = 1,
  ) {
    const c = new nn.BinaryConv1d(1, 2, 3, {
      scale,
      scaleGradient,
      weightQuantizer: new nn.SignQuantizer({ estimator, sharpness: s }),
      dtype: 'float64',
    });
    c.weight.data.set(wVals);
    sum(c.quantizedWeight().mul(tensor(r, [2, 1, 3], { dtype: 'float64' }))).backward();
    return arr(c.weight.grad!);
  }

  test('no scale: r ⊙ 1{|w| ≤ 1}', () => {
    close(
      weightGrad('none', true),
      wVals.map((w, i) => (Math.abs(w) <= 1 ? r[i] : 0)),
      1e-12,
    );
  });

  test('scale through mean|w| (XNOR-Net): r_j·α·1{|w_j| ≤ 1} + sign(w_j)/n·Σ_k r_k sign(w_k)', () => {
    const expected: number[] = [];
    for (let o = 0; o < 2; o++) {
      const w = wVals.slice(3 * o, 3 * o + 3);
      const ro = r.slice(3 * o, 3 * o + 3);
      const alpha = w.reduce((s, v) => s + Math.abs(v), 0) / 3;
      const dot = ro.reduce((s, v, k) => s + v * sgn(w[k]), 0);
      for (let j = 0; j < 3; j++)
        expected.push(ro[j] * alpha * (Math.abs(w[j]) <= 1 ? 1 : 0) + (sgn(w[j]) / 3) * dot);
    }
    close(weightGrad('channel', true), expected, 1e-12);
  });

  test('constant scale: r_j·α·1{|w_j| ≤ 1}', () => {
    const expected = wVals.map((w, j) => {
      const o = Math.floor(j / 3);
      const alpha = wVals.slice(3 * o, 3 * o + 3).reduce((s, v) => s + Math.abs(v), 0) / 3;
      return r[j] * alpha * (Math.abs(w) <= 1 ? 1 : 0);
    });
    close(weightGrad('channel', false), expected, 1e-12);
  });

  test('triangular surrogate 2s·max(0, 1 − s|w|), sharpness set by setQuantizerSharpness', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.25, max: 4, noNaN: true }), (s) => {
        const expected = wVals.map((w, i) => r[i] * 2 * s * Math.max(0, 1 - s * Math.abs(w)));
        close(weightGrad('none', true, 'triangular', s), expected, 1e-9);
      }),
      { numRuns: 20 },
    );
    const model = new nn.Sequential(
      new nn.BinaryConv1d(1, 2, 3, { inputQuantizer: 'triangularSign', weightQuantizer: 'triangularSign' }),
      new nn.BinaryConv1d(2, 2, 3, { inputQuantizer: 'steSign' }),
    );
    expect(nn.setQuantizerSharpness(model, 3)).toBe(2);
    const first = model.at(0) as nn.BinaryConv1d;
    expect(first.inputQuantizer!.sharpness).toBe(3);
    expect(first.weightQuantizer!.sharpness).toBe(3);
  });

  test('input quantizer: clipped STE gradient to the input', () => {
    const l = new nn.BinaryLinear(3, 1, { weightQuantizer: 'none', dtype: 'float64' });
    l.weight.data.set([2, 3, -1]);
    const x = tensor([[0.5, 1.5, -0.2]], undefined, { dtype: 'float64', requiresGrad: true });
    const y = l.call(x);
    expect(arr(y)).toEqual([2 + 3 + 1]);
    y.sum().backward();
    expect(arr(x.grad!)).toEqual([2, 0, -1]);
  });

  test('BinaryLinear with scale multiplies each output row by its mean |w|', () => {
    const l = new nn.BinaryLinear(2, 2, { scale: 'channel' });
    l.weight.data.set([0.5, -0.1, -0.4, -0.2]);
    close(l.call(tensor([[1, -1]])).data, [0.3 * 2, 0]);
    close(l.quantizedWeight().data, [0.3, -0.3, -0.3, -0.3]);
  });
});

describe('weight clip constraint', () => {
  test('optimizers clip latent weights to |w| ≤ 1 after each step', () => {
    const c = new nn.BinaryConv1d(2, 3, 3, { generator: new Generator(1) });
    const opt = new optim.SGD(c.parameters(), { lr: 100 });
    const x = randn([4, 2, 8], { generator: new Generator(2) });
    c.call(x).sum().backward();
    const before = arr(c.weight);
    const g = arr(c.weight.grad!);
    opt.step();
    const after = arr(c.weight);
    for (let i = 0; i < after.length; i++) {
      const raw = before[i] - 100 * g[i];
      expect(after[i]).toBeCloseTo(Math.max(-1, Math.min(1, raw)), 5);
    }
    expect(after.some((v) => Math.abs(v) === 1)).toBe(true);
  });

  test('weightClip: custom bound, null disables; applyConstraints for hand-written loops', () => {
    const a = new nn.BinaryLinear(4, 2, { weightClip: 0.5 });
    const b = new nn.BinaryLinear(4, 2, { weightClip: null });
    expect(b.getParameter('weight')!.constraint).toBeNull();
    a.weight.data.set([2, -2, 0.1, 0.6, -0.7, 0, 1, -1]);
    b.weight.data.set([2, -2, 0.1, 0.6, -0.7, 0, 1, -1]);
    nn.applyConstraints(new nn.Sequential(a, b));
    expect(arr(a.weight)).toEqual([0.5, -0.5, Math.fround(0.1), 0.5, -0.5, 0, 0.5, -0.5]);
    expect(arr(b.weight)[0]).toBe(2);
  });
});

describe('the binary network of Pu et al. 2023 built from these layers', () => {
  test('lengths 3600→898→448→223→111→55→27 and 28,280 binary weights for 5 classes', () => {
    const g = new Generator(0);
    const channels = [1, 8, 16, 32, 32, 64, 5];
    const blocks = channels.slice(0, -1).map(
      (cin, i) =>
        // Block = pad 5 with +1 → conv(7) → max-pool(7, 2) → PReLU → BatchNorm; block 1 has stride 2 and a
        // float input; no bias, no scaling.
        new nn.Sequential(
          new nn.BinaryConv1d(cin, channels[i + 1], 7, {
            stride: i === 0 ? 2 : 1,
            padding: 5,
            padValue: 1,
            inputQuantizer: i === 0 ? 'none' : 'steSign',
            generator: g,
          }),
          new nn.MaxPool1d(7, { stride: 2 }),
          new nn.PReLU({ numParameters: channels[i + 1] }),
          new nn.BatchNorm1d(channels[i + 1]),
        ),
    );
    const model = new nn.Sequential(
      ...blocks,
      new nn.Dropout(0.5),
      new nn.Lambda((t) => sum(t, 2), 'sumTime'),
    );
    model.eval();
    const out = model.call(randn([2, 1, 3600], { generator: g }));
    expect(out.shape).toEqual([2, 5]);
    expect(blocks.map((b) => b.lastOutputShape![2])).toEqual([898, 448, 223, 111, 55, 27]);
    let bits = 0;
    for (const m of model.modules()) if (m instanceof nn.BinaryConv1d) bits += m.weight.size;
    expect(bits).toBe(28_280);
    expect(model.toString()).toContain(
      'BinaryConv1d(1, 8, kernelSize=7, stride=2, padding=5, padValue=1, bias=false',
    );
  });
});
