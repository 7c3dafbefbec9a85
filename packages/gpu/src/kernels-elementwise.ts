/**
 * Elementwise kernels on gpu.js: `unary`, `unaryBackward` (the ops below; erf, gelu and geluTanh stay on CPU)
 * and `binary` with NumPy broadcasting (every op but `pow`, whose edge cases GL does not follow). One thread per
 * output element; the broadcast index arithmetic is written out per rank, shape and strides.
 */
import type {
  BinaryKernelOp,
  FloatArray,
  Kernels,
  TypedArray,
  UnaryGradKernelOp,
  UnaryKernelOp,
} from '@ecgnn/kernels';
import { dispatch, type GpuContext, runOnDevice, storeOutput } from './context.js';
import { kernelSource, lit } from './source.js';

/** Source of the stable logistic σ(z) of the expression `z` (as the reference's `sigmoidScalar`). */
function sigmoidOf(z: string): string {
  return `(${z} >= 0 ? 1 / (1 + Math.exp(-(${z}))) : Math.exp(${z}) / (1 + Math.exp(${z})))`;
}

/**
 * Forward expressions of `v = x[i]` (`p0 = p[0]`, `p1 = p[1]`), as the reference computes them (stable sigmoid;
 * softplus as max(z, 0) + log(1 + e^(−|z|)); elu's expm1 as eᵛ − 1, the same to float32 rounding).
 */
const UNARY: Partial<Record<UnaryKernelOp, string>> = {
  neg: '-v',
  exp: 'Math.exp(v)',
  log: 'Math.log(v)',
  sqrt: 'Math.sqrt(v)',
  abs: 'Math.abs(v)',
  sign: 'v < 0 ? -1 : 1',
  tanh: 'Math.tanh(v)',
  sigmoid: sigmoidOf('v'),
  // max(x, 0) passing NaN through: NaN < 0 is false.
  relu: 'v < 0 ? 0 : v',
  square: 'v * v',
  reciprocal: '1 / v',
  leakyRelu: 'v > 0 ? v : v * p0',
  elu: 'v > 0 ? v : p0 * (Math.exp(v) - 1)',
  // min(max(v, p0), p1) for p0 ≤ p1 (p0 > p1 runs the reference) with NaN passed through: GLSL's min/max do not
  // propagate NaN (headless-gl gave clamp(NaN, −1, 1) = −1), comparisons with NaN are false.
  hardtanh: 'v > p1 ? p1 : (v < p0 ? p0 : v)',
  clamp: 'v > p1 ? p1 : (v < p0 ? p0 : v)',
  softplus: 'p0 * v > p1 ? v : (Math.max(p0 * v, 0) + Math.log(1 + Math.exp(-Math.abs(p0 * v)))) / p0',
  silu: `v * ${sigmoidOf('v')}`,
};

/**
 * Gradient expressions `gx[i]` from `v = x[i]`, `u = y[i]` (the forward output), `gv = g[i]`, `sv = σ(v)` and
 * `sz = σ(p0·v)`, PyTorch's values at the kinks (as the reference).
 */
const UNARY_GRAD: Partial<Record<UnaryGradKernelOp, string>> = {
  neg: '-gv',
  exp: 'gv * u',
  log: 'gv / v',
  sqrt: 'gv / (u * 2)',
  // g·sign(v) with sign(±0) = sign(NaN) = 0; the zero is p0 (= 0, passed at run time) so that no GL compiler folds
  // g·0 to +0: the product keeps IEEE's signed zero and NaN for g = NaN or ±∞, as the reference.
  abs: 'v > 0 ? gv : (v < 0 ? -gv : gv * p0)',
  sign: '0',
  tanh: 'gv * (1 - u * u)',
  sigmoid: 'gv * (u * (1 - u))',
  relu: 'gv * (v > 0 ? 1 : 0)',
  square: 'gv * (2 * v)',
  reciprocal: '-gv * (u * u)',
  leakyRelu: 'v > 0 ? gv : gv * p0',
  elu: 'v > 0 ? gv : gv * (u + p0)',
  hardtanh: 'v > p0 && v < p1 ? gv : 0',
  clamp: 'v >= p0 && v <= p1 ? gv : 0',
  softplus: 'p0 * v > p1 ? gv : gv * sz',
  silu: 'gv * sv * (1 + v * (1 - sv))',
  signSteIdentity: 'gv',
  signSteClipped: 'v >= -p0 && v <= p0 ? gv : 0',
  signSteTriangular: '1 - p0 * Math.abs(v) > 0 ? gv * 2 * p0 * (1 - p0 * Math.abs(v)) : 0',
};

/**
 * Binary expressions of `av`, `bv`. maximum/minimum pass NaN through: when neither comparison holds (a NaN
 * operand) the sum is NaN.
 */
const BINARY: Partial<Record<BinaryKernelOp, string>> = {
  add: 'av + bv',
  sub: 'av - bv',
  mul: 'av * bv',
  div: 'av / bv',
  maximum: 'av >= bv ? av : (bv > av ? bv : av + bv)',
  minimum: 'av <= bv ? av : (bv < av ? bv : av + bv)',
};

