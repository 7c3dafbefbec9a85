import { Generator, nn, noGrad, randn, type Tensor } from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BeatNet,
  type BuiltinModelConfig,
  createModel,
  type EcgClassifier,
  layerCount,
  type ModelConfig,
  ModelConfigError,
  type ModelKind,
  modelKinds,
  parameterCount,
  ResNetTeacher,
  type ResolvedStudentConfig,
  registerModel,
  resolveConfig,
  Student,
  studentKind,
} from '../src/index.js';

const IO = { length: 126, rrFeatures: 4, classes: 5 };

/** Counts the weight layers of a built model: every Conv1d and Linear module. */
function countWeightLayers(m: EcgClassifier): number {
  let n = 0;
  for (const mod of m.modules()) if (mod instanceof nn.Conv1d || mod instanceof nn.Linear) n++;
  return n;
}

function inputs(
  batch: number,
  channels: number,
  length: number,
  rr: number,
  seed = 1,
): [Tensor, Tensor | null] {
  const g = new Generator(seed);
  return [
    randn([batch, channels, length], { generator: g }),
    rr > 0 ? randn([batch, rr], { generator: g }) : null,
  ];
}

const KINDS: BuiltinModelConfig[] = [
  { kind: 'beatnet', ...IO },
  { kind: 'resnet-teacher', ...IO },
  { kind: 'student', ...IO },
  { kind: 'student', ...IO, separable: true, channels: [8, 16, 16], kernels: [7, 5, 3] },
];

describe('built-in models', () => {
  it('registers beatnet, resnet-teacher and student', () => {
    expect(modelKinds()).toEqual(expect.arrayContaining(['beatnet', 'resnet-teacher', 'student']));
  });

  it.each(KINDS)('$kind: parameterCount and layerCount match the built module', (config) => {
    const m = createModel(config, { generator: new Generator(0) });
    expect(m.numParameters()).toBe(parameterCount(config));
    expect(countWeightLayers(m)).toBe(layerCount(config));
  });

  it.each(KINDS)('$kind: forward gives [N, classes] logits', (config) => {
    const m = createModel(config, { generator: new Generator(0) });
    const [x, rr] = inputs(3, 1, IO.length, IO.rrFeatures);
    m.eval();
    const y = noGrad(() => m.call(x, rr));
    expect(y.shape).toEqual([3, IO.classes]);
    for (const v of y.data) expect(Number.isFinite(v)).toBe(true);
  });

  it('builds the classes of each kind', () => {
    expect(createModel({ kind: 'beatnet', ...IO })).toBeInstanceOf(BeatNet);
    expect(createModel({ kind: 'resnet-teacher', ...IO })).toBeInstanceOf(ResNetTeacher);
    expect(createModel({ kind: 'student', ...IO })).toBeInstanceOf(Student);
  });

  it('BeatNet keeps the main job state-dict names (features.i, head)', () => {
    const keys = Object.keys(createModel({ kind: 'beatnet', ...IO }).stateDict());
    expect(keys).toContain('features.0.weight');
    expect(keys).toContain('features.1.runningMean');
    expect(keys).toContain('head.weight');
    expect(keys).toContain('head.bias');
  });

  it('the default teacher is deeper and larger than the default student and BeatNet', () => {
    const teacher = { kind: 'resnet-teacher', ...IO };
    expect(layerCount(teacher)).toBeGreaterThanOrEqual(10);
    for (const small of [
      { kind: 'student', ...IO },
      { kind: 'beatnet', ...IO },
    ]) {
      expect(layerCount(small)).toBeLessThan(layerCount(teacher));
      expect(parameterCount(small)).toBeLessThan(parameterCount(teacher));
    }
  });

  it('counts parameters by the documented formula (BeatNet, hand-computed)', () => {
    // Conv 1→8 k7: 56, BN 16; conv 8→16 k5: 640, BN 32; conv 16→32 k5: 2560, BN 64; Linear (32+4)→5: 185.
    expect(parameterCount({ kind: 'beatnet', ...IO })).toBe(56 + 16 + 640 + 32 + 2560 + 64 + 185);
  });

  it('parameterCount matches the built module for random configs of every kind', () => {
    const io = fc.record({
      inChannels: fc.integer({ min: 1, max: 3 }),
      length: fc.integer({ min: 32, max: 64 }),
      rrFeatures: fc.integer({ min: 0, max: 4 }),
      classes: fc.integer({ min: 2, max: 6 }),
    });
    const layers = fc.integer({ min: 1, max: 3 }).chain((n) =>
      fc.record({
        channels: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: n, maxLength: n }),
        kernels: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: n, maxLength: n }),
      }),
    );
    const config = fc.oneof(
      fc.tuple(io, layers).map(([a, b]): BuiltinModelConfig => ({ kind: 'beatnet', ...a, ...b })),
      fc
        .tuple(io, layers, fc.boolean())
        .map(([a, b, separable]): BuiltinModelConfig => ({ kind: 'student', ...a, ...b, separable })),
      fc
        .tuple(
          io,
          fc.array(
            fc.record({ channels: fc.integer({ min: 1, max: 8 }), blocks: fc.integer({ min: 1, max: 2 }) }),
            {
              minLength: 1,
              maxLength: 3,
            },
          ),
          fc.integer({ min: 1, max: 5 }),
        )
        .map(
          ([a, stages, kernel]): BuiltinModelConfig => ({
            kind: 'resnet-teacher',
            ...a,
            stages,
            kernel,
            stemChannels: 4,
          }),
        ),
    );
    fc.assert(
      fc.property(config, (c) => {
        const m = createModel(c, { generator: new Generator(1) });
        expect(m.numParameters()).toBe(parameterCount(c));
        expect(countWeightLayers(m)).toBe(layerCount(c));
      }),
      { numRuns: 40 },
    );
  });
});

