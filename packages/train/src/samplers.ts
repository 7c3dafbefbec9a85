/**
 * Batch samplers of the data loader, described by plain JSON ({@link SamplerSpec}) so a run's log and
 * checkpoints say how batches were drawn. Epoch e of a sampler with seed s draws from its own seed
 * {@link epochSeed}(s, e), so any batch of any epoch can be regenerated: a resumed run skips the batches it
 * has already done. The hard-example sampler also depends on the model as training goes, so it keeps the
 * scores of its last re-scoring as explicit state.
 */
import { ValueError } from '@ecgnn/core';
import { classBalancedBatches, hardExampleBatches, shuffledBatches, weightedBatches } from '@ecgnn/data';

/** How a loader draws the batches of an epoch. */
export type SamplerSpec =
  /** Items in order, the last batch shorter (evaluation). */
  | { kind: 'sequential' }
  /** A fresh random permutation each epoch cut into batches; the last shorter one dropped with `dropLast`. */
  | { kind: 'shuffled'; dropLast?: boolean }
  /** Each item: a class uniformly among those present, then an item of it uniformly (with replacement). */
  | { kind: 'class-balanced'; batchesPerEpoch: number }
  /**
   * Items drawn with replacement so that class c fills `classShares[c]` of a batch on average (item weight
   * share_c / count_c); without shares, every class equally (inverse-frequency weights).
   */
  | { kind: 'weighted'; batchesPerEpoch: number; classShares?: number[] }
  /**
   * Hard-example batches (distillation method, claim 7): each batch is the k items the current model gets most
   * wrong (highest score) among a pool of `poolFactor`·k drawn with replacement (uniformly, or by
   * `classShares` as in `weighted`); every item is re-scored every `refreshEvery` batches (default once per
   * epoch, before its first batch). See @ecgnn/data's `hardExampleBatches`.
   */
  | {
      kind: 'hard-example';
      refreshEvery?: number;
      poolFactor?: number;
      classShares?: number[];
      batchesPerEpoch?: number;
    };

/** Scores items for the hard-example sampler: one number per index, higher = harder (e.g. per-item loss). */
export type HardnessScore = (indices: Int32Array) => ArrayLike<number>;

/** State of a sampler beyond its position (epoch, batch), for checkpoints. */
export interface SamplerState {
  /** Epoch the state belongs to. */
  epoch: number;
  /** Next batch of that epoch. */
  batch: number;
  /** Hardness of every item at the last re-scoring (hard-example), or null before the first. */
  scores: Float32Array | null;
}

/**
 * The seed of epoch `epoch` of a sampler seeded `seed`: a 32-bit multiplicative mix
 * (seed · 0x9E3779B1 + epoch + 1) mod 2³², the golden-ratio constant of Fibonacci hashing (Knuth, TAOCP
 * vol. 3, 6.4), so neighbouring seeds and epochs get unrelated streams.
 */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed | 0, 0x9e3779b1) + epoch + 1) >>> 0;
}

/** Draws the index batches of each epoch. */
export interface BatchSampler {
  /** The spec it was made from. */
  readonly spec: SamplerSpec;
  /** Batches per epoch. */
  readonly batchesPerEpoch: number;
  /** The batches of `epoch` (0-based) from batch `start` on. */
  epochBatches(epoch: number, start?: number): Generator<Int32Array>;
  /** Extra state needed to resume mid-epoch, or null when (epoch, batch) suffices. */
  state(): SamplerState | null;
  /** Restores {@link BatchSampler.state}. */
  loadState(state: SamplerState | null): void;
  /**
   * Per-item losses of a batch just drawn, from the training forward pass (before the optimizer step), with
   * the batch's item indices. The hard-example sampler writes them into its scores, so an item stops counting
   * as hard once it is learned, without waiting for the next full re-scoring. Optional; the Trainer calls it.
   */
  observe?(indices: Int32Array, losses: Float64Array): void;
}

function checkPositiveInt(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    throw new ValueError(`sampler: ${what} must be a positive integer, got ${v}`);
}

