/**
 * `@ecgnn/data/formats` — the parsers of @ecgnn/data that need no file system: WFDB headers and signal formats,
 * WFDB annotation files, CSV files of samples, the AAMI beat classes and reference-beat matching. They take bytes and text, so a web
 * page (or a worker, or any bundler targeting browsers) reads ECG files with them exactly as Node does; the main
 * entry adds the readers that open files, download and cache databases (`node:fs`, `node:https`).
 * @module @ecgnn/data/formats
 */
export {
  ANNOTATION_SYMBOLS,
  type Annotations,
  annotationCode,
  annotationCount,
  annotationSymbol,
  BEAT_CODES,
  readAnnotations,
  writeAnnotations,
} from './annotations.js';
export { CsvError, type CsvSamples, parseCsvSamples } from './csv.js';
export { ChecksumError, DataError, EmptyAnnotationsError, FormatError } from './errors.js';
export { type BeatMatch, matchBeats } from './evaluate.js';
export { AAMI_CLASSES, AAMI_SYMBOLS, type AamiClass, aamiClass, aamiIndex, aamiLabels } from './labels.js';
export {
  bytesForSamples,
  decodeFormat,
  decodeRecord,
  encodeFormat,
  parseHeader,
  type SignalSpec,
  SUPPORTED_FORMATS,
  samplesInBytes,
  type WfdbHeader,
  type WfdbRecord,
  wfdbChecksum,
} from './wfdb.js';
