/**
 * `@ecgnn/export` — core `Module` → @ecgnn/infer model file, and ONNX.
 *
 * ## Model files
 * {@link exportModel} translates a trained `nn.Module` (its evaluation-mode forward) into the graph of an
 * @ecgnn/infer model ({@link ModelSpec}); {@link exportModelBytes} writes it with infer's one writer, `saveModel`
 * (which reads the bytes back to validate them). A model may take several named inputs, one per argument of its
 * `forward` — e.g. a beat window and its RR features:
 *
 * ```ts
 * const bytes = exportModelBytes(model, {
 *   inputs: [
 *     { name: 'beat', shape: [1, 126], source: { kind: 'window' } },
 *     { name: 'rr', shape: [4], source: { kind: 'rr', features: ['pre/local-1', 'post/local-1', 'local/record-1', 'pre/record-1'], localHalfWidth: 5 } },
 *   ],
 *   classes: ['N', 'S', 'V', 'F', 'Q'],
 *   input: { sampleRate: 180 },
 *   windowing: { mode: 'beat', before: 45 },
 *   storage: 'float16',
 * });
 * ```
 *
 * ## The emitter registry
 * Each module class has an {@link Emitter} that appends @ecgnn/infer graph nodes for it. Built in: Conv1d (groups,
 * dilation, depthwise, every padding mode and pad value), DepthwiseSeparableConv1d, Linear, BatchNorm1d (folded
 * into the Conv1d/Linear before it in a Sequential, standalone otherwise), ReLU, LeakyReLU, PReLU, Sigmoid, Tanh,
 * Softmax, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d (equal bins), GlobalAvgPool1d, Flatten, Dropout and Identity
 * (no node), Sequential, Residual (add), ConcatSkip and Parallel (concat/add), SqueezeExcitation1d,
 * MultiheadAttention (one head, channels-first), and the binary layers BinaryConv1d/BinaryLinear (`bits` weights;
 * a binary convolution's epilogue and the next sign folded into integer thresholds). A new layer gets one with
 * {@link registerExporter}, usually composing the built-in ones through `ctx.emit`; a module instance can be given
 * its own with the `emitters` option. A module without an emitter throws an {@link ExportError} naming its path.
 *
 * ## Storage
 * `storage`: float32 (default), float16 or int8 (one scale per tensor) for weight matrices, sparse (bitmap or
 * index) storage where it is smaller, e.g. for pruned weights; or a function choosing per tensor. Binary weights
 * are always packed bits.
 *
 * ## Binary networks (method 5)
 * {@link sumOverTimeEmitter} exports classifiers whose head is "trunk → dropout → sum over time" (no dense layer);
 * the trunk's binary blocks go through the built-in emitters (bit-packed weights, folded thresholds).
 * {@link modelStorage} accounts for every byte of a written file: bits of binary weights, folded thresholds,
 * float parameters, header, alignment and checksum.
 *
 * ## ONNX
 * {@link exportOnnx} (or {@link toOnnx}/{@link modelToOnnx} on an existing model) writes the same graph as ONNX
 * (opset 13) with a small built-in protobuf writer ({@link writeOnnx}); binary layers become ±1 float weights with
 * an exact sign (`Where(x < 0, −1, +1)`).
 * @module @ecgnn/export
 */

export { type ModelSpec, saveModel } from '@ecgnn/infer';
export {
  type ModelStorage,
  modelStorage,
  type SumOverTimeParts,
  sumOverTimeEmitter,
  type TensorGroupStorage,
} from './binary-net.js';
export { childPath, type EmitContext, type EmitOptions, type Emitter, type ModuleClass } from './context.js';
export {
  type AttentionEmitOptions,
  attentionEmitter,
  emitAttention,
} from './emitters/attention.js';
export { emitBinaryConv1d, emitBinaryLinear } from './emitters/binary.js';
export { opEmitter } from './emitters/common.js';
export { emitSequence } from './emitters/containers.js';
export { convAttrs, emitBatchNorm, emitConv1d, emitLinear } from './emitters/float.js';
export { ExportError } from './errors.js';
export {
  type ExportedModel,
  type ExportInput,
  type ExportOptions,
  exportModel,
  exportModelBytes,
} from './export.js';
export { batchNormScaleShift, foldBatchNormIntoConv } from './fold.js';
export {
  GraphBuilder,
  type NodeOptions,
  type SparseStorage,
  type StorageDType,
  type StoragePolicy,
  type TensorInfo,
  type TensorRole,
  type TensorStorage,
} from './graph.js';
export { exportOnnx, modelToOnnx } from './onnx/export.js';
export { type OnnxOptions, toOnnx } from './onnx/lower.js';
export {
  type OnnxAttribute,
  type OnnxInitializer,
  type OnnxModel,
  type OnnxNode,
  type OnnxValue,
  writeOnnx,
} from './onnx/writer.js';
export { exporterFor, registerExporter, registeredClasses } from './registry.js';
export type { ValueInfo } from './shapes.js';
