/**
 * The training cases of the suite (issue #22): one SGD step of a model in training mode, shared by every engine
 * that trains (ecgnn-wasm / ecgnn-ts here, tfjs-cpu in tfjs-train.ts, pytorch-cpu in pytorch.ts).
 *
 * - `train-step`: the reference ECG CNN of the inference case (common.ts) with its seeded weights, batchnorm in
 *   training mode (batch statistics), `batch` windows of 360 samples, 5 classes.
 * - `train-step-teacher`: the residual teacher of the distillation experiment (`@ecgnn/models`
 *   `resnet-teacher`, default architecture: 98,857 parameters), `batch` beat windows of 126 samples plus 4 RR
 *   features, 5 classes, its seeded initial weights. Its head dropout (0.3 in the experiment) is set to 0 here:
 *   a dropout mask comes from each engine's own random generator, so with it the engines' losses could not be
 *   compared; the layer's cost ([batch, 68] values) is negligible.
 *
 * One step = forward + mean cross-entropy + backward + SGD (lr 0.05, momentum 0.9, as the distillation
 * experiment trains; PyTorch's `torch.optim.SGD` update), on one of {@link TRAIN.batches} seeded batches in
 * turn. Before timing, every engine runs {@link TRAIN.checkSteps} steps from the initial weights and reports
 * the check vector [loss₁, …, loss_K, ‖θ_K − θ₀‖ per parameter tensor] (PyTorch state-dict order), compared
 * element by element with the same steps in float64 on `@ecgnn/core`'s CPU backend ({@link trainReference}):
 * the losses check the forward pass, the parameter changes the gradients and the update.
 */
import {
  crossEntropy,
  Generator,
  type Module,
  nn,
  optim,
  type Tensor,
  tensor,
  tidy,
  withBackend,
} from '@ecgnn/core';
import { createModel, PooledClassifier } from '@ecgnn/models';
import { ECG, ecgWeights, type Prepared, seeded } from './common.js';

/** Names of the training cases. */
export const TRAIN_CASES = ['train-step', 'train-step-teacher'] as const;
/** A training case. */
export type TrainCase = (typeof TRAIN_CASES)[number];

/** Settings shared by every engine. */
export const TRAIN = {
  lr: 0.05,
  momentum: 0.9,
  /**
   * Steps from the initial weights whose losses and parameter changes are compared before timing. Two: the
   * second loss is taken after the first update, the parameter changes include both gradients and the momentum.
   * (After a third step PyTorch's float32 teacher run differs from the float64 reference by up to 1 % in some
   * parameter changes — PyTorch in float64 agrees with it to 1e-12 — while after two steps every float32 engine
   * is within 4e-4.)
   */
  checkSteps: 2,
  /** Distinct seeded batches, used in turn. */
  batches: 4,
  classes: 5,
  /** Largest element-wise relative difference from the float64 reference (see {@link trainCheckError}). */
  tolerance: 2e-3,
} as const;

/** The teacher's inputs as in the distillation experiment (beat window of 126 samples at 180 Hz, 4 RR features). */
export const TEACHER_IO = { inChannels: 1, length: 126, rrFeatures: 4, classes: 5 } as const;

/** One seeded batch: windows `[batch, 1, length]`, RR features `[batch, rr]` or null, labels. */
export interface TrainBatch {
  x: Float32Array;
  rr: Float32Array | null;
  y: Int32Array;
}

/** Window length and RR feature count of a case. */
export function trainInputShape(name: TrainCase): { length: number; rrFeatures: number } {
  return name === 'train-step'
    ? { length: ECG.length, rrFeatures: 0 }
    : { length: TEACHER_IO.length, rrFeatures: TEACHER_IO.rrFeatures };
}

/** The {@link TRAIN.batches} seeded batches of a case. */
export function trainBatches(name: TrainCase, batch: number): TrainBatch[] {
  const { length, rrFeatures } = trainInputShape(name);
  const base = name === 'train-step' ? 300 : 400;
  return Array.from({ length: TRAIN.batches }, (_, i) => {
    const seed = base + 10 * i;
    const u = seeded(batch, seed + 2);
    return {
      x: seeded(batch * length, seed),
      rr: rrFeatures > 0 ? seeded(batch * rrFeatures, seed + 1) : null,
      y: Int32Array.from(u, (v) => Math.min(TRAIN.classes - 1, Math.floor(((v + 1) / 2) * TRAIN.classes))),
    };
  });
}

