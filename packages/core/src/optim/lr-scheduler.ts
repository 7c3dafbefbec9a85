/**
 * Learning-rate schedules, following PyTorch's `torch.optim.lr_scheduler` formulas in their closed forms
 * (lr as a function of the epoch counter, so there is no drift and `step(epoch)` can jump). Call
 * `scheduler.step()` once per epoch (or per batch for OneCycleLR), after `optimizer.step()`.
 */
import { ValueError } from '../errors.js';
import type { BaseOptions, Optimizer, ParamGroup } from './optimizer.js';

type AnyOptimizer = Optimizer<BaseOptions>;

/** Saved scheduler state (plain numbers/arrays). */
export type SchedulerStateDict = Record<string, unknown>;

/**
 * Base of the epoch-indexed schedules: on construction it records each group's `initialLr` (the base lr)
 * and sets the lr for epoch 0; each {@link LRScheduler.step} advances the epoch and sets the lr to
 * {@link LRScheduler.lrAt} of the new epoch.
 */
export abstract class LRScheduler {
  /** The optimizer whose groups' `lr` this sets. */
  readonly optimizer: AnyOptimizer;
  /** Base learning rates (the groups' `initialLr`). */
  readonly baseLrs: number[];
  /** The current epoch (0 after construction). */
  lastEpoch = -1;

  /** Attaches to `optimizer`. */
  constructor(optimizer: AnyOptimizer) {
    this.optimizer = optimizer;
    for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
  }

  /** Sets the epoch-0 learning rates; subclasses call it at the end of their constructor. */
  protected init(): void {
    this.step();
  }

  /** The learning rate of each group at `epoch` (closed form). */
  abstract lrAt(epoch: number): number[];

  /** Advances to the next epoch (or to `epoch`) and sets the groups' learning rates. */
  step(epoch?: number): void {
    this.lastEpoch = epoch ?? this.lastEpoch + 1;
    const lrs = this.lrAt(this.lastEpoch);
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i];
    });
  }

  /** The learning rates last set. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** State for checkpoints. */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /**
   * Restores {@link LRScheduler.stateDict} and sets the groups' learning rates for the restored epoch (so
   * the order of loading optimizer and scheduler state does not matter).
   */
  loadStateDict(sd: SchedulerStateDict): void {
    const b = sd.baseLrs as number[];
    if (!Array.isArray(b) || b.length !== this.baseLrs.length || typeof sd.lastEpoch !== 'number')
      throw new ValueError(
        `${this.constructor.name}.loadStateDict: expected lastEpoch and ${this.baseLrs.length} base learning rates`,
      );
    b.forEach((v, i) => {
      this.baseLrs[i] = v;
    });
    this.step(sd.lastEpoch);
  }
}

/** lr = base · γ^⌊epoch / stepSize⌋. */
export class StepLR extends LRScheduler {
  /** Creates the schedule. */
  constructor(
    optimizer: AnyOptimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize < 1)
      throw new ValueError(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    this.init();
  }

  lrAt(epoch: number): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(epoch / this.stepSize));
  }
}

/** lr = base · γ^(number of milestones ≤ epoch). */
export class MultiStepLR extends LRScheduler {
  /** Sorted milestones. */
  readonly milestones: number[];

  /** Creates the schedule. */
  constructor(
    optimizer: AnyOptimizer,
    milestones: readonly number[],
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    for (const m of milestones)
      if (!Number.isInteger(m) || m < 0)
        throw new ValueError(`MultiStepLR: milestones must be non-negative integers, got ${m}`);
    this.milestones = [...milestones].sort((a, b) => a - b);
    this.init();
  }

  lrAt(epoch: number): number[] {
    const n = this.milestones.filter((m) => m <= epoch).length;
    return this.baseLrs.map((b) => b * this.gamma ** n);
  }
}

/** lr = base · γ^epoch. */
export class ExponentialLR extends LRScheduler {
  /** Creates the schedule. */
  constructor(
    optimizer: AnyOptimizer,
    readonly gamma: number,
  ) {
    super(optimizer);
    if (!(gamma > 0)) throw new ValueError(`ExponentialLR: gamma must be positive, got ${gamma}`);
    this.init();
  }

  lrAt(epoch: number): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** epoch);
  }
}

