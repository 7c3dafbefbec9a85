/**
 * Emitters of the binary layers (BinaryConv1d, BinaryLinear), following THE binary conventions of
 * `@ecgnn/kernels` (sign(0) = +1, bit 1 = −1, explicit pad value, integer thresholds).
 *
 * A layer's effective weights are read through its public `quantizedWeight()` (q_w(W), times α per output
 * channel with `scale: 'channel'`, times the pruning mask): each output row is then ±α_o (α_o = 1 unscaled).
 * - Sign input and sign weights: `sign` (unless the value is already bits) → `binaryConv1d`/`binaryLinear` with
 *   `bits` weights (integer dots), then a per-channel affine `batchNorm` node (mean 0, var 1, eps 0: y·α + b)
 *   only when α ≠ 1 or there is a bias.
 * - Float input, binary weights (a first layer): an ordinary `conv1d`/`linear` with `bits` weights (±α floats
 *   when scaled).
 * - Threshold folding ({@link foldBinaryBlock}, in a Sequential): `BinaryConv1d → [MaxPool1d] → elementwise…`
 *   followed by a binary layer with a sign input quantizer becomes ONE `binaryConv1d` with the pool attribute and
 *   int32 thresholds (packed-bit output), the next layer reading those bits directly. The thresholds come from
 *   evaluating the epilogue with @ecgnn/core itself on every reachable integer dot (`foldSignByEvaluation`), so
 *   the folded sign equals the one core computes, bit for bit (for unscaled layers; with α the dot is y·α in
 *   float32, which core's sum of ±α terms matches up to rounding).
 */
import { nn, type Tensor, tensor } from '@ecgnn/core';
import { foldSignByEvaluation, type SignThresholds } from '@ecgnn/kernels';
import { childPath, type EmitContext, type Emitter, type ModuleClass } from '../context.js';
import { atPath, ExportError } from '../errors.js';
import { floats, single } from './common.js';
import { convAttrs } from './float.js';

type BinaryLayer = nn.BinaryConv1d | nn.BinaryLinear;

/** The effective weights of a binary layer, analysed per output row. */
interface BinaryWeights {
  /** q_w(W)·α (·mask), row-major like the latent weight. */
  values: Float32Array;
  /** α_o per output row (the common |value| of the row's non-zero weights; 0 for an all-zero row). */
  alpha: Float32Array;
  /** Every α_o is 1: the weights are exactly ±1 (or 0 when pruned). */
  unit: boolean;
  /** Some weights are 0 next to ±α_o ones (a pruned layer's ternary weights). */
  ternary: boolean;
}

function binaryWeights(m: BinaryLayer, outputs: number, path: string): BinaryWeights | null {
  if (m.weightQuantizer === null) return null;
  const values = floats(m.quantizedWeight());
  const per = values.length / outputs;
  const alpha = new Float32Array(outputs);
  let ternary = false;
  for (let o = 0; o < outputs; o++) {
    let a = 0;
    for (let j = 0; j < per; j++) a = Math.max(a, Math.abs(values[o * per + j]));
    for (let j = 0; j < per; j++) {
      const v = Math.abs(values[o * per + j]);
      if (v === 0 && a !== 0) ternary = true;
      else if (v !== a) {
        throw new ExportError(
          atPath(
            path,
            `binary weights of output ${o} are not ±α (found |w| = ${v} and ${a}): unexpected quantizer`,
          ),
        );
      }
    }
    alpha[o] = a;
  }
  return { values, alpha, unit: alpha.every((a) => a === 1), ternary };
}

/** Sign bits of the weights as a `bits` tensor (exact ±1 storage). */
function bitsTensor(ctx: EmitContext, name: string, shape: readonly number[], values: Float32Array): string {
  return ctx.graph.exactTensor({ name, shape: [...shape], data: values, dtype: 'bits' });
}

/** Float weights stored exactly (float32, sparse when that is smaller): ±α and ternary weights. */
function exactFloatTensor(
  ctx: EmitContext,
  name: string,
  shape: readonly number[],
  values: Float32Array,
): string {
  return ctx.graph.exactTensor({ name, shape: [...shape], data: values });
}

/** `y·α + b` per channel as a `batchNorm` node (mean 0, var 1, eps 0), or `y` itself when α = 1 and b = 0. */
function affine(
  ctx: EmitContext,
  y: string,
  alpha: Float32Array,
  bias: Float32Array | null,
  unit: boolean,
  path: string,
): string {
  if (unit && bias === null) return y;
  const C = alpha.length;
  const g = ctx.graph;
  const tensors: Record<string, string> = {
    mean: g.exactTensor({ name: `${path}.affine.mean`, shape: [C], data: new Float32Array(C) }),
    var: g.exactTensor({ name: `${path}.affine.var`, shape: [C], data: new Float32Array(C).fill(1) }),
  };
  if (!unit) tensors.weight = g.exactTensor({ name: `${path}.alpha`, shape: [C], data: alpha });
  if (bias) tensors.bias = g.floatTensor(`${path}.bias`, [C], bias, 'param');
  return g.node('batchNorm', [y], `${path}.affine`, { attrs: { eps: 0 }, tensors });
}

