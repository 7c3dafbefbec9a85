// MIT annotation format (.atr) reader and writer. Reference: PhysioNet WFDB "annot(5)".
import { EmptyAnnotationsError, FormatError } from './errors.js';

/** Annotation mnemonics by code (WFDB ecgcodes.h); index = code. */
export const ANNOTATION_SYMBOLS: readonly string[] = [
  '',
  'N',
  'L',
  'R',
  'a',
  'V',
  'F',
  'J',
  'A',
  'S',
  'E',
  'j',
  '/',
  'Q',
  '~',
  '',
  '|',
  '',
  's',
  'T',
  '*',
  'D',
  '"',
  '=',
  'p',
  'B',
  '^',
  't',
  '+',
  'u',
  '?',
  '!',
  '[',
  ']',
  'e',
  'n',
  '@',
  'x',
  'f',
  '(',
  ')',
  'r',
];

/** Code of an annotation mnemonic (e.g. `'V'` → 5), or −1 if unknown. */
export function annotationCode(symbol: string): number {
  return symbol === '' ? -1 : ANNOTATION_SYMBOLS.indexOf(symbol);
}

/** Codes that denote beats (WFDB `isqrs`): N L R a V F J A S E j / Q B ? e n f r. */
export const BEAT_CODES: ReadonlySet<number> = new Set([
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25, 30, 34, 35, 38, 41,
]);

/** Pseudo-annotation codes of the MIT format. */
export const SKIP = 59;
/** Sets the `num` field of this and later annotations. */
export const NUM = 60;
/** Sets the `subtype` field of the current annotation. */
export const SUB = 61;
/** Sets the `chan` field of this and later annotations. */
export const CHN = 62;
/** Auxiliary string (e.g. rhythm `(AFIB`) of the current annotation. */
export const AUX = 63;

/** A set of annotations in columnar typed arrays. */
export interface Annotations {
  /** Sample index of each annotation (non-decreasing in a valid file). */
  sample: Int32Array;
  /** Annotation code (1..49). */
  code: Uint8Array;
  /** Subtype field (signed 8-bit in WFDB; stored as Int16 to keep any 10-bit value). */
  subtype: Int16Array;
  /** Channel field. */
  chan: Int16Array;
  /** Num field. */
  num: Int16Array;
  /** Auxiliary strings (null when absent). */
  aux: (string | null)[];
  /** Path of the file the annotations were read from, when they were (used in error messages). */
  file?: string;
}

/** Number of annotations. */
export function annotationCount(a: Annotations): number {
  return a.sample.length;
}

/** Mnemonic of annotation `i` (e.g. `'N'`). */
export function annotationSymbol(a: Annotations, i: number): string {
  return ANNOTATION_SYMBOLS[a.code[i]] ?? '';
}

const latin1 = (bytes: Uint8Array, start: number, len: number): string => {
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = bytes[start + i];
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
};

/**
 * Reads an MIT-format annotation file: 16-bit little-endian words, A = word >> 10 (type),
 * I = word & 0x3ff. A in 1..49 (or 0 with I > 0): an annotation I samples after the previous
 * one; SKIP (59): the next 4 bytes hold a 32-bit interval (high 16-bit word first, each word
 * little-endian) added to the time; NUM/SUB/CHN (60/61/62): I is the new num/subtype/chan;
 * AUX (63): I bytes of text follow, padded to an even length; word 0 ends the file.
 * SUB and AUX apply to the preceding annotation; NUM and CHN persist for later ones (as WFDB's
 * `getann` does).
 *
 * A file without annotations (zero length, or the end word alone) gives an empty list: callers that
 * expect beats check with `loadAnnotations` / `extractBeats`, which throw {@link EmptyAnnotationsError}.
 *
 * @param bytes - file contents
 * @param path - path used in errors and kept as the result's `file`
 * @throws FormatError (with the byte offset) on truncated or malformed data
 */
export function readAnnotations(bytes: Uint8Array, path?: string): Annotations {
  const file = path ?? 'annotations';
  const n = bytes.length;
  if (n % 2 !== 0) throw new FormatError(file, `odd file length ${n}`, n - 1);
  // Every annotation needs at least one word, so n/2 bounds the count: allocate once.
  const cap = n >> 1;
  const sample = new Int32Array(cap);
  const code = new Uint8Array(cap);
  const subtype = new Int16Array(cap);
  const chan = new Int16Array(cap);
  const num = new Int16Array(cap);
  const aux: (string | null)[] = [];
  let count = 0;
  let time = 0;
  let curNum = 0;
  let curChan = 0;
  let p = 0;
  let ended = false;
  while (p + 1 < n) {
    const word = bytes[p] | (bytes[p + 1] << 8);
    const A = word >> 10;
    const I = word & 0x3ff;
    if (word === 0) {
      ended = true;
      p += 2;
      break;
    }
    if (A === SKIP) {
      if (p + 6 > n) throw new FormatError(file, 'truncated SKIP interval', p);
      const hi = bytes[p + 2] | (bytes[p + 3] << 8);
      const lo = bytes[p + 4] | (bytes[p + 5] << 8);
      const skip = (hi << 16) | lo | 0;
      time += skip;
      p += 6;
      continue;
    }
    if (A === NUM || A === SUB || A === CHN) {
      if (count === 0 && A === SUB) throw new FormatError(file, 'SUB before any annotation', p);
      const v = I;
      if (A === NUM) {
        curNum = v;
        if (count > 0) num[count - 1] = v;
      } else if (A === CHN) {
        curChan = v;
        if (count > 0) chan[count - 1] = v;
      } else subtype[count - 1] = v;
      p += 2;
      continue;
    }
    if (A === AUX) {
      if (count === 0) throw new FormatError(file, 'AUX before any annotation', p);
      const len = I;
      const padded = len + (len & 1);
      if (p + 2 + padded > n) throw new FormatError(file, `truncated AUX string of ${len} bytes`, p);
      aux[count - 1] = latin1(bytes, p + 2, len);
      p += 2 + padded;
      continue;
    }
    if (A > 49 && A < SKIP) throw new FormatError(file, `invalid annotation type ${A}`, p);
    time += I;
    if (time < 0 || time > 0x7fffffff) throw new FormatError(file, `annotation time ${time} out of range`, p);
    sample[count] = time;
    code[count] = A;
    chan[count] = curChan;
    num[count] = curNum;
    aux[count] = null;
    count++;
    p += 2;
  }
  if (!ended && p < n) throw new FormatError(file, 'truncated word', p);
  if (!ended && n > 0) throw new FormatError(file, 'missing end-of-file word (0)', n);
  for (let i = aux.length; i < count; i++) aux[i] = null;
  aux.length = count;
  return {
    sample: sample.slice(0, count),
    code: code.slice(0, count),
    subtype: subtype.slice(0, count),
    chan: chan.slice(0, count),
    num: num.slice(0, count),
    aux,
    ...(path === undefined ? {} : { file: path }),
  };
}

