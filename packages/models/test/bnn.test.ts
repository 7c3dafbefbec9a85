/**
 * The binary network of method 5 (`kind: 'bnn'`): the method's shapes (lengths 3600 → … → 27, weight bits),
 * parameter counts against the built module, binary vs full-precision layers, options, config errors, and
 * gradients reaching every parameter through the straight-through estimators.
 */
import { crossEntropy, Generator, nn, noGrad, optim, randn, tensor, zeros } from '@ecgnn/core';
import { describe, expect, it } from 'vitest';
import {
  BinaryEcgNet,
  type BnnConfig,
  bnnKind,
  bnnLengths,
  bnnWeightBits,
  createModel,
  layerCount,
  ModelConfigError,
  modelKinds,
  parameterCount,
  resolveConfig,
} from '../src/index.js';

const B17: BnnConfig = { kind: 'bnn', classes: 17 };

function convs(m: BinaryEcgNet): nn.AnyModule[] {
  return [...m.features.children()].filter((c) => c instanceof nn.BinaryConv1d || c instanceof nn.Conv1d);
}

describe('bnn', () => {
  it('is registered and rebuilt by createModel', () => {
    expect(modelKinds()).toContain('bnn');
    const m = createModel(B17, { generator: new Generator(0) });
    expect(m).toBeInstanceOf(BinaryEcgNet);
    expect(m.config).toEqual(resolveConfig(B17));
  });

  it('the method lengths: 3600 → 898 → 448 → 223 → 111 → 55 → 27, and the modules see them', () => {
    const c = bnnKind.resolve(B17);
    expect(bnnLengths(c)).toEqual([898, 448, 223, 111, 55, 27]);
    const m = createModel({ ...B17, classes: 5 }, { generator: new Generator(1) }) as BinaryEcgNet;
    m.eval();
    const seen: number[] = [];
    noGrad(() => {
      let x = randn([2, 1, 3600], { generator: new Generator(2) });
      for (const child of m.features.children()) {
        x = child.call(x);
        if (child instanceof nn.BatchNorm1d) seen.push(x.shape[2]);
      }
      expect(x.shape).toEqual([2, 5, 27]);
      expect(m.call(randn([2, 1, 3600])).shape).toEqual([2, 5]);
    });
    expect(seen).toEqual(bnnLengths(m.config));
  });

  it.each([17, 5])('%i classes: parameter count and weight bits match the built module', (classes) => {
    const config: BnnConfig = { kind: 'bnn', classes };
    const m = createModel(config, { generator: new Generator(0) }) as BinaryEcgNet;
    expect(m.numParameters()).toBe(parameterCount(config));
    // Weight bits: the element count of every conv weight (one bit each), computed from the module.
    const bits = convs(m).reduce((n, c) => n + (c as nn.BinaryConv1d).weight.size, 0);
    expect(bnnWeightBits(m.config)).toBe(bits);
    expect(layerCount(config)).toBe(6);
  });

  it('documented figures: 34,163 / 28,751 parameters, 33,656 / 28,280 weight bits (17 / 5 classes)', () => {
    expect(parameterCount(B17)).toBe(34_163);
    expect(parameterCount({ kind: 'bnn', classes: 5 })).toBe(28_751);
    expect(bnnWeightBits(bnnKind.resolve(B17))).toBe(33_656);
    expect(bnnWeightBits(bnnKind.resolve({ kind: 'bnn', classes: 5 }))).toBe(28_280);
  });

  it('binary: block 1 sign weights on a float input, blocks 2–6 sign weights and activations, pad +1, no bias', () => {
    const m = createModel(B17, { generator: new Generator(3) }) as BinaryEcgNet;
    const cs = convs(m) as nn.BinaryConv1d[];
    expect(cs).toHaveLength(6);
    cs.forEach((c, i) => {
      expect(c).toBeInstanceOf(nn.BinaryConv1d);
      expect(c.inputQuantizer === null).toBe(i === 0);
      expect(c.weightQuantizer).not.toBeNull();
      expect(c.bias).toBeNull();
      expect(c.hyper.padValue).toBe(1);
      expect(c.hyper.padding).toBe(5);
      expect(c.hyper.stride).toBe(i === 0 ? 2 : 1);
      // Unscaled: the effective weights are exactly ±1.
      for (const v of c.quantizedWeight().data) expect(Math.abs(v)).toBe(1);
    });
  });

  it('binary: false is the float twin: Conv1d layers, the same shapes and parameter count', () => {
    const twin = createModel({ ...B17, binary: false }, { generator: new Generator(3) }) as BinaryEcgNet;
    const cs = convs(twin);
    expect(cs.every((c) => c.constructor === nn.Conv1d)).toBe(true);
    expect(twin.numParameters()).toBe(parameterCount(B17));
    expect(bnnWeightBits(twin.config)).toBe(0);
    expect((cs[0] as nn.Conv1d).hyper.padValue).toBe(1);
  });

  it("scale: 'channel' gives ±α per output channel; the triangular estimator's sharpness can be set", () => {
    const m = createModel(
      { ...B17, scale: 'channel', estimator: 'triangular' },
      { generator: new Generator(4) },
    );
    const c = convs(m as BinaryEcgNet)[2] as nn.BinaryConv1d;
    const q = c.quantizedWeight();
    const per = q.size / c.outChannels;
    const a0 = Math.abs(q.data[0]);
    expect(a0).not.toBe(1);
    for (let j = 0; j < per; j++) expect(Math.abs(q.data[j])).toBeCloseTo(a0, 6);
    // Block 1: weight quantizer only; blocks 2–6: input and weight quantizers.
    expect(nn.setQuantizerSharpness(m, 3)).toBe(11);
    expect(nn.setQuantizerSharpness(createModel(B17), 3)).toBe(0);
  });

  it("preluSlopes 'nonNegative' clips the slopes to ≥ 0 after each optimizer step", () => {
    const m = createModel(
      { kind: 'bnn', classes: 3, length: 720, preluSlopes: 'nonNegative' },
      { generator: new Generator(10) },
    );
    const free = createModel({ kind: 'bnn', classes: 3, length: 720 }, { generator: new Generator(10) });
    for (const net of [m, free]) {
      const slopes = [...net.modules()].filter((x): x is nn.PReLU => x instanceof nn.PReLU);
      for (const p of slopes) p.weight.data.fill(-0.5);
      // Zero gradients: the step leaves the values, only the constraint can move them.
      for (const p of net.parameters()) p.grad = zeros(p.shape);
      const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
      opt.step();
      const min = Math.min(...slopes.flatMap((p) => [...p.weight.data]));
      expect(min).toBe(net === m ? 0 : -0.5);
    }
    expect(() => createModel({ ...B17, preluSlopes: 'nonNegative', preluInit: -0.1 })).toThrow(/preluInit/);
    expect(() => createModel({ ...B17, preluSlopes: 'positive' as never })).toThrow(/preluSlopes/);
  });

  it('gradients reach every parameter (straight-through estimators)', () => {
    const m = createModel(
      { kind: 'bnn', classes: 3, length: 1600, estimator: 'triangular' },
      { generator: new Generator(5) },
    );
    m.train();
    const x = randn([6, 1, 1600], { generator: new Generator(6) });
    crossEntropy(m.call(x), tensor([0, 1, 2, 1, 0, 2], [6], { dtype: 'int32' })).backward();
    for (const [name, p] of m.namedParameters()) {
      const g = p.grad;
      expect(g, name).not.toBeNull();
      expect(
        (g as NonNullable<typeof g>).data.some((v) => v !== 0),
        `${name} has a non-zero gradient`,
      ).toBe(true);
    }
  });

  it('a state dict moves the model to a fresh one built from its config', () => {
    const a = createModel({ ...B17, length: 720 }, { generator: new Generator(7) });
    const b = createModel(JSON.parse(JSON.stringify(a.config)), { generator: new Generator(8) });
    b.loadStateDict(a.stateDict());
    a.eval();
    b.eval();
    const x = randn([2, 1, 720], { generator: new Generator(9) });
    noGrad(() => expect([...b.call(x).data]).toEqual([...a.call(x).data]));
  });

  it('bad configs are ModelConfigErrors naming the field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ kind: 'bnn' }, /classes/],
      [{ ...B17, rrFeatures: 4 }, /rrFeatures/],
      [{ ...B17, estimator: 'sigmoid' }, /estimator/],
      [{ ...B17, scale: 'tensor' }, /scale/],
      [{ ...B17, padValue: 2 }, /padValue/],
      [{ ...B17, dropout: 1 }, /dropout/],
      [{ ...B17, lenght: 3600 }, /unknown config field 'lenght'/],
      [{ ...B17, length: 200 }, /too short/],
    ];
    for (const [config, msg] of bad) {
      expect(() => createModel(config as BnnConfig)).toThrow(ModelConfigError);
      expect(() => createModel(config as BnnConfig)).toThrow(msg);
    }
  });

  it('refuses RR features in forward', () => {
    const m = createModel({ ...B17, length: 720 });
    expect(() => m.call(randn([1, 1, 720]), randn([1, 4]))).toThrow(/RR/);
    expect(() => m.call(randn([1, 2, 720]))).toThrow(/window/);
  });
});
