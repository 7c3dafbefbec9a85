/**
 * Magnitude pruning of a whole model for the lottery-ticket method (method 3; Frankle & Carbin 2019, "The
 * Lottery Ticket Hypothesis"), over @ecgnn/core's `nn.prune` (masks as `weight = weightOrig ⊙ weightMask`):
 *
 * - {@link pruneTargets}: the weights that are pruned — every Conv1d and Linear weight, the output layer (the last
 *   weight layer) excluded by default, as the method does (its few weights decide every class);
 * - {@link pruneModel}: one round, removing the fraction p of the still-unpruned weights with the smallest
 *   |w| either globally (one threshold over all targets) or per layer (p of each layer);
 * - {@link maskCounts} / {@link parameterCounts}: remaining weights and the compression factor
 *   dense parameters / non-zero parameters;
 * - {@link rewindCapture}: the weights to rewind to — the initial ones (step 0) or those after step k of the
 *   first training run ("late rewinding", Frankle et al. 2020, "Linear Mode Connectivity and the Lottery Ticket
 *   Hypothesis") — captured by a Trainer callback.
 *
 * Pruned weights stay exactly 0 through any optimizer step: the module's effective weight is recomputed as
 * `weightOrig ⊙ mask` on every read, so neither momentum nor weight decay acting on `weightOrig` can revive
 * them.
 */
import { nn, Tensor, ValueError } from '@ecgnn/core';
import type { TrainerCallbacks } from './trainer-options.js';

/** How a pruning round ranks weights: one threshold over all targets, or the same fraction of each layer. */
export type PruneScope = 'global' | 'layer';

/** One pruned weight tensor. */
export interface PruneTargetInfo {
  /** Dotted path of the layer (e.g. `features.0`). */
  path: string;
  /** The layer. */
  module: nn.AnyModule;
  /** Parameter name (always `weight`). */
  name: 'weight';
  /** Entries of the weight. */
  size: number;
}

/** Options of {@link pruneTargets}. */
export interface PruneTargetOptions {
  /** Leave the output layer (the last Conv1d/Linear in module order) dense (default true). */
  excludeOutput?: boolean;
  /** Paths of further layers to leave dense. */
  exclude?: readonly string[];
}

/** Whether `m` is a weight layer the method prunes (Conv1d or Linear). */
function isWeightLayer(m: nn.AnyModule): boolean {
  return m instanceof nn.Conv1d || m instanceof nn.Linear;
}

/** Paths of the weight layers (Conv1d, Linear) of `model`, in module order. */
export function weightLayerPaths(model: nn.AnyModule): string[] {
  return [...model.namedModules()].filter(([, m]) => isWeightLayer(m)).map(([p]) => p);
}

/**
 * The weights to prune: every Conv1d and Linear `weight` of `model` in module order, without the output
 * layer (unless `excludeOutput` is false) and the `exclude` paths. Biases, BatchNorm and other parameters are
 * never pruned. Throws a ValueError for an `exclude` path that names no weight layer, or when nothing is left.
 */
export function pruneTargets(model: nn.AnyModule, opts: PruneTargetOptions = {}): PruneTargetInfo[] {
  const layers = [...model.namedModules()].filter(([, m]) => isWeightLayer(m));
  if (layers.length === 0) throw new ValueError('pruneTargets: the model has no Conv1d or Linear layer');
  const paths = layers.map(([p]) => p);
  const exclude = new Set(opts.exclude ?? []);
  for (const p of exclude) {
    if (!paths.includes(p))
      throw new ValueError(
        `pruneTargets: exclude names '${p}', which is not a Conv1d/Linear layer (layers: ${paths.join(', ')})`,
      );
  }
  if (opts.excludeOutput ?? true) exclude.add(paths[paths.length - 1]);
  const targets = layers
    .filter(([p]) => !exclude.has(p))
    .map(([path, module]) => {
      const w = nn.prune.isPruned(module, 'weight')
        ? module.getParameter('weightOrig')
        : module.getParameter('weight');
      if (w == null) throw new ValueError(`pruneTargets: layer '${path}' has no weight parameter`);
      return { path, module, name: 'weight' as const, size: w.size };
    });
  if (targets.length === 0)
    throw new ValueError(
      `pruneTargets: every weight layer is excluded (layers: ${paths.join(', ')}); nothing to prune`,
    );
  return targets;
}

/** The `[module, 'weight']` pairs of `nn.prune`. */
function pairs(targets: readonly PruneTargetInfo[]): nn.prune.PruneTarget[] {
  return targets.map((t) => [t.module, t.name] as const);
}

/**
 * Puts an all-ones mask on every target that has none, so the model has its pruned form (`weightOrig`,
 * `weightMask` in the state dict) from the start and every later state dict — dense or pruned — has the same
 * keys. The outputs are unchanged (w · 1 = w exactly).
 */
export function preparePruning(targets: readonly PruneTargetInfo[]): void {
  for (const t of targets) {
    if (nn.prune.isPruned(t.module, t.name)) continue;
    const w = t.module.getParameter(t.name) as Tensor;
    const ones = new Tensor(new Float32Array(w.size).fill(1), w.shape);
    nn.prune.customFromMask(t.module, t.name, ones);
  }
}

function checkFraction(fraction: number, what: string): void {
  if (!(fraction > 0 && fraction < 1))
    throw new ValueError(`${what}: the pruning fraction must be in (0, 1), got ${fraction}`);
}

