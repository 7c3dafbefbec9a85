/**
 * Settings of the lottery-ticket experiment (method 3): the model and its training are the distillation
 * experiment's (DISTILL_DEFAULTS: the same teacher and student architectures, SGD, weighted batches, stopping
 * rules, inter-patient data), so the pruned teacher compares with the distilled student; the pruning search adds
 * its fraction, goal, rewind point and round limit. Fixed before any test figure was seen.
 */
import type { ProgressMode } from '../progress.js';
import type { PruneScope } from '../prune.js';
import { BNN_RUN_DEFAULTS, BNN_SMOKE, type BnnSettings } from './bnn-config.js';
import { DISTILL_DEFAULTS, DISTILL_SMOKE, type DistillSettings } from './distill-config.js';

/**
 * The models the experiment prunes: the distillation teacher (the method's target) or student on MIT-BIH
 * beats, or the 17-class fragment model (the binary network's full-precision twin on `mitbih17`).
 */
export const LTH_MODELS = ['teacher', 'student', 'fragment'] as const;
/** One of {@link LTH_MODELS}. */
export type LthModelName = (typeof LTH_MODELS)[number];

/** The search's settings. */
export interface LthSearchSettings {
  /** Fraction of the remaining weights pruned per round. */
  fraction: number;
  /** Keep pruning while validation macro-F1 ≥ goal · dense. */
  goal: number;
  /** Rewind to the initial weights (0) or to those after this optimizer step of the dense run. */
  rewindStep: number;
  /** Global or per-layer magnitude ranking. */
  scope: PruneScope;
  /** Most pruning rounds. */
  maxRounds: number;
  /** Retries with half the fraction when a round breaks the goal. */
  retries: number;
  /** Train the random-reinitialisation control at the ticket's sparsity. */
  control: boolean;
  /**
   * After the goal breaks, keep pruning up to this round to trace macro-F1 against compression past the goal
   * (runs flagged `traced`, never the ticket; 0: no trace).
   */
  traceRounds: number;
  /**
   * Prune the output layer too (default false: it stays dense, as in Frankle & Carbin). The fragment model has
   * no dense layer: its last convolution (64 → classes, kernel 7) is the output layer and holds a fifth of the
   * weights, which caps the compression near 4× while it stays dense.
   */
  pruneOutput: boolean;
}

/** Settings of a run: the distillation experiment's data and training settings plus the search's. */
export interface LthSettings extends DistillSettings {
  /** The pruning search. */
  lth: LthSearchSettings;
  /** Data and training of the fragment model (the bnn experiment's, float twin). */
  fragment: BnnSettings;
}

/**
 * Full run. 20 % per round (Frankle & Carbin's rate for conv layers), goal 99 % of the dense validation
 * macro-F1 (LTH-ECG), rewinding to the initial weights, one half-fraction retry; 30 rounds reach
 * 0.8³⁰ ≈ 0.12 % of the prunable weights, beyond the method's 142×.
 */
export const LTH_DEFAULTS: LthSettings = {
  ...DISTILL_DEFAULTS,
  // 60 epochs per run instead of the bnn experiment's 300: a search trains ten or more runs.
  fragment: { ...BNN_RUN_DEFAULTS, epochs: 60 },
  lth: {
    fraction: 0.2,
    goal: 0.99,
    rewindStep: 0,
    scope: 'global',
    maxRounds: 30,
    retries: 1,
    control: true,
    traceRounds: 0,
    pruneOutput: false,
  },
};

/** Smoke run (tests): the distillation smoke models and data, 3 rounds of 40 %, a loose goal. */
export const LTH_SMOKE: LthSettings = {
  ...DISTILL_SMOKE,
  fragment: { ...BNN_SMOKE, epochs: 2, every: 4 },
  lth: {
    fraction: 0.4,
    goal: 0.5,
    rewindStep: 0,
    scope: 'global',
    maxRounds: 3,
    retries: 1,
    control: true,
    traceRounds: 0,
    pruneOutput: false,
  },
};

/** Options of {@link runLthExperiment} (experiments/lth.ts). */
export interface LthExperimentOptions {
  /** Directory holding `mitdb/` (default: @ecgnn/data's `dataDir()`). */
  dataDir?: string;
  /** Output directory: search checkpoints per model, round checkpoints, model files. */
  outDir: string;
  /** Seed of the initial weights, dropout and batches (the control's initial weights use seed + 1). */
  seed: number;
  /** Which model to prune (default teacher). */
  model?: LthModelName;
  /** Smoke run: {@link LTH_SMOKE} on the distillation smoke records. */
  smoke?: boolean;
  /** Overrides of the search settings (fraction, goal, rewind step, …). */
  search?: Partial<LthSearchSettings>;
  /** Most epochs of every training run (dense and each round). */
  epochs?: number;
  /** Settings replacing the defaults (the smoke flag picks {@link LTH_SMOKE}). */
  settings?: Partial<DistillSettings>;
  /** Continue from the checkpoints in `outDir`. */
  resume?: boolean;
  /** Progress display of the trainers (default 'auto'). */
  progress?: ProgressMode;
  /** The command, commit and date written into the rows and model provenance. */
  provenance: { command: string; commit: string; date: string; commitDirty?: boolean | null };
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

/** The settings of a run: defaults or smoke, the caller's overrides, the epoch override on the model's stage. */
export function lthSettings(
  opts: Pick<LthExperimentOptions, 'smoke' | 'settings' | 'search' | 'epochs'>,
): LthSettings {
  const base = opts.smoke ? LTH_SMOKE : LTH_DEFAULTS;
  const s: LthSettings = { ...base, ...opts.settings, lth: { ...base.lth, ...opts.search } };
  if (opts.epochs !== undefined) {
    s.teacherStage = { ...s.teacherStage, epochs: opts.epochs };
    s.studentStage = { ...s.studentStage, epochs: opts.epochs };
    s.fragment = { ...s.fragment, epochs: opts.epochs };
  }
  return s;
}
