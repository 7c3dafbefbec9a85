import { normalizeRr, QrsDetector, type RrFeatureName, rrFeatures } from '@ecgnn/dsp';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  type ClassifierResult,
  classifyRecord,
  createClassifier,
  loadModel,
  type ModelSpec,
  saveModel,
  zscore,
} from '../src/index.js';
import { rrOfBeat } from '../src/stream/classifier.js';
import { mitdbMissing, readMitdbLead0 } from './ecg-data.js';
import { BEAT_RR_FEATURES, beatRrSpec, method5Spec, rng } from './fixtures.js';

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

const missing = mitdbMissing();

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

/**
 * A model of RR inputs only: two `rr` inputs (different local widths) concatenated and passed through an identity
 * dense layer, so the classifier's "probabilities" (activation none) are exactly the RR features it computed.
 */
function rrOnlySpec(h1: number, h2: number): ModelSpec {
  const f1: RrFeatureName[] = ['pre', 'post', 'local', 'record'];
  const f2: RrFeatureName[] = ['pre/local-1', 'post/local-1', 'local/record-1'];
  const n = f1.length + f2.length;
  const eye = new Float32Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  return {
    input: { channels: 1, length: 72, sampleRate: 360 },
    classes: Array.from({ length: n }, (_, i) => `f${i}`),
    outputActivation: 'none',
    windowing: { mode: 'beat', before: 30 },
    graph: {
      inputs: [
        { name: 'a', shape: [f1.length], source: { kind: 'rr', features: f1, localHalfWidth: h1 } },
        { name: 'b', shape: [f2.length], source: { kind: 'rr', features: f2, localHalfWidth: h2 } },
      ],
      outputs: ['y'],
      nodes: [
        { op: 'concat', inputs: ['a', 'b'], outputs: ['ab'] },
        { op: 'linear', inputs: ['ab'], outputs: ['y'], tensors: { weight: 'eye' } },
      ],
    },
    tensors: [{ name: 'eye', shape: [n, n], data: eye }],
  };
}

/** The R peaks the classifier's detector finds in `signal` (pushed whole, then flushed). */
function detectAll(signal: Float32Array, fs: number): number[] {
  const d = new QrsDetector(fs);
  return [...d.push(signal), ...d.flush()];
}

describe('streaming classifier: models with RR inputs', () => {
  it('rrOfBeat is rrFeatures of the beats up to the look-ahead, whatever the beats kept before', () => {
    const r = rng(3);
    const beats: number[] = [];
    for (let t = 100; beats.length < 40; t += 200 + Math.floor(r() * 200)) beats.push(t);
    const out = new Float32Array(4);
    for (const h of [0, 1, 5]) {
      for (let i = 0; i < beats.length; i++) {
        for (const last of [i, Math.min(beats.length - 1, i + Math.max(h, 1)), beats.length - 1]) {
          const want = rrFeatures(Int32Array.from(beats.slice(0, last + 1)), 360, h).subarray(
            4 * i,
            4 * i + 4,
          );
          // The classifier keeps only recent beats: drop those no feature of beat i reads.
          const first = Math.max(0, i - h - 1);
          rrOfBeat(beats.slice(first), first, beats[0], i, last, h, 360, out);
          for (let c = 0; c < 4; c++) expect(out[c]).toBeCloseTo(want[c], 6);
        }
      }
    }
  });

  /** Classifies `signal` with {@link rrOnlySpec} and checks every beat's features against `rrFeatures`. */
  function checkRr(signal: Float32Array, fs: number): void {
    const model = loadModel(saveModel(rrOnlySpec(3, 1)));
    const whole = classifyRecord(model, signal, fs, { marginSeconds: 0.5 });
    const rc = rng(9);
    const chunked = pushChunks(
      createClassifier(model, { sampleRate: fs, marginSeconds: 0.5 }),
      signal,
      () => 1 + Math.floor(rc() * 900),
    );
    expect(chunked.map((c) => [c.sample, ...c.probabilities])).toEqual(
      whole.map((c) => [c.sample, ...c.probabilities]),
    );
    const beats = detectAll(signal, fs);
    expect(whole.length).toBeGreaterThan(beats.length - 3);
    const L = 3; // look-ahead: max over the inputs of max(localHalfWidth, 1)
    for (const res of whole) {
      const i = beats.indexOf(res.sample);
      expect(i).toBeGreaterThanOrEqual(0);
      const last = Math.min(i + L, beats.length - 1);
      const prefix = Int32Array.from(beats.slice(0, last + 1));
      const a = rrFeatures(prefix, fs, 3).subarray(4 * i, 4 * i + 4);
      const rawB = rrFeatures(prefix, fs, 1).slice(4 * i, 4 * i + 4);
      const b = normalizeRr(rawB, 1, ['pre/local-1', 'post/local-1', 'local/record-1']);
      const want = [...a, ...b];
      for (let c = 0; c < want.length; c++) expect(res.probabilities[c]).toBeCloseTo(want[c], 5);
    }
  }

  it('feeds each beat the RR features of the beats detected up to its look-ahead, whatever the chunking', () => {
    checkRr(synthetic(360, 40, 0.75).signal, 360);
  });

  it.skipIf(missing !== null)(
    `RR features on an irregular rhythm (mitdb 119, bigeminy, 60 s) ${missing ? `— skipped: ${missing}` : ''}`,
    () => {
      const { fs, signal } = readMitdbLead0('119', 60, 60 * 8);
      checkRr(signal, fs);
    },
  );

  it('refuses models with external inputs', () => {
    const spec = beatRrSpec();
    const g = spec.graph as { inputs: { source: unknown }[] };
    g.inputs[1].source = { kind: 'external' };
    const model = loadModel(saveModel(spec));
    expect(() => createClassifier(model, { sampleRate: 360 })).toThrow(/input "rr" has source 'external'/);
    expect(() => createClassifier(model, { sampleRate: 360 })).toThrow(ArgumentError);
  });

  it.skipIf(missing !== null)(
    `two-input model (beat window + RR features) over mitdb 119, 60 s ${missing ? `— skipped: ${missing}` : ''}`,
    () => {
      const { fs, signal } = readMitdbLead0('119', 60);
      const spec = beatRrSpec(11, 128, 50);
      const model = loadModel(saveModel(spec));
      expect(model.inputs.map((i) => i.source.kind)).toEqual(['window', 'rr']);
      const whole = classifyRecord(model, signal, fs);
      const chunked = pushChunks(createClassifier(model, { sampleRate: fs }), signal, () => 333);
      expect(chunked.map((c) => [c.sample, ...c.probabilities])).toEqual(
        whole.map((c) => [c.sample, ...c.probabilities]),
      );
      // Record 119 is sinus rhythm near 65 bpm with ventricular bigeminy episodes: 55–90 beats in a minute.
      expect(whole.length).toBeGreaterThan(55);
      expect(whole.length).toBeLessThan(90);
      // Every detected beat with a full window is classified (only beats at the stream's edges are not).
      const beats = detectAll(signal, fs);
      const inner = beats.filter((b) => b - 50 >= 0 && b + 78 <= signal.length);
      expect(whole.map((r) => r.sample)).toEqual(inner);
      for (const res of whole) expect(res.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(model.inputs[1].source).toEqual({
        kind: 'rr',
        features: [...BEAT_RR_FEATURES],
        localHalfWidth: 5,
      });
    },
  );
});
