/**
 * Binary layers: exported with `bits` weights, run by @ecgnn/infer with integer dots, equal to @ecgnn/core's
 * evaluation-mode output exactly (integer dots, folded thresholds); scaled layers and float outputs within
 * float32 rounding. Threshold folding is checked against the unfolded graph and at random geometries.
 */
import { Generator, nn, sum, type Tensor } from '@ecgnn/core';
import { readModel } from '@ecgnn/infer';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type Emitter, ExportError, exportModel } from '../src/index.js';
import { checkParity, randomizeBatchNorm } from './helpers.js';

const x = (...shape: number[]) => [{ name: 'x', shape }];

/** Random signs in BatchNorm gammas, and some exact zeros, to exercise every threshold direction. */
function mixedGammas(m: nn.AnyModule, g: Generator): void {
  for (const mod of m.modules()) {
    if (mod instanceof nn.BatchNorm1d && mod.weight) {
      for (let c = 0; c < mod.numFeatures; c++) {
        const r = g.random();
        mod.weight.data[c] = r < 0.1 ? 0 : r < 0.45 ? -(0.5 + r) : 0.5 + r;
        (mod.runningMean as Tensor).data[c] = 3 * g.normal();
        (mod.runningVar as Tensor).data[c] = 1 + 10 * g.random();
      }
    }
  }
}

/** Method 5-style blocks: binary conv → max pool → PReLU → BatchNorm, the next conv reading the signs. */
function binaryNet(
  g: Generator,
  opts: { padValue?: number; scale?: 'none' | 'channel'; bias?: boolean } = {},
) {
  const b = {
    padValue: opts.padValue ?? 1,
    scale: opts.scale ?? 'none',
    bias: opts.bias ?? false,
    generator: g,
  };
  const net = new nn.Sequential(
    new nn.BinaryConv1d(4, 8, 5, { padding: 2, ...b }),
    new nn.MaxPool1d(3, { stride: 2 }),
    new nn.PReLU({ numParameters: 8, init: 0.2 }),
    new nn.BatchNorm1d(8),
    new nn.BinaryConv1d(8, 6, 3, { padding: 1, stride: 2, ...b }),
    new nn.Flatten(),
  );
  randomizeBatchNorm(net, g);
  mixedGammas(net, g);
  return net;
}

function ops(bytes: Uint8Array): string[] {
  return readModel(bytes).header.graph.nodes.map((n) => n.op);
}

