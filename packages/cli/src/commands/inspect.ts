/**
 * `ecgnn inspect <model>`: what an ecgnn model file holds — inputs, outputs, classes, layers with their output
 * shapes and tensors, the runtime's plan after fusion, stored parameters and bytes, and the provenance metadata.
 * Read with @ecgnn/infer's own reader (`readModel`) and runtime (`loadModel`), so what is shown is what runs.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type GraphInputSpec, loadModel, ModelFormatError, readModel } from '@ecgnn/infer';
import type { Command } from 'commander';
import { EXIT_OK, formatTable, printJson, println, type RunContext } from '../io.js';
import { withJsonOption } from '../options.js';

/** One graph node of {@link ModelInfo}. */
export interface LayerInfo {
  op: string;
  /** Output value name and its per-sample shape (`kind` `bits`: packed ±1 values). */
  output: { name: string; shape: number[]; kind: 'float' | 'bits' };
  /** Tensors the node reads: role → name, shape, storage dtype. */
  tensors: Record<string, { name: string; shape: number[]; dtype: string }>;
  /** Elements of those tensors. */
  parameters: number;
}

/** Everything `inspect` reports about a model file. */
export interface ModelInfo {
  file: string;
  /** File size. */
  bytes: number;
  /** Format version of the file (the 4 little-endian bytes after the 8-byte magic). */
  formatVersion: number;
  name: string | undefined;
  classes: string[];
  outputActivation: string;
  inputs: GraphInputSpec[];
  outputs: { name: string; shape: number[] }[];
  sampleRate: number;
  windowing: unknown;
  preprocessing: unknown;
  layers: LayerInfo[];
  /** Operators after load-time fusion, in execution order, and the kernel set each runs on. */
  plan: { op: string; kernels: string }[];
  /**
   * Stored tensors: their count, total elements (= the parameters of the exported graph, after the exporter's
   * folding, e.g. BatchNorm into conv), bytes in the file, and nonzeros of sparse-stored ones.
   */
  tensors: { count: number; parameters: number; bytes: number; byDtype: Record<string, number> };
  provenance: Record<string, unknown>;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Reads and describes the model file at `path`; errors name the file. */
export async function inspectModel(path: string): Promise<ModelInfo> {
  const file = resolve(path);
  const bytes = new Uint8Array(await readFile(file));
  let parsed: ReturnType<typeof readModel>;
  let model: ReturnType<typeof loadModel>;
  try {
    parsed = readModel(bytes);
    model = loadModel(bytes);
  } catch (e) {
    if (e instanceof ModelFormatError) throw new ModelFormatError(`${file}: ${e.message}`);
    throw e;
  }
  const { header, graph } = parsed;
  const entries = new Map(header.tensors.map((t) => [t.name, t]));
  const layers: LayerInfo[] = header.graph.nodes.map((n, i) => {
    const tensors: LayerInfo['tensors'] = {};
    let parameters = 0;
    for (const [role, name] of Object.entries(n.tensors ?? {})) {
      const t = entries.get(name)!;
      tensors[role] = { name, shape: t.shape, dtype: t.dtype };
      parameters += size(t.shape);
    }
    const out = graph.nodes[i].output;
    return {
      op: n.op,
      output: { name: n.outputs[0], shape: out.shape, kind: out.kind },
      tensors,
      parameters,
    };
  });
  const byDtype: Record<string, number> = {};
  for (const t of header.tensors) byDtype[t.dtype] = (byDtype[t.dtype] ?? 0) + size(t.shape);
  const m = model.metadata;
  return {
    file,
    bytes: bytes.byteLength,
    formatVersion: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true),
    name: m.name,
    classes: m.classes,
    outputActivation: m.outputActivation,
    inputs: m.inputs,
    outputs: m.outputs.map((name, i) => ({ name, shape: graph.outputs[i].shape })),
    sampleRate: m.input.sampleRate,
    windowing: m.windowing,
    preprocessing: m.preprocessing,
    layers,
    plan: m.plan.map((op, i) => ({ op, kernels: m.planKernels[i] })),
    tensors: {
      count: header.tensors.length,
      parameters: header.tensors.reduce((a, t) => a + size(t.shape), 0),
      bytes: header.tensors.reduce((a, t) => a + t.byteLength, 0),
      byDtype,
    },
    provenance: m.provenance,
  };
}

const shape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** The plain-text report of {@link inspectModel}. */
export function formatModelInfo(info: ModelInfo): string {
  const lines = [
    `${info.file}: ${info.bytes} bytes, format version ${info.formatVersion}${info.name ? `, model "${info.name}"` : ''}`,
    `classes (${info.classes.length}): ${info.classes.join(' ')}; output activation ${info.outputActivation}`,
    `sampling rate ${info.sampleRate} Hz; windowing ${JSON.stringify(info.windowing)}`,
    `preprocessing ${JSON.stringify(info.preprocessing)}`,
    'inputs:',
    ...info.inputs.map((i) => `  ${i.name} ${shape(i.shape)} source ${JSON.stringify(i.source)}`),
    'outputs:',
    ...info.outputs.map((o) => `  ${o.name} ${shape(o.shape)}`),
    `parameters: ${info.tensors.parameters} in ${info.tensors.count} tensors (${Object.entries(
      info.tensors.byDtype,
    )
      .map(([d, n]) => `${d} ${n}`)
      .join(', ')}), ${info.tensors.bytes} bytes of tensor data`,
    '',
    formatTable(
      ['#', 'op', 'output', 'shape', 'parameters', 'tensors'],
      info.layers.map((l, i) => [
        String(i),
        l.op,
        l.output.name,
        `${shape(l.output.shape)}${l.output.kind === 'bits' ? ' bits' : ''}`,
        String(l.parameters),
        Object.entries(l.tensors)
          .map(([role, t]) => `${role} ${shape(t.shape)} ${t.dtype}`)
          .join('; '),
      ]),
      'rllrrl',
    ),
    '',
    `plan after fusion (${info.plan.length} steps): ${info.plan.map((p) => `${p.op} (${p.kernels})`).join(' → ')}`,
    `provenance: ${Object.keys(info.provenance).length === 0 ? '(none)' : ''}`,
    ...Object.entries(info.provenance).map(
      ([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`,
    ),
  ];
  return lines.join('\n');
}

/** Registers `inspect` on `program`. */
export function registerInspect(program: Command, ctx: RunContext): void {
  withJsonOption(
    program
      .command('inspect')
      .description('describe a model file: inputs, outputs, classes, layers, parameters, bytes, metadata')
      .argument('<model>', 'model file (.ecgnn)'),
  ).action(async (path: string, o: { json?: boolean }) => {
    const info = await inspectModel(path);
    if (o.json) printJson(ctx.io, info);
    else println(ctx.io.out, formatModelInfo(info));
    ctx.code = EXIT_OK;
  });
}
