/**
 * Shared by every benchmark engine process: case definitions, seeded inputs and weights, the
 * TypeScript reference outputs, the timing loop and the result line printed to the parent.
 */
import { type BinaryConv1dParams, type Conv1dParams, referenceKernels } from './kernels.js';

/** Case names of the suite (as in issue #15). */
export const CASES = [
  'matmul-256',
  'conv1d',
  'depthwise-conv1d',
  'conv1d-backward-input',
  'conv1d-backward-weight',
  'ecg-cnn-ref',
  'binary-conv1d',
  'float-conv1d-same-shape',
  'train-step',
  'train-step-teacher',
] as const;
export type CaseName = (typeof CASES)[number];

/** conv1d: batch 8, 16→32 channels, length 1000, kernel 7, same padding. */
export const CONV1D: Conv1dParams = {
  batch: 8,
  inChannels: 16,
  outChannels: 32,
  inLength: 1000,
  outLength: 1000,
  kernelSize: 7,
  stride: 1,
  dilation: 1,
  padLeft: 3,
  groups: 1,
  padValue: 0,
};

/** depthwise-conv1d: batch 8, 32 channels, length 1000, kernel 5, same padding. */
export const DEPTHWISE: Conv1dParams = {
  ...CONV1D,
  inChannels: 32,
  outChannels: 32,
  kernelSize: 5,
  padLeft: 2,
  groups: 32,
};

/** float-conv1d-same-shape: batch 1, 64→64, length 1000, kernel 5, same padding (the float twin of binary-conv1d). */
export const FLOAT_SAME: Conv1dParams = {
  ...CONV1D,
  batch: 1,
  inChannels: 64,
  outChannels: 64,
  kernelSize: 5,
  padLeft: 2,
};

/** binary-conv1d: the same shape on packed ±1 words, padded with +1. */
export const BINARY: BinaryConv1dParams = {
  batch: 1,
  inChannels: 64,
  outChannels: 64,
  inLength: 1000,
  outLength: 1000,
  kernelSize: 5,
  stride: 1,
  dilation: 1,
  padLeft: 2,
  padValue: 1,
};

