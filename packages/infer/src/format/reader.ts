/**
 * The one reader of ecgnn model files (layout in docs/model-format.md). It validates everything — sizes,
 * offsets, counts, dtypes, shapes against the graph, checksum — before allocating any tensor, and throws
 * {@link ModelFormatError} (with a byte offset where there is one) on anything wrong. Safe on untrusted bytes.
 */
import { isRrFeatureName } from '@ecgnn/dsp';
import { wordsForChannels } from '@ecgnn/kernels';
import { ModelFormatError } from '../errors.js';
import { type CheckedGraph, checkGraph } from '../graph/validate.js';
import { crc32 } from './crc32.js';
import { fromFloat16Bits } from './float16.js';
import type {
  DType,
  GraphInputSpec,
  GraphSpec,
  InputSource,
  InputSpec,
  ModelHeader,
  NodeSpec,
  Preprocessing,
  TensorEntry,
  Windowing,
} from './types.js';

/** The 8 magic bytes at the start of every model file: "ECGNN", NUL, CR, LF. */
export const MAGIC = new Uint8Array([0x45, 0x43, 0x47, 0x4e, 0x4e, 0x00, 0x0d, 0x0a]);
/** Current format version (what {@link saveModel} writes). */
export const FORMAT_VERSION = 2;
/** Oldest format version the reader still reads (version 1: one unnamed-source input, one output). */
export const MIN_FORMAT_VERSION = 1;
/** Most graph inputs (and most graph outputs) a header may declare. */
export const MAX_GRAPH_IO = 64;
/** Largest `localHalfWidth` of an RR input (beats on each side of the local mean). */
export const MAX_RR_HALF_WIDTH = 10_000;
/** Alignment of the blob start (file offset) and of every tensor offset inside the blob. */
export const ALIGNMENT = 64;
/** Size of the fixed prefix: magic (8) + version (4) + header length (4). */
export const PREFIX_BYTES = 16;

/** Limits applied while reading (protect against hostile files). */
export interface ReadLimits {
  /** Largest JSON header accepted, bytes (default 16 MiB). */
  maxHeaderBytes?: number;
  /** Largest total number of tensor elements after decoding (default 2²⁶ ≈ 67 M). */
  maxTotalElements?: number;
  /** Largest total of activation values per sample, summed over all graph values (default 2²⁵). */
  maxActivationElements?: number;
  /** Largest number of graph nodes (default 100 000). */
  maxNodes?: number;
}

/** A decoded tensor. */
export interface LoadedTensor {
  entry: TensorEntry;
  /** float32/float16/int8 (dense or sparse) → Float32Array; int32 → Int32Array; bits → packed Uint32Array. */
  data: Float32Array | Int32Array | Uint32Array;
}

/** A parsed, fully validated model file. */
export interface ModelFile {
  header: ModelHeader;
  tensors: Map<string, LoadedTensor>;
  graph: CheckedGraph;
}

/** Bytes per stored element of each dtype but `bits`. */
export const ELEMENT_BYTES: Record<Exclude<DType, 'bits'>, number> = {
  float32: 4,
  float16: 2,
  int8: 1,
  int32: 4,
};
const MAX_DIM = 1 << 24;

function fail(msg: string, at?: number): never {
  throw new ModelFormatError(msg, at);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` as an integer in `[min, max]` (a `what` of the header), else a {@link ModelFormatError}. */
function int(v: unknown, what: string, min = 1, max = MAX_DIM): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`header: ${what} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A byte offset or count: an integer in `[0, 2⁵³ − 1]`. */
function count(v: unknown, what: string): number {
  return int(v, what, 0, Number.MAX_SAFE_INTEGER);
}

function posFinite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    fail(`header: ${what} must be a finite positive number`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length > 4096) fail(`header: ${what} must be a string (≤ 4096 chars)`);
  return v;
}