describe('binary convolutions', () => {
  test.each([1, 0])(
    'sign → binary conv → folded epilogue → binary conv: integer dots exactly equal (pad %s)',
    (pad) => {
      const g = new Generator(5 + pad);
      const net = binaryNet(g, { padValue: pad });
      const { bytes, want } = checkParity(net, x(4, 30), g, { rel: 0, batch: 4 });
      for (const v of want) expect(Number.isInteger(v)).toBe(true);
      // The first conv carries the pool and the thresholds; the second reads its bits without a sign.
      expect(ops(bytes)).toEqual(['sign', 'binaryConv1d', 'binaryConv1d', 'flatten']);
      const file = readModel(bytes);
      const first = file.header.graph.nodes[1];
      expect(first.attrs?.pool).toEqual({ kernelSize: 3, stride: 2 });
      expect(file.tensors.get(first.tensors!.threshold)?.entry.dtype).toBe('int32');
      expect(file.tensors.get(first.tensors!.weight)?.entry.dtype).toBe('bits');
    },
  );

  test('unfolded, the same model gives the same dots (float epilogue, then sign)', () => {
    const g = new Generator(9);
    const net = binaryNet(g);
    const { bytes } = checkParity(net, x(4, 30), g, { rel: 0, extra: { foldBinaryThresholds: false } });
    expect(ops(bytes)).toEqual([
      'sign',
      'binaryConv1d',
      'maxPool1d',
      'prelu',
      'batchNorm',
      'sign',
      'binaryConv1d',
      'flatten',
    ]);
  });

  test('per-channel scale α and a bias: within float32 rounding', () => {
    const g = new Generator(13);
    const net = binaryNet(g, { scale: 'channel', bias: true });
    checkParity(net, x(4, 30), g, { rel: 1e-5 });
  });

  test('float input, binary weights (a first layer): conv1d with bits weights', () => {
    const g = new Generator(17);
    const conv = new nn.BinaryConv1d(1, 8, 7, {
      inputQuantizer: 'none',
      padding: 5,
      padValue: 1,
      stride: 2,
      generator: g,
    });
    const net = new nn.Sequential(conv, new nn.Flatten());
    const { bytes } = checkParity(net, x(1, 50), g);
    const file = readModel(bytes);
    expect(file.header.graph.nodes[0].op).toBe('conv1d');
    expect(file.header.tensors[0].dtype).toBe('bits');
  });

  test('the method 5 layout end to end: float first block, binary blocks, sum over time (a Lambda with its own emitter)', () => {
    const g = new Generator(23);
    const chans = [1, 8, 16, 5];
    const mods: nn.TensorModule[] = [];
    for (let b = 0; b < 3; b++) {
      mods.push(
        new nn.BinaryConv1d(chans[b], chans[b + 1], 7, {
          inputQuantizer: b === 0 ? 'none' : 'steSign',
          padding: 5,
          padValue: 1,
          stride: b === 0 ? 2 : 1,
          generator: g,
        }),
        new nn.MaxPool1d(7, { stride: 2 }),
        new nn.PReLU({ numParameters: chans[b + 1], init: 0.2 }),
        new nn.BatchNorm1d(chans[b + 1]),
      );
    }
    const sumTime = new nn.Lambda((t) => sum(t, 2), 'sumOverTime');
    const net = new nn.Sequential(...mods, new nn.Dropout(0.2), sumTime);
    randomizeBatchNorm(net, g);
    const emitters = new Map<nn.AnyModule, Emitter>([
      [sumTime, (ctx, _m, [v], path) => ctx.graph.node('sumOverTime', [v], path)],
    ]);
    const { bytes } = checkParity(net, x(1, 720), g, { rel: 1e-4, extra: { emitters } });
    expect(ops(bytes)).toEqual([
      'conv1d',
      'maxPool1d',
      'prelu',
      'batchNorm',
      'sign',
      'binaryConv1d',
      'binaryConv1d',
      'maxPool1d',
      'prelu',
      'batchNorm',
      'sumOverTime',
    ]);
  });

  test('random binary blocks (fast-check): dots exactly equal, folded or not', () => {
    fc.assert(
      fc.property(
        fc.record({
          cin: fc.integer({ min: 1, max: 40 }),
          mid: fc.integer({ min: 1, max: 36 }),
          out: fc.integer({ min: 1, max: 9 }),
          k: fc.integer({ min: 1, max: 5 }),
          k2: fc.integer({ min: 1, max: 4 }),
          padValue: fc.constantFrom(0, 1),
          padding: fc.nat(3),
          stride: fc.integer({ min: 1, max: 2 }),
          dilation: fc.integer({ min: 1, max: 2 }),
          pool: fc.option(fc.integer({ min: 2, max: 3 })),
          fold: fc.boolean(),
          seed: fc.nat(10_000),
        }),
        (p) => {
          const g = new Generator(p.seed);
          const common = { padValue: p.padValue, generator: g };
          const mods: nn.TensorModule[] = [
            new nn.BinaryConv1d(p.cin, p.mid, p.k, {
              ...common,
              padding: p.padding,
              stride: p.stride,
              dilation: p.dilation,
            }),
          ];
          if (p.pool !== null) mods.push(new nn.MaxPool1d(p.pool));
          mods.push(
            new nn.BatchNorm1d(p.mid),
            new nn.BinaryConv1d(p.mid, p.out, p.k2, { ...common, padding: 1 }),
          );
          const net = new nn.Sequential(...mods, new nn.Flatten());
          mixedGammas(net, g);
          checkParity(net, x(p.cin, 24), g, { rel: 0, batch: 2, extra: { foldBinaryThresholds: p.fold } });
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('binary dense layers', () => {
  test('sign → binaryLinear: dots exactly equal; with α and bias within rounding', () => {
    const g = new Generator(31);
    const exact = new nn.Sequential(new nn.GlobalAvgPool1d(), new nn.BinaryLinear(6, 11, { generator: g }));
    const { bytes } = checkParity(exact, x(6, 9), g, { rel: 0 });
    expect(ops(bytes)).toEqual(['globalAvgPool1d', 'sign', 'binaryLinear']);
    const scaled = new nn.Sequential(
      new nn.Flatten(),
      new nn.BinaryLinear(18, 4, { scale: 'channel', bias: true, generator: g }),
    );
    checkParity(scaled, x(2, 9), g, { rel: 1e-5 });
    const floatIn = new nn.Sequential(
      new nn.Flatten(),
      new nn.BinaryLinear(18, 4, { inputQuantizer: 'none', generator: g }),
    );
    checkParity(floatIn, x(2, 9), g);
  });
});

describe('what binary export refuses, naming the module', () => {
  const g = new Generator(3);
  const exportOf = (net: nn.AnyModule, shape: number[]) => () =>
    exportModel(net, { inputs: [{ name: 'x', shape }], classes: ['a', 'b'], input: { sampleRate: 1 } });

  test('pruned binary weights are ternary: refused with a sign input, stored as floats with a float input', () => {
    const conv = new nn.BinaryConv1d(4, 2, 3, { generator: g });
    nn.prune.l1Unstructured(conv, 'weight', 0.5);
    const net = new nn.Sequential(conv, new nn.GlobalAvgPool1d());
    expect(exportOf(net, [4, 10])).toThrow(ExportError);
    expect(exportOf(net, [4, 10])).toThrow(/^0: .*ternary/);
    const first = new nn.BinaryConv1d(1, 2, 3, { inputQuantizer: 'none', generator: g });
    nn.prune.l1Unstructured(first, 'weight', 0.5);
    checkParity(new nn.Sequential(first, new nn.GlobalAvgPool1d()), x(1, 10), g);
  });

  test('groups and a −1 pad value have no binaryConv1d form', () => {
    const grouped = new nn.Sequential(
      new nn.BinaryConv1d(4, 2, 3, { groups: 2, generator: g }),
      new nn.GlobalAvgPool1d(),
    );
    expect(exportOf(grouped, [4, 10])).toThrow(/^0: .*groups/);
    const minus = new nn.Sequential(
      new nn.BinaryConv1d(2, 2, 3, { padding: 1, padValue: -1, generator: g }),
      new nn.GlobalAvgPool1d(),
    );
    expect(exportOf(minus, [2, 10])).toThrow(/^0: .*padValue -1/);
  });
});
