// Mini-batch and episode samplers. All are deterministic for a given seed, or draw from a caller's generator
// (see RandomOptions).
import type { Generator as KernelsGenerator } from '@ecgnn/kernels';
import { type RandomOptions, randomInt, resolveGenerator, shuffleInPlace } from './random.js';

function checkBatch(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be ≥ 1, got ${batchSize}`);
}

/**
 * Shuffled mini-batches over indices 0..n−1 for one epoch: a seeded permutation cut into
 * batches; the last, shorter batch is kept unless `dropLast`. The permutation is drawn when the
 * first batch is requested.
 *
 * @param random - seed (default 0) or {@link RandomOptions}
 */
export function* shuffledBatches(
  n: number,
  batchSize: number,
  random: number | RandomOptions = 0,
  dropLast = false,
): Generator<Int32Array> {
  checkBatch(batchSize);
  const g = resolveGenerator(random, 'shuffledBatches');
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  shuffleInPlace(g, idx);
  for (let s = 0; s < n; s += batchSize) {
    if (dropLast && s + batchSize > n) break;
    yield idx.slice(s, Math.min(n, s + batchSize));
  }
}

/**
 * Class-balanced batches: each item of each batch picks a class uniformly among the classes
 * present (labels ≥ 0), then an item of that class uniformly (with replacement). Each batch is
 * drawn when requested.
 *
 * @param labels - class per item (negative = ignored)
 * @param nBatches - number of batches to yield
 * @param random - seed (default 0) or {@link RandomOptions}
 */
export function* classBalancedBatches(
  labels: ArrayLike<number>,
  batchSize: number,
  nBatches: number,
  random: number | RandomOptions = 0,
): Generator<Int32Array> {
  checkBatch(batchSize);
  const g = resolveGenerator(random, 'classBalancedBatches');
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0) continue;
    const a = byClass.get(labels[i]);
    if (a) a.push(i);
    else byClass.set(labels[i], [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b).map((k) => byClass.get(k)!);
  if (classes.length === 0) throw new RangeError('classBalancedBatches: no labelled items');
  for (let b = 0; b < nBatches; b++) {
    const out = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      const c = classes[randomInt(g, classes.length)];
      out[i] = c[randomInt(g, c.length)];
    }
    yield out;
  }
}

/** Cumulative weights (Σ_{j≤i} w_j) for inverse-CDF draws; `who` names the caller in errors. */
function cumulativeWeights(weights: ArrayLike<number>, who: string): Float64Array {
  const n = weights.length;
  const cum = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`${who}: weight ${i} is ${w}`);
    acc += w;
    cum[i] = acc;
  }
  if (!(acc > 0)) throw new RangeError(`${who}: weights sum to zero`);
  return cum;
}

/** One index drawn with probability w_i / Σ w: the first i with cum[i] > u·Σ w (binary search). */
function drawWeighted(g: KernelsGenerator, cum: Float64Array): number {
  const u = g.random() * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Weighted sampling with replacement: item i is drawn with probability weights[i] / Σ weights
 * (inverse CDF by binary search over the cumulative weights). Each batch is drawn when requested.
 *
 * @param random - seed (default 0) or {@link RandomOptions}
 */
export function* weightedBatches(
  weights: ArrayLike<number>,
  batchSize: number,
  nBatches: number,
  random: number | RandomOptions = 0,
): Generator<Int32Array> {
  checkBatch(batchSize);
  const g = resolveGenerator(random, 'weightedBatches');
  const cum = cumulativeWeights(weights, 'weightedBatches');
  for (let b = 0; b < nBatches; b++) {
    const out = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) out[i] = drawWeighted(g, cum);
    yield out;
  }
}

/** Inverse-frequency weights per item (1 / count of its class), for {@link weightedBatches}. */
export function inverseFrequencyWeights(labels: ArrayLike<number>): Float64Array {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  const w = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) w[i] = labels[i] < 0 ? 0 : 1 / counts.get(labels[i])!;
  return w;
}

/** Options of {@link hardExampleBatches}. */
export interface HardExampleOptions extends RandomOptions {
  /** Candidates per batch item: each batch is the hardest `batchSize` of `poolFactor · batchSize` draws (default 4). */
  poolFactor?: number;
  /** Draw weights of the candidates (length n; default uniform), e.g. class shares as in {@link weightedBatches}. */
  weights?: ArrayLike<number>;
  /** First batch to yield: the draws of batches 0..start−1 are made (to keep the stream) but not scored. */
  start?: number;
}

/**
 * Hard-example batches (distillation method, claim 7: each batch the k items whose predictions differ most from
 * their labels, re-scored periodically), drawn with replacement so that an epoch never runs out of hard items:
 * batch b draws a candidate pool of m = `poolFactor · batchSize` items (uniformly, or by `weights`), asks
 * `scores(b)` for the current hardness of every item (the caller caches and re-scores periodically), and keeps
 * the `batchSize` candidates of highest score (ties: the earlier draw). m = k gives plain random batches;
 * m → ∞ the k hardest items of all. This is online hard-example mining (Shrivastava et al., CVPR 2016) over a
 * random pool: drawing the hardest items of an epoch without replacement instead leaves only easy (mostly
 * normal) beats for its last batches, and a model trained on them drifts back to the majority class.
 *
 * @param n - number of items
 * @param nBatches - batches to yield (batch indices `start` … nBatches−1)
 * @param scores - hardness of all n items before batch b (higher = harder)
 */
export function* hardExampleBatches(
  n: number,
  batchSize: number,
  nBatches: number,
  scores: (batch: number) => ArrayLike<number>,
  opts: HardExampleOptions = {},
): Generator<Int32Array> {
  checkBatch(batchSize);
  const m = opts.poolFactor ?? 4;
  if (!Number.isInteger(m) || m < 1)
    throw new RangeError(`hardExampleBatches: poolFactor must be an integer ≥ 1, got ${m}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`hardExampleBatches: n must be ≥ 1, got ${n}`);
  if (opts.weights !== undefined && opts.weights.length !== n)
    throw new RangeError(`hardExampleBatches: ${opts.weights.length} weights for ${n} items`);
  const start = opts.start ?? 0;
  if (!Number.isInteger(start) || start < 0)
    throw new RangeError(`hardExampleBatches: start must be an integer ≥ 0, got ${start}`);
  const g = resolveGenerator(opts, 'hardExampleBatches');
  const cum = opts.weights === undefined ? null : cumulativeWeights(opts.weights, 'hardExampleBatches');
  const pool = new Int32Array(m * batchSize);
  const pos = Array.from({ length: pool.length }, (_, i) => i);
  for (let b = 0; b < nBatches; b++) {
    for (let i = 0; i < pool.length; i++) pool[i] = cum === null ? randomInt(g, n) : drawWeighted(g, cum);
    if (b < start) continue;
    const s = scores(b);
    if (s.length !== n)
      throw new RangeError(`hardExampleBatches: scores gave ${s.length} values for ${n} items (batch ${b})`);
    for (let i = 0; i < pos.length; i++) pos[i] = i;
    // Stable sort by decreasing score: equal scores keep their draw order.
    pos.sort((a, c) => (s[pool[c]] as number) - (s[pool[a]] as number) || a - c);
    const out = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) out[i] = pool[pos[i]];
    yield out;
  }
}