/** Number of bytes a tensor with this entry must occupy (dense or sparse). */
export function expectedByteLength(
  dtype: DType,
  shape: number[],
  packAxis: number,
  sparse?: { format: string; nnz: number },
): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'bits') {
    return (n / shape[packAxis]) * wordsForChannels(shape[packAxis]) * 4;
  }
  const size = ELEMENT_BYTES[dtype];
  if (!sparse) return n * size;
  if (sparse.format === 'bitmap') return align(Math.ceil(n / 8), 4) + sparse.nnz * size;
  return sparse.nnz * 4 + sparse.nnz * size;
}

/** `n` rounded up to a multiple of `a`. */
export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function parseTensorEntry(v: unknown, i: number): TensorEntry {
  if (!isObject(v)) fail(`header: tensors[${i}] must be an object`);
  const name = str(v.name, `tensors[${i}].name`);
  // Every message names the entry: `header: tensors[i] (name) …`.
  const bad: (msg: string) => never = (msg) => fail(`header: tensors[${i}] (${name})${msg}`);
  const dtype = v.dtype as DType;
  // A non-string dtype (e.g. an object whose toString is null) must not reach the property-key conversion.
  if (typeof dtype !== 'string' || (dtype !== 'bits' && !Object.hasOwn(ELEMENT_BYTES, dtype)))
    bad(` has unknown dtype ${JSON.stringify(v.dtype)}`);
  if (!Array.isArray(v.shape) || v.shape.length < 1 || v.shape.length > 4) {
    bad(` shape must be an array of 1–4 dimensions`);
  }
  const shape = v.shape.map((d, k) => int(d, `tensors[${i}] (${name}) shape[${k}]`));
  let elements = 1;
  for (const d of shape) elements *= d;
  if (elements > 2 ** 31) bad(` has ${elements} elements (too many)`);
  const entry: TensorEntry = {
    name,
    dtype,
    shape,
    offset: count(v.offset, `tensors[${i}].offset`),
    byteLength: count(v.byteLength, `tensors[${i}].byteLength`),
  };
  if (entry.offset % ALIGNMENT !== 0) bad(` offset ${entry.offset} is not ${ALIGNMENT}-aligned`);
  let packAxis = 0;
  if (dtype === 'int8') {
    entry.scale = posFinite(v.scale, `tensors[${i}] (${name}) scale`);
  } else if (v.scale !== undefined) {
    bad(`: scale is only allowed with int8`);
  }
  if (dtype === 'bits') {
    packAxis =
      v.packAxis === undefined
        ? shape.length > 1
          ? 1
          : 0
        : int(v.packAxis, `tensors[${i}].packAxis`, 0, shape.length - 1);
    entry.packAxis = packAxis;
  } else if (v.packAxis !== undefined) {
    bad(`: packAxis is only allowed with bits`);
  }
  if (v.sparse !== undefined) {
    if (dtype === 'bits' || dtype === 'int32') bad(`: ${dtype} cannot be sparse`);
    if (!isObject(v.sparse) || (v.sparse.format !== 'bitmap' && v.sparse.format !== 'index')) {
      bad(` sparse must be {format: 'bitmap'|'index', nnz}`);
    }
    const nnz = count(v.sparse.nnz, `tensors[${i}].sparse.nnz`);
    if (nnz > elements) bad(` sparse nnz ${nnz} exceeds ${elements} elements`);
    entry.sparse = { format: v.sparse.format, nnz };
  }
  const expected = expectedByteLength(dtype, shape, packAxis, entry.sparse);
  if (entry.byteLength !== expected) {
    bad(` byteLength ${entry.byteLength} ≠ expected ${expected} for its dtype/shape`);
  }
  return entry;
}

