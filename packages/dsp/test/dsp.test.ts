import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  butterworthBandpass,
  butterworthSections,
  DspError,
  detectQrs,
  medianFilter,
  QrsDetector,
  removeBaselineWander,
  resample,
  zscore,
} from '../src/index.js';

/** Seeded LCG for test signals (no dependency on @ecgnn/data). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * A crude ECG-like test signal: Gaussian QRS (σ = 10 ms, 1 mV) and T waves (σ = 40 ms,
 * 0.3 mV, 250 ms later) at irregular RR intervals, plus baseline wander and white noise.
 */
function pulseTrain(seconds: number, fs: number, seed = 1): { x: Float32Array; r: number[] } {
  const rnd = lcg(seed);
  const n = Math.round(seconds * fs);
  const x = new Float32Array(n);
  const r: number[] = [];
  for (let t = 0.5 + rnd() * 0.3; t < seconds - 0.5; t += 0.6 + rnd() * 0.5) r.push(Math.round(t * fs));
  const add = (c: number, sigma: number, amp: number): void => {
    const w = Math.ceil(5 * sigma * fs);
    for (let k = Math.max(0, c - w); k < Math.min(n, c + w); k++) {
      const d = (k - c) / fs;
      x[k] += amp * Math.exp((-d * d) / (2 * sigma * sigma));
    }
  };
  for (const c of r) {
    add(c, 0.01, 1);
    add(c + Math.round(0.25 * fs), 0.04, 0.3);
  }
  for (let k = 0; k < n; k++) x[k] += 0.3 * Math.sin((2 * Math.PI * 0.3 * k) / fs) + 0.02 * (rnd() - 0.5);
  return { x, r };
}

function bruteMedian(x: Float32Array, w: number): Float32Array {
  const h = (w - 1) >> 1;
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const win: number[] = [];
    for (let k = i - h; k <= i + h; k++) win.push(x[Math.min(x.length - 1, Math.max(0, k))]);
    win.sort((a, b) => a - b);
    y[i] = win[h];
  }
  return y;
}

function sine(n: number, fs: number, f: number, amp = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * f * i) / fs);
  return x;
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
}

describe('medianFilter', () => {
  it('matches a brute-force median on random inputs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 15 }),
        (vals, width) => {
          const x = Float32Array.from(vals);
          const w = width | 1;
          expect(Array.from(medianFilter(x, width))).toEqual(Array.from(bruteMedian(x, w)));
        },
      ),
    );
  });
  it('rejects bad widths and aliasing', () => {
    const x = new Float32Array(5);
    expect(() => medianFilter(x, 0)).toThrow(DspError);
    expect(() => medianFilter(x, 3, x)).toThrow(DspError);
  });
});

describe('removeBaselineWander', () => {
  it('removes a slow drift and keeps narrow spikes', () => {
    const fs = 360;
    const { x, r } = pulseTrain(10, fs);
    const y = removeBaselineWander(x, fs);
    // after removal the signal between beats is near zero; QRS amplitude survives
    for (const c of r) expect(y[c]).toBeGreaterThan(0.8);
    const mid = Math.round((r[3] + r[4]) / 2);
    expect(Math.abs(y[mid])).toBeLessThan(0.1);
    expect(Math.abs(x[mid])).toBeGreaterThan(0); // the input did have a drift component
  });
});

describe('butterworth', () => {
  it('has unit DC gain (low-pass) and zero gain at DC (high-pass)', () => {
    for (const order of [1, 2, 3, 4, 5]) {
      let g = 1;
      for (const s of butterworthSections('lowpass', 20, 360, order))
        g *= (s.b0 + s.b1 + s.b2) / (1 + s.a1 + s.a2);
      expect(g).toBeCloseTo(1, 10);
      let h = 1;
      for (const s of butterworthSections('highpass', 1, 360, order))
        h *= (s.b0 + s.b1 + s.b2) / (1 + s.a1 + s.a2);
      expect(Math.abs(h)).toBeLessThan(1e-9);
    }
  });
  it('zero-phase band-pass passes the band, attenuates outside, keeps peak positions', () => {
    const fs = 360;
    const n = 3600;
    const inBand = butterworthBandpass(sine(n, fs, 10), fs, 5, 15, 2);
    const lo = butterworthBandpass(sine(n, fs, 0.5), fs, 5, 15, 2);
    const hi = butterworthBandpass(sine(n, fs, 60), fs, 5, 15, 2);
    const mid: [number, number] = [600, 3000];
    // forward-backward: |H|² of each filter; at 10 Hz the two 2nd-order sections give ≈ 0.6–1
    expect(rms(inBand, ...mid)).toBeGreaterThan(0.4);
    expect(rms(lo, ...mid)).toBeLessThan(0.01);
    expect(rms(hi, ...mid)).toBeLessThan(0.01);
    // zero phase: a symmetric pulse keeps its peak index
    const p = new Float32Array(2000);
    for (let i = 0; i < p.length; i++) p[i] = Math.exp(-(((i - 1000) / 10) ** 2));
    const y = butterworthBandpass(p, fs, 1, 40, 4);
    let arg = 0;
    for (let i = 0; i < y.length; i++) if (y[i] > y[arg]) arg = i;
    expect(arg).toBe(1000);
  });
  it('accepts an out array and rejects bad cut-offs', () => {
    const x = sine(500, 360, 10);
    const out = new Float32Array(500);
    expect(butterworthBandpass(x, 360, 5, 15, 2, out)).toBe(out);
    expect(() => butterworthBandpass(x, 360, 15, 5)).toThrow(DspError);
    expect(() => butterworthSections('lowpass', 200, 360, 2)).toThrow(DspError);
  });
});

