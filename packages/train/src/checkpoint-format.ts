/**
 * The checkpoint file format, with the discipline of @ecgnn/infer's model files (docs/model-format.md):
 *
 *   offset 0   8 bytes   magic "ECGNNCKP"
 *          8   uint32    format version (little-endian)
 *         12   uint32    header length H in bytes
 *         16   H bytes   JSON header (UTF-8)
 *              padding   zeros up to the blob start, a multiple of 64
 *              blob      tensors, each at a 64-aligned offset from the blob start
 *       end−4  uint32    CRC-32 (IEEE, @ecgnn/infer's `crc32`) of every byte before it
 *
 * The header is a JSON tree in which every tensor or typed array is replaced by a reference
 * `{ "$tensor": i }` / `{ "$array": i }` into the header's tensor table (dtype float32, float64 or int32,
 * shape, offset, byte length), and every non-finite number by `{ "$number": "NaN" | "Infinity" |
 * "-Infinity" }` (JSON has none). Everything is validated — sizes, offsets, alignment, dtypes, references,
 * checksum — before any value is decoded; problems throw a {@link CheckpointError} naming what is wrong.
 */
import { EcgnnError, Tensor } from '@ecgnn/core';
import { crc32 } from '@ecgnn/infer';

/** Raised when a checkpoint cannot be written or read, or does not fit what it is loaded into. */
export class CheckpointError extends EcgnnError {
  /** The file, when the checkpoint came from one. */
  readonly file: string | undefined;

  /** `message` names what is wrong; `file` the checkpoint file. */
  constructor(message: string, file?: string) {
    super(file === undefined ? message : `${file}: ${message}`);
    this.file = file;
  }
}

/** A value a checkpoint can hold: JSON plus tensors, typed arrays and non-finite numbers. */
export type CheckpointValue =
  | null
  | boolean
  | number
  | string
  | Tensor
  | Float32Array
  | Float64Array
  | Int32Array
  | CheckpointValue[]
  | { [key: string]: CheckpointValue | undefined };

/** The 8 magic bytes: ASCII "ECGNNCKP". */
export const CHECKPOINT_MAGIC = new Uint8Array([0x45, 0x43, 0x47, 0x4e, 0x4e, 0x43, 0x4b, 0x50]);
/** Current checkpoint format version. */
export const CHECKPOINT_VERSION = 1;
/** Alignment of the blob start and of each tensor in it. */
const ALIGN = 64;
/** Bytes before the header: magic, version, header length. */
const PREFIX = 16;

type StoredDType = 'float32' | 'float64' | 'int32';
const BYTES: Record<StoredDType, number> = { float32: 4, float64: 8, int32: 4 };

/** One entry of the header's tensor table. */
interface TensorEntry {
  dtype: StoredDType;
  shape: number[];
  offset: number;
  byteLength: number;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function dtypeOfArray(a: Float32Array | Float64Array | Int32Array): StoredDType {
  return a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : 'int32';
}

/**
 * Encodes `root` as checkpoint bytes (see the module comment). Throws a {@link CheckpointError} naming the
 * path of a value that cannot be stored (a function, a class instance other than a tensor or typed array, a
 * cycle).
 */
export function encodeCheckpoint(root: CheckpointValue): Uint8Array {
  const arrays: Array<Float32Array | Float64Array | Int32Array> = [];
  const entries: TensorEntry[] = [];
  let blobLength = 0;
  const seen = new Set<object>();
  const add = (a: Float32Array | Float64Array | Int32Array, shape: number[]): number => {
    const dtype = dtypeOfArray(a);
    const offset = alignUp(blobLength, ALIGN);
    entries.push({ dtype, shape, offset, byteLength: a.length * BYTES[dtype] });
    arrays.push(a);
    blobLength = offset + a.length * BYTES[dtype];
    return entries.length - 1;
  };
  const walk = (v: unknown, path: string): unknown => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : { $number: String(v) };
    if (v instanceof Tensor)
      return { $tensor: add(v.data as Float32Array | Float64Array | Int32Array, [...v.shape]) };
    if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array) {
      return { $array: add(v, [v.length]) };
    }
    if (typeof v !== 'object') throw new CheckpointError(`cannot store ${typeof v} at ${path}`);
    if (seen.has(v)) throw new CheckpointError(`cycle at ${path}`);
    seen.add(v);
    let out: unknown;
    if (Array.isArray(v)) out = v.map((x, i) => walk(x, `${path}[${i}]`));
    else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new CheckpointError(`cannot store a ${(v as object).constructor?.name ?? 'object'} at ${path}`);
      }
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = walk(x, `${path}.${k}`);
      out = o;
    }
    seen.delete(v);
    return out;
  };
  const tree = walk(root, '$');
  blobLength = alignUp(blobLength, ALIGN);
  const header = new TextEncoder().encode(JSON.stringify({ tensors: entries, blobLength, root: tree }));
  const blobStart = alignUp(PREFIX + header.length, ALIGN);
  const out = new Uint8Array(blobStart + blobLength + 4);
  const dv = new DataView(out.buffer);
  out.set(CHECKPOINT_MAGIC, 0);
  dv.setUint32(8, CHECKPOINT_VERSION, true);
  dv.setUint32(12, header.length, true);
  out.set(header, PREFIX);
  entries.forEach((e, i) => {
    const a = arrays[i];
    const at = blobStart + e.offset;
    // Little-endian on every platform: element by element through the DataView.
    for (let j = 0; j < a.length; j++) {
      if (e.dtype === 'float32') dv.setFloat32(at + 4 * j, a[j], true);
      else if (e.dtype === 'float64') dv.setFloat64(at + 8 * j, a[j], true);
      else dv.setInt32(at + 4 * j, a[j], true);
    }
  });
  dv.setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readEntries(raw: unknown, blobLength: number, fail: (m: string) => never): TensorEntry[] {
  if (!Array.isArray(raw)) fail('header: tensors must be an array');
  return raw.map((e, i) => {
    if (!isObject(e)) fail(`header: tensors[${i}] must be an object`);
    const dtype = e.dtype as StoredDType;
    if (!(dtype in BYTES))
      fail(`header: tensors[${i}] has dtype ${JSON.stringify(e.dtype)} (float32, float64 or int32)`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0 || d > 2 ** 31)) {
      fail(`header: tensors[${i}].shape must be an array of non-negative integers`);
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    const { offset, byteLength } = e;
    if (!Number.isInteger(offset) || (offset as number) < 0 || (offset as number) % ALIGN !== 0) {
      fail(
        `header: tensors[${i}].offset ${JSON.stringify(offset)} is not a non-negative multiple of ${ALIGN}`,
      );
    }
    if (byteLength !== size * BYTES[dtype]) {
      fail(
        `header: tensors[${i}] (${dtype} [${shape}]) needs ${size * BYTES[dtype]} bytes, entry says ${byteLength}`,
      );
    }
    if ((offset as number) + (byteLength as number) > blobLength) {
      fail(
        `header: tensors[${i}] ends at ${(offset as number) + (byteLength as number)}, past the blob (${blobLength} bytes)`,
      );
    }
    return { dtype, shape: shape as number[], offset: offset as number, byteLength: byteLength as number };
  });
}