function parseNode(v: unknown, i: number): NodeSpec {
  if (!isObject(v)) fail(`header: graph.nodes[${i}] must be an object`);
  const op = str(v.op, `graph.nodes[${i}].op`);
  const names = (x: unknown, what: string): string[] => {
    if (!Array.isArray(x) || x.length > 1024)
      fail(`header: graph.nodes[${i}].${what} must be an array of names`);
    return x.map((s, k) => str(s, `graph.nodes[${i}].${what}[${k}]`));
  };
  const node: NodeSpec = { op, inputs: names(v.inputs, 'inputs'), outputs: names(v.outputs, 'outputs') };
  if (v.attrs !== undefined) {
    if (!isObject(v.attrs)) fail(`header: graph.nodes[${i}].attrs must be an object`);
    node.attrs = v.attrs;
  }
  if (v.tensors !== undefined) {
    if (!isObject(v.tensors)) fail(`header: graph.nodes[${i}].tensors must be an object`);
    const t: Record<string, string> = {};
    for (const [role, name] of Object.entries(v.tensors))
      t[role] = str(name, `graph.nodes[${i}].tensors.${role}`);
    node.tensors = t;
  }
  return node;
}

function parsePreprocessing(v: unknown): Preprocessing {
  if (v === undefined) return {};
  if (!isObject(v)) fail('header: preprocessing must be an object');
  const p: Preprocessing = {};
  if (v.removeBaseline !== undefined) {
    if (typeof v.removeBaseline !== 'boolean') fail('header: preprocessing.removeBaseline must be a boolean');
    p.removeBaseline = v.removeBaseline;
  }
  if (v.bandpass !== undefined) {
    const b = v.bandpass;
    if (
      !Array.isArray(b) ||
      b.length !== 2 ||
      !(typeof b[0] === 'number' && typeof b[1] === 'number') ||
      !(b[0] > 0 && b[1] > b[0])
    ) {
      fail('header: preprocessing.bandpass must be [lowHz, highHz] with 0 < low < high');
    }
    p.bandpass = [b[0], b[1]];
  }
  if (v.bandpassOrder !== undefined)
    p.bandpassOrder = int(v.bandpassOrder, 'preprocessing.bandpassOrder', 1, 8);
  if (v.normalize !== undefined) {
    if (v.normalize !== 'zscore' && v.normalize !== 'none')
      fail("header: preprocessing.normalize must be 'zscore' or 'none'");
    p.normalize = v.normalize;
  }
  if (v.zscoreEps !== undefined) p.zscoreEps = posFinite(v.zscoreEps, 'preprocessing.zscoreEps');
  return p;
}

function parseWindowing(v: unknown, length: number): Windowing {
  if (v === undefined) return { mode: 'segment', hop: length };
  if (!isObject(v)) fail('header: windowing must be an object');
  if (v.mode === 'beat') {
    // `before` < input.length: the R peak is inside the window.
    return { mode: 'beat', before: int(v.before, 'windowing.before', 0, length - 1) };
  }
  if (v.mode === 'segment') return { mode: 'segment', hop: int(v.hop, 'windowing.hop') };
  return fail("header: windowing.mode must be 'beat' or 'segment'");
}

/**
 * The version-2 graph of a version-1 graph: its one input is the `[channels, length]` window of `input` (source
 * `window`), its one output the logits.
 */
export function normalizeV1Graph(
  input: string,
  output: string,
  nodes: NodeSpec[],
  window: InputSpec,
): GraphSpec {
  return {
    inputs: [{ name: input, shape: [window.channels, window.length], source: { kind: 'window' } }],
    outputs: [output],
    nodes,
  };
}

function parseSource(v: unknown, what: string): InputSource {
  if (!isObject(v)) fail(`header: ${what} must be an object`);
  if (v.kind === 'window' || v.kind === 'external') return { kind: v.kind };
  if (v.kind !== 'rr') fail(`header: ${what}.kind must be 'window', 'rr' or 'external'`);
  const f = v.features;
  if (!Array.isArray(f) || f.length < 1 || f.length > 64)
    fail(`header: ${what}.features must be a non-empty array of RR feature names`);
  const features = f.map((name, k) => {
    if (!isRrFeatureName(name))
      fail(`header: ${what}.features[${k}] ${JSON.stringify(name)} is not an RR feature name`);
    return name;
  });
  return {
    kind: 'rr',
    features,
    localHalfWidth: int(v.localHalfWidth, `${what}.localHalfWidth`, 0, MAX_RR_HALF_WIDTH),
  };
}

