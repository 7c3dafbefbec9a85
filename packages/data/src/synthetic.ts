// Synthetic ECG from the dynamical model of McSharry, Clifford, Tarassenko & Smith,
// "A dynamical model for generating synthetic electrocardiogram signals", IEEE TBME 50(3) 2003.
import { AAMI_CLASSES } from './labels.js';
import { type RandomOptions, resolveGenerator } from './random.js';

/** Options of {@link syntheticEcg} (random draws: `seed`, default 0, or `generator`; see {@link RandomOptions}). */
export interface SyntheticOptions extends RandomOptions {
  /** Duration in seconds (default 10). */
  seconds?: number;
  /** Sampling rate in Hz (default 360). */
  fs?: number;
  /** Mean heart rate in beats per minute (default 60). */
  heartRate?: number;
  /** Standard deviation of the RR intervals in seconds (default 0.03), an AR(1) process with φ = 0.8. */
  rrStd?: number;
  /** Probability that a beat is a premature ventricular contraction (default 0). */
  pvcProbability?: number;
  /** Probability that a beat is a premature atrial contraction (default 0). */
  apcProbability?: number;
  /** Standard deviation of added white noise, mV (default 0.01). */
  noiseStd?: number;
  /** Amplitude of the 0.25 Hz respiratory baseline wander, mV (default 0.05). */
  baselineWander?: number;
}

/** A synthetic, labelled ECG. Always marked `synthetic: true`. */
export interface SyntheticEcg {
  /** Always true: this is not patient data. */
  synthetic: true;
  /** Human-readable provenance, to print with any figure made from it. */
  description: string;
  /** Sampling rate, Hz. */
  fs: number;
  /** Signal in mV. */
  signal: Float32Array;
  /** Sample index of each R peak. */
  rPeaks: Int32Array;
  /** MIT-BIH symbol of each beat: `N`, `V` (PVC) or `A` (APC). */
  symbols: string[];
  /** AAMI class index of each beat (0 N, 1 S, 2 V). */
  labels: Int8Array;
}

interface Morph {
  theta: number[];
  a: number[];
  b: number[];
}

// NOTE: McSharry 2003 Table 1: P Q R S T at θ = −π/3, −π/12, 0, π/12, π/2; a = 1.2, −5, 30, −7.5, 0.75;
// b = 0.25, 0.1, 0.1, 0.1, 0.4.
const NORMAL: Morph = {
  theta: [-Math.PI / 3, -Math.PI / 12, 0, Math.PI / 12, Math.PI / 2],
  a: [1.2, -5, 30, -7.5, 0.75],
  b: [0.25, 0.1, 0.1, 0.1, 0.4],
};
// Ectopic shapes (ours, illustrative). The z deflection of a wave scales with a·b², so the wide
// PVC complex (b = 0.25) gets smaller a: R ≈ 1.5× normal, deep S, no Q, no P, inverted T.
const PVC: Morph = {
  theta: NORMAL.theta,
  a: [0, 0, 7, -4.5, -0.75],
  b: [0.25, 0.1, 0.25, 0.25, 0.45],
};
const APC: Morph = {
  theta: [-Math.PI / 2.6, ...NORMAL.theta.slice(1)],
  a: [-0.6, ...NORMAL.a.slice(1)],
  b: NORMAL.b,
};

/**
 * Generates a synthetic ECG with the McSharry et al. 2003 model: a point moving on the limit
 * cycle of radius 1 in the (x, y) plane with angular speed ω = 2π / T_beat, and
 * dz/dt = −Σ_i a_i Δθ_i exp(−Δθ_i² / 2b_i²) − z, Δθ_i = (θ − θ_i) mod 2π, integrated by RK4 (at
 * least 1 kHz internally). ω is constant between consecutive R peaks (θ = 0), so each RR interval
 * is drawn exactly; the wave set switches at θ = −π (diastole). Ectopic beats are premature
 * (RR 0.6 T) and a PVC is followed by a compensatory pause (RR 1.4 T, so the two sum to 2 T). As in
 * ECGSYN, z is scaled to the range [−0.4, 1.2] mV; baseline wander and white noise are added after.
 * The wave widths and positions scale with the mean rate as in ECGSYN (hrfact = √(HR/60)).
 */
