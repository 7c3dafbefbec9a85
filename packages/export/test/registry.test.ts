/**
 * The emitter registry: a researcher's own layer exported by a registered emitter that composes the built-in
 * ones; per-instance emitters; attention (channels-first, causal) through a custom module; and the
 * ExportErrors that name the module path of what cannot be exported.
 */
import { Generator, Module, nn, type Tensor, transpose } from '@ecgnn/core';
import { describe, expect, test } from 'vitest';
import {
  ExportError,
  emitAttention,
  exporterFor,
  exportModel,
  registerExporter,
  registeredClasses,
} from '../src/index.js';
import { checkParity, randomizeBatchNorm } from './helpers.js';

const x = (...shape: number[]) => [{ name: 'x', shape }];
const exportOf =
  (net: nn.AnyModule, shape: number[], classes = 2) =>
  () =>
    exportModel(net, {
      inputs: [{ name: 'x', shape }],
      classes: Array.from({ length: classes }, (_, i) => `c${i}`),
      input: shape.length === 2 ? { sampleRate: 1 } : { sampleRate: 1, channels: 1, length: 1 },
    });

/** A researcher's block: conv → BN → ReLU, plus the input (a residual), in one module. */
class ConvBnRelu extends Module {
  declare readonly conv: nn.Conv1d;
  declare readonly bn: nn.BatchNorm1d;
  constructor(channels: number, g: Generator) {
    super();
    this.registerModule('conv', new nn.Conv1d(channels, channels, 3, { padding: 1, generator: g }));
    this.registerModule('bn', new nn.BatchNorm1d(channels));
  }
  forward(v: Tensor): Tensor {
    return this.bn.call(this.conv.call(v)).relu().add(v);
  }
}

/** Batch-first attention used on a channels-first signal: transpose, attend (causally), transpose back. */
class TimeAttention extends Module {
  declare readonly mha: nn.MultiheadAttention;
  constructor(
    channels: number,
    readonly causal: boolean,
    g: Generator,
    heads = 1,
  ) {
    super();
    this.registerModule('mha', new nn.MultiheadAttention(channels, heads, { generator: g }));
  }
  forward(v: Tensor): Tensor {
    const t = transpose(v, 1, 2);
    return transpose(this.mha.call(t, undefined, undefined, { isCausal: this.causal }), 1, 2);
  }
}

describe('registerExporter', () => {
  test('a custom block exports through an emitter composing the built-in ones (BN folded by emitSequence)', () => {
    const g = new Generator(3);
    expect(exporterFor(new ConvBnRelu(2, g))).toBeUndefined();
    expect(exportOf(new nn.Sequential(new ConvBnRelu(2, g), new nn.Flatten()), [2, 6], 12)).toThrow(
      /^0: no exporter for ConvBnRelu.*registerExporter/,
    );
    const unregister = registerExporter(ConvBnRelu, (ctx, m, [v], path) => {
      const conv = ctx.emit(m.conv, [v], `${path}.conv`);
      const bn = ctx.emit(m.bn, [conv], `${path}.bn`);
      const relu = ctx.graph.node('relu', [bn], `${path}.relu`);
      return ctx.graph.node('add', [relu, v], path);
    });
    try {
      expect(registeredClasses()).toContain(ConvBnRelu);
      const net = new nn.Sequential(new ConvBnRelu(3, g), new ConvBnRelu(3, g), new nn.Flatten());
      randomizeBatchNorm(net, g);
      checkParity(net, x(3, 10), g);
    } finally {
      unregister();
    }
    expect(exporterFor(new ConvBnRelu(2, g))).toBeUndefined();
  });

  test('re-registering a built-in class replaces it until unregistered', () => {
    const relu = new nn.ReLU();
    const builtin = exporterFor(relu);
    const unregister = registerExporter(nn.ReLU, (ctx, _m, [v], p) => ctx.graph.node('sigmoid', [v], p));
    try {
      const spec = exportOf(new nn.Sequential(new nn.Flatten(), relu), [2, 1])();
      expect(spec.graph.nodes.map((n) => n.op)).toEqual(['flatten', 'sigmoid']);
    } finally {
      unregister();
    }
    expect(exporterFor(relu)).toBe(builtin);
  });

  test.each([false, true])('single-head attention on a channels-first value (causal %s)', (causal) => {
    const g = new Generator(causal ? 8 : 9);
    const unregister = registerExporter(TimeAttention, (ctx, m, [v], path) =>
      emitAttention(ctx, m.mha, v, `${path}.mha`, { causal: m.causal }),
    );
    try {
      const inner = new TimeAttention(6, causal, g);
      // Non-zero biases, so that every tensor role is checked.
      for (const p of [inner.mha.inProjBias, inner.mha.outProj.bias]) {
        if (p) for (let k = 0; k < p.size; k++) p.data[k] = 0.1 * g.normal();
      }
      checkParity(new nn.Sequential(inner, new nn.Flatten()), x(6, 12), g);
    } finally {
      unregister();
    }
  });
});