/**
 * One pruning round: removes the fraction `fraction` of the still-unpruned target weights with the smallest
 * |w| — over all targets at once (`global`, the method's default: layers with many redundant weights lose more)
 * or `fraction` of each layer (`layer`). Counts are k = round(fraction · remaining) (`nn.prune`), ties broken by
 * position. Returns the remaining counts.
 */
export function pruneModel(
  targets: readonly PruneTargetInfo[],
  fraction: number,
  scope: PruneScope = 'global',
): MaskCounts {
  checkFraction(fraction, 'pruneModel');
  preparePruning(targets);
  if (scope === 'global') nn.prune.globalUnstructured(pairs(targets), fraction);
  else if (scope === 'layer') for (const t of targets) nn.prune.l1Unstructured(t.module, t.name, fraction);
  else throw new ValueError(`pruneModel: scope must be 'global' or 'layer', got '${String(scope)}'`);
  return maskCounts(targets);
}

/** Remaining (mask 1) and total entries per target and over all targets. */
export interface MaskCounts {
  /** Per target, in order. */
  layers: Array<{ path: string; kept: number; total: number }>;
  /** Target weights still unpruned. */
  kept: number;
  /** All target weights. */
  total: number;
}

/** Counts the unpruned (mask ≠ 0) entries of each target (an unpruned target counts as all kept). */
export function maskCounts(targets: readonly PruneTargetInfo[]): MaskCounts {
  const layers = targets.map((t) => {
    const mask = nn.prune.isPruned(t.module, t.name) ? t.module.getBuffer(`${t.name}Mask`) : null;
    let kept = t.size;
    if (mask) {
      kept = 0;
      for (const v of mask.data) if (v !== 0) kept++;
    }
    return { path: t.path, kept, total: t.size };
  });
  return {
    layers,
    kept: layers.reduce((s, l) => s + l.kept, 0),
    total: layers.reduce((s, l) => s + l.total, 0),
  };
}

/** Parameters of a (pruned) model. */
export interface ParameterCounts {
  /** All trainable parameters of the dense model (a pruned weight counts with its full size). */
  dense: number;
  /** Parameters that are not zero: `dense` minus the pruned (or exactly zero) target weights. */
  nonZero: number;
  /** dense / nonZero, the method's compression factor. */
  compression: number;
}

/**
 * Dense and non-zero parameter counts and the compression factor dense / non-zero. Every parameter outside the
 * targets (biases, BatchNorm, the output layer) counts as non-zero, as it is stored.
 */
export function parameterCounts(model: nn.AnyModule, targets: readonly PruneTargetInfo[]): ParameterCounts {
  const dense = model.numParameters();
  const { zeros } = nn.prune.sparsity(pairs(targets));
  const nonZero = dense - zeros;
  return { dense, nonZero, compression: nonZero > 0 ? dense / nonZero : Number.POSITIVE_INFINITY };
}

/** The masks of the targets by path (a copy; all ones for an unpruned target). */
export function ticketMasks(targets: readonly PruneTargetInfo[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const t of targets) {
    const mask = nn.prune.isPruned(t.module, t.name) ? t.module.getBuffer(`${t.name}Mask`) : null;
    const w = (t.module.getParameter(`${t.name}Orig`) ?? t.module.getParameter(t.name)) as Tensor;
    out[t.path] = mask
      ? new Tensor(Float32Array.from(mask.data), mask.shape)
      : new Tensor(new Float32Array(w.size).fill(1), w.shape);
  }
  return out;
}

/**
 * Puts `masks` (from {@link ticketMasks}, keyed by layer path) on the targets, replacing any mask they have:
 * how a ticket's sparsity pattern is carried to another model (the random-reinitialisation control).
 * Throws a ValueError when a target has no mask in `masks` or a mask has no target.
 */
export function applyMasks(targets: readonly PruneTargetInfo[], masks: Record<string, Tensor>): void {
  const paths = new Set(targets.map((t) => t.path));
  for (const p of Object.keys(masks))
    if (!paths.has(p)) throw new ValueError(`applyMasks: mask for '${p}', which is not a pruned layer`);
  preparePruning(targets);
  for (const t of targets) {
    const m = masks[t.path];
    if (m === undefined) throw new ValueError(`applyMasks: no mask for layer '${t.path}'`);
    const buf = t.module.getBuffer(`${t.name}Mask`) as Tensor;
    if (m.size !== buf.size)
      throw new ValueError(`applyMasks: mask of '${t.path}' has ${m.size} entries, the weight ${buf.size}`);
    for (let i = 0; i < m.size; i++) buf.data[i] = m.data[i] !== 0 ? 1 : 0;
  }
}

/**
 * A Trainer callback capturing the model's state after optimizer step `step` (≥ 1) of the run it is passed
 * to — the late-rewinding point; `onCapture` receives a copy. For rewinding to the initial weights (step 0),
 * take `model.stateDict()` before training instead.
 */
export function rewindCapture(
  model: nn.AnyModule,
  step: number,
  onCapture: (state: nn.StateDict) => void,
): TrainerCallbacks {
  if (!Number.isInteger(step) || step < 1)
    throw new ValueError(`rewindCapture: step must be an integer ≥ 1, got ${step}`);
  return {
    onStep(info) {
      if (info.step === step) onCapture(model.stateDict());
    },
  };
}
