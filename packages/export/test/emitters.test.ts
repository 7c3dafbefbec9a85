/**
 * Every built-in float emitter against @ecgnn/core's evaluation-mode forward: the exported file, run by
 * @ecgnn/infer, gives the core model's output within 1e-5 of its magnitude (float32, different summation order).
 * Convolution and pooling geometry is drawn at random by fast-check.
 */
import { Generator, nn } from '@ecgnn/core';
import { readModel } from '@ecgnn/infer';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkParity, randomizeBatchNorm } from './helpers.js';

type Shape = Array<{ name: string; shape: number[] }>;
const x = (...shape: number[]): Shape => [{ name: 'x', shape }];

/** A model ending in Flatten so that any per-sample output becomes the logits vector. */
function flat(...mods: nn.TensorModule[]): nn.Sequential {
  return new nn.Sequential(...mods, new nn.Flatten());
}

describe('float layers, one at a time', () => {
  const g = new Generator(42);
  const cases: Array<[string, () => nn.AnyModule, Shape]> = [
    ['Conv1d with bias', () => flat(new nn.Conv1d(3, 5, 4, { generator: g })), x(3, 17)],
    [
      'Conv1d stride 2, padding [3, 1] with value 0.25, dilation 2, groups 2',
      () =>
        flat(
          new nn.Conv1d(4, 6, 5, {
            stride: 2,
            padding: [3, 1],
            dilation: 2,
            groups: 2,
            padValue: 0.25,
            generator: g,
          }),
        ),
      x(4, 40),
    ],
    [
      "depthwise Conv1d, padding 'same', no bias",
      () => flat(new nn.Conv1d(8, 8, 7, { groups: 8, padding: 'same', bias: false, generator: g })),
      x(8, 33),
    ],
    [
      'DepthwiseSeparableConv1d',
      () => flat(new nn.DepthwiseSeparableConv1d(4, 6, 3, { padding: 1, depthMultiplier: 2, generator: g })),
      x(4, 20),
    ],
    ['Linear', () => new nn.Sequential(new nn.Flatten(), new nn.Linear(12, 5, { generator: g })), x(3, 4)],
    ['Linear without bias on a vector input', () => new nn.Linear(7, 3, { bias: false, generator: g }), x(7)],
    ['BatchNorm1d on [C, L]', () => flat(new nn.BatchNorm1d(4, { eps: 1e-3 })), x(4, 9)],
    ['BatchNorm1d without affine on [C]', () => new nn.BatchNorm1d(6, { affine: false }), x(6)],
    ['ReLU', () => flat(new nn.ReLU()), x(3, 8)],
    ['LeakyReLU', () => flat(new nn.LeakyReLU(0.2)), x(3, 8)],
    ['PReLU shared', () => flat(new nn.PReLU()), x(3, 8)],
    ['PReLU per channel', () => flat(new nn.PReLU({ numParameters: 3, init: 0.1 })), x(3, 8)],
    ['Sigmoid', () => flat(new nn.Sigmoid()), x(3, 8)],
    ['Tanh', () => flat(new nn.Tanh()), x(3, 8)],
    ['Softmax over channels', () => flat(new nn.Softmax(1)), x(5, 9)],
    ['Softmax over features', () => new nn.Softmax(), x(5)],
    ['MaxPool1d with padding', () => flat(new nn.MaxPool1d(3, { stride: 2, padding: 1 })), x(3, 31)],
    ['AvgPool1d with padding', () => flat(new nn.AvgPool1d(4, { stride: 3, padding: 2 })), x(3, 31)],
    ['AdaptiveAvgPool1d (equal bins)', () => flat(new nn.AdaptiveAvgPool1d(5)), x(3, 20)],
    ['GlobalAvgPool1d', () => new nn.GlobalAvgPool1d(), x(6, 11)],
    ['Flatten(1, 2) on [N, C, L]', () => new nn.Flatten(1, 2), x(2, 5)],
    ['Dropout and Identity', () => flat(new nn.Dropout(0.5), new nn.Identity(), new nn.ReLU()), x(2, 5)],
    [
      'Residual with and without a projection shortcut',
      () =>
        flat(
          new nn.Residual(
            new nn.Sequential(new nn.Conv1d(4, 4, 3, { padding: 1, generator: g }), new nn.ReLU()),
          ),
          new nn.Residual(
            new nn.Conv1d(4, 6, 3, { padding: 1, generator: g }),
            new nn.Conv1d(4, 6, 1, { generator: g }),
          ),
        ),
      x(4, 12),
    ],
    [
      'ConcatSkip',
      () => flat(new nn.ConcatSkip(new nn.Conv1d(3, 2, 3, { padding: 'same', generator: g }))),
      x(3, 10),
    ],
    [
      'Parallel concat (multi-scale kernels)',
      () =>
        flat(
          new nn.Parallel([3, 5, 7].map((k) => new nn.Conv1d(2, 3, k, { padding: 'same', generator: g }))),
        ),
      x(2, 16),
    ],
    [
      'Parallel add of three branches',
      () =>
        flat(
          new nn.Parallel(
            [1, 3, 5].map((k) => new nn.Conv1d(2, 3, k, { padding: 'same', generator: g })),
            'add',
          ),
        ),
      x(2, 16),
    ],
    [
      'SqueezeExcitation1d',
      () => flat(new nn.SqueezeExcitation1d(8, { reduction: 4, generator: g })),
      x(8, 21),
    ],
  ];
  for (const kernels of ['wasm', 'typescript'] as const) {
    for (const [name, build, shape] of cases) {
      test(`${name} (infer on ${kernels} kernels)`, () => {
        const m = build();
        randomizeBatchNorm(m, g);
        checkParity(m, shape, g, { load: { kernels } });
      });
    }
  }

  test('Dropout and Identity leave no node', () => {
    const { model } = checkParity(flat(new nn.Dropout(0.3), new nn.Identity(), new nn.ReLU()), x(2, 5), g);
    expect(model.metadata.plan.join(' ')).not.toMatch(/dropout|identity/);
  });
});

