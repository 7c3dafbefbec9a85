/**
 * Weight initialisers, in place, driven by a seeded {@link Generator} so that a model built with the same
 * seed has identical weights. Formulas follow `torch.nn.init`.
 */
import { kernels } from '../backend/backend.js';
import type { FloatArray } from '../dtype.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import type { Tensor } from '../tensor.js';

/** Options shared by the random initialisers. */
export interface InitOptions {
  /** Generator to draw from; the global default (see `manualSeed`) when omitted. */
  generator?: Generator;
}

/** Non-linearities known to {@link calculateGain}. */
export type Nonlinearity = 'linear' | 'conv1d' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';

/**
 * The recommended gain for a non-linearity (torch.nn.init.calculate_gain): 1 for linear/conv/sigmoid,
 * 5/3 for tanh, √2 for ReLU, √(2 / (1 + a²)) for leaky ReLU with negative slope `a`, 3/4 for SELU.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const a = param ?? 0.01;
      return Math.sqrt(2 / (1 + a * a));
    }
    case 'selu':
      return 3 / 4;
  }
}

/**
 * Fan-in and fan-out of a weight: for `[out, in, ...kernel]`, fanIn = in·∏kernel and
 * fanOut = out·∏kernel (the receptive field size multiplies both).
 */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) {
    throw new ShapeError(
      `init: fan in/out need a tensor with at least 2 dimensions, got ${fmtShape(t.shape)}`,
    );
  }
  let receptive = 1;
  for (let i = 2; i < t.ndim; i++) receptive *= t.shape[i];
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

function gen(opts: InitOptions): Generator {
  return opts.generator ?? defaultGenerator();
}

/** Fills with U(low, high); returns `t`. */
export function uniform(t: Tensor, low = 0, high = 1, opts: InitOptions = {}): Tensor {
  if (!(low <= high)) throw new ValueError(`init.uniform: low ${low} must not exceed high ${high}`);
  kernels().randomUniform(t.data as FloatArray, gen(opts), low, high);
  return t;
}

/** Fills with N(mean, std²); returns `t`. */
export function normal(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  if (!(std >= 0)) throw new ValueError(`init.normal: std must be non-negative, got ${std}`);
  kernels().randomNormal(t.data as FloatArray, gen(opts), mean, std);
  return t;
}

/** Fills with `value`; returns `t`. */
export function constant(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  return t;
}

/** Fills with 0; returns `t`. */
export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

/** Fills with 1; returns `t`. */
export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

/** Options of the Kaiming (He) initialisers. */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU that follows (used only with 'leakyRelu'; default 0). */
  a?: number;
  /** Preserve the variance in the forward ('fanIn', default) or backward ('fanOut') pass. */
  mode?: 'fanIn' | 'fanOut';
  /** The non-linearity that follows (default 'leakyRelu', as PyTorch). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const fan = (opts.mode ?? 'fanIn') === 'fanIn' ? fanIn : fanOut;
  const gain = calculateGain(opts.nonlinearity ?? 'leakyRelu', opts.a ?? 0);
  return gain / Math.sqrt(fan);
}

/**
 * He et al. 2015 uniform: U(−b, b) with b = gain·√(3 / fan). PyTorch's default for Linear and Conv
 * weights is this with a = √5, which gives b = 1/√fanIn.
 */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform(t, -bound, bound, opts);
}

/** He et al. 2015 normal: N(0, std²) with std = gain / √fan. */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, opts), opts);
}

/** Options of the Xavier (Glorot) initialisers. */
export interface XavierOptions extends InitOptions {
  /** Scaling factor (default 1). */
  gain?: number;
}

/** Glorot & Bengio 2010 uniform: U(−b, b) with b = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform(t: Tensor, opts: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const bound = (opts.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -bound, bound, opts);
}

/** Glorot & Bengio 2010 normal: N(0, std²) with std = gain·√(2 / (fanIn + fanOut)). */
export function xavierNormal(t: Tensor, opts: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal(t, 0, (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), opts);
}
