/**
 * The Trainer: epochs of optimizer steps over a data loader, validation after each epoch, the best weights
 * kept by a monitored validation quantity, early stopping on a plateau, LR schedules, gradient clipping,
 * callbacks, progress on a terminal, a JSON-lines log, and checkpoints from which `resume` continues a
 * killed run to bit-identical weights. A non-finite loss or gradient stops training with a
 * {@link TrainingDivergedError} naming the step; no checkpoint is written after it, so the last good one stays.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultGenerator,
  EcgnnError,
  Generator,
  nn,
  optim,
  type Parameter,
  type Tensor,
  tidy,
} from '@ecgnn/core';
import {
  type CheckpointParts,
  captureCheckpoint,
  loadCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
import type { CheckpointValue } from './checkpoint-format.js';
import {
  defaultLoss,
  evaluate,
  forwardBatch,
  itemCrossEntropy,
  type MonitorName,
  monitoredValue,
} from './evaluate.js';
import type { Batch } from './loader.js';
import { JsonlLog, type ProgressDisplay, progressDisplay } from './progress.js';
import {
  type EpochRecord,
  type StopReason,
  type TrainerOptions,
  TrainingDivergedError,
  type TrainResult,
} from './trainer-options.js';

interface Best {
  value: number;
  epoch: number;
}

/** Position and bookkeeping of a run (all of it goes into checkpoints). */
interface RunState {
  epoch: number;
  batch: number;
  step: number;
  lossSum: number;
  items: number;
  best: Best | null;
  plateauBest: number | null;
  badEpochs: number;
  history: EpochRecord[];
  seconds: number;
}

/**
 * The generators a run draws from: `extra` by name, every distinct `generator` held by a module of `model`
 * (named `module:<path>` after the first module holding it), and the global default as `default`.
 */
function collectGenerators(model: nn.AnyModule, extra: Record<string, Generator>): Record<string, Generator> {
  const out: Record<string, Generator> = { ...extra };
  const seen = new Set<Generator>(Object.values(extra));
  for (const [path, m] of model.namedModules()) {
    const g = (m as { generator?: unknown }).generator;
    if (g instanceof Generator && !seen.has(g)) {
      seen.add(g);
      out[`module:${path}`] = g;
    }
  }
  const d = defaultGenerator();
  if (!seen.has(d)) out.default = d;
  return out;
}

function freshState(): RunState {
  return {
    epoch: 0,
    batch: 0,
    step: 0,
    lossSum: 0,
    items: 0,
    best: null,
    plateauBest: null,
    badEpochs: 0,
    history: [],
    seconds: 0,
  };
}

/** Trains a model (see the module comment). */
export class Trainer {
  private readonly opts: TrainerOptions;
  private readonly mode: 'min' | 'max';
  private readonly monitor: MonitorName;
  private readonly generators: Record<string, Generator>;
  private readonly params: Array<[string, Parameter]>;
  /** Per-item losses handed to the sampler (reused across steps). */
  private itemLoss = new Float64Array(0);
  private readonly log: JsonlLog | null;
  private readonly progress: ProgressDisplay;
  private state: RunState = freshState();
  private bestState: nn.StateDict | null = null;

  /** Checks the options. */
  constructor(opts: TrainerOptions) {
    if (!Number.isInteger(opts.epochs) || opts.epochs < 1)
      throw new EcgnnError(`Trainer: epochs must be ≥ 1, got ${opts.epochs}`);
    const every = opts.checkpointEvery ?? 0;
    if (!Number.isInteger(every) || every < 0)
      throw new EcgnnError(`Trainer: checkpointEvery must be ≥ 0, got ${every}`);
    if (every > 0 && !opts.checkpointDir)
      throw new EcgnnError('Trainer: checkpointEvery needs a checkpointDir');
    const es = opts.earlyStopping;
    if (es && (!Number.isInteger(es.patience) || es.patience < 1)) {
      throw new EcgnnError(`Trainer: earlyStopping.patience must be ≥ 1, got ${es.patience}`);
    }
    this.opts = opts;
    this.monitor = opts.monitor ?? 'loss';
    this.mode = opts.mode ?? (this.monitor === 'loss' ? 'min' : 'max');
    this.generators = collectGenerators(opts.model, opts.generators ?? {});
    this.params = [...opts.model.namedParameters()];
    this.log = opts.logFile ? new JsonlLog(opts.logFile) : null;
    this.progress = progressDisplay(opts.progressStream ?? process.stderr, opts.progress ?? 'auto');
    if (opts.checkpointDir) mkdirSync(opts.checkpointDir, { recursive: true });
  }