/** Options of {@link EpisodeSampler} (random draws: `seed` or `generator`, see {@link RandomOptions}). */
export interface EpisodeOptions extends RandomOptions {
  /** M: classes per episode (1 < M < number of eligible classes, or ≤ with `allowAllClasses`). */
  ways: number;
  /** k: samples per class (1 < k < class size, or ≤). */
  shots: number;
  /** Width of the sliding sample groups (default M·k, one group = the whole episode). */
  groupWidth?: number;
  /** Classes never used (e.g. held out for meta-testing). */
  excludeClasses?: readonly number[];
  /** Patients never used (needs `patients`). */
  excludePatients?: readonly string[];
}

/** One meta-learning episode. */
export interface Episode {
  /** Original class labels of the M chosen classes (index = episode-local label). */
  classes: number[];
  /** Item indices of the shuffled sequence Ψ₁…Ψ_{M·k}. */
  indices: Int32Array;
  /** Episode-local label (0..M−1) of each item of the sequence. */
  labels: Int32Array;
  /** Sliding groups: group i covers sequence positions i … i + width − 1 (positions, not item indices). */
  groups: Int32Array[];
}

/**
 * Episode sampler of the meta-learning method: from the eligible classes pick M, from each pick k
 * items without replacement, shuffle them into a sequence, and form sliding groups of the given
 * width over it (group i = Ψ_i … Ψ_{i+w−1}). Classes and patients in the exclusion lists are never
 * sampled, so meta-test tasks can use unseen classes or patients.
 */
