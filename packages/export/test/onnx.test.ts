/**
 * ONNX export, run in onnxruntime-node (CPU) against @ecgnn/core's evaluation-mode output: float models
 * (conv/BN/activations/pools/linear/concat/SE/attention), a two-input model, and binary models (±1 floats, exact
 * signs and thresholds: integer dots exactly equal).
 */
import { concat, Generator, Module, max, nn, sum, type Tensor, transpose } from '@ecgnn/core';
import { loadModel, saveModel } from '@ecgnn/infer';
import * as ortModule from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Emitter,
  type ExportOptions,
  emitAttention,
  exportModel,
  exportOnnx,
  modelToOnnx,
  opEmitter,
  registerExporter,
  toOnnx,
  writeOnnx,
} from '../src/index.js';
import { type BatchInput, batchInputs, coreOutput, expectClose, randomizeBatchNorm } from './helpers.js';

const ort = ((ortModule as unknown as { default?: typeof ortModule }).default ??
  ortModule) as typeof ortModule;

type Shape = Array<{ name: string; shape: number[] }>;
const x = (...shape: number[]): Shape => [{ name: 'x', shape }];

async function runOnnx(
  bytes: Uint8Array,
  inputs: readonly BatchInput[],
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
  });
  try {
    const feeds: Record<string, ortModule.Tensor> = {};
    for (const i of inputs) {
      feeds[i.name] = new ort.Tensor('float32', i.tensor.data as Float32Array, [...i.tensor.shape]);
    }
    const out = await session.run(feeds);
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [k, Float32Array.from(v.data as Float32Array)]),
    );
  } finally {
    await session.release();
  }
}

function options(
  inputs: readonly BatchInput[],
  outSize: number,
  extra: Partial<ExportOptions> = {},
): ExportOptions {
  return {
    inputs: inputs.map((i) => ({ name: i.name, shape: i.shape })),
    classes: Array.from({ length: outSize }, (_, k) => `c${k}`),
    input: inputs.some((i) => i.shape.length === 2)
      ? { sampleRate: 100 }
      : { sampleRate: 100, channels: 1, length: 1 },
    outputActivation: 'none',
    ...extra,
  };
}

/** ONNX output of `module` vs core's on a random batch (rel 0: exactly equal). */
async function onnxParity(
  module: nn.AnyModule,
  shapes: Shape,
  g: Generator,
  opts: { rel?: number; batch?: number; extra?: Partial<ExportOptions> } = {},
): Promise<{ want: Float32Array; got: Float32Array }> {
  const batch = opts.batch ?? 3;
  const inputs = batchInputs(shapes, batch, g);
  const want = coreOutput(
    module,
    inputs.map((i) => i.tensor),
  );
  const bytes = exportOnnx(module, options(inputs, want.length / batch, opts.extra));
  const out = await runOnnx(bytes, inputs);
  const got = Object.values(out)[0];
  if (opts.rel === 0) expect(Array.from(got)).toEqual(Array.from(want));
  else expectClose(got, want, opts.rel ?? 1e-5);
  return { want, got };
}

function flat(...mods: nn.TensorModule[]): nn.Sequential {
  return new nn.Sequential(...mods, new nn.Flatten());
}

