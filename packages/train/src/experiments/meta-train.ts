/**
 * Meta-training of the three methods as one loop (`runMetaLoop`): each step draws its episode (or batch) from a
 * checkpointed generator, takes one optimizer step on its loss, and every `validateEvery` steps scores the model
 * on fixed validation tasks, keeps the best state (checkpoint selection on validation) and writes `last.ckpt`
 * and `best.ckpt` (training/checkpoint.ts: model, optimizer, generators, progress), so a resumed run continues
 * bit-identically. The step functions:
 * - SNAIL (method 2): the episode's sample groups ({@link sampleTrainingGroups}), cross-entropy of the last step
 *   of every group; the optimizer (Adam or SGD) is the method's meta-optimizer, the parameters after group batch
 *   i starting group batch i + 1;
 * - prototypical network: one task, cross-entropy of the query logits −‖e(q) − p_c‖²;
 * - supervised model (for the fine-tuning baseline): class-balanced batches over the meta-training classes.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { crossEntropy, type Generator, nn, optim, type Tensor, tensor, tidy } from '@ecgnn/core';
import { classBalancedBatches, randomInt } from '@ecgnn/data';
import type { EcgEmbeddingCnn, Snail } from '@ecgnn/models';
import { captureCheckpoint, loadCheckpoint, restoreCheckpoint, saveCheckpoint } from '../checkpoint.js';
import type { CheckpointValue } from '../checkpoint-format.js';
import { lineStream, type ProgressMode, progressDisplay } from '../progress.js';
import { TrainingDivergedError } from '../trainer-options.js';
import type { MetaSettings } from './meta-config.js';
import type { MetaSet } from './meta-data.js';
import { type FewShotTask, type GroupBatch, sampleTasks, sampleTrainingGroups } from './meta-episodes.js';
import { beatsTensor, groupTargets, protoLogits, snailLogits } from './meta-eval.js';

/** One validation point of a loop. */
export interface MetaHistoryPoint {
  /** Steps done. */
  step: number;
  /** Mean training loss since the previous point. */
  loss: number;
  /** Validation score (mean task accuracy). */
  validation: number;
}

/** Outcome of {@link runMetaLoop}. */
export interface MetaLoopResult {
  /** Best validation score. */
  best: number;
  /** Step of the best score (its state is loaded into the model at the end). */
  bestStep: number;
  /** Validation history. */
  history: MetaHistoryPoint[];
  /** Wall-clock seconds of this call. */
  seconds: number;
}

/** Options of {@link runMetaLoop}. */
export interface MetaLoopOptions {
  /** Name in logs and checkpoint file names. */
  name: string;
  /** The trained module. */
  model: nn.AnyModule;
  /** Its optimizer. */
  optimizer: optim.Optimizer<optim.BaseOptions>;
  /** Total optimizer steps. */
  steps: number;
  /** Validation period (steps). */
  validateEvery: number;
  /** One training step (draws its data, steps the optimizer); returns the loss. */
  step: () => number;
  /** Validation score (higher is better); must leave the model in training mode or the loop resets it. */
  validate: () => number;
  /** Generators whose states are checkpointed (episodes, dropout). */
  generators: Record<string, Generator>;
  /** Directory of `<name>-last.ckpt` and `<name>-best.ckpt` (none: no checkpoints). */
  checkpointDir?: string;
  /** Continue from `<name>-last.ckpt` when it exists. */
  resume?: boolean;
  /** Progress display. */
  progress?: ProgressMode;
  /** Log lines. */
  log?: (line: string) => void;
}

/** Runs (or resumes) one training loop; see the module comment. */
export function runMetaLoop(o: MetaLoopOptions): MetaLoopResult {
  const t0 = performance.now();
  const log = o.log ?? (() => undefined);
  const parts = { model: o.model, optimizer: o.optimizer, generators: o.generators };
  const last = o.checkpointDir ? join(o.checkpointDir, `${o.name}-last.ckpt`) : null;
  const bestFile = o.checkpointDir ? join(o.checkpointDir, `${o.name}-best.ckpt`) : null;
  if (o.checkpointDir) mkdirSync(o.checkpointDir, { recursive: true });
  let step = 0;
  let best = Number.NEGATIVE_INFINITY;
  let bestStep = 0;
  let history: MetaHistoryPoint[] = [];
  let bestState: nn.StateDict = o.model.stateDict();
  if (o.resume && last && existsSync(last)) {
    const ck = loadCheckpoint(last);
    restoreCheckpoint(ck, parts, last);
    step = ck.progress.step;
    best = ck.extra.best as number;
    bestStep = ck.extra.bestStep as number;
    history = JSON.parse(ck.extra.history as string) as MetaHistoryPoint[];
    if (bestFile && existsSync(bestFile)) bestState = loadCheckpoint(bestFile).model.state;
    log(`${o.name}: resumed at step ${step} (best validation ${best.toFixed(4)} at step ${bestStep})`);
  }
  const progress = progressDisplay(lineStream(log), o.progress ?? 'none');
  progress.startEpoch(1, 1, o.steps, step);
  o.model.train();
  let lossSum = 0;
  let lossCount = 0;
  while (step < o.steps) {
    const loss = o.step();
    if (!Number.isFinite(loss))
      throw new TrainingDivergedError(`${o.name}: the loss is ${loss}`, step + 1, 0, step);
    lossSum += loss;
    lossCount++;
    step++;
    progress.update(step, 1, lossSum / lossCount);
    if (step % o.validateEvery === 0 || step === o.steps) {
      const v = o.validate();
      o.model.train();
      history.push({ step, loss: lossSum / Math.max(1, lossCount), validation: v });
      log(
        `${o.name}: step ${step} loss ${(lossSum / Math.max(1, lossCount)).toFixed(4)} validation ${v.toFixed(4)}`,
      );
      lossSum = 0;
      lossCount = 0;
      if (v > best) {
        best = v;
        bestStep = step;
        bestState = o.model.stateDict();
        if (bestFile) saveCheckpoint(bestFile, captureCheckpoint(parts, { epoch: 0, batch: step, step }));
      }
      if (last) {
        const extra: Record<string, CheckpointValue> = { best, bestStep, history: JSON.stringify(history) };
        saveCheckpoint(last, captureCheckpoint(parts, { epoch: 0, batch: step, step }, extra));
      }
    }
  }
  o.model.loadStateDict(bestState);
  o.model.eval();
  return { best, bestStep, history, seconds: (performance.now() - t0) / 1000 };
}

