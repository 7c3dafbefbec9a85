import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crossEntropy, Generator, optim, randn, Tensor } from '@ecgnn/core';
import { createModel, type EcgClassifier } from '@ecgnn/models';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  CheckpointError,
  captureCheckpoint,
  checkpointFromBytes,
  checkpointToBytes,
  createSampler,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ecgnn-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = {
  kind: 'student',
  length: 32,
  rrFeatures: 2,
  classes: 3,
  channels: [4, 4],
  kernels: [3, 3],
} as const;

interface Run {
  model: EcgClassifier;
  optimizer: optim.AdamW;
  scheduler: optim.CosineAnnealingLR;
  gen: Generator;
}

function newRun(seed: number): Run {
  const gen = new Generator(seed);
  const model = createModel(CONFIG, { generator: gen });
  const optimizer = new optim.AdamW(model.parameters(), { lr: 0.01, weightDecay: 0.01 });
  const scheduler = new optim.CosineAnnealingLR(optimizer, 10, 0.001);
  return { model, optimizer, scheduler, gen };
}

const data = new Generator(123);
const X = randn([6, 1, 32], { generator: data });
const RR = randn([6, 2], { generator: data });
const Y = new Tensor(Int32Array.from([0, 1, 2, 0, 1, 2]), [6]);

function trainStep(r: Run): number {
  r.optimizer.zeroGrad();
  const loss = crossEntropy(r.model.call(X, RR), Y);
  loss.backward();
  r.optimizer.step();
  r.scheduler.step();
  return loss.item();
}

function weights(r: Run): number[] {
  return r.model.parameters().flatMap((p) => Array.from(p.data));
}

describe('checkpoint format', () => {
  it('round-trips JSON, tensors of every dtype, typed arrays and non-finite numbers bit-exactly', () => {
    const f32 = new Tensor(Float32Array.from([1.5, -0, 3e-38, Math.PI]), [2, 2]);
    const f64 = new Tensor(Float64Array.from([Math.PI, 1e-300]), [2]);
    const i32 = new Tensor(Int32Array.from([7]), []);
    const tree = {
      a: [1, 'x', true, null, { b: Number.NaN, c: Number.POSITIVE_INFINITY, d: -Infinity }],
      f32,
      f64,
      i32,
      arr: Int32Array.from([3, -4]),
      skipped: undefined,
    };
    const back = decodeCheckpoint(encodeCheckpoint(tree)) as Record<string, unknown>;
    expect(back.a).toEqual([
      1,
      'x',
      true,
      null,
      { b: Number.NaN, c: Number.POSITIVE_INFINITY, d: -Infinity },
    ]);
    for (const k of ['f32', 'f64', 'i32'] as const) {
      const t = back[k] as Tensor;
      expect(t.dtype).toBe(tree[k].dtype);
      expect(t.shape).toEqual(tree[k].shape);
      expect(Array.from(t.data)).toEqual(Array.from(tree[k].data));
    }
    expect(Object.is((back.f32 as Tensor).data[1], -0)).toBe(true);
    expect(back.arr).toEqual(Int32Array.from([3, -4]));
    expect('skipped' in back).toBe(false);
  });

  it('aligns the blob and every tensor to 64 bytes and ends with the CRC-32', () => {
    const bytes = encodeCheckpoint({ t: new Tensor(new Float32Array(3), [3]), u: new Float64Array(5) });
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const headerLength = dv.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
    expect(header.tensors.map((e: { offset: number }) => e.offset)).toEqual([0, 64]);
    const blobStart = Math.ceil((16 + headerLength) / 64) * 64;
    expect(bytes.length).toBe(blobStart + header.blobLength + 4);
  });

  it('rejects damaged files with a CheckpointError naming the problem', () => {
    const good = encodeCheckpoint({ t: new Tensor(Float32Array.from([1, 2]), [2]) });
    const flipped = good.slice();
    flipped[good.length - 10] ^= 1;
    expect(() => decodeCheckpoint(flipped, 'x.ckpt')).toThrow(/x\.ckpt: checksum mismatch/);
    expect(() => decodeCheckpoint(good.subarray(0, good.length - 64))).toThrow(
      /checksum mismatch|blobLength/,
    );
    const magic = good.slice();
    magic[0] = 0;
    expect(() => decodeCheckpoint(magic)).toThrow(/bad magic/);
    expect(() => decodeCheckpoint(new Uint8Array(10))).toThrow(/truncated/);
    expect(() => encodeCheckpoint({ f: (() => 1) as never })).toThrow(/cannot store function at \$\.f/);
    expect(() => encodeCheckpoint({ m: new Map() as never })).toThrow(/cannot store a Map at \$\.m/);
  });
});

