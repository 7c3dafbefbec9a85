/** Whole-graph validation: value names, topological order, shape inference of every node. */
import { ModelFormatError } from '../errors.js';
import type { GraphSpec, InputSpec, TensorEntry } from '../format/types.js';
import { type InferredNode, inferNode, type ValueInfo } from './ops.js';

/** A graph whose every node has been checked, with each value's shape. */
export interface CheckedGraph {
  /** Per node, in order: output info and normalised attributes. */
  nodes: InferredNode[];
  /** Every value name → its info (including the graph input). */
  values: Map<string, ValueInfo>;
  /** Info of the graph output. */
  output: ValueInfo;
}

/**
 * Check a graph (total activation size at most `maxTotalActivation` values): nodes are in topological order (every input produced before use), each value is produced
 * once, every op's tensors/attrs/shapes agree (see {@link inferNode}), and the graph output is produced and
 * is a float vector `[classes]`.
 */
export function checkGraph(
  graph: GraphSpec,
  input: InputSpec,
  tensors: ReadonlyMap<string, TensorEntry>,
  classes: number,
  maxTotalActivation = 1 << 25,
): CheckedGraph {
  let total = input.channels * input.length;
  if (total > maxTotalActivation) {
    throw new ModelFormatError(
      `input window of ${total} values exceeds the activation limit ${maxTotalActivation}`,
    );
  }
  const values = new Map<string, ValueInfo>();
  values.set(graph.input, { kind: 'float', shape: [input.channels, input.length] });
  const nodes: InferredNode[] = [];
  graph.nodes.forEach((node, i) => {
    const ins: ValueInfo[] = [];
    for (const name of node.inputs) {
      const v = values.get(name);
      if (!v)
        throw new ModelFormatError(`graph node ${i} (${node.op}): input "${name}" is not defined before use`);
      ins.push(v);
    }
    const inferred = inferNode(node, i, ins, tensors);
    for (const name of node.outputs) {
      if (values.has(name))
        throw new ModelFormatError(`graph node ${i} (${node.op}): value "${name}" is produced twice`);
      values.set(name, inferred.output);
    }
    nodes.push(inferred);
    // The runtime allocates one buffer per value: bound their total before anything is allocated.
    total += inferred.output.shape.reduce((a, b) => a * b, 1);
    if (total > maxTotalActivation) {
      throw new ModelFormatError(
        `graph node ${i} (${node.op}): activations exceed ${maxTotalActivation} values in total`,
      );
    }
  });
  const out = values.get(graph.output);
  if (!out) throw new ModelFormatError(`graph output "${graph.output}" is never produced`);
  if (out.kind !== 'float' || out.shape.length !== 1 || out.shape[0] !== classes) {
    throw new ModelFormatError(
      `graph output "${graph.output}" has ${out.kind} shape [${out.shape}], expected float [${classes}] (one per class)`,
    );
  }
  return { nodes, values, output: out };
}