/** The outer optimizer of the settings: Adam, or SGD with momentum 0.9. */
export function metaOptimizer(s: MetaSettings, model: nn.AnyModule): optim.Optimizer<optim.BaseOptions> {
  return s.optimizer === 'adam'
    ? new optim.Adam(model.parameters(), { lr: s.lr })
    : (new optim.SGD(model.parameters(), { lr: s.lr, momentum: 0.9 }) as optim.Optimizer<optim.BaseOptions>);
}

/** One optimizer step on `loss()` (inside `tidy`); returns the loss value. */
function optimizerStep(opt: optim.Optimizer<optim.BaseOptions>, loss: () => Tensor): number {
  return tidy(() => {
    opt.zeroGrad();
    const l = loss();
    const v = l.item();
    l.backward();
    opt.step();
    return v;
  });
}

/** A SNAIL training step: one episode's sample groups, setting drawn uniformly from `s.settings`. */
export function snailStep(
  model: Snail,
  opt: optim.Optimizer<optim.BaseOptions>,
  set: MetaSet,
  s: MetaSettings,
  g: Generator,
): number {
  const setting = s.settings[randomInt(g, s.settings.length)];
  const batch = sampleTrainingGroups(set, setting, s.groups, s.trainQueries, g);
  if (s.update === 'episode')
    return optimizerStep(opt, () => crossEntropy(snailLogits(model, set, batch), groupTargets(batch)));
  // One step per group, in order: the parameters after group i start group i + 1.
  const { steps } = batch;
  const groups = batch.items.length / steps;
  let sum = 0;
  for (let i = 0; i < groups; i++) {
    const one: GroupBatch = {
      ...batch,
      items: batch.items.subarray(i * steps, (i + 1) * steps),
      labels: batch.labels.subarray(i * steps, (i + 1) * steps),
    };
    sum += optimizerStep(opt, () => crossEntropy(snailLogits(model, set, one), groupTargets(one)));
  }
  return sum / groups;
}

/** A prototypical-network training step: one task, setting drawn uniformly from `s.settings`. */
export function protoStep(
  embed: EcgEmbeddingCnn,
  opt: optim.Optimizer<optim.BaseOptions>,
  set: MetaSet,
  s: MetaSettings,
  g: Generator,
): number {
  const setting = s.settings[randomInt(g, s.settings.length)];
  const task: FewShotTask = sampleTasks(set, setting, s.trainQueries, 1, g)[0];
  const y = tensor(task.queryLabels, [task.queryLabels.length], { dtype: 'int32' });
  return optimizerStep(opt, () => crossEntropy(protoLogits(embed, set, task), y));
}

/** The supervised model of the fine-tuning baseline: the embedding CNN and a linear head over the classes. */
export function supervisedModel(embed: EcgEmbeddingCnn, classes: number, g: Generator): nn.Sequential {
  return new nn.Sequential(embed, new nn.Linear(embed.config.embedDim, classes, { generator: g }));
}

/** A supervised training step: one class-balanced batch (drawn from `g`). */
export function supervisedStep(
  model: nn.Sequential,
  opt: optim.Optimizer<optim.BaseOptions>,
  set: MetaSet,
  batchSize: number,
  g: Generator,
): number {
  const idx = classBalancedBatches(set.label, batchSize, 1, { generator: g }).next().value as Int32Array;
  const y = tensor(
    Int32Array.from(idx, (i) => set.label[i]),
    [idx.length],
    { dtype: 'int32' },
  );
  return optimizerStep(opt, () => crossEntropy(model.forward(beatsTensor(set, idx)), y));
}
