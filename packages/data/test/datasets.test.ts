// Unit tests that need no data files: labels, splits, windows, random draws, samplers, synthetic ECG.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Annotations } from '../src/index.js';
import {
  AAMI_SYMBOLS,
  aamiClass,
  annotationCode,
  classBalancedBatches,
  DS1,
  DS2,
  detectQrs,
  EpisodeSampler,
  fragmentLabel,
  Generator,
  hardExampleBatches,
  interPatientSplit,
  interPatientValidationSplit,
  intraPatientSplit,
  inverseFrequencyWeights,
  matchBeats,
  multiLabelWindows,
  PACED_RECORDS,
  randomInt,
  resolveGenerator,
  rhythmPerSample,
  rrFeatures,
  shuffledBatches,
  shuffleInPlace,
  slidingWindows,
  stratifiedSplit,
  syntheticEcg,
  weightedBatches,
  zscoreWindows,
} from '../src/index.js';

function ann(items: [number, string, string?][]): Annotations {
  return {
    sample: Int32Array.from(items, (x) => x[0]),
    code: Uint8Array.from(items, (x) => annotationCode(x[1])),
    subtype: new Int16Array(items.length),
    chan: new Int16Array(items.length),
    num: new Int16Array(items.length),
    aux: items.map((x) => x[2] ?? null),
  };
}

describe('labels', () => {
  it('maps MIT-BIH symbols to AAMI classes', () => {
    expect(['N', 'L', 'R', 'e', 'j'].map(aamiClass)).toEqual(['N', 'N', 'N', 'N', 'N']);
    expect(['A', 'a', 'J', 'S'].map(aamiClass)).toEqual(['S', 'S', 'S', 'S']);
    expect(['V', 'E', 'F', '/', 'f', 'Q'].map(aamiClass)).toEqual(['V', 'V', 'F', 'Q', 'Q', 'Q']);
    expect(['+', '~', '|', 'x', '"'].map(aamiClass)).toEqual([null, null, null, null, null]);
    expect(Object.values(AAMI_SYMBOLS).flat().length).toBe(15);
  });
  it('expands rhythm annotations per sample', () => {
    const a = ann([
      [10, '+', '(N'],
      [15, 'N'],
      [40, '+', '(AFIB'],
      [70, '+', '(N'],
    ]);
    const t = rhythmPerSample(a, 100);
    expect(t.names).toEqual(['', 'N', 'AFIB']);
    expect(t.index[9]).toBe(0);
    expect(t.index[10]).toBe(1);
    expect(t.index[39]).toBe(1);
    expect(t.index[40]).toBe(2);
    expect(t.index[69]).toBe(2);
    expect(t.index[99]).toBe(1);
  });
});

