/**
 * The global default random generator of `@ecgnn/core`'s random ops. The generator itself ({@link Generator},
 * xoshiro128**) is defined in `@ecgnn/kernels`, the one PRNG of ecgnn, also used by `@ecgnn/data`'s samplers.
 */
import { Generator } from '@ecgnn/kernels';

export { Generator };

let defaultGen = new Generator(0);

/** Reseeds the global default generator. */
export function manualSeed(seed: number): void {
  defaultGen = new Generator(seed);
}

/** The global default generator (used when an op is not given one). */
export function defaultGenerator(): Generator {
  return defaultGen;
}
