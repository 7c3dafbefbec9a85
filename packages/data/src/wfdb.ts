// WFDB header (.hea) parsing and signal (.dat) decoding/encoding.
// Format reference: PhysioNet WFDB "header(5)" and "signal(5)" manual pages.
import { ChecksumError, FormatError } from './errors.js';

/** One signal line of a WFDB header. */
export interface SignalSpec {
  /** Signal file name (e.g. `100.dat`). */
  fileName: string;
  /** Storage format code (212, 16, 61, 80, 160 are decoded). */
  format: number;
  /** Samples per frame (only 1 is decoded). */
  samplesPerFrame: number;
  /** Skew in samples (only 0 is decoded). */
  skew: number;
  /** Byte offset of the first sample in the file. */
  byteOffset: number;
  /** ADC gain in ADC units per physical unit (a header value of 0 means the default, 200). */
  gain: number;
  /** Whether the header gave a gain of 0 (uncalibrated signal, default gain used). */
  uncalibrated: boolean;
  /** Baseline: the ADC value corresponding to 0 physical units (defaults to `adcZero`). */
  baseline: number;
  /** Physical units (default `mV`). */
  units: string;
  /** ADC resolution in bits (0 if not given). */
  adcResolution: number;
  /** ADC zero (0 if not given). */
  adcZero: number;
  /** First sample value, if given. */
  initialValue: number | undefined;
  /** 16-bit signed checksum of all samples, if given. */
  checksum: number | undefined;
  /** Block size (0 if not given). */
  blockSize: number;
  /** Free-text description (e.g. `MLII`). */
  description: string;
}

/** A parsed single-segment WFDB header. */
export interface WfdbHeader {
  /** Record name. */
  record: string;
  /** Number of signals. */
  nSignals: number;
  /** Sampling frequency in Hz (default 250). */
  fs: number;
  /** Samples per signal, or undefined when the header does not say. */
  nSamples: number | undefined;
  /** Signal specifications, in header order. */
  signals: SignalSpec[];
  /** Comment lines (without the leading `#`). */
  comments: string[];
}

/** Formats this module can decode and encode. */
export const SUPPORTED_FORMATS: readonly number[] = [212, 16, 61, 80, 160];

const DEFAULT_GAIN = 200;

function intField(file: string, line: number, what: string, s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new FormatError(file, `${what} must be an integer, got '${s}'`, line);
  // '-0' parses to −0, which is not an integer count or value anyone means: normalise it to 0.
  const v = Number.parseInt(s, 10);
  return v === 0 ? 0 : v;
}

function numField(file: string, line: number, what: string, s: string): number {
  const v = Number(s);
  if (s === '' || !Number.isFinite(v))
    throw new FormatError(file, `${what} must be a number, got '${s}'`, line);
  return v;
}

/**
 * Parses the text of a WFDB header file. Multi-segment records (`name/n` on the record line)
 * are rejected with a FormatError. Line numbers in errors are 1-based (`offset`).
 *
 * @param text - header contents
 * @param file - file name used in error messages
 */
