import { Generator, ValueError } from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AugmentSpec,
  augmentSeed,
  createAugmentation,
  DataLoader,
  type Dataset,
  type DatasetInput,
  parseAugmentSpec,
} from '../src/index.js';

/** `n` items of a `[C, L]` waveform (item i, channel c, time t = 1000i + 100c + t) and an RR feature [−i]. */
function waves(n: number, C: number, L: number): Dataset {
  const w = new Float32Array(n * C * L);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < C; c++) for (let t = 0; t < L; t++) w[(i * C + c) * L + t] = 1000 * i + 100 * c + t;
  return {
    count: n,
    inputs: [
      { name: 'window', shape: [C, L], data: w },
      { name: 'rr', shape: [1], data: Float32Array.from({ length: n }, (_, i) => -i) },
    ],
    label: Int32Array.from({ length: n }, (_, i) => i % 2),
    classes: ['a', 'b'],
    group: Array.from({ length: n }, (_, i) => `r${i}`),
    preprocessing: null,
    description: 'test',
  };
}

function run(spec: AugmentSpec, ds: Dataset, seed = 1): Float32Array[] {
  const data = ds.inputs.map((d) => d.data.slice());
  createAugmentation(spec, ds.inputs).apply(data, ds.count, new Generator(seed));
  return data;
}

