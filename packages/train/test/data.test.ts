import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { crossEntropy, Tensor } from '@ecgnn/core';
import {
  AAMI_CLASSES,
  dataDir,
  extractBeats,
  type FragmentSet,
  loadAnnotations,
  loadRecord,
  normalizeRr,
  rrFeatures,
  syntheticEcg,
} from '@ecgnn/data';
import { describe, expect, it } from 'vitest';
import {
  type BatchSampler,
  beatItems,
  beatPreprocessing,
  classCounts,
  concatDatasets,
  createSampler,
  DataLoader,
  type Dataset,
  fragmentDataset,
  fragmentPreprocessing,
  itemCrossEntropy,
  itemsOfGroups,
  loadBeatDataset,
  modelIO,
  subsetDataset,
  syntheticBeatDataset,
} from '../src/index.js';

/** A tiny hand-made dataset: item i has window values [i, i + 0.5] and rr [−i], label i mod 3. */
function tiny(n: number): Dataset {
  const w = new Float32Array(2 * n);
  const rr = new Float32Array(n);
  const label = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    w[2 * i] = i;
    w[2 * i + 1] = i + 0.5;
    rr[i] = -i;
    label[i] = i % 3;
  }
  return {
    count: n,
    inputs: [
      { name: 'window', shape: [1, 2], data: w },
      { name: 'rr', shape: [1], data: rr },
    ],
    label,
    classes: ['a', 'b', 'c'],
    group: Array.from({ length: n }, (_, i) => `r${i % 2}`),
    preprocessing: null,
    description: 'tiny',
  };
}

function allBatches(s: BatchSampler, epoch: number, start = 0): number[][] {
  return Array.from(s.epochBatches(epoch, start), (b) => Array.from(b));
}

describe('beat preprocessing', () => {
  it('cuts windows around the R peaks (edge samples repeated), z-scored, with the RR features of dsp', () => {
    // A ramp at 180 Hz so no resampling happens: sample t has value t.
    const signal = Float32Array.from({ length: 400 }, (_, t) => t);
    const beats = Int32Array.from([10, 150, 300, 390]);
    const labels = [0, -1, 2, 1];
    const spec = beatPreprocessing({ sampleRate: 180, length: 20, before: 15, normalize: 'none' });
    const items = beatItems({ signal, fs: 180, beats, labels }, spec);
    expect(items.count).toBe(3);
    expect(Array.from(items.label)).toEqual([0, 2, 1]);
    expect(Array.from(items.beat)).toEqual([0, 2, 3]);
    // Beat at 10: window starts at −5 → five copies of sample 0, then 0…14.
    expect(Array.from(items.window.subarray(0, 7))).toEqual([0, 0, 0, 0, 0, 0, 1]);
    expect(items.window[19]).toBe(14);
    // Beat at 300: samples 285…304.
    expect(items.window[20]).toBe(285);
    // Beat at 390: window 375…394, then 395…399 and the last sample repeated.
    expect(items.window[59]).toBe(394);
    // RR over ALL beats (the unlabelled one included), then the kept rows.
    const all = normalizeRr(rrFeatures(beats, 180, 5), 4, spec.rr!.features);
    expect(Array.from(items.rr.subarray(4, 8))).toEqual(Array.from(all.subarray(8, 12)));
    const z = beatItems(
      { signal, fs: 180, beats, labels },
      beatPreprocessing({ sampleRate: 180, length: 20, before: 15 }),
    );
    const row = z.window.subarray(20, 40);
    const mean = row.reduce((a, b) => a + b, 0) / 20;
    expect(Math.abs(mean)).toBeLessThan(1e-5);
  });

  it('checks its spec and inputs', () => {
    expect(() => beatPreprocessing({ before: 200 })).toThrow(/before must be an integer in \[0, length\)/);
    expect(() => beatPreprocessing({ rr: { features: ['pre/nope-1' as never], localHalfWidth: 5 } })).toThrow(
      /rr.features/,
    );
    expect(() => beatPreprocessing({ bandpass: [40, 10] })).toThrow(/bandpass/);
    const spec = beatPreprocessing();
    expect(() =>
      beatItems(
        { signal: new Float32Array(10), fs: 360, beats: Int32Array.from([5, 3]), labels: [0, 0] },
        spec,
      ),
    ).toThrow(/beat 1 \(sample 3\) is not after beat 0/);
  });

  it('modelIO describes the inputs, rate, windowing and filters of an exported model', () => {
    const io = modelIO(beatPreprocessing({ bandpass: [0.5, 40] }));
    expect(io.inputs).toEqual([
      { name: 'window', shape: [1, 126], source: { kind: 'window' } },
      {
        name: 'rr',
        shape: [4],
        source: {
          kind: 'rr',
          features: ['pre/local-1', 'post/local-1', 'local/record-1', 'pre/record-1'],
          localHalfWidth: 5,
        },
      },
    ]);
    expect(io.input).toEqual({ channels: 1, length: 126, sampleRate: 180 });
    expect(io.windowing).toEqual({ mode: 'beat', before: 45 });
    expect(io.preprocessing).toEqual({
      removeBaseline: false,
      normalize: 'zscore',
      zscoreEps: 1e-6,
      bandpass: [0.5, 40],
      bandpassOrder: 2,
    });
    expect(modelIO(fragmentPreprocessing()).windowing).toEqual({ mode: 'segment', hop: 3600 });
    expect(modelIO(beatPreprocessing({ rr: null })).inputs).toHaveLength(1);
  });
});

