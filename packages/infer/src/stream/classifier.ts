/**
 * Streaming classifier: raw single-lead ECG chunks in, labelled beats or segments out.
 *
 * Pipeline per window (see docs/infer.md): the raw samples of the window plus a context margin on each side
 * are resampled to the model's rate, filtered as the model's header says (baseline-wander removal, band-pass),
 * the window is cut out of the filtered context, normalised (z-score by default) and classified.
 * - `beat` models: windows are aligned on R peaks from the shared dependency-free QRS detector (`./dsp`),
 *   `before` model samples before the peak. A beat is emitted once the samples after it (and the margin) have
 *   arrived.
 * - `segment` models: consecutive windows every `hop` model samples, emitted as soon as complete.
 * Memory is bounded: only the samples still needed by pending windows are kept.
 */
import {
  butterworthBandpass,
  QrsDetector,
  type QrsOptions,
  removeBaselineWander,
  resample,
  zscore,
} from '@ecgnn/dsp';
import { ArgumentError, ShapeError } from '../errors.js';
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

class Classifier implements StreamingClassifier {
  private buf: Float32Array = new Float32Array(4096);
  private bufStart = 0; // absolute index of buf[0]
  private bufLen = 0;
  private total = 0;
  private readonly detector: QrsDetector | null;
  private readonly pendingBeats: number[] = [];
  private nextSegment = 0;
  private readonly fsIn: number;
  private readonly fsModel: number;
  private readonly length: number;
  private readonly beforeIn: number;
  private readonly afterIn: number;
  private readonly lengthIn: number;
  private readonly hopIn: number;
  private readonly margin: number;
  private readonly window: Float32Array;
  private readonly probs: Float32Array;
  private flushed = false;

  constructor(
    private readonly model: Model,
    opts: ClassifierOptions,
  ) {
    const meta = model.metadata;
    if (!opts || !Number.isFinite(opts.sampleRate) || opts.sampleRate <= 0) {
      throw new ArgumentError(
        `createClassifier: sampleRate must be a positive number, got ${opts?.sampleRate}`,
      );
    }
    if (meta.input.channels !== 1) {
      throw new ArgumentError(
        `createClassifier: streaming supports single-lead models; this model takes ${meta.input.channels} channels`,
      );
    }
    const margin = opts.marginSeconds ?? 1;
    if (!(margin >= 0) || !Number.isFinite(margin))
      throw new ArgumentError('createClassifier: marginSeconds must be >= 0');
    this.fsIn = opts.sampleRate;
    this.fsModel = meta.input.sampleRate;
    this.length = meta.input.length;
    const ratio = this.fsIn / this.fsModel;
    this.lengthIn = Math.ceil(this.length * ratio);
    this.margin = Math.round(margin * this.fsIn);
    if (meta.windowing.mode === 'beat') {
      this.beforeIn = Math.ceil(meta.windowing.before * ratio);
      this.afterIn = Math.ceil((this.length - meta.windowing.before) * ratio);
      this.hopIn = 0;
      this.detector = new QrsDetector(this.fsIn, opts.qrs);
    } else {
      this.beforeIn = 0;
      this.afterIn = 0;
      this.hopIn = Math.max(1, Math.round(meta.windowing.hop * ratio));
      this.detector = null;
    }
    this.window = new Float32Array(this.length);
    this.probs = new Float32Array(meta.classes.length);
  }

  get samplesSeen(): number {
    return this.total;
  }

  push(chunk: Float32Array | readonly number[]): ClassifierResult[] {
    if (this.flushed) throw new ArgumentError('StreamingClassifier: push after flush');
    if (!(chunk instanceof Float32Array) && !Array.isArray(chunk))
      throw new ShapeError('push: chunk must be a Float32Array or number[]');
    this.append(chunk);
    if (this.detector) for (const r of this.detector.push(chunk)) this.pendingBeats.push(r);
    return this.drain(false);
  }

