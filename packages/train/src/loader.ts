/**
 * The data loader: batches of a {@link Dataset} drawn by a {@link BatchSampler}, collated into tensors —
 * one `[B, …shape]` float tensor per dataset input, int32 labels `[B]`, and multi-label targets `[B, T]`
 * when the dataset has them. Collation copies rows into the batch tensors' storage and allocates nothing
 * else; with `reuseBuffers` that storage is reused from batch to batch as well.
 */
import { Generator as RandomGenerator, Tensor, ValueError } from '@ecgnn/core';
import { type Augmentation, type AugmentSpec, augmentSeed, createAugmentation } from './augment.js';
import { checkDataset, type Dataset, itemSize } from './dataset.js';
import { type BatchSampler, createSampler, type HardnessScore, type SamplerSpec } from './samplers.js';

/** One collated batch. */
export interface Batch {
  /** One tensor per dataset input, `[B, …shape]`, in the dataset's input order (the model's argument order). */
  inputs: Tensor[];
  /** Class of each item, int32 `[B]`. */
  label: Tensor;
  /** Multi-label targets `[B, T]` (0/1 floats), when the dataset has them. */
  target: Tensor | null;
  /** Dataset index of each item. */
  index: Int32Array;
  /** Number of items (B). */
  size: number;
}

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions {
  /** Items per batch. */
  batchSize: number;
  /** How batches are drawn (default sequential), or a sampler made elsewhere. */
  sampler?: SamplerSpec | BatchSampler;
  /** Seed of the sampler (default 0). */
  seed?: number;
  /** Scores of the hard-example sampler. */
  score?: HardnessScore;
  /**
   * Reuse one set of batch storage per batch size (default false). The tensors of a batch are then valid
   * only until the next batch is drawn: safe in a training loop that finishes a step (forward, backward,
   * update) before drawing the next batch, wrong when batches are kept.
   */
  reuseBuffers?: boolean;
  /**
   * Random transforms of each batch that {@link DataLoader.epoch} yields (training batches), applied to the
   * batch's copy of the rows; draws seeded per (seed, epoch, batch), see augment.ts. `collate`
   * never augments.
   */
  augment?: AugmentSpec;
}

interface Buffers {
  inputs: Float32Array[];
  label: Int32Array;
  target: Float32Array | null;
}

/** Batches of a dataset (see the module comment). */
export class DataLoader {
  /** The dataset. */
  readonly dataset: Dataset;
  /** The sampler. */
  readonly sampler: BatchSampler;
  /** Items per batch. */
  readonly batchSize: number;
  private readonly reuse: boolean;
  private readonly buffers = new Map<number, Buffers>();
  private readonly sizes: number[];
  private readonly seed: number;
  /** The loader's augmentation (null: none). */
  readonly augmentation: Augmentation | null;
  private readonly augmentGenerator = new RandomGenerator(0);

  /** Checks the dataset and makes the sampler. */
  constructor(dataset: Dataset, opts: DataLoaderOptions) {
    checkDataset(dataset);
    if (dataset.count === 0) throw new ValueError('DataLoader: the dataset is empty');
    this.dataset = dataset;
    this.batchSize = opts.batchSize;
    const s = opts.sampler ?? { kind: 'sequential' };
    this.sampler =
      'epochBatches' in s
        ? s
        : createSampler(s, dataset.label, dataset.classes.length, {
            batchSize: opts.batchSize,
            seed: opts.seed,
            score: opts.score,
          });
    this.reuse = opts.reuseBuffers ?? false;
    this.sizes = dataset.inputs.map(itemSize);
    this.seed = opts.seed ?? 0;
    this.augmentation =
      opts.augment === undefined || opts.augment.steps.length === 0
        ? null
        : createAugmentation(opts.augment, dataset.inputs);
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return this.sampler.batchesPerEpoch;
  }

  /**
   * The batches of epoch `epoch` (0-based), from batch `start` on, augmented when the loader has an
   * augmentation (batch b's draws depend only on the seed, `epoch` and b, so a resumed epoch repeats them).
   */
  *epoch(epoch: number, start = 0): Generator<Batch> {
    let b = start;
    for (const index of this.sampler.epochBatches(epoch, start)) {
      const batch = this.collate(index);
      if (this.augmentation !== null) {
        this.augmentGenerator.manualSeed(augmentSeed(this.seed, epoch, b));
        this.augmentation.apply(
          batch.inputs.map((t) => t.data as Float32Array),
          batch.size,
          this.augmentGenerator,
        );
      }
      b++;
      yield batch;
    }
  }

  /** Collates the items `index` into a batch (see {@link DataLoaderOptions.reuseBuffers}). */
  collate(index: Int32Array): Batch {
    const ds = this.dataset;
    const B = index.length;
    if (B === 0) throw new ValueError('DataLoader: empty batch');
    const buf = this.buffersFor(B);
    for (let b = 0; b < B; b++) {
      const i = index[b];
      if (!(i >= 0 && i < ds.count))
        throw new ValueError(`DataLoader: item index ${i} outside 0..${ds.count - 1}`);
      buf.label[b] = ds.label[i];
    }
    for (let k = 0; k < ds.inputs.length; k++) {
      const src = ds.inputs[k].data;
      const dst = buf.inputs[k];
      const s = this.sizes[k];
      for (let b = 0; b < B; b++) dst.set(src.subarray(index[b] * s, (index[b] + 1) * s), b * s);
    }
    if (buf.target !== null && ds.targets !== undefined) {
      const w = buf.target.length / B;
      for (let b = 0; b < B; b++)
        buf.target.set(ds.targets.subarray(index[b] * w, (index[b] + 1) * w), b * w);
    }
    return {
      inputs: ds.inputs.map((inp, k) => new Tensor(buf.inputs[k], [B, ...inp.shape])),
      label: new Tensor(buf.label, [B]),
      target: buf.target === null ? null : new Tensor(buf.target, [B, buf.target.length / B]),
      index,
      size: B,
    };
  }

  private buffersFor(B: number): Buffers {
    const cached = this.reuse ? this.buffers.get(B) : undefined;
    if (cached !== undefined) return cached;
    const ds = this.dataset;
    const T = ds.targets !== undefined ? (ds.targetNames?.length ?? 0) : 0;
    const buf: Buffers = {
      inputs: this.sizes.map((s) => new Float32Array(B * s)),
      label: new Int32Array(B),
      target: T > 0 ? new Float32Array(B * T) : null,
    };
    if (this.reuse) this.buffers.set(B, buf);
    return buf;
  }
}