/**
 * Throws {@link EmptyAnnotationsError} unless `ann` holds at least one beat annotation ({@link BEAT_CODES});
 * for the functions that expect a record's beats. `fallback` names the annotations when `ann.file` is unset.
 */
export function requireBeatAnnotations(ann: Annotations, fallback: string): void {
  for (let i = 0; i < ann.code.length; i++) if (BEAT_CODES.has(ann.code[i])) return;
  const file = ann.file ?? fallback;
  throw new EmptyAnnotationsError(
    file,
    ann.code.length === 0
      ? "the annotation file holds no annotations, where the record's beats were expected (empty or truncated file?)"
      : `the annotation file holds ${ann.code.length} annotations but no beat annotation, where the record's beats were expected`,
  );
}

/**
 * Writes annotations in MIT format, the inverse of {@link readAnnotations}: a SKIP precedes an
 * annotation whose time increment is negative or above 1023; SUB follows when the subtype is
 * non-zero; CHN/NUM follow when they change; AUX follows when an aux string is present; a zero
 * word ends the file. Aux strings are written as Latin-1 with a terminating NUL, as WFDB does
 * (at most 1022 characters), so files written by WFDB are reproduced byte for byte.
 *
 * @throws RangeError for codes outside 1..49, fields outside 0..1023 or aux strings too long
 */
export function writeAnnotations(a: Annotations): Uint8Array {
  const count = a.sample.length;
  const words: number[] = [];
  const pushWord = (A: number, I: number): void => {
    words.push(((A << 10) | (I & 0x3ff)) & 0xffff);
  };
  let time = 0;
  let curNum = 0;
  let curChan = 0;
  for (let i = 0; i < count; i++) {
    const c = a.code[i];
    if (c < 1 || c > 49) throw new RangeError(`writeAnnotations: code ${c} at ${i} outside 1..49`);
    const d = a.sample[i] - time;
    let inc = d;
    if (d < 0 || d > 1023) {
      // SKIP the whole interval, then an increment of 0
      pushWord(SKIP, 0);
      words.push((d >>> 16) & 0xffff, d & 0xffff);
      inc = 0;
    }
    pushWord(c, inc);
    time = a.sample[i];
    const checkField = (what: string, v: number): void => {
      if (!Number.isInteger(v) || v < 0 || v > 1023)
        throw new RangeError(`writeAnnotations: ${what} ${v} at ${i} outside 0..1023`);
    };
    const sub = a.subtype[i];
    if (sub !== 0) {
      checkField('subtype', sub);
      pushWord(SUB, sub);
    }
    if (a.chan[i] !== curChan) {
      checkField('chan', a.chan[i]);
      pushWord(CHN, a.chan[i]);
      curChan = a.chan[i];
    }
    if (a.num[i] !== curNum) {
      checkField('num', a.num[i]);
      pushWord(NUM, a.num[i]);
      curNum = a.num[i];
    }
    const s = a.aux[i];
    if (s !== null && s !== undefined) {
      // NOTE: like WFDB's putann, the string is stored with its terminating NUL (count includes it).
      if (s.length > 1022) throw new RangeError(`writeAnnotations: aux string at ${i} longer than 1022`);
      const z = `${s}\0`;
      pushWord(AUX, z.length);
      for (let k = 0; k < z.length; k += 2) {
        const c0 = z.charCodeAt(k);
        const c1 = k + 1 < z.length ? z.charCodeAt(k + 1) : 0;
        if (c0 > 255 || c1 > 255) throw new RangeError(`writeAnnotations: aux string at ${i} is not Latin-1`);
        words.push(c0 | (c1 << 8));
      }
    }
  }
  words.push(0);
  const out = new Uint8Array(words.length * 2);
  for (let k = 0; k < words.length; k++) {
    out[2 * k] = words[k] & 0xff;
    out[2 * k + 1] = words[k] >> 8;
  }
  return out;
}
