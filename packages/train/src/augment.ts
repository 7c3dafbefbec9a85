/**
 * Data augmentation of training batches: random transforms of the waveform inputs applied by the
 * {@link DataLoader} to each collated training batch, in place, after the rows were copied from the dataset
 * (the dataset itself never changes). The steps are described by plain JSON ({@link AugmentStep}), so a run's
 * augmentation is written into its checkpoints and logs and rebuilt from them.
 *
 * Determinism: the draws of batch b of epoch e come from a generator seeded with a hash of (seed, e, b)
 * ({@link augmentSeed}), so a run is reproducible for its seed and a run resumed at batch b draws what the
 * uninterrupted run drew, whatever happened before.
 *
 * The steps, on each item's rows `[…, L]` along the last (time) axis; the same draw is used for every channel
 * of an item:
 * - `shift`: x'[t] = x[t − k], k uniform in {−max, …, max}; outside the row the value comes from the other end
 *   (`wrap`), the nearest edge sample (`edge`) or is 0 (`zero`).
 * - `scale`: x' = a·x, a uniform in [min, max] (amplitude / electrode-gain variation).
 * - `noise`: x'[t] = x[t] + σ·n_t, n_t standard normal, independent per sample and channel.
 * - `wander`: x'[t] = x[t] + A·u·sin(2π f t / fs + φ), u, f, φ uniform in [0, 1], [minHz, maxHz], [0, 2π)
 *   (baseline wander from respiration and electrode motion, below ~1 Hz).
 * Each step runs on an item with probability `p` (default 1), drawn per item.
 */
import { type Generator, ValueError } from '@ecgnn/core';
import { type DatasetInput, itemSize } from './dataset.js';

/** One augmentation step (see the module comment). */
export type AugmentStep =
  | { kind: 'shift'; max: number; mode?: 'wrap' | 'edge' | 'zero'; p?: number }
  | { kind: 'scale'; min: number; max: number; p?: number }
  | { kind: 'noise'; std: number; p?: number }
  | { kind: 'wander'; amplitude: number; minHz?: number; maxHz: number; sampleRate: number; p?: number };

/** The augmentation of a loader: steps applied in order, to the named inputs. */
export interface AugmentSpec {
  /** Steps, applied in order. */
  steps: AugmentStep[];
  /**
   * Names of the dataset inputs to transform (default: every input whose item shape has ≥ 2 axes, i.e. the
   * `[channels, length]` waveforms, not feature vectors such as RR intervals).
   */
  inputs?: string[];
}

/** A checked, ready-to-run augmentation (made by {@link createAugmentation}). */
export interface Augmentation {
  /** The spec it was made from. */
  readonly spec: AugmentSpec;
  /**
   * Transforms the `[B, …shape]` rows of the selected inputs in place with draws from `g`.
   *
   * @param data - one array per dataset input, in the dataset's input order
   */
  apply(data: Float32Array[], batchSize: number, g: Generator): void;
}

/**
 * Seed of the draws of batch `batch` of epoch `epoch` (both 0-based) for the loader seed `seed`: splitmix32's
 * finaliser over the three numbers, so neighbouring batches and epochs get unrelated streams.
 */
export function augmentSeed(seed: number, epoch: number, batch: number): number {
  let h =
    Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b) ^ Math.imul(batch + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
  return (h ^ (h >>> 15)) | 0;
}

function bad(msg: string): never {
  throw new ValueError(`augmentation: ${msg}`);
}

function finite(what: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) bad(`${what} must be a finite number, got ${String(x)}`);
  return x;
}

