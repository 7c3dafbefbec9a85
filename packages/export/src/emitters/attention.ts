/** Emitters of the attention layers: SqueezeExcitation1d and (single-head) MultiheadAttention. */
import { nn } from '@ecgnn/core';
import { childPath, type EmitContext, type Emitter, type ModuleClass } from '../context.js';
import { atPath, ExportError } from '../errors.js';
import { floats, single } from './common.js';

const squeezeExcitation: Emitter<nn.SqueezeExcitation1d> = (ctx, m, inputs, path) => {
  const x = single(inputs, path, 'SqueezeExcitation1d');
  const shape = ctx.graph.shape(x);
  if (shape.length !== 2 || shape[0] !== m.channels) {
    throw new ExportError(atPath(path, `SqueezeExcitation1d(${m.channels}) on a value of shape [${shape}]`));
  }
  const g = ctx.graph;
  const C = m.channels;
  const S = m.squeezeChannels;
  const fc1 = childPath(path, 'fc1');
  const fc2 = childPath(path, 'fc2');
  const tensors: Record<string, string> = {
    w1: g.floatTensor(`${fc1}.weight`, [S, C], floats(m.fc1.weight), 'weight'),
    w2: g.floatTensor(`${fc2}.weight`, [C, S], floats(m.fc2.weight), 'weight'),
  };
  if (m.fc1.bias) tensors.b1 = g.floatTensor(`${fc1}.bias`, [S], floats(m.fc1.bias), 'param');
  if (m.fc2.bias) tensors.b2 = g.floatTensor(`${fc2}.bias`, [C], floats(m.fc2.bias), 'param');
  return g.node('squeezeExcitation', [x], path, { tensors });
};

/** Options of {@link emitAttention}. */
export interface AttentionEmitOptions {
  /** Causal self-attention (the `isCausal` the model passes when calling the layer; default false). */
  causal?: boolean;
}

/**
 * Single-head self-attention `mha` on a channels-first `[E, L]` value: one `attention` node (the packed
 * in-projection split into wq, wk, wv and their biases) followed by the output projection as a 1×1 `conv1d`.
 * Core's layer is batch-first (`[N, L, E]`) while @ecgnn/infer's graph is channels-first throughout, so the
 * module that calls the layer (transposing around it) registers an emitter that calls this one on the
 * untransposed value. infer's attention has one head, no mask and no dropout: `numHeads > 1` throws.
 */
export function emitAttention(
  ctx: EmitContext,
  mha: nn.MultiheadAttention,
  x: string,
  path: string,
  opts: AttentionEmitOptions = {},
): string {
  const E = mha.embedDim;
  const shape = ctx.graph.shape(x);
  if (shape.length !== 2 || shape[0] !== E) {
    throw new ExportError(
      atPath(
        path,
        `MultiheadAttention(embedDim ${E}) needs a channels-first [${E}, L] value, got [${shape}]`,
      ),
    );
  }
  if (mha.numHeads !== 1) {
    throw new ExportError(
      atPath(path, `MultiheadAttention with ${mha.numHeads} heads: @ecgnn/infer's attention op has one head`),
    );
  }
  const g = ctx.graph;
  const w = floats(mha.inProjWeight);
  const b = mha.inProjBias ? floats(mha.inProjBias) : null;
  const tensors: Record<string, string> = {};
  ['q', 'k', 'v'].forEach((name, i) => {
    tensors[`w${name}`] = g.floatTensor(
      `${path}.w${name}`,
      [E, E],
      w.subarray(i * E * E, (i + 1) * E * E),
      'weight',
    );
    if (b)
      tensors[`b${name}`] = g.floatTensor(`${path}.b${name}`, [E], b.subarray(i * E, (i + 1) * E), 'param');
  });
  const a = g.node('attention', [x], `${path}.attention`, {
    attrs: { causal: opts.causal ? true : undefined },
    tensors,
  });
  const out = mha.outProj;
  const outPath = childPath(path, 'outProj');
  const proj: Record<string, string> = {
    weight: g.floatTensor(`${outPath}.weight`, [E, E, 1], floats(out.weight), 'weight'),
  };
  if (out.bias) proj.bias = g.floatTensor(`${outPath}.bias`, [E], floats(out.bias), 'param');
  return g.node('conv1d', [a], outPath, { tensors: proj });
}

/**
 * An emitter for MultiheadAttention with fixed call options (register it for a module instance that the model
 * calls with `isCausal: true`, through `exportModel`'s `emitters` option).
 */
export function attentionEmitter(opts: AttentionEmitOptions = {}): Emitter<nn.MultiheadAttention> {
  return (ctx, m, inputs, path) =>
    emitAttention(ctx, m, single(inputs, path, 'MultiheadAttention'), path, opts);
}

/** The attention emitters, by module class. */
export const ATTENTION_EMITTERS: ReadonlyArray<readonly [ModuleClass, Emitter]> = [
  [nn.SqueezeExcitation1d, squeezeExcitation as Emitter],
  [nn.MultiheadAttention, attentionEmitter() as Emitter],
];
