import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  type ClassifierResult,
  createClassifier,
  loadModel,
  type ModelSpec,
  saveModel,
  zscore,
} from '../src/index.js';
import { mitdbMissing, readMitdbLead0 } from './ecg-data.js';
import { method5Spec, rng } from './fixtures.js';

/** A small beat model: 0.5 s windows at 180 Hz centred on the R peak, conv → global pool → 3 classes. */
function beatSpec(): ModelSpec {
  const r = rng(21);
  const w = Float32Array.from({ length: 4 * 5 }, () => r() - 0.5);
  return {
    input: { channels: 1, length: 90, sampleRate: 180 },
    classes: ['N', 'S', 'V'],
    outputActivation: 'softmax',
    preprocessing: { removeBaseline: true, bandpass: [0.5, 40], normalize: 'zscore' },
    windowing: { mode: 'beat', before: 36 },
    graph: {
      input: 'x',
      output: 'y',
      nodes: [
        { op: 'conv1d', inputs: ['x'], outputs: ['c'], tensors: { weight: 'w' } },
        { op: 'globalMaxPool1d', inputs: ['c'], outputs: ['g'] },
        { op: 'linear', inputs: ['g'], outputs: ['y'], tensors: { weight: 'fc' } },
      ],
    },
    tensors: [
      { name: 'w', shape: [4, 1, 5], data: w },
      { name: 'fc', shape: [3, 4], data: Float32Array.from({ length: 12 }, () => r() - 0.5) },
    ],
  };
}

/** Synthetic ECG: narrow Gaussian "QRS" pulses every `rr` s plus a slow baseline and a little noise. */
function synthetic(fs: number, seconds: number, rr: number): { signal: Float32Array; peaks: number[] } {
  const r = rng(5);
  const n = Math.round(fs * seconds);
  const signal = new Float32Array(n);
  const peaks: number[] = [];
  for (let t = 0.5; t < seconds - 0.2; t += rr) peaks.push(Math.round(t * fs));
  for (let i = 0; i < n; i++) {
    let v = 0.3 * Math.sin((2 * Math.PI * 0.3 * i) / fs) + 0.02 * (r() - 0.5);
    for (const p of peaks) {
      const d = (i - p) / (0.012 * fs);
      if (Math.abs(d) < 6) v += 1.2 * Math.exp(-0.5 * d * d);
    }
    signal[i] = v;
  }
  return { signal, peaks };
}

function pushChunks(
  c: ReturnType<typeof createClassifier>,
  s: Float32Array,
  sizes: () => number,
): ClassifierResult[] {
  const out: ClassifierResult[] = [];
  for (let i = 0; i < s.length; ) {
    const n = Math.min(s.length - i, sizes());
    out.push(...c.push(s.subarray(i, i + n)));
    i += n;
  }
  out.push(...c.flush());
  return out;
}

describe('streaming classifier', () => {
  it('beat model: one result per synthetic QRS, at the right time, whatever the chunking', () => {
    const model = loadModel(saveModel(beatSpec()));
    const { signal, peaks } = synthetic(360, 20, 0.8);
    const whole = pushChunks(createClassifier(model, { sampleRate: 360 }), signal, () => 1 << 30);
    const r = rng(2);
    const chunked = pushChunks(
      createClassifier(model, { sampleRate: 360 }),
      signal,
      () => 1 + Math.floor(r() * 500),
    );
    // Beats within 0.25 s of either end cannot have a full window + detector warm-up; the rest are found.
    const inner = peaks.filter((p) => p > 0.25 * 360 && p < signal.length - 0.25 * 360);
    expect(whole.length).toBeGreaterThanOrEqual(inner.length - 2);
    expect(whole.length).toBeLessThanOrEqual(peaks.length);
    for (const res of whole) {
      expect(res.kind).toBe('beat');
      const nearest = Math.min(...peaks.map((p) => Math.abs(p - res.sample)));
      expect(nearest).toBeLessThanOrEqual(0.03 * 360);
      expect(res.time).toBeCloseTo(res.sample / 360, 9);
      expect(res.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(res.label).toBe(['N', 'S', 'V'][res.classIndex]);
    }
    expect(chunked.map((c) => [c.sample, c.classIndex, ...c.probabilities])).toEqual(
      whole.map((c) => [c.sample, c.classIndex, ...c.probabilities]),
    );
  });

  it('segment model: windows every hop, probabilities equal predict on the same preprocessed window', () => {
    const spec = method5Spec({ length: 720, seed: 4 }); // 2 s windows at 360 Hz
    spec.windowing = { mode: 'segment', hop: 360 };
    const model = loadModel(saveModel(spec));
    const { signal } = synthetic(360, 10, 0.7);
    const res = pushChunks(
      createClassifier(model, { sampleRate: 360, marginSeconds: 0 }),
      signal,
      () => 1000,
    );
    // Starts 0, 1 s, … while a full 2 s window fits: 9 windows in 10 s.
    expect(res.map((r) => r.sample)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((s) => s * 360));
    for (const r of res) {
      const w = zscore(signal.slice(r.sample, r.sample + 720));
      const p = model.predict(w);
      expect(Array.from(r.probabilities)).toEqual(Array.from(p));
    }
  });

  it('resamples: a 180 Hz model fed at 360 Hz still finds beats at input-rate timestamps', () => {
    const model = loadModel(saveModel(beatSpec()));
    const { signal, peaks } = synthetic(360, 12, 1.0);
    const res = pushChunks(createClassifier(model, { sampleRate: 360 }), signal, () => 777);
    expect(res.length).toBeGreaterThanOrEqual(peaks.length - 2);
    for (const r of res)
      expect(Math.min(...peaks.map((p) => Math.abs(p - r.sample)))).toBeLessThanOrEqual(11);
  });

  it('rejects bad options and use after flush', () => {
    const model = loadModel(saveModel(beatSpec()));
    expect(() => createClassifier(model, { sampleRate: 0 })).toThrow(ArgumentError);
    const c = createClassifier(model, { sampleRate: 360 });
    c.flush();
    expect(() => c.push(new Float32Array(10))).toThrow(ArgumentError);
  });

  const missing = mitdbMissing();
  it.skipIf(missing !== null)(
    `real ECG (mitdb 100, 60 s): beat count matches the rhythm ${missing ? `— skipped: ${missing}` : ''}`,
    () => {
      const { fs, signal } = readMitdbLead0('100', 60);
      const model = loadModel(saveModel(beatSpec()));
      const res = pushChunks(createClassifier(model, { sampleRate: fs }), signal, () => 256);
      // Record 100 is sinus rhythm at ~76 bpm: about 75 beats in the first minute.
      expect(res.length).toBeGreaterThan(65);
      expect(res.length).toBeLessThan(85);
      const rr = res.slice(1).map((r, i) => r.time - res[i].time);
      expect(Math.min(...rr)).toBeGreaterThan(0.4);
    },
  );
});