describe('datasets', () => {
  const syn = syntheticBeatDataset({ records: 2, seconds: 40, seed: 3 });

  it('synthetic beat dataset: window + RR inputs, AAMI labels, one group per record', () => {
    expect(syn.classes).toEqual([...AAMI_CLASSES]);
    expect(syn.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['window', [1, 126]],
      ['rr', [4]],
    ]);
    expect(syn.inputs[0].data.length).toBe(syn.count * 126);
    const counts = classCounts(syn);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0); // S (APC)
    expect(counts[2]).toBeGreaterThan(0); // V (PVC)
    expect(new Set(syn.group)).toEqual(new Set(['synthetic-3', 'synthetic-4']));
    for (const v of syn.inputs[1].data) expect(Number.isFinite(v)).toBe(true);
    expect(syn.description).toMatch(/synthetic/);
    expect(syn.preprocessing).toEqual(beatPreprocessing());
    // Premature beats have a short previous RR relative to the local rhythm: 'pre/local-1' < 0 on average.
    let sumS = 0;
    let sumN = 0;
    for (let i = 0; i < syn.count; i++) {
      if (syn.label[i] === 1) sumS += syn.inputs[1].data[i * 4];
      if (syn.label[i] === 0) sumN += syn.inputs[1].data[i * 4];
    }
    expect(sumS / counts[1]).toBeLessThan(sumN / counts[0]);
  });

  it('subsets, groups and concatenation keep items aligned', () => {
    const d = tiny(7);
    const s = subsetDataset(d, [5, 1]);
    expect(Array.from(s.inputs[0].data)).toEqual([5, 5.5, 1, 1.5]);
    expect(Array.from(s.label)).toEqual([2, 1]);
    expect(s.group).toEqual(['r1', 'r1']);
    expect(Array.from(itemsOfGroups(d, ['r0']))).toEqual([0, 2, 4, 6]);
    const c = concatDatasets([s, subsetDataset(d, [0])]);
    expect(c.count).toBe(3);
    expect(Array.from(c.inputs[1].data)).toEqual([-5, -1, -0]);
    expect(() => subsetDataset(d, [7])).toThrow(/index 0 is 7/);
  });

  it('fragment dataset: filtered, z-scored windows of a FragmentSet', () => {
    const ecg = syntheticEcg({ seconds: 30, fs: 360, seed: 1 });
    const n = 3;
    const set: FragmentSet = {
      description: 'synthetic fragments',
      count: n,
      length: 3600,
      fs: 360,
      x: ecg.signal.slice(0, n * 3600),
      label: Int8Array.from([0, 1, 0]),
      classNames: ['NSR', 'APB'],
      record: ['s', 's', 's'],
      start: Int32Array.from([0, 3600, 7200]),
    };
    const ds = fragmentDataset(set, fragmentPreprocessing({ sampleRate: 180, length: 1800 }));
    expect(ds.count).toBe(3);
    expect(ds.inputs[0].shape).toEqual([1, 1800]);
    expect(ds.classes).toEqual(['NSR', 'APB']);
    const row = ds.inputs[0].data.subarray(1800, 3600);
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const sd = Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length);
    expect(Math.abs(mean)).toBeLessThan(1e-4);
    expect(sd).toBeCloseTo(1, 3);
    expect(() => fragmentDataset(set, fragmentPreprocessing({ sampleRate: 180, length: 1000 }))).toThrow(
      /become 1800 samples/,
    );
  });
});