/** Why a BinaryConv1d cannot take a packed-bit input, or null when it can. */
function notFullyBinary(m: nn.BinaryConv1d, w: BinaryWeights | null): string | null {
  if (w === null)
    return 'a sign input quantizer with float weights (weightQuantizer none) has no @ecgnn/infer op';
  if (w.ternary) return 'pruned binary weights are ternary ({−1, 0, +1}); packed bits hold ±1 only';
  if (m.hyper.groups !== 1) return `binaryConv1d has no groups (groups ${m.hyper.groups})`;
  if (m.hyper.padValue !== 0 && m.hyper.padValue !== 1) {
    return `binaryConv1d pads with +1 or 0 only (padValue ${m.hyper.padValue})`;
  }
  return null;
}

/** The packed-bit form of value `x` (a `sign` node unless it already is bits). */
function signed(ctx: EmitContext, x: string, path: string): string {
  return ctx.graph.info(x).kind === 'bits' ? x : ctx.graph.node('sign', [x], `${path}.sign`);
}

/** Integer thresholds folded into a binary convolution, and the max pool on its dots before them. */
interface FoldedEpilogue {
  pool?: { kernelSize: number; stride: number };
  thresholds: SignThresholds;
}

/** A BinaryConv1d on `x` (optionally with a folded epilogue: packed-bit output). */
export function emitBinaryConv1d(
  ctx: EmitContext,
  m: nn.BinaryConv1d,
  x: string,
  path: string,
  folded?: FoldedEpilogue,
): string {
  const g = ctx.graph;
  const [C] = g.shape(x);
  if (C !== m.inChannels) {
    throw new ExportError(
      atPath(path, `BinaryConv1d expects ${m.inChannels} input channels, the value has ${C}`),
    );
  }
  const w = binaryWeights(m, m.outChannels, path);
  const bias = m.bias ? floats(m.bias) : null;
  const shape = m.weight.shape;
  if (m.inputQuantizer === null) {
    if (g.info(x).kind === 'bits')
      throw new ExportError(atPath(path, 'a float-input BinaryConv1d got packed bits'));
    const values = w ? w.values : floats(m.quantizedWeight());
    const weight =
      w?.unit && !w.ternary
        ? bitsTensor(ctx, `${path}.weight`, shape, values)
        : exactFloatTensor(ctx, `${path}.weight`, shape, values);
    const tensors: Record<string, string> = { weight };
    if (bias) tensors.bias = g.floatTensor(`${path}.bias`, [m.outChannels], bias, 'param');
    return g.node('conv1d', [x], path, { attrs: convAttrs(m.hyper), tensors });
  }
  const why = notFullyBinary(m, w);
  if (why !== null || w === null) throw new ExportError(atPath(path, `BinaryConv1d: ${why}`));
  const attrs = { ...convAttrs(m.hyper), groups: undefined, padValue: m.hyper.padValue, pool: folded?.pool };
  const tensors: Record<string, string> = { weight: bitsTensor(ctx, `${path}.weight`, shape, w.values) };
  if (folded) {
    const O = m.outChannels;
    tensors.threshold = g.exactTensor({
      name: `${path}.threshold`,
      shape: [O],
      data: folded.thresholds.threshold,
      dtype: 'int32',
    });
    tensors.direction = g.exactTensor({
      name: `${path}.direction`,
      shape: [O],
      data: Float32Array.from(folded.thresholds.direction),
      sparse: false,
    });
  }
  const y = g.node('binaryConv1d', [signed(ctx, x, path)], path, { attrs, tensors });
  return folded ? y : affine(ctx, y, w.alpha, bias, w.unit, path);
}

/** A BinaryLinear on a `[F]` value. */
export function emitBinaryLinear(ctx: EmitContext, m: nn.BinaryLinear, x: string, path: string): string {
  const g = ctx.graph;
  const shape = g.shape(x);
  if (shape.length !== 1 || shape[0] !== m.inFeatures) {
    throw new ExportError(atPath(path, `BinaryLinear(${m.inFeatures} → …) on a value of shape [${shape}]`));
  }
  const w = binaryWeights(m, m.outFeatures, path);
  const bias = m.bias ? floats(m.bias) : null;
  const wShape = [m.outFeatures, m.inFeatures];
  if (m.inputQuantizer === null) {
    const values = w ? w.values : floats(m.quantizedWeight());
    const weight =
      w?.unit && !w.ternary
        ? bitsTensor(ctx, `${path}.weight`, wShape, values)
        : exactFloatTensor(ctx, `${path}.weight`, wShape, values);
    const tensors: Record<string, string> = { weight };
    if (bias) tensors.bias = g.floatTensor(`${path}.bias`, [m.outFeatures], bias, 'param');
    return g.node('linear', [x], path, { tensors });
  }
  if (w === null) {
    throw new ExportError(
      atPath(path, 'BinaryLinear with a sign input and float weights has no @ecgnn/infer op'),
    );
  }
  if (w.ternary) {
    throw new ExportError(
      atPath(path, 'pruned BinaryLinear weights are ternary ({−1, 0, +1}); packed bits hold ±1 only'),
    );
  }
  const weight = bitsTensor(ctx, `${path}.weight`, wShape, w.values);
  const y = g.node('binaryLinear', [signed(ctx, x, path)], path, { tensors: { weight } });
  return affine(ctx, y, w.alpha, bias, w.unit, path);
}

