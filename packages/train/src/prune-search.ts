/**
 * Goal-driven lottery-ticket search (method 3; LTH-ECG, EMBC 2022, after Frankle & Carbin 2019):
 *
 * round 0: train the dense model, remember the rewind point (initial weights, or the weights after step k:
 *          "late rewinding"), score it on validation: m₀; the goal is m ≥ goal · m₀ (default 0.99 · m₀);
 * round r: from the last ticket that met the goal (its trained weights and masks), prune the fraction p of its
 *          remaining weights with the smallest trained |w| (pruning.ts), reset the survivors to the rewind point,
 *          retrain, score. Met → it is the new ticket, next round. Broken → (optionally, `retries` times)
 *          retry the round from the last ticket with p/2 (and keep the smaller p), else stop and return the
 *          last ticket that met the goal ("over-pruning avoidance").
 * trace:   optionally (`traceRounds`), after the stop, keep pruning the last run's trained weights by p per round
 *          up to round `traceRounds` (same rewind, same training), to trace the metric against compression past
 *          the goal. Traced runs are labelled `trace-<r>` and flagged `traced`; they never become the ticket, so
 *          the returned ticket is the one the goal-driven search chose.
 *
 * Training is the caller's (`train`: any Trainer set-up; it receives the callbacks to pass on), and so is the
 * metric (`score`, validation macro-F1 in the experiments). With `dir`, the search writes after every round a
 * checkpoint (`lth.ckpt`: the last ticket's model state with its masks, the rewind state, the round table,
 * where the search stands) from which `resume` continues, each round's trained model (`rounds/<label>.ckpt`),
 * and the rewind point as soon as it is captured (`rewind.ckpt`), so a dense run killed after step k resumes.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nn, type Tensor, ValueError } from '@ecgnn/core';
import { captureCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { CheckpointError, type CheckpointValue } from './checkpoint-format.js';
import {
  applyMasks,
  maskCounts,
  type PruneScope,
  type PruneTargetInfo,
  type PruneTargetOptions,
  parameterCounts,
  preparePruning,
  pruneModel,
  pruneTargets,
  rewindCapture,
  ticketMasks,
} from './prune.js';
import type { TrainerCallbacks } from './trainer-options.js';

/** What the caller's `train` is given for one training run. */
export interface RoundTraining {
  /** Round number: 0 dense, r ≥ 1 the r-th pruning round (a retry keeps its round's number); -1 the control. */
  round: number;
  /** Retry of the round (0 = first try). */
  attempt: number;
  /** `dense`, `round-<r>`, `round-<r>-retry-<a>` or `control`: a name for the run's directory and log lines. */
  label: string;
  /** Directory for this run's checkpoints and log (`<dir>/<label>`), or null without a search directory. */
  dir: string | null;
  /** True when the search is resuming: `dir` may hold a killed (or finished) run of this training. */
  resume: boolean;
  /** Callbacks to hand to the Trainer (the late-rewinding capture in the dense run). */
  callbacks: TrainerCallbacks[];
}

/** What `train` may report about a run (for the round table). */
export interface RoundTrainingInfo {
  /** Epochs trained. */
  epochs?: number;
  /** Optimizer steps taken (needed for late rewinding: the dense run must reach step k). */
  steps?: number;
}

/** One row of the round table. */
export interface RoundRecord {
  /** 0 dense, r ≥ 1 pruning round. */
  round: number;
  /** Retry of the round (0 = first try). */
  attempt: number;
  /** See {@link RoundTraining.label}. */
  label: string;
  /** Fraction of the remaining weights pruned in this round (0 for the dense run). */
  fraction: number;
  /** Target weights left (mask 1). */
  remaining: number;
  /** All target weights. */
  prunable: number;
  /** Non-zero parameters of the model (all parameters minus pruned weights). */
  params: number;
  /** Parameters of the dense model. */
  paramsDense: number;
  /** paramsDense / params. */
  compression: number;
  /** The validation metric of the retrained model. */
  metric: number;
  /** The goal it had to meet (goal · dense metric). */
  threshold: number;
  /** Whether it met the goal (the dense run always does). */
  passed: boolean;
  /** Epochs trained (when `train` reports them). */
  epochs: number | null;
  /** A run after the search stopped (`traceRounds`): on the curve, never the ticket. */
  traced: boolean;
  /** Seconds of training and scoring. */
  seconds: number;
}