/** Parameter names (PyTorch state-dict order) and values of the `train-step` CNN, from common.ts' seeded weights. */
export function ecgTrainParameters(): Array<[string, Float32Array]> {
  const w = ecgWeights();
  return [
    ['0.weight', w.w1],
    ['1.weight', w.bn1.gamma],
    ['1.bias', w.bn1.beta],
    ['4.weight', w.w2],
    ['5.weight', w.bn2.gamma],
    ['5.bias', w.bn2.beta],
    ['8.weight', w.w3],
    ['9.weight', w.w4],
    ['9.bias', w.b4],
    ['12.weight', w.w5],
    ['12.bias', w.b5],
  ];
}

/**
 * The model of a case in `@ecgnn/core` modules, in training mode, with the case's initial weights. `train-step`:
 * Conv(1→16, k7, same) → BN → ReLU → MaxPool2 → Conv(16→32, k5) → BN → ReLU → MaxPool2 → depthwise Conv(32, k5)
 * → Conv(32→64, k1, bias) → ReLU → global average pool → Linear(64→5) (convolutions before a BN have no bias).
 */
export function trainModel(name: TrainCase): Module<[Tensor, (Tensor | null)?], Tensor> {
  if (name === 'train-step-teacher') {
    const model = createModel(
      { kind: 'resnet-teacher', ...TEACHER_IO, dropout: 0 },
      { generator: new Generator(22) },
    );
    return model.train();
  }
  const eps = { eps: ECG.eps };
  const model = new nn.Sequential(
    new nn.Conv1d(1, ECG.c1, ECG.k1, { padding: 'same', bias: false }),
    new nn.BatchNorm1d(ECG.c1, eps),
    new nn.ReLU(),
    new nn.MaxPool1d(2),
    new nn.Conv1d(ECG.c1, ECG.c2, ECG.k2, { bias: false }),
    new nn.BatchNorm1d(ECG.c2, eps),
    new nn.ReLU(),
    new nn.MaxPool1d(2),
    new nn.Conv1d(ECG.c2, ECG.c2, ECG.k3, { groups: ECG.c2, bias: false }),
    new nn.Conv1d(ECG.c2, ECG.c3, 1),
    new nn.ReLU(),
    new nn.GlobalAvgPool1d(),
    new nn.Linear(ECG.c3, ECG.classes),
  );
  const values = new Map(ecgTrainParameters());
  for (const [n, p] of model.namedParameters()) {
    const v = values.get(n);
    if (v === undefined || v.length !== p.data.length) throw new Error(`train-step: no weights for ${n}`);
    p.data.set(v);
  }
  return model.train() as unknown as Module<[Tensor, (Tensor | null)?], Tensor>;
}

/** A training loop over a model: `step()` runs one step on the next batch and returns its loss. */
export interface CoreTrainer {
  step(): number;
  /** [loss₁, …, loss_K, ‖θ_K − θ₀‖ per parameter] of K steps from the current weights. */
  checkVector(steps: number): Float64Array;
}

/** The parts of a step, in order, as {@link coreTrainer} announces them (benchmarks/train-profile.ts). */
export type StepPhase = 'forward' | 'item' | 'backward' | 'optimizer' | 'other';

/**
 * One SGD step per call on `model` (already on its dtype and backend) over the case's batches. `onPhase`, when
 * given, is called as each part of the step begins (zeroGrad and the disposal at the end of `tidy` are 'other').
 */
export function coreTrainer(
  name: TrainCase,
  batch: number,
  model: Module<[Tensor, (Tensor | null)?], Tensor>,
  onPhase?: (next: StepPhase) => void,
) {
  const dtype = model.parameters()[0].dtype as 'float32' | 'float64';
  const { length, rrFeatures } = trainInputShape(name);
  const data = trainBatches(name, batch).map((b) => ({
    x: tensor(b.x, [batch, 1, length], { dtype }),
    rr: b.rr === null ? null : tensor(b.rr, [batch, rrFeatures], { dtype }),
    y: tensor(b.y, [batch], { dtype: 'int32' }),
  }));
  const opt = new optim.SGD(model.parameters(), { lr: TRAIN.lr, momentum: TRAIN.momentum });
  let k = 0;
  const step = (): number => {
    const b = data[k++ % data.length];
    // As the Trainer's step: zero the gradients, forward, loss, backward, update, inside tidy().
    return tidy(() => {
      opt.zeroGrad();
      onPhase?.('forward');
      const loss = crossEntropy(b.rr === null ? model.call(b.x) : model.call(b.x, b.rr), b.y);
      onPhase?.('item');
      const value = loss.item();
      onPhase?.('backward');
      loss.backward();
      onPhase?.('optimizer');
      opt.step();
      onPhase?.('other');
      return value;
    });
  };
  const checkVector = (steps: number): Float64Array => {
    const params = model.parameters();
    const before = params.map((p) => Float64Array.from(p.data));
    const out = new Float64Array(steps + params.length);
    for (let s = 0; s < steps; s++) out[s] = step();
    params.forEach((p, i) => {
      out[steps + i] = deltaNorm(p.data, before[i]);
    });
    return out;
  };
  return { step, checkVector } satisfies CoreTrainer;
}