function checkStep(step: AugmentStep, i: number): void {
  const at = `step ${i} (${String((step as { kind?: unknown }).kind)})`;
  if (step.p !== undefined && !(finite(`${at}: p`, step.p) >= 0 && step.p <= 1))
    bad(`${at}: p must be in [0, 1], got ${step.p}`);
  switch (step.kind) {
    case 'shift':
      if (!Number.isInteger(step.max) || step.max < 0)
        bad(`${at}: max must be a non-negative integer, got ${step.max}`);
      if (step.mode !== undefined && !['wrap', 'edge', 'zero'].includes(step.mode))
        bad(`${at}: mode must be wrap, edge or zero, got ${String(step.mode)}`);
      return;
    case 'scale':
      finite(`${at}: min`, step.min);
      finite(`${at}: max`, step.max);
      if (step.min > step.max) bad(`${at}: min ${step.min} > max ${step.max}`);
      return;
    case 'noise':
      if (finite(`${at}: std`, step.std) < 0) bad(`${at}: std must be ≥ 0, got ${step.std}`);
      return;
    case 'wander': {
      if (finite(`${at}: amplitude`, step.amplitude) < 0) bad(`${at}: amplitude must be ≥ 0`);
      const fs = finite(`${at}: sampleRate`, step.sampleRate);
      if (!(fs > 0)) bad(`${at}: sampleRate must be > 0, got ${fs}`);
      const lo = finite(`${at}: minHz`, step.minHz ?? 0);
      const hi = finite(`${at}: maxHz`, step.maxHz);
      if (lo < 0 || hi < lo || hi > fs / 2)
        bad(`${at}: need 0 ≤ minHz ≤ maxHz ≤ sampleRate/2, got ${lo}, ${hi}`);
      return;
    }
    default:
      bad(`${at}: unknown kind (shift, scale, noise, wander)`);
  }
}

/** x'[t] = x[t − k] on row `x` (length L) with the outside filled by `mode`; `tmp` holds ≥ L floats. */
function shiftRow(x: Float32Array, off: number, L: number, k: number, mode: string, tmp: Float32Array): void {
  if (k === 0) return;
  for (let t = 0; t < L; t++) tmp[t] = x[off + t];
  for (let t = 0; t < L; t++) {
    let s = t - k;
    if (s < 0 || s >= L) {
      if (mode === 'wrap') s = ((s % L) + L) % L;
      else if (mode === 'edge') s = s < 0 ? 0 : L - 1;
      else {
        x[off + t] = 0;
        continue;
      }
    }
    x[off + t] = tmp[s];
  }
}

/**
 * Checks `spec` against the dataset's inputs and returns the augmentation.
 *
 * @throws ValueError naming the step and field that is wrong, an unknown input name, a shift longer than the
 *   row, or a selection with no input
 */
export function createAugmentation(spec: AugmentSpec, inputs: readonly DatasetInput[]): Augmentation {
  if (!Array.isArray(spec.steps)) bad('steps must be an array');
  spec.steps.forEach(checkStep);
  const names = inputs.map((d) => d.name);
  for (const n of spec.inputs ?? [])
    if (!names.includes(n)) bad(`no dataset input '${n}' (inputs: ${names.join(', ')})`);
  const selected = inputs
    .map((inp, k) => ({ inp, k }))
    .filter(({ inp }) =>
      spec.inputs === undefined ? inp.shape.length >= 2 : spec.inputs.includes(inp.name),
    );
  if (selected.length === 0 && spec.steps.length > 0)
    bad(
      `no input to transform (inputs: ${inputs.map((d) => `${d.name} [${d.shape.join(', ')}]`).join(', ')})`,
    );
  const targets = selected.map(({ inp, k }) => {
    const L = inp.shape[inp.shape.length - 1];
    for (const s of spec.steps)
      if (s.kind === 'shift' && s.max >= L)
        bad(`shift max ${s.max} ≥ row length ${L} of input '${inp.name}'`);
    return { k, size: itemSize(inp), L };
  });
  const tmp = new Float32Array(Math.max(0, ...targets.map((t) => t.L)));
  const steps = spec.steps.map((s) => ({ ...s }));

  function apply(data: Float32Array[], B: number, g: Generator): void {
    for (const { k, size, L } of targets) {
      const x = data[k];
      if (x.length < B * size) bad(`input ${k}: ${x.length} values for a batch of ${B} × ${size}`);
      const rows = size / L;
      for (const s of steps) {
        const p = s.p ?? 1;
        for (let b = 0; b < B; b++) {
          const on = g.random() < p;
          const base = b * size;
          if (s.kind === 'shift') {
            const k2 = g.randint(2 * s.max + 1) - s.max;
            if (on) for (let r = 0; r < rows; r++) shiftRow(x, base + r * L, L, k2, s.mode ?? 'wrap', tmp);
          } else if (s.kind === 'scale') {
            const a = s.min + (s.max - s.min) * g.random();
            if (on) for (let i = base; i < base + size; i++) x[i] *= a;
          } else if (s.kind === 'noise') {
            if (on) for (let i = base; i < base + size; i++) x[i] += s.std * g.normal();
          } else {
            const amp = s.amplitude * g.random();
            const lo = s.minHz ?? 0;
            const f = lo + (s.maxHz - lo) * g.random();
            const phi = 2 * Math.PI * g.random();
            if (!on) continue;
            // sin(ωt + φ) by the recurrence y_{t+1} = 2cos(ω)·y_t − y_{t−1} (float64; exact up to rounding
            // growing ~linearly in t, ~1e-12 over 10⁴ samples), one sin/cos per row instead of one per sample.
            const w = (2 * Math.PI * f) / s.sampleRate;
            const c2 = 2 * Math.cos(w);
            for (let r = 0; r < rows; r++) {
              const off = base + r * L;
              let prev = Math.sin(phi - w);
              let cur = Math.sin(phi);
              for (let t = 0; t < L; t++) {
                x[off + t] += amp * cur;
                const next = c2 * cur - prev;
                prev = cur;
                cur = next;
              }
            }
          }
        }
      }
    }
  }
  return { spec: { steps, ...(spec.inputs ? { inputs: [...spec.inputs] } : {}) }, apply };
}