describe('training checkpoints', () => {
  it('restore continues training exactly as without the interruption', () => {
    const a = newRun(5);
    for (let i = 0; i < 3; i++) trainStep(a);
    const sampler = createSampler({ kind: 'shuffled' }, Y.data as Int32Array, 3, { batchSize: 2 });
    const ck = captureCheckpoint(
      {
        model: a.model,
        optimizer: a.optimizer,
        scheduler: a.scheduler,
        sampler,
        generators: { model: a.gen },
      },
      { epoch: 1, batch: 2, step: 3 },
      { best: 0.5, history: [{ loss: 1 }] },
    );
    const path = join(dir, 'run.ckpt');
    saveCheckpoint(path, ck);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (let i = 0; i < 3; i++) trainStep(a);

    const b = newRun(77); // different initial weights and generator state
    const loaded = loadCheckpoint(path);
    expect(loaded.progress).toEqual({ epoch: 1, batch: 2, step: 3 });
    expect(loaded.extra).toEqual({ best: 0.5, history: [{ loss: 1 }] });
    expect(loaded.model.config).toEqual(a.model.config);
    restoreCheckpoint(loaded, {
      model: b.model,
      optimizer: b.optimizer,
      scheduler: b.scheduler,
      sampler,
      generators: { model: b.gen },
    });
    for (let i = 0; i < 3; i++) trainStep(b);
    expect(weights(b)).toEqual(weights(a));
    expect(b.gen.getState()).toEqual(a.gen.getState());
    expect(b.optimizer.paramGroups[0].lr).toBe(a.optimizer.paramGroups[0].lr);
  });

  it('loads strictly and names what does not fit, changing nothing', () => {
    const a = newRun(1);
    trainStep(a);
    const ck = checkpointFromBytes(
      checkpointToBytes(
        captureCheckpoint(
          { model: a.model, optimizer: a.optimizer, scheduler: a.scheduler, generators: { model: a.gen } },
          { epoch: 0, batch: 1, step: 1 },
        ),
      ),
    );
    const b = newRun(2);
    const before = weights(b);
    const parts = {
      model: b.model,
      optimizer: b.optimizer,
      scheduler: b.scheduler,
      generators: { model: b.gen },
    };

    const other = createModel({ ...CONFIG, channels: [4, 5] });
    expect(() => restoreCheckpoint(ck, { ...parts, model: other })).toThrow(/model config differs/);
    const sgd = new optim.SGD(b.model.parameters(), { lr: 0.1 });
    expect(() => restoreCheckpoint(ck, { ...parts, optimizer: sgd })).toThrow(
      /optimizer: checkpoint of a AdamW, the run uses a SGD/,
    );
    expect(() => restoreCheckpoint(ck, { ...parts, generators: {} })).toThrow(
      /generators: checkpoint has \[model\], the run \[\]/,
    );
    expect(() => restoreCheckpoint(ck, { ...parts, scheduler: null })).toThrow(
      /scheduler: the checkpoint has CosineAnnealingLR/,
    );

    const missing: Checkpoint = { ...ck, model: { ...ck.model, state: { ...ck.model.state } } };
    delete missing.model.state['head.bias'];
    expect(() => restoreCheckpoint(missing, parts)).toThrow(CheckpointError);
    expect(() => restoreCheckpoint(missing, parts)).toThrow(/model: .*missing keys 'head\.bias'/);

    // The optimizer fails after the model loaded: the model is rolled back.
    const badOpt: Checkpoint = {
      ...ck,
      optimizer: { className: 'AdamW', state: { ...ck.optimizer!.state, paramGroups: [] } },
    };
    expect(() => restoreCheckpoint(badOpt, parts)).toThrow(/optimizer: .*0 parameter groups/);
    expect(weights(b)).toEqual(before);
  });

  it('rejects files that are not training checkpoints', () => {
    const path = join(dir, 'plain.ckpt');
    writeFileSync(path, encodeCheckpoint({ format: 'something-else' }));
    expect(() => loadCheckpoint(path)).toThrow(/plain\.ckpt: not a training checkpoint/);
    expect(() => loadCheckpoint(join(dir, 'absent.ckpt'))).toThrow(/absent\.ckpt: cannot read checkpoint/);
    const a = newRun(3);
    const good = checkpointToBytes(captureCheckpoint({ model: a.model }, { epoch: 0, batch: 0, step: 0 }));
    const tree = decodeCheckpoint(good) as Record<string, unknown>;
    tree.surprise = 1;
    expect(() => checkpointFromBytes(encodeCheckpoint(tree as never))).toThrow(/unexpected field 'surprise'/);
    delete tree.surprise;
    delete tree.progress;
    expect(() => checkpointFromBytes(encodeCheckpoint(tree as never))).toThrow(/missing field 'progress'/);
  });

  it('overwrites atomically: the file is always a whole checkpoint', () => {
    const path = join(dir, 'over.ckpt');
    const a = newRun(4);
    saveCheckpoint(path, captureCheckpoint({ model: a.model }, { epoch: 0, batch: 0, step: 0 }));
    const first = readFileSync(path);
    trainStep(a);
    saveCheckpoint(path, captureCheckpoint({ model: a.model }, { epoch: 0, batch: 1, step: 1 }));
    expect(readFileSync(path).equals(first)).toBe(false);
    expect(loadCheckpoint(path).progress.step).toBe(1);
    expect(readdirSync(dir).some((f) => f.includes('.tmp'))).toBe(false);
  });
});