  /** Path of the latest checkpoint (null without a checkpoint directory). */
  get lastCheckpointPath(): string | null {
    return this.opts.checkpointDir ? join(this.opts.checkpointDir, 'last.ckpt') : null;
  }

  /** Path of the best checkpoint (null without a checkpoint directory). */
  get bestCheckpointPath(): string | null {
    return this.opts.checkpointDir ? join(this.opts.checkpointDir, 'best.ckpt') : null;
  }

  private parts(): CheckpointParts {
    return {
      model: this.opts.model,
      optimizer: this.opts.optimizer,
      scheduler: this.opts.scheduler ?? null,
      sampler: this.opts.train.sampler,
      generators: this.generators,
    };
  }

  private extra(): Record<string, CheckpointValue> {
    const s = this.state;
    return {
      lossSum: s.lossSum,
      items: s.items,
      best: s.best as unknown as CheckpointValue,
      plateauBest: s.plateauBest,
      badEpochs: s.badEpochs,
      history: s.history as unknown as CheckpointValue,
      seconds: s.seconds,
    };
  }

  private save(path: string, kind: 'last' | 'best'): void {
    const ck = captureCheckpoint(
      this.parts(),
      { epoch: this.state.epoch, batch: this.state.batch, step: this.state.step },
      this.extra(),
    );
    saveCheckpoint(path, ck);
    this.log?.write({
      type: 'checkpoint',
      kind,
      path,
      step: this.state.step,
      epoch: this.state.epoch,
      batch: this.state.batch,
    });
  }

  private lr(): number {
    return this.opts.optimizer.paramGroups[0].lr;
  }

  private diverged(what: string): never {
    const s = this.state;
    const msg =
      `training diverged at step ${s.step + 1} (epoch ${s.epoch + 1}, batch ${s.batch + 1}): ${what}; ` +
      `stopped without updating the weights${this.lastCheckpointPath ? `; the last good checkpoint is ${this.lastCheckpointPath}` : ''}`;
    this.log?.write({ type: 'diverged', step: s.step + 1, epoch: s.epoch, batch: s.batch, message: msg });
    this.progress.line(msg);
    throw new TrainingDivergedError(msg, s.step + 1, s.epoch, s.batch);
  }

  /** One optimizer step on `batch`; returns the batch loss. */
  private trainStep(batch: Batch): number {
    const { model, optimizer } = this.opts;
    const lossFn = this.opts.loss ?? defaultLoss;
    return tidy(() => {
      optimizer.zeroGrad();
      const logits = forwardBatch(model, batch);
      this.observeLosses(logits, batch);
      const loss = lossFn(logits, batch);
      const value = loss.item();
      if (!Number.isFinite(value)) this.diverged(`the loss is ${value}`);
      loss.backward();
      for (const [name, p] of this.params) {
        const g = p.grad;
        if (g === null) continue;
        const d = g.data;
        for (let i = 0; i < d.length; i++) {
          if (!Number.isFinite(d[i])) this.diverged(`the gradient of '${name}' has ${d[i]} at element ${i}`);
        }
      }
      const clip = this.opts.gradClip;
      if (clip && 'maxNorm' in clip) nn.clipGradNorm(model.parameters(), clip.maxNorm, clip.normType ?? 2);
      else if (clip && 'value' in clip) nn.clipGradValue(model.parameters(), clip.value);
      optimizer.step();
      return value;
    });
  }

  /** Hands the sampler the batch's per-item cross-entropy when it asks for it (hard-example batches). */
  private observeLosses(logits: Tensor, batch: Batch): void {
    const sampler = this.opts.train.sampler;
    if (sampler.observe === undefined || batch.target !== null) return;
    if (this.itemLoss.length < batch.size) this.itemLoss = new Float64Array(batch.size);
    const losses = itemCrossEntropy(logits.data, batch.label.data, logits.shape[1], this.itemLoss);
    sampler.observe(batch.index, losses.subarray(0, batch.size));
  }

  private isBetter(value: number, than: number, delta: number, mode = this.mode): boolean {
    return mode === 'max' ? value > than + delta : value < than - delta;
  }

