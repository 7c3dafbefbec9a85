/**
 * The deep teacher of the distillation method: a residual 1-D CNN (He et al. 2016, "Deep residual learning
 * for image recognition", basic blocks; in 1-D as in Hannun et al. 2019's ECG network), with the RR features
 * joined before the classifier like BeatNet.
 */
import { nn } from '@ecgnn/core';
import {
  type ClassifierIO,
  ConfigReader,
  convParams,
  IO_FIELDS,
  linearParams,
  type ResolvedIO,
} from './config.js';
import type { ModelKind } from './kind.js';
import {
  appendConvBlock,
  type BuildOptions,
  blockParams,
  checkPooledLength,
  PooledClassifier,
} from './pooled.js';

/** One stage of {@link ResNetTeacher}: `blocks` residual blocks of `channels` channels, then a max-pool. */
export interface ResNetStage {
  /** Channels of the stage's blocks. */
  channels: number;
  /** Residual blocks in the stage (two convolutions each). */
  blocks: number;
}

/** Config of {@link ResNetTeacher}. */
export interface ResNetTeacherConfig extends ClassifierIO {
  /** Registry kind. */
  kind: 'resnet-teacher';
  /** Channels of the stem convolution (default 16). */
  stemChannels?: number;
  /** Kernel of the stem convolution (default 7). */
  stemKernel?: number;
  /** Stages (default [{16, 2}, {32, 2}, {64, 2}]: 13 convolutions in the main path). */
  stages?: ResNetStage[];
  /** Kernel of the blocks' convolutions (default 5). */
  kernel?: number;
  /** Max-pool width after each stage (default 2; 1 = none). */
  pool?: number;
  /** Dropout between the two convolutions of each block (default 0). */
  blockDropout?: number;
  /** Dropout on the pooled features before the RR features join (default 0.3). */
  dropout?: number;
}

/** {@link ResNetTeacherConfig} with every default filled in. */
export type ResolvedResNetTeacherConfig = Required<ResNetTeacherConfig> & ResolvedIO;

/**
 * Residual 1-D CNN: stem Conv(k₀)→BN→ReLU, then per stage `blocks` basic blocks
 * y = ReLU(BN(Conv(ReLU(BN(Conv(x))))) + shortcut(x)) — shortcut the identity, or Conv1×1→BN where the
 * channels change — and a max-pool; global average pooling, dropout, RR features, Linear to the classes.
 * All convolutions use 'same' padding and no bias (the BatchNorm shift after each makes a bias redundant).
 *
 * Parameters: stem c₀·C·k₀ + 2c₀; a block from a to b channels: a·b·k + b·b·k + 4b, plus a·b + 2b when a ≠ b;
 * head (F + R + 1)·classes.
 */
export class ResNetTeacher extends PooledClassifier<ResolvedResNetTeacherConfig> {
  /** Builds the model from a resolved config (see {@link resNetTeacherKind}). */
  constructor(config: ResolvedResNetTeacherConfig, opts: BuildOptions = {}) {
    const g = opts.generator;
    const dtype = opts.dtype;
    const conv = (a: number, b: number, k: number): nn.Conv1d =>
      new nn.Conv1d(a, b, k, { padding: 'same', bias: false, generator: g, dtype });
    const trunk = new nn.Sequential();
    appendConvBlock(
      trunk,
      conv(config.inChannels, config.stemChannels, config.stemKernel),
      config.stemChannels,
      1,
      opts,
    );
    let inC = config.stemChannels;
    for (const stage of config.stages) {
      for (let b = 0; b < stage.blocks; b++) {
        const c = stage.channels;
        const body = new nn.Sequential(
          conv(inC, c, config.kernel),
          new nn.BatchNorm1d(c, { dtype }),
          new nn.ReLU(),
        );
        if (config.blockDropout > 0) body.append(new nn.Dropout(config.blockDropout, { generator: g }));
        body.append(conv(c, c, config.kernel));
        body.append(new nn.BatchNorm1d(c, { dtype }));
        const shortcut =
          inC === c ? null : new nn.Sequential(conv(inC, c, 1), new nn.BatchNorm1d(c, { dtype }));
        trunk.append(new nn.Sequential(new nn.Residual(body, shortcut), new nn.ReLU()));
        inC = c;
      }
      if (config.pool > 1) trunk.append(new nn.MaxPool1d(config.pool));
    }
    super(config, trunk, inC, config.dropout, opts);
  }
}