export function syntheticEcg(opts: SyntheticOptions = {}): SyntheticEcg {
  const seconds = opts.seconds ?? 10;
  const fs = opts.fs ?? 360;
  const hr = opts.heartRate ?? 60;
  if (!(seconds > 0) || !(fs > 0) || !(hr >= 20 && hr <= 250))
    throw new RangeError('syntheticEcg: need seconds > 0, fs > 0 and 20 ≤ heartRate ≤ 250');
  const rrStd = opts.rrStd ?? 0.03;
  const pPvc = opts.pvcProbability ?? 0;
  const pApc = opts.apcProbability ?? 0;
  const rng = resolveGenerator(opts, 'syntheticEcg');
  const n = Math.round(seconds * fs);
  const sub = Math.max(1, Math.ceil(1000 / fs));
  const h = 1 / (fs * sub);
  const rrMean = 60 / hr;
  const hrfact = Math.sqrt(hr / 60);
  const hrfact2 = Math.sqrt(hrfact);
  const scaleMorph = (m: Morph): Morph => ({
    theta: m.theta.map((t, i) => t * [hrfact2, hrfact, 1, hrfact, hrfact2][i]),
    a: m.a,
    b: m.b.map((b) => b * hrfact),
  });
  const shapes = { N: scaleMorph(NORMAL), V: scaleMorph(PVC), A: scaleMorph(APC) };
  const z = new Float64Array(n);
  const rPeaks: number[] = [];
  const symbols: string[] = [];
  let x = -1;
  let y = 0;
  let zz = 0;
  let dev = 0;
  let compensate = false;
  // The beat whose R wave comes next: its type and its RR interval (from the previous R peak).
  let nextSym: 'N' | 'V' | 'A' = 'N';
  let sym: 'N' | 'V' | 'A' = 'N';
  const omega0 = (2 * Math.PI) / rrMean;
  let omega = omega0;
  let morph = shapes.N;
  const decideNextBeat = (): void => {
    dev = 0.8 * dev + Math.sqrt(1 - 0.64) * rrStd * rng.normal();
    let T = Math.max(0.25, rrMean + dev);
    const u = rng.random();
    if (compensate) {
      nextSym = 'N';
      T *= 1.4;
      compensate = false;
    } else if (u < pPvc) {
      nextSym = 'V';
      T *= 0.6;
      compensate = true;
    } else if (u < pPvc + pApc) {
      nextSym = 'A';
      T *= 0.6;
    } else nextSym = 'N';
    // NOTE: ω is constant from one R peak (θ = 0) to the next, so RR_k is exactly T.
    omega = (2 * Math.PI) / T;
  };
  decideNextBeat();
  sym = nextSym;
  morph = shapes[sym];
  const dz = (xs: number, ys: number, zs: number): number => {
    const th = Math.atan2(ys, xs);
    let s = 0;
    for (let i = 0; i < 5; i++) {
      let d = th - morph.theta[i];
      d -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
      s += morph.a[i] * d * Math.exp((-d * d) / (2 * morph.b[i] * morph.b[i]));
    }
    // NOTE: scaled by ω/ω₀ so a wave's amplitude does not depend on how fast θ sweeps it
    // (∫ dz = ∫ f(θ)/ω dθ); premature beats would otherwise come out smaller.
    return -s * (omega / omega0) - zs;
  };
  const f = (xs: number, ys: number): [number, number] => {
    const alpha = 1 - Math.sqrt(xs * xs + ys * ys);
    return [alpha * xs - omega * ys, alpha * ys + omega * xs];
  };
  for (let t = 0; t < n; t++) {
    for (let k = 0; k < sub; k++) {
      const th0 = Math.atan2(y, x);
      // RK4 on (x, y, z)
      const [k1x, k1y] = f(x, y);
      const k1z = dz(x, y, zz);
      const [k2x, k2y] = f(x + (h / 2) * k1x, y + (h / 2) * k1y);
      const k2z = dz(x + (h / 2) * k1x, y + (h / 2) * k1y, zz + (h / 2) * k1z);
      const [k3x, k3y] = f(x + (h / 2) * k2x, y + (h / 2) * k2y);
      const k3z = dz(x + (h / 2) * k2x, y + (h / 2) * k2y, zz + (h / 2) * k2z);
      const [k4x, k4y] = f(x + h * k3x, y + h * k3y);
      const k4z = dz(x + h * k3x, y + h * k3y, zz + h * k3z);
      x += (h / 6) * (k1x + 2 * k2x + 2 * k3x + k4x);
      y += (h / 6) * (k1y + 2 * k2y + 2 * k3y + k4y);
      zz += (h / 6) * (k1z + 2 * k2z + 2 * k3z + k4z);
      const th1 = Math.atan2(y, x);
      if (th0 < 0 && th1 >= 0) {
        // R peak of the current beat; the next beat's timing starts here
        rPeaks.push(t);
        symbols.push(sym);
        decideNextBeat();
      }
      if (th0 > 0 && th1 < 0 && th0 - th1 > Math.PI) {
        // θ wraps from π to −π (diastole): the next beat's waves (P, QRS, T) take over
        sym = nextSym;
        morph = shapes[sym];
      }
    }
    z[t] = zz;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < n; t++) {
    if (z[t] < lo) lo = z[t];
    if (z[t] > hi) hi = z[t];
  }
  const scale = hi > lo ? 1.6 / (hi - lo) : 1;
  const noise = opts.noiseStd ?? 0.01;
  const bw = opts.baselineWander ?? 0.05;
  const signal = new Float32Array(n);
  for (let t = 0; t < n; t++)
    signal[t] =
      (z[t] - lo) * scale - 0.4 + bw * Math.sin((2 * Math.PI * 0.25 * t) / fs) + noise * rng.normal();
  const labels = Int8Array.from(symbols, (s) => (s === 'V' ? 2 : s === 'A' ? 1 : 0));
  return {
    synthetic: true,
    description: `SYNTHETIC ECG (McSharry et al. 2003 model; ${hr} bpm, ${fs} Hz, seed ${opts.seed ?? 0}) — not patient data`,
    fs,
    signal,
    rPeaks: Int32Array.from(rPeaks),
    symbols,
    labels,
  };
}

/** Class names of {@link SyntheticEcg.labels} (AAMI order). */
export const SYNTHETIC_CLASSES: readonly string[] = AAMI_CLASSES;