/** Options of {@link lotteryTicketSearch}. */
export interface LotteryTicketOptions<M extends nn.AnyModule> {
  /** The freshly initialised model; its current weights are the initial weights. Trained and pruned in place. */
  model: M;
  /** Trains `model` in place (from its current weights and masks, with a fresh optimizer). */
  train(model: M, run: RoundTraining): RoundTrainingInfo | undefined;
  /** The validation metric, higher is better (e.g. validation macro-F1). */
  score(model: M): number;
  /** Name of the metric in progress lines (default 'validation macro-F1'). */
  metricName?: string;
  /** Fraction of the remaining weights pruned per round (default 0.2). */
  fraction?: number;
  /** Global (default) or per-layer magnitude ranking. */
  scope?: PruneScope;
  /** Keep pruning while metric ≥ goal · dense metric (default 0.99). */
  goal?: number;
  /** Rewind to the initial weights (0, default) or to those after step k of the dense run (late rewinding). */
  rewindStep?: number;
  /** Most pruning rounds (default 30). */
  maxRounds?: number;
  /** Retries of a round that breaks the goal, each with half the fraction (default 1; 0 = stop at once). */
  retries?: number;
  /**
   * After a stop for `goal-broken`, keep pruning (the last run's weights, the full fraction per round) up to this
   * round number, recording each run as `traced`, to trace the metric past the goal (default 0: no trace).
   */
  traceRounds?: number;
  /** Which layers are pruned (default: every Conv1d/Linear but the output layer). */
  targets?: PruneTargetOptions;
  /** Directory of the search checkpoints and of each run's directory (default none: nothing written). */
  dir?: string | null;
  /** Continue from `dir` (finished rounds are not trained again). */
  resume?: boolean;
  /** Progress lines, one per round (default none). */
  log?: (line: string) => void;
}

/** Why the search ended. */
export type LotteryStopReason = 'goal-broken' | 'max-rounds' | 'nothing-to-prune';

/** Result of {@link lotteryTicketSearch}; the model holds the returned ticket (trained weights, masks). */
export interface LotteryTicketResult {
  /** Every training run, in order (the dense run first; failed rounds and retries included). */
  rounds: RoundRecord[];
  /** The returned ticket's row: the last one that met the goal (the dense run when none did). */
  ticket: RoundRecord;
  /** The dense model's metric. */
  denseMetric: number;
  /** goal · denseMetric. */
  threshold: number;
  /** Why the search ended. */
  stopReason: LotteryStopReason;
  /** The step rewound to (0 = initial weights). */
  rewindStep: number;
  /** The rewind point's state (masks all ones). */
  rewindState: nn.StateDict;
  /** The ticket's masks by layer path. */
  masks: Record<string, Tensor>;
  /** The pruned layers. */
  targets: PruneTargetInfo[];
  /** True when everything came from an earlier, finished search in `dir`. */
  reused: boolean;
}

/** Settings that must not change between a search and its resumption. */
interface Fingerprint {
  fraction: number;
  scope: PruneScope;
  goal: number;
  rewindStep: number;
  retries: number;
  targets: string[];
}

/** Where the search stands (the `extra` of `lth.ckpt`). */
interface SearchState {
  fingerprint: Fingerprint;
  rounds: RoundRecord[];
  denseMetric: number;
  threshold: number;
  /** Next round and attempt, the fraction it prunes and the retries it still has. */
  next: { round: number; attempt: number; fraction: number; retriesLeft: number };
  /** Index in `rounds` of the current ticket. */
  ticket: number;
  stopReason: LotteryStopReason | null;
  /** Index in `rounds` of the run the next traced round prunes (absent before the trace starts). */
  traceFrom?: number;
}

