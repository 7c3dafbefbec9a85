/**
 * Reference random kernels: fills from a seeded {@link Generator}, element i from the generator's i-th draw(s),
 * so the same seed gives the same values on every backend and platform.
 */
import type { FloatArray, TypedArray } from '../contract.js';
import type { Generator } from '../random.js';

/** `out[i] = low + (high − low)·u_i` with u_i = the generator's i-th `random()` in [0, 1). */
export function randomUniform(out: FloatArray, gen: Generator, low: number, high: number): void {
  const span = high - low;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = low + span * gen.random();
}

/** `out[i] = mean + std·z_i` with z_i the generator's i-th standard normal (Box–Muller, both values used). */
export function randomNormal(out: FloatArray, gen: Generator, mean: number, std: number): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = mean + std * gen.normal();
}

/** `out[i] = low + randint(high − low)`: uniform integers in [low, high). */
export function randomInt(out: TypedArray, gen: Generator, low: number, high: number): void {
  const span = high - low;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = low + gen.randint(span);
}

/**
 * A uniform random permutation of 0 … n−1 (n = out.length): the identity shuffled by Fisher–Yates, swapping
 * position i (from n−1 down to 1) with `randint(i + 1)`.
 */
export function randperm(out: Int32Array, gen: Generator): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = gen.randint(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
}

/**
 * Inverted-dropout mask: element i is dropped (0) when the generator's i-th `random()` is below p, else kept
 * with the scale 1/(1 − p) (0 when p = 1, where every element is dropped).
 */
export function dropoutMask(mask: FloatArray, gen: Generator, p: number): void {
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const n = mask.length;
  for (let i = 0; i < n; i++) mask[i] = gen.random() < p ? 0 : scale;
}