describe('ONNX: float layers in onnxruntime-node', () => {
  const g = new Generator(7);
  const cases: Array<[string, () => nn.AnyModule, Shape]> = [
    [
      'conv (padding value, dilation, groups) + BN folded + ReLU + max pool + global pool + linear',
      () =>
        new nn.Sequential(
          new nn.Conv1d(2, 6, 5, { padding: [3, 1], padValue: 0.5, dilation: 2, groups: 2, generator: g }),
          new nn.BatchNorm1d(6),
          new nn.ReLU(),
          new nn.MaxPool1d(3, { stride: 2, padding: 1 }),
          new nn.Conv1d(6, 4, 3, { padding: 'same', generator: g }),
          new nn.GlobalAvgPool1d(),
          new nn.Linear(4, 5, { generator: g }),
        ),
      x(2, 40),
    ],
    [
      'standalone BN on [C, L] and [C], LeakyReLU, PReLU, Sigmoid, Tanh, average pool, softmax',
      () =>
        new nn.Sequential(
          new nn.Conv1d(3, 4, 3, { generator: g }),
          new nn.Tanh(),
          new nn.BatchNorm1d(4),
          new nn.LeakyReLU(0.1),
          new nn.PReLU({ numParameters: 4, init: 0.3 }),
          new nn.AvgPool1d(4, { stride: 3, padding: 2 }),
          new nn.Sigmoid(),
          new nn.Softmax(1),
          new nn.GlobalAvgPool1d(),
          new nn.BatchNorm1d(4),
          new nn.PReLU(),
          new nn.Linear(4, 3, { generator: g }),
        ),
      x(3, 25),
    ],
    [
      'depthwise-separable, residual, concat skip, parallel branches, squeeze-excitation, flatten',
      () =>
        flat(
          new nn.DepthwiseSeparableConv1d(2, 4, 3, { padding: 1, generator: g }),
          new nn.Residual(new nn.Conv1d(4, 4, 3, { padding: 1, generator: g })),
          new nn.ConcatSkip(new nn.Conv1d(4, 2, 1, { generator: g })),
          new nn.Parallel(
            [1, 3].map((k) => new nn.Conv1d(6, 3, k, { padding: 'same', generator: g })),
            'add',
          ),
          new nn.SqueezeExcitation1d(3, { squeezeChannels: 2, generator: g }),
          new nn.MaxPool1d(2),
        ),
      x(2, 12),
    ],
  ];
  for (const [name, build, shape] of cases) {
    test(name, async () => {
      const m = build();
      randomizeBatchNorm(m, g);
      await onnxParity(m, shape, g);
    });
  }

  test('sum over time and global max pooling (per-instance emitters), and a dynamic batch', async () => {
    const sumT = new nn.Lambda((t) => sum(t, 2), 'sumOverTime');
    const maxT = new nn.Lambda((t) => max(t, 2), 'globalMaxPool1d');
    const emitters = new Map<nn.AnyModule, Emitter>([
      [sumT, opEmitter('sumOverTime')],
      [maxT, opEmitter('globalMaxPool1d')],
    ]);
    for (const pool of [sumT, maxT]) {
      const m = new nn.Sequential(new nn.Conv1d(2, 3, 3, { generator: g }), pool);
      for (const batch of [1, 5]) await onnxParity(m, x(2, 10), g, { batch, extra: { emitters } });
    }
  });

  test('probabilities output: the model’s softmax on the logits', async () => {
    const m = new nn.Sequential(new nn.GlobalAvgPool1d(), new nn.Linear(3, 4, { generator: g }));
    const inputs = batchInputs(x(3, 8), 2, g);
    const spec = exportModel(m, { ...options(inputs, 4), outputActivation: 'softmax' });
    const out = await runOnnx(modelToOnnx(spec, { probabilities: true }), inputs);
    const logits = out[spec.graph.outputs[0]];
    const p = out.probabilities;
    for (let i = 0; i < 2; i++) {
      const row = logits.subarray(4 * i, 4 * i + 4);
      const mx = Math.max(...row);
      const z = row.reduce((s, v) => s + Math.exp(v - mx), 0);
      for (let k = 0; k < 4; k++) expect(p[4 * i + k]).toBeCloseTo(Math.exp(row[k] - mx) / z, 6);
    }
  });
});

/** A two-input model: a conv trunk on the beat, global pooling, concatenated with a feature vector, linear. */
class BeatAndFeatures extends Module<[Tensor, Tensor], Tensor> {
  declare readonly trunk: nn.Sequential;
  declare readonly head: nn.Linear;
  constructor(g: Generator) {
    super();
    this.registerModule(
      'trunk',
      new nn.Sequential(
        new nn.Conv1d(1, 4, 5, { padding: 'same', bias: false, generator: g }),
        new nn.BatchNorm1d(4),
        new nn.ReLU(),
        new nn.MaxPool1d(2),
        new nn.GlobalAvgPool1d(),
      ),
    );
    this.registerModule('head', new nn.Linear(4 + 3, 5, { generator: g }));
  }
  forward(beat: Tensor, features: Tensor): Tensor {
    return this.head.call(concat([this.trunk.call(beat), features], 1));
  }
}

const emitBeatAndFeatures: Emitter<BeatAndFeatures> = (ctx, m, [beat, features], path) => {
  const pooled = ctx.emit(m.trunk, [beat], 'trunk');
  const joined = ctx.graph.node('concat', [pooled, features], 'joined');
  return ctx.emit(m.head, [joined], path === '' ? 'head' : `${path}.head`);
};

describe('ONNX: a two-input model (registered emitter)', () => {
  let unregister: () => void = () => {};
  beforeAll(() => {
    unregister = registerExporter(BeatAndFeatures, emitBeatAndFeatures);
  });
  afterAll(() => unregister());

  test('beat [1, L] and features [3] as two ONNX inputs', async () => {
    const g = new Generator(19);
    const m = new BeatAndFeatures(g);
    randomizeBatchNorm(m, g);
    const shapes = [
      { name: 'beat', shape: [1, 32] },
      { name: 'features', shape: [3] },
    ];
    const { want } = await onnxParity(m, shapes, g, { batch: 4 });
    expect(want.length).toBe(20);
    const model = toOnnx(exportModel(m, options(batchInputs(shapes, 1, g), 5)));
    expect(model.inputs.map((i) => i.name)).toEqual(['beat', 'features']);
    expect(model.inputs[1].dims).toEqual(['N', 3]);
  });
});

