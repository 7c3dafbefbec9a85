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
