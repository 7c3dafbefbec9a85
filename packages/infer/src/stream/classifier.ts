/**
 * Streaming classifier: raw single-lead ECG chunks in, labelled beats or segments out.
 *
 * Pipeline per window (see docs/infer.md): the raw samples of the window plus a context margin on each side
 * are resampled to the model's rate, filtered as the model's header says (baseline-wander removal, band-pass),
 * the window is cut out of the filtered context, normalised (z-score by default) and classified.
 * - `beat` models: windows are aligned on R peaks from the shared dependency-free QRS detector (`@ecgnn/dsp`),
 *   `before` model samples before the peak. A beat is emitted once the samples after it (and the margin) have
 *   arrived — and, for models with RR inputs, once the beats its RR features need have been detected.
 * - `segment` models: consecutive windows every `hop` model samples, emitted as soon as complete.
 * The classifier computes the model inputs whose source is `window` (the preprocessed window) and `rr` (RR-interval
 * features of the beat, see {@link rrOfBeat}); models with `external` inputs are refused.
 * Memory is bounded: only the samples and beats still needed by pending windows are kept.
 */
import {
  butterworthBandpass,
  normalizeRr,
  QrsDetector,
  type QrsOptions,
  RR_FEATURES,
  type RrFeatureName,
  removeBaselineWander,
  resample,
  rrFeatures,
  zscore,
} from '@ecgnn/dsp';
import { ArgumentError, ShapeError } from '../errors.js';
import { topLabel } from '../runtime/fetch.js';
import type { Model } from '../runtime/model.js';

/** One classified beat or segment. */
export interface ClassifierResult {
  /** `beat` (window centred on an R peak) or `segment` (fixed hop). */
  kind: 'beat' | 'segment';
  /** Sample index in the input stream (at the input sampling rate): the R peak, or the segment's first sample. */
  sample: number;
  /** Time in seconds from the first sample pushed: `sample / sampleRate`. */
  time: number;
  /** Index of the most probable class (for sigmoid models: the largest probability). */
  classIndex: number;
  /** Name of that class. */
  label: string;
  /** Probabilities of every class (softmax or sigmoid, per the model). */
  probabilities: Float32Array;
}

/** Options of {@link createClassifier}. */
export interface ClassifierOptions {
  /** Sampling rate of the pushed samples, Hz. */
  sampleRate: number;
  /** Context kept on each side of a window for filtering, seconds (default 1; 0 disables). */
  marginSeconds?: number;
  /** Options of the QRS detector (beat models). */
  qrs?: QrsOptions;
}

/** A running classifier created by {@link createClassifier}. */
export interface StreamingClassifier {
  /** Feed the next chunk of raw samples; returns the results completed by it, in stream order. */
  push(chunk: Float32Array | readonly number[]): ClassifierResult[];
  /** End of stream: finish pending beats/segments whose window is complete. No push afterwards. */
  flush(): ClassifierResult[];
  /** Number of samples pushed so far. */
  readonly samplesSeen: number;
}

/** An `rr` input of the model and its buffers. */
interface RrInput {
  features: RrFeatureName[];
  localHalfWidth: number;
  /** The features of the beat being classified (the model input). */
  values: Float32Array;
}

/**
 * The raw RR features `[pre, post, local, record]` (seconds) of beat `i` of a stream whose R peaks so far are
 * `beats` (absolute sample indices; `beats[j]` is beat `first + j`, beat 0 is `beat0`), for the local mean over
 * ± `h` beats, with beat `last` the last one taken into account (`last ≥ i`). These are `@ecgnn/dsp`'s
 * `rrFeatures` of the beats `max(0, i − h − 1) … last`, except the record mean, which is the mean RR of beats
 * `0 … last`: `(r_last − r_0) / last / fs` (0 for one beat) — the running mean over the beats known when beat `i`
 * is classified, which also stands for the post RR of the record's last beat (as `rrFeatures` does).
 */