/** Cosine annealing (Loshchilov & Hutter 2017): lr = η_min + (base − η_min)(1 + cos(π·epoch/Tmax))/2. */
export class CosineAnnealingLR extends LRScheduler {
  /** Creates the schedule. */
  constructor(
    optimizer: AnyOptimizer,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!(tMax > 0)) throw new ValueError(`CosineAnnealingLR: tMax must be positive, got ${tMax}`);
    this.init();
  }

  lrAt(epoch: number): number[] {
    const c = (1 + Math.cos((Math.PI * epoch) / this.tMax)) / 2;
    return this.baseLrs.map((b) => this.etaMin + (b - this.etaMin) * c);
  }
}

/**
 * Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017): periods T₀, T₀·m, T₀·m², …; within
 * a period, lr = η_min + (base − η_min)(1 + cos(π·T_cur/T_i))/2. `step(epoch)` accepts fractional epochs.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  /** Creates the schedule. */
  constructor(
    optimizer: AnyOptimizer,
    readonly t0: number,
    readonly tMult = 1,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!Number.isInteger(t0) || t0 < 1)
      throw new ValueError(`CosineAnnealingWarmRestarts: t0 must be a positive integer, got ${t0}`);
    if (!Number.isInteger(tMult) || tMult < 1)
      throw new ValueError(`CosineAnnealingWarmRestarts: tMult must be an integer ≥ 1, got ${tMult}`);
    this.init();
  }

  /** Position in the current period and its length at `epoch`. */
  period(epoch: number): { tCur: number; tI: number } {
    if (this.tMult === 1) return { tCur: epoch % this.t0, tI: this.t0 };
    // NOTE: the period n containing epoch e solves T₀(mⁿ − 1)/(m − 1) ≤ e < T₀(mⁿ⁺¹ − 1)/(m − 1).
    const n = Math.floor(Math.log((epoch / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
    const start = (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
    return { tCur: epoch - start, tI: this.t0 * this.tMult ** n };
  }

  lrAt(epoch: number): number[] {
    const { tCur, tI } = this.period(epoch);
    const c = (1 + Math.cos((Math.PI * tCur) / tI)) / 2;
    return this.baseLrs.map((b) => this.etaMin + (b - this.etaMin) * c);
  }
}

/**
 * Linear warm-up (or decay) of a multiplicative factor: lr = base · (s + (e − s)·min(epoch, N)/N), from
 * `startFactor` s to `endFactor` e over `totalIters` N epochs, constant afterwards.
 */
export class LinearLR extends LRScheduler {
  /** Creates the schedule. */
  constructor(
    optimizer: AnyOptimizer,
    readonly startFactor = 1 / 3,
    readonly endFactor = 1,
    readonly totalIters = 5,
  ) {
    super(optimizer);
    if (!(startFactor > 0 && startFactor <= 1))
      throw new ValueError(`LinearLR: startFactor must be in (0, 1], got ${startFactor}`);
    if (!(endFactor >= 0 && endFactor <= 1))
      throw new ValueError(`LinearLR: endFactor must be in [0, 1], got ${endFactor}`);
    if (!Number.isInteger(totalIters) || totalIters < 1)
      throw new ValueError(`LinearLR: totalIters must be a positive integer, got ${totalIters}`);
    this.init();
  }

  lrAt(epoch: number): number[] {
    const f =
      this.startFactor +
      ((this.endFactor - this.startFactor) * Math.min(epoch, this.totalIters)) / this.totalIters;
    return this.baseLrs.map((b) => b * f);
  }
}

/**
 * Runs schedules one after another: `schedulers[i]` is active from `milestones[i − 1]` on, with its own epoch
 * counted from that milestone (e.g. LinearLR warm-up for 5 epochs, then CosineAnnealingLR).
 */
export class SequentialLR extends LRScheduler {
  /** Creates the schedule; the given schedulers must share `optimizer`. */
  constructor(
    optimizer: AnyOptimizer,
    readonly schedulers: readonly LRScheduler[],
    readonly milestones: readonly number[],
  ) {
    super(optimizer);
    if (schedulers.length !== milestones.length + 1)
      throw new ValueError(
        `SequentialLR: need one more scheduler than milestones (${schedulers.length} vs ${milestones.length})`,
      );
    for (const s of schedulers)
      if (s.optimizer !== optimizer)
        throw new ValueError('SequentialLR: all schedulers must use the same optimizer');
    this.init();
  }

  lrAt(epoch: number): number[] {
    let i = 0;
    while (i < this.milestones.length && epoch >= this.milestones[i]) i++;
    const start = i === 0 ? 0 : this.milestones[i - 1];
    return this.schedulers[i].lrAt(epoch - start);
  }
}

/** Options of {@link OneCycleLR}. */
export interface OneCycleOptions {
  /** Total number of steps (or give `epochs` and `stepsPerEpoch`). */
  totalSteps?: number;
  /** Epochs (with `stepsPerEpoch`). */
  epochs?: number;
  /** Steps per epoch (with `epochs`). */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear' annealing. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD `momentum` or Adam β₁) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum (default 0.85). */
  baseMomentum?: number;
  /** Highest momentum (default 0.95). */
  maxMomentum?: number;
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** final lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to initial, annihilate) instead of two (default false). */
  threePhase?: boolean;
}

interface Phase {
  end: number;
  lr: ['initial' | 'max' | 'min', 'initial' | 'max' | 'min'];
  mom: ['max' | 'base', 'max' | 'base'];
}

/**
 * The 1cycle policy (Smith & Topin 2019) as PyTorch's OneCycleLR: per batch, the lr rises from maxLr/div to
 * maxLr over pctStart of the steps and anneals to initial/finalDiv; momentum moves inversely. Call `step()`
 * after every batch; stepping past `totalSteps` throws.
 */
export class OneCycleLR extends LRScheduler {
  /** Total steps of the cycle. */
  readonly totalSteps: number;
  private readonly phases: Phase[];
  private readonly anneal: (start: number, end: number, pct: number) => number;
  private readonly groupsLr: Array<{ initial: number; max: number; min: number }>;
  private readonly cycleMomentum: boolean;
  private readonly baseMomentum: number;
  private readonly maxMomentum: number;

  /** Creates the schedule; `maxLr` per group or one for all. */
  constructor(optimizer: AnyOptimizer, maxLr: number | readonly number[], opts: OneCycleOptions = {}) {
    super(optimizer);
    const total =
      opts.totalSteps ??
      (opts.epochs !== undefined && opts.stepsPerEpoch !== undefined
        ? opts.epochs * opts.stepsPerEpoch
        : NaN);
    if (!Number.isInteger(total) || total < 2)
      throw new ValueError('OneCycleLR: give totalSteps (an integer ≥ 2) or epochs and stepsPerEpoch');
    this.totalSteps = total;
    const pct = opts.pctStart ?? 0.3;
    if (!(pct > 0 && pct < 1)) throw new ValueError(`OneCycleLR: pctStart must be in (0, 1), got ${pct}`);
    const div = opts.divFactor ?? 25;
    const finalDiv = opts.finalDivFactor ?? 1e4;
    const maxLrs = typeof maxLr === 'number' ? optimizer.paramGroups.map(() => maxLr) : [...maxLr];
    if (maxLrs.length !== optimizer.paramGroups.length)
      throw new ValueError(
        `OneCycleLR: ${maxLrs.length} maxLr values for ${optimizer.paramGroups.length} groups`,
      );
    this.groupsLr = maxLrs.map((m) => ({ initial: m / div, max: m, min: m / div / finalDiv }));
    // NOTE: phase ends as PyTorch: pct·T − 1, (2·pct·T − 2 for three phases), T − 1.
    this.phases = opts.threePhase
      ? [
          { end: pct * total - 1, lr: ['initial', 'max'], mom: ['max', 'base'] },
          { end: 2 * pct * total - 2, lr: ['max', 'initial'], mom: ['base', 'max'] },
          { end: total - 1, lr: ['initial', 'min'], mom: ['max', 'max'] },
        ]
      : [
          { end: pct * total - 1, lr: ['initial', 'max'], mom: ['max', 'base'] },
          { end: total - 1, lr: ['max', 'min'], mom: ['base', 'max'] },
        ];
    const strategy = opts.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear')
      throw new ValueError(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got ${String(strategy)}`);
    this.anneal =
      strategy === 'cos'
        ? (s, e, p) => e + ((s - e) / 2) * (Math.cos(Math.PI * p) + 1)
        : (s, e, p) => (e - s) * p + s;
    this.cycleMomentum = opts.cycleMomentum ?? true;
    this.baseMomentum = opts.baseMomentum ?? 0.85;
    this.maxMomentum = opts.maxMomentum ?? 0.95;
    if (this.cycleMomentum) {
      for (const g of optimizer.paramGroups as Array<ParamGroup<BaseOptions> & Record<string, unknown>>) {
        if (!('momentum' in g) && !('betas' in g))
          throw new ValueError('OneCycleLR: cycleMomentum needs an optimizer with momentum or betas');
      }
    }
    this.init();
  }

  private at(epoch: number): { lrs: number[]; momentum: number } {
    if (epoch > this.totalSteps) {
      throw new ValueError(`OneCycleLR: stepped ${epoch} times, more than totalSteps ${this.totalSteps}`);
    }
    let start = 0;
    for (let i = 0; i < this.phases.length; i++) {
      const ph = this.phases[i];
      if (epoch <= ph.end || i === this.phases.length - 1) {
        const pct = (epoch - start) / (ph.end - start);
        const mom = { max: this.maxMomentum, base: this.baseMomentum };
        return {
          lrs: this.groupsLr.map((g) => this.anneal(g[ph.lr[0]], g[ph.lr[1]], pct)),
          momentum: this.anneal(mom[ph.mom[0]], mom[ph.mom[1]], pct),
        };
      }
      start = ph.end;
    }
    throw new ValueError('OneCycleLR: unreachable');
  }

  lrAt(epoch: number): number[] {
    return this.at(epoch).lrs;
  }

  /** The momentum (or β₁) at `epoch`. */
  momentumAt(epoch: number): number {
    return this.at(epoch).momentum;
  }

  override step(epoch?: number): void {
    super.step(epoch);
    if (!this.cycleMomentum) return;
    const m = this.momentumAt(this.lastEpoch);
    for (const g of this.optimizer.paramGroups as unknown as Array<Record<string, unknown>>) {
      if (Array.isArray(g.betas)) g.betas = [m, g.betas[1]];
      else g.momentum = m;
    }
  }
}

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default: the metric should decrease, e.g. a loss) or 'max' (e.g. F1). */
  mode?: 'min' | 'max';
  /** Multiply the lr by this on a plateau (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimal improvement (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): improvement relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound of the lr, one or per group (default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduces the lr by `factor` when a metric has not improved for `patience` epochs (PyTorch's
 * ReduceLROnPlateau). Call `step(metric)` once per epoch.
 */
export class ReduceLROnPlateau {
  /** The optimizer. */
  readonly optimizer: AnyOptimizer;
  private readonly mode: 'min' | 'max';
  private readonly factor: number;
  private readonly patience: number;
  private readonly threshold: number;
  private readonly thresholdMode: 'rel' | 'abs';
  private readonly cooldown: number;
  private readonly minLrs: number[];
  private readonly eps: number;
  /** Best metric so far. */
  best: number;
  /** Epochs since the last improvement. */
  numBadEpochs = 0;
  /** Remaining cooldown epochs. */
  cooldownCounter = 0;
  /** Epochs stepped. */
  lastEpoch = 0;

  /** Creates the schedule. */
  constructor(optimizer: AnyOptimizer, opts: ReduceLROnPlateauOptions = {}) {
    this.optimizer = optimizer;
    this.mode = opts.mode ?? 'min';
    this.factor = opts.factor ?? 0.1;
    this.patience = opts.patience ?? 10;
    this.threshold = opts.threshold ?? 1e-4;
    this.thresholdMode = opts.thresholdMode ?? 'rel';
    this.cooldown = opts.cooldown ?? 0;
    this.eps = opts.eps ?? 1e-8;
    const minLr = opts.minLr ?? 0;
    this.minLrs = typeof minLr === 'number' ? optimizer.paramGroups.map(() => minLr) : [...minLr];
    if (!(this.factor < 1 && this.factor >= 0))
      throw new ValueError(`ReduceLROnPlateau: factor must be in [0, 1), got ${this.factor}`);
    if (this.mode !== 'min' && this.mode !== 'max')
      throw new ValueError(`ReduceLROnPlateau: mode must be 'min' or 'max'`);
    if (this.minLrs.length !== optimizer.paramGroups.length)
      throw new ValueError(
        `ReduceLROnPlateau: ${this.minLrs.length} minLr values for ${optimizer.paramGroups.length} groups`,
      );
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  private isBetter(a: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min')
      return this.thresholdMode === 'rel' ? a < this.best * (1 - t) : a < this.best - t;
    return this.thresholdMode === 'rel' ? a > this.best * (1 + t) : a > this.best + t;
  }

  /** Records this epoch's metric and reduces the lr if it has plateaued. */
  step(metric: number): void {
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  /** The learning rates now. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** State for checkpoints. */
  stateDict(): SchedulerStateDict {
    return {
      best: this.best,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
    };
  }

  /** Restores {@link ReduceLROnPlateau.stateDict}. */
  loadStateDict(sd: SchedulerStateDict): void {
    this.best = sd.best as number;
    this.numBadEpochs = sd.numBadEpochs as number;
    this.cooldownCounter = sd.cooldownCounter as number;
    this.lastEpoch = sd.lastEpoch as number;
  }
}