function parseGraphInputs(v: unknown): GraphInputSpec[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_GRAPH_IO)
    fail(`header: graph.inputs must be an array of 1–${MAX_GRAPH_IO} inputs`);
  return v.map((x, i) => {
    const what = `graph.inputs[${i}]`;
    if (!isObject(x)) fail(`header: ${what} must be an object`);
    const name = str(x.name, `${what}.name`);
    if (!Array.isArray(x.shape) || x.shape.length < 1 || x.shape.length > 2)
      fail(`header: ${what} (${name}) shape must be [channels, length] or [features]`);
    const shape = x.shape.map((d, k) => int(d, `${what} (${name}) shape[${k}]`));
    return { name, shape, source: parseSource(x.source, `${what}.source`) };
  });
}

function parseGraphOutputs(v: unknown): string[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_GRAPH_IO)
    fail(`header: graph.outputs must be an array of 1–${MAX_GRAPH_IO} value names`);
  return v.map((name, i) => str(name, `graph.outputs[${i}]`));
}

/**
 * Validate the JSON header's structure (not yet the blob contents). `version` is the file's format version: a
 * version-1 graph (`input`/`output`) is normalised to named inputs and outputs (see {@link normalizeV1Graph}).
 */
export function parseHeader(json: unknown, limits: ReadLimits = {}, version = FORMAT_VERSION): ModelHeader {
  if (!isObject(json)) fail('header: must be a JSON object');
  const input = json.input;
  if (!isObject(input)) fail('header: input must be an object');
  const inputSpec = {
    channels: int(input.channels, 'input.channels', 1, 1024),
    length: int(input.length, 'input.length'),
    sampleRate: posFinite(input.sampleRate, 'input.sampleRate'),
  };
  if (!Array.isArray(json.classes) || json.classes.length < 1 || json.classes.length > 100_000) {
    fail('header: classes must be a non-empty array of names');
  }
  const classes = json.classes.map((c, i) => str(c, `classes[${i}]`));
  const act = json.outputActivation;
  if (act !== 'softmax' && act !== 'sigmoid' && act !== 'none') {
    fail("header: outputActivation must be 'softmax', 'sigmoid' or 'none'");
  }
  const g = json.graph;
  if (!isObject(g)) fail('header: graph must be an object');
  if (!Array.isArray(g.nodes)) fail('header: graph.nodes must be an array');
  const maxNodes = limits.maxNodes ?? 100_000;
  if (g.nodes.length > maxNodes) fail(`header: graph has ${g.nodes.length} nodes, limit ${maxNodes}`);
  const nodes = g.nodes.map(parseNode);
  const graph: GraphSpec =
    version === 1
      ? normalizeV1Graph(str(g.input, 'graph.input'), str(g.output, 'graph.output'), nodes, inputSpec)
      : { inputs: parseGraphInputs(g.inputs), outputs: parseGraphOutputs(g.outputs), nodes };
  if (!Array.isArray(json.tensors)) fail('header: tensors must be an array');
  const tensors = json.tensors.map(parseTensorEntry);
  const provenance = json.provenance ?? {};
  if (!isObject(provenance)) fail('header: provenance must be an object');
  const header: ModelHeader = {
    input: inputSpec,
    classes,
    outputActivation: act,
    preprocessing: parsePreprocessing(json.preprocessing),
    windowing: parseWindowing(json.windowing, inputSpec.length),
    graph,
    tensors,
    blobLength: count(json.blobLength, 'blobLength'),
    provenance,
  };
  if (json.name !== undefined) header.name = str(json.name, 'name');
  return header;
}

