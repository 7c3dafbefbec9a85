// QRS detection after Pan & Tompkins (1985), written as a per-sample streaming state machine so
// that the batch function and the streaming class are the same code. No Node APIs.
import { type Biquad, butterworthSections, DspError } from './filters.js';

/** Tuning options of the QRS detector. All times are in seconds. */
export interface QrsOptions {
  /** Band-pass of the detection channel, Hz (default [5, 15], as Pan & Tompkins). */
  band?: [number, number];
  /** Moving-window integration width (default 0.15 s). */
  integrationWindow?: number;
  /** Refractory period: two beats are never closer than this (default 0.2 s). */
  refractory?: number;
  /** Window after a beat in which a candidate with a small slope is taken as a T wave (default 0.36 s). */
  tWaveWindow?: number;
  /** Learning period used to initialise the thresholds (default 2 s). */
  learningPeriod?: number;
  /** Search back for a missed beat when no beat came for this multiple of the mean RR (default 1.4; Pan & Tompkins 1.66). */
  searchBackFactor?: number;
  /** Fraction of the way from the noise level to the signal level used as threshold (default 0.15; Pan & Tompkins 0.25). */
  thresholdFraction?: number;
}

interface Resolved {
  band: [number, number];
  integrationWindow: number;
  refractory: number;
  tWaveWindow: number;
  learningPeriod: number;
  searchBackFactor: number;
  thresholdFraction: number;
}

const DEFAULTS: Resolved = {
  band: [5, 15],
  integrationWindow: 0.15,
  refractory: 0.2,
  tWaveWindow: 0.36,
  learningPeriod: 2,
  searchBackFactor: 1.4,
  thresholdFraction: 0.15,
};

interface Candidate {
  /** index of the integrated-signal peak */
  c: number;
  /** located R-peak index */
  r: number;
  /** integrated-signal value */
  v: number;
  /** maximum absolute slope of the band-passed signal around the QRS */
  slope: number;
}

/** Group delay (samples) of a biquad cascade at frequency f, by a central difference of the phase. */
function groupDelay(sections: readonly Biquad[], f: number, fs: number): number {
  const phase = (w: number): number => {
    let ph = 0;
    for (const s of sections) {
      // H(e^{jw}) = (b0 + b1 e^{-jw} + b2 e^{-2jw}) / (1 + a1 e^{-jw} + a2 e^{-2jw})
      const nr = s.b0 + s.b1 * Math.cos(w) + s.b2 * Math.cos(2 * w);
      const ni = -s.b1 * Math.sin(w) - s.b2 * Math.sin(2 * w);
      const dr = 1 + s.a1 * Math.cos(w) + s.a2 * Math.cos(2 * w);
      const di = -s.a1 * Math.sin(w) - s.a2 * Math.sin(2 * w);
      ph += Math.atan2(ni, nr) - Math.atan2(di, dr);
    }
    return ph;
  };
  const w = (2 * Math.PI * f) / fs;
  const dw = 1e-4;
  let dp = phase(w + dw) - phase(w - dw);
  while (dp > Math.PI) dp -= 2 * Math.PI;
  while (dp < -Math.PI) dp += 2 * Math.PI;
  return -dp / (2 * dw);
}

/**
 * Streaming QRS detector (Pan & Tompkins 1985 with their adaptive thresholds, search-back and
 * T-wave discrimination). Processing chain per sample: causal Butterworth band-pass (default
 * 5–15 Hz, 2nd-order high-pass + 2nd-order low-pass) → five-point derivative
 * (2x[n] + x[n−s] − x[n−3s] − 2x[n−4s], s = round(fs/200)) → square → moving-window
 * integration (150 ms). Candidate peaks are the maxima of the integrated signal over ±refractory
 * (200 ms). A candidate above THRESHOLD_I1 = NPKI + f·(SPKI − NPKI) is a beat unless it falls
 * within 360 ms of the previous beat with less than half its maximum slope (T wave). Candidates
 * above THRESHOLD_I2 = I1/2 are kept and the largest is taken as a beat when no beat arrives for
 * g × the mean of the last 8 RR intervals (search-back). Pan & Tompkins use f = 0.25 and
 * g = 1.66; our defaults f = 0.15, g = 1.4 were chosen on the 48 MIT-BIH records (see
 * docs/data.md: the figures are therefore not an independent test). SPKI/NPKI are running peak levels
 * (1/8 update; 1/4 for search-back beats), initialised over the first 2 s (SPKI = max/3,
 * NPKI = mean/2 of the integrated signal); candidates of the learning period are replayed.
 * The R peak is then located as the largest absolute deviation of the raw signal from its local
 * mean within ±50 ms of the band-passed peak (corrected for the filter's group delay).
 *
 * Thresholds are all relative, so the detector is invariant to the signal's scale and offset.
 *
 * Latency: a beat is reported once the integrated signal has been followed by `refractory`
 * seconds (≈ 0.2 s + 0.15 s integration + filter delay after the R peak) — or, for a beat found
 * by search-back, up to g × min(mean RR, 1.5 s) + 0.2 s after the previous beat; at most
 * ~3 s. Memory is a fixed ring buffer of 4 s of samples, whatever the stream length.
 * `detectQrs` on a whole signal returns exactly what pushing it in chunks of any sizes followed
 * by `flush()` returns.
 */