function checkOptions(o: LotteryTicketOptions<nn.AnyModule>): void {
  const fraction = o.fraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1))
    throw new ValueError(`lotteryTicketSearch: fraction must be in (0, 1), got ${fraction}`);
  const goal = o.goal ?? 0.99;
  if (!(goal > 0 && goal <= 1))
    throw new ValueError(`lotteryTicketSearch: goal must be in (0, 1], got ${goal}`);
  const k = o.rewindStep ?? 0;
  if (!Number.isInteger(k) || k < 0)
    throw new ValueError(`lotteryTicketSearch: rewindStep must be an integer ≥ 0, got ${k}`);
  for (const [name, v] of [
    ['maxRounds', o.maxRounds ?? 30],
    ['retries', o.retries ?? 1],
    ['traceRounds', o.traceRounds ?? 0],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new ValueError(`lotteryTicketSearch: ${name} must be an integer ≥ 0, got ${v}`);
  }
  if (o.resume && !o.dir) throw new ValueError('lotteryTicketSearch: resume needs a dir');
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/** The progress line of a round. */
function roundLine(r: RoundRecord, metricName: string, goal: number): string {
  if (r.round === 0) {
    return `lth dense: ${r.params} parameters (${r.prunable} prunable), ${metricName} ${fmt(r.metric)}; goal ≥ ${fmt(r.threshold)} (${goal} × dense)`;
  }
  const pct = (100 * r.remaining) / r.prunable;
  return `lth ${r.label}: pruned ${(100 * r.fraction).toFixed(1)} % of the remaining → ${r.remaining}/${r.prunable} prunable weights (${pct.toFixed(2)} %), ${r.params} non-zero parameters, compression ${r.compression.toFixed(2)}×; ${metricName} ${fmt(r.metric)} ${r.passed ? '≥' : '<'} ${fmt(r.threshold)}: ${r.traced ? `${r.passed ? 'meets' : 'misses'} the goal (traced past the stop: never the ticket)` : r.passed ? 'ticket kept' : 'goal broken'} (${r.seconds.toFixed(0)} s)`;
}

function stateToValue(sd: nn.StateDict): CheckpointValue {
  return { ...sd } as unknown as CheckpointValue;
}

/** Runs the search (see the module comment). The model ends holding the returned ticket. */
export function lotteryTicketSearch<M extends nn.AnyModule>(
  opts: LotteryTicketOptions<M>,
): LotteryTicketResult {
  checkOptions(opts as LotteryTicketOptions<nn.AnyModule>);
  const { model } = opts;
  const log = opts.log ?? (() => undefined);
  const metricName = opts.metricName ?? 'validation macro-F1';
  const goal = opts.goal ?? 0.99;
  const scope = opts.scope ?? 'global';
  const maxRounds = opts.maxRounds ?? 30;
  const dir = opts.dir ?? null;
  const targets = pruneTargets(model, opts.targets);
  const fingerprint: Fingerprint = {
    fraction: opts.fraction ?? 0.2,
    scope,
    goal,
    rewindStep: opts.rewindStep ?? 0,
    retries: opts.retries ?? 1,
    targets: targets.map((t) => t.path),
  };
  preparePruning(targets);
  const statePath = dir ? join(dir, 'lth.ckpt') : null;
  const rewindPath = dir ? join(dir, 'rewind.ckpt') : null;
  if (dir) mkdirSync(join(dir, 'rounds'), { recursive: true });
  const runDir = (label: string): string | null => (dir ? join(dir, label) : null);
  const saveRound = (label: string): void => {
    if (dir) saveCheckpoint(join(dir, 'rounds', `${label}.ckpt`), captureCheckpoint({ model }, progress0));
  };
  const progress0 = { epoch: 0, batch: 0, step: 0 };
  /** The trained weights (and masks) of a finished run, from its `rounds/<label>.ckpt`. */
  const loadRoundState = (label: string): nn.StateDict => {
    if (!dir) throw new ValueError(`lotteryTicketSearch: no state of run ${label} without a dir`);
    return loadCheckpoint(join(dir, 'rounds', `${label}.ckpt`)).model.state;
  };
  /** The state of the last run trained by this call (null until one is). */
  let lastRunState: nn.StateDict | null = null;

  let state: SearchState;
  let rewindState: nn.StateDict;
  let ticketState: nn.StateDict;
  let reused = false;
  if (opts.resume && statePath && existsSync(statePath)) {
    const ck = loadCheckpoint(statePath);
    const extra = ck.extra as unknown as { search: SearchState; rewind: nn.StateDict };
    if (JSON.stringify(extra.search.fingerprint) !== JSON.stringify(fingerprint)) {
      throw new CheckpointError(
        `the search was run with ${JSON.stringify(extra.search.fingerprint)}, this one has ${JSON.stringify(fingerprint)}`,
        statePath,
      );
    }
    state = extra.search;
    rewindState = { ...extra.rewind };
    model.loadStateDict(ck.model.state, { strict: true });
    ticketState = model.stateDict();
    reused = true;
    log(
      `lth: resuming ${statePath}: ${state.rounds.length} runs done, ticket ${state.rounds[state.ticket].label}`,
    );
  } else {
    // Round 0: the dense run, capturing the rewind point.
    const k = fingerprint.rewindStep;
    let captured: nn.StateDict | null = k === 0 ? model.stateDict() : null;
    const keep = (sd: nn.StateDict): void => {
      captured = sd;
      if (rewindPath)
        saveCheckpoint(rewindPath, captureCheckpoint({ model }, { epoch: 0, batch: 0, step: k }));
    };
    const resumingDense = Boolean(opts.resume && rewindPath && existsSync(rewindPath));
    // A resumed dense run rewinds to the point the killed one stored, not to this model's weights.
    if (resumingDense && rewindPath) captured = loadCheckpoint(rewindPath).model.state;
    else if (k === 0 && rewindPath) keep(model.stateDict());
    const callbacks: TrainerCallbacks[] = k > 0 && captured === null ? [rewindCapture(model, k, keep)] : [];
    const t0 = performance.now();
    const info = opts.train(model, {
      round: 0,
      attempt: 0,
      label: 'dense',
      dir: runDir('dense'),
      resume: opts.resume ?? false,
      callbacks,
    });
    if (captured === null) {
      throw new ValueError(
        `lotteryTicketSearch: the rewind step ${k} was never reached: the dense run took ${info?.steps ?? 'fewer'} steps`,
      );
    }
    rewindState = captured;
    const metric = opts.score(model);
    const counts = parameterCounts(model, targets);
    const mc = maskCounts(targets);
    const dense: RoundRecord = {
      round: 0,
      attempt: 0,
      label: 'dense',
      fraction: 0,
      remaining: mc.kept,
      prunable: mc.total,
      params: counts.nonZero,
      paramsDense: counts.dense,
      compression: counts.compression,
      metric,
      threshold: goal * metric,
      passed: true,
      epochs: info?.epochs ?? null,
      traced: false,
      seconds: (performance.now() - t0) / 1000,
    };
    state = {
      fingerprint,
      rounds: [dense],
      denseMetric: metric,
      threshold: goal * metric,
      next: { round: 1, attempt: 0, fraction: fingerprint.fraction, retriesLeft: fingerprint.retries },
      ticket: 0,
      stopReason: maxRounds === 0 ? 'max-rounds' : null,
    };
    ticketState = model.stateDict();
    saveRound('dense');
    log(roundLine(dense, metricName, goal));
  }
  const save = (): void => {
    if (statePath === null) return;
    saveCheckpoint(
      statePath,
      captureCheckpoint({ model }, progress0, {
        search: state as unknown as CheckpointValue,
        rewind: stateToValue(rewindState),
      }),
    );
  };
  // The checkpoint holds the current ticket: save it while the model holds it.
  model.loadStateDict(ticketState);
  save();
  // A search that stopped at its round limit continues when the limit is raised.
  if (state.stopReason === 'max-rounds' && state.next.round <= maxRounds) state.stopReason = null;
  reused = reused && state.stopReason !== null;

  /**
   * One pruning run on the model as just pruned (`remaining` weights kept): rewind the survivors, retrain, score;
   * the run's record is appended to the table, its model saved and its progress line logged.
   */
  const runRound = (
    r: Pick<RoundRecord, 'round' | 'attempt' | 'label' | 'fraction' | 'remaining' | 'traced'>,
  ): RoundRecord => {
    nn.prune.rewind(model, rewindState);
    const t0 = performance.now();
    const info = opts.train(model, {
      round: r.round,
      attempt: r.attempt,
      label: r.label,
      dir: runDir(r.label),
      resume: opts.resume ?? false,
      callbacks: [],
    });
    const metric = opts.score(model);
    const counts = parameterCounts(model, targets);
    const rec: RoundRecord = {
      ...r,
      prunable: maskCounts(targets).total,
      params: counts.nonZero,
      paramsDense: counts.dense,
      compression: counts.compression,
      metric,
      threshold: state.threshold,
      passed: metric >= state.threshold,
      epochs: info?.epochs ?? null,
      seconds: (performance.now() - t0) / 1000,
    };
    state.rounds.push(rec);
    saveRound(r.label);
    log(roundLine(rec, metricName, goal));
    return rec;
  };

  while (state.stopReason === null) {
    const { round, attempt, fraction } = state.next;
    if (round > maxRounds) {
      state.stopReason = 'max-rounds';
      break;
    }
    model.loadStateDict(ticketState);
    const before = maskCounts(targets).kept;
    // Magnitudes of the ticket's trained weights decide; then the survivors go back to the rewind point.
    const after = pruneModel(targets, fraction, scope).kept;
    if (after === before) {
      model.loadStateDict(ticketState);
      state.stopReason = 'nothing-to-prune';
      break;
    }
    const label = attempt === 0 ? `round-${round}` : `round-${round}-retry-${attempt}`;
    const rec = runRound({ round, attempt, label, fraction, remaining: after, traced: false });
    lastRunState = model.stateDict();
    if (rec.passed) {
      // The snapshot just taken: the run that passed is the new ticket.
      ticketState = lastRunState;
      state.ticket = state.rounds.length - 1;
      state.next = { round: round + 1, attempt: 0, fraction, retriesLeft: fingerprint.retries };
    } else if (state.next.retriesLeft > 0) {
      state.next = {
        round,
        attempt: attempt + 1,
        fraction: fraction / 2,
        retriesLeft: state.next.retriesLeft - 1,
      };
      log(`lth ${label}: retrying round ${round} from the last ticket with fraction ${fraction / 2}`);
    } else state.stopReason = 'goal-broken';
    model.loadStateDict(ticketState);
    save();
  }
  const traceRounds = opts.traceRounds ?? 0;
  if (state.stopReason === 'goal-broken' && traceRounds > 0) {
    let from = state.traceFrom ?? state.rounds.length - 1;
    // The weights the trace continues from: this process's last run, else its saved round checkpoint.
    let fromState =
      lastRunState !== null && from === state.rounds.length - 1
        ? lastRunState
        : loadRoundState(state.rounds[from].label);
    while (state.rounds[from].round < traceRounds) {
      const round = state.rounds[from].round + 1;
      model.loadStateDict(fromState);
      const before = maskCounts(targets).kept;
      const after = pruneModel(targets, fingerprint.fraction, scope).kept;
      if (after === before) break;
      runRound({
        round,
        attempt: 0,
        label: `trace-${round}`,
        fraction: fingerprint.fraction,
        remaining: after,
        traced: true,
      });
      fromState = model.stateDict();
      from = state.rounds.length - 1;
      state.traceFrom = from;
      reused = false;
      model.loadStateDict(ticketState);
      save();
    }
  }
  model.loadStateDict(ticketState);
  save();
  const ticket = state.rounds[state.ticket];
  const stop = state.stopReason as LotteryStopReason;
  log(
    `lth: stopped (${stop}); ticket ${ticket.label}: ${ticket.params} of ${ticket.paramsDense} parameters non-zero (compression ${ticket.compression.toFixed(2)}×), ${metricName} ${fmt(ticket.metric)} (dense ${fmt(state.denseMetric)})`,
  );
  return {
    rounds: state.rounds,
    ticket,
    denseMetric: state.denseMetric,
    threshold: state.threshold,
    stopReason: stop,
    rewindStep: fingerprint.rewindStep,
    rewindState,
    masks: ticketMasks(targets),
    targets,
    reused,
  };
}

/** Options of {@link randomReinitControl}. */
export interface RandomReinitOptions<M extends nn.AnyModule> {
  /** A model of the ticket's architecture with fresh random weights (another seed than the ticket's). */
  model: M;
  /** The ticket's masks ({@link LotteryTicketResult.masks}). */
  masks: Record<string, Tensor>;
  /** Trains the model in place (as in the search; `run.round` is -1, `run.label` 'control'). */
  train(model: M, run: RoundTraining): RoundTrainingInfo | undefined;
  /** The validation metric. */
  score(model: M): number;
  /** The same target options as the search. */
  targets?: PruneTargetOptions;
  /** Run directory (default none). */
  dir?: string | null;
  /** Resume a killed control run in `dir`. */
  resume?: boolean;
}

/**
 * The random-reinitialisation control of Frankle & Carbin (2019): the ticket's sparsity pattern on freshly
 * initialised weights, trained the same way. A ticket that matters scores higher than its control.
 * The model ends trained; returns its metric and parameter counts.
 */
export function randomReinitControl<M extends nn.AnyModule>(
  opts: RandomReinitOptions<M>,
): { metric: number; params: number; compression: number; epochs: number | null; seconds: number } {
  const targets = pruneTargets(opts.model, opts.targets);
  applyMasks(targets, opts.masks);
  const t0 = performance.now();
  const info = opts.train(opts.model, {
    round: -1,
    attempt: 0,
    label: 'control',
    dir: opts.dir ?? null,
    resume: opts.resume ?? false,
    callbacks: [],
  });
  const metric = opts.score(opts.model);
  const counts = parameterCounts(opts.model, targets);
  return {
    metric,
    params: counts.nonZero,
    compression: counts.compression,
    epochs: info?.epochs ?? null,
    seconds: (performance.now() - t0) / 1000,
  };
}
