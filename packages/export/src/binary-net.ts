/**
 * Binary networks of method 5 (Pu et al. 2023) in the model file: an emitter for classifiers whose head is
 * "trunk → dropout → sum over time" (no dense layer; the trunk's last channels are the logits), and the storage
 * accounting of a written file — bits of binary weights, bytes of float parameters, folded thresholds, header,
 * alignment padding and checksum — the figures a "model of about 4 KB" claim is checked against.
 *
 * The trunk itself goes through the built-in emitters: a `Sequential` of `BinaryConv1d → MaxPool1d → PReLU →
 * BatchNorm1d` blocks gets `bits` weights, and every block whose output feeds a binary convolution is folded
 * into ONE `binaryConv1d` node with the pool and int32 thresholds (exact when the epilogue's sign is monotone
 * in the integer dot — PReLU slopes ≥ 0 — else the float epilogue and a `sign` node are kept; see
 * `emitters/binary.ts`).
 */
import type { nn } from '@ecgnn/core';
import { readModel } from '@ecgnn/infer';
import { childPath, type Emitter } from './context.js';
import { ExportError } from './errors.js';

/** The parts of a trunk → dropout → sum-over-time classifier. */
export interface SumOverTimeParts {
  /** `[N, C, L]` → `[N, classes, L']`. */
  trunk: nn.AnyModule;
  /** Dropout before the sum (no node: identity in evaluation mode); optional. */
  drop?: nn.AnyModule | null;
  /** Member names of the parts, for tensor names and errors (default 'features' and 'drop'). */
  names?: { trunk?: string; drop?: string };
}

/**
 * An emitter for modules whose forward is `Σ_t drop(trunk(x))[:, :, t]` (method 5's head): `parts(module)`
 * names the trunk and the dropout; the trunk is emitted by the registry (threshold folding included), then
 * one `sumOverTime` node gives the `[classes]` logits. Pass it per instance (`emitters` option of
 * `exportModel`) or register it for the model class.
 *
 * @example
 * const emitter = sumOverTimeEmitter<Net>((m) => ({ trunk: m.features, drop: m.drop }));
 * exportModel(net, { …, emitters: new Map([[net, emitter]]) });
 */
export function sumOverTimeEmitter<M extends nn.AnyModule>(
  parts: (module: M) => SumOverTimeParts,
): Emitter<M> {
  return (ctx, module, inputs, path) => {
    if (inputs.length !== 1) {
      throw new ExportError(
        `${path || 'model'}: a sum-over-time classifier takes one input (the window), got ${inputs.length}`,
      );
    }
    const p = parts(module);
    if (p.trunk === module) {
      throw new ExportError(
        `${path || 'model'}: the trunk of a sum-over-time classifier must be a child module, not the module itself`,
      );
    }
    let v = ctx.emit(p.trunk, [inputs[0]], childPath(path, p.names?.trunk ?? 'features'));
    if (p.drop) v = ctx.emit(p.drop, [v], childPath(path, p.names?.drop ?? 'drop'));
    const info = ctx.graph.info(v);
    if (info.kind !== 'float' || info.shape.length !== 2) {
      throw new ExportError(
        `${path || 'model'}: the trunk gives a ${info.kind} [${info.shape}] value; the sum over time needs a float [C, L] one`,
      );
    }
    return ctx.graph.node('sumOverTime', [v], childPath(path, 'sum'));
  };
}

/** Bytes and element counts of one group of tensors in a model file. */
export interface TensorGroupStorage {
  /** Tensors in the group. */
  tensors: number;
  /** Logical elements (for `bits`: ±1 values, one bit each). */
  values: number;
  /** Bytes they occupy in the blob (packed words for `bits`, sparse encodings as stored). */
  bytes: number;
}

/** Where the bytes of a model file go (see {@link modelStorage}). */
export interface ModelStorage {
  /** Length of the file. */
  fileBytes: number;
  /** Binary weights (`bits` tensors): `values` is the bit count; `bytes` includes the u32 word padding. */
  binaryWeights: TensorGroupStorage;
  /** Folded binary thresholds: the int32 `threshold` and ±1 `direction` tensors of `binaryConv1d` nodes. */
  thresholds: TensorGroupStorage;
  /** Every other tensor: float weights and parameters (BatchNorm, PReLU, biases…), any storage dtype. */
  floats: TensorGroupStorage;
  /** Magic, version, header length (16 bytes) and the JSON header. */
  headerBytes: number;
  /** Zero bytes that align the blob and each tensor to 64 bytes. */
  alignmentBytes: number;
  /** The trailing CRC-32. */
  checksumBytes: number;
  /**
   * Bytes of the parameters themselves at their information content: ⌈weight bits / 8⌉ + threshold bytes +
   * float bytes — what papers count as model storage (no header, no word or alignment padding).
   */
  parameterBytes: number;
}

/**
 * The storage accounting of model-file `bytes` (read and checked with @ecgnn/infer's `readModel`): the sum of
 * its parts is the file length. Tensors are grouped by what they hold: binary weights, folded thresholds,
 * floats.
 */
export function modelStorage(bytes: Uint8Array): ModelStorage {
  const file = readModel(bytes);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true);
  const thresholdNames = new Set<string>();
  for (const n of file.header.graph.nodes) {
    if (n.op !== 'binaryConv1d' || n.tensors === undefined) continue;
    for (const role of ['threshold', 'direction']) {
      const t = n.tensors[role];
      if (t !== undefined) thresholdNames.add(t);
    }
  }
  const group = (): TensorGroupStorage => ({ tensors: 0, values: 0, bytes: 0 });
  const binaryWeights = group();
  const thresholds = group();
  const floats = group();
  for (const t of file.header.tensors) {
    const g = t.dtype === 'bits' ? binaryWeights : thresholdNames.has(t.name) ? thresholds : floats;
    g.tensors++;
    g.values += t.shape.reduce((a, b) => a * b, 1);
    g.bytes += t.byteLength;
  }
  const headerBytes = 16 + headerLength;
  const checksumBytes = 4;
  const alignmentBytes =
    bytes.length - headerBytes - checksumBytes - binaryWeights.bytes - thresholds.bytes - floats.bytes;
  if (alignmentBytes < 0) throw new ExportError('modelStorage: the tensors take more bytes than the file');
  return {
    fileBytes: bytes.length,
    binaryWeights,
    thresholds,
    floats,
    headerBytes,
    alignmentBytes,
    checksumBytes,
    parameterBytes: Math.ceil(binaryWeights.values / 8) + thresholds.bytes + floats.bytes,
  };
}