/** Source of `out[i] = expr` over a flat index, reading `x[i]` (`v`) and the parameters `p[0]`, `p[1]`. */
function unarySource(expr: string): string {
  return kernelSource(
    ['x', 'p'],
    `const v = x[this.thread.x];
  const p0 = p[0];
  const p1 = p[1];
  return ${expr};`,
  );
}

/**
 * Source of `gx[i] = expr` reading `x[i]` (`v`), `y[i]` (`u`), `g[i]` (`gv`), `p[0]`, `p[1]`, and σ(v) (`sv`),
 * σ(p0·v) (`sz`) when the expression uses them.
 */
function unaryGradSource(expr: string): string {
  const lines = ['const i = this.thread.x;', 'const v = x[i];', 'const u = y[i];', 'const gv = g[i];'];
  lines.push('const p0 = p[0];', 'const p1 = p[1];');
  if (/\bsv\b/.test(expr)) lines.push(`const sv = ${sigmoidOf('v')};`);
  if (/\bsz\b/.test(expr)) lines.push(`const sz = ${sigmoidOf('p0 * v')};`);
  lines.push(`return ${expr};`);
  return kernelSource(['x', 'y', 'g', 'p'], lines.join('\n  '));
}

/**
 * Source of a broadcast binary op: the flat output index is split over `outShape` (last dimension fastest) and
 * each coordinate contributes `coordinate·stride` to each operand's index (stride 0 on broadcast dimensions).
 */
function binarySource(
  expr: string,
  aStrides: readonly number[],
  bStrides: readonly number[],
  outShape: readonly number[],
): string {
  const lines = ['let rest_ = this.thread.x;', 'let ai = 0;', 'let bi = 0;'];
  for (let d = outShape.length - 1; d >= 0; d--) {
    const n = lit(outShape[d]);
    lines.push(`const c${d} = rest_ - Math.floor(rest_ / ${n}) * ${n};`);
    if (d > 0) lines.push(`rest_ = Math.floor(rest_ / ${n});`);
    if (aStrides[d] !== 0) lines.push(`ai += c${d} * ${lit(aStrides[d])};`);
    if (bStrides[d] !== 0) lines.push(`bi += c${d} * ${lit(bStrides[d])};`);
  }
  lines.push('const av = a[ai];', 'const bv = b[bi];', `return ${expr};`);
  return kernelSource(['a', 'b'], lines.join('\n  '));
}

/** The two scalar parameters as the `p` argument of a kernel (float32: infinities pass, no recompilation). */
function params(p0: number | undefined, p1: number | undefined): Float32Array {
  return Float32Array.of(p0 ?? 0, p1 ?? 0);
}

/** The elementwise kernels of the backend. */
export function elementwiseKernels(ctx: GpuContext): Pick<Kernels, 'unary' | 'unaryBackward' | 'binary'> {
  return {
    unary(op: UnaryKernelOp, x: TypedArray, out: TypedArray, p0?: number, p1?: number): void {
      const expr = UNARY[op];
      dispatch(
        ctx,
        'unary',
        [op, x, out, p0, p1],
        [x, out],
        expr === undefined
          ? `unary op '${op}'`
          : (op === 'clamp' || op === 'hardtanh') && (p0 ?? 0) > (p1 ?? 0)
            ? `${op} with min > max`
            : null,
        () => {
          const n = out.length;
          const make = () => ({ source: unarySource(expr as string), size: n });
          storeOutput(ctx, out, runOnDevice(ctx, 'unary', `${op},${n}`, make, [x, params(p0, p1)]));
        },
      );
    },
    unaryBackward(
      op: UnaryGradKernelOp,
      x: FloatArray,
      y: FloatArray,
      g: FloatArray,
      gx: FloatArray,
      p0?: number,
      p1?: number,
    ): void {
      const expr = UNARY_GRAD[op];
      dispatch(
        ctx,
        'unaryBackward',
        [op, x, y, g, gx, p0, p1],
        [x, y, g, gx],
        expr === undefined ? `unary gradient '${op}'` : null,
        () => {
          const n = gx.length;
          const make = () => ({ source: unaryGradSource(expr as string), size: n });
          const r = runOnDevice(ctx, 'unaryBackward', `${op},${n}`, make, [x, y, g, params(p0, p1)]);
          storeOutput(ctx, gx, r);
        },
      );
    },
    binary(
      op: BinaryKernelOp,
      a: TypedArray,
      aStrides: readonly number[],
      b: TypedArray,
      bStrides: readonly number[],
      out: TypedArray,
      outShape: readonly number[],
    ): void {
      const expr = BINARY[op];
      dispatch(
        ctx,
        'binary',
        [op, a, aStrides, b, bStrides, out, outShape],
        [a, b, out],
        expr === undefined ? `binary op '${op}'` : null,
        () => {
          const n = out.length;
          const key = `${op}|${outShape.join(',')}|${aStrides.join(',')}|${bStrides.join(',')}`;
          const make = () => ({
            source: binarySource(expr as string, aStrides, bStrides, outShape),
            size: n,
          });
          storeOutput(ctx, out, runOnDevice(ctx, 'binary', key, make, [a, b]));
        },
      );
    },
  };
}
