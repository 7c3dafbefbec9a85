/**
 * Settings of the distillation experiment (method 1, patent CN110558972A): the models, the optimiser, the
 * batch samplers, the stopping rules, and the smoke variant the tests run. Every value here was fixed before
 * any test-split figure was seen; what the validation split chooses (the epoch of each model, and with
 * `search` the learning rate and temperature) is chosen at run time.
 */
import type { ResNetTeacherConfig, StudentConfig } from '@ecgnn/models';
import type { ProgressMode } from '../progress.js';
import type { SamplerSpec } from '../samplers.js';

/** Which protocol the experiment follows. */
export type DistillProtocol = 'inter-patient' | 'intra-patient';

/** Batch samplers the experiment offers (`hard-example` for the teacher only, as the method describes). */
export type DistillSamplerName = 'hard-example' | 'shuffled' | 'class-balanced' | 'weighted';

/** Architecture fields of the teacher config (inputs and classes come from the data). */
export type TeacherArchitecture = Omit<ResNetTeacherConfig, 'kind' | 'length' | 'rrFeatures' | 'classes'>;
/** Architecture fields of the student config (inputs and classes come from the data). */
export type StudentArchitecture = Omit<StudentConfig, 'kind' | 'length' | 'rrFeatures' | 'classes'>;

/** SGD and stopping settings of one model. */
export interface StageSettings {
  /** Learning rate of SGD. */
  lr: number;
  /** Momentum of SGD. */
  momentum: number;
  /** L2 weight decay of SGD. */
  weightDecay: number;
  /** Most epochs (an epoch = as many items as the training set holds). */
  epochs: number;
  /**
   * What the plateau is of: the validation loss (default; "until the loss stabilises") or the selection metric,
   * validation macro-F1 over N, S, V, F (`'selection'`).
   */
  stopOn?: 'loss' | 'selection';
  /** Epochs without a validation-loss (or `stopOn`) improvement of more than `minDelta` before stopping. */
  patience: number;
  /** Smallest validation-loss decrease that counts as an improvement. */
  minDelta: number;
}

/** The fixed settings of a run (full or smoke). */
export interface DistillSettings {
  /** Items per batch. */
  batchSize: number;
  /** Teacher architecture (ResNet teacher of @ecgnn/models). */
  teacher: TeacherArchitecture;
  /** Student architecture: fewer layers AND fewer parameters than the teacher (checked at run time). */
  student: StudentArchitecture;
  /** Teacher optimisation. */
  teacherStage: StageSettings;
  /** Optimisation of both students (the same, so the two differ only in their loss). */
  studentStage: StageSettings;
  /**
   * Class shares per batch of the `weighted` sampler (N S V F Q): rare classes oversampled but not to full
   * balance — the main job's shares (DS1 holds only ~400 F and 8 Q beats).
   */
  classShares: number[];
  /** Hard-example batches: the hardest k of `hardPoolFactor`·k candidates drawn with the class shares. */
  hardPoolFactor: number;
  /** ReduceLROnPlateau on validation macro-F1: factor and patience (epochs). */
  plateauLr: { factor: number; patience: number };
  /** Gradient clipping by total L2 norm. */
  gradClipNorm: number;
  /** Steps between mid-epoch checkpoints (`last.ckpt`), so a killed run loses at most this many steps. */
  checkpointEvery: number;
  /** Learning-rate factors tried by `search` around each model's `lr`. */
  searchLrFactors: number[];
  /** Temperatures tried by `search` for the distilled student. */
  searchTemperatures: number[];
  /** Keep every `every`-th labelled beat of each record (1 = all). */
  every: number;
  /** Single-item calls per timed run and timed runs of the batch-1 latency. */
  latency: { perRun: number; runs: number };
  /** Fractions (train, validation, test) of the intra-patient random split. */
  intraFractions: [number, number, number];
}

/** Settings of the full run. */
export const DISTILL_DEFAULTS: DistillSettings = {
  batchSize: 64,
  // @ecgnn/models' default teacher: stem + 3 stages × 2 basic blocks (16, 32, 64 channels); 98,857 parameters.
  teacher: {},
  // Two conv blocks of 16 and 32 channels: 2,953 parameters, 3 weight layers (teacher: 16).
  student: { channels: [16, 32], kernels: [7, 5] },
  teacherStage: { lr: 0.05, momentum: 0.9, weightDecay: 1e-4, epochs: 30, patience: 4, minDelta: 1e-3 },
  studentStage: { lr: 0.05, momentum: 0.9, weightDecay: 1e-4, epochs: 60, patience: 6, minDelta: 1e-3 },
  classShares: [0.45, 0.25, 0.2, 0.08, 0.02],
  hardPoolFactor: 4,
  plateauLr: { factor: 0.3, patience: 2 },
  gradClipNorm: 5,
  checkpointEvery: 200,
  searchLrFactors: [1 / 3, 1, 3],
  searchTemperatures: [1, 2, 4],
  every: 1,
  latency: { perRun: 100, runs: 21 },
  intraFractions: [0.7, 0.1, 0.2],
};

/** Settings of the smoke run: tiny models, a few epochs, every 4th beat of a few records. */
export const DISTILL_SMOKE: DistillSettings = {
  ...DISTILL_DEFAULTS,
  // 2,993 parameters, 7 weight layers.
  teacher: {
    stemChannels: 8,
    stages: [
      { channels: 8, blocks: 1 },
      { channels: 16, blocks: 1 },
    ],
  },
  // 205 parameters, 3 weight layers.
  student: { channels: [4, 8], kernels: [5, 3] },
  teacherStage: { ...DISTILL_DEFAULTS.teacherStage, epochs: 3, patience: 2 },
  studentStage: { ...DISTILL_DEFAULTS.studentStage, epochs: 3, patience: 2 },
  searchLrFactors: [1, 3],
  searchTemperatures: [1, 4],
  every: 4,
  checkpointEvery: 5,
  latency: { perRun: 20, runs: 5 },
};