describe('resample', () => {
  it('reproduces a band-limited sine at the new rate', () => {
    for (const [from, to] of [
      [360, 250],
      [250, 360],
      [360, 128],
      [128, 500],
    ]) {
      const n = from * 4;
      const y = resample(sine(n, from, 3), from, to);
      expect(y.length).toBe(Math.round((n * to) / from));
      const ref = sine(y.length, to, 3);
      let err = 0;
      for (let i = to; i < y.length - to; i++) err = Math.max(err, Math.abs(y[i] - ref[i]));
      expect(err).toBeLessThan(2e-3);
    }
  });
  it('removes content above the new Nyquist frequency when decimating', () => {
    const y = resample(sine(3600, 360, 100), 360, 128);
    expect(rms(y, 64, y.length - 64)).toBeLessThan(0.02);
  });
  it('keeps a constant exactly (kernel normalised)', () => {
    const y = resample(new Float32Array(1000).fill(2.5), 360, 97);
    for (const v of y) expect(v).toBeCloseTo(2.5, 5);
  });
});

describe('zscore', () => {
  it('gives zero mean and unit variance; constant → zeros', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1000, max: 1000, noNaN: true }), { minLength: 2, maxLength: 200 }),
        (v) => {
          const x = Float32Array.from(v);
          const y = zscore(x);
          let m = 0;
          for (const a of y) m += a;
          m /= y.length;
          expect(Math.abs(m)).toBeLessThan(1e-3);
          const spread = Math.max(...v) - Math.min(...v);
          if (spread > 1e-2) expect(rms(y)).toBeCloseTo(1, 2);
        },
      ),
    );
    expect(Array.from(zscore(new Float32Array(4).fill(3)))).toEqual([0, 0, 0, 0]);
  });
});

describe('QRS detection', () => {
  const fs = 360;
  const { x, r } = pulseTrain(120, fs, 7);

  it('finds every pulse of a synthetic train within 50 ms and nothing else', () => {
    const det = detectQrs(x, fs);
    expect(det.length).toBe(r.length);
    for (let i = 0; i < r.length; i++) expect(Math.abs(det[i] - r[i])).toBeLessThanOrEqual(0.05 * fs);
  });

  it('is invariant to scale and offset', () => {
    const a = detectQrs(x, fs);
    const y = x.map((v) => 1000 * v + 1024);
    expect(Array.from(detectQrs(y, fs))).toEqual(Array.from(a));
    const z = x.map((v) => 0.001 * v - 3);
    expect(Array.from(detectQrs(z, fs))).toEqual(Array.from(a));
  });

  it('streaming in chunks of any size gives exactly the batch result', () => {
    const batch = Array.from(detectQrs(x, fs));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        const det = new QrsDetector(fs);
        const got: number[] = [];
        let p = 0;
        let k = 0;
        while (p < x.length) {
          const len = sizes[k++ % sizes.length];
          got.push(...det.push(x.subarray(p, Math.min(x.length, p + len))));
          p += len;
        }
        got.push(...det.flush());
        expect(got).toEqual(batch);
      }),
      { numRuns: 20 },
    );
  });

  it('reports beats with bounded latency while streaming', () => {
    const det = new QrsDetector(fs);
    let maxLag = 0;
    const chunk = 36; // 100 ms chunks
    for (let p = 0; p < x.length; p += chunk) {
      const got = det.push(x.subarray(p, p + chunk));
      for (const g of got) maxLag = Math.max(maxLag, p + chunk - g);
    }
    // documented bound: ≈ refractory + integration + filter delay for threshold beats, < 3 s always
    expect(maxLag).toBeLessThan(3 * fs);
  });

  it('runs on arbitrarily long streams with constant state (1 h at 360 Hz)', () => {
    const det = new QrsDetector(fs);
    let count = 0;
    for (let rep = 0; rep < 30; rep++) count += det.push(x).length; // 30 × 120 s = 1 h
    count += det.flush().length;
    // the concatenation glues pulse trains, so allow ±1 beat per seam
    expect(Math.abs(count - 30 * r.length)).toBeLessThanOrEqual(30);
  });

  it('detects nothing on silence and handles short or non-finite input', () => {
    expect(detectQrs(new Float32Array(3600), fs).length).toBe(0);
    expect(detectQrs(new Float32Array(10), fs).length).toBe(0);
    const y = x.slice(0, 3600);
    y[100] = Number.NaN;
    expect(() => detectQrs(y, fs)).not.toThrow();
    expect(() => new QrsDetector(20)).toThrow(DspError);
    const d = new QrsDetector(fs);
    d.push(x.subarray(0, 1000));
    d.flush();
    expect(d.flush()).toEqual([]);
    expect(() => d.push(x.subarray(0, 10))).toThrow(/after flush/);
  });
});
