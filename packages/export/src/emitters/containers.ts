/**
 * Emitters of the containers and skip connections: Sequential (children in order, with BatchNorm folding and
 * binary threshold folding across neighbours), DepthwiseSeparableConv1d, Residual (add), ConcatSkip and
 * Parallel (concat or add).
 */
import { nn } from '@ecgnn/core';
import { childPath, type EmitContext, type Emitter, type ModuleClass } from '../context.js';
import { atPath, ExportError } from '../errors.js';
import { foldBinaryBlock } from './binary.js';
import { batchedAxis, single } from './common.js';
import { emitConv1d, emitLinear } from './float.js';

type Child = readonly [string, nn.AnyModule];

/**
 * Emits `children` in order on `x` (the body of a Sequential), fusing neighbours where that is exact:
 * a Conv1d, Linear or DepthwiseSeparableConv1d followed by an evaluation-mode BatchNorm1d becomes one layer with
 * the BatchNorm folded in (`options.foldBatchNorm`), and a binary convolution's epilogue followed by a binary
 * layer becomes integer thresholds (`options.foldBinaryThresholds`, see `foldBinaryBlock`). Everything else goes
 * through `ctx.emit`, one child at a time.
 */
export function emitSequence(ctx: EmitContext, children: readonly Child[], x: string, path: string): string {
  let v = x;
  for (let i = 0; i < children.length; i++) {
    const [name, m] = children[i];
    const p = childPath(path, name);
    const next = children[i + 1];
    const bn =
      ctx.options.foldBatchNorm && next !== undefined && next[1] instanceof nn.BatchNorm1d
        ? { module: next[1], path: childPath(path, next[0]) }
        : undefined;
    if (bn && m.constructor === nn.Conv1d) {
      v = emitConv1d(ctx, m as nn.Conv1d, v, p, bn);
      i++;
    } else if (bn && m.constructor === nn.Linear) {
      v = emitLinear(ctx, m as nn.Linear, v, p, bn);
      i++;
    } else if (bn && m.constructor === nn.DepthwiseSeparableConv1d) {
      const dsc = m as nn.DepthwiseSeparableConv1d;
      v = ctx.emit(dsc.depthwise, [v], childPath(p, 'depthwise'));
      v = emitConv1d(ctx, dsc.pointwise, v, childPath(p, 'pointwise'), bn);
      i++;
    } else {
      const folded = ctx.options.foldBinaryThresholds ? foldBinaryBlock(ctx, children, i, v, path) : null;
      if (folded) {
        v = folded.value;
        i = folded.next - 1;
      } else v = ctx.emit(m, [v], p);
    }
  }
  return v;
}

const sequential: Emitter<nn.Sequential> = (ctx, m, inputs, path) =>
  emitSequence(ctx, [...m.namedChildren()], single(inputs, path, 'Sequential'), path);

const depthwiseSeparable: Emitter<nn.DepthwiseSeparableConv1d> = (ctx, m, inputs, path) => {
  const x = single(inputs, path, 'DepthwiseSeparableConv1d');
  const d = ctx.emit(m.depthwise, [x], childPath(path, 'depthwise'));
  return ctx.emit(m.pointwise, [d], childPath(path, 'pointwise'));
};

/** Adds two or more values with `add` nodes (left to right, as core sums Parallel branches). */
function addAll(ctx: EmitContext, values: readonly string[], path: string): string {
  let s = values[0];
  for (let i = 1; i < values.length; i++) {
    const [a, b] = [ctx.graph.shape(s), ctx.graph.shape(values[i])];
    if (a.length !== b.length || a.some((d, k) => d !== b[k])) {
      throw new ExportError(atPath(path, `cannot add values of shapes [${a}] and [${b}]`));
    }
    s = ctx.graph.node('add', [s, values[i]], values.length > 2 ? `${path}.add${i}` : `${path}.add`);
  }
  return s;
}

/** Concatenates values along batched axis `axis`, which must be the channel (feature) axis 1. */
function concatAll(ctx: EmitContext, values: readonly string[], axis: number, path: string): string {
  const rank = ctx.graph.shape(values[0]).length;
  if (batchedAxis(axis, rank) !== 1) {
    throw new ExportError(
      atPath(
        path,
        `concatenation along axis ${axis} of a rank-${rank + 1} batch; @ecgnn/infer concatenates channels (axis 1)`,
      ),
    );
  }
  return ctx.graph.node('concat', [...values], `${path}.concat`);
}

const residual: Emitter<nn.Residual> = (ctx, m, inputs, path) => {
  const x = single(inputs, path, 'Residual');
  const y = ctx.emit(m.body, [x], childPath(path, 'body'));
  const s = m.shortcut === null ? x : ctx.emit(m.shortcut, [x], childPath(path, 'shortcut'));
  return addAll(ctx, [y, s], path);
};

const concatSkip: Emitter<nn.ConcatSkip> = (ctx, m, inputs, path) => {
  const x = single(inputs, path, 'ConcatSkip');
  return concatAll(ctx, [x, ctx.emit(m.body, [x], childPath(path, 'body'))], m.axis, path);
};

const parallel: Emitter<nn.Parallel> = (ctx, m, inputs, path) => {
  const x = single(inputs, path, 'Parallel');
  const ys = [...m.branches].map((b, i) => ctx.emit(b, [x], childPath(path, `branches.${i}`)));
  return m.combine === 'concat' ? concatAll(ctx, ys, m.axis, path) : addAll(ctx, ys, path);
};

/** The container emitters, by module class. */
export const CONTAINER_EMITTERS: ReadonlyArray<readonly [ModuleClass, Emitter]> = [
  [nn.Sequential, sequential as Emitter],
  [nn.DepthwiseSeparableConv1d, depthwiseSeparable as Emitter],
  [nn.Residual, residual as Emitter],
  [nn.ConcatSkip, concatSkip as Emitter],
  [nn.Parallel, parallel as Emitter],
];

export { addAll, concatAll };