/**
 * Parses a compact command-line form: comma-separated steps `shift=<max>[:<mode>]`, `scale=<min>:<max>`,
 * `noise=<std>`, `wander=<amplitude>:<maxHz>` (needs `sampleRate`), each optionally suffixed `@<p>`, e.g.
 * `shift=180,scale=0.8:1.2,noise=0.05@0.5`.
 *
 * @throws ValueError naming the part that does not parse
 */
export function parseAugmentSpec(text: string, sampleRate?: number): AugmentSpec {
  const steps: AugmentStep[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(shift|scale|noise|wander)=([^@]+)(?:@(.+))?$/.exec(part);
    if (m === null) bad(`cannot parse '${part}' (expected e.g. shift=180, scale=0.8:1.2, noise=0.05@0.5)`);
    const args = m[2].split(':');
    const num = (s: string | undefined, what: string) => {
      const v = Number(s);
      if (s === undefined || s.trim() === '' || !Number.isFinite(v))
        bad(`'${part}': bad ${what} '${s ?? ''}'`);
      return v;
    };
    const p = m[3] === undefined ? {} : { p: num(m[3], 'probability') };
    const arity = (n: number) => {
      if (args.length !== n) bad(`'${part}': expected ${n} value(s) separated by ':'`);
    };
    if (m[1] === 'shift') {
      if (args.length > 2) bad(`'${part}': expected shift=<max>[:wrap|edge|zero]`);
      steps.push({
        kind: 'shift',
        max: num(args[0], 'max'),
        ...(args.length === 2 ? { mode: args[1] as 'wrap' } : {}),
        ...p,
      });
    } else if (m[1] === 'scale') {
      arity(2);
      steps.push({ kind: 'scale', min: num(args[0], 'min'), max: num(args[1], 'max'), ...p });
    } else if (m[1] === 'noise') {
      arity(1);
      steps.push({ kind: 'noise', std: num(args[0], 'std'), ...p });
    } else {
      arity(2);
      if (sampleRate === undefined) bad(`'${part}': wander needs the sampling rate`);
      steps.push({
        kind: 'wander',
        amplitude: num(args[0], 'amplitude'),
        maxHz: num(args[1], 'maxHz'),
        sampleRate,
        ...p,
      });
    }
  }
  steps.forEach(checkStep);
  return { steps };
}