/** Deterministic floats in [−scale, scale) (mulberry32). */
export function seeded(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Deterministic random 32-bit words. */
export function seededWords(n: number, seed: number): Uint32Array {
  const f = seeded(n * 2, seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = ((((f[2 * i] + 1) * 65536) & 0xffff) | ((((f[2 * i + 1] + 1) * 65536) & 0xffff) << 16)) >>> 0;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The reference ECG CNN (issue #15): input 1×360; conv 1→16 k7 same + batchnorm + ReLU + maxpool 2;
// conv 16→32 k5 valid + batchnorm + ReLU + maxpool 2; depthwise 32 k5 valid; pointwise 32→64 +
// bias + ReLU; global average pool; dense 64→5; softmax.

export const ECG = {
  length: 360,
  c1: 16,
  c2: 32,
  c3: 64,
  classes: 5,
  k1: 7,
  k2: 5,
  k3: 5,
  eps: 1e-5,
} as const;

/** Seeded weights of the ECG CNN, PyTorch layouts. */
export interface EcgWeights {
  w1: Float32Array; // [16, 1, 7]
  bn1: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array };
  w2: Float32Array; // [32, 16, 5]
  bn2: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array };
  w3: Float32Array; // [32, 1, 5] depthwise, no bias
  w4: Float32Array; // [64, 32, 1]
  b4: Float32Array;
  w5: Float32Array; // [5, 64]
  b5: Float32Array;
}

function bn(n: number, seed: number) {
  const g = seeded(n, seed, 0.5);
  const v = seeded(n, seed + 3, 0.5);
  return {
    gamma: g.map((x) => 1 + x),
    beta: seeded(n, seed + 1, 0.2),
    mean: seeded(n, seed + 2, 0.2),
    variance: v.map((x) => 1 + x),
  };
}

export function ecgWeights(): EcgWeights {
  return {
    w1: seeded(16 * 7, 11, 0.5),
    bn1: bn(16, 20),
    w2: seeded(32 * 16 * 5, 12, 0.15),
    bn2: bn(32, 30),
    w3: seeded(32 * 5, 13, 0.4),
    w4: seeded(64 * 32, 14, 0.2),
    b4: seeded(64, 15, 0.1),
    w5: seeded(5 * 64, 16, 0.3),
    b5: seeded(5, 17, 0.1),
  };
}

/** Batchnorm folded into the preceding conv: w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε). */
export function foldBn(
  w: Float32Array,
  outC: number,
  p: EcgWeights['bn1'],
): { w: Float32Array; b: Float32Array } {
  const per = w.length / outC;
  const wf = new Float32Array(w.length);
  const b = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    const s = p.gamma[o] / Math.sqrt(p.variance[o] + ECG.eps);
    for (let i = 0; i < per; i++) wf[o * per + i] = w[o * per + i] * s;
    b[o] = p.beta[o] - p.mean[o] * s;
  }
  return { w: wf, b };
}

/** The inference graph every engine runs (batchnorm folded, as an exporter would emit it). */
export interface EcgFolded {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  w3: Float32Array;
  w4: Float32Array;
  b4: Float32Array;
  w5: Float32Array;
  b5: Float32Array;
}

export function ecgFolded(w = ecgWeights()): EcgFolded {
  const c1 = foldBn(w.w1, 16, w.bn1);
  const c2 = foldBn(w.w2, 32, w.bn2);
  return { w1: c1.w, b1: c1.b, w2: c2.w, b2: c2.b, w3: w.w3, w4: w.w4, b4: w.b4, w5: w.w5, b5: w.b5 };
}

const L1 = ECG.length; // conv1 same
const P1 = L1 / 2; // 180
const L2 = P1 - ECG.k2 + 1; // 176
const P2 = L2 / 2; // 88
const L3 = P2 - ECG.k3 + 1; // 84

/** Conv geometry of one ECG layer at a batch size. */
export function ecgLayers(batch: number) {
  const base = { batch, stride: 1, dilation: 1, groups: 1, padValue: 0 };
  return {
    conv1: {
      ...base,
      inChannels: 1,
      outChannels: 16,
      inLength: L1,
      outLength: L1,
      kernelSize: 7,
      padLeft: 3,
    },
    pool1: {
      batch,
      channels: 16,
      inLength: L1,
      outLength: P1,
      kernelSize: 2,
      stride: 2,
      padLeft: 0,
      dilation: 1,
    },
    conv2: {
      ...base,
      inChannels: 16,
      outChannels: 32,
      inLength: P1,
      outLength: L2,
      kernelSize: 5,
      padLeft: 0,
    },
    pool2: {
      batch,
      channels: 32,
      inLength: L2,
      outLength: P2,
      kernelSize: 2,
      stride: 2,
      padLeft: 0,
      dilation: 1,
    },
    conv3: {
      ...base,
      inChannels: 32,
      outChannels: 32,
      inLength: P2,
      outLength: L3,
      kernelSize: 5,
      padLeft: 0,
      groups: 32,
    },
    conv4: {
      ...base,
      inChannels: 32,
      outChannels: 64,
      inLength: L3,
      outLength: L3,
      kernelSize: 1,
      padLeft: 0,
    },
    lengths: { L1, P1, L2, P2, L3 },
  } satisfies Record<string, unknown>;
}

/** Unfolded reference forward pass (explicit batchnorm), reference kernels, float32. */
export function ecgReference(x: Float32Array, batch: number, w = ecgWeights()): Float32Array {
  const k = referenceKernels;
  const g = ecgLayers(batch);
  const bnRelu = (y: Float32Array, c: number, len: number, p: EcgWeights['bn1']) => {
    for (let b = 0; b < batch; b++)
      for (let o = 0; o < c; o++) {
        const s = p.gamma[o] / Math.sqrt(p.variance[o] + ECG.eps);
        for (let t = 0; t < len; t++) {
          const i = (b * c + o) * len + t;
          y[i] = Math.max(0, (y[i] - p.mean[o]) * s + p.beta[o]);
        }
      }
  };
  const y1 = new Float32Array(batch * 16 * L1);
  k.conv1dForward(x, w.w1, null, y1, g.conv1);
  bnRelu(y1, 16, L1, w.bn1);
  const p1 = new Float32Array(batch * 16 * P1);
  k.maxPool1d(y1, p1, null, g.pool1);
  const y2 = new Float32Array(batch * 32 * L2);
  k.conv1dForward(p1, w.w2, null, y2, g.conv2);
  bnRelu(y2, 32, L2, w.bn2);
  const p2 = new Float32Array(batch * 32 * P2);
  k.maxPool1d(y2, p2, null, g.pool2);
  const y3 = new Float32Array(batch * 32 * L3);
  k.conv1dForward(p2, w.w3, null, y3, g.conv3);
  const y4 = new Float32Array(batch * 64 * L3);
  k.conv1dForward(y3, w.w4, w.b4, y4, { ...g.conv4, activation: 'relu' });
  const out = new Float32Array(batch * 5);
  for (let b = 0; b < batch; b++) {
    const feat = new Float64Array(64);
    for (let c = 0; c < 64; c++) {
      let s = 0;
      for (let t = 0; t < L3; t++) s += y4[(b * 64 + c) * L3 + t];
      feat[c] = s / L3;
    }
    const logits = new Float64Array(5);
    for (let o = 0; o < 5; o++) {
      let s = w.b5[o];
      for (let c = 0; c < 64; c++) s += w.w5[o * 64 + c] * feat[c];
      logits[o] = s;
    }
    const m = Math.max(...logits);
    let z = 0;
    for (let o = 0; o < 5; o++) z += Math.exp(logits[o] - m);
    for (let o = 0; o < 5; o++) out[b * 5 + o] = Math.exp(logits[o] - m) / z;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Inputs and references per case

/** The arrays of any case, for engines that know which ones their case has. */
export interface CaseArrays {
  a: Float32Array;
  b: Float32Array;
  x: Float32Array;
  w: Float32Array;
  g: Float32Array;
  xw: Uint32Array;
  ww: Uint32Array;
}

/** Seeded inputs of a case (NCL / row-major). */
export function caseData(name: CaseName, batch: number) {
  switch (name) {
    case 'matmul-256':
      return { a: seeded(256 * 256, 1), b: seeded(256 * 256, 2) };
    case 'conv1d':
    case 'conv1d-backward-input':
    case 'conv1d-backward-weight': {
      const p = CONV1D;
      return {
        x: seeded(p.batch * p.inChannels * p.inLength, 3),
        w: seeded(p.outChannels * p.inChannels * p.kernelSize, 4, 0.3),
        g: seeded(p.batch * p.outChannels * p.outLength, 5),
      };
    }
    case 'depthwise-conv1d': {
      const p = DEPTHWISE;
      return {
        x: seeded(p.batch * p.inChannels * p.inLength, 6),
        w: seeded(p.outChannels * p.kernelSize, 7, 0.5),
      };
    }
    case 'float-conv1d-same-shape': {
      const p = FLOAT_SAME;
      return {
        x: seeded(p.inChannels * p.inLength, 8),
        w: seeded(p.outChannels * p.inChannels * p.kernelSize, 9, 0.2),
      };
    }
    case 'binary-conv1d':
      return {
        xw: seededWords(BINARY.inLength * 2, 10),
        ww: seededWords(BINARY.outChannels * BINARY.kernelSize * 2, 11),
      };
    case 'ecg-cnn-ref':
      return { x: seeded(batch * ECG.length, 100 + batch) };
    case 'train-step':
    case 'train-step-teacher':
      throw new Error(`${name}: the training cases' data and reference are in peers/train.ts`);
  }
}

/** Reference output of a case, computed with the reference kernels (the oracle of the unit tests). */
export function reference(name: CaseName, batch: number): Float32Array {
  const d = caseData(name, batch) as unknown as CaseArrays;
  const k = referenceKernels;
  switch (name) {
    case 'matmul-256': {
      const o = new Float32Array(256 * 256);
      k.matmul(d.a, d.b, o, { batch: 1, m: 256, k: 256, n: 256, transA: false, transB: false });
      return o;
    }
    case 'conv1d': {
      const o = new Float32Array(8 * 32 * 1000);
      k.conv1dForward(d.x, d.w, null, o, CONV1D);
      return o;
    }
    case 'conv1d-backward-input': {
      const o = new Float32Array(d.x.length);
      k.conv1dBackwardInput(d.g, d.w, o, CONV1D);
      return o;
    }
    case 'conv1d-backward-weight': {
      const o = new Float32Array(d.w.length);
      k.conv1dBackwardWeight(d.x, d.g, o, CONV1D);
      return o;
    }
    case 'depthwise-conv1d': {
      const o = new Float32Array(8 * 32 * 1000);
      k.conv1dForward(d.x, d.w, null, o, DEPTHWISE);
      return o;
    }
    case 'float-conv1d-same-shape': {
      const o = new Float32Array(64 * 1000);
      k.conv1dForward(d.x, d.w, null, o, FLOAT_SAME);
      return o;
    }
    case 'binary-conv1d': {
      const o = new Int32Array(64 * 1000);
      k.binaryConv1d(d.xw, d.ww, o, BINARY);
      return Float32Array.from(o);
    }
    case 'ecg-cnn-ref':
      return ecgReference(d.x, batch);
    case 'train-step':
    case 'train-step-teacher':
      throw new Error(`${name}: the training cases' data and reference are in peers/train.ts`);
  }
}

/** Largest |a − b| relative to max |b| (0 when equal). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= num)) num = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

// ---------------------------------------------------------------------------------------------
// Engine protocol: each engine file calls `runEngine`; the parent reads one `RESULT {json}` line.

/** What an engine prepares for one case: a timed `run` and the output of the last run. */
export interface Prepared {
  run(): void | Promise<void>;
  output(): ArrayLike<number> | Promise<ArrayLike<number>>;
  /** Free native resources, if any. */
  dispose?(): void | Promise<void>;
  /** How the engine computes the case and what one timed run includes. */
  note?: string;
  /**
   * Training cases (peers/train.ts): runs the first steps from the initial weights and compares them with the
   * float64 reference. Replaces the check of `run()` + `output()` against {@link reference}; after the timed runs
   * `output()` (the last loss) must only be finite, the weights having moved by design.
   */
  check?(): Promise<{ error: number; tolerance: number }>;
  /**
   * Engines that time their runs in another process (pytorch-cpu: the Python script times each step with
   * `time.perf_counter`): warm-up and timed runs as {@link runEngine} does them, returning the run times in ms.
   * Replaces runEngine's own timing loop (not available with `--pair`).
   */
  timeRuns?(opts: TimingOptions): Promise<number[]>;
  /**
   * Extra fields of the engine's row, read after the timed runs and the final output check (the gpu.js engines:
   * `backendStats`, the backend's device calls and CPU fallbacks; see ecgnn-gpu.ts).
   */
  rowFields?(): Record<string, unknown>;
}

/** Timing loop settings of {@link runEngine} (its own, or handed to {@link Prepared.timeRuns}). */
export interface TimingOptions {
  /** Time budget of the timed runs, ms (0: only `minRuns`). */
  budgetMs: number;
  minRuns: number;
  maxRuns: number;
  /** Warm-up runs at least (then up to a fifth of the budget, at most 50). */
  minWarm: number;
}

/** One engine of the suite. */
export interface Engine {
  name: string;
  /** Version string of the library measured. */
  version(): string;
  supports(name: CaseName, batch: number): boolean;
  /** `threads` > 1 only for engines whose rows list it (`ecgnn-wasm@2` in run.ts). */
  prepare(name: CaseName, batch: number, threads: number): Promise<Prepared>;
}

function percentile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
}

/** One case of an engine process, prepared and checked against the reference. */
interface Timed {
  name: CaseName;
  prepared: Prepared;
  ref: Float32Array;
  err: number;
  tolerance: number;
  times: number[];
}

async function prepareChecked(
  engine: Engine,
  name: CaseName,
  batch: number,
  threads: number,
): Promise<Timed> {
  if (!CASES.includes(name)) throw new Error(`unknown case ${name}`);
  const prepared = await engine.prepare(name, batch, threads);
  if (prepared.check) {
    const { error, tolerance } = await prepared.check();
    return { name, prepared, ref: new Float32Array(0), err: error, tolerance, times: [] };
  }
  // Correctness first: one run, output compared with the TypeScript reference.
  await prepared.run();
  const ref = reference(name, batch);
  const err = relativeError(await prepared.output(), ref);
  return { name, prepared, ref, err, tolerance: name === 'binary-conv1d' ? 0 : 1e-3, times: [] };
}

/** Warm-up (tier-up, caches), then timed runs until the budget or `maxRuns`, the cases' runs alternating. */
async function timeAlternating(cases: Timed[], o: TimingOptions): Promise<void> {
  const k = cases.length;
  const warm = performance.now();
  let warmRuns = 0;
  while (warmRuns < o.minWarm || (performance.now() - warm < (k * o.budgetMs) / 5 && warmRuns < 50)) {
    for (const c of cases) await c.prepared.run();
    warmRuns++;
  }
  const start = performance.now();
  let i = 0;
  while (i < o.minRuns || (i < o.maxRuns && performance.now() - start < k * o.budgetMs)) {
    for (let j = 0; j < k; j++) {
      const c = cases[(i + j) % k];
      const t0 = performance.now();
      await c.prepared.run();
      c.times.push(performance.now() - t0);
    }
    i++;
  }
}

/**
 * The timed runs of one prepared case, with {@link runEngine}'s own warm-up and timing loop (engines that time
 * inside another runtime run it there: the browser engines of ecgnn-gpu-browser.ts, in the page).
 */
export async function timePrepared(name: CaseName, prepared: Prepared, o: TimingOptions): Promise<number[]> {
  const c: Timed = { name, prepared, ref: new Float32Array(0), err: 0, tolerance: 0, times: [] };
  await timeAlternating([c], o);
  return c.times;
}

/**
 * Entry point of an engine process: `<engine>.ts --case NAME --batch N --budget-ms MS --min-runs N --max-runs N
 * [--pair NAME2]`. Prints `RESULT {...}` (or `RESULT {"error": ...}`), one line per case.
 *
 * With `--pair`, the two cases (of this one engine) are timed in this process with their runs alternating (A B,
 * B A, A B, …): for a ratio between two cases of one engine this keeps bursts of load from other jobs — which
 * come and go over hundreds of milliseconds on the development VM — from landing on one case only.
 */
export async function runEngine(engine: Engine): Promise<void> {
  const args = new Map<string, string>();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i].replace(/^--/, ''), argv[i + 1]);
  const names = [args.get('case') as CaseName, ...(args.has('pair') ? [args.get('pair') as CaseName] : [])];
  const batch = Number(args.get('batch') ?? 1);
  const budget = Number(args.get('budget-ms') ?? 3000);
  const minRuns = Number(args.get('min-runs') ?? 5);
  const maxRuns = Number(args.get('max-runs') ?? 200);
  const threads = Number(args.get('threads') ?? 1);
  const base = (name: CaseName) => ({ case: name, engine: engine.name, batch, threads });
  try {
    const unsupported = names.filter((n) => CASES.includes(n) && !engine.supports(n, batch));
    if (unsupported.length > 0) {
      for (const n of names) console.log(`RESULT ${JSON.stringify({ ...base(n), unsupported: true })}`);
      return;
    }
    const cases: Timed[] = [];
    for (const n of names) cases.push(await prepareChecked(engine, n, batch, threads));
    const k = cases.length;
    // A zero budget (--smoke) warms up once; otherwise at least 3 runs (tier-up of JIT and WASM code).
    const timing: TimingOptions = { budgetMs: budget, minRuns, maxRuns, minWarm: budget > 0 ? 3 : 1 };
    const timeRuns = cases[0].prepared.timeRuns;
    if (timeRuns !== undefined) {
      if (k > 1) throw new Error(`${engine.name} times its runs itself: no --pair`);
      cases[0].times = await timeRuns(timing);
    } else await timeAlternating(cases, timing);
    for (const c of cases) {
      // The output after the timed runs must still match (no state corruption between runs).
      const after = await c.prepared.output();
      const errAfter = c.prepared.check
        ? Array.from(after).every(Number.isFinite)
          ? 0
          : Number.POSITIVE_INFINITY
        : relativeError(after, c.ref);
      const fields = c.prepared.rowFields?.();
      await c.prepared.dispose?.();
      const times = c.times.sort((a, b) => a - b);
      const row = {
        ...base(c.name),
        medianMs: percentile(times, 0.5),
        p10Ms: percentile(times, 0.1),
        p90Ms: percentile(times, 0.9),
        runs: times.length,
        outputsMatch: c.err <= c.tolerance && errAfter <= c.tolerance,
        maxRelativeError: Math.max(c.err, errAfter),
        engineVersion: engine.version(),
        note: c.prepared.note,
        ...(k > 1 ? { pairedWith: names.find((n) => n !== c.name) } : {}),
        ...fields,
        times,
      };
      console.log(`RESULT ${JSON.stringify(row)}`);
    }
  } catch (e) {
    for (const n of names)
      console.log(`RESULT ${JSON.stringify({ ...base(n), error: String((e as Error)?.stack ?? e) })}`);
  }
}
