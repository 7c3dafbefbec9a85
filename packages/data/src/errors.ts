/** Base class of every error thrown by @ecgnn/data. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A file did not follow its format (WFDB header, signal file, annotation file, MATLAB v4).
 * `file` names the file (or record) and `offset` the byte offset (or line number, 1-based, for
 * text headers) where the problem was found, when known.
 */
export class FormatError extends DataError {
  readonly file: string;
  readonly offset: number | undefined;
  constructor(file: string, message: string, offset?: number) {
    super(`${file}${offset !== undefined ? ` @${offset}` : ''}: ${message}`);
    this.file = file;
    this.offset = offset;
  }
}

/** A decoded signal's checksum or first value disagrees with its header. */
export class ChecksumError extends DataError {
  readonly record: string;
  readonly signal: number;
  constructor(record: string, signal: number, description: string, message: string) {
    super(`record ${record}, signal ${signal} (${description}): ${message}`);
    this.record = record;
    this.signal = signal;
  }
}

/** A data directory or file was not found. */
export class DataNotFoundError extends DataError {}

/** A download failed (HTTP status, dropped connection, checksum mismatch). */
export class FetchError extends DataError {
  readonly url: string;
  constructor(url: string, message: string) {
    super(`${url}: ${message}`);
    this.url = url;
  }
}

/**
 * An annotation file holds no annotations, or no beat annotations, where a record's beats were expected
 * (e.g. a zero-length or truncated-to-nothing `.atr`). `file` is the full path of the annotation file (or
 * the record name when the annotations did not come from a file).
 */
export class EmptyAnnotationsError extends DataError {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.file = file;
  }
}

/**
 * A file's SHA-256 disagrees with the database's `SHA256SUMS` list, or the list does not name the file.
 * `expected` is the listed hash (undefined when the file is not listed), `actual` the file's.
 */
export class IntegrityError extends DataError {
  readonly file: string;
  readonly expected: string | undefined;
  readonly actual: string;
  constructor(file: string, expected: string | undefined, actual: string, sumsFile: string) {
    super(
      expected === undefined
        ? `${file}: not listed in ${sumsFile} (its SHA-256 is ${actual})`
        : `${file}: SHA-256 mismatch: ${sumsFile} lists ${expected}, the file has ${actual}`,
    );
    this.file = file;
    this.expected = expected;
    this.actual = actual;
  }
}