/**
 * Records of the smoke run. Training and validation: the DS1 records of the patient-wise split with the most
 * S + V beats (so both classes are seen); test: two DS2 records with many V and some S beats, fixed here so
 * that the smoke metrics are defined. Smoke figures are never results.
 */
export const SMOKE_RECORDS = { train: 3, validation: 1, test: ['200', '233'] } as const;

/** Options of {@link runDistillExperiment} (experiments/distill.ts). */
export interface DistillExperimentOptions {
  /** Directory holding `mitdb/` (default: @ecgnn/data's `dataDir()`). */
  dataDir?: string;
  /** Output directory: checkpoints and logs per model, the soft-label cache, model files, report. */
  outDir: string;
  /** Seed of weights, dropout and batch order (the students use seed + 1, both the same). */
  seed: number;
  /** Inter-patient DS1/DS2 (default) or the intra-patient random split over all records. */
  protocol?: DistillProtocol;
  /** Smoke run (tests): {@link DISTILL_SMOKE} on {@link SMOKE_RECORDS}. */
  smoke?: boolean;
  /** Teacher batches (default: `sampler`); `'hard-example'` is the method's hard-example batches. */
  teacherSampler?: DistillSamplerName;
  /** Batches of the students, and of the teacher unless `teacherSampler` says otherwise (default weighted). */
  sampler?: Exclude<DistillSamplerName, 'hard-example'>;
  /** Batches between re-scorings of the hard-example sampler (default: once per epoch). */
  hardRefresh?: number;
  /** Temperature T of the distillation loss (default 1: the method's loss). */
  temperature?: number;
  /** Form of the distillation loss: the method's (default) or Hinton's α-weighted one. */
  form?: 'patent' | 'hinton';
  /** α of the Hinton form (default 0.5). */
  alpha?: number;
  /**
   * Train, evaluate and export the teacher only (a sampler comparison): no soft labels, no students; the row id
   * names the teacher's sampler (`distill/teacher-shuffled`).
   */
  teacherOnly?: boolean;
  /** Choose learning rates (and the distillation temperature) on validation macro-F1 by a grid search. */
  search?: boolean;
  /** Continue from the checkpoints in `outDir` (finished models are reloaded, a killed one resumed). */
  resume?: boolean;
  /** Override the most epochs of the teacher. */
  teacherEpochs?: number;
  /** Override the most epochs of the students. */
  studentEpochs?: number;
  /** Override what every model's early stopping watches (see {@link StageSettings.stopOn}). */
  stopOn?: 'loss' | 'selection';
  /** Settings replacing the defaults (for experiments; the smoke flag picks {@link DISTILL_SMOKE}). */
  settings?: Partial<DistillSettings>;
  /** Progress display of the trainers (default 'auto'). */
  progress?: ProgressMode;
  /** The command, commit and date written into the results rows and model provenance. */
  provenance: { command: string; commit: string; date: string; commitDirty?: boolean | null };
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

/** The settings of a run: defaults or smoke, then the caller's overrides. */
export function distillSettings(
  opts: Pick<DistillExperimentOptions, 'smoke' | 'settings' | 'teacherEpochs' | 'studentEpochs' | 'stopOn'>,
): DistillSettings {
  const base = opts.smoke ? DISTILL_SMOKE : DISTILL_DEFAULTS;
  const s: DistillSettings = { ...base, ...opts.settings };
  return {
    ...s,
    teacherStage: {
      ...s.teacherStage,
      epochs: opts.teacherEpochs ?? s.teacherStage.epochs,
      ...(opts.stopOn ? { stopOn: opts.stopOn } : {}),
    },
    studentStage: {
      ...s.studentStage,
      epochs: opts.studentEpochs ?? s.studentStage.epochs,
      ...(opts.stopOn ? { stopOn: opts.stopOn } : {}),
    },
  };
}

/** The sampler spec of `name` for a training set of `count` items in batches of `batchSize`. */
export function samplerSpec(
  name: DistillSamplerName,
  count: number,
  settings: DistillSettings,
  hardRefresh?: number,
): SamplerSpec {
  const batches = Math.ceil(count / settings.batchSize);
  switch (name) {
    case 'hard-example':
      return {
        kind: 'hard-example',
        refreshEvery: hardRefresh ?? batches,
        poolFactor: settings.hardPoolFactor,
        classShares: [...settings.classShares],
        batchesPerEpoch: batches,
      };
    case 'shuffled':
      return { kind: 'shuffled' };
    case 'class-balanced':
      return { kind: 'class-balanced', batchesPerEpoch: batches };
    case 'weighted':
      return { kind: 'weighted', batchesPerEpoch: batches, classShares: [...settings.classShares] };
  }
}

/** One line describing a sampler spec. */
export function describeSampler(spec: SamplerSpec, batchSize: number): string {
  switch (spec.kind) {
    case 'hard-example':
      return `hard-example batches of ${batchSize} (the highest-loss ${batchSize} of ${(spec.poolFactor ?? 4) * batchSize} drawn with class shares ${spec.classShares?.map((s) => s.toFixed(2)).join('/') ?? 'uniform'}; all items re-scored every ${spec.refreshEvery} batches)`;
    case 'weighted':
      return `weighted batches of ${batchSize} (class shares ${spec.classShares?.map((s) => s.toFixed(2)).join('/')})`;
    case 'class-balanced':
      return `class-balanced batches of ${batchSize}`;
    default:
      return `${spec.kind} batches of ${batchSize}`;
  }
}