  /** Validation, best tracking, schedules and early stopping at the end of an epoch; true = stop. */
  private endEpoch(t0: number): boolean {
    const s = this.state;
    const { validation, scheduler } = this.opts;
    const trainLoss = s.items > 0 ? s.lossSum / s.items : Number.NaN;
    const evaluation = validation ? evaluate(this.opts.model, validation, this.opts.evaluation) : null;
    const value = evaluation
      ? monitoredValue(evaluation, this.monitor)
      : this.monitor === 'loss'
        ? trainLoss
        : null;
    const improved = value !== null && (s.best === null || this.isBetter(value, s.best.value, 0));
    if (improved) s.best = { value, epoch: s.epoch + 1 };
    const val: Record<string, number | null> | null = evaluation
      ? evaluation.metrics
        ? {
            accuracy: evaluation.metrics.accuracy,
            macroF1: evaluation.metrics.macroF1,
            subsetMacroF1: evaluation.metrics.subsetMacroF1,
            kappa: evaluation.metrics.kappa,
            jk: evaluation.metrics.jk,
          }
        : { macroF1: evaluation.multiLabel?.macroF1 ?? null, microF1: evaluation.multiLabel?.microF1 ?? null }
      : null;
    const record: EpochRecord = {
      epoch: s.epoch + 1,
      step: s.step,
      trainLoss,
      lr: this.lr(),
      valLoss: evaluation ? evaluation.loss : null,
      val,
      monitor: value,
      best: improved,
      seconds: (performance.now() - t0) / 1000,
    };
    s.history.push(record);
    if (improved) {
      this.bestState = this.opts.model.stateDict();
      const path = this.bestCheckpointPath;
      if (path) this.save(path, 'best');
    }
    if (scheduler) {
      if (scheduler instanceof optim.ReduceLROnPlateau) {
        if (value !== null) scheduler.step(value);
      } else if ((this.opts.schedulerInterval ?? 'epoch') === 'epoch') scheduler.step();
    }
    let stop = false;
    const es = this.opts.earlyStopping;
    // The plateau watches `monitor` unless early stopping names its own quantity.
    const esMonitor = es?.monitor ?? this.monitor;
    const esValue =
      esMonitor === this.monitor
        ? value
        : evaluation
          ? monitoredValue(evaluation, esMonitor)
          : esMonitor === 'loss'
            ? trainLoss
            : null;
    const esMode = es?.mode ?? (es?.monitor === undefined ? this.mode : esMonitor === 'loss' ? 'min' : 'max');
    if (es && esValue !== null) {
      if (s.plateauBest === null || this.isBetter(esValue, s.plateauBest, es.minDelta ?? 0, esMode)) {
        s.plateauBest = esValue;
        s.badEpochs = 0;
      } else s.badEpochs++;
      if (s.badEpochs >= es.patience) stop = true;
    }
    for (const cb of this.opts.callbacks ?? []) if (cb.onEpochEnd?.(record, evaluation) === true) stop = true;
    const fmt = (x: number | null | undefined): string => (typeof x === 'number' ? x.toFixed(4) : '–');
    this.progress.line(
      `epoch ${record.epoch}/${this.opts.epochs}  loss ${fmt(trainLoss)}  val ${this.monitor} ${fmt(value)}` +
        `  lr ${this.lr().toPrecision(3)}  ${record.seconds.toFixed(0)} s${improved ? '  (best so far)' : ''}`,
    );
    this.log?.write({ type: 'epoch', ...record });
    return stop;
  }

