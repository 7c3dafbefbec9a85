/**
 * THE op table: every graph op by name, each with its shape check (run by the graph checker when a file is read)
 * and its binding to kernels (run by the compiler for the batch-1 and the batched programs alike). Adding an op
 * means adding one entry here.
 */
import { attention, squeezeExcitation } from './composite.js';
import { binaryConv1d, conv1d } from './conv.js';
import { binaryLinear, concat, linear } from './dense.js';
import {
  add,
  batchNorm,
  dropout,
  flatten,
  identity,
  leakyRelu,
  prelu,
  relu,
  sigmoid,
  sign,
  softmax,
  tanh,
} from './elementwise.js';
import { avgPool1d, globalAvgPool1d, globalMaxPool1d, maxPool1d, sumOverTime } from './pool.js';
import type { OpDef } from './types.js';

/** The op table (see the file comment). */
export const OP_TABLE = {
  conv1d,
  binaryConv1d,
  batchNorm,
  relu,
  prelu,
  leakyRelu,
  sigmoid,
  tanh,
  identity,
  dropout,
  maxPool1d,
  avgPool1d,
  globalAvgPool1d,
  globalMaxPool1d,
  sumOverTime,
  flatten,
  linear,
  binaryLinear,
  add,
  concat,
  squeezeExcitation,
  attention,
  softmax,
  sign,
} as const satisfies Readonly<Record<string, OpDef>>;

/** Name of a supported op. */
export type OpName = keyof typeof OP_TABLE;

/** Every op name the runtime implements (the keys of the op table, in its order). */
export const OPS = Object.keys(OP_TABLE) as readonly OpName[];

/** The op named `name`, or undefined for an unknown op. */
export function opOf(name: string): OpDef | undefined {
  return Object.hasOwn(OP_TABLE, name) ? OP_TABLE[name as OpName] : undefined;
}
