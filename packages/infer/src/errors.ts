/**
 * Error types thrown by `@ecgnn/infer`. Every failure on bad input is one of these, so callers can tell
 * "this file/input is wrong" apart from a bug.
 */

/** Base class of every error thrown on purpose by `@ecgnn/infer`. */
export class InferError extends Error {
  // Names are literal (not `new.target.name`) so they survive minification.
  override name = 'InferError';
}

/**
 * A model file (or a model spec given to the writer) is malformed: bad magic, unsupported version, truncated,
 * checksum mismatch, invalid header JSON, out-of-range tensor offsets, shapes that disagree with the graph, …
 * `byteOffset` is the position in the file the problem was found at, when there is one.
 */
export class ModelFormatError extends InferError {
  /** Byte offset in the file where the problem was detected, or `undefined` when not tied to a position. */
  readonly byteOffset: number | undefined;
  override name = 'ModelFormatError';
  constructor(message: string, byteOffset?: number) {
    super(byteOffset === undefined ? message : `${message} (at byte ${byteOffset})`);
    this.byteOffset = byteOffset;
  }
}

/** An input given to a kernel, `predict` or the classifier has the wrong shape, length or type. */
export class ShapeError extends InferError {
  override name = 'ShapeError';
}

/** An argument is out of its allowed range (e.g. non-positive sample rate, unknown option value). */
export class ArgumentError extends InferError {
  override name = 'ArgumentError';
}

/**
 * An input value given to `logits`/`predict` (or computed by the classifier) is NaN or ±∞. Names the input, the
 * window (batch index) and the value's index within that window's per-sample data.
 */
export class InputError extends InferError {
  override name = 'InputError';
  constructor(
    message: string,
    /** Name of the graph input. */
    readonly input: string,
    /** Index of the window (batch entry) holding the value. */
    readonly window: number,
    /** Index of the value within the window's per-sample data (row-major `[channels, length]` or `[features]`). */
    readonly index: number,
  ) {
    super(message);
  }
}

/**
 * A model could not be fetched (see `loadModelFromUrl`): the request failed (network error, blocked by CORS, bad
 * URL: `status` is `undefined`; the message includes what `fetch` threw) or the server answered with a non-2xx HTTP status.
 * The message names the URL and the status.
 */
export class ModelFetchError extends InferError {
  override name = 'ModelFetchError';
  constructor(
    message: string,
    /** The URL that was requested. */
    readonly url: string,
    /** The HTTP status of the answer, or `undefined` when there was no answer. */
    readonly status: number | undefined,
  ) {
    super(message);
  }
}