  /**
   * Trains from the current state (the start, or where {@link Trainer.resume} put it) to the end: all epochs,
   * `maxSteps`, early stopping or a callback's stop. Deterministic for fixed seeds (model init, sampler,
   * generators). Throws {@link TrainingDivergedError} on a non-finite loss or gradient.
   */
  fit(): TrainResult {
    const { model, train, epochs } = this.opts;
    const s = this.state;
    const t0 = performance.now() - s.seconds * 1000;
    const every = this.opts.checkpointEvery ?? 0;
    const logEvery = this.opts.logEvery ?? 10;
    const stepScheduler =
      this.opts.scheduler &&
      !(this.opts.scheduler instanceof optim.ReduceLROnPlateau) &&
      this.opts.schedulerInterval === 'step'
        ? this.opts.scheduler
        : null;
    if (s.step === 0 && s.batch === 0 && s.epoch === 0) {
      this.log?.write({
        type: 'start',
        epochs,
        batchesPerEpoch: train.batchesPerEpoch,
        batchSize: train.batchSize,
        sampler: train.sampler.spec,
        monitor: this.monitor,
        mode: this.mode,
        parameters: model.numParameters(),
        ...this.opts.describe,
      });
    }
    let stopReason: StopReason = 'completed';
    const maxSteps = this.opts.maxSteps ?? Number.POSITIVE_INFINITY;
    while (s.epoch < epochs && stopReason === 'completed') {
      model.train();
      this.progress.startEpoch(s.epoch + 1, epochs, train.batchesPerEpoch, s.batch);
      for (const batch of train.epoch(s.epoch, s.batch)) {
        if (s.step >= maxSteps) {
          stopReason = 'max-steps';
          break;
        }
        const lr = this.lr();
        const loss = this.trainStep(batch);
        stepScheduler?.step();
        s.step++;
        s.batch++;
        s.lossSum += loss * batch.size;
        s.items += batch.size;
        for (const cb of this.opts.callbacks ?? [])
          cb.onStep?.({ step: s.step, epoch: s.epoch, batch: s.batch, loss, lr });
        if (s.step % logEvery === 0)
          this.log?.write({ type: 'step', step: s.step, epoch: s.epoch, batch: s.batch, loss, lr });
        this.progress.update(s.batch, batch.size, s.lossSum / s.items);
        s.seconds = (performance.now() - t0) / 1000;
        const path = this.lastCheckpointPath;
        if (every > 0 && path && s.step % every === 0 && s.batch < train.batchesPerEpoch)
          this.save(path, 'last');
      }
      if (stopReason !== 'completed') break;
      s.seconds = (performance.now() - t0) / 1000;
      const stop = this.endEpoch(t0);
      s.epoch++;
      s.batch = 0;
      s.lossSum = 0;
      s.items = 0;
      s.seconds = (performance.now() - t0) / 1000;
      const path = this.lastCheckpointPath;
      if (path) this.save(path, 'last');
      if (stop) stopReason = this.stoppedEarly() ? 'early-stopping' : 'callback';
    }
    if ((this.opts.restoreBest ?? Boolean(this.opts.validation)) && this.bestState !== null) {
      model.loadStateDict(this.bestState);
    }
    model.eval();
    this.log?.write({ type: 'stop', reason: stopReason, step: s.step, best: s.best });
    return {
      history: [...s.history],
      bestEpoch: s.best?.epoch ?? 0,
      bestValue: s.best?.value ?? null,
      stopReason,
      steps: s.step,
      seconds: s.seconds,
    };
  }

  private stoppedEarly(): boolean {
    const es = this.opts.earlyStopping;
    return Boolean(es) && this.state.badEpochs >= (es?.patience ?? Number.POSITIVE_INFINITY);
  }

  /**
   * Restores the run from the checkpoint at `path` (default the checkpoint directory's `last.ckpt`) into this
   * trainer's model, optimizer, scheduler, sampler and generators — built exactly as for the original run —
   * and continues it with {@link Trainer.fit}. The result equals the uninterrupted run's bit for bit.
   */
  resume(path: string | null = this.lastCheckpointPath): TrainResult {
    if (path === null) throw new EcgnnError('Trainer.resume: no checkpoint path and no checkpointDir');
    const ck = loadCheckpoint(path);
    restoreCheckpoint(ck, this.parts(), path);
    const x = ck.extra as Record<string, unknown>;
    this.state = {
      epoch: ck.progress.epoch,
      batch: ck.progress.batch,
      step: ck.progress.step,
      lossSum: x.lossSum as number,
      items: x.items as number,
      best: (x.best as Best | null) ?? null,
      plateauBest: (x.plateauBest as number | null) ?? null,
      badEpochs: x.badEpochs as number,
      history: (x.history as EpochRecord[]) ?? [],
      seconds: x.seconds as number,
    };
    const best = this.bestCheckpointPath;
    this.bestState =
      best && existsSync(best) && this.state.best !== null ? loadCheckpoint(best).model.state : null;
    this.log?.write({
      type: 'resume',
      from: path,
      step: this.state.step,
      epoch: this.state.epoch,
      batch: this.state.batch,
    });
    return this.fit();
  }
}
