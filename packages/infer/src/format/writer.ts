/**
 * The one writer of ecgnn model files (layout in docs/model-format.md). `saveModel` is pure: spec in, bytes out.
 * Every file it writes is read back with {@link readModel} before being returned, so the writer can never
 * produce a file the reader rejects.
 */
import { wordsForChannels } from '@ecgnn/kernels';
import { ModelFormatError } from '../errors.js';
import { crc32 } from './crc32.js';
import { toFloat16Bits } from './float16.js';
import {
  ALIGNMENT,
  expectedByteLength,
  FORMAT_VERSION,
  MAGIC,
  normalizeV1Graph,
  PREFIX_BYTES,
  readModel,
} from './reader.js';
import type { DType, GraphSpec, GraphSpecV1, ModelHeader, SparseInfo, TensorEntry } from './types.js';

/** A tensor to store: its logical values and how to store them. */
export interface TensorSpec {
  /** Unique name, referenced by graph nodes. */
  name: string;
  /** Logical shape (for `bits`, the unpacked shape). */
  shape: number[];
  /**
   * Logical values, row-major, `prod(shape)` of them. For `bits`, only their signs matter (convention 1:
   * `x >= 0` → +1). For `int32`, integers.
   */
  data: ArrayLike<number>;
  /** Storage dtype (default `float32`). */
  dtype?: DType;
  /** `int8` only: scale (default max|x| / 127, or 1 for an all-zero tensor). */
  scale?: number;
  /** `bits` only: axis to pack along (default 1, or 0 for a 1-D tensor). */
  packAxis?: number;
  /**
   * Sparse storage for pruned tensors (float32/float16/int8): `'auto'` (default) picks the smallest of dense,
   * bitmap and index storage; `true` the smaller sparse form; `false` always dense; or a specific format.
   */
  sparse?: boolean | 'auto' | 'bitmap' | 'index';
}

/** Everything a model file holds; the header fields plus tensors with their values. */
export interface ModelSpec
  extends Omit<
    ModelHeader,
    'graph' | 'tensors' | 'blobLength' | 'preprocessing' | 'windowing' | 'provenance'
  > {
  /**
   * The graph with named inputs and outputs, or a version-1 graph (`{ input, output, nodes }`: one window input),
   * which is written in its version-2 form (see {@link normalizeV1Graph}).
   */
  graph: GraphSpec | GraphSpecV1;
  preprocessing?: ModelHeader['preprocessing'];
  windowing?: ModelHeader['windowing'];
  provenance?: Record<string, unknown>;
  tensors: TensorSpec[];
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

interface Encoded {
  entry: Omit<TensorEntry, 'offset'>;
  bytes: Uint8Array;
}

function encodeValues(
  values: ArrayLike<number>,
  dtype: 'float32' | 'float16' | 'int8',
  scale: number,
  out: DataView,
  at: number,
): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (dtype === 'float32') out.setFloat32(at + 4 * i, v, true);
    else if (dtype === 'float16') out.setUint16(at + 2 * i, toFloat16Bits(v), true);
    else out.setInt8(at + i, Math.max(-127, Math.min(127, Math.round(v / scale))));
  }
}

