/** What the compiler knows of a loaded model, and the {@link BindContext} it gives an op for one node. */
import type { ModelFile } from '../format/reader.js';
import type { KernelChoice } from './kernels.js';
import type { BindContext, Value } from './ops/types.js';
import type { Weights } from './weights.js';

/** A validated model file with its decoded weights and chosen kernels. */
export interface ModelParts {
  file: ModelFile;
  weights: Weights;
  choice: KernelChoice;
}

/** The context binding node `index` to the buffers `ins` → `out` (see {@link BindContext}). */
export function bindContext(
  parts: ModelParts,
  index: number,
  ins: Value[],
  out: Value,
  reluAfter = false,
): BindContext {
  const node = parts.file.header.graph.nodes[index];
  const { weights, choice } = parts;
  const name = (role: string): string | undefined => node.tensors?.[role];
  return {
    node,
    index,
    attrs: parts.file.graph.nodes[index].attrs,
    ins,
    out,
    kernels: choice.kernels,
    reference: choice.reference,
    wasm: choice.wasm,
    reluAfter,
    tensor: (role) => {
      const n = name(role);
      return n === undefined ? undefined : weights.tensor(n);
    },
    floats: (role) => {
      const n = name(role);
      return n === undefined ? null : weights.floats(n);
    },
    derive: (purpose, make) => weights.derive(`${index}:${purpose}`, make),
  };
}
