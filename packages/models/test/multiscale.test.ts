/**
 * The multi-scale attention network (`kind: 'multiscale'`, method 4) and its MobileNet-style baseline
 * (`kind: 'mobilenet'`): registry, output shapes, parameter and layer counts against the built modules, the
 * channel growth of the dense stages, the structure of a multi-scale layer (one branch per kernel size,
 * squeeze-and-excitation), gradients reaching every parameter, seeded determinism and config errors.
 */
import { Generator, nn, noGrad, randn, sum, type Tensor } from '@ecgnn/core';
import { describe, expect, it } from 'vitest';
import {
  createModel,
  layerCount,
  MobileNet1d,
  type MobileNetConfig,
  ModelConfigError,
  type MultiScaleConfig,
  MultiScaleNet,
  modelKinds,
  multiScaleChannels,
  multiScaleKind,
  multiScaleLayer,
  multiScaleLayerParams,
  parameterCount,
  resolveConfig,
  stemLength,
} from '../src/index.js';

const MS: MultiScaleConfig = { kind: 'multiscale', length: 1200, rrFeatures: 0, classes: 10 };
const MB: MobileNetConfig = { kind: 'mobilenet', length: 1200, rrFeatures: 0, classes: 10 };

function weightLayers(m: nn.AnyModule): number {
  let n = 0;
  for (const [, c] of m.namedModules()) if (c instanceof nn.Conv1d || c instanceof nn.Linear) n++;
  return n;
}

describe('multiscale and mobilenet kinds', () => {
  it('are registered and rebuilt by createModel with their defaults filled', () => {
    expect(modelKinds()).toEqual(expect.arrayContaining(['multiscale', 'mobilenet']));
    const a = createModel(MS, { generator: new Generator(0) });
    const b = createModel(MB, { generator: new Generator(0) });
    expect(a).toBeInstanceOf(MultiScaleNet);
    expect(b).toBeInstanceOf(MobileNet1d);
    expect(a.config).toEqual(resolveConfig(MS));
    expect(resolveConfig(MS)).toMatchObject({
      kernels: [3, 5, 9, 15],
      branchChannels: 4,
      stages: 3,
      layers: 2,
    });
  });

  const configs: Array<MultiScaleConfig | MobileNetConfig> = [
    MS,
    { ...MS, kernels: [3, 7], branchChannels: 3, stages: 2, layers: 3, compression: 0.75, reduction: 2 },
    { ...MS, inChannels: 2, length: 360, stemStride: 1, stemPool: 1, pool: 1, classes: 3 },
    MB,
    { ...MB, channels: [8, 16], strides: [2, 1], kernel: 5, inChannels: 2, classes: 4 },
  ];
  for (const cfg of configs) {
    it(`${cfg.kind} ${JSON.stringify(cfg)}: counts match the module; logits [N, classes]`, () => {
      const m = createModel(cfg, { generator: new Generator(3) });
      expect(m.numParameters()).toBe(parameterCount(cfg));
      expect(weightLayers(m)).toBe(layerCount(cfg));
      m.eval();
      const inC = cfg.inChannels ?? 1;
      const y = noGrad(() => m.call(randn([2, inC, cfg.length], { generator: new Generator(1) }))) as Tensor;
      expect(y.shape).toEqual([2, cfg.classes]);
      expect([...y.data].every(Number.isFinite)).toBe(true);
    });
  }

  it('dense stages grow by K·b channels per layer; transitions keep ⌊compression·C⌋', () => {
    const c = multiScaleKind.resolve(MS);
    // stem 16; stage 1: 16 → 32 → 48, transition 24; stage 2: 24 → 40 → 56, transition 28; stage 3: 28 → 44 → 60.
    expect(multiScaleChannels(c)).toEqual({
      layers: [
        [16, 32],
        [24, 40],
        [28, 44],
      ],
      transitions: [
        [48, 24],
        [56, 28],
      ],
      out: 60,
    });
    // Stride 2, max-pool 2: 1200 → 600 → 300.
    expect(stemLength(1200, c)).toBe(300);
  });

  it('a multi-scale layer: one separable branch per kernel, concatenated, then squeeze-excitation', () => {
    const cfg = { kernels: [3, 5, 9], branchChannels: 2, reduction: 2 };
    const layer = multiScaleLayer(5, cfg, { generator: new Generator(0) });
    const parallel = layer.at(0) as nn.Parallel;
    expect(parallel).toBeInstanceOf(nn.Parallel);
    const branches = [...parallel.branches] as nn.Sequential[];
    expect(branches.map((b) => (b.at(0) as nn.DepthwiseSeparableConv1d).kernelSize)).toEqual([3, 5, 9]);
    expect(layer.at(1)).toBeInstanceOf(nn.SqueezeExcitation1d);
    expect(layer.numParameters()).toBe(multiScaleLayerParams(5, cfg));
    const dense = new nn.ConcatSkip(layer, 1);
    dense.eval();
    const x = randn([2, 5, 40], { generator: new Generator(2) });
    const y = noGrad(() => dense.call(x));
    expect(y.shape).toEqual([2, 5 + 3 * 2, 40]);
    // The dense connection passes the input through unchanged as the first channels.
    for (let i = 0; i < 2; i++)
      for (let t = 0; t < 5 * 40; t++) expect(y.data[i * 11 * 40 + t]).toBe(x.data[i * 5 * 40 + t]);
  });

  it('with the default widths the multi-scale network has fewer parameters than the baseline', () => {
    expect(parameterCount(MS)).toBeLessThan(parameterCount(MB));
  });

  for (const cfg of [MS, MB]) {
    it(`${cfg.kind}: every parameter gets a finite, non-zero gradient; same seed, same weights`, () => {
      const m = createModel({ ...cfg, length: 240 }, { generator: new Generator(5) });
      const initial = m.stateDict();
      const again = createModel({ ...cfg, length: 240 }, { generator: new Generator(5) }).stateDict();
      for (const k of Object.keys(initial)) expect([...again[k].data], k).toEqual([...initial[k].data]);
      m.train();
      const loss = sum(m.call(randn([3, 1, 240], { generator: new Generator(6) })) as Tensor);
      loss.backward();
      for (const [name, p] of m.namedParameters()) {
        const g = p.grad;
        expect(g, name).not.toBeNull();
        expect([...(g as Tensor).data].every(Number.isFinite), name).toBe(true);
        expect(
          [...(g as Tensor).data].some((v) => v !== 0),
          name,
        ).toBe(true);
      }
    });
  }

  it('bad configs raise a ModelConfigError naming the field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ ...MS, kernels: [3, 4] }, /kernels\[1\]/],
      [{ ...MS, compression: 0 }, /compression/],
      [{ ...MS, compression: 1.5 }, /compression/],
      [{ ...MS, branchChannels: 0 }, /branchChannels/],
      [{ ...MS, length: 8 }, /too short/],
      [{ ...MS, growth: 4 }, /unknown config field 'growth'/],
      [{ ...MB, strides: [1, 2] }, /strides has 2 entries/],
      [{ ...MB, kernel: 8 }, /kernel/],
      [{ ...MB, stemKernel: 6 }, /stemKernel/],
      [{ ...MB, length: 1 }, /too short/],
    ];
    for (const [cfg, re] of bad) {
      expect(() => resolveConfig(cfg as MultiScaleConfig), JSON.stringify(cfg)).toThrow(ModelConfigError);
      expect(() => resolveConfig(cfg as MultiScaleConfig), JSON.stringify(cfg)).toThrow(re);
    }
  });
});
