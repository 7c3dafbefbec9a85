/**
 * The main job's model: a small 1-D CNN over one beat window, global average pooling, the beat's RR features
 * concatenated, and a linear layer to the five AAMI classes.
 */
import { concat, type Generator, Module, nn, type Tensor } from '@ecgnn/core';

/** Hyper-parameters of {@link BeatNet}. */
export interface BeatNetOptions {
  /** Samples per beat window. */
  length: number;
  /** RR features per beat (0: waveform only). */
  rrFeatures: number;
  /** Output classes. */
  classes: number;
  /** Channels of the conv blocks (default [8, 16, 32]). */
  channels?: readonly number[];
  /** Kernel size of each conv block (default [7, 5, 5]). */
  kernels?: readonly number[];
  /** Dropout probability on the pooled waveform features before the RR features join (default 0.3). */
  dropout?: number;
  /** Generator for the initial weights and dropout masks (determinism). */
  generator?: Generator;
}

/**
 * BeatNet: blocks of Conv1d('same' padding, no bias) → BatchNorm1d → ReLU → MaxPool1d(2) over the beat
 * `[N, 1, L]`, global average pooling to `[N, C]`, dropout (training only; it keeps the classifier from
 * leaning on waveform details of the few training patients alone), concatenation with the RR features `[N, R]`, and
 * Linear(C + R → classes) giving logits.
 */
export class BeatNet extends Module<[Tensor, Tensor | null], Tensor> {
  /** The convolutional trunk: `[N, 1, L]` → `[N, C, L']`. */
  declare readonly features: nn.Sequential;
  /** Global average pooling `[N, C, L']` → `[N, C]`. */
  declare readonly pool: nn.GlobalAvgPool1d;
  /** Dropout on the pooled waveform features (identity in evaluation mode). */
  declare readonly drop: nn.Dropout;
  /** Linear(C + R → classes). */
  declare readonly head: nn.Linear;
  /** The options the model was built with. */
  readonly options: Required<Omit<BeatNetOptions, 'generator'>>;

  /** Builds the model. */
  constructor(opts: BeatNetOptions) {
    super();
    const channels = opts.channels ?? [8, 16, 32];
    const kernels = opts.kernels ?? [7, 5, 5];
    if (channels.length !== kernels.length || channels.length === 0) {
      throw new RangeError('BeatNet: channels and kernels must be non-empty and of equal length');
    }
    this.options = {
      length: opts.length,
      rrFeatures: opts.rrFeatures,
      classes: opts.classes,
      channels: [...channels],
      kernels: [...kernels],
      dropout: opts.dropout ?? 0.3,
    };
    const g = opts.generator;
    const trunk = new nn.Sequential();
    let inC = 1;
    for (let i = 0; i < channels.length; i++) {
      // No conv bias: the BatchNorm shift that follows makes it redundant.
      trunk.append(
        new nn.Conv1d(inC, channels[i], kernels[i], { padding: 'same', bias: false, generator: g }),
      );
      trunk.append(new nn.BatchNorm1d(channels[i]));
      trunk.append(new nn.ReLU());
      trunk.append(new nn.MaxPool1d(2));
      inC = channels[i];
    }
    this.registerModule('features', trunk);
    this.registerModule('pool', new nn.GlobalAvgPool1d());
    this.registerModule('drop', new nn.Dropout(this.options.dropout, { generator: g }));
    this.registerModule('head', new nn.Linear(inC + opts.rrFeatures, opts.classes, { generator: g }));
  }

  /** `beat` `[N, 1, L]`, `rr` `[N, R]` (or null when R = 0) → logits `[N, classes]`. */
  forward(beat: Tensor, rr: Tensor | null): Tensor {
    const f = this.drop.call(this.pool.call(this.features.call(beat)));
    const joined = this.options.rrFeatures > 0 ? concat([f, rrOrThrow(rr)], 1) : f;
    return this.head.call(joined);
  }
}

function rrOrThrow(rr: Tensor | null): Tensor {
  if (rr === null) throw new RangeError('BeatNet: this model needs RR features');
  return rr;
}