describe('splits', () => {
  it('inter-patient DS1/DS2 are disjoint, 22 records each, paced excluded', () => {
    const s = interPatientSplit();
    expect(s.records.train).toEqual([...DS1]);
    expect(s.records.test).toEqual([...DS2]);
    expect(DS1.length).toBe(22);
    expect(DS2.length).toBe(22);
    for (const r of [...DS1, ...PACED_RECORDS]) expect(DS2).not.toContain(r);
    expect(s.protocol).toMatch(/inter-patient/);
  });
  it('patient-wise validation split is deterministic and disjoint', () => {
    const a = interPatientValidationSplit({ validationRecords: 5, seed: 42 });
    const b = interPatientValidationSplit({ validationRecords: 5, seed: 42 });
    expect(a).toEqual(b);
    expect(a.records.validation.length).toBe(5);
    expect(a.records.train.length).toBe(17);
    for (const r of a.records.validation) expect(a.records.train).not.toContain(r);
    expect(interPatientValidationSplit({ seed: 43 }).records.validation).not.toEqual(
      interPatientValidationSplit({ seed: 44 }).records.validation,
    );
  });
  it('intra-patient split is labelled as such and partitions the items', () => {
    const s = intraPatientSplit(100, [0.7, 0.1, 0.2], 1);
    expect(s.protocol).toMatch(/intra-patient/);
    const all = [...s.train, ...s.validation, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(s.train.length).toBe(70);
  });
  it('stratified split keeps class proportions', () => {
    const labels = Int8Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const s = stratifiedSplit(labels, [0.8, 0.1, 0.1], 5);
    const frac = (idx: Int32Array) => idx.filter((i) => labels[i] === 1).length / idx.length;
    expect(frac(s.train)).toBeCloseTo(0.1, 2);
    expect(frac(s.test)).toBeCloseTo(0.1, 2);
    expect(s.train.length + s.validation.length + s.test.length).toBe(1000);
  });
});

describe('windows', () => {
  it('sliding windows drop the trailing piece', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        (n, d, st) => {
          const x = Float32Array.from({ length: n }, (_, i) => i);
          const w = slidingWindows(x, d, st);
          expect(w.count).toBe(n >= d ? Math.floor((n - d) / st) + 1 : 0);
          for (let i = 0; i < w.count; i++) {
            expect(w.data[i * d]).toBe(i * st);
            expect(w.start[i] + d).toBeLessThanOrEqual(n);
          }
        },
      ),
    );
  });
  it('per-window z-score normalises each row independently', () => {
    const d = Float32Array.of(1, 2, 3, 10, 10, 10, 0, 0, 6);
    zscoreWindows(d, 3);
    expect(Array.from(d.subarray(0, 3)).map((v) => +v.toFixed(4))).toEqual([-1.2247, 0, 1.2247]);
    expect(Array.from(d.subarray(3, 6))).toEqual([0, 0, 0]);
    expect(d[8]).toBeCloseTo(Math.SQRT2, 5);
    expect(() => zscoreWindows(d, 4)).toThrow(RangeError);
  });
  it('fragment label rule: all-N → N, else most frequent non-N class, empty → −1', () => {
    expect(fragmentLabel([10, 0, 0, 0, 0])).toBe(0);
    expect(fragmentLabel([10, 1, 0, 0, 0])).toBe(1);
    expect(fragmentLabel([5, 1, 3, 0, 0])).toBe(2);
    expect(fragmentLabel([5, 2, 2, 0, 0])).toBe(1); // tie → S before V
    expect(fragmentLabel([0, 0, 0, 0, 0])).toBe(-1);
  });
  it('multi-label windows collect beat classes and rhythms', () => {
    const a = ann([
      [0, '+', '(N'],
      [5, 'N'],
      [12, 'V'],
      [15, '+', '(VT'],
      [25, 'A'],
    ]);
    const m = multiLabelWindows(a, 30, 10);
    expect(m.count).toBe(3);
    expect(Array.from(m.beatClasses)).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    const col = (name: string) => m.rhythmNames.indexOf(name);
    const R = m.rhythmNames.length;
    expect(m.rhythms[1 * R + col('N')]).toBe(1);
    expect(m.rhythms[1 * R + col('VT')]).toBe(1);
    expect(m.rhythms[2 * R + col('N')]).toBe(0);
  });
});

describe('RR features', () => {
  it('previous, next, local and record mean RR in seconds', () => {
    const beats = Int32Array.of(0, 100, 300, 400);
    const f = rrFeatures(beats, 100, 1);
    const mean = 4 / 3;
    expect(f[0]).toBeCloseTo(mean, 5); // first beat: record mean
    expect(f[4]).toBeCloseTo(1, 5);
    expect(f[5]).toBeCloseTo(2, 5);
    expect(f[6]).toBeCloseTo((mean + 1 + 2) / 3, 5);
    expect(f[7]).toBeCloseTo(mean, 5);
    expect(f[13]).toBeCloseTo(mean, 5); // last beat: next RR = mean
  });
});