/**
 * Decodes checkpoint bytes into the value tree {@link encodeCheckpoint} was given (tensors as `Tensor`,
 * typed arrays as typed arrays). Checks everything first; throws a {@link CheckpointError} naming the problem
 * (and `file`, when given).
 */
export function decodeCheckpoint(bytes: Uint8Array, file?: string): CheckpointValue {
  const fail = (m: string): never => {
    throw new CheckpointError(m, file);
  };
  if (bytes.length < PREFIX + 4) fail(`file truncated: ${bytes.length} bytes`);
  for (let i = 0; i < CHECKPOINT_MAGIC.length; i++) {
    if (bytes[i] !== CHECKPOINT_MAGIC[i]) fail('not an ecgnn checkpoint (bad magic bytes)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION)
    fail(`checkpoint format version ${version}, this code reads ${CHECKPOINT_VERSION}`);
  const stored = dv.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes, 0, bytes.length - 4);
  if (stored !== actual) {
    fail(
      `checksum mismatch: stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)} (file damaged or truncated)`,
    );
  }
  const headerLength = dv.getUint32(12, true);
  if (PREFIX + headerLength > bytes.length - 4)
    fail(`header length ${headerLength} runs past the end of the file`);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX, PREFIX + headerLength)),
    );
  } catch (err) {
    fail(`header is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!isObject(header)) fail('header must be a JSON object');
  const h = header as Record<string, unknown>;
  const blobStart = alignUp(PREFIX + headerLength, ALIGN);
  const blobLength = h.blobLength;
  if (!Number.isInteger(blobLength) || blobStart + (blobLength as number) + 4 !== bytes.length) {
    fail(`header: blobLength ${JSON.stringify(blobLength)} does not match the file size ${bytes.length}`);
  }
  const entries = readEntries(h.tensors, blobLength as number, fail);
  const used = new Set<number>();
  const decodeArray = (i: unknown, path: string): Float32Array | Float64Array | Int32Array => {
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= entries.length) {
      fail(`${path}: reference ${JSON.stringify(i)} to no tensor (${entries.length} in the table)`);
    }
    if (used.has(i as number)) fail(`${path}: tensor ${i} referenced twice`);
    used.add(i as number);
    const e = entries[i as number];
    const n = e.byteLength / BYTES[e.dtype];
    const at = blobStart + e.offset;
    const out =
      e.dtype === 'float32'
        ? new Float32Array(n)
        : e.dtype === 'float64'
          ? new Float64Array(n)
          : new Int32Array(n);
    for (let j = 0; j < n; j++) {
      if (e.dtype === 'float32') out[j] = dv.getFloat32(at + 4 * j, true);
      else if (e.dtype === 'float64') out[j] = dv.getFloat64(at + 8 * j, true);
      else out[j] = dv.getInt32(at + 4 * j, true);
    }
    return out;
  };
  const walk = (v: unknown, path: string): CheckpointValue => {
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$tensor') {
      const data = decodeArray(o.$tensor, path);
      return new Tensor(data, entries[o.$tensor as number].shape);
    }
    if (keys.length === 1 && keys[0] === '$array') {
      const e = entries[o.$array as number];
      if (e !== undefined && e.shape.length !== 1)
        fail(`${path}: array reference to a tensor of shape [${e.shape}]`);
      return decodeArray(o.$array, path);
    }
    if (keys.length === 1 && keys[0] === '$number') {
      const s = o.$number;
      if (s !== 'NaN' && s !== 'Infinity' && s !== '-Infinity') fail(`${path}: $number ${JSON.stringify(s)}`);
      return Number(s);
    }
    const out: Record<string, CheckpointValue> = {};
    for (const k of keys) out[k] = walk(o[k], `${path}.${k}`);
    return out;
  };
  const root = walk(h.root, '$');
  if (used.size !== entries.length)
    fail(`${entries.length - used.size} tensor(s) of the table are never referenced`);
  return root;
}
