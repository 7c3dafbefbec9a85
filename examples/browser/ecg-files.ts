/**
 * The browser demo's file handling, free of the DOM so that Node tests run it too: an ECG given as the files a
 * user drops on the page — a WFDB record (`.hea` + its signal files, `.atr` reference annotations optional) or
 * a CSV file of samples — becomes one lead at a sampling rate, with the reference beats when there are any.
 * Parsing is @ecgnn/data's browser-safe entry (`@ecgnn/data/formats`); errors name the file.
 */
import {
  AAMI_CLASSES,
  type Annotations,
  aamiLabels,
  DataError,
  decodeRecord,
  parseCsvSamples,
  parseHeader,
  readAnnotations,
} from '@ecgnn/data/formats';

/** One lead to classify. */
export interface EcgInput {
  /** Record name or CSV file name. */
  name: string;
  /** The lead's name (WFDB signal description, or the CSV column). */
  lead: string;
  /** Sampling rate, Hz. */
  sampleRate: number;
  /** Samples (mV for WFDB records). */
  signal: Float32Array;
  /** Reference beats (sample index and AAMI class), when an `.atr` file came with the record. */
  reference: { sample: number; label: string }[] | null;
}

/** What the user gave besides the files. */
export interface EcgInputOptions {
  /** Lead of a WFDB record: index or description (default 0). */
  lead?: number | string;
  /** Sampling rate of a CSV file (required for CSV). */
  sampleRate?: number;
  /** CSV column: header name or 0-based index (default: the first numeric column). */
  column?: string;
}

/** Thrown for files the demo cannot use; the message names the file and what to do. */
export class EcgInputError extends Error {
  override name = 'EcgInputError';
}

/** Reference beats of annotations: every beat annotation with its AAMI class. */
export function referenceBeats(ann: Annotations): { sample: number; label: string }[] {
  const labels = aamiLabels(ann);
  const out: { sample: number; label: string }[] = [];
  for (let i = 0; i < labels.length; i++)
    if (labels[i] >= 0) out.push({ sample: ann.sample[i], label: AAMI_CLASSES[labels[i]] });
  return out;
}

/**
 * Reads the ECG in `files` (file name → bytes): a CSV file (`.csv`, with `opts.sampleRate`), or a WFDB record
 * (exactly one `.hea`; the signal files it names; an `.atr` with the same record name if present).
 */
export function readEcgFiles(files: ReadonlyMap<string, Uint8Array>, opts: EcgInputOptions = {}): EcgInput {
  const names = [...files.keys()];
  const csv = names.filter((n) => n.toLowerCase().endsWith('.csv'));
  const headers = names.filter((n) => n.toLowerCase().endsWith('.hea'));
  if (csv.length + headers.length !== 1) {
    throw new EcgInputError(
      `give one ECG: a .csv file, or a WFDB record (one .hea file with its .dat files, optionally .atr); got ${names.join(', ') || 'no files'}`,
    );
  }
  if (csv.length === 1) {
    const file = csv[0];
    if (!(opts.sampleRate !== undefined && opts.sampleRate > 0)) {
      throw new EcgInputError(`${file}: a CSV file has no sampling rate: give it (Hz)`);
    }
    const text = new TextDecoder().decode(files.get(file));
    const parsed = parseCsvSamples(text, file, opts.column);
    return {
      name: file,
      lead: parsed.column,
      sampleRate: opts.sampleRate,
      signal: parsed.samples,
      reference: null,
    };
  }
  const hea = headers[0];
  const header = parseHeader(new TextDecoder().decode(files.get(hea)), hea);
  const record = decodeRecord(header, files);
  const lead =
    typeof opts.lead === 'string' ? record.descriptions.indexOf(opts.lead) : Math.trunc(opts.lead ?? 0);
  if (!(lead >= 0 && lead < record.signals.length)) {
    throw new EcgInputError(
      `${hea}: no lead ${opts.lead}; the record has ${record.descriptions.map((d, i) => `${i} ${d}`).join(', ')}`,
    );
  }
  const atr = files.get(`${header.record}.atr`);
  let reference: EcgInput['reference'] = null;
  if (atr) {
    try {
      reference = referenceBeats(readAnnotations(atr, `${header.record}.atr`));
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      throw new EcgInputError(`${header.record}.atr: ${e.message}`);
    }
  }
  return {
    name: header.record,
    lead: record.descriptions[lead],
    sampleRate: record.fs,
    signal: record.signals[lead],
    reference,
  };
}
