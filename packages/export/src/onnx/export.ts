/** {@link exportOnnx}: a core `Module` → ONNX bytes, through the same graph as the @ecgnn/infer file. */
import type { nn } from '@ecgnn/core';
import type { ModelFile, ModelSpec } from '@ecgnn/infer';
import { type ExportOptions, exportModel } from '../export.js';
import { type OnnxOptions, toOnnx } from './lower.js';
import { writeOnnx } from './writer.js';

/**
 * Exports `module` to ONNX bytes: {@link exportModel} with `opts`, then {@link toOnnx} on the resulting model
 * (so the ONNX model runs exactly what the @ecgnn/infer file runs, binary layers as ±1 floats).
 */
export function exportOnnx(module: nn.AnyModule, opts: ExportOptions, onnx: OnnxOptions = {}): Uint8Array {
  return writeOnnx(toOnnx(exportModel(module, opts), onnx));
}

/** ONNX bytes of an @ecgnn/infer model (a spec, file bytes or a read file); see {@link toOnnx}. */
export function modelToOnnx(model: Uint8Array | ModelSpec | ModelFile, onnx: OnnxOptions = {}): Uint8Array {
  return writeOnnx(toOnnx(model, onnx));
}
