// Dependency-free filters shared by @ecgnn/infer and @ecgnn/data. No Node APIs: runs in browsers.

/** Error thrown for invalid arguments to the DSP functions (bad sampling rate, cut-off, length…). */
export class DspError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DspError';
  }
}

function checkFs(fs: number, what = 'fs'): void {
  if (!Number.isFinite(fs) || fs <= 0)
    throw new DspError(`${what} must be a positive finite number, got ${fs}`);
}

function outputFor(n: number, out: Float32Array | undefined, fn: string): Float32Array {
  if (out === undefined) return new Float32Array(n);
  if (out.length !== n) throw new DspError(`${fn}: out has length ${out.length}, expected ${n}`);
  return out;
}

/**
 * Running median of `x` over a centred window of `width` samples (forced odd), with the first
 * and last values replicated beyond the edges. Cost O(n·width) with a sorted window kept by
 * binary-search insert/delete (no allocation per sample). Inputs must be finite.
 *
 * @param x - input signal
 * @param width - window width in samples (≥ 1; an even width is increased by one)
 * @param out - optional output array of the same length (may not alias `x`)
 */
export function medianFilter(x: Float32Array, width: number, out?: Float32Array): Float32Array {
  const n = x.length;
  const y = outputFor(n, out, 'medianFilter');
  if (!Number.isInteger(width) || width < 1)
    throw new DspError(`medianFilter: width must be ≥ 1, got ${width}`);
  if (n === 0) return y;
  if (y === x) throw new DspError('medianFilter: out must not alias the input');
  const w = width | 1;
  const h = (w - 1) >> 1;
  const win = new Float64Array(w);
  const at = (i: number): number => x[i < 0 ? 0 : i >= n ? n - 1 : i];
  // initial window: indices -h..h
  for (let k = 0; k < w; k++) win[k] = at(k - h);
  win.sort();
  const lowerBound = (v: number): number => {
    let lo = 0;
    let hi = w;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (win[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (let i = 0; i < n; i++) {
    y[i] = win[h];
    if (i === n - 1) break;
    const outgoing = at(i - h);
    const incoming = at(i + h + 1);
    if (outgoing === incoming) continue;
    // replace the outgoing value by the incoming one and bubble it into place
    let p = lowerBound(outgoing);
    if (incoming > outgoing) {
      while (p < w - 1 && win[p + 1] < incoming) {
        win[p] = win[p + 1];
        p++;
      }
    } else {
      while (p > 0 && win[p - 1] > incoming) {
        win[p] = win[p - 1];
        p--;
      }
    }
    win[p] = incoming;
  }
  return y;
}

/**
 * Baseline-wander removal of de Chazal et al. 2004: the baseline is the signal passed through a
 * 200 ms median filter and then a 600 ms median filter; the result is signal − baseline.
 *
 * @param signal - ECG samples (any units)
 * @param fs - sampling rate in Hz
 * @param out - optional output array of the same length
 */
export function removeBaselineWander(signal: Float32Array, fs: number, out?: Float32Array): Float32Array {
  checkFs(fs);
  const n = signal.length;
  const w1 = Math.max(1, Math.round(0.2 * fs)) | 1;
  const w2 = Math.max(1, Math.round(0.6 * fs)) | 1;
  const stage1 = medianFilter(signal, w1);
  const baseline = medianFilter(stage1, w2);
  const y = outputFor(n, out, 'removeBaselineWander');
  for (let i = 0; i < n; i++) y[i] = signal[i] - baseline[i];
  return y;
}

/** Coefficients of one second-order section, normalised so that a0 = 1. */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/**
 * Butterworth low- or high-pass of the given order as a cascade of biquads, by the bilinear
 * transform with pre-warping (RBJ cookbook sections with the Butterworth pole Q values
 * Q_k = 1 / (2 sin((2k − 1)π / 2N)); an odd order adds one first-order section, stored as a
 * biquad with b2 = a2 = 0).
 *
 * @param kind - 'lowpass' or 'highpass'
 * @param cutoffHz - −3 dB frequency, 0 < cutoff < fs/2
 * @param fs - sampling rate in Hz
 * @param order - filter order N ≥ 1
 */
export function butterworthSections(
  kind: 'lowpass' | 'highpass',
  cutoffHz: number,
  fs: number,
  order: number,
): Biquad[] {
  checkFs(fs);
  if (!Number.isInteger(order) || order < 1 || order > 32)
    throw new DspError(`butterworth: order must be an integer in 1..32, got ${order}`);
  if (!(cutoffHz > 0 && cutoffHz < fs / 2))
    throw new DspError(`butterworth: cut-off ${cutoffHz} Hz must lie in (0, fs/2 = ${fs / 2})`);
  const sections: Biquad[] = [];
  const w0 = (2 * Math.PI * cutoffHz) / fs;
  const cw = Math.cos(w0);
  const sw = Math.sin(w0);
  for (let k = 1; k <= order >> 1; k++) {
    const q = 1 / (2 * Math.sin(((2 * k - 1) * Math.PI) / (2 * order)));
    const alpha = sw / (2 * q);
    const a0 = 1 + alpha;
    const s =
      kind === 'lowpass'
        ? { b0: (1 - cw) / 2, b1: 1 - cw, b2: (1 - cw) / 2 }
        : { b0: (1 + cw) / 2, b1: -(1 + cw), b2: (1 + cw) / 2 };
    sections.push({ b0: s.b0 / a0, b1: s.b1 / a0, b2: s.b2 / a0, a1: (-2 * cw) / a0, a2: (1 - alpha) / a0 });
  }
  if (order % 2 === 1) {
    // NOTE: first-order section 1/(s+1) (or s/(s+1)) by the bilinear transform, K = tan(w0/2).
    const K = Math.tan(w0 / 2);
    const a1 = (K - 1) / (K + 1);
    if (kind === 'lowpass') sections.push({ b0: K / (1 + K), b1: K / (1 + K), b2: 0, a1, a2: 0 });
    else sections.push({ b0: 1 / (1 + K), b1: -1 / (1 + K), b2: 0, a1, a2: 0 });
  }
  return sections;
}

/**
 * Runs a biquad cascade over `x` in place (direct form II transposed, float64 state), from
 * left to right, or right to left when `reverse` is true. The state starts at the steady state
 * for a constant input equal to the first processed sample, which removes the start-up step.
 */
export function sosFilterInPlace(sections: readonly Biquad[], x: Float64Array, reverse = false): void {
  const n = x.length;
  if (n === 0) return;
  for (const s of sections) {
    const { b0, b1, b2, a1, a2 } = s;
    // steady state for constant input v: y = v·G with G = (b0+b1+b2)/(1+a1+a2)
    const v = reverse ? x[n - 1] : x[0];
    const g = (b0 + b1 + b2) / (1 + a1 + a2);
    const yss = v * g;
    // DF2T: y = b0 x + z1; z1' = b1 x − a1 y + z2; z2' = b2 x − a2 y
    let z2 = b2 * v - a2 * yss;
    let z1 = b1 * v - a1 * yss + z2;
    if (reverse) {
      for (let i = n - 1; i >= 0; i--) {
        const xi = x[i];
        const yi = b0 * xi + z1;
        z1 = b1 * xi - a1 * yi + z2;
        z2 = b2 * xi - a2 * yi;
        x[i] = yi;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const xi = x[i];
        const yi = b0 * xi + z1;
        z1 = b1 * xi - a1 * yi + z2;
        z2 = b2 * xi - a2 * yi;
        x[i] = yi;
      }
    }
  }
}

/**
 * Zero-phase Butterworth band-pass: a high-pass at `lowHz` and a low-pass at `highHz`, each of
 * `order` (default 2), run forward then backward (so the magnitude response is squared and the
 * phase is zero). The signal is extended at both ends by odd reflection (as in scipy's
 * filtfilt) over 3·(order+1)·fs/lowHz-bounded padding to keep edge transients small.
 * `lowHz = 0` gives a low-pass only, `highHz ≥ fs/2` a high-pass only.
 *
 * @param signal - input samples
 * @param fs - sampling rate in Hz
 * @param lowHz - lower cut-off (0 for none)
 * @param highHz - upper cut-off (≥ fs/2 for none)
 * @param order - Butterworth order of each of the two filters (default 2)
 * @param out - optional output array of the same length (may alias `signal`)
 */
export function butterworthBandpass(
  signal: Float32Array,
  fs: number,
  lowHz: number,
  highHz: number,
  order = 2,
  out?: Float32Array,
): Float32Array {
  checkFs(fs);
  if (!(lowHz >= 0) || !(highHz > lowHz))
    throw new DspError(`butterworthBandpass: need 0 ≤ lowHz < highHz, got ${lowHz}, ${highHz}`);
  const n = signal.length;
  const y = outputFor(n, out, 'butterworthBandpass');
  const sections: Biquad[] = [];
  if (lowHz > 0) sections.push(...butterworthSections('highpass', lowHz, fs, order));
  if (highHz < fs / 2) sections.push(...butterworthSections('lowpass', highHz, fs, order));
  if (n === 0) return y;
  // padding: a few time constants of the slowest section, bounded by the signal length
  const slowest = lowHz > 0 ? lowHz : highHz;
  const pad = Math.min(n - 1, Math.ceil((3 * (order + 1) * fs) / slowest));
  const m = n + 2 * pad;
  const buf = new Float64Array(m);
  const first = signal[0];
  const last = signal[n - 1];
  for (let i = 0; i < pad; i++) buf[i] = 2 * first - signal[pad - i];
  for (let i = 0; i < n; i++) buf[pad + i] = signal[i];
  for (let i = 0; i < pad; i++) buf[pad + n + i] = 2 * last - signal[n - 2 - i];
  sosFilterInPlace(sections, buf, false);
  sosFilterInPlace(sections, buf, true);
  for (let i = 0; i < n; i++) y[i] = buf[pad + i];
  return y;
}

/**
 * Resamples `signal` from `fromFs` to `toFs` by band-limited interpolation: a Hann-windowed
 * sinc kernel with 16 zero crossings on each side, its cut-off at min(fromFs, toFs)/2 (so it is
 * also the anti-aliasing filter when decimating). Output length = round(n · toFs / fromFs);
 * output sample j sits at input time j · fromFs / toFs. Edges replicate the end samples.
 *
 * @param signal - input samples at `fromFs`
 * @param fromFs - input rate in Hz
 * @param toFs - output rate in Hz
 */
export function resample(signal: Float32Array, fromFs: number, toFs: number): Float32Array {
  checkFs(fromFs, 'fromFs');
  checkFs(toFs, 'toFs');
  const n = signal.length;
  if (fromFs === toFs) return Float32Array.from(signal);
  const m = Math.round((n * toFs) / fromFs);
  const y = new Float32Array(m);
  if (n === 0) return y;
  const ratio = fromFs / toFs; // input samples per output sample
  const c = Math.min(1, toFs / fromFs); // cut-off relative to the input Nyquist
  const zeros = 16;
  const half = zeros / c; // kernel half-width in input samples
  // Kernel k(d) = c·sinc(c·d)·(0.5 + 0.5·cos(π d / half)) tabulated at 1/512-sample steps and
  // linearly interpolated (relative error < 1e-5), instead of sin/cos per tap.
  const R = 512;
  const tlen = Math.ceil(half * R) + 2;
  const table = new Float64Array(tlen);
  for (let i = 0; i < tlen; i++) {
    const d = i / R;
    if (d >= half) break;
    const u = c * d;
    const sinc = u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
    table[i] = c * sinc * (0.5 + 0.5 * Math.cos((Math.PI * d) / half));
  }
  for (let j = 0; j < m; j++) {
    const t = j * ratio;
    const lo = Math.ceil(t - half);
    const hi = Math.floor(t + half);
    let acc = 0;
    let wsum = 0;
    for (let k = lo; k <= hi; k++) {
      const pos = Math.abs(t - k) * R;
      const i0 = pos | 0;
      const fr = pos - i0;
      const wk = i0 + 1 < tlen ? table[i0] + fr * (table[i0 + 1] - table[i0]) : 0;
      const xk = signal[k < 0 ? 0 : k >= n ? n - 1 : k];
      acc += wk * xk;
      wsum += wk;
    }
    // NOTE: normalising by the kernel sum keeps DC gain exactly 1 despite the truncated window.
    y[j] = wsum !== 0 ? acc / wsum : acc;
  }
  return y;
}

/**
 * Z-score normalisation: (x − mean) / max(std, eps), with the population standard deviation
 * computed in float64. A constant signal gives zeros.
 *
 * @param signal - input samples
 * @param eps - lower bound on the divisor (default 1e-8)
 * @param out - optional output array of the same length (may alias `signal`)
 */
export function zscore(signal: Float32Array, eps = 1e-8, out?: Float32Array): Float32Array {
  const n = signal.length;
  const y = outputFor(n, out, 'zscore');
  if (n === 0) return y;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += signal[i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = signal[i] - mean;
    v += d * d;
  }
  const sd = Math.max(Math.sqrt(v / n), eps);
  for (let i = 0; i < n; i++) y[i] = (signal[i] - mean) / sd;
  return y;
}