export function parseHeader(text: string, file = 'header'): WfdbHeader {
  const lines = text.split(/\r?\n/);
  const comments: string[] = [];
  const body: { no: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '') continue;
    if (t.startsWith('#')) {
      comments.push(t.slice(1).trim());
      continue;
    }
    body.push({ no: i + 1, text: t });
  }
  if (body.length === 0) throw new FormatError(file, 'no record line');
  const rec = body[0];
  const f = rec.text.split(/\s+/);
  if (f.length < 2)
    throw new FormatError(file, 'record line needs at least a name and a number of signals', rec.no);
  const nameField = f[0];
  if (nameField.includes('/'))
    throw new FormatError(
      file,
      `multi-segment record '${nameField}' is not supported (read its segments one by one)`,
      rec.no,
    );
  if (!/^[A-Za-z0-9_-]+$/.test(nameField))
    throw new FormatError(file, `invalid record name '${nameField}'`, rec.no);
  const nSignals = intField(file, rec.no, 'number of signals', f[1]);
  if (nSignals < 0 || nSignals > 4096)
    throw new FormatError(file, `bad number of signals ${nSignals}`, rec.no);
  let fs = 250;
  if (f.length > 2) {
    const m = /^([0-9.eE+-]+)(?:\/([0-9.eE+-]+))?(?:\(([0-9.eE+-]+)\))?$/.exec(f[2]);
    if (!m) throw new FormatError(file, `bad sampling frequency '${f[2]}'`, rec.no);
    fs = numField(file, rec.no, 'sampling frequency', m[1]);
    if (!(fs > 0)) throw new FormatError(file, `sampling frequency must be positive, got ${fs}`, rec.no);
  }
  let nSamples: number | undefined;
  if (f.length > 3) {
    nSamples = intField(file, rec.no, 'number of samples', f[3]);
    if (nSamples < 0) throw new FormatError(file, `negative number of samples ${nSamples}`, rec.no);
  }
  if (body.length - 1 < nSignals)
    throw new FormatError(
      file,
      `record line announces ${nSignals} signals but ${body.length - 1} signal lines follow`,
    );
  const signals: SignalSpec[] = [];
  for (let k = 0; k < nSignals; k++) {
    const { no, text } = body[1 + k];
    const p = text.split(/\s+/);
    if (p.length < 2) throw new FormatError(file, `signal line ${k} needs a file name and a format`, no);
    const fm = /^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$/.exec(p[1]);
    if (!fm) throw new FormatError(file, `bad format field '${p[1]}' for signal ${k}`, no);
    const spec: SignalSpec = {
      fileName: p[0],
      format: Number(fm[1]),
      samplesPerFrame: fm[2] ? Number(fm[2]) : 1,
      skew: fm[3] ? Number(fm[3]) : 0,
      byteOffset: fm[4] ? Number(fm[4]) : 0,
      gain: DEFAULT_GAIN,
      uncalibrated: true,
      baseline: 0,
      units: 'mV',
      adcResolution: 0,
      adcZero: 0,
      initialValue: undefined,
      checksum: undefined,
      blockSize: 0,
      description: '',
    };
    let baselineGiven: number | undefined;
    if (p.length > 2) {
      const gm = /^([0-9.eE+-]+)(?:\(([+-]?\d+)\))?(?:\/(\S+))?$/.exec(p[2]);
      if (!gm) throw new FormatError(file, `bad gain field '${p[2]}' for signal ${k}`, no);
      const g = numField(file, no, 'gain', gm[1]);
      if (g < 0) throw new FormatError(file, `negative gain ${g} for signal ${k}`, no);
      spec.uncalibrated = g === 0;
      spec.gain = g === 0 ? DEFAULT_GAIN : g;
      if (gm[2] !== undefined) baselineGiven = Number(gm[2]);
      if (gm[3] !== undefined) spec.units = gm[3];
    }
    if (p.length > 3) spec.adcResolution = intField(file, no, 'ADC resolution', p[3]);
    if (p.length > 4) spec.adcZero = intField(file, no, 'ADC zero', p[4]);
    if (p.length > 5) spec.initialValue = intField(file, no, 'initial value', p[5]);
    if (p.length > 6) spec.checksum = intField(file, no, 'checksum', p[6]);
    if (p.length > 7) spec.blockSize = intField(file, no, 'block size', p[7]);
    if (p.length > 8) spec.description = p.slice(8).join(' ');
    spec.baseline = baselineGiven ?? spec.adcZero;
    signals.push(spec);
  }
  return { record: nameField, nSignals, fs, nSamples, signals, comments };
}

/** Bytes needed to store `nSamples` frames of `nSig` interleaved signals in `format`. */
export function bytesForSamples(format: number, nSig: number, nSamples: number): number {
  const total = nSig * nSamples;
  switch (format) {
    case 212:
      return Math.ceil((total * 3) / 2);
    case 16:
    case 61:
    case 160:
      return total * 2;
    case 80:
      return total;
    default:
      throw new RangeError(`unsupported WFDB format ${format}`);
  }
}

/** Number of complete frames contained in `nBytes` bytes of `format` data with `nSig` signals. */
export function samplesInBytes(format: number, nSig: number, nBytes: number): number {
  if (nSig === 0) return 0;
  switch (format) {
    case 212:
      return Math.floor(Math.floor((nBytes * 2) / 3) / nSig);
    case 16:
    case 61:
    case 160:
      return Math.floor(nBytes / 2 / nSig);
    case 80:
      return Math.floor(nBytes / nSig);
    default:
      throw new RangeError(`unsupported WFDB format ${format}`);
  }
}

/**
 * Decodes `nSamples` frames of `nSig` interleaved signals stored in `format`, starting at byte
 * `offset` of `bytes`, into one Int16Array per signal (ADC units).
 *
 * @throws FormatError if the format is unsupported or the bytes are too few
 */
