/**
 * Settings of the meta-learning experiment (method 2): model widths, training lengths, episode settings and the
 * evaluation protocol, with the defaults of the full run and of the smoke run. Widths are reduced from the
 * method's (embedding 64/96/128/256 + 384, SNAIL Att(64,32) TC 128 Att(256,128) TC 128 Att(512,256)) so that a
 * whole run fits ~45 minutes of one CPU core in pure TypeScript.
 */
import type { EmbeddingConfig, SnailConfig } from '@ecgnn/models';
import type { ProgressMode } from '../progress.js';
import type { FewShotSetting, GroupMode } from './meta-episodes.js';

/** Everything a run needs besides the data. */
export interface MetaSettings {
  /** Embedding CNN (shared by the three methods). */
  embedding: Omit<EmbeddingConfig, 'length'>;
  /** SNAIL attention (K, V) pairs. */
  attention: [number, number][];
  /** SNAIL dense-block filters. */
  tcFilters: number;
  /** Settings meta-training draws from (one per episode, uniformly) and the evaluation reports. */
  settings: FewShotSetting[];
  /** SNAIL group formation. */
  groups: GroupMode;
  /**
   * How SNAIL's sample groups update the model: `episode` (default) — one optimizer step on the mean loss of an
   * episode's groups; `group` — the patent's sequence, one optimizer step per group in order, the parameters
   * after group i starting group i + 1 (methods.md §2).
   */
  update: 'episode' | 'group';
  /** Queries per class in a training episode (SNAIL groups, ProtoNet queries). */
  trainQueries: number;
  /** Training episodes of SNAIL and of the prototypical network (one optimizer step each, or one per group with `update: 'group'`). */
  metaSteps: number;
  /** Optimizer steps of the supervised model (fine-tuning baseline). */
  supervisedSteps: number;
  /** Batch size of the supervised model (class-balanced). */
  supervisedBatch: number;
  /** Outer optimizer of all three. */
  optimizer: 'adam' | 'sgd';
  /** Learning rate (Adam; SGD uses it with momentum 0.9). */
  lr: number;
  /** Validate (and checkpoint) every this many steps. */
  validateEvery: number;
  /** Validation tasks per setting (drawn once, fixed). */
  validationTasks: number;
  /** Meta-test tasks per setting (the same tasks for the three methods). */
  testTasks: number;
  /** Queries per class in an evaluation task. */
  evalQueries: number;
  /** Fine-tuning baseline: Adam steps and learning rate on the k shots. */
  finetune: { steps: number; lr: number };
  /** Beats kept per (record, class). */
  perRecordClass: number;
}

/** Defaults of the full run (chosen on validation, see docs/meta.md). */
export const META_DEFAULTS: MetaSettings = {
  embedding: { filters: [16, 24, 32, 32], embedDim: 32, dropout: 0.1 },
  attention: [
    [16, 8],
    [32, 16],
    [32, 16],
  ],
  tcFilters: 16,
  settings: [
    { ways: 2, shots: 1 },
    { ways: 2, shots: 5 },
    { ways: 5, shots: 1 },
    { ways: 5, shots: 5 },
  ],
  groups: 'balanced',
  update: 'episode',
  trainQueries: 1,
  metaSteps: 3000,
  supervisedSteps: 1500,
  supervisedBatch: 32,
  optimizer: 'adam',
  lr: 1e-3,
  validateEvery: 250,
  validationTasks: 100,
  testTasks: 1000,
  evalQueries: 1,
  finetune: { steps: 100, lr: 0.01 },
  perRecordClass: 300,
};

/** The smoke run: seconds, on the synthetic problem. */
export const META_SMOKE: MetaSettings = {
  ...META_DEFAULTS,
  embedding: { filters: [8, 8], embedDim: 16, dropout: 0 },
  attention: [
    [8, 4],
    [8, 4],
    [8, 4],
  ],
  tcFilters: 4,
  settings: [{ ways: 3, shots: 2 }],
  metaSteps: 60,
  supervisedSteps: 60,
  supervisedBatch: 16,
  lr: 3e-3,
  validateEvery: 30,
  validationTasks: 10,
  testTasks: 40,
  evalQueries: 2,
  finetune: { steps: 30, lr: 0.05 },
};

/** The SNAIL config for `settings` and beats of `length` samples: M and k are the largest of the settings. */
export function snailConfigOf(s: MetaSettings, length: number): SnailConfig {
  return {
    ways: Math.max(...s.settings.map((x) => x.ways)),
    shots: Math.max(...s.settings.map((x) => x.shots)),
    embedding: { ...s.embedding, length },
    attention: s.attention.map(([k, v]) => [k, v] as [number, number]),
    tcFilters: s.tcFilters,
  };
}

/** Options of `runMetaExperiment`. */
export interface MetaExperimentOptions {
  /** Settings (defaults: {@link META_DEFAULTS}). */
  settings: MetaSettings;
  /** Run seed (weights, episodes, tasks). */
  seed: number;
  /** Output directory (checkpoints, logs, report). */
  outDir: string;
  /** Resume from the checkpoints in outDir. */
  resume: boolean;
  /** Read the meta-test set and evaluate on it (false: validation only, for exploratory runs). */
  test: boolean;
  /** Which methods to train and evaluate. */
  methods: MetaMethod[];
  /** Progress display. */
  progress: ProgressMode;
  /** Log lines. */
  log: (line: string) => void;
  /** Command, commit, date of the rows. */
  provenance: { command: string; commit: string; date: string };
}

/** The three methods compared. */
export type MetaMethod = 'snail' | 'protonet' | 'finetune';

/** All methods, in report order. */
export const META_METHODS: readonly MetaMethod[] = ['snail', 'protonet', 'finetune'];

/** The settings a run may override (a command line's flags); an undefined value keeps the default. */
export type MetaSettingsOverrides = {
  [K in
    | 'settings'
    | 'metaSteps'
    | 'supervisedSteps'
    | 'groups'
    | 'update'
    | 'optimizer'
    | 'lr'
    | 'testTasks']?: MetaSettings[K] | undefined;
};

/** The settings of a run: {@link META_SMOKE} (smoke) or {@link META_DEFAULTS}, with the defined `overrides`. */
export function metaRunSettings(smoke: boolean, overrides: MetaSettingsOverrides = {}): MetaSettings {
  const base = smoke ? META_SMOKE : META_DEFAULTS;
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...base, ...defined };
}