function encodeTensor(t: TensorSpec): Encoded {
  const dtype = t.dtype ?? 'float32';
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ModelFormatError(`tensor ${t.name}: shape [${t.shape}] must be positive integers`);
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) {
    throw new ModelFormatError(
      `tensor ${t.name}: ${t.data.length} values for shape [${t.shape}] (${n} elements)`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(t.data[i])) throw new ModelFormatError(`tensor ${t.name}: value ${i} is not finite`);
  }
  const base = { name: t.name, dtype, shape: t.shape.slice() };
  if (dtype === 'bits') {
    const axis = t.packAxis ?? (t.shape.length > 1 ? 1 : 0);
    if (!Number.isInteger(axis) || axis < 0 || axis >= t.shape.length) {
      throw new ModelFormatError(`tensor ${t.name}: packAxis ${axis} out of range`);
    }
    const C = t.shape[axis];
    const W = wordsForChannels(C);
    const outer = t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    // Stored layout: logical shape with `axis` moved last and replaced by W words.
    const words = new Uint32Array(outer * inner * W);
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        for (let k = 0; k < inner; k++) {
          if (t.data[(o * C + c) * inner + k] < 0) words[(o * inner + k) * W + (c >>> 5)] |= 1 << (c & 31);
        }
      }
    }
    const bytes = new Uint8Array(words.length * 4);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < words.length; i++) dv.setUint32(4 * i, words[i], true);
    return { entry: { ...base, packAxis: axis, byteLength: bytes.length }, bytes };
  }
  if (dtype === 'int32') {
    const bytes = new Uint8Array(n * 4);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) {
      const v = t.data[i];
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new ModelFormatError(`tensor ${t.name}: value ${v} at ${i} is not an int32`);
      }
      dv.setInt32(4 * i, v, true);
    }
    return { entry: { ...base, byteLength: bytes.length }, bytes };
  }
  let scale = 1;
  if (dtype === 'int8') {
    let maxAbs = 0;
    for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(t.data[i]));
    scale = t.scale ?? (maxAbs > 0 ? maxAbs / 127 : 1);
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new ModelFormatError(`tensor ${t.name}: int8 scale must be positive`);
  } else if (dtype !== 'float32' && dtype !== 'float16') {
    throw new ModelFormatError(`tensor ${t.name}: unknown dtype ${String(dtype)}`);
  }
  const extra: Partial<TensorEntry> = dtype === 'int8' ? { scale } : {};
  // Non-zero elements as stored (int8 values that quantise to 0 are zeros too).
  const nzIdx: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = t.data[i];
    const stored =
      dtype === 'int8' ? Math.round(v / scale) : dtype === 'float16' ? toFloat16Bits(v) & 0x7fff : v;
    if (stored !== 0) nzIdx.push(i);
  }
  const nnz = nzIdx.length;
  const mode = t.sparse ?? 'auto';
  const size = dtype === 'float32' ? 4 : dtype === 'float16' ? 2 : 1;
  const dense = n * size;
  const bitmap = expectedByteLength(dtype, t.shape, 0, { format: 'bitmap', nnz });
  const index = expectedByteLength(dtype, t.shape, 0, { format: 'index', nnz });
  let format: 'dense' | 'bitmap' | 'index';
  if (mode === false) format = 'dense';
  else if (mode === 'bitmap' || mode === 'index') format = mode;
  else if (mode === true) format = bitmap <= index ? 'bitmap' : 'index';
  else format = dense <= Math.min(bitmap, index) ? 'dense' : bitmap <= index ? 'bitmap' : 'index';
  if (format === 'dense') {
    const bytes = new Uint8Array(dense);
    encodeValues(t.data, dtype, scale, new DataView(bytes.buffer), 0);
    return { entry: { ...base, ...extra, byteLength: dense }, bytes };
  }
  const sparse: SparseInfo = { format, nnz };
  const values = nzIdx.map((i) => t.data[i]);
  const bytes = new Uint8Array(format === 'bitmap' ? bitmap : index);
  const dv = new DataView(bytes.buffer);
  let valuesAt: number;
  if (format === 'bitmap') {
    for (const i of nzIdx) bytes[i >>> 3] |= 1 << (i & 7);
    valuesAt = alignUp(Math.ceil(n / 8), 4);
  } else {
    for (let k = 0; k < nnz; k++) dv.setUint32(4 * k, nzIdx[k], true);
    valuesAt = 4 * nnz;
  }
  encodeValues(values, dtype, scale, dv, valuesAt);
  return { entry: { ...base, ...extra, sparse, byteLength: bytes.length }, bytes };
}

/** The version-2 form of a spec's graph (a copy; version-1 graphs normalised as the reader does). */
function toGraphV2(spec: ModelSpec): GraphSpec {
  const g = spec.graph as Partial<GraphSpec & GraphSpecV1>;
  if (g === null || typeof g !== 'object') throw new ModelFormatError('graph must be an object');
  if (g.inputs === undefined && typeof g.input === 'string' && typeof g.output === 'string') {
    return normalizeV1Graph(g.input, g.output, g.nodes as GraphSpec['nodes'], spec.input);
  }
  return {
    inputs: g.inputs as GraphSpec['inputs'],
    outputs: g.outputs as string[],
    nodes: g.nodes as GraphSpec['nodes'],
  };
}

/**
 * Serialise a model to the ecgnn file format (version {@link FORMAT_VERSION}). Pure (no I/O). Throws {@link ModelFormatError} if the spec is not
 * a valid model (the result is validated by the reader before being returned).
 */
export function saveModel(spec: ModelSpec): Uint8Array {
  const names = new Set<string>();
  const encoded: Encoded[] = [];
  for (const t of spec.tensors) {
    if (names.has(t.name)) throw new ModelFormatError(`tensor name "${t.name}" is used twice`);
    names.add(t.name);
    encoded.push(encodeTensor(t));
  }
  let blobLength = 0;
  const entries: TensorEntry[] = [];
  for (const e of encoded) {
    const offset = alignUp(blobLength, ALIGNMENT);
    entries.push({ ...e.entry, offset } as TensorEntry);
    blobLength = offset + e.bytes.length;
  }
  blobLength = alignUp(blobLength, ALIGNMENT);
  const header: ModelHeader = {
    ...(spec.name === undefined ? {} : { name: spec.name }),
    input: spec.input,
    classes: spec.classes,
    outputActivation: spec.outputActivation,
    preprocessing: spec.preprocessing ?? {},
    windowing: spec.windowing ?? { mode: 'segment', hop: spec.input.length },
    graph: toGraphV2(spec),
    tensors: entries,
    blobLength,
    provenance: spec.provenance ?? {},
  };
  let json: string;
  try {
    json = JSON.stringify(header);
  } catch (err) {
    throw new ModelFormatError(`model header is not serialisable as JSON: ${(err as Error).message}`);
  }
  const headerBytes = new TextEncoder().encode(json);
  const blobStart = alignUp(PREFIX_BYTES + headerBytes.length, ALIGNMENT);
  const out = new Uint8Array(blobStart + blobLength + 4);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, FORMAT_VERSION, true);
  dv.setUint32(12, headerBytes.length, true);
  out.set(headerBytes, PREFIX_BYTES);
  for (let i = 0; i < encoded.length; i++) out.set(encoded[i].bytes, blobStart + entries[i].offset);
  dv.setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  readModel(out); // validate: throws ModelFormatError if the spec was inconsistent
  return out;
}
