/**
 * Batch samplers of the data loader, described by plain JSON ({@link SamplerSpec}) so a run's log and
 * checkpoints say how batches were drawn. Epoch e of a sampler with seed s draws from its own seed
 * {@link epochSeed}(s, e), so any batch of any epoch can be regenerated: a resumed run skips the batches it
 * has already done. The hard-example sampler depends on the model as training goes, so it keeps its
 * remaining order as explicit state instead.
 */
import { Generator as Prng, ValueError } from '@ecgnn/core';
import { classBalancedBatches, shuffledBatches, weightedBatches } from '@ecgnn/data';

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
   * Hard-example batches (distillation method, claim 7): each batch is the k remaining items of the epoch
   * the current model gets most wrong (highest score), re-scored every `refreshEvery` batches.
   */
  | { kind: 'hard-example'; refreshEvery?: number };

/** Scores items for the hard-example sampler: one number per index, higher = harder (e.g. per-item loss). */
export type HardnessScore = (indices: Int32Array) => ArrayLike<number>;

/** State of a sampler beyond its position (epoch, batch), for checkpoints. */
export interface SamplerState {
  /** Epoch the state belongs to. */
  epoch: number;
  /** Next batch of that epoch. */
  batch: number;
  /** Remaining items of the epoch in their current order (hard-example). */
  order: Int32Array;
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
 * The hard-example sampler: an epoch starts from all items in a seeded random order (the tie order); before
 * batch b (when b mod refreshEvery = 0) the remaining items are scored and stably sorted by decreasing
 * score; the batch is the first `batchSize` of them, which leave the epoch.
 */
class HardExampleSampler implements BatchSampler {
  readonly batchesPerEpoch: number;
  private readonly every: number;
  private current: SamplerState | null = null;

  constructor(
    readonly spec: Extract<SamplerSpec, { kind: 'hard-example' }>,
    private readonly n: number,
    private readonly batchSize: number,
    private readonly seed: number,
    private readonly score: HardnessScore,
  ) {
    this.every = spec.refreshEvery ?? 1;
    checkPositiveInt('refreshEvery', this.every);
    this.batchesPerEpoch = Math.ceil(n / batchSize);
  }

  private fresh(epoch: number): SamplerState {
    const order = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) order[i] = i;
    // Fisher–Yates with the epoch's generator: for i = n−1 … 1 swap order[i] with order[j], j uniform in [0, i].
    const g = new Prng(epochSeed(this.seed, epoch));
    for (let i = this.n - 1; i > 0; i--) {
      const j = g.randint(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return { epoch, batch: 0, order };
  }

  *epochBatches(epoch: number, start = 0): Generator<Int32Array> {
    let st = this.current;
    if (st === null || st.epoch !== epoch || st.batch !== start) {
      if (start !== 0) {
        throw new ValueError(
          `hard-example sampler: cannot start epoch ${epoch} at batch ${start} without its saved state (have ${st === null ? 'none' : `epoch ${st.epoch} batch ${st.batch}`})`,
        );
      }
      st = this.fresh(epoch);
    }
    this.current = st;
    while (st.order.length > 0) {
      if (st.batch % this.every === 0) {
        const s = this.score(st.order);
        if (s.length !== st.order.length) {
          throw new ValueError(
            `hard-example sampler: score gave ${s.length} values for ${st.order.length} items`,
          );
        }
        const pos = Array.from(st.order.keys());
        pos.sort((a, b) => (s[b] as number) - (s[a] as number)); // stable: ties keep the shuffled order
        st.order = Int32Array.from(pos, (p) => st!.order[p]);
      }
      const batch = st.order.slice(0, this.batchSize);
      st.order = st.order.slice(batch.length);
      st.batch++;
      yield batch;
    }
  }

  state(): SamplerState | null {
    return this.current === null
      ? null
      : { epoch: this.current.epoch, batch: this.current.batch, order: this.current.order.slice() };
  }

  loadState(state: SamplerState | null): void {
    if (state !== null) {
      for (const i of state.order) {
        if (!Number.isInteger(i) || i < 0 || i >= this.n)
          throw new ValueError(`hard-example sampler: saved item ${i} outside 0..${this.n - 1}`);
      }
    }
    this.current =
      state === null ? null : { epoch: state.epoch, batch: state.batch, order: state.order.slice() };
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
    return new HardExampleSampler(spec, labels.length, opts.batchSize, seed, opts.score);
  }
  return new SeededSampler(spec, labels, classes, opts.batchSize, seed);
}