function readStages(r: ConfigReader): ResNetStage[] {
  const v = r.raw('stages') ?? [
    { channels: 16, blocks: 2 },
    { channels: 32, blocks: 2 },
    { channels: 64, blocks: 2 },
  ];
  const what = 'a non-empty array of { channels, blocks } with positive integers';
  if (!Array.isArray(v) || v.length === 0) r.error('stages', what, v);
  return v.map((s: unknown) => {
    const o = s as Record<string, unknown>;
    const ok =
      typeof s === 'object' &&
      s !== null &&
      Object.keys(o).every((k) => k === 'channels' || k === 'blocks') &&
      Number.isInteger(o.channels) &&
      (o.channels as number) >= 1 &&
      Number.isInteger(o.blocks) &&
      (o.blocks as number) >= 1;
    if (!ok) r.error('stages', what, v);
    return { channels: o.channels as number, blocks: o.blocks as number };
  });
}

/** The `'resnet-teacher'` kind of the model registry. */
export const resNetTeacherKind: ModelKind<ResolvedResNetTeacherConfig> = {
  kind: 'resnet-teacher',
  description:
    'residual 1-D CNN teacher: stem, stages of basic blocks with max-pools, RR features, linear head',
  resolve(config: unknown): ResolvedResNetTeacherConfig {
    const r = new ConfigReader('resnet-teacher', config, [
      ...IO_FIELDS,
      'stemChannels',
      'stemKernel',
      'stages',
      'kernel',
      'pool',
      'blockDropout',
      'dropout',
    ]);
    const resolved: ResolvedResNetTeacherConfig = {
      kind: 'resnet-teacher',
      ...r.io(),
      stemChannels: r.int('stemChannels', 16),
      stemKernel: r.int('stemKernel', 7),
      stages: readStages(r),
      kernel: r.int('kernel', 5),
      pool: r.int('pool', 2),
      blockDropout: r.probability('blockDropout', 0),
      dropout: r.probability('dropout', 0.3),
    };
    checkPooledLength('resnet-teacher', resolved.length, resolved.pool, resolved.stages.length);
    return resolved;
  },
  parameterCount(c: ResolvedResNetTeacherConfig): number {
    let n = blockParams(convParams(c.inChannels, c.stemChannels, c.stemKernel), c.stemChannels);
    let inC = c.stemChannels;
    for (const s of c.stages) {
      for (let b = 0; b < s.blocks; b++) {
        n += blockParams(convParams(inC, s.channels, c.kernel), s.channels);
        n += blockParams(convParams(s.channels, s.channels, c.kernel), s.channels);
        if (inC !== s.channels) n += blockParams(convParams(inC, s.channels, 1), s.channels);
        inC = s.channels;
      }
    }
    return n + linearParams(inC + c.rrFeatures, c.classes);
  },
  layerCount(c: ResolvedResNetTeacherConfig): number {
    let layers = 2; // stem and head
    let inC = c.stemChannels;
    for (const s of c.stages) {
      for (let b = 0; b < s.blocks; b++) {
        layers += inC === s.channels ? 2 : 3;
        inC = s.channels;
      }
    }
    return layers;
  },
  build(c: ResolvedResNetTeacherConfig, opts: BuildOptions): ResNetTeacher {
    return new ResNetTeacher(c, opts);
  },
};