export class EpisodeSampler {
  private readonly byClass: Map<number, number[]>;
  private readonly g: KernelsGenerator;
  private readonly opts: EpisodeOptions;
  /** Eligible classes (with at least `shots` items after exclusions). */
  readonly eligibleClasses: number[];

  /**
   * @param labels - class per item
   * @param patients - patient id per item (required when excluding patients)
   */
  constructor(labels: ArrayLike<number>, opts: EpisodeOptions, patients?: readonly string[]) {
    this.opts = opts;
    const { ways, shots } = opts;
    if (!Number.isInteger(ways) || ways < 2)
      throw new RangeError(`EpisodeSampler: ways must be ≥ 2 (got ${ways})`);
    if (!Number.isInteger(shots) || shots < 1)
      throw new RangeError(`EpisodeSampler: shots must be ≥ 1 (got ${shots})`);
    if (opts.excludePatients && opts.excludePatients.length > 0 && !patients)
      throw new RangeError('EpisodeSampler: excludePatients needs the patients array');
    if (patients && patients.length !== labels.length)
      throw new RangeError('EpisodeSampler: patients and labels differ in length');
    const exC = new Set(opts.excludeClasses ?? []);
    const exP = new Set(opts.excludePatients ?? []);
    this.byClass = new Map();
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i];
      if (c < 0 || exC.has(c)) continue;
      if (patients && exP.has(patients[i])) continue;
      const a = this.byClass.get(c);
      if (a) a.push(i);
      else this.byClass.set(c, [i]);
    }
    this.eligibleClasses = [...this.byClass.keys()]
      .filter((c) => this.byClass.get(c)!.length >= shots)
      .sort((a, b) => a - b);
    if (this.eligibleClasses.length < ways)
      throw new RangeError(
        `EpisodeSampler: only ${this.eligibleClasses.length} classes have ≥ ${shots} eligible items, need ${ways}`,
      );
    const w = opts.groupWidth ?? ways * shots;
    if (!Number.isInteger(w) || w < 1 || w > ways * shots)
      throw new RangeError(`EpisodeSampler: groupWidth must be in 1..${ways * shots}`);
    this.g = resolveGenerator(opts, 'EpisodeSampler');
  }

  /** Samples the next episode. */
  sample(): Episode {
    const { ways, shots } = this.opts;
    const width = this.opts.groupWidth ?? ways * shots;
    const classes = shuffleInPlace(this.g, [...this.eligibleClasses]).slice(0, ways);
    const seq: { i: number; l: number }[] = [];
    classes.forEach((c, l) => {
      const pool = this.byClass.get(c)!;
      // partial Fisher–Yates on a copy: k distinct items
      const a = pool.slice();
      for (let j = 0; j < shots; j++) {
        const r = j + randomInt(this.g, a.length - j);
        const t = a[j];
        a[j] = a[r];
        a[r] = t;
        seq.push({ i: a[j], l });
      }
    });
    shuffleInPlace(this.g, seq);
    const indices = Int32Array.from(seq, (s) => s.i);
    const labels = Int32Array.from(seq, (s) => s.l);
    const groups: Int32Array[] = [];
    for (let g = 0; g + width <= seq.length; g++) {
      const grp = new Int32Array(width);
      for (let j = 0; j < width; j++) grp[j] = g + j;
      groups.push(grp);
    }
    return { classes, indices, labels, groups };
  }

  /**
   * Episodes until every eligible item has appeared at least once ("repeat until the library is
   * covered"), or `maxEpisodes` episodes.
   */
  *cover(maxEpisodes = 100_000): Generator<Episode> {
    const seen = new Set<number>();
    let total = 0;
    for (const c of this.eligibleClasses) total += this.byClass.get(c)!.length;
    for (let e = 0; e < maxEpisodes && seen.size < total; e++) {
      const ep = this.sample();
      for (const i of ep.indices) seen.add(i);
      yield ep;
    }
  }
}