  flush(): ClassifierResult[] {
    if (this.flushed) return [];
    if (this.detector) for (const r of this.detector.flush()) this.pendingBeats.push(r);
    this.flushed = true;
    return this.drain(true);
  }

  private append(chunk: Float32Array | readonly number[]): void {
    const n = chunk.length;
    if (this.bufLen + n > this.buf.length) {
      const next = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + n));
      next.set(this.buf.subarray(0, this.bufLen));
      this.buf = next;
    }
    for (let i = 0; i < n; i++) this.buf[this.bufLen + i] = chunk[i];
    this.bufLen += n;
    this.total += n;
  }

  /** Classify every window that is complete (or, at the end, every window that fits), then trim the buffer. */
  private drain(final: boolean): ClassifierResult[] {
    const out: ClassifierResult[] = [];
    if (this.detector) {
      while (this.pendingBeats.length > 0) {
        const r = this.pendingBeats[0];
        const start = r - this.beforeIn;
        const end = r + this.afterIn;
        if (!final && end + this.margin > this.total) break;
        this.pendingBeats.shift();
        if (start < 0 || end > this.total) continue; // beat too close to the stream's edges for a full window
        out.push(this.classify('beat', r, start, end));
      }
    } else {
      for (;;) {
        const start = this.nextSegment;
        const end = start + this.lengthIn;
        if (end > this.total || (!final && end + this.margin > this.total)) break;
        out.push(this.classify('segment', start, start, end));
        this.nextSegment += this.hopIn;
      }
    }
    this.trim();
    return out;
  }

  /** Drop samples no pending window (nor the margin of the next) can need. */
  private trim(): void {
    let keepFrom: number;
    if (this.detector) {
      // Future beats are at least at the detector's look-behind; keep a generous history (before + margin + 4 s).
      const oldestPending = this.pendingBeats.length > 0 ? this.pendingBeats[0] : this.total;
      keepFrom = Math.min(oldestPending, this.total - Math.ceil(4 * this.fsIn)) - this.beforeIn - this.margin;
    } else {
      keepFrom = this.nextSegment - this.margin;
    }
    const drop = keepFrom - this.bufStart;
    if (drop > 0 && drop > this.bufLen / 2) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
  }

  private classify(kind: 'beat' | 'segment', sample: number, start: number, end: number): ClassifierResult {
    const a = Math.max(this.bufStart, start - this.margin);
    const b = Math.min(this.total, end + this.margin);
    let ctx: Float32Array = this.buf.slice(a - this.bufStart, b - this.bufStart);
    const p = this.model.metadata.preprocessing;
    if (this.fsIn !== this.fsModel) ctx = resample(ctx, this.fsIn, this.fsModel);
    if (p.removeBaseline) ctx = removeBaselineWander(ctx, this.fsModel);
    if (p.bandpass)
      ctx = butterworthBandpass(ctx, this.fsModel, p.bandpass[0], p.bandpass[1], p.bandpassOrder ?? 2);
    // Window start inside the (resampled) context.
    const offset = Math.round(((start - a) * this.fsModel) / this.fsIn);
    const w = this.window;
    for (let i = 0; i < this.length; i++) {
      const j = Math.min(ctx.length - 1, offset + i);
      w[i] = ctx[j];
    }
    if ((p.normalize ?? 'zscore') === 'zscore') zscore(w, p.zscoreEps ?? 1e-8, w);
    this.model.predict(w, undefined, this.probs);
    let best = 0;
    for (let c = 1; c < this.probs.length; c++) if (this.probs[c] > this.probs[best]) best = c;
    return {
      kind,
      sample,
      time: sample / this.fsIn,
      classIndex: best,
      label: this.model.metadata.classes[best],
      probabilities: this.probs.slice(),
    };
  }
}

/**
 * Create a streaming classifier for `model` fed with raw single-lead ECG at `options.sampleRate`. Beat models
 * (header `windowing.mode = 'beat'`) emit one result per detected QRS complex; segment models one per window.
 */
export function createClassifier(model: Model, options: ClassifierOptions): StreamingClassifier {
  return new Classifier(model, options);
}
