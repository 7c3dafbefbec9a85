/** Options, records and errors of the {@link Trainer} (trainer.ts). */
import { EcgnnError, type Generator, type nn, type optim, type Tensor } from '@ecgnn/core';
import type { StatefulScheduler } from './checkpoint.js';
import type { Dataset } from './dataset.js';
import type { EvaluateOptions, Evaluation, MonitorName } from './evaluate.js';
import type { Batch, DataLoader } from './loader.js';
import type { ProgressMode, ProgressStream } from './progress.js';

/** Raised when the loss or a gradient is not finite; names the step, epoch, batch and what was bad. */
export class TrainingDivergedError extends EcgnnError {
  /** Creates the error. */
  constructor(
    message: string,
    readonly step: number,
    readonly epoch: number,
    readonly batch: number,
  ) {
    super(message);
  }
}

/** A scheduler the trainer can step: an `optim` LR scheduler or ReduceLROnPlateau. */
export type TrainerScheduler = StatefulScheduler & { step(value?: number): void };

/** What a step callback sees. */
export interface StepInfo {
  /** Optimizer steps taken (this one included). */
  step: number;
  /** Epoch (0-based). */
  epoch: number;
  /** Batches done in this epoch. */
  batch: number;
  /** This batch's loss. */
  loss: number;
  /** Learning rate of the first parameter group during the step. */
  lr: number;
}

/** One epoch of the run's history. */
export interface EpochRecord {
  /** Epoch number, 1-based. */
  epoch: number;
  /** Optimizer steps at the end of the epoch. */
  step: number;
  /** Mean training loss over the epoch's items. */
  trainLoss: number;
  /** Learning rate at the end of the epoch (first group). */
  lr: number;
  /** Validation loss (null without validation). */
  valLoss: number | null;
  /** Validation accuracy, macro-F1, subset macro-F1, κ, jκ (single-label) or macro/micro-F1 (multi-label). */
  val: Record<string, number | null> | null;
  /** The monitored value (null when undefined). */
  monitor: number | null;
  /** Whether this epoch's weights are the best so far. */
  best: boolean;
  /** Seconds of training so far (across resumes). */
  seconds: number;
}

/** Callbacks of a run. `onEpochEnd` returning true stops training after that epoch. */
export interface TrainerCallbacks {
  /** Called after every optimizer step. */
  onStep?(info: StepInfo): void;
  /** Called after each epoch's validation; returning true stops training after this epoch. */
  onEpochEnd?(record: EpochRecord, evaluation: Evaluation | null): boolean | undefined;
}

/** Options of {@link Trainer}. */
export interface TrainerOptions {
  /** The model; called as `model.call(...batch.inputs)` for logits. */
  model: nn.AnyModule;
  /** The optimizer over the model's parameters. */
  optimizer: optim.Optimizer<optim.BaseOptions>;
  /** Training batches. */
  train: DataLoader;
  /** Validation set, evaluated after every epoch (the only split used for model selection). */
  validation?: Dataset | null;
  /** Epochs to train. */
  epochs: number;
  /** Stop after this many optimizer steps in all (default: no limit). */
  maxSteps?: number;
  /** LR schedule (default none). ReduceLROnPlateau is stepped with the monitored value each epoch. */
  scheduler?: TrainerScheduler | null;
  /** Step the (non-plateau) scheduler after every batch or every epoch (default 'epoch'). */
  schedulerInterval?: 'step' | 'epoch';
  /** Loss of logits on a batch (default cross-entropy, or BCE with logits for multi-label data). */
  loss?: (logits: Tensor, batch: Batch) => Tensor;
  /** Gradient clipping: by total norm, or by value (default none). */
  gradClip?: { maxNorm: number; normType?: number } | { value: number } | null;
  /** Validation quantity that picks the best epoch and drives early stopping (default 'loss'). */
  monitor?: MonitorName;
  /** Whether the monitored value should fall or rise (default 'min' for loss, 'max' otherwise). */
  mode?: 'min' | 'max';
  /**
   * Stop when the watched value has not improved by more than `minDelta` for `patience` epochs. It watches
   * `monitor` unless it names its own quantity (e.g. stop on a validation-loss plateau while the best epoch
   * is picked by validation macro-F1), with its own `mode` (default 'min' for loss, 'max' otherwise).
   */
  earlyStopping?: {
    patience: number;
    minDelta?: number;
    monitor?: MonitorName;
    mode?: 'min' | 'max';
  } | null;
  /** Load the best epoch's weights into the model when training ends (default true with validation). */
  restoreBest?: boolean;
  /** Directory of `last.ckpt` (every epoch end and every `checkpointEvery` steps) and `best.ckpt`. */
  checkpointDir?: string | null;
  /** Steps between mid-epoch checkpoints (default 0: at epoch ends only). */
  checkpointEvery?: number;
  /** JSON-lines log file (default none). */
  logFile?: string | null;
  /** Steps between step records in the log (default 10). */
  logEvery?: number;
  /** Progress display (default 'auto': a bar on a terminal, lines elsewhere). */
  progress?: ProgressMode;
  /** Where progress goes (default process.stderr). */
  progressStream?: ProgressStream;
  /** Callbacks. */
  callbacks?: TrainerCallbacks[];
  /**
   * More random generators whose state is checkpointed and restored. The model's own (any module's
   * `generator`, e.g. dropout masks) and @ecgnn/core's global default generator are always included.
   */
  generators?: Record<string, Generator>;
  /** Options of the validation pass. */
  evaluation?: EvaluateOptions;
  /** Anything to record in the log's start line (command, seed, configs). */
  describe?: Record<string, unknown>;
}

/** Why a run ended. */
export type StopReason = 'completed' | 'early-stopping' | 'max-steps' | 'callback';

/** Result of {@link Trainer.fit}. */
export interface TrainResult {
  /** One record per epoch. */
  history: EpochRecord[];
  /** Best epoch (1-based; 0 when no epoch was completed). */
  bestEpoch: number;
  /** Monitored value of the best epoch (null when never defined). */
  bestValue: number | null;
  /** Why training stopped. */
  stopReason: StopReason;
  /** Optimizer steps taken. */
  steps: number;
  /** Seconds of training (across resumes). */
  seconds: number;
}
