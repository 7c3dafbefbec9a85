/**
 * Training checkpoints: the model (config and state dict), optimizer, LR scheduler, sampler and random
 * generator states and the run's position, in one checksummed file (format in checkpoint-format.ts), written
 * atomically (temporary file, fsync, rename) so a crash at any point leaves the previous checkpoint whole.
 * Loading is strict: anything missing, extra or of the wrong shape throws a {@link CheckpointError} naming it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Generator, nn, type optim, Tensor } from '@ecgnn/core';
import {
  CheckpointError,
  type CheckpointValue,
  decodeCheckpoint,
  encodeCheckpoint,
} from './checkpoint-format.js';
import type { BatchSampler, SamplerSpec, SamplerState } from './samplers.js';

/** Anything with a scheduler's state dict (every `optim` LR scheduler, ReduceLROnPlateau included). */
export interface StatefulScheduler {
  /** The scheduler's state (plain numbers and arrays). */
  stateDict(): optim.SchedulerStateDict;
  /** Restores {@link StatefulScheduler.stateDict}. */
  loadStateDict(sd: optim.SchedulerStateDict): void;
}

/** Where training stands. */
export interface TrainingProgress {
  /** Current epoch (0-based). */
  epoch: number;
  /** Next batch of that epoch (0 = the epoch has not started). */
  batch: number;
  /** Optimizer steps taken so far. */
  step: number;
}

/** Everything a checkpoint holds. */
export interface Checkpoint {
  /** The model: its config (for `createModel`; null for a model without one), state dict and module versions. */
  model: { config: Record<string, unknown> | null; state: nn.StateDict; versions: nn.StateDictMetadata };
  /** Optimizer class name and state dict, or null. */
  optimizer: { className: string; state: optim.OptimizerStateDict } | null;
  /** Scheduler class name and state dict, or null. */
  scheduler: { className: string; state: optim.SchedulerStateDict } | null;
  /** The sampler spec and its extra state (hard-example order), or null. */
  sampler: { spec: SamplerSpec; state: SamplerState | null } | null;
  /** States of the named random generators (`Generator.getState()`), e.g. the model's dropout generator. */
  generators: Record<string, number[]>;
  /** Where training stands. */
  progress: TrainingProgress;
  /** Free-form state of the trainer (best score, history, early-stopping counters, …): JSON plus tensors. */
  extra: Record<string, CheckpointValue>;
}

/** The parts of a run a checkpoint is taken from or restored into. */
export interface CheckpointParts {
  /** The model (parameters and persistent buffers). */
  model: nn.AnyModule;
  /** The optimizer (per-parameter state, group options). */
  optimizer?: optim.Optimizer<optim.BaseOptions> | null;
  /** The LR scheduler. */
  scheduler?: StatefulScheduler | null;
  /** The batch sampler (its spec, and the hard-example order). */
  sampler?: BatchSampler | null;
  /** Random generators by name. */
  generators?: Record<string, Generator>;
}

function configOf(model: unknown): Record<string, unknown> | null {
  const c = (model as { config?: unknown }).config;
  return typeof c === 'object' && c !== null
    ? (JSON.parse(JSON.stringify(c)) as Record<string, unknown>)
    : null;
}

/** Takes a checkpoint of `parts` at `progress` (copies: later training does not change it). */
export function captureCheckpoint(
  parts: CheckpointParts,
  progress: TrainingProgress,
  extra: Record<string, CheckpointValue> = {},
): Checkpoint {
  const state = parts.model.stateDict();
  const generators: Record<string, number[]> = {};
  for (const [name, g] of Object.entries(parts.generators ?? {})) generators[name] = g.getState();
  return {
    model: { config: configOf(parts.model), state, versions: nn.stateDictMetadata(state) ?? {} },
    optimizer: parts.optimizer
      ? { className: parts.optimizer.constructor.name, state: parts.optimizer.stateDict() }
      : null,
    scheduler: parts.scheduler
      ? { className: parts.scheduler.constructor.name, state: structuredClone(parts.scheduler.stateDict()) }
      : null,
    sampler: parts.sampler
      ? { spec: structuredClone(parts.sampler.spec), state: parts.sampler.state() }
      : null,
    generators,
    progress: { ...progress },
    extra,
  };
}