const binaryConv: Emitter<nn.BinaryConv1d> = (ctx, m, inputs, path) =>
  emitBinaryConv1d(ctx, m, single(inputs, path, 'BinaryConv1d'), path);

const binaryLinear: Emitter<nn.BinaryLinear> = (ctx, m, inputs, path) =>
  emitBinaryLinear(ctx, m, single(inputs, path, 'BinaryLinear'), path);

/** The binary-layer emitters, by module class. */
export const BINARY_EMITTERS: ReadonlyArray<readonly [ModuleClass, Emitter]> = [
  [nn.BinaryConv1d, binaryConv as Emitter],
  [nn.BinaryLinear, binaryLinear as Emitter],
];

/** Per-element modules an epilogue may hold (each output element a function of the same input element). */
const ELEMENTWISE: readonly ModuleClass[] = [
  nn.BatchNorm1d,
  nn.PReLU,
  nn.ReLU,
  nn.LeakyReLU,
  nn.Sigmoid,
  nn.Tanh,
  nn.Hardtanh,
  nn.ELU,
  nn.GELU,
  nn.SiLU,
  nn.Softplus,
  nn.Identity,
  nn.Dropout,
];

function isElementwise(m: nn.AnyModule): boolean {
  if (m instanceof nn.BatchNorm1d && (m.runningMean === null || m.runningVar === null)) return false;
  return ELEMENTWISE.some((c) => m.constructor === c);
}

/** True when `m` is a binary convolution that reads packed bits (sign input quantizer, ±1 weights, …). */
function readsBits(m: nn.AnyModule | undefined): m is nn.BinaryConv1d {
  if (!(m instanceof nn.BinaryConv1d) || m.inputQuantizer === null || m.weightQuantizer === null)
    return false;
  return notFullyBinary(m, binaryWeights(m, m.outChannels, '')) === null;
}

/**
 * Threshold folding in a Sequential at child `i` (see the file comment): when `children[i]` is a fully binary
 * BinaryConv1d, followed by an optional unpadded MaxPool1d and per-element modules, and then by a BinaryConv1d
 * reading bits, emits the conv with folded thresholds and returns its (bits) output and the index of the next
 * child to emit (the binary conv that reads it). Returns null when the pattern does not apply or the epilogue
 * is not monotone on the reachable dots.
 */
export function foldBinaryBlock(
  ctx: EmitContext,
  children: ReadonlyArray<readonly [string, nn.AnyModule]>,
  i: number,
  x: string,
  path: string,
): { value: string; next: number } | null {
  const conv = children[i][1];
  if (!readsBits(conv)) return null;
  let j = i + 1;
  let pool: FoldedEpilogue['pool'];
  const p = children[j]?.[1];
  if (p instanceof nn.MaxPool1d && p.padding === 0) {
    pool = { kernelSize: p.kernelSize, stride: p.stride };
    j++;
  }
  const epilogue: nn.AnyModule[] = [];
  while (j < children.length && isElementwise(children[j][1]) && !readsBits(children[j][1])) {
    epilogue.push(children[j][1]);
    j++;
  }
  if (!readsBits(children[j]?.[1])) return null;
  const thresholds = evaluateEpilogue(conv, epilogue);
  if (thresholds === null) return null;
  const value = emitBinaryConv1d(ctx, conv, x, childPath(path, children[i][0]), { pool, thresholds });
  return { value, next: j };
}

/**
 * Thresholds of `sign(epilogue(y·α + b))` over every reachable integer dot y ∈ [−n, n], n = inChannels·K (each
 * dot has at most n ±1 terms), computed by running the epilogue modules of @ecgnn/core on them; null when some
 * channel's sign is not monotone in y.
 */
function evaluateEpilogue(conv: nn.BinaryConv1d, epilogue: readonly nn.AnyModule[]): SignThresholds | null {
  const w = binaryWeights(conv, conv.outChannels, '');
  if (w === null) return null;
  const O = conv.outChannels;
  const n = conv.inChannels * conv.kernelSize;
  const span = 2 * n + 1;
  const bias = conv.bias ? floats(conv.bias) : null;
  const data = new Float32Array(O * span);
  for (let o = 0; o < O; o++) {
    for (let k = 0; k < span; k++) data[o * span + k] = (k - n) * w.alpha[o] + (bias ? bias[o] : 0);
  }
  let t: Tensor = tensor(data, [1, O, span], { dtype: 'float32' });
  for (const m of epilogue) t = m.forward(t) as Tensor;
  return foldSignByEvaluation(floats(t), O, -n, n);
}