describe('random draws and samplers', () => {
  it('shuffleInPlace is a uniform permutation (Fisher–Yates over Generator)', () => {
    const g = new Generator(1);
    // Position of item 0 after shuffling 5 items: uniform over 0..4.
    const hist = new Array(5).fill(0);
    for (let t = 0; t < 50000; t++) hist[shuffleInPlace(g, [0, 1, 2, 3, 4]).indexOf(0)]++;
    for (const h of hist) expect(Math.abs(h - 10000)).toBeLessThan(400);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.integer(), (n, seed) => {
        const a = shuffleInPlace(
          new Generator(seed),
          Array.from({ length: n }, (_, i) => i),
        );
        expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });
  it('randomInt is in range and rejects a bad n', () => {
    const g = new Generator(2);
    const hist = new Array(7).fill(0);
    for (let t = 0; t < 70000; t++) hist[randomInt(g, 7)]++;
    for (const h of hist) expect(Math.abs(h - 10000)).toBeLessThan(400);
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => randomInt(g, n)).toThrow(RangeError);
  });
  it('resolveGenerator: a seed gives a fresh generator, a generator is used as is, both is an error', () => {
    const g = new Generator(5);
    expect(resolveGenerator({ generator: g }, 'f')).toBe(g);
    expect(resolveGenerator(5, 'f').nextUint32()).toBe(new Generator(5).nextUint32());
    expect(resolveGenerator(undefined, 'f').nextUint32()).toBe(new Generator(0).nextUint32());
    expect(() => resolveGenerator({ seed: 1, generator: g }, 'f')).toThrow(/seed or generator, not both/);
    expect(() => resolveGenerator({ seed: 0.5 }, 'f')).toThrow(RangeError);
    expect(() => resolveGenerator({ generator: {} as Generator }, 'f')).toThrow(RangeError);
  });
  it('shuffled batches are the Fisher–Yates permutation of Generator(seed)', () => {
    // Independent oracle: Knuth's shuffle written out over the raw xoshiro128** stream.
    const g = new Generator(3);
    const want = Array.from({ length: 103 }, (_, i) => i);
    for (let i = want.length - 1; i > 0; i--) {
      const j = Math.floor((g.nextUint32() / 2 ** 32) * (i + 1));
      [want[i], want[j]] = [want[j], want[i]];
    }
    expect([...shuffledBatches(103, 10, 3)].flatMap((b) => Array.from(b))).toEqual(want);
    expect([...shuffledBatches(103, 10, { seed: 3 })].flatMap((b) => Array.from(b))).toEqual(want);
  });
  it('samplers draw from a given generator; restoring its state resumes the stream exactly', () => {
    const labels = Int8Array.from({ length: 300 }, (_, i) => i % 3);
    const w = inverseFrequencyWeights(labels);
    // A generator seeded like the seed option gives the same batches.
    expect([...weightedBatches(w, 8, 5, { generator: new Generator(4) })]).toEqual([
      ...weightedBatches(w, 8, 5, 4),
    ]);
    expect([...classBalancedBatches(labels, 8, 5, { generator: new Generator(4) })]).toEqual([
      ...classBalancedBatches(labels, 8, 5, 4),
    ]);
    // Checkpoint after 3 of 6 batches, restore into a fresh generator, continue with a new sampler.
    const g = new Generator(11);
    const it = classBalancedBatches(labels, 8, 6, { generator: g });
    const head = [it.next().value, it.next().value, it.next().value];
    const state = g.getState();
    const tail = [...it];
    const h = new Generator(999);
    h.setState(state);
    expect([...classBalancedBatches(labels, 8, 3, { generator: h })]).toEqual(tail);
    expect(tail).not.toEqual(head);
    // The stream advances: two epochs from one generator differ.
    const e = new Generator(1);
    expect([...shuffledBatches(50, 50, { generator: e })]).not.toEqual([
      ...shuffledBatches(50, 50, { generator: e }),
    ]);
    expect(() => shuffledBatches(5, 2, { seed: 1, generator: e }).next()).toThrow(RangeError);
  });
  it('shuffled batches cover every index once, deterministically', () => {
    const batches = [...shuffledBatches(103, 10, 3)];
    expect(batches.length).toBe(11);
    const all = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect([...shuffledBatches(103, 10, 3)]).toEqual(batches);
    expect([...shuffledBatches(103, 10, 3, true)].length).toBe(10);
  });
  it('class-balanced batches draw classes about equally', () => {
    const labels = Int8Array.from({ length: 1000 }, (_, i) => (i < 950 ? 0 : i < 990 ? 1 : 2));
    const counts = [0, 0, 0];
    for (const b of classBalancedBatches(labels, 30, 100, 1)) for (const i of b) counts[labels[i]]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });
  it('weighted batches follow the weights', () => {
    const labels = Int8Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : 1));
    const w = inverseFrequencyWeights(labels);
    let ones = 0;
    let total = 0;
    for (const b of weightedBatches(w, 50, 100, 2))
      for (const i of b) {
        ones += labels[i];
        total++;
      }
    expect(ones / total).toBeCloseTo(0.5, 1);
    expect(() => weightedBatches([0, 0], 1, 1).next()).toThrow(RangeError);
  });
  it('hard-example batches: the hardest of each random pool, with replacement, every batch', () => {
    // 40 items; "error" per item = its index mod 10, so items 9, 19, 29, 39 are the hardest.
    const truth = Float64Array.from({ length: 40 }, (_, i) => i % 10);
    const asked: number[] = [];
    const scores = (b: number) => {
      asked.push(b);
      return truth;
    };
    const batches = [...hardExampleBatches(40, 4, 30, scores, { poolFactor: 4, seed: 3 })];
    expect(batches.length).toBe(30);
    expect(asked).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // Each batch holds the 4 highest scores of its 16-item pool: well above the pool average (4.5).
    let mean = 0;
    for (const b of batches) for (const i of b) mean += truth[i] / (30 * 4);
    expect(mean).toBeGreaterThan(6.5);
    // With replacement: the late batches are as hard as the early ones (no easy leftovers at the end).
    const meanOf = (bs: Int32Array[]) =>
      bs.flat().reduce((a, b) => a + [...b].reduce((x, i) => x + truth[i], 0), 0);
    expect(meanOf(batches.slice(20)) / 40).toBeGreaterThan(6);
    // poolFactor 1 = plain uniform draws; `start` skips scoring but keeps the random stream.
    const later = [...hardExampleBatches(40, 4, 30, scores, { poolFactor: 4, seed: 3, start: 25 })];
    expect(later).toEqual(batches.slice(25));
    // Weights restrict the pool: only items with weight > 0 are ever drawn.
    const w = Float64Array.from({ length: 40 }, (_, i) => (i < 10 ? 1 : 0));
    for (const b of hardExampleBatches(40, 4, 10, () => truth, { weights: w, seed: 1 }))
      for (const i of b) expect(i).toBeLessThan(10);
    expect(() => hardExampleBatches(40, 4, 1, () => truth.subarray(1)).next()).toThrow(/39 values for 40/);
    expect(() => hardExampleBatches(40, 4, 1, () => truth, { poolFactor: 0 }).next()).toThrow(/poolFactor/);
    expect(() => hardExampleBatches(40, 4, 1, () => truth, { weights: [1] }).next()).toThrow(
      /1 weights for 40/,
    );
  });
  it('episode sampler: M classes × k shots, sliding groups, exclusions respected', () => {
    const labels = Int32Array.from({ length: 200 }, (_, i) => i % 10);
    const patients = Array.from({ length: 200 }, (_, i) => `p${i % 7}`);
    const s = new EpisodeSampler(
      labels,
      { ways: 3, shots: 4, groupWidth: 4, excludeClasses: [0, 1], excludePatients: ['p3'], seed: 9 },
      patients,
    );
    for (let e = 0; e < 20; e++) {
      const ep = s.sample();
      expect(ep.classes.length).toBe(3);
      expect(ep.indices.length).toBe(12);
      expect(ep.groups.length).toBe(12 - 4 + 1);
      expect(Array.from(ep.groups[1])).toEqual([1, 2, 3, 4]);
      expect(new Set(ep.indices).size).toBe(12);
      for (let j = 0; j < 12; j++) {
        const item = ep.indices[j];
        expect(ep.classes[ep.labels[j]]).toBe(labels[item]);
        expect([0, 1]).not.toContain(labels[item]);
        expect(patients[item]).not.toBe('p3');
      }
      for (let l = 0; l < 3; l++) expect(ep.labels.filter((x) => x === l).length).toBe(4);
    }
    const again = new EpisodeSampler(labels, { ways: 3, shots: 4, seed: 9 });
    const again2 = new EpisodeSampler(labels, { ways: 3, shots: 4, seed: 9 });
    expect(again.sample()).toEqual(again2.sample());
    const fromGenerator = new EpisodeSampler(labels, { ways: 3, shots: 4, generator: new Generator(9) });
    expect(fromGenerator.sample()).toEqual(
      new EpisodeSampler(labels, { ways: 3, shots: 4, seed: 9 }).sample(),
    );
    const covered = new Set<number>();
    for (const ep of again.cover()) for (const i of ep.indices) covered.add(i);
    expect(covered.size).toBe(200);
    expect(() => new EpisodeSampler(labels, { ways: 11, shots: 2 })).toThrow(RangeError);
  });
});