export function decodeFormat(
  format: number,
  bytes: Uint8Array,
  nSig: number,
  nSamples: number,
  offset = 0,
  file = 'signal file',
): Int16Array[] {
  if (!SUPPORTED_FORMATS.includes(format))
    throw new FormatError(
      file,
      `format ${format} is not supported (supported: ${SUPPORTED_FORMATS.join(', ')})`,
    );
  const need = bytesForSamples(format, nSig, nSamples);
  if (offset < 0 || offset + need > bytes.length)
    throw new FormatError(
      file,
      `needs ${need} bytes for ${nSamples} samples × ${nSig} signals in format ${format} but only ${Math.max(0, bytes.length - offset)} are present`,
      bytes.length,
    );
  const out: Int16Array[] = [];
  for (let s = 0; s < nSig; s++) out.push(new Int16Array(nSamples));
  const total = nSig * nSamples;
  if (format === 212) {
    // NOTE: two 12-bit two's-complement samples per 3 bytes:
    // s0 = b0 | (b1 & 0x0F) << 8 ; s1 = b2 | (b1 & 0xF0) << 4.
    if (nSig === 2) {
      let p = offset;
      const a = out[0];
      const b = out[1];
      for (let t = 0; t < nSamples; t++) {
        const b0 = bytes[p];
        const b1 = bytes[p + 1];
        const b2 = bytes[p + 2];
        p += 3;
        a[t] = (((b0 | ((b1 & 0x0f) << 8)) << 20) >> 20) as number;
        b[t] = (((b2 | ((b1 & 0xf0) << 4)) << 20) >> 20) as number;
      }
      return out;
    }
    for (let j = 0; j < total; j++) {
      const p = offset + (j >> 1) * 3;
      const v =
        (j & 1) === 0 ? bytes[p] | ((bytes[p + 1] & 0x0f) << 8) : bytes[p + 2] | ((bytes[p + 1] & 0xf0) << 4);
      out[j % nSig][(j / nSig) | 0] = (v << 20) >> 20;
    }
    return out;
  }
  for (let j = 0; j < total; j++) {
    let v: number;
    if (format === 16) {
      const p = offset + 2 * j;
      v = ((bytes[p] | (bytes[p + 1] << 8)) << 16) >> 16;
    } else if (format === 61) {
      const p = offset + 2 * j;
      v = ((bytes[p + 1] | (bytes[p] << 8)) << 16) >> 16;
    } else if (format === 160) {
      const p = offset + 2 * j;
      v = (bytes[p] | (bytes[p + 1] << 8)) - 32768;
    } else {
      // format 80: 8-bit offset binary
      v = bytes[offset + j] - 128;
    }
    out[j % nSig][(j / nSig) | 0] = v;
  }
  return out;
}

/**
 * Encodes interleaved signals (equal lengths, ADC units) in `format`; the inverse of
 * {@link decodeFormat}. Values must fit the format (12-bit for 212, 8-bit offset for 80).
 *
 * @throws RangeError for an unsupported format, unequal lengths or out-of-range values
 */
export function encodeFormat(format: number, signals: readonly Int16Array[]): Uint8Array {
  const nSig = signals.length;
  const nSamples = nSig > 0 ? signals[0].length : 0;
  for (const s of signals)
    if (s.length !== nSamples) throw new RangeError('encodeFormat: signals differ in length');
  const [lo, hi] =
    format === 212
      ? [-2048, 2047]
      : format === 80
        ? [-128, 127]
        : format === 160
          ? [-32768, 32767]
          : [-32768, 32767];
  const bytes = new Uint8Array(bytesForSamples(format, nSig, nSamples));
  const total = nSig * nSamples;
  for (let j = 0; j < total; j++) {
    const v = signals[j % nSig][(j / nSig) | 0];
    if (v < lo || v > hi) throw new RangeError(`encodeFormat: value ${v} does not fit format ${format}`);
    if (format === 212) {
      const p = (j >> 1) * 3;
      const u = v & 0xfff;
      if ((j & 1) === 0) {
        bytes[p] = u & 0xff;
        bytes[p + 1] = (bytes[p + 1] & 0xf0) | (u >> 8);
      } else {
        bytes[p + 2] = u & 0xff;
        bytes[p + 1] = (bytes[p + 1] & 0x0f) | ((u >> 8) << 4);
      }
    } else if (format === 16) {
      bytes[2 * j] = v & 0xff;
      bytes[2 * j + 1] = (v >> 8) & 0xff;
    } else if (format === 61) {
      bytes[2 * j + 1] = v & 0xff;
      bytes[2 * j] = (v >> 8) & 0xff;
    } else if (format === 160) {
      const u = v + 32768;
      bytes[2 * j] = u & 0xff;
      bytes[2 * j + 1] = u >> 8;
    } else if (format === 80) {
      bytes[j] = v + 128;
    } else {
      throw new RangeError(`encodeFormat: unsupported format ${format}`);
    }
  }
  return bytes;
}