/** Whether this engine stores typed arrays little-endian (as the file does). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `count` little-endian 32-bit words of `bytes` from `at`, in a fresh buffer in this engine's byte order (a copy:
 * the file's bytes are not kept), for an Int32Array, Uint32Array or Float32Array view.
 */
function words32(bytes: Uint8Array, at: number, count: number): ArrayBuffer {
  // `Uint8Array.prototype.slice` explicitly: a Node `Buffer`'s own `slice` returns a view, not a copy.
  const w = new Uint32Array(Uint8Array.prototype.slice.call(bytes, at, at + 4 * count).buffer);
  if (!LITTLE_ENDIAN) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let j = 0; j < count; j++) w[j] = view.getUint32(at + 4 * j, true);
  }
  return w.buffer;
}

function decodeValues(
  bytes: Uint8Array,
  start: number,
  count: number,
  dtype: 'float32' | 'float16' | 'int8',
  scale: number,
  out: Float32Array,
  indices: ArrayLike<number> | null,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let j = 0; j < count; j++) {
    let v: number;
    if (dtype === 'float32') v = view.getFloat32(start + 4 * j, true);
    else if (dtype === 'float16') v = fromFloat16Bits(view.getUint16(start + 2 * j, true));
    else v = view.getInt8(start + j) * scale;
    out[indices ? indices[j] : j] = v;
  }
}

function decodeTensor(bytes: Uint8Array, blobStart: number, e: TensorEntry): LoadedTensor {
  const at = blobStart + e.offset;
  const n = e.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.dtype === 'int32') return { entry: e, data: new Int32Array(words32(bytes, at, n)) };
  if (e.dtype === 'bits') {
    const channels = e.shape[e.packAxis ?? 1];
    const words = wordsForChannels(channels);
    const count = (n / channels) * words;
    const data = new Uint32Array(words32(bytes, at, count));
    // Convention 3: unused high bits of the last word must be 0 (kernels rely on it).
    const rem = channels & 31;
    if (rem !== 0) {
      const mask = ~((1 << rem) - 1);
      for (let j = words - 1; j < count; j += words) {
        if (data[j] & mask)
          fail(`tensor ${e.name}: unused high bits of packed word ${j} are not zero`, at + 4 * j);
      }
    }
    return { entry: e, data };
  }
  if (e.dtype === 'float32' && !e.sparse) return { entry: e, data: new Float32Array(words32(bytes, at, n)) };
  const data = new Float32Array(n);
  const scale = e.scale ?? 1;
  if (!e.sparse) {
    decodeValues(bytes, at, n, e.dtype, scale, data, null);
    return { entry: e, data };
  }
  const nnz = e.sparse.nnz;
  const indices = new Uint32Array(nnz);
  let valuesAt: number;
  if (e.sparse.format === 'bitmap') {
    let k = 0;
    for (let i = 0; i < n; i++) {
      if ((bytes[at + (i >>> 3)] >>> (i & 7)) & 1) {
        if (k >= nnz)
          fail(`tensor ${e.name}: sparse bitmap has more set bits than nnz ${nnz}`, at + (i >>> 3));
        indices[k++] = i;
      }
    }
    if (k !== nnz) fail(`tensor ${e.name}: sparse bitmap has ${k} set bits, nnz is ${nnz}`, at);
    const bitmapBytes = Math.ceil(n / 8);
    // Bits beyond n in the last byte and the alignment padding must be zero.
    for (let b = at + bitmapBytes; b < at + align(bitmapBytes, 4); b++) {
      if (bytes[b] !== 0) fail(`tensor ${e.name}: sparse bitmap padding is not zero`, b);
    }
    if (n % 8 !== 0 && bytes[at + bitmapBytes - 1] >>> (n % 8) !== 0) {
      fail(`tensor ${e.name}: sparse bitmap has bits set beyond element ${n}`, at + bitmapBytes - 1);
    }
    valuesAt = at + align(bitmapBytes, 4);
  } else {
    let prev = -1;
    for (let k = 0; k < nnz; k++) {
      const idx = view.getUint32(at + 4 * k, true);
      if (idx >= n || idx <= prev) {
        fail(`tensor ${e.name}: sparse index ${idx} is out of range or not strictly increasing`, at + 4 * k);
      }
      indices[k] = idx;
      prev = idx;
    }
    valuesAt = at + 4 * nnz;
  }
  decodeValues(bytes, valuesAt, nnz, e.dtype, scale, data, indices);
  return { entry: e, data };
}

