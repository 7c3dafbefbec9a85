// Random draws of the samplers, splits and synthetic ECG, over @ecgnn/kernels' `Generator` (xoshiro128**, the
// one PRNG of ecgnn): same seed, same draws on every platform, and a generator's state can be checkpointed.
import { Generator } from '@ecgnn/kernels';

/**
 * Where a sampler's random numbers come from (PyTorch style): `generator`, a {@link Generator} the caller owns
 * and whose stream the sampler advances (checkpoint it with `getState`/`setState` to resume a run exactly), or
 * else a fresh generator seeded with `seed` (default 0). Passing both is an error.
 */
export interface RandomOptions {
  /** Seed of a fresh generator (any 32-bit integer; default 0). */
  seed?: number;
  /** Generator to draw from (its stream advances). */
  generator?: Generator;
}

/**
 * The generator `opts` asks for (see {@link RandomOptions}); `opts` may be a bare seed.
 *
 * @param where - function name, for the error message
 * @throws RangeError when both `seed` and `generator` are given, or the seed is not an integer
 */
export function resolveGenerator(opts: number | RandomOptions | undefined, where: string): Generator {
  const o = typeof opts === 'number' ? { seed: opts } : (opts ?? {});
  if (o.generator !== undefined) {
    if (o.seed !== undefined) throw new RangeError(`${where}: pass seed or generator, not both`);
    // Checked by shape rather than instanceof, so a Generator from another copy of @ecgnn/kernels works too.
    if (typeof o.generator !== 'object' || typeof o.generator.random !== 'function')
      throw new RangeError(`${where}: generator must be an @ecgnn/kernels Generator`);
    return o.generator;
  }
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`${where}: seed must be an integer, got ${seed}`);
  return new Generator(seed);
}

/** Uniform integer in [0, n) from `g` (floor(u · n), u uniform in [0, 1) with 32 random bits). */
export function randomInt(g: Generator, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`randomInt: n must be an integer ≥ 1, got ${n}`);
  return Math.floor(g.random() * n);
}

/**
 * Fisher–Yates shuffle of `a` in place with draws from `g` (Knuth, TAOCP vol. 2, Algorithm 3.4.2 P: for
 * i = n−1 … 1, swap a[i] with a[j], j uniform in [0, i]); returns `a`.
 */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(g: Generator, a: T): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(g, i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
