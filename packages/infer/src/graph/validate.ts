/** Whole-graph validation: named inputs and outputs, value names, topological order, shape inference of every node. */
import { ModelFormatError } from '../errors.js';
import type { GraphInputSpec, ModelHeader, NodeSpec, TensorEntry } from '../format/types.js';
import { opOf } from '../runtime/ops/index.js';
import {
  type InferredNode,
  MAX_ACTIVATION_ELEMENTS,
  NodeChecker,
  type ValueInfo,
} from '../runtime/ops/types.js';

/** A graph whose every node has been checked, with each value's shape. */
export interface CheckedGraph {
  /** Per node, in order: output info and normalised attributes. */
  nodes: InferredNode[];
  /** Every value name → its info (including the graph inputs). */
  values: Map<string, ValueInfo>;
  /** The graph inputs, in header order (per-sample shapes, all float). */
  inputs: GraphInputSpec[];
  /** Info of each graph output, in header order. */
  outputs: ValueInfo[];
  /** Info of the first graph output (the logits, float `[classes]`). */
  output: ValueInfo;
}

/** The header fields a graph is checked against. */
export type GraphHeader = Pick<ModelHeader, 'graph' | 'input' | 'classes' | 'windowing'>;

/**
 * Check one node against its input value infos and the tensor table with its op's entry in the op table (arity,
 * input kinds and rank, then the op's own check of tensors, attributes, shapes); return its output info and
 * normalised attributes. Throws {@link ModelFormatError} naming the node on any inconsistency.
 */
export function inferNode(
  node: NodeSpec,
  index: number,
  inputs: ValueInfo[],
  tensors: ReadonlyMap<string, TensorEntry>,
): InferredNode {
  const c: NodeChecker = new NodeChecker(node, index, tensors);
  const op = opOf(node.op);
  if (!op) c.fail('unknown op');
  const variadic = op.arity === 'variadic';
  if (variadic ? inputs.length < 1 : inputs.length !== op.arity)
    c.fail(`expects ${variadic ? 'at least 1' : op.arity} input(s), got ${inputs.length}`);
  if (node.outputs.length !== 1) c.fail(`expects exactly one output, got ${node.outputs.length}`);
  for (const v of inputs) {
    if (op.input !== 'any' && v.kind !== op.input)
      c.fail(
        op.input === 'bits'
          ? 'input must be packed bits (use a sign node first)'
          : 'input must be float, not packed bits',
      );
  }
  const x = inputs[0].shape;
  if (op.rank && !op.rank.includes(x.length))
    c.fail(`input must have rank ${op.rank.join(' or ')} per sample, got shape [${x}]`);
  const inferred = op.check(c, inputs);
  let n = 1;
  for (const d of inferred.output.shape) {
    if (!Number.isInteger(d) || d < 1)
      c.fail(`output shape [${inferred.output.shape}] has a non-positive dimension`);
    n *= d;
  }
  if (n > MAX_ACTIVATION_ELEMENTS)
    c.fail(`output of ${n} elements exceeds the limit ${MAX_ACTIVATION_ELEMENTS}`);
  return inferred;
}

function fail(msg: string): never {
  throw new ModelFormatError(msg);
}

/**
 * Check a graph (total activation size at most `maxTotalActivation` values). Its inputs: unique names; a `window`
 * input (at most one) has the shape `[channels, length]` of `header.input`; an `rr` input is a `[features]` vector
 * of its feature list (unique names) and needs beat windowing (its features belong to the beat a window is
 * centred on); an `external` input has rank 1 or 2 (the reader's check). Its nodes are in topological order
 * (every input produced before use), each value is defined once, every op's tensors/attrs/shapes agree (see
 * {@link inferNode}); every graph output is a produced float value (not a graph input), the first one the float
 * vector `[classes]`.
 */
export function checkGraph(
  header: GraphHeader,
  tensors: ReadonlyMap<string, TensorEntry>,
  maxTotalActivation = 1 << 25,
): CheckedGraph {
  const graph = header.graph;
  const values = new Map<string, ValueInfo>();
  let total = 0;
  /** Defines value `name` (once) as produced by `what`, counting it against the activation limit. */
  const define = (name: string, info: ValueInfo, what: string): void => {
    if (values.has(name)) fail(`${what}: value "${name}" is defined twice`);
    values.set(name, info);
    // The runtime allocates one buffer per value: bound their total before anything is allocated.
    total += info.shape.reduce((a, b) => a * b, 1);
    if (total > maxTotalActivation) fail(`${what}: activations exceed ${maxTotalActivation} values in total`);
  };
  let windows = 0;
  graph.inputs.forEach((inp, i) => {
    const what = `graph input ${i} ("${inp.name}")`;
    const src = inp.source;
    const [n, L] = inp.shape;
    if (src.kind === 'window') {
      windows++;
      const { channels, length } = header.input;
      if (n !== channels || L !== length)
        fail(
          `${what}: a window input must have the shape [${channels}, ${length}] of header.input, got [${inp.shape}]`,
        );
    } else if (src.kind === 'rr') {
      const F = src.features.length;
      if (n !== F || L !== undefined)
        fail(`${what}: an rr input must have the shape [${F}] (one per feature), got [${inp.shape}]`);
      if (new Set(src.features).size !== F) fail(`${what}: rr features are listed twice`);
      if (header.windowing.mode !== 'beat') fail(`${what}: rr inputs need beat windowing`);
    }
    define(inp.name, { kind: 'float', shape: inp.shape.slice() }, what);
  });
  if (windows > 1) fail(`graph has ${windows} window inputs; at most one (header.input describes it)`);
  const nodes = graph.nodes.map((node, i) => {
    const what = `graph node ${i} (${node.op})`;
    const inferred = inferNode(
      node,
      i,
      node.inputs.map(
        (name) => values.get(name) ?? fail(`${what}: input "${name}" is not defined before use`),
      ),
      tensors,
    );
    for (const name of node.outputs) define(name, inferred.output, what);
    return inferred;
  });
  const seen = new Set<string>();
  const outputs = graph.outputs.map((name, k) => {
    const v = values.get(name);
    if (!v || graph.inputs.some((x) => x.name === name))
      fail(`graph output "${name}" is never produced by a node`);
    if (seen.has(name)) fail(`graph output "${name}" is listed twice`);
    seen.add(name);
    if (v.kind !== 'float') fail(`graph output "${name}" is packed bits; outputs must be float`);
    if (k === 0 && (v.shape.length !== 1 || v.shape[0] !== header.classes.length)) {
      fail(
        `graph output "${name}" has ${v.kind} shape [${v.shape}], expected float [${header.classes.length}] (one per class)`,
      );
    }
    return v;
  });
  return { nodes, values, inputs: graph.inputs, outputs, output: outputs[0] };
}