/**
 * Parse and validate a model file. Throws {@link ModelFormatError} on any problem. No tensor memory is
 * allocated until the whole header, tensor table and graph have been validated against the file size.
 */
export function readModel(input: Uint8Array | ArrayBuffer, limits: ReadLimits = {}): ModelFile {
  if (!(input instanceof Uint8Array) && !(input instanceof ArrayBuffer)) {
    throw new ModelFormatError('model bytes must be a Uint8Array or ArrayBuffer');
  }
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const size = bytes.length;
  if (size < PREFIX_BYTES + 4) fail(`file is ${size} bytes, too short for a model file`, 0);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) fail('bad magic: not an ecgnn model file', i);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version < MIN_FORMAT_VERSION || version > FORMAT_VERSION)
    fail(
      `unsupported format version ${version} (this reader reads ${MIN_FORMAT_VERSION}–${FORMAT_VERSION})`,
      8,
    );
  const headerLength = view.getUint32(12, true);
  const maxHeader = limits.maxHeaderBytes ?? 16 << 20;
  if (headerLength > maxHeader) fail(`header length ${headerLength} exceeds the limit ${maxHeader}`, 12);
  if (PREFIX_BYTES + headerLength > size - 4)
    fail(`header length ${headerLength} runs past the end of the file`, 12);
  const blobStart = align(PREFIX_BYTES + headerLength, ALIGNMENT);
  if (blobStart > size - 4) fail('file truncated: no room for the header padding and checksum', size);
  const stored = view.getUint32(size - 4, true);
  const actual = crc32(bytes, 0, size - 4);
  if (stored !== actual) {
    fail(`checksum mismatch: stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}`, size - 4);
  }
  for (let i = PREFIX_BYTES + headerLength; i < blobStart; i++) {
    if (bytes[i] !== 0) fail('header padding is not zero', i);
  }
  let json: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength),
    );
    json = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid UTF-8 JSON: ${(err as Error).message}`, PREFIX_BYTES);
  }
  const header = parseHeader(json, limits, version);
  const blobLength = size - 4 - blobStart;
  if (header.blobLength !== blobLength) {
    fail(`header blobLength ${header.blobLength} ≠ ${blobLength} bytes actually present`, blobStart);
  }
  const table = new Map<string, TensorEntry>();
  let total = 0;
  const maxTotal = limits.maxTotalElements ?? 1 << 26;
  for (const e of header.tensors) {
    if (table.has(e.name)) fail(`header: tensor name "${e.name}" is used twice`);
    table.set(e.name, e);
    if (e.offset + e.byteLength > blobLength) {
      fail(
        `tensor ${e.name}: bytes [${e.offset}, ${e.offset + e.byteLength}) run past the blob (${blobLength} bytes)`,
        blobStart + e.offset,
      );
    }
    total += e.shape.reduce((a, b) => a * b, 1);
    if (total > maxTotal) fail(`tensors hold more than ${maxTotal} elements in total`);
  }
  const graph = checkGraph(header, table, limits.maxActivationElements);
  const tensors = new Map<string, LoadedTensor>();
  for (const e of header.tensors) tensors.set(e.name, decodeTensor(bytes, blobStart, e));
  return { header, tensors, graph };
}