describe('samplers', () => {
  const labels = Int32Array.from({ length: 23 }, (_, i) => (i < 17 ? 0 : i < 21 ? 1 : 2));

  it('sequential covers every item once, in order', () => {
    const s = createSampler({ kind: 'sequential' }, labels, 3, { batchSize: 5 });
    expect(s.batchesPerEpoch).toBe(5);
    expect(allBatches(s, 0).flat()).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(allBatches(s, 0, 4)).toEqual([[20, 21, 22]]);
  });

  it('shuffled: a permutation per epoch, reproducible by seed, resumable at any batch', () => {
    const s = createSampler({ kind: 'shuffled' }, labels, 3, { batchSize: 5, seed: 9 });
    const e0 = allBatches(s, 0);
    expect(e0.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(allBatches(s, 0)).toEqual(e0);
    expect(allBatches(s, 1)).not.toEqual(e0);
    expect(
      allBatches(createSampler({ kind: 'shuffled' }, labels, 3, { batchSize: 5, seed: 10 }), 0),
    ).not.toEqual(e0);
    expect(allBatches(s, 0, 2)).toEqual(e0.slice(2));
    const dropped = createSampler({ kind: 'shuffled', dropLast: true }, labels, 3, { batchSize: 5 });
    expect(dropped.batchesPerEpoch).toBe(4);
    expect(allBatches(dropped, 0).every((b) => b.length === 5)).toBe(true);
  });

  it('class-balanced and weighted samplers draw the classes by their shares', () => {
    const count = (s: BatchSampler): number[] => {
      const c = [0, 0, 0];
      for (const b of s.epochBatches(0)) for (const i of b) c[labels[i]]++;
      return c;
    };
    const bal = count(
      createSampler({ kind: 'class-balanced', batchesPerEpoch: 100 }, labels, 3, { batchSize: 30 }),
    );
    for (const c of bal) expect(c / 3000).toBeCloseTo(1 / 3, 1);
    const w = count(
      createSampler({ kind: 'weighted', batchesPerEpoch: 100, classShares: [0.6, 0.3, 0.1] }, labels, 3, {
        batchSize: 30,
      }),
    );
    expect(w[0] / 3000).toBeCloseTo(0.6, 1);
    expect(w[2] / 3000).toBeCloseTo(0.1, 1);
    const s = createSampler({ kind: 'weighted', batchesPerEpoch: 4 }, labels, 3, { batchSize: 3, seed: 1 });
    expect(allBatches(s, 2, 1)).toEqual(allBatches(s, 2).slice(1));
  });

  it('hard-example: the hardest of random pools, re-scored every refreshEvery batches, resumable', () => {
    // Score = the item's index (higher index = harder).
    let calls = 0;
    const score = (idx: Int32Array): Float32Array => {
      calls++;
      expect(idx.length).toBe(labels.length); // every item is re-scored
      return Float32Array.from(idx);
    };
    const spec = { kind: 'hard-example', refreshEvery: 2, poolFactor: 3, batchesPerEpoch: 6 } as const;
    const s = createSampler(spec, labels, 3, { batchSize: 5, score, seed: 4 });
    const all = allBatches(s, 0);
    expect(all).toHaveLength(6);
    expect(calls).toBe(3); // before batches 0, 2, 4
    const mean = all.flat().reduce((a, b) => a + b, 0) / 30;
    expect(mean).toBeGreaterThan(13); // hardest third of uniform draws over 0..22 (mean 11)
    // Stop after three batches, save, restore into a new sampler, finish: the same batches, and the restored
    // sampler does not re-score before batch 3 (it uses the saved scores).
    const it = s.epochBatches(1);
    const head = [0, 1, 2].map(() => Array.from(it.next().value as Int32Array));
    const state = s.state();
    expect(state?.batch).toBe(3);
    expect(state?.scores?.length).toBe(labels.length);
    const t = createSampler(spec, labels, 3, { batchSize: 5, score, seed: 4 });
    t.loadState(state);
    calls = 0;
    const tail = allBatches(t, 1, 3);
    expect(calls).toBe(1); // before batch 4 only
    expect([...head, ...tail]).toEqual(allBatches(s, 1));
    expect(() => t.loadState({ epoch: 1, batch: 3, scores: new Float32Array(2) })).toThrow(/scores 2 items/);
    expect(() => allBatches(createSampler(spec, labels, 3, { batchSize: 5, score }), 0, 3)).toThrow(
      /without its saved state/,
    );
    expect(() => createSampler(spec, labels, 3, { batchSize: 5 })).toThrow(/need a score function/);
  });

  it('hard-example: observed training losses replace the scores of the items just trained on', () => {
    const score = (idx: Int32Array) => Float32Array.from(idx, () => 1);
    const s = createSampler({ kind: 'hard-example', poolFactor: 2 }, labels, 3, {
      batchSize: 4,
      score,
      seed: 2,
    });
    s.observe?.(Int32Array.of(0), Float64Array.of(5)); // before any scoring: ignored
    const it = s.epochBatches(0);
    const first = it.next().value as Int32Array;
    s.observe?.(
      first,
      Float64Array.from(first, (_, j) => 0.25 * j),
    );
    const scores = s.state()?.scores as Float32Array;
    const last = new Map<number, number>();
    // With replacement: the last write of an item wins.
    for (let j = 0; j < first.length; j++) last.set(first[j], 0.25 * j);
    for (const [i, v] of last) expect(scores[i]).toBe(v);
    expect(scores.filter((x) => x === 1).length).toBeGreaterThanOrEqual(labels.length - first.length);
  });

  it('itemCrossEntropy equals crossEntropy with reduction none, also for large logits', () => {
    const logits = [2, -1, 0.5, 1000, 999, -1000];
    const y = Int32Array.of(0, 1);
    const got = itemCrossEntropy(logits, y, 3, new Float64Array(2));
    const want = crossEntropy(new Tensor(Float64Array.from(logits), [2, 3]), new Tensor(y, [2]), {
      reduction: 'none',
    }).data;
    expect(got[0]).toBeCloseTo(want[0], 12);
    expect(got[1]).toBeCloseTo(want[1], 9);
    expect(got[1]).toBeCloseTo(1 + Math.log(1 + Math.exp(-1) + Math.exp(-2000)), 9);
  });

  it('hard-example batches keep drawing rare classes to the end of an epoch (no collapse to the majority)', () => {
    // 90 % class 0. The model gets every item of class 0 right (score 0) and classes 1, 2 wrong (score 1):
    // every batch is mostly classes 1 and 2, including the last ones, where drawing the hardest items without
    // replacement would leave only class 0.
    const lab = Int32Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? 1 : i % 10 === 5 ? 2 : 0));
    const score = (idx: Int32Array) => Float32Array.from(idx, (i) => (lab[i] === 0 ? 0 : 1));
    const s = createSampler({ kind: 'hard-example', poolFactor: 8 }, lab, 3, {
      batchSize: 10,
      score,
      seed: 1,
    });
    const batches = allBatches(s, 0);
    expect(batches).toHaveLength(20);
    for (const b of batches.slice(-5)) expect(b.filter((i) => lab[i] !== 0).length).toBeGreaterThanOrEqual(5);
  });
});