describe('ExportError names the module path of what cannot be exported', () => {
  const g = new Generator(1);
  const cases: Array<[string, () => nn.AnyModule, number[], RegExp]> = [
    [
      'a layer infer has no op for (GELU)',
      () => new nn.Sequential(new nn.Conv1d(1, 2, 3), new nn.GELU()),
      [1, 8],
      /^1: no exporter for GELU/,
    ],
    [
      'LayerNorm',
      () => new nn.Sequential(new nn.Flatten(), new nn.LayerNorm(8)),
      [1, 8],
      /^1: no exporter for LayerNorm/,
    ],
    [
      'a nested path',
      () => new nn.Sequential(new nn.Residual(new nn.Sequential(new nn.Identity(), new nn.ELU()))),
      [1, 8],
      /^0\.body\.1: no exporter for ELU/,
    ],
    [
      'multi-head attention',
      () => new nn.Sequential(new TimeAttention(4, false, g, 2), new nn.GlobalAvgPool1d()),
      [4, 6],
      /^0\.mha: MultiheadAttention with 2 heads/,
    ],
    [
      'Linear over the time axis',
      () => new nn.Sequential(new nn.Linear(8, 2)),
      [1, 8],
      /^0: Linear on a \[1,8\] value/,
    ],
    [
      'GlobalAvgPool1d with keepDim',
      () => new nn.Sequential(new nn.GlobalAvgPool1d(true)),
      [2, 8],
      /^0: GlobalAvgPool1d with keepDim/,
    ],
    [
      'BatchNorm1d without running statistics',
      () => new nn.Sequential(new nn.GlobalAvgPool1d(), new nn.BatchNorm1d(2, { trackRunningStats: false })),
      [2, 8],
      /^1: BatchNorm1d without running statistics/,
    ],
    [
      'AvgPool1d not counting its padding',
      () =>
        new nn.Sequential(
          new nn.AvgPool1d(3, { padding: 1, countIncludePad: false }),
          new nn.GlobalAvgPool1d(),
        ),
      [2, 8],
      /^0: AvgPool1d with countIncludePad false/,
    ],
    [
      'Softmax over time',
      () => new nn.Sequential(new nn.Softmax(2), new nn.GlobalAvgPool1d()),
      [2, 8],
      /^0: Softmax over axis 2/,
    ],
    [
      'AdaptiveAvgPool1d with unequal bins',
      () => new nn.Sequential(new nn.AdaptiveAvgPool1d(3), new nn.Flatten()),
      [1, 8],
      /^0: AdaptiveAvgPool1d\(3\) on 8 samples/,
    ],
    [
      'an output that is not the logits vector',
      () => new nn.Sequential(new nn.Conv1d(1, 2, 3)),
      [1, 8],
      /^\(model\): the output is float \[2,6\]/,
    ],
    [
      'a container without forward',
      () =>
        new nn.Sequential(new nn.Flatten(), new nn.ModuleList([new nn.ReLU()]) as unknown as nn.TensorModule),
      [1, 2],
      /^1: no exporter for ModuleList/,
    ],
  ];
  for (const [name, build, shape, msg] of cases) {
    test(name, () => {
      const unregister = registerExporter(TimeAttention, (ctx, m, [v], p) =>
        emitAttention(ctx, m.mha, v, `${p}.mha`),
      );
      try {
        const f = exportOf(build(), shape);
        expect(f).toThrow(ExportError);
        expect(f).toThrow(msg);
      } finally {
        unregister();
      }
    });
  }

  test('bad options are ExportErrors too', () => {
    const m = new nn.Sequential(new nn.GlobalAvgPool1d(), new nn.Linear(1, 2));
    expect(() => exportModel(m, { inputs: [], classes: ['a'], input: { sampleRate: 1 } })).toThrow(
      /at least one graph input/,
    );
    expect(() =>
      exportModel(m, { inputs: [{ name: 'x', shape: [1, 0] }], classes: ['a'], input: { sampleRate: 1 } }),
    ).toThrow(/positive integers/);
    expect(() =>
      exportModel(m, {
        inputs: [{ name: 'x', shape: [1, 4] }],
        classes: ['a', 'b'],
        input: { sampleRate: 1 },
        storage: 'int4' as never,
      }),
    ).toThrow(/dtype must be/);
  });

  test('the model keeps its training mode after an export', () => {
    const m = new nn.Sequential(new nn.GlobalAvgPool1d(), new nn.Dropout(), new nn.Linear(2, 2));
    m.train();
    (m.at(1) as nn.Dropout).eval();
    exportOf(m, [2, 4])();
    expect([...m.modules()].map((v) => v.training)).toEqual([true, true, false, true]);
  });
});