export class QrsDetector {
  readonly fs: number;
  private readonly opt: Resolved;
  private readonly sections: Biquad[];
  private readonly z1: Float64Array;
  private readonly z2: Float64Array;
  private readonly mask: number;
  private readonly raw: Float64Array;
  private readonly bp: Float64Array;
  private readonly absd: Float64Array;
  private readonly sq: Float64Array;
  private readonly mwi: Float64Array;
  private readonly dq: Float64Array; // monotone deque of sample indices (float64: exact beyond 2^31)
  private dqHead = 0;
  private dqTail = 0;
  private readonly s: number; // derivative tap spacing
  private readonly W: number; // integration width
  private readonly H: number; // half-width of the peak neighbourhood (refractory)
  private readonly gd: number; // band-pass group delay (samples)
  private readonly locRadius: number;
  private readonly baseRadius: number;
  private readonly learnN: number;
  private n = 0; // number of samples processed
  private mwiSum = 0;
  private learning = true;
  private learnMax = 0;
  private learnSum = 0;
  private learnCands: Candidate[] = [];
  private spki = 0;
  private npki = 0;
  private lastC = -1;
  private lastR = -1;
  private lastSlope = 0;
  private readonly rr: number[] = [];
  private sb: Candidate | null = null;
  private lastDecay = 0;
  private out: number[] = [];
  private flushed = false;

  /**
   * @param fs - sampling rate in Hz (≥ 40)
   * @param opts - tuning options (defaults follow Pan & Tompkins)
   */
  constructor(fs: number, opts: QrsOptions = {}) {
    if (!Number.isFinite(fs) || fs < 40) throw new DspError(`QrsDetector: fs must be ≥ 40 Hz, got ${fs}`);
    this.fs = fs;
    this.opt = { ...DEFAULTS, ...opts };
    const [lo, hi] = this.opt.band;
    if (!(lo > 0 && hi > lo && hi < fs / 2))
      throw new DspError(`QrsDetector: band [${lo}, ${hi}] must satisfy 0 < low < high < fs/2`);
    this.sections = [
      ...butterworthSections('highpass', lo, fs, 2),
      ...butterworthSections('lowpass', hi, fs, 2),
    ];
    this.z1 = new Float64Array(this.sections.length);
    this.z2 = new Float64Array(this.sections.length);
    let size = 1;
    while (size < 4 * fs) size <<= 1;
    this.mask = size - 1;
    this.raw = new Float64Array(size);
    this.bp = new Float64Array(size);
    this.absd = new Float64Array(size);
    this.sq = new Float64Array(size);
    this.mwi = new Float64Array(size);
    this.s = Math.max(1, Math.round(fs / 200));
    this.W = Math.max(1, Math.round(this.opt.integrationWindow * fs));
    this.H = Math.max(1, Math.round(this.opt.refractory * fs));
    this.dq = new Float64Array(2 * this.H + 4);
    this.gd = Math.max(0, Math.round(groupDelay(this.sections, (lo + hi) / 2, fs)));
    this.locRadius = Math.max(1, Math.round(0.05 * fs));
    this.baseRadius = Math.max(1, Math.round(0.15 * fs));
    this.learnN = Math.max(1, Math.round(this.opt.learningPeriod * fs));
    if (this.baseRadius + this.locRadius + this.gd + this.W + 4 * this.s + this.H >= size)
      throw new DspError('QrsDetector: options need a longer history than the ring buffer holds');
  }

  /** Number of samples consumed so far. */
  get samplesSeen(): number {
    return this.n;
  }