describe('augmentation steps', () => {
  it('shift moves each item by one k for all its channels: wrap, edge and zero at the ends', () => {
    const ds = waves(6, 2, 10);
    for (const mode of ['wrap', 'edge', 'zero'] as const) {
      const [w] = run({ steps: [{ kind: 'shift', max: 4, mode }] }, ds, 7);
      for (let i = 0; i < 6; i++) {
        // Recover k from channel 0 of item i at a time where the source index lies inside the row.
        const row0 = w.subarray(i * 20, i * 20 + 10);
        const k = 5 - (row0[5] - 1000 * i);
        expect(Math.abs(k)).toBeLessThanOrEqual(4);
        for (let c = 0; c < 2; c++)
          for (let t = 0; t < 10; t++) {
            let s = t - k;
            let want: number;
            if (s >= 0 && s < 10) want = 1000 * i + 100 * c + s;
            else if (mode === 'wrap') {
              s = (s + 10) % 10;
              want = 1000 * i + 100 * c + s;
            } else if (mode === 'edge') want = 1000 * i + 100 * c + (s < 0 ? 0 : 9);
            else want = 0;
            expect(w[(i * 2 + c) * 10 + t]).toBe(want);
          }
      }
    }
  });

  it('shift draws every k in −max…max, each about equally often', () => {
    const ds = waves(3000, 1, 8);
    const [w] = run({ steps: [{ kind: 'shift', max: 2, mode: 'zero' }] }, ds, 3);
    const counts = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const k = 4 - (w[i * 8 + 4] - 1000 * i);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([-1, -2, 0, 1, 2].sort());
    for (const c of counts.values()) expect(Math.abs(c - 600)).toBeLessThan(100);
  });

  it('scale multiplies each item by one factor in [min, max]; p = 0 leaves the items alone', () => {
    const ds = waves(50, 2, 5);
    const [w, rr] = run({ steps: [{ kind: 'scale', min: 0.5, max: 2 }] }, ds);
    for (let i = 1; i < 50; i++) {
      const a = w[i * 10] / (1000 * i);
      expect(a).toBeGreaterThanOrEqual(0.5);
      expect(a).toBeLessThanOrEqual(2);
      for (let j = 0; j < 10; j++) {
        const x = ds.inputs[0].data[i * 10 + j];
        expect(Math.abs(w[i * 10 + j] - x * a)).toBeLessThanOrEqual(1e-6 * x * a);
      }
    }
    expect(rr).toEqual(ds.inputs[1].data); // feature vectors are not waveforms: untouched by default
    const [same] = run({ steps: [{ kind: 'scale', min: 0.5, max: 2, p: 0 }] }, ds);
    expect(same).toEqual(ds.inputs[0].data);
  });

  it('noise has the asked standard deviation and mean 0', () => {
    const ds = waves(20, 1, 5000);
    const [w] = run({ steps: [{ kind: 'noise', std: 0.25 }] }, ds);
    let s = 0;
    let s2 = 0;
    for (let j = 0; j < w.length; j++) {
      const d = w[j] - ds.inputs[0].data[j];
      s += d;
      s2 += d * d;
    }
    const mean = s / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.sqrt(s2 / w.length - mean * mean)).toBeCloseTo(0.25, 2);
  });

  it('wander adds A·u·sin(2πft/fs + φ): its recurrence matches Math.sin and stays within the amplitude', () => {
    const L = 3600;
    const ds: Dataset = {
      ...waves(8, 1, L),
      inputs: [{ name: 'x', shape: [1, L], data: new Float32Array(8 * L) }],
    };
    const [w] = run(
      { steps: [{ kind: 'wander', amplitude: 0.5, minHz: 0.1, maxHz: 0.5, sampleRate: 360 }] },
      ds,
      9,
    );
    for (let i = 0; i < 8; i++) {
      const x = w.subarray(i * L, (i + 1) * L);
      const amp = Math.max(...Array.from(x, Math.abs));
      expect(amp).toBeLessThanOrEqual(0.5);
      // Fit the phase and frequency back from the first samples: a sinusoid satisfies
      // x[t+1] + x[t−1] = 2cos(ω)·x[t]; check that identity over the whole row in float64.
      let num = 0;
      let den = 0;
      for (let t = 1; t < L - 1; t++) {
        num += (x[t + 1] + x[t - 1]) * x[t];
        den += x[t] * x[t];
      }
      const c2 = num / den;
      const f = (Math.acos(c2 / 2) * 360) / (2 * Math.PI);
      expect(f).toBeGreaterThanOrEqual(0.1 - 1e-3);
      expect(f).toBeLessThanOrEqual(0.5 + 1e-3);
      for (let t = 1; t < L - 1; t++) expect(Math.abs(x[t + 1] + x[t - 1] - c2 * x[t])).toBeLessThan(1e-6);
    }
  });

  it('steps apply in order and only to the selected inputs', () => {
    const ds = waves(4, 1, 6);
    const spec: AugmentSpec = { steps: [{ kind: 'scale', min: 2, max: 2 }], inputs: ['rr'] };
    const [w, rr] = run(spec, ds);
    expect(w).toEqual(ds.inputs[0].data);
    expect(Array.from(rr)).toEqual([-0, -2, -4, -6]);
    // [A, B] = A then B on one stream of draws.
    const steps: AugmentSpec['steps'] = [
      { kind: 'shift', max: 2 },
      { kind: 'noise', std: 0.5, p: 0.5 },
      { kind: 'scale', min: 0.5, max: 1.5 },
    ];
    const together = run({ steps }, ds, 11)[0];
    const g = new Generator(11);
    const oneByOne = ds.inputs.map((d) => d.data.slice());
    for (const step of steps) createAugmentation({ steps: [step] }, ds.inputs).apply(oneByOne, ds.count, g);
    expect(together).toEqual(oneByOne[0]);
    const reversed = run({ steps: [...steps].reverse() }, ds, 11)[0];
    expect(reversed).not.toEqual(together);
  });

  it('names what is wrong in a spec', () => {
    const inputs: DatasetInput[] = waves(2, 1, 10).inputs;
    const bad: [AugmentSpec, RegExp][] = [
      [{ steps: [{ kind: 'shift', max: 10 }] }, /shift max 10 ≥ row length 10 of input 'window'/],
      [{ steps: [{ kind: 'shift', max: -1 }] }, /step 0 \(shift\): max must be a non-negative integer/],
      [{ steps: [{ kind: 'shift', max: 1.5 }] }, /max must be a non-negative integer/],
      [{ steps: [{ kind: 'scale', min: 2, max: 1 }] }, /min 2 > max 1/],
      [{ steps: [{ kind: 'noise', std: Number.NaN }] }, /step 0 \(noise\): std must be a finite number/],
      [{ steps: [{ kind: 'noise', std: 0.1, p: 1.5 }] }, /p must be in \[0, 1\]/],
      [{ steps: [{ kind: 'wander', amplitude: 1, maxHz: 200, sampleRate: 360 }] }, /maxHz ≤ sampleRate\/2/],
      [{ steps: [{ kind: 'rotate' } as never] }, /unknown kind/],
      [
        { steps: [{ kind: 'noise', std: 1 }], inputs: ['ecg'] },
        /no dataset input 'ecg' \(inputs: window, rr\)/,
      ],
      [{ steps: [{ kind: 'noise', std: 1 }], inputs: [] }, /no input to transform/],
    ];
    for (const [spec, msg] of bad) {
      expect(() => createAugmentation(spec, inputs)).toThrow(ValueError);
      expect(() => createAugmentation(spec, inputs)).toThrow(msg);
    }
  });

  it('parses the command-line form and rejects what it cannot read', () => {
    expect(parseAugmentSpec('shift=180:edge,scale=0.8:1.2,noise=0.05@0.5,wander=0.3:0.5', 360)).toEqual({
      steps: [
        { kind: 'shift', max: 180, mode: 'edge' },
        { kind: 'scale', min: 0.8, max: 1.2 },
        { kind: 'noise', std: 0.05, p: 0.5 },
        { kind: 'wander', amplitude: 0.3, maxHz: 0.5, sampleRate: 360 },
      ],
    });
    expect(() => parseAugmentSpec('shift=abc')).toThrow(/bad max 'abc'/);
    expect(() => parseAugmentSpec('scale=0.8')).toThrow(/expected 2 value/);
    expect(() => parseAugmentSpec('blur=1')).toThrow(/cannot parse 'blur=1'/);
    expect(() => parseAugmentSpec('shift=3:sideways')).toThrow(/mode must be wrap, edge or zero/);
    expect(() => parseAugmentSpec('shift=3:')).toThrow(/mode must be wrap, edge or zero, got $/);
    expect(() => parseAugmentSpec('wander=0.3:0.5')).toThrow(/needs the sampling rate/);
    expect(() => parseAugmentSpec('noise=0.1@2')).toThrow(/p must be in \[0, 1\]/);
  });

  it('augmentSeed gives distinct seeds to neighbouring (seed, epoch, batch)', () => {
    const seen = new Set<number>();
    for (let s = 0; s < 4; s++)
      for (let e = 0; e < 30; e++) for (let b = 0; b < 30; b++) seen.add(augmentSeed(s, e, b));
    expect(seen.size).toBe(4 * 30 * 30);
  });
});

