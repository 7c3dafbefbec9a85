/**
 * The shape every classifier of this package shares: a convolutional trunk over the waveform window, global
 * average pooling over time, dropout, the RR features joined, and one linear layer to the classes.
 */
import { concat, type FloatDType, type Generator, Module, nn, ShapeError, type Tensor } from '@ecgnn/core';
import {
  batchNormParams,
  linearParams,
  type ModelConfig,
  ModelConfigError,
  type ResolvedIO,
} from './config.js';

/** Options of building a model (not part of its config: they do not change the architecture). */
export interface BuildOptions {
  /**
   * Generator for the initial weights and, kept by the dropout layers, for their masks during training (so a
   * run is deterministic for a seed). The global default generator of `@ecgnn/core` when omitted.
   */
  generator?: Generator;
  /** Dtype of parameters and buffers (default float32; float64 for gradient checks). */
  dtype?: FloatDType;
}

/**
 * A classifier over a waveform window `[N, C, L]` and optional RR features `[N, R]`, giving logits
 * `[N, classes]`. Every model of the registry is one; `config` rebuilds it with `createModel`.
 */
export abstract class EcgClassifier<C extends ModelConfig = ModelConfig> extends Module<
  [Tensor, (Tensor | null)?],
  Tensor
> {
  /** The complete config (defaults filled in) the model was built from; JSON-serialisable. */
  readonly config: C;

  /** Stores the config. */
  protected constructor(config: C) {
    super();
    this.config = config;
  }
}

/**
 * Trunk → global average pooling → dropout → concat RR → Linear. Subclasses build the trunk. Members are
 * registered as `features`, `pool`, `drop`, `head` (the state-dict names of the main job's BeatNet).
 */
export abstract class PooledClassifier<C extends ModelConfig & ResolvedIO> extends EcgClassifier<C> {
  /** The convolutional trunk: `[N, inChannels, L]` → `[N, F, L']`. */
  declare readonly features: nn.Sequential;
  /** Global average pooling `[N, F, L']` → `[N, F]`. */
  declare readonly pool: nn.GlobalAvgPool1d;
  /** Dropout on the pooled waveform features (identity in evaluation mode). */
  declare readonly drop: nn.Dropout;
  /** Linear(F + rrFeatures → classes). */
  declare readonly head: nn.Linear;

  /** Registers the trunk (with `trunkChannels` output channels) and the common tail. */
  protected constructor(
    config: C,
    trunk: nn.Sequential,
    trunkChannels: number,
    dropout: number,
    opts: BuildOptions,
  ) {
    super(config);
    const g = opts.generator;
    this.registerModule('features', trunk);
    this.registerModule('pool', new nn.GlobalAvgPool1d());
    this.registerModule('drop', new nn.Dropout(dropout, { generator: g }));
    this.registerModule(
      'head',
      new nn.Linear(trunkChannels + config.rrFeatures, config.classes, { generator: g, dtype: opts.dtype }),
    );
  }

  /**
   * `window` `[N, inChannels, L]`, `rr` `[N, rrFeatures]` (omitted or null when the model takes none) →
   * logits `[N, classes]`.
   */
  forward(window: Tensor, rr: Tensor | null = null): Tensor {
    const { inChannels, rrFeatures, kind } = this.config;
    if (window.ndim !== 3 || window.shape[1] !== inChannels) {
      throw new ShapeError(
        `${kind}: window must be [N, ${inChannels}, L], got ${`[${window.shape.join(', ')}]`}`,
      );
    }
    const f = this.drop.call(this.pool.call(this.features.call(window)));
    if (rrFeatures === 0) {
      if (rr !== null) throw new ShapeError(`${kind}: this model takes no RR features (rrFeatures 0)`);
      return this.head.call(f);
    }
    if (rr === null) throw new ShapeError(`${kind}: this model needs RR features [N, ${rrFeatures}]`);
    if (rr.ndim !== 2 || rr.shape[0] !== window.shape[0] || rr.shape[1] !== rrFeatures) {
      throw new ShapeError(
        `${kind}: rr must be [${window.shape[0]}, ${rrFeatures}] (one row per window), got ${`[${rr.shape.join(', ')}]`}`,
      );
    }
    return this.head.call(concat([f, rr], 1));
  }
}

/** Appends Conv → BatchNorm → ReLU (→ MaxPool when `pool` > 1) to `trunk`. Conv has no bias (BN shifts). */
export function appendConvBlock(
  trunk: nn.Sequential,
  conv: nn.TensorModule,
  channels: number,
  pool: number,
  opts: BuildOptions,
): void {
  trunk.append(conv);
  trunk.append(new nn.BatchNorm1d(channels, { dtype: opts.dtype }));
  trunk.append(new nn.ReLU());
  if (pool > 1) trunk.append(new nn.MaxPool1d(pool));
}

/** Parameters of the common tail: Linear(F + R → classes). */
export function tailParams(trunkChannels: number, io: ResolvedIO): number {
  return linearParams(trunkChannels + io.rrFeatures, io.classes);
}

/** Parameters of a Conv(no bias) → BN block: the conv's plus BN's γ, β. */
export function blockParams(conv: number, channels: number): number {
  return conv + batchNormParams(channels);
}

/** Length after `blocks` max-pools of width and stride `pool` (each: ⌊(L − p)/p⌋ + 1 = ⌊L/p⌋). */
export function pooledLength(length: number, pool: number, blocks: number): number {
  let l = length;
  for (let i = 0; i < blocks; i++) if (pool > 1) l = Math.floor(l / pool);
  return l;
}

/** Throws a {@link ModelConfigError} when `blocks` poolings of width `pool` leave no sample of `length`. */
export function checkPooledLength(kind: string, length: number, pool: number, blocks: number): void {
  if (pooledLength(length, pool, blocks) < 1) {
    throw new ModelConfigError(
      `${kind}: length ${length} is too short for ${blocks} max-pools of width ${pool} (needs ≥ ${pool ** blocks})`,
    );
  }
}
