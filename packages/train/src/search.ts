/**
 * A small hyper-parameter search: grid or random over a space of listed values, each trial scored by the
 * caller's objective on the VALIDATION split (the test split must never reach it: it is read once, by the
 * final evaluation), every trial logged as a JSON line.
 */
import { EcgnnError, Generator } from '@ecgnn/core';
import { JsonlLog } from './progress.js';

/** The values each hyper-parameter may take. */
export type SearchSpace<P> = { [K in keyof P]: readonly P[K][] };

/** What a trial's objective returns: its validation score, and anything else to log. */
export interface TrialOutcome {
  /** Validation score (higher is better with direction 'max'). */
  score: number;
  [extra: string]: unknown;
}

/** One trial of a search. */
export interface Trial<P> {
  /** Trial number, from 0. */
  trial: number;
  /** The hyper-parameters tried. */
  params: P;
  /** Validation score, or null when the objective failed or returned a non-finite score. */
  score: number | null;
  /** The objective's other outputs, or the error message of a failed trial. */
  details: Record<string, unknown>;
  /** Wall time of the trial, seconds. */
  seconds: number;
}

/** Options of {@link hyperparameterSearch}. */
export interface SearchOptions<P> {
  /** Values of each hyper-parameter. */
  space: SearchSpace<P>;
  /** Every combination (`grid`, default) or `trials` distinct random ones (`random`). */
  strategy?: 'grid' | 'random';
  /** Trials of a random search (default 10; all combinations when there are fewer). */
  trials?: number;
  /** Seed of the random choice (default 0). */
  seed?: number;
  /** Whether a higher (default) or lower score is better. */
  direction?: 'max' | 'min';
  /** JSON-lines log of the trials (default none). */
  logFile?: string | null;
  /** Trains with `params` and returns the VALIDATION score; may throw (the trial is recorded as failed). */
  objective: (params: P, trial: number) => TrialOutcome;
}

/** Result of {@link hyperparameterSearch}. */
export interface SearchResult<P> {
  /** The best trial (null when every trial failed). */
  best: Trial<P> | null;
  /** All trials, in the order they ran. */
  trials: Trial<P>[];
}

/** Combination `index` of the grid, in mixed radix with the last key varying fastest. */
function combination<P>(space: SearchSpace<P>, keys: Array<keyof P>, index: number): P {
  const out = {} as P;
  let rest = index;
  for (let k = keys.length - 1; k >= 0; k--) {
    const values = space[keys[k]];
    out[keys[k]] = values[rest % values.length];
    rest = Math.floor(rest / values.length);
  }
  return out;
}

/** Runs the search (see the module comment); trials run one after the other, in a deterministic order. */
export function hyperparameterSearch<P>(opts: SearchOptions<P>): SearchResult<P> {
  const keys = Object.keys(opts.space) as Array<keyof P>;
  if (keys.length === 0) throw new EcgnnError('hyperparameterSearch: empty space');
  let size = 1;
  for (const k of keys) {
    const v = opts.space[k];
    if (!Array.isArray(v) || v.length === 0)
      throw new EcgnnError(`hyperparameterSearch: '${String(k)}' has no values`);
    size *= v.length;
  }
  let order: number[];
  if ((opts.strategy ?? 'grid') === 'grid') order = Array.from({ length: size }, (_, i) => i);
  else {
    const n = Math.min(opts.trials ?? 10, size);
    if (!Number.isInteger(n) || n < 1)
      throw new EcgnnError(`hyperparameterSearch: trials must be ≥ 1, got ${opts.trials}`);
    // Distinct combinations by rejection (n ≤ size), drawn with the seeded generator.
    const g = new Generator(opts.seed ?? 0);
    const chosen = new Set<number>();
    order = [];
    while (order.length < n) {
      const i = g.randint(size);
      if (!chosen.has(i)) {
        chosen.add(i);
        order.push(i);
      }
    }
  }
  const log = opts.logFile ? new JsonlLog(opts.logFile) : null;
  const sign = (opts.direction ?? 'max') === 'max' ? 1 : -1;
  const trials: Trial<P>[] = [];
  let best: Trial<P> | null = null;
  order.forEach((index, trial) => {
    const params = combination(opts.space, keys, index);
    const t0 = performance.now();
    let score: number | null = null;
    let details: Record<string, unknown>;
    try {
      const { score: s, ...rest } = opts.objective(params, trial);
      score = Number.isFinite(s) ? s : null;
      details = rest;
    } catch (err) {
      details = { error: (err as Error).message };
    }
    const t: Trial<P> = { trial, params, score, details, seconds: (performance.now() - t0) / 1000 };
    trials.push(t);
    log?.write({ type: 'trial', ...t });
    if (score !== null && (best === null || sign * score > sign * (best.score as number))) best = t;
  });
  log?.write({ type: 'best', trial: best === null ? null : (best as Trial<P>).trial });
  return { best, trials };
}