export function rrOfBeat(
  beats: readonly number[],
  first: number,
  beat0: number,
  i: number,
  last: number,
  h: number,
  fs: number,
  out: Float32Array,
): void {
  const s0 = Math.max(0, i - h - 1);
  const span = Int32Array.from({ length: last - s0 + 1 }, (_, j) => beats[s0 + j - first]);
  const raw = rrFeatures(span, fs, h);
  const row = (i - s0) * RR_FEATURES;
  const mean = last > 0 ? (beats[last - first] - beat0) / last / fs : 0;
  for (let c = 0; c < RR_FEATURES; c++) out[c] = raw[row + c];
  out[3] = mean;
  if (i === 0) out[0] = mean;
  if (i === last) out[1] = mean;
}

class Classifier implements StreamingClassifier {
  #buf: Float32Array = new Float32Array(4096);
  #bufStart = 0; // absolute index of buf[0]
  #bufLen = 0;
  #total = 0;
  readonly #detector: QrsDetector | null;
  /** R peaks detected so far (absolute sample indices); `beats[j]` is beat number `firstBeat + j`. */
  readonly #beats: number[] = [];
  #firstBeat = 0;
  /** Sample index of beat 0 (for the record mean). */
  #beat0 = 0;
  /** Number of the next beat to classify. */
  #nextBeat = 0;
  #nextSegment = 0;
  readonly #fsIn: number;
  readonly #fsModel: number;
  readonly #length: number;
  readonly #beforeIn: number;
  readonly #afterIn: number;
  readonly #lengthIn: number;
  readonly #hopIn: number;
  readonly #margin: number;
  /** Whether the model has a window input (else it takes RR inputs only). */
  #hasWindow = false;
  readonly #window: Float32Array;
  readonly #rr: RrInput[] = [];
  /** Beats of look-ahead the RR features need: max over the RR inputs of max(localHalfWidth, 1); 0 without. */
  readonly #lookAhead: number;
  readonly #rawRr = new Float32Array(RR_FEATURES);
  /** The model inputs of one window, by name (made once). */
  readonly #inputs: Record<string, Float32Array> = {};
  readonly #probs: Float32Array;
  #flushed = false;

  readonly #model: Model;

  constructor(model: Model, opts: ClassifierOptions) {
    this.#model = model;
    const { input, windowing, classes } = model.metadata;
    const fail = (msg: string): never => {
      throw new ArgumentError(`createClassifier: ${msg}`);
    };
    if (!opts || !Number.isFinite(opts.sampleRate) || opts.sampleRate <= 0)
      fail(`sampleRate must be a positive number, got ${opts?.sampleRate}`);
    const margin = opts.marginSeconds ?? 1;
    if (!(margin >= 0) || !Number.isFinite(margin)) fail('marginSeconds must be >= 0');
    this.#length = input.length;
    this.#window = new Float32Array(input.length);
    for (const inp of model.inputs) {
      const src = inp.source;
      if (src.kind === 'external') {
        fail(
          `input "${inp.name}" has source 'external': the classifier cannot compute it (call model.predict with your own inputs)`,
        );
      } else if (src.kind === 'window') {
        if (input.channels !== 1)
          fail(`streaming supports single-lead models; this model takes ${input.channels} channels`);
        this.#hasWindow = true;
        this.#inputs[inp.name] = this.#window;
      } else {
        if (windowing.mode !== 'beat') fail('RR inputs need a beat model (windowing mode beat)');
        const values = new Float32Array(src.features.length);
        this.#rr.push({ features: src.features.slice(), localHalfWidth: src.localHalfWidth, values });
        this.#inputs[inp.name] = values;
      }
    }
    this.#lookAhead = this.#rr.reduce((m, r) => Math.max(m, r.localHalfWidth, 1), 0);
    const fs = opts.sampleRate;
    this.#fsIn = fs;
    this.#fsModel = input.sampleRate;
    const ratio = fs / input.sampleRate;
    this.#lengthIn = Math.ceil(input.length * ratio);
    this.#margin = Math.round(margin * fs);
    const beat = windowing.mode === 'beat';
    const before = beat ? windowing.before : 0;
    this.#beforeIn = Math.ceil(before * ratio);
    this.#afterIn = beat ? Math.ceil((input.length - before) * ratio) : 0;
    this.#hopIn = beat ? 0 : Math.max(1, Math.round(windowing.hop * ratio));
    this.#detector = beat ? new QrsDetector(fs, opts.qrs) : null;
    this.#probs = new Float32Array(classes.length);
  }

