/**
 * What a segment model's file records about the split its experiment drew (the bnn and multiscale exporters
 * write it into the header's provenance), so that `ecgnn eval` rebuilds the same train/validation/test split
 * without the user repeating the run's `--seed`, `--every` or `--smoke`.
 */

/** The split fields of a model file's provenance. */
export interface SplitProvenance {
  /** Seed of the random split (the experiments' `splitSeed`). */
  splitSeed: number;
  /** The run kept every n-th item of each class or record before splitting. */
  every: number;
  /** Present (true) only for a smoke run: its splits are the smoke settings' subset. */
  smoke?: true;
}

/** The split fields to store for a run with `settings` (smoke runs flagged). */
export function splitProvenance(
  settings: { splitSeed: number; every: number },
  smoke: boolean,
): SplitProvenance {
  return { splitSeed: settings.splitSeed, every: settings.every, ...(smoke ? { smoke: true as const } : {}) };
}

/**
 * The split fields of a file's `provenance`, each only when present and well-formed (files written before
 * these fields existed have none: the caller's defaults apply).
 */
export function readSplitProvenance(provenance: Record<string, unknown>): Partial<{
  splitSeed: number;
  every: number;
  smoke: boolean;
}> {
  const out: Partial<{ splitSeed: number; every: number; smoke: boolean }> = {};
  const { splitSeed, every, smoke } = provenance;
  if (typeof splitSeed === 'number' && Number.isInteger(splitSeed)) out.splitSeed = splitSeed;
  if (typeof every === 'number' && Number.isInteger(every) && every >= 1) out.every = every;
  if (smoke === true) out.smoke = true;
  return out;
}