describe('DataLoader with augmentation', () => {
  const spec: AugmentSpec = {
    steps: [
      { kind: 'shift', max: 3 },
      { kind: 'scale', min: 0.9, max: 1.1 },
      { kind: 'noise', std: 0.01, p: 0.5 },
    ],
  };

  function epochData(loader: DataLoader, epoch: number, start = 0): number[][] {
    return [...loader.epoch(epoch, start)].map((b) => Array.from(b.inputs[0].data));
  }

  it('is deterministic per (seed, epoch, batch): a resumed epoch draws what the whole one drew', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 4 }),
        (seed, epoch, start) => {
          const ds = waves(20, 2, 12);
          const mk = () =>
            new DataLoader(ds, {
              batchSize: 4,
              sampler: { kind: 'shuffled' },
              seed,
              augment: spec,
              reuseBuffers: true,
            });
          const whole = epochData(mk(), epoch);
          expect(epochData(mk(), epoch, start)).toEqual(whole.slice(start));
          // The loader itself holds no stream position: drawing another epoch first changes nothing.
          const l = mk();
          epochData(l, epoch + 1);
          expect(epochData(l, epoch)).toEqual(whole);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('changes the batches, differently per epoch and seed, and never the dataset or collate', () => {
    const ds = waves(16, 1, 12);
    const before = ds.inputs[0].data.slice();
    const plain = new DataLoader(ds, { batchSize: 4, seed: 2 });
    const aug = new DataLoader(ds, { batchSize: 4, seed: 2, augment: spec });
    const p0 = epochData(plain, 0);
    const a0 = epochData(aug, 0);
    expect(a0).not.toEqual(p0);
    expect(epochData(aug, 1)).not.toEqual(a0);
    expect(epochData(new DataLoader(ds, { batchSize: 4, seed: 3, augment: spec }), 0)).not.toEqual(a0);
    expect(ds.inputs[0].data).toEqual(before);
    expect(Array.from(aug.collate(Int32Array.of(0, 1)).inputs[0].data)).toEqual(
      Array.from(before.subarray(0, 24)),
    );
    // Batches of one epoch draw from different streams: on all-zero items, noise differs batch to batch.
    const zeros: Dataset = {
      ...ds,
      inputs: [{ name: 'x', shape: [1, 12], data: new Float32Array(16 * 12) }],
    };
    const noisy = epochData(
      new DataLoader(zeros, { batchSize: 4, augment: { steps: [{ kind: 'noise', std: 1 }] } }),
      0,
    );
    for (let b = 1; b < noisy.length; b++) expect(noisy[b]).not.toEqual(noisy[0]);
    // No steps: the loader has no augmentation at all.
    expect(new DataLoader(ds, { batchSize: 4, augment: { steps: [] } }).augmentation).toBeNull();
  });

  it('checks the spec against the dataset when the loader is made', () => {
    const ds = waves(4, 1, 12);
    expect(
      () => new DataLoader(ds, { batchSize: 2, augment: { steps: [{ kind: 'shift', max: 12 }] } }),
    ).toThrow(/shift max 12 ≥ row length 12/);
  });
});