/** 16-bit signed checksum of a signal, as stored in WFDB headers (sum of samples mod 2^16). */
export function wfdbChecksum(samples: Int16Array): number {
  let s = 0;
  for (let i = 0; i < samples.length; i++) s = (s + samples[i]) & 0xffff;
  return (s << 16) >> 16;
}

/** A decoded WFDB record. */
export interface WfdbRecord {
  /** The parsed header. */
  header: WfdbHeader;
  /** Record name. */
  name: string;
  /** Sampling frequency in Hz. */
  fs: number;
  /** Samples per signal. */
  nSamples: number;
  /** Raw ADC values per signal. */
  adc: Int16Array[];
  /** Physical values per signal, (adc − baseline) / gain, in each signal's units (mV for ECG). */
  signals: Float32Array[];
  /** Signal descriptions (e.g. `MLII`, `V5`). */
  descriptions: string[];
}

/**
 * Decodes the signals of a record given its header and the bytes of each signal file, then
 * verifies every signal's first value and checksum against the header.
 *
 * @param header - parsed header
 * @param files - signal file name → contents
 * @throws FormatError for unsupported features or short files, ChecksumError on a mismatch
 */
export function decodeRecord(header: WfdbHeader, files: ReadonlyMap<string, Uint8Array>): WfdbRecord {
  const groups = new Map<string, number[]>();
  header.signals.forEach((s, i) => {
    const g = groups.get(s.fileName);
    if (g) g.push(i);
    else groups.set(s.fileName, [i]);
  });
  const adc: Int16Array[] = new Array(header.nSignals);
  let nSamples = header.nSamples;
  for (const [fileName, idx] of groups) {
    const first = header.signals[idx[0]];
    for (const i of idx) {
      const s = header.signals[i];
      const where = `${header.record}, signal ${i} (${s.description || fileName})`;
      if (s.format !== first.format || s.byteOffset !== first.byteOffset)
        throw new FormatError(fileName, `signals sharing a file must share format and offset (${where})`);
      if (s.samplesPerFrame !== 1)
        throw new FormatError(fileName, `${where}: ${s.samplesPerFrame} samples per frame are not supported`);
      if (s.skew !== 0) throw new FormatError(fileName, `${where}: skew ${s.skew} is not supported`);
    }
    const bytes = files.get(fileName);
    if (!bytes) throw new FormatError(fileName, `signal file of record ${header.record} is missing`);
    const avail = samplesInBytes(first.format, idx.length, bytes.length - first.byteOffset);
    const n = nSamples ?? avail;
    const dec = decodeFormat(first.format, bytes, idx.length, n, first.byteOffset, fileName);
    nSamples = n;
    idx.forEach((sigIndex, k) => {
      adc[sigIndex] = dec[k];
    });
  }
  const n = nSamples ?? 0;
  const signals: Float32Array[] = [];
  header.signals.forEach((s, i) => {
    const a = adc[i];
    const desc = s.description || s.fileName;
    if (s.initialValue !== undefined && a.length > 0 && a[0] !== s.initialValue)
      throw new ChecksumError(
        header.record,
        i,
        desc,
        `first sample is ${a[0]} but the header says ${s.initialValue}`,
      );
    if (s.checksum !== undefined && header.nSamples !== undefined) {
      const c = wfdbChecksum(a);
      if (c !== (s.checksum << 16) >> 16)
        throw new ChecksumError(header.record, i, desc, `checksum is ${c} but the header says ${s.checksum}`);
    }
    const y = new Float32Array(a.length);
    const inv = 1 / s.gain;
    const base = s.baseline;
    for (let t = 0; t < a.length; t++) y[t] = (a[t] - base) * inv;
    signals.push(y);
  });
  return {
    header,
    name: header.record,
    fs: header.fs,
    nSamples: n,
    adc,
    signals,
    descriptions: header.signals.map((s) => s.description),
  };
}