/** ‖a − b‖₂ in float64. */
export function deltaNorm(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * Largest element-wise relative difference max_i |a_i − b_i| / max(|b_i|, 1e-6) (∞ on a length mismatch or a
 * non-finite value): every loss and every parameter change must agree, not only the largest.
 */
export function trainCheckError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-6);
    if (!(e <= worst)) worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
  }
  return worst;
}

const referenceCache = new Map<string, Float64Array>();

/** The check vector of a case in float64 on `@ecgnn/core`'s CPU backend (the oracle of every engine). */
export function trainReference(name: TrainCase, batch: number): Float64Array {
  const key = `${name}|${batch}`;
  let ref = referenceCache.get(key);
  if (ref === undefined) {
    ref = withBackend('cpu', () => {
      const model = trainModel(name).to('float64');
      return coreTrainer(name, batch, model).checkVector(TRAIN.checkSteps);
    });
    referenceCache.set(key, ref);
  }
  return ref;
}

/** A training case on `@ecgnn/core` with the current backend (ecgnn-wasm, ecgnn-ts). */
export function coreTrainCase(name: TrainCase, batch: number, backendNote: string): Prepared {
  const trainer = coreTrainer(name, batch, trainModel(name));
  let last = Number.NaN;
  return {
    run: () => {
      last = trainer.step();
    },
    output: () => [last],
    check: async () => {
      const got = trainer.checkVector(TRAIN.checkSteps);
      const ref = trainReference(name, batch);
      return { error: trainCheckError(got, ref), tolerance: TRAIN.tolerance };
    },
    note: `${backendNote}: ${name === 'train-step' ? 'nn.Sequential of the reference CNN' : '@ecgnn/models resnet-teacher (dropout 0)'}, train mode; tidy(() => { zeroGrad; crossEntropy(model(x), y).item(); backward; SGD step })`,
  };
}

/** Plain description of a module tree, read by pytorch_train.py to build the same model with the same names. */
export type ModuleSpec = { type: string } & Record<string, unknown>;

/** The module tree of a model as a {@link ModuleSpec} (only the layer classes the training cases use). */
export function moduleSpec(m: unknown): ModuleSpec {
  if (m instanceof PooledClassifier) {
    return {
      type: 'PooledClassifier',
      features: moduleSpec(m.features),
      pool: moduleSpec(m.pool),
      drop: moduleSpec(m.drop),
      head: moduleSpec(m.head),
      rrFeatures: (m.config as { rrFeatures: number }).rrFeatures,
    };
  }
  if (m instanceof nn.Sequential) {
    return { type: 'Sequential', children: [...m.namedChildren()].map(([n, c]) => [n, moduleSpec(c)]) };
  }
  if (m instanceof nn.Residual) {
    return {
      type: 'Residual',
      body: moduleSpec(m.body),
      shortcut: m.shortcut === null ? null : moduleSpec(m.shortcut),
    };
  }
  if (m instanceof nn.Conv1d) {
    const h = m.hyper;
    if (h.padValue !== 0) throw new Error('moduleSpec: Conv1d padValue must be 0');
    return {
      type: 'Conv1d',
      inChannels: m.inChannels,
      outChannels: m.outChannels,
      kernelSize: m.kernelSize,
      stride: h.stride,
      padding: h.padding,
      dilation: h.dilation,
      groups: h.groups,
      bias: m.bias !== null,
    };
  }
  if (m instanceof nn.BatchNorm1d) {
    return { type: 'BatchNorm1d', numFeatures: m.numFeatures, eps: m.eps, momentum: m.momentum };
  }
  if (m instanceof nn.MaxPool1d) {
    return { type: 'MaxPool1d', kernelSize: m.kernelSize, stride: m.stride, padding: m.padding };
  }
  if (m instanceof nn.Linear) {
    return { type: 'Linear', inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias !== null };
  }
  if (m instanceof nn.Dropout) return { type: 'Dropout', p: m.p };
  if (m instanceof nn.ReLU) return { type: 'ReLU' };
  if (m instanceof nn.GlobalAvgPool1d) return { type: 'GlobalAvgPool1d' };
  throw new Error(`moduleSpec: no PyTorch port of ${(m as object).constructor.name}`);
}