/** The bytes of a checkpoint file. */
export function checkpointToBytes(ck: Checkpoint): Uint8Array {
  const root: CheckpointValue = {
    format: 'ecgnn-train-checkpoint',
    model: {
      config: ck.model.config as CheckpointValue,
      state: { ...ck.model.state },
      versions: ck.model.versions as unknown as CheckpointValue,
    },
    optimizer: ck.optimizer as unknown as CheckpointValue,
    scheduler: ck.scheduler as unknown as CheckpointValue,
    sampler: ck.sampler as unknown as CheckpointValue,
    generators: ck.generators,
    progress: { ...ck.progress },
    extra: ck.extra,
  };
  return encodeCheckpoint(root);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Tensor) &&
    !ArrayBuffer.isView(v)
  );
}

/** Parses and checks checkpoint bytes (see {@link CheckpointError}). */
export function checkpointFromBytes(bytes: Uint8Array, file?: string): Checkpoint {
  const root = decodeCheckpoint(bytes, file);
  const fail = (m: string): never => {
    throw new CheckpointError(m, file);
  };
  if (!isRecord(root) || root.format !== 'ecgnn-train-checkpoint')
    fail("not a training checkpoint (format is not 'ecgnn-train-checkpoint')");
  const r = root as Record<string, unknown>;
  const expected = [
    'format',
    'model',
    'optimizer',
    'scheduler',
    'sampler',
    'generators',
    'progress',
    'extra',
  ];
  for (const k of Object.keys(r)) if (!expected.includes(k)) fail(`unexpected field '${k}'`);
  for (const k of expected) if (!(k in r)) fail(`missing field '${k}'`);
  const model = r.model;
  if (!isRecord(model) || !isRecord(model.state) || !isRecord(model.versions))
    fail('model must hold config, state and versions');
  const m = model as Record<string, Record<string, unknown>>;
  if (m.config !== null && !isRecord(m.config)) fail('model.config must be an object or null');
  for (const [k, t] of Object.entries(m.state))
    if (!(t instanceof Tensor)) fail(`model.state['${k}'] is not a tensor`);
  for (const field of ['optimizer', 'scheduler'] as const) {
    const v = r[field];
    if (v !== null && (!isRecord(v) || typeof v.className !== 'string' || !isRecord(v.state))) {
      fail(`${field} must be null or { className, state }`);
    }
  }
  const opt = r.optimizer as { state: Record<string, unknown> } | null;
  if (opt !== null && (!Array.isArray(opt.state.paramGroups) || !isRecord(opt.state.state))) {
    fail('optimizer.state must hold paramGroups and state');
  }
  const sampler = r.sampler;
  if (
    sampler !== null &&
    (!isRecord(sampler) || !isRecord(sampler.spec) || typeof sampler.spec.kind !== 'string')
  ) {
    fail('sampler must be null or { spec, state }');
  }
  if (!isRecord(r.generators)) fail('generators must be an object');
  for (const [k, s] of Object.entries(r.generators as Record<string, unknown>)) {
    if (!Array.isArray(s) || s.length !== 5 || s.some((x) => typeof x !== 'number'))
      fail(`generators.${k} is not a generator state`);
  }
  const p = r.progress;
  if (
    !isRecord(p) ||
    !(['epoch', 'batch', 'step'] as const).every((k) => Number.isInteger(p[k]) && (p[k] as number) >= 0)
  ) {
    fail('progress must hold non-negative integers epoch, batch, step');
  }
  if (!isRecord(r.extra)) fail('extra must be an object');
  const ck = r as unknown as Checkpoint;
  nn.setStateDictMetadata(ck.model.state, ck.model.versions);
  return ck;
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory is written and fsynced, then
 * renamed over `path` (rename is atomic within a file system), then the directory is fsynced where the
 * platform allows. A crash leaves either the old file or the new one, never a mix.
 */
export function writeFileAtomicSync(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  try {
    const d = openSync(dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    // NOTE: fsync on a directory is not supported everywhere (e.g. Windows); the rename itself is still atomic.
  }
}

/** Saves a checkpoint to `path` atomically (see {@link writeFileAtomicSync}). */
export function saveCheckpoint(path: string, ck: Checkpoint): void {
  writeFileAtomicSync(path, checkpointToBytes(ck));
}

/** Reads and checks the checkpoint at `path` (a {@link CheckpointError} names the file and the problem). */
export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(`cannot read checkpoint: ${(err as Error).message}`, path);
  }
  return checkpointFromBytes(bytes, path);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Restores `ck` into `parts`, strictly: the model's config (when both have one) must equal the checkpoint's,
 * the state dict must fit exactly (no missing or unexpected keys, equal shapes), the optimizer and scheduler
 * must be of the checkpoint's classes, the sampler spec equal, and the generators the same names. Nothing is
 * changed unless everything fits (a part that fails rolls back the parts loaded before it); a
 * {@link CheckpointError} names the first part that does not fit.
 */
export function restoreCheckpoint(ck: Checkpoint, parts: CheckpointParts, file?: string): void {
  const fail = (m: string): never => {
    throw new CheckpointError(m, file);
  };
  const config = configOf(parts.model);
  if (config !== null && ck.model.config !== null && !sameJson(config, ck.model.config)) {
    fail(
      `model config differs: checkpoint ${JSON.stringify(ck.model.config)}, model ${JSON.stringify(config)}`,
    );
  }
  const optimizer = parts.optimizer ?? null;
  if ((optimizer === null) !== (ck.optimizer === null)) {
    fail(
      `optimizer: the checkpoint has ${ck.optimizer === null ? 'none' : ck.optimizer.className}, the run ${optimizer === null ? 'none' : optimizer.constructor.name}`,
    );
  }
  if (optimizer !== null && ck.optimizer !== null && optimizer.constructor.name !== ck.optimizer.className) {
    fail(
      `optimizer: checkpoint of a ${ck.optimizer.className}, the run uses a ${optimizer.constructor.name}`,
    );
  }
  const scheduler = parts.scheduler ?? null;
  if ((scheduler === null) !== (ck.scheduler === null)) {
    fail(
      `scheduler: the checkpoint has ${ck.scheduler === null ? 'none' : ck.scheduler.className}, the run ${scheduler === null ? 'none' : scheduler.constructor.name}`,
    );
  }
  if (scheduler !== null && ck.scheduler !== null && scheduler.constructor.name !== ck.scheduler.className) {
    fail(
      `scheduler: checkpoint of a ${ck.scheduler.className}, the run uses a ${scheduler.constructor.name}`,
    );
  }
  const sampler = parts.sampler ?? null;
  if (sampler !== null && ck.sampler !== null && !sameJson(sampler.spec, ck.sampler.spec)) {
    fail(
      `sampler: checkpoint drew batches by ${JSON.stringify(ck.sampler.spec)}, the run by ${JSON.stringify(sampler.spec)}`,
    );
  }
  const gens = parts.generators ?? {};
  const want = Object.keys(gens).sort();
  const have = Object.keys(ck.generators).sort();
  if (!sameJson(want, have))
    fail(`generators: checkpoint has [${have.join(', ')}], the run [${want.join(', ')}]`);
  // Model, optimizer, scheduler: each load checks before it copies; a later failure rolls the earlier back.
  const modelBefore = parts.model.stateDict();
  const optimizerBefore = optimizer?.stateDict() ?? null;
  const schedulerBefore = scheduler === null ? null : structuredClone(scheduler.stateDict());
  const rollback = (): void => {
    parts.model.loadStateDict(modelBefore);
    if (optimizer !== null && optimizerBefore !== null) optimizer.loadStateDict(optimizerBefore);
    if (scheduler !== null && schedulerBefore !== null) scheduler.loadStateDict(schedulerBefore);
  };
  const step = (what: string, load: () => void): void => {
    try {
      load();
    } catch (err) {
      rollback();
      fail(`${what}: ${(err as Error).message}`);
    }
  };
  step('model', () => parts.model.loadStateDict(ck.model.state, { strict: true }));
  if (optimizer !== null && ck.optimizer !== null) {
    const state = ck.optimizer.state;
    step('optimizer', () => optimizer.loadStateDict(state));
  }
  if (scheduler !== null && ck.scheduler !== null) {
    const state = ck.scheduler.state;
    step('scheduler', () => scheduler.loadStateDict(structuredClone(state)));
  }
  step('sampler', () => sampler?.loadState(ck.sampler?.state ?? null));
  for (const [name, g] of Object.entries(gens)) g.setState(ck.generators[name]);
}