describe('synthetic ECG (McSharry 2003)', () => {
  it('is labelled synthetic, has the requested rate, and its R peaks are detectable', () => {
    const s = syntheticEcg({ seconds: 60, fs: 360, heartRate: 75, pvcProbability: 0.1, seed: 3 });
    expect(s.synthetic).toBe(true);
    expect(s.description).toMatch(/SYNTHETIC/);
    expect(s.signal.length).toBe(60 * 360);
    // ≈ 75 beats per minute
    expect(Math.abs(s.rPeaks.length - 75)).toBeLessThan(8);
    expect(s.symbols.filter((x) => x === 'V').length).toBeGreaterThan(0);
    expect(s.labels.length).toBe(s.rPeaks.length);
    // the R peak is the maximum of its neighbourhood for normal beats
    const i = s.symbols.indexOf('N', 3);
    const r = s.rPeaks[i];
    for (let k = r - 30; k <= r + 30; k++) expect(s.signal[k]).toBeLessThanOrEqual(s.signal[r] + 0.05);
    const m = matchBeats(s.rPeaks, detectQrs(s.signal, s.fs), Math.round(0.15 * s.fs));
    expect(m.sensitivity).toBeGreaterThan(95);
    expect(m.positivePredictivity).toBeGreaterThan(95);
    expect(syntheticEcg({ seconds: 5, seed: 3 }).signal).toEqual(
      syntheticEcg({ seconds: 5, seed: 3 }).signal,
    );
  });
  it('draws RR exactly: PVCs at 0.6 T with a compensatory 1.4 T pause', () => {
    const s = syntheticEcg({ seconds: 120, heartRate: 60, rrStd: 0, pvcProbability: 0.15, seed: 11 });
    let checked = 0;
    for (let i = 1; i + 1 < s.rPeaks.length; i++) {
      const before = (s.rPeaks[i] - s.rPeaks[i - 1]) / s.fs;
      const after = (s.rPeaks[i + 1] - s.rPeaks[i]) / s.fs;
      if (s.symbols[i] === 'V') {
        expect(before).toBeCloseTo(0.6, 1);
        expect(after).toBeCloseTo(1.4, 1);
        checked++;
      } else if (s.symbols[i - 1] !== 'V') expect(before).toBeCloseTo(1, 1);
    }
    expect(checked).toBeGreaterThan(3);
  });
});