/** Per-item weights giving each class `shares[c]` of a batch on average: w_i = share_c / count_c. */
export function classShareWeights(
  labels: Int32Array,
  classes: number,
  shares?: readonly number[],
): Float64Array {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]++;
  if (shares !== undefined && shares.length !== classes) {
    throw new ValueError(`sampler: classShares has ${shares.length} entries for ${classes} classes`);
  }
  const w = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    const share = shares === undefined ? 1 : shares[c];
    if (!(share >= 0) || !Number.isFinite(share))
      throw new ValueError(`sampler: class share ${c} is ${share}`);
    w[i] = share / counts[c];
  }
  return w;
}

/** Skips the first `start` batches of `it` (regenerating them is cheap: indices only). */
function* from(it: Generator<Int32Array>, start: number): Generator<Int32Array> {
  let b = 0;
  for (const batch of it) {
    if (b++ >= start) yield batch;
  }
}

/** Sequential, shuffled, class-balanced and weighted samplers (position = (epoch, batch)). */
class SeededSampler implements BatchSampler {
  readonly batchesPerEpoch: number;
  private readonly weights: Float64Array | null;

  constructor(
    readonly spec: Exclude<SamplerSpec, { kind: 'hard-example' }>,
    private readonly labels: Int32Array,
    classes: number,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    const n = labels.length;
    this.weights = null;
    switch (spec.kind) {
      case 'sequential':
        this.batchesPerEpoch = Math.ceil(n / batchSize);
        break;
      case 'shuffled':
        this.batchesPerEpoch = spec.dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
        break;
      case 'class-balanced':
        checkPositiveInt('batchesPerEpoch', spec.batchesPerEpoch);
        this.batchesPerEpoch = spec.batchesPerEpoch;
        break;
      case 'weighted':
        checkPositiveInt('batchesPerEpoch', spec.batchesPerEpoch);
        this.batchesPerEpoch = spec.batchesPerEpoch;
        this.weights = classShareWeights(labels, classes, spec.classShares);
        break;
      default:
        throw new ValueError(`sampler: unknown kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
    }
  }

  *epochBatches(epoch: number, start = 0): Generator<Int32Array> {
    const n = this.labels.length;
    const bs = this.batchSize;
    const seed = epochSeed(this.seed, epoch);
    const spec = this.spec;
    if (spec.kind === 'sequential') {
      for (let s = start * bs; s < n; s += bs) {
        const idx = new Int32Array(Math.min(bs, n - s));
        for (let j = 0; j < idx.length; j++) idx[j] = s + j;
        yield idx;
      }
    } else if (spec.kind === 'shuffled') {
      yield* from(shuffledBatches(n, bs, seed, spec.dropLast ?? false), start);
    } else if (spec.kind === 'class-balanced') {
      yield* from(classBalancedBatches(this.labels, bs, this.batchesPerEpoch, seed), start);
    } else {
      yield* from(weightedBatches(this.weights as Float64Array, bs, this.batchesPerEpoch, seed), start);
    }
  }

  state(): SamplerState | null {
    return null;
  }

  loadState(state: SamplerState | null): void {
    if (state !== null) throw new ValueError(`sampler '${this.spec.kind}' has no state to restore`);
  }
}

/**
 * The hard-example sampler: @ecgnn/data's `hardExampleBatches` with the epoch's seed, the scores of all items
 * cached and recomputed before batch b of an epoch when b mod refreshEvery = 0, and the items of each trained
 * batch updated in between with their training losses ({@link BatchSampler.observe}); the cache is its state.
 */
class HardExampleSampler implements BatchSampler {
  readonly batchesPerEpoch: number;
  private readonly every: number;
  private readonly weights: Float64Array | undefined;
  private readonly all: Int32Array;
  private current: SamplerState | null = null;

  constructor(
    readonly spec: Extract<SamplerSpec, { kind: 'hard-example' }>,
    labels: Int32Array,
    classes: number,
    private readonly batchSize: number,
    private readonly seed: number,
    private readonly score: HardnessScore,
  ) {
    const n = labels.length;
    this.batchesPerEpoch = spec.batchesPerEpoch ?? Math.ceil(n / batchSize);
    checkPositiveInt('batchesPerEpoch', this.batchesPerEpoch);
    this.every = spec.refreshEvery ?? this.batchesPerEpoch;
    checkPositiveInt('refreshEvery', this.every);
    checkPositiveInt('poolFactor', spec.poolFactor ?? 4);
    this.weights =
      spec.classShares === undefined ? undefined : classShareWeights(labels, classes, spec.classShares);
    this.all = Int32Array.from({ length: n }, (_, i) => i);
  }

  *epochBatches(epoch: number, start = 0): Generator<Int32Array> {
    const saved = this.current;
    if (
      start !== 0 &&
      (saved === null || saved.epoch !== epoch || saved.batch !== start || saved.scores === null)
    ) {
      throw new ValueError(
        `hard-example sampler: cannot start epoch ${epoch} at batch ${start} without its saved state (have ${saved === null ? 'none' : `epoch ${saved.epoch} batch ${saved.batch}`})`,
      );
    }
    const st: SamplerState = start === 0 ? { epoch, batch: 0, scores: null } : (saved as SamplerState);
    this.current = st;
    const scores = (b: number): Float32Array => {
      if (b % this.every === 0 || st.scores === null) {
        const s = this.score(this.all);
        if (s.length !== this.all.length) {
          throw new ValueError(
            `hard-example sampler: score gave ${s.length} values for ${this.all.length} items`,
          );
        }
        st.scores = Float32Array.from(s);
      }
      return st.scores;
    };
    const batches = hardExampleBatches(this.all.length, this.batchSize, this.batchesPerEpoch, scores, {
      seed: epochSeed(this.seed, epoch),
      poolFactor: this.spec.poolFactor ?? 4,
      weights: this.weights,
      start,
    });
    for (const batch of batches) {
      st.batch++;
      yield batch;
    }
  }

  observe(indices: Int32Array, losses: Float64Array): void {
    const scores = this.current?.scores;
    if (scores === null || scores === undefined) return;
    for (let i = 0; i < indices.length; i++) scores[indices[i]] = losses[i];
  }

  state(): SamplerState | null {
    const c = this.current;
    return c === null ? null : { epoch: c.epoch, batch: c.batch, scores: c.scores?.slice() ?? null };
  }

  loadState(state: SamplerState | null): void {
    if (state !== null) {
      if (state.scores !== null && state.scores.length !== this.all.length) {
        throw new ValueError(
          `hard-example sampler: saved state scores ${state.scores.length} items, this data set has ${this.all.length}`,
        );
      }
      if (!Number.isInteger(state.batch) || state.batch < 0 || state.batch > this.batchesPerEpoch)
        throw new ValueError(
          `hard-example sampler: saved batch ${state.batch} outside 0..${this.batchesPerEpoch}`,
        );
    }
    this.current =
      state === null
        ? null
        : { epoch: state.epoch, batch: state.batch, scores: state.scores?.slice() ?? null };
  }
}

/** Options of {@link createSampler}. */
export interface SamplerOptions {
  /** Items per batch. */
  batchSize: number;
  /** Seed of the draws (epoch e uses {@link epochSeed}(seed, e)). */
  seed?: number;
  /** Scores of the hard-example sampler (required for it). */
  score?: HardnessScore;
}

/** The sampler `spec` describes over items with class `labels` (of `classes` classes). */
export function createSampler(
  spec: SamplerSpec,
  labels: Int32Array,
  classes: number,
  opts: SamplerOptions,
): BatchSampler {
  checkPositiveInt('batchSize', opts.batchSize);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ValueError(`sampler: seed must be an integer, got ${seed}`);
  if (spec.kind === 'hard-example') {
    if (opts.score === undefined) throw new ValueError('sampler: hard-example batches need a score function');
    return new HardExampleSampler(spec, labels, classes, opts.batchSize, seed, opts.score);
  }
  return new SeededSampler(spec, labels, classes, opts.batchSize, seed);
}
