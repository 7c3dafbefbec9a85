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
  align,
  ELEMENT_BYTES,
  expectedByteLength,
  FORMAT_VERSION,
  MAGIC,
  normalizeV1Graph,
  PREFIX_BYTES,
  readModel,
} from './reader.js';
import type { DType, GraphSpec, GraphSpecV1, ModelHeader, TensorEntry } from './types.js';

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

interface Encoded {
  entry: Omit<TensorEntry, 'offset'>;
  bytes: Uint8Array;
}

/**
 * Stores `values` from byte `at` of `out`, little-endian, as `dtype` (`int8`: quantised by `scale`; `int32`: also
 * packed `bits` words, whose uint32 values `setInt32` stores bit for bit).
 */
function encodeValues(
  values: ArrayLike<number>,
  dtype: Exclude<DType, 'bits'>,
  scale: number,
  out: DataView,
  at: number,
): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (dtype === 'float32') out.setFloat32(at + 4 * i, v, true);
    else if (dtype === 'float16') out.setUint16(at + 2 * i, toFloat16Bits(v), true);
    else if (dtype === 'int8') out.setInt8(at + i, Math.max(-127, Math.min(127, Math.round(v / scale))));
    else out.setInt32(at + 4 * i, v, true);
  }
}

function encodeTensor(t: TensorSpec): Encoded {
  const { name, shape, data } = t;
  const dtype = t.dtype ?? 'float32';
  const bad = (msg: string): never => {
    throw new ModelFormatError(`tensor ${name}: ${msg}`);
  };
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    bad(`shape [${shape}] must be positive integers`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) bad(`${data.length} values for shape [${shape}] (${n} elements)`);
  for (let i = 0; i < n; i++) if (!Number.isFinite(data[i])) bad(`value ${i} is not finite`);
  const entry: Omit<TensorEntry, 'offset'> = { name, dtype, shape: shape.slice(), byteLength: 0 };
  // What is stored: `count` values at `valuesAt` as `stored`, after a sparse index or bitmap.
  let values: ArrayLike<number> = data;
  const stored: Exclude<DType, 'bits'> = dtype === 'bits' ? 'int32' : dtype;
  let scale = 1;
  let valuesAt = 0;
  let byteLength: number;
  let nzIdx: number[] = [];
  if (dtype === 'bits') {
    const axis = t.packAxis ?? (shape.length > 1 ? 1 : 0);
    if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) bad(`packAxis ${axis} out of range`);
    const C = shape[axis];
    const W = wordsForChannels(C);
    const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = n / outer / C;
    // Stored layout: logical shape with `axis` moved last and replaced by W words.
    const words = new Uint32Array(outer * inner * W);
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        for (let k = 0; k < inner; k++) {
          if (data[(o * C + c) * inner + k] < 0) words[(o * inner + k) * W + (c >>> 5)] |= 1 << (c & 31);
        }
      }
    }
    entry.packAxis = axis;
    values = words;
    byteLength = words.length * 4;
  } else if (dtype === 'int32') {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647)
        bad(`value ${v} at ${i} is not an int32`);
    }
    byteLength = n * 4;
  } else {
    if (dtype === 'int8') {
      let maxAbs = 0;
      for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i]));
      scale = t.scale ?? (maxAbs > 0 ? maxAbs / 127 : 1);
      if (!(scale > 0) || !Number.isFinite(scale)) bad('int8 scale must be positive');
      entry.scale = scale;
    }
    // Non-zero elements as stored (int8 values that quantise to 0 are zeros too).
    for (let i = 0; i < n; i++) {
      const v = data[i];
      const q =
        dtype === 'int8' ? Math.round(v / scale) : dtype === 'float16' ? toFloat16Bits(v) & 0x7fff : v;
      if (q !== 0) nzIdx.push(i);
    }
    const sizes = { dense: n * ELEMENT_BYTES[stored], bitmap: 0, index: 0 };
    for (const format of ['bitmap', 'index'] as const)
      sizes[format] = expectedByteLength(dtype, shape, 0, { format, nnz: nzIdx.length });
    const mode = t.sparse ?? 'auto';
    const format =
      mode === 'bitmap' || mode === 'index'
        ? mode
        : mode === false || (mode !== true && sizes.dense <= Math.min(sizes.bitmap, sizes.index))
          ? 'dense'
          : sizes.bitmap <= sizes.index
            ? 'bitmap'
            : 'index';
    byteLength = sizes[format];
    if (format !== 'dense') {
      entry.sparse = { format, nnz: nzIdx.length };
      values = nzIdx.map((i) => data[i]);
      valuesAt = format === 'bitmap' ? align(Math.ceil(n / 8), 4) : 4 * nzIdx.length;
    } else nzIdx = [];
  }
  entry.byteLength = byteLength;
  const bytes = new Uint8Array(byteLength);
  const dv = new DataView(bytes.buffer);
  // The sparse index (uint32 element indices) or bitmap (bit i of byte i>>3), then the values.
  if (entry.sparse?.format === 'bitmap') for (const i of nzIdx) bytes[i >>> 3] |= 1 << (i & 7);
  else encodeValues(nzIdx, 'int32', 1, dv, 0);
  encodeValues(values, stored, scale, dv, valuesAt);
  return { entry, bytes };
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
  // Anything the reader checks (names used twice, unknown dtypes …) is left to it: see the end.
  const encoded = spec.tensors.map(encodeTensor);
  let blobLength = 0;
  const entries: TensorEntry[] = [];
  for (const e of encoded) {
    const offset = align(blobLength, ALIGNMENT);
    entries.push({ ...e.entry, offset } as TensorEntry);
    blobLength = offset + e.bytes.length;
  }
  blobLength = align(blobLength, ALIGNMENT);
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
  const blobStart = align(PREFIX_BYTES + headerBytes.length, ALIGNMENT);
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