describe('determinism and configs', () => {
  it.each(KINDS)('$kind: the same seed gives the same weights and dropout masks', (config) => {
    const a = createModel(config, { generator: new Generator(42) });
    const b = createModel(config, { generator: new Generator(42) });
    const c = createModel(config, { generator: new Generator(43) });
    const sa = a.stateDict();
    const sb = b.stateDict();
    const sc = c.stateDict();
    let differs = false;
    for (const k of Object.keys(sa)) {
      expect(Array.from(sb[k].data)).toEqual(Array.from(sa[k].data));
      if (Array.from(sc[k].data).some((v, i) => v !== sa[k].data[i])) differs = true;
    }
    expect(differs).toBe(true);
    // Training mode: dropout masks come from the model's generator, so the outputs agree too.
    const [x, rr] = inputs(4, 1, IO.length, IO.rrFeatures);
    const ya = noGrad(() => a.call(x, rr));
    const yb = noGrad(() => b.call(x, rr));
    expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
  });

  it.each(KINDS)('$kind: config survives a JSON round trip and rebuilds the same model', (config) => {
    const a = createModel(config, { generator: new Generator(3) });
    const json = JSON.parse(JSON.stringify(a.config)) as ModelConfig;
    expect(json).toEqual(a.config);
    expect(resolveConfig(json)).toEqual(a.config);
    const b = createModel(json, { generator: new Generator(99) });
    b.loadStateDict(a.stateDict());
    a.eval();
    b.eval();
    const [x, rr] = inputs(2, 1, IO.length, IO.rrFeatures, 5);
    const ya = noGrad(() => a.call(x, rr));
    const yb = noGrad(() => b.call(x, rr));
    expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
  });

  it('fills defaults into model.config', () => {
    expect(createModel({ kind: 'student', ...IO }).config).toEqual({
      kind: 'student',
      inChannels: 1,
      ...IO,
      channels: [8, 16],
      kernels: [7, 5],
      separable: false,
      pool: 2,
      dropout: 0.1,
    });
  });

  it('rejects bad configs with a ModelConfigError naming the problem', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ kind: 'nope', ...IO }, /unknown model kind "nope"/],
      [null, /unknown model kind/],
      [{ kind: 'beatnet', ...IO, chanels: [4] }, /unknown config field 'chanels'/],
      [
        { kind: 'beatnet', ...IO, channels: [8, 16], kernels: [3] },
        /kernels has 1 entries but channels has 2/,
      ],
      [{ kind: 'beatnet', ...IO, length: 4 }, /length 4 is too short/],
      [{ kind: 'beatnet', length: 126, classes: 5 }, /rrFeatures must be an integer ≥ 0/],
      [{ kind: 'student', ...IO, dropout: 1 }, /dropout must be a number in \[0, 1\)/],
      [{ kind: 'resnet-teacher', ...IO, stages: [{ channels: 8 }] }, /stages must be/],
      [{ kind: 'resnet-teacher', ...IO, stages: [] }, /stages must be/],
      [{ kind: 'student', ...IO, separable: 'yes' }, /separable must be a boolean/],
    ];
    for (const [config, msg] of bad) {
      expect(() => createModel(config as ModelConfig)).toThrow(ModelConfigError);
      expect(() => createModel(config as ModelConfig)).toThrow(msg);
    }
  });

  it('checks the inputs of forward', () => {
    const m = createModel({ kind: 'beatnet', ...IO });
    const [x, rr] = inputs(2, 1, IO.length, IO.rrFeatures);
    expect(() => m.call(x, null)).toThrow(/needs RR features \[N, 4\]/);
    expect(() => m.call(x, randn([3, 4]))).toThrow(/rr must be \[2, 4\]/);
    expect(() => m.call(randn([2, 2, 126]), rr)).toThrow(/window must be \[N, 1, L\]/);
    const noRr = createModel({ kind: 'beatnet', length: 126, rrFeatures: 0, classes: 3 });
    expect(noGrad(() => noRr.call(x)).shape).toEqual([2, 3]);
    expect(() => noRr.call(x, rr)).toThrow(/takes no RR features/);
  });
});

describe('registry', () => {
  it('takes new kinds and refuses duplicates', () => {
    const tiny: ModelKind = {
      kind: 'test-tiny-student',
      description: 'a student under another name',
      resolve: (c) => ({
        ...studentKind.resolve({ ...(c as object), kind: 'student' }),
        kind: 'test-tiny-student',
      }),
      parameterCount: (c) => studentKind.parameterCount({ ...(c as ResolvedStudentConfig), kind: 'student' }),
      layerCount: (c) => studentKind.layerCount({ ...(c as ResolvedStudentConfig), kind: 'student' }),
      build: (c, o) => new Student({ ...(c as ResolvedStudentConfig), kind: 'student' }, o),
    };
    registerModel(tiny);
    expect(modelKinds()).toContain('test-tiny-student');
    expect(parameterCount({ kind: 'test-tiny-student', ...IO } as ModelConfig)).toBe(
      parameterCount({ kind: 'student', ...IO }),
    );
    expect(() => registerModel(tiny)).toThrow(/already registered/);
    registerModel(tiny, { replace: true });
  });
});