describe('BatchNorm folding', () => {
  test.each([true, false])('a CNN with conv, BN, pools and linear matches core (fold %s)', (fold) => {
    const g = new Generator(11);
    const seq = new nn.Sequential(
      new nn.Conv1d(2, 6, 5, { padding: [1, 3], generator: g }),
      new nn.BatchNorm1d(6),
      new nn.LeakyReLU(0.1),
      new nn.MaxPool1d(3, { stride: 2, padding: 1 }),
      new nn.Conv1d(6, 6, 3, { padding: 'same', dilation: 2, groups: 3, bias: false, generator: g }),
      new nn.BatchNorm1d(6),
      new nn.Tanh(),
      new nn.DepthwiseSeparableConv1d(6, 4, 3, { generator: g }),
      new nn.BatchNorm1d(4),
      new nn.ReLU(),
      new nn.BatchNorm1d(4),
      new nn.AvgPool1d(2),
      new nn.Dropout(0.5),
      new nn.Sigmoid(),
      new nn.GlobalAvgPool1d(),
      new nn.Linear(4, 5, { generator: g }),
      new nn.BatchNorm1d(5),
      new nn.ReLU(),
      new nn.Linear(5, 3, { generator: g }),
    );
    randomizeBatchNorm(seq, g);
    const { bytes } = checkParity(seq, x(2, 40), g, { extra: { foldBatchNorm: fold } });
    const ops = readModel(bytes).header.graph.nodes.map((n) => n.op);
    // Folded: only the BatchNorm after a ReLU stays; unfolded: all five.
    expect(ops.filter((o) => o === 'batchNorm').length).toBe(fold ? 1 : 5);
  });
});

describe('geometry at random (fast-check)', () => {
  test('Conv1d: channels, groups, kernel, stride, dilation, padding (all modes), pad value, bias; ± BatchNorm', () => {
    fc.assert(
      fc.property(
        fc.record({
          groups: fc.integer({ min: 1, max: 3 }),
          inPer: fc.integer({ min: 1, max: 3 }),
          outPer: fc.integer({ min: 1, max: 3 }),
          kernel: fc.integer({ min: 1, max: 5 }),
          stride: fc.integer({ min: 1, max: 3 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          padding: fc.oneof(
            fc.integer({ min: 0, max: 4 }),
            fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
            fc.constantFrom('same' as const, 'valid' as const),
          ),
          padValue: fc.constantFrom(0, 0.5, -1),
          bias: fc.boolean(),
          batchNorm: fc.boolean(),
          // 13 = the longest dilated kernel span, (5 − 1)·3 + 1: every geometry fits 'valid' padding.
          length: fc.integer({ min: 13, max: 30 }),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        (p) => {
          const g = new Generator(p.seed);
          const stride = p.padding === 'same' ? 1 : p.stride;
          const C = p.groups * p.inPer;
          const O = p.groups * p.outPer;
          const conv = new nn.Conv1d(C, O, p.kernel, {
            groups: p.groups,
            stride,
            dilation: p.dilation,
            padding: p.padding,
            padValue: p.padValue,
            bias: p.bias,
            generator: g,
          });
          const seq = p.batchNorm ? flat(conv, new nn.BatchNorm1d(O)) : flat(conv);
          randomizeBatchNorm(seq, g);
          checkParity(seq, x(C, p.length), g, { rel: 2e-5 });
        },
      ),
      { numRuns: 40 },
    );
  });

  test('MaxPool1d / AvgPool1d: kernel, stride, padding ≤ kernel/2', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(3),
        fc.boolean(),
        fc.integer({ min: 8, max: 25 }),
        (k, s, pad, max, length) => {
          const padding = Math.min(pad, Math.floor(k / 2));
          const g = new Generator(k * 31 + s);
          const pool = max
            ? new nn.MaxPool1d(k, { stride: s, padding })
            : new nn.AvgPool1d(k, { stride: s, padding });
          checkParity(flat(pool), x(2, length), g);
        },
      ),
      { numRuns: 30 },
    );
  });
});
