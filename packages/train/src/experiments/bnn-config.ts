/**
 * Settings of the binary-network experiment (method 5, Pu et al. 2023): optimiser and schedule, the split, the
 * straight-through estimator and its sharpness schedule, and the smoke variant the tests run. Every value here
 * was fixed before any test-split figure was seen; the validation split chooses the epoch at run time.
 */
import type { BnnEstimator } from '@ecgnn/models';
import type { AugmentSpec } from '../augment.js';
import type { ProgressMode } from '../progress.js';

/** The two networks of the experiment: the binary one and its full-precision twin. */
export const BNN_VARIANTS = ['binary', 'float'] as const;
/** One of {@link BNN_VARIANTS}. */
export type BnnVariant = (typeof BNN_VARIANTS)[number];

/** The fragment sets: 17 classes (Plawiak 2018, `mitbih17`) or the 5 AAMI classes built from mitdb. */
export type BnnClassSet = 17 | 5;

/**
 * How fragments are split: `stratified` (random within each class, patients on both sides, as the reference
 * work but with a validation part) or `patient` (5-class set only: DS1 records for training and validation,
 * split by patient, DS2 records for test — de Chazal 2004).
 */
export type BnnProtocol = 'stratified' | 'patient';

/** The fixed settings of a run (full or smoke). */
export interface BnnSettings {
  /** Items per batch. */
  batchSize: number;
  /** Epochs (an epoch = one pass over the training items in a fresh random order). */
  epochs: number;
  /** Adam learning rate at epoch 0. */
  lr: number;
  /** Cosine annealing of the learning rate over `epochs` down to `lr · lrFinalFactor` (SGDR without restarts). */
  lrFinalFactor: number;
  /** L2 weight decay of Adam (applied to every parameter; 0 = none). */
  weightDecay: number;
  /** Dropout before the sum over time. */
  dropout: number;
  /** Surrogate gradient of sign. */
  estimator: BnnEstimator;
  /**
   * Sharpness s of the triangular estimator, raised geometrically from `from` (epoch 1) to `to` (last epoch):
   * s_e = from·(to/from)^(e/(E−1)). Ignored by the clipped estimator.
   */
  sharpness: { from: number; to: number };
  /** Per-output-channel scaling α of the binary weights (the method has none). */
  scale: 'none' | 'channel';
  /**
   * PReLU slopes: 'free' (the method's) or 'nonNegative' (clipped ≥ 0, so every binary block folds into
   * integer thresholds on export; see the model's `preluSlopes`).
   */
  preluSlopes: 'free' | 'nonNegative';
  /** Fractions (train, validation, test) of the stratified split. */
  fractions: [number, number, number];
  /** Seed of the split (fixed, so runs with different seeds share one test set). */
  splitSeed: number;
  /** Keep every `every`-th fragment of each class before splitting (1 = all; the smoke run takes a subset). */
  every: number;
  /** Gradient clipping by total L2 norm (null: none). */
  gradClipNorm: number | null;
  /** Random transforms of the training batches (null: none, the method's; row ids then end in `-aug`). */
  augment: AugmentSpec | null;
  /** Single-item calls per timed run and timed runs of the batch-1 latency. */
  latency: { perRun: number; runs: number };
}

/** Settings of the full run. */
export const BNN_RUN_DEFAULTS: BnnSettings = {
  batchSize: 32,
  epochs: 300,
  lr: 0.01,
  lrFinalFactor: 0.01,
  weightDecay: 0,
  dropout: 0.3,
  estimator: 'clipped',
  sharpness: { from: 1, to: 10 },
  scale: 'none',
  preluSlopes: 'free',
  fractions: [0.7, 0.1, 0.2],
  splitSeed: 0,
  every: 1,
  gradClipNorm: null,
  augment: null,
  latency: { perRun: 100, runs: 21 },
};

/** Settings of the smoke run: 1 in 2 fragments of each class, 4 epochs. Smoke figures are never results. */
export const BNN_SMOKE: BnnSettings = {
  ...BNN_RUN_DEFAULTS,
  epochs: 4,
  every: 2,
  latency: { perRun: 10, runs: 5 },
};

/** Options of {@link runBnnExperiment} (experiments/bnn.ts). */
export interface BnnExperimentOptions {
  /** Directory holding `mitbih17/` and `mitdb/` (default: @ecgnn/data's `dataDir()`). */
  dataDir?: string;
  /** Output directory: checkpoints and logs per variant, model files. */
  outDir: string;
  /** Seed of the initial weights, dropout and batch order. */
  seed: number;
  /** Class set (default 17). */
  classes?: BnnClassSet;
  /** Split protocol (default stratified; `patient` needs the 5-class set). */
  protocol?: BnnProtocol;
  /** Which networks to train (default both; the binary/float speed ratio needs both). */
  variants?: readonly BnnVariant[];
  /** Smoke run (tests): {@link BNN_SMOKE}. */
  smoke?: boolean;
  /** Override the number of epochs. */
  epochs?: number;
  /** Continue from the checkpoints in `outDir` (finished variants are reloaded, a killed one resumed). */
  resume?: boolean;
  /** Settings replacing the defaults (the smoke flag picks {@link BNN_SMOKE} first). */
  settings?: Partial<BnnSettings>;
  /** Progress display of the trainers (default 'auto'). */
  progress?: ProgressMode;
  /** The command, commit and date written into the results rows and model provenance. */
  provenance: { command: string; commit: string; date: string; commitDirty?: boolean | null };
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

/** The settings of a run: defaults or smoke, then the caller's overrides. */
export function bnnSettings(
  opts: Pick<BnnExperimentOptions, 'smoke' | 'settings' | 'epochs'> = {},
): BnnSettings {
  const base = opts.smoke ? BNN_SMOKE : BNN_RUN_DEFAULTS;
  return { ...base, ...opts.settings, epochs: opts.epochs ?? opts.settings?.epochs ?? base.epochs };
}

/** Sharpness of the triangular estimator at `epoch` (0-based) of `epochs` (see {@link BnnSettings}). */
export function sharpnessAt(epoch: number, epochs: number, s: BnnSettings['sharpness']): number {
  if (epochs <= 1) return s.from;
  const f = Math.min(1, Math.max(0, epoch / (epochs - 1)));
  return s.from * (s.to / s.from) ** f;
}