/** Batch-first attention on a channels-first signal: transpose, attend (causally), transpose back. */
class TimeAttention extends Module {
  declare readonly mha: nn.MultiheadAttention;
  constructor(
    channels: number,
    readonly causal: boolean,
    g: Generator,
  ) {
    super();
    this.registerModule('mha', new nn.MultiheadAttention(channels, 1, { generator: g }));
  }
  forward(v: Tensor): Tensor {
    return transpose(
      this.mha.call(transpose(v, 1, 2), undefined, undefined, { isCausal: this.causal }),
      1,
      2,
    );
  }
}

describe('ONNX: attention and stored precision', () => {
  test.each([false, true])('single-head attention over time (causal %s)', async (causal) => {
    const g = new Generator(causal ? 41 : 43);
    const unregister = registerExporter(TimeAttention, (ctx, m, [v], path) =>
      emitAttention(ctx, m.mha, v, `${path}.mha`, { causal: m.causal }),
    );
    try {
      const att = new TimeAttention(6, causal, g);
      for (const p of [att.mha.inProjBias, att.mha.outProj.bias]) {
        if (p) for (let k = 0; k < p.size; k++) p.data[k] = 0.1 * g.normal();
      }
      await onnxParity(flat(new nn.Conv1d(2, 6, 3, { padding: 1, generator: g }), att), x(2, 10), g);
    } finally {
      unregister();
    }
  });

  test('float16 and int8 weights: the ONNX model runs the widened values infer runs', async () => {
    const g = new Generator(47);
    const m = new nn.Sequential(
      new nn.Conv1d(2, 8, 5, { padding: 2, generator: g }),
      new nn.ReLU(),
      new nn.GlobalAvgPool1d(),
      new nn.Linear(8, 3, { generator: g }),
    );
    const inputs = batchInputs(x(2, 20), 3, g);
    for (const storage of ['float16', 'int8'] as const) {
      const spec = exportModel(m, { ...options(inputs, 3), storage });
      const fromInfer = loadModel(saveModel(spec)).logits(inputs[0].tensor.data as Float32Array);
      const fromOnnx = Object.values(await runOnnx(modelToOnnx(spec), inputs))[0];
      expectClose(fromOnnx, fromInfer, 1e-5);
    }
  });
});

describe('ONNX: binary layers as ±1 floats', () => {
  test('sign, binary conv with folded thresholds, binary conv: integer dots exactly equal to core', async () => {
    const g = new Generator(29);
    const net = new nn.Sequential(
      new nn.BinaryConv1d(4, 8, 5, { padding: 2, padValue: 1, generator: g }),
      new nn.MaxPool1d(3, { stride: 2 }),
      new nn.PReLU({ numParameters: 8, init: 0.2 }),
      new nn.BatchNorm1d(8),
      new nn.BinaryConv1d(8, 6, 3, { padding: 1, padValue: 0, stride: 2, generator: g }),
      new nn.GlobalAvgPool1d(),
      new nn.BinaryLinear(6, 4, { generator: g }),
    );
    randomizeBatchNorm(net, g);
    for (const fold of [true, false]) {
      await onnxParity(net, x(4, 30), g, { rel: 0, extra: { foldBinaryThresholds: fold } });
    }
  });

  test('a float-input binary conv (bits weights unpacked) with a per-channel scale', async () => {
    const g = new Generator(31);
    const net = flat(
      new nn.BinaryConv1d(2, 4, 5, {
        inputQuantizer: 'none',
        padding: 2,
        padValue: 1,
        scale: 'channel',
        generator: g,
      }),
      new nn.BinaryConv1d(4, 3, 3, { scale: 'channel', bias: true, generator: g }),
    );
    await onnxParity(net, x(2, 16), g);
  });
});

describe('ONNX writer', () => {
  test('writes a model onnxruntime loads, with int64 initializers and negative attribute values', async () => {
    const bytes = writeOnnx({
      nodes: [
        { op: 'Unsqueeze', inputs: ['x', 'axes'], outputs: ['u'] },
        { op: 'Softmax', inputs: ['u'], outputs: ['y'], attributes: { axis: -1 } },
      ],
      initializers: [{ name: 'axes', dims: [1], data: BigInt64Array.from([1n]) }],
      inputs: [{ name: 'x', dims: ['N', 3] }],
      outputs: [{ name: 'y', dims: ['N', 1, 3] }],
    });
    const g = new Generator(1);
    const out = await runOnnx(bytes, batchInputs(x(3), 2, g));
    expect(out.y.length).toBe(6);
    expect(out.y[0] + out.y[1] + out.y[2]).toBeCloseTo(1, 6);
  });
});