describe('DataLoader', () => {
  it('collates inputs, labels and indices into tensors', () => {
    const loader = new DataLoader(tiny(5), { batchSize: 2 });
    const batches = Array.from(loader.epoch(0));
    expect(batches.map((b) => b.size)).toEqual([2, 2, 1]);
    const b = batches[1];
    expect(b.inputs[0].shape).toEqual([2, 1, 2]);
    expect(Array.from(b.inputs[0].data)).toEqual([2, 2.5, 3, 3.5]);
    expect(b.inputs[1].shape).toEqual([2, 1]);
    expect(Array.from(b.inputs[1].data)).toEqual([-2, -3]);
    expect(b.label.dtype).toBe('int32');
    expect(Array.from(b.label.data)).toEqual([2, 0]);
    expect(Array.from(b.index)).toEqual([2, 3]);
    expect(b.target).toBeNull();
  });

  it('reuses batch storage when asked, and only then', () => {
    const reuse = new DataLoader(tiny(6), { batchSize: 2, reuseBuffers: true });
    const it = reuse.epoch(0);
    const a = it.next().value!;
    const first = a.inputs[0].data;
    const b = it.next().value!;
    expect(b.inputs[0].data).toBe(first);
    expect(Array.from(b.inputs[0].data)).toEqual([2, 2.5, 3, 3.5]);
    const fresh = new DataLoader(tiny(6), { batchSize: 2 });
    const [x, y] = Array.from(fresh.epoch(0));
    expect(y.inputs[0].data).not.toBe(x.inputs[0].data);
    expect(Array.from(x.inputs[0].data)).toEqual([0, 0.5, 1, 1.5]);
  });

  it('collates multi-label targets', () => {
    const d = tiny(3);
    d.targets = Float32Array.from([1, 0, 0, 1, 1, 1]);
    d.targetNames = ['x', 'y'];
    const [b] = Array.from(new DataLoader(d, { batchSize: 3, sampler: { kind: 'sequential' } }).epoch(0));
    expect(b.target?.shape).toEqual([3, 2]);
    expect(Array.from(b.target!.data)).toEqual([1, 0, 0, 1, 1, 1]);
  });

  it('rejects inconsistent datasets', () => {
    const d = tiny(3);
    d.label = Int32Array.from([0, 1, 5]);
    expect(() => new DataLoader(d, { batchSize: 2 })).toThrow(/item 2 has label 5/);
    const e = tiny(3);
    e.inputs[1].data = new Float32Array(2);
    expect(() => new DataLoader(e, { batchSize: 2 })).toThrow(/input 'rr' holds 2 values/);
  });
});

const MITDB = join(dataDir(), 'mitdb', 'RECORDS');
const haveMitdb = existsSync(MITDB);
if (!haveMitdb)
  console.warn(`[skip] beat dataset on MIT-BIH record 100: ${MITDB} not found (set ECGNN_DATA)`);

describe.skipIf(!haveMitdb)('beat dataset on MIT-BIH record 100', () => {
  it('has one item per AAMI beat with the RR features of all beats', () => {
    const ds = loadBeatDataset(['100'], { every: 4 });
    const rec = loadRecord('mitdb', '100');
    const ann = loadAnnotations('mitdb', '100', 'atr');
    const aami = extractBeats(rec, ann, { before: 0, after: 1 / rec.fs });
    expect(ds.count).toBe(Math.ceil(aami.count / 4));
    expect(ds.group.every((g) => g === '100')).toBe(true);
    expect(ds.inputs[0].data.length).toBe(ds.count * 126);
    const counts = classCounts(ds);
    expect(counts[0]).toBeGreaterThan(counts[1]);
    for (const v of ds.inputs[1].data) expect(Number.isFinite(v)).toBe(true);
  });
});