  get samplesSeen(): number {
    return this.#total;
  }

  push(chunk: Float32Array | readonly number[]): ClassifierResult[] {
    if (this.#flushed) throw new ArgumentError('StreamingClassifier: push after flush');
    if (!(chunk instanceof Float32Array) && !Array.isArray(chunk))
      throw new ShapeError('push: chunk must be a Float32Array or number[]');
    this.#append(chunk);
    if (this.#detector) for (const r of this.#detector.push(chunk)) this.#addBeat(r);
    return this.#drain(false);
  }

  flush(): ClassifierResult[] {
    if (this.#flushed) return [];
    if (this.#detector) for (const r of this.#detector.flush()) this.#addBeat(r);
    this.#flushed = true;
    return this.#drain(true);
  }

  #addBeat(r: number): void {
    if (this.#firstBeat + this.#beats.length === 0) this.#beat0 = r;
    this.#beats.push(r);
  }

  #append(chunk: Float32Array | readonly number[]): void {
    const n = chunk.length;
    if (this.#bufLen + n > this.#buf.length) {
      const next = new Float32Array(Math.max(this.#buf.length * 2, this.#bufLen + n));
      next.set(this.#buf.subarray(0, this.#bufLen));
      this.#buf = next;
    }
    for (let i = 0; i < n; i++) this.#buf[this.#bufLen + i] = chunk[i];
    this.#bufLen += n;
    this.#total += n;
  }

  /** Classify every window that is complete (or, at the end, every window that fits), then trim the buffers. */
  #drain(final: boolean): ClassifierResult[] {
    const out: ClassifierResult[] = [];
    if (this.#detector) {
      const known = this.#firstBeat + this.#beats.length; // beats detected so far
      while (this.#nextBeat < known) {
        const i = this.#nextBeat;
        const r = this.#beats[i - this.#firstBeat];
        const start = r - this.#beforeIn;
        const end = r + this.#afterIn;
        // Wait for the window and its margin, and for the beats the RR features look ahead to.
        if (!final && (end + this.#margin > this.#total || i + this.#lookAhead >= known)) break;
        this.#nextBeat++;
        if (start < 0 || end > this.#total) continue; // beat too close to the stream's edges for a full window
        if (this.#rr.length > 0) this.#computeRr(i, Math.min(i + this.#lookAhead, known - 1));
        out.push(this.#classify('beat', r, start, end));
      }
    } else {
      for (;;) {
        const start = this.#nextSegment;
        const end = start + this.#lengthIn;
        if (end > this.#total || (!final && end + this.#margin > this.#total)) break;
        out.push(this.#classify('segment', start, start, end));
        this.#nextSegment += this.#hopIn;
      }
    }
    this.#trim();
    return out;
  }

  /** The RR inputs of beat `i`, with beat `last` the last one taken into account (see {@link rrOfBeat}). */
  #computeRr(i: number, last: number): void {
    for (const r of this.#rr) {
      rrOfBeat(this.#beats, this.#firstBeat, this.#beat0, i, last, r.localHalfWidth, this.#fsIn, this.#rawRr);
      normalizeRr(this.#rawRr, 1, r.features, r.values);
    }
  }

  /** Drop samples no pending window (nor the margin of the next) can need, and beats no RR feature can need. */
  #trim(): void {
    let keepFrom: number;
    if (this.#detector) {
      // Future beats are at least at the detector's look-behind; keep a generous history (before + margin + 4 s).
      const known = this.#firstBeat + this.#beats.length;
      const oldestPending =
        this.#nextBeat < known ? this.#beats[this.#nextBeat - this.#firstBeat] : this.#total;
      keepFrom =
        Math.min(oldestPending, this.#total - Math.ceil(4 * this.#fsIn)) - this.#beforeIn - this.#margin;
      // Beats before nextBeat − h − 1 are no longer read by any RR feature.
      const h = this.#rr.reduce((m, r) => Math.max(m, r.localHalfWidth), 0);
      const drop = this.#nextBeat - h - 1 - this.#firstBeat;
      if (drop > 64) {
        this.#beats.splice(0, drop);
        this.#firstBeat += drop;
      }
    } else {
      keepFrom = this.#nextSegment - this.#margin;
    }
    const drop = keepFrom - this.#bufStart;
    if (drop > 0 && drop > this.#bufLen / 2) {
      this.#buf.copyWithin(0, drop, this.#bufLen);
      this.#bufLen -= drop;
      this.#bufStart += drop;
    }
  }

  #classify(kind: 'beat' | 'segment', sample: number, start: number, end: number): ClassifierResult {
    if (this.#hasWindow) this.#cutWindow(start, end);
    this.#model.predict(this.#inputs, undefined, this.#probs);
    const { index, label } = topLabel(this.#model, this.#probs);
    return {
      kind,
      sample,
      time: sample / this.#fsIn,
      classIndex: index,
      label,
      probabilities: this.#probs.slice(),
    };
  }

  /** The preprocessed window of samples `start … end` (with context margins) into {@link window}. */
  #cutWindow(start: number, end: number): void {
    const a = Math.max(this.#bufStart, start - this.#margin);
    const b = Math.min(this.#total, end + this.#margin);
    let ctx: Float32Array = this.#buf.slice(a - this.#bufStart, b - this.#bufStart);
    const p = this.#model.metadata.preprocessing;
    if (this.#fsIn !== this.#fsModel) ctx = resample(ctx, this.#fsIn, this.#fsModel);
    if (p.removeBaseline) ctx = removeBaselineWander(ctx, this.#fsModel);
    if (p.bandpass)
      ctx = butterworthBandpass(ctx, this.#fsModel, p.bandpass[0], p.bandpass[1], p.bandpassOrder ?? 2);
    // Window start inside the (resampled) context.
    const offset = Math.round(((start - a) * this.#fsModel) / this.#fsIn);
    const w = this.#window;
    for (let i = 0; i < this.#length; i++) {
      const j = Math.min(ctx.length - 1, offset + i);
      w[i] = ctx[j];
    }
    if ((p.normalize ?? 'zscore') === 'zscore') zscore(w, p.zscoreEps ?? 1e-8, w);
  }
}

/**
 * Create a streaming classifier for `model` fed with raw single-lead ECG at `options.sampleRate`. Beat models
 * (header `windowing.mode = 'beat'`) emit one result per detected QRS complex; segment models one per window.
 * The model's inputs must have source `window` or `rr` ({@link ArgumentError} for `external` inputs).
 */
export function createClassifier(model: Model, options: ClassifierOptions): StreamingClassifier {
  return new Classifier(model, options);
}

/**
 * Classify a whole record offline: the results of pushing `samples` through {@link createClassifier} (with
 * `options` and `sampleRate`) and flushing — exactly the same results (same windows, RR features and
 * probabilities), in stream order.
 */
export function classifyRecord(
  model: Model,
  samples: Float32Array | readonly number[],
  sampleRate: number,
  options: Omit<ClassifierOptions, 'sampleRate'> = {},
): ClassifierResult[] {
  const clf = createClassifier(model, { ...options, sampleRate });
  const out = clf.push(samples);
  for (const r of clf.flush()) out.push(r);
  return out;
}