  /**
   * Feeds the next chunk of raw samples.
   * @returns absolute sample indices (from the first sample pushed) of the R peaks confirmed
   *   during this call, in increasing order
   */
  push(chunk: Float32Array | Float64Array | readonly number[]): number[] {
    if (this.flushed) throw new DspError('QrsDetector: push() after flush(); create a new detector');
    this.out = [];
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i]);
    return this.out;
  }

  /**
   * Ends the stream: decides the candidates still waiting for their look-ahead.
   * @returns the R peaks confirmed by this call. Pushing afterwards throws; a second flush returns [].
   */
  flush(): number[] {
    if (this.flushed) return [];
    this.flushed = true;
    this.out = [];
    const N = this.n;
    // remaining centres c with a truncated right neighbourhood [c − H, N − 1]
    for (let c = Math.max(0, N - this.H); c < N; c++) {
      while (this.dqHead < this.dqTail && this.dqAt(this.dqHead) < c - this.H) this.dqHead++;
      if (this.dqHead < this.dqTail && this.dqAt(this.dqHead) === c) this.candidate(c);
    }
    if (this.learning) this.endLearning();
    if (!this.learning) this.searchBack(N);
    return this.out;
  }

  private dqAt(k: number): number {
    return this.dq[k % this.dq.length];
  }

  private step(x: number): void {
    const n = this.n;
    const m = this.mask;
    if (!Number.isFinite(x)) x = n > 0 ? this.raw[(n - 1) & m] : 0;
    this.raw[n & m] = x;
    // causal band-pass (DF2T), started at steady state for the first sample
    let y = x;
    const secs = this.sections;
    if (n === 0) {
      let v = x;
      for (let k = 0; k < secs.length; k++) {
        const s = secs[k];
        const yss = (v * (s.b0 + s.b1 + s.b2)) / (1 + s.a1 + s.a2);
        this.z2[k] = s.b2 * v - s.a2 * yss;
        this.z1[k] = s.b1 * v - s.a1 * yss + this.z2[k];
        v = yss;
      }
    }
    for (let k = 0; k < secs.length; k++) {
      const s = secs[k];
      const yk = s.b0 * y + this.z1[k];
      this.z1[k] = s.b1 * y - s.a1 * yk + this.z2[k];
      this.z2[k] = s.b2 * y - s.a2 * yk;
      y = yk;
    }
    this.bp[n & m] = y;
    // five-point derivative (Pan & Tompkins), missing history replaced by the first value
    const s = this.s;
    const bp = this.bp;
    const k1 = n - s;
    const k3 = n - 3 * s;
    const k4 = n - 4 * s;
    const d = 2 * y + bp[Math.max(k1, 0) & m] - bp[Math.max(k3, 0) & m] - 2 * bp[Math.max(k4, 0) & m];
    this.absd[n & m] = Math.abs(d);
    const q = d * d;
    this.sq[n & m] = q;
    const W = this.W;
    this.mwiSum += q - (n >= W ? this.sq[(n - W) & m] : 0);
    if ((n & 0xffff) === 0xffff) {
      // NOTE: re-sum exactly now and then so rounding errors cannot accumulate over long streams
      let acc = 0;
      for (let k = Math.max(0, n - W + 1); k <= n; k++) acc += this.sq[k & m];
      this.mwiSum = acc;
    }
    const v = this.mwiSum / W;
    this.mwi[n & m] = v;
    if (this.learning) {
      if (v > this.learnMax) this.learnMax = v;
      this.learnSum += v;
    }
    // monotone deque: indices with decreasing integrated values; later equal values win
    const cap = this.dq.length;
    while (this.dqTail > this.dqHead && this.mwi[this.dqAt(this.dqTail - 1) & m] <= v) this.dqTail--;
    this.dq[this.dqTail % cap] = n;
    this.dqTail++;
    const H = this.H;
    while (this.dqAt(this.dqHead) < n - 2 * H) this.dqHead++;
    if (this.dqHead > cap) {
      this.dqHead -= cap;
      this.dqTail -= cap;
    }
    this.n = n + 1;
    const c = n - H;
    if (c >= 0 && this.dqAt(this.dqHead) === c) this.candidate(c);
    if (this.learning && this.n >= this.learnN) this.endLearning();
    if (!this.learning) this.searchBack(c);
  }

  private endLearning(): void {
    this.learning = false;
    const seen = Math.max(1, Math.min(this.n, this.learnN));
    this.spki = this.learnMax / 3;
    this.npki = this.learnSum / seen / 2;
    const cands = this.learnCands;
    this.learnCands = [];
    for (const cd of cands) this.classify(cd);
  }

  /** Locates the R peak for the integrated-signal peak at c and measures its slope. */
  private candidate(c: number): void {
    const m = this.mask;
    const lo = Math.max(0, c - this.W - 4 * this.s);
    let best = lo;
    let bestAbs = -1;
    let slope = 0;
    for (let k = lo; k <= c; k++) {
      const a = Math.abs(this.bp[k & m]);
      if (a > bestAbs) {
        bestAbs = a;
        best = k;
      }
      const sd = this.absd[k & m];
      if (sd > slope) slope = sd;
    }
    const est = Math.max(0, best - this.gd);
    // local mean of the raw signal around the estimate, then the largest deviation from it
    const b0 = Math.max(0, est - this.baseRadius);
    const b1 = Math.min(this.n - 1, est + this.baseRadius);
    let mean = 0;
    for (let k = b0; k <= b1; k++) mean += this.raw[k & m];
    mean /= b1 - b0 + 1;
    const r0 = Math.max(0, est - this.locRadius);
    const r1 = Math.min(this.n - 1, est + this.locRadius);
    let r = est;
    let dev = -1;
    for (let k = r0; k <= r1; k++) {
      const a = Math.abs(this.raw[k & m] - mean);
      if (a > dev) {
        dev = a;
        r = k;
      }
    }
    const cd: Candidate = { c, r, v: this.mwi[c & m], slope };
    if (this.learning) this.learnCands.push(cd);
    else this.classify(cd);
  }

  private isTWave(cd: Candidate): boolean {
    return (
      this.lastR >= 0 && cd.r - this.lastR < this.opt.tWaveWindow * this.fs && cd.slope < 0.5 * this.lastSlope
    );
  }

  private classify(cd: Candidate): void {
    const i1 = this.npki + this.opt.thresholdFraction * (this.spki - this.npki);
    const i2 = 0.5 * i1;
    const tooClose = this.lastR >= 0 && cd.r - this.lastR < this.H;
    if (cd.v > i1 && !tooClose && !this.isTWave(cd)) {
      this.accept(cd, false);
      return;
    }
    this.npki = 0.125 * cd.v + 0.875 * this.npki;
    if (cd.v > i2 && !tooClose && !this.isTWave(cd) && (this.sb === null || cd.v > this.sb.v)) this.sb = cd;
  }

  private accept(cd: Candidate, searchBack: boolean): void {
    if (this.lastR >= 0) {
      this.rr.push(cd.r - this.lastR);
      if (this.rr.length > 8) this.rr.shift();
    }
    this.spki = searchBack ? 0.25 * cd.v + 0.75 * this.spki : 0.125 * cd.v + 0.875 * this.spki;
    this.lastC = cd.c;
    this.lastR = cd.r;
    this.lastSlope = cd.slope;
    this.sb = null;
    this.out.push(cd.r);
  }

  /** Search-back and recovery, evaluated at the look-ahead-confirmed time `now`. */
  private searchBack(now: number): void {
    let mean = this.fs; // 60 bpm until an RR interval is known
    if (this.rr.length > 0) {
      let sum = 0;
      for (const x of this.rr) sum += x;
      mean = sum / this.rr.length;
    }
    mean = Math.min(mean, 1.5 * this.fs);
    const since = now - Math.max(this.lastC, 0);
    if (this.sb !== null && since > this.opt.searchBackFactor * mean) {
      this.accept(this.sb, true);
      return;
    }
    // NOTE: recovery (not in Pan & Tompkins): after 3 s without a beat, halve both levels every
    // second so a sudden drop in amplitude cannot stall the detector.
    if (since > 3 * this.fs && now - this.lastDecay > this.fs) {
      this.spki *= 0.5;
      this.npki *= 0.5;
      this.lastDecay = now;
    }
  }
}

/**
 * Detects R peaks in a whole signal with {@link QrsDetector} (same code path as streaming).
 *
 * @param signal - one ECG lead, any units (the detector is scale-invariant)
 * @param fs - sampling rate in Hz
 * @param opts - detector options
 * @returns increasing sample indices of the R peaks
 */
export function detectQrs(signal: Float32Array, fs: number, opts?: QrsOptions): Int32Array {
  const det = new QrsDetector(fs, opts);
  const a = det.push(signal);
  const b = det.flush();
  const out = new Int32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
