import { Generator, gradcheck, nn, optim, randn, type Tensor, tensor } from '@ecgnn/core';
import { describe, expect, test } from 'vitest';

// `+ 0` maps −0 (from w·0) to 0.
const arr = (t: Tensor): number[] => Array.from(t.data, (v) => v + 0);

describe('pruning (weight = weightOrig ⊙ weightMask)', () => {
  test('l1Unstructured prunes the smallest magnitudes and reparametrises the weight', () => {
    const l = new nn.Linear(3, 2, { bias: false });
    l.weight.data.set([0.5, -0.1, 0.3, -0.9, 0.2, -0.05]);
    const p = l.getParameter('weight')!;
    nn.prune.l1Unstructured(l, 'weight', 0.5);
    expect(nn.prune.isPruned(l, 'weight')).toBe(true);
    expect([...l.namedParameters()].map(([n]) => n)).toEqual(['weightOrig']);
    expect([...l.namedBuffers()].map(([n]) => n)).toEqual(['weightMask']);
    // The original parameter object moved, so optimizers holding it stay valid.
    expect(l.getParameter('weightOrig')).toBe(p);
    expect(arr(l.getBuffer('weightMask')!)).toEqual([1, 0, 1, 1, 0, 0]);
    expect(arr(l.weight)).toEqual(arr(tensor([0.5, 0, 0.3, -0.9, 0, 0])));
    expect(arr(l.call(tensor([[1, 1, 1]])))).toEqual(arr(tensor([0.8, -0.9])));
    expect(Object.keys(l.stateDict())).toEqual(['weightOrig', 'weightMask']);
  });

  test('gradients reach weightOrig only where the mask is 1; pruned weights stay zero while training', () => {
    const g = new Generator(3);
    const l = new nn.Linear(4, 3, { generator: g });
    nn.prune.l1Unstructured(l, 'weight', 0.5);
    const mask = arr(l.getBuffer('weightMask')!);
    const opt = new optim.SGD(l.parameters(), { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      l.call(randn([5, 4], { generator: g }))
        .pow(2)
        .sum()
        .backward();
      const grad = arr(l.getParameter('weightOrig')!.grad!);
      grad.forEach((v, j) => {
        if (mask[j] === 0) expect(v).toBe(0);
      });
      opt.step();
    }
    arr(l.weight).forEach((v, j) => {
      if (mask[j] === 0) expect(v).toBe(0);
    });
  });

  test('pruning again prunes among survivors and multiplies the masks', () => {
    const l = new nn.Linear(4, 1, { bias: false });
    l.weight.data.set([4, 3, 2, 1]);
    nn.prune.l1Unstructured(l, 'weight', 0.25);
    expect(arr(l.getBuffer('weightMask')!)).toEqual([1, 1, 1, 0]);
    nn.prune.l1Unstructured(l, 'weight', 1 / 3);
    expect(arr(l.getBuffer('weightMask')!)).toEqual([1, 1, 0, 0]);
    expect(nn.prune.sparsity([[l, 'weight']])).toEqual({ zeros: 2, total: 4, fraction: 0.5 });
  });

  test('globalUnstructured prunes across layers by one global threshold', () => {
    const a = new nn.Linear(2, 1, { bias: false });
    const b = new nn.Linear(2, 2, { bias: false });
    a.weight.data.set([0.1, 5]);
    b.weight.data.set([1, 2, 0.2, 3]);
    nn.prune.globalUnstructured(
      [
        [a, 'weight'],
        [b, 'weight'],
      ],
      0.5,
    );
    expect(arr(a.getBuffer('weightMask')!)).toEqual([0, 1]);
    expect(arr(b.getBuffer('weightMask')!)).toEqual([0, 1, 0, 1]);
    // A second round works on the 3 survivors: round(0.34·3) = 1 more (the 2).
    nn.prune.globalUnstructured(
      [
        [a, 'weight'],
        [b, 'weight'],
      ],
      0.34,
    );
    expect(arr(b.getBuffer('weightMask')!)).toEqual([0, 0, 0, 1]);
  });

  test('remove makes pruning permanent; customFromMask and bad input', () => {
    const l = new nn.Linear(2, 2, { bias: false });
    l.weight.data.set([1, 2, 3, 4]);
    const p = l.getParameter('weight')!;
    nn.prune.customFromMask(l, 'weight', tensor([1, 0, 0, 1], [2, 2]));
    expect(arr(l.weight)).toEqual([1, 0, 0, 4]);
    expect(() => {
      (l as unknown as { weight: unknown }).weight = p;
    }).toThrow(/is pruned/);
    nn.prune.remove(l, 'weight');
    expect(nn.prune.isPruned(l)).toBe(false);
    expect(l.weight).toBe(p);
    expect(arr(l.weight)).toEqual([1, 0, 0, 4]);
    expect([...l.namedParameters()].map(([n]) => n)).toEqual(['weight']);
    expect(l.buffers()).toEqual([]);
    expect(() => nn.prune.remove(l, 'weight')).toThrow(/is not pruned/);
    expect(() => nn.prune.l1Unstructured(l, 'nope', 0.5)).toThrow(/has no parameter 'nope'/);
    expect(() => nn.prune.l1Unstructured(l, 'weight', 1.5)).toThrow(/amount must be a fraction/);
    expect(() => nn.prune.customFromMask(l, 'weight', tensor([1, 0]))).toThrow(
      /mask \[2\] does not match 'weight' \[2, 2\]/,
    );
  });

  test('pruned binary and conv layers work; state dicts round-trip between pruned models', () => {
    const g = new Generator(9);
    const c = new nn.BinaryConv1d(2, 4, 3, { generator: g, padding: 1 });
    nn.prune.l1Unstructured(c, 'weight', 0.5);
    expect(c.getParameter('weightOrig')!.constraint?.name).toBe('clip(-1, 1)');
    const x = randn([2, 2, 5], { generator: g });
    const y = c.call(x);
    const c2 = new nn.BinaryConv1d(2, 4, 3, { generator: new Generator(10), padding: 1 });
    nn.prune.l1Unstructured(c2, 'weight', 0.1);
    c2.loadStateDict(c.stateDict());
    expect(arr(c2.call(x))).toEqual(arr(y));
  });
});

describe('binary layers and lottery-ticket rewinding', () => {
  test('a pruned binary layer has ternary weights: the mask applies after sign', () => {
    const c = new nn.BinaryConv1d(1, 1, 4, { padValue: 0 });
    c.weight.data.set([0.5, -0.1, 0.3, -0.9]);
    nn.prune.l1Unstructured(c, 'weight', 0.5);
    // sign(0) would be +1; the pruned taps must contribute nothing.
    expect(arr(c.quantizedWeight())).toEqual([1, 0, 0, -1]);
    expect(arr(c.call(tensor([[[1, 1, 1, 1]]])))).toEqual([0]);
    const s = new nn.BinaryLinear(4, 1, { scale: 'channel', inputQuantizer: 'none' });
    s.weight.data.set([0.5, -0.1, 0.3, -0.9]);
    nn.prune.l1Unstructured(s, 'weight', 0.5);
    // α = mean|W ⊙ mask| = (0.5 + 0.9)/4.
    const q = arr(s.quantizedWeight());
    [0.35, 0, 0, -0.35].forEach((v, i) => {
      expect(q[i]).toBeCloseTo(v, 6);
    });
  });

  test('rewind restores initial weights under the current masks (Frankle & Carbin 2019)', () => {
    const g = new Generator(4);
    const model = new nn.Sequential(
      new nn.Linear(4, 6, { generator: g }),
      new nn.BatchNorm1d(6),
      new nn.Linear(6, 2, { generator: g }),
    );
    const init = model.stateDict();
    const opt = new optim.Adam(model.parameters(), { lr: 0.1 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      model
        .call(randn([8, 4], { generator: g }))
        .pow(2)
        .mean()
        .backward();
      opt.step();
    }
    const targets: nn.prune.PruneTarget[] = [
      [model.at(0), 'weight'],
      [model.at(2), 'weight'],
    ];
    nn.prune.globalUnstructured(targets, 0.5);
    const mask0 = arr(model.at(0).getBuffer('weightMask')!);
    nn.prune.rewind(model, init);
    expect(arr(model.at(0).getBuffer('weightMask')!)).toEqual(mask0);
    expect(arr(model.at(0).getParameter('weightOrig')!)).toEqual(arr(init['0.weight']));
    expect(arr((model.at(0) as nn.Linear).weight)).toEqual(
      arr(init['0.weight']).map((v, i) => (mask0[i] ? v : 0)),
    );
    expect(arr(model.at(0).getParameter('bias')!)).toEqual(arr(init['0.bias']));
    expect(arr(model.at(1).getBuffer('runningMean')!)).toEqual(arr(init['1.runningMean']));
    expect(() => nn.prune.rewind(model, { '0.weight': init['0.weight'] })).toThrow(nn.StateDictError);
  });
});

test('gradient check through a pruned model (float64): d/d weightOrig is masked', () => {
  const g = new Generator(12);
  const model = new nn.Sequential(
    new nn.Conv1d(2, 3, 3, { padding: 1, generator: g, dtype: 'float64' }),
    new nn.Tanh(),
    new nn.Flatten(),
    new nn.Linear(3 * 4, 2, { generator: g, dtype: 'float64' }),
  );
  nn.prune.l1Unstructured(model.at(0), 'weight', 0.4);
  nn.prune.l1Unstructured(model.at(3), 'weight', 0.6);
  const named = [...model.namedParameters()];
  expect(named.map(([n]) => n)).toEqual(['0.bias', '0.weightOrig', '3.bias', '3.weightOrig']);
  gradcheck(
    (x, ...ps) => nn.functionalCall(model, Object.fromEntries(named.map(([n], i) => [n, ps[i]])), x),
    [randn([2, 2, 4], { dtype: 'float64', generator: g }), ...named.map(([, p]) => p.detach())],
    { atol: 1e-6, rtol: 1e-5 },
  );
});
