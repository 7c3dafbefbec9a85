/**
 * Reductions and batch normalisation on gpu.js: `reduce` (sum, max, min without indices), `channelMoments`,
 * `batchNormForward`, `batchNormBackward`. Sums are compensated (Kahan) float32 sums on the device (the reference
 * sums in float64): about 2·2⁻²⁴·Σ|x| of error whatever the length. Per-channel
 * coefficients (C values) are computed on the host in float64 and passed as one small array.
 */
import type { FloatArray, Kernels, ReduceKernelOp, TypedArray } from '@ecgnn/kernels';
import {
  dispatch,
  freeValue,
  type GpuContext,
  iterationRefusal,
  onHost,
  readValue,
  runOnDevice,
  storeOutput,
} from './context.js';
import { decode, kernelSource, lit } from './source.js';

/**
 * Source of one compensated (Kahan) summation step `s += term` with compensation `comp`: the contract sums in
 * float64, the device has float32 only; Kahan's sum has an error bound of about 2·2⁻²⁴·Σ|x| whatever the length
 * (a plain float32 sum of 10⁶ terms drifts by ~1 %). GL compilers simplify `(s + y) − s` to `y` and so drop the
 * compensation (measured with headless-gl: 20,000 × 0.1 gave 1999.66): the product with `one[0]`, an argument
 * equal to 1 that the compiler cannot see, keeps the rounding error observable.
 */
function kahanStep(term: string): string {
  return `const yk = (${term}) - comp;
      const tk = s + yk;
      comp = ((tk * one[0]) - s) - yk;
      s = tk;`;
}

/** The `one` argument of the compensated sums (see {@link kahanStep}). */
const ONE = Float32Array.of(1);

/**
 * `out[o, j] = op_k x[o, k, j]`. max/min pass NaN through and keep the first NaN: once `best` is NaN it never
 * changes (`best == best` is false), a NaN `v` replaces a number.
 */
function reduceSource(op: ReduceKernelOp, outer: number, r: number, inner: number): string {
  const step =
    op === 'sum' ? kahanStep('v') : `if (s == s && (v != v || v ${op === 'max' ? '>' : '<'} s)) { s = v; }`;
  return kernelSource(
    ['x', 'one'],
    `${decode(['o', 'j'], [outer, inner])}
  const base = o * ${lit(r * inner)} + j;
  let s = ${op === 'sum' ? '0' : 'x[base]'};
  let comp = 0;
  for (let k = ${op === 'sum' ? 0 : 1}; k < ${lit(r)}; k++) {
    const v = x[base + k * ${lit(inner)}];
    ${step}
  }
  return s;`,
  );
}

/**
 * Per-channel sums over [batch, channels, inner]: thread `c` sums `term` for channel `c`, thread `C + c` sums
 * `term2` (when given). `term` reads `v = x[i]`, `gv = g[i]` and `coef[c]`, `coef[C + c]`.
 */
function channelSumSource(
  args: readonly string[],
  batch: number,
  channels: number,
  inner: number,
  term: string,
  term2: string | null,
): string {
  const pick = term2 === null ? term : `which == 0 ? ${term} : ${term2}`;
  return kernelSource(
    args,
    `const which = Math.floor(this.thread.x / ${lit(channels)});
  const c = this.thread.x - which * ${lit(channels)};
  const c0 = coef[c];
  const c1 = coef[${lit(channels)} + c];
  let s = 0;
  let comp = 0;
  for (let n = 0; n < ${lit(batch)}; n++) {
    const base = (n * ${lit(channels)} + c) * ${lit(inner)};
    for (let i = 0; i < ${lit(inner)}; i++) {
      const v = x[base + i];
      ${args.includes('g') ? 'const gv = g[base + i];' : ''}
      ${kahanStep(pick)}
    }
  }
  return s;`,
  );
}

/** `out[i] = expr` over [batch, channels, inner], `expr` reading `v = x[i]`, `gv = g[i]` and `coef[q·C + c]`. */
function perChannelSource(args: readonly string[], channels: number, inner: number, expr: string): string {
  return kernelSource(
    args,
    `const i = this.thread.x;
  const r = Math.floor(i / ${lit(inner)});
  const c = r - Math.floor(r / ${lit(channels)}) * ${lit(channels)};
  const v = x[i];
  ${args.includes('g') ? 'const gv = g[i];' : ''}
  const k0 = coef[c];
  const k1 = coef[${lit(channels)} + c];
  const k2 = coef[${lit(2 * channels)} + c];
  const k3 = coef[${lit(3 * channels)} + c];
  return ${expr};`,
  );
}

/** The reduction and batch-normalisation kernels of the backend. */
export function normKernels(
  ctx: GpuContext,
): Pick<Kernels, 'reduce' | 'channelMoments' | 'batchNormForward' | 'batchNormBackward'> {
  /** Per-channel sums (2 × C values: `term`, then `term2`) as float64. */
  const channelSums = (
    name: 'channelMoments' | 'batchNormBackward',
    args: Float32Array[],
    names: readonly string[],
    dims: [number, number, number],
    key: string,
    term: string,
    term2: string | null,
  ): Float64Array => {
    const [batch, channels, inner] = dims;
    const size = term2 === null ? channels : 2 * channels;
    const make = () => ({
      source: channelSumSource([...names, 'one'], batch, channels, inner, term, term2),
      size,
    });
    const sums = runOnDevice(ctx, name, `sums,${key}|${dims.join(',')}`, make, [...args, ONE]);
    const host = Float64Array.from(readValue(ctx, sums).subarray(0, size));
    freeValue(sums);
    return host;
  };
  return {
    reduce(
      op: ReduceKernelOp,
      x: TypedArray,
      out: TypedArray,
      outer: number,
      r: number,
      inner: number,
      argOut?: Int32Array,
    ): void {
      dispatch(
        ctx,
        'reduce',
        [op, x, out, outer, r, inner, argOut],
        [x, out],
        argOut !== undefined ? 'reduce with indices' : r === 0 ? 'empty reduction' : iterationRefusal(ctx, r),
        () => {
          const size = outer * inner;
          const make = () => ({ source: reduceSource(op, outer, r, inner), size });
          storeOutput(ctx, out, runOnDevice(ctx, 'reduce', `${op},${outer},${r},${inner}`, make, [x, ONE]));
        },
      );
    },
    channelMoments(
      x: FloatArray,
      batch: number,
      channels: number,
      inner: number,
      mean: Float64Array,
      variance: Float64Array,
    ): void {
      // Two passes as the reference: μ_c = Σx/m, then σ²_c = Σ(x − μ_c)²/m (no cancellation).
      dispatch(
        ctx,
        'channelMoments',
        [x, batch, channels, inner, mean, variance],
        [x],
        iterationRefusal(ctx, batch * (inner + 1)),
        () => {
          const m = batch * inner;
          const dims: [number, number, number] = [batch, channels, inner];
          const zeros = new Float32Array(2 * channels);
          const sums = channelSums(
            'channelMoments',
            [x as Float32Array, zeros],
            ['x', 'coef'],
            dims,
            'sum',
            'v',
            null,
          );
          const coef = new Float32Array(2 * channels);
          for (let c = 0; c < channels; c++) {
            mean[c] = sums[c] / m;
            coef[c] = mean[c];
          }
          const sq = channelSums(
            'channelMoments',
            [x as Float32Array, coef],
            ['x', 'coef'],
            dims,
            'sq',
            '(v - c0) * (v - c0)',
            null,
          );
          for (let c = 0; c < channels; c++) variance[c] = sq[c] / m;
        },
      );
    },
    batchNormForward(x, mean, invstd, weight, bias, out, batch, channels, inner): void {
      // y = (x − μ_c)·scale_c + β_c with scale = invstd·γ: the reference's x·scale + (β − μ·scale) in float64,
      // rearranged so that float32 does not cancel (x·scale and μ·scale are large when the variance is small).
      dispatch(
        ctx,
        'batchNormForward',
        [x, mean, invstd, weight, bias, out, batch, channels, inner],
        [x, weight, bias, out],
        null,
        () => {
          onHost(ctx, weight);
          onHost(ctx, bias);
          const coef = new Float32Array(4 * channels);
          for (let c = 0; c < channels; c++) {
            const scale = invstd[c] * (weight ? weight[c] : 1);
            coef[c] = mean[c];
            coef[channels + c] = scale;
            coef[2 * channels + c] = bias ? bias[c] : 0;
          }
          const n = out.length;
          const make = () => ({
            source: perChannelSource(['x', 'coef'], channels, inner, '(v - k0) * k1 + k2'),
            size: n,
          });
          storeOutput(
            ctx,
            out,
            runOnDevice(ctx, 'batchNormForward', `${channels},${inner}`, make, [x, coef]),
          );
        },
      );
    },
    batchNormBackward(x, g, mean, invstd, weight, gx, gw, gb, batch, channels, inner, training): void {
      // dβ = Σg, dγ = Σg·x̂ (x̂ = (x − μ)·invstd); training: dx = γ·invstd·(g − Σg/m − x̂·Σ(g·x̂)/m),
      // eval: dx = γ·invstd·g — one per-channel kernel dx = k0·(g − k1 − (x − k2)·k3).
      dispatch(
        ctx,
        'batchNormBackward',
        [x, g, mean, invstd, weight, gx, gw, gb, batch, channels, inner, training],
        [x, g, weight, gx, gw, gb],
        iterationRefusal(ctx, batch * (inner + 1)),
        () => {
          const m = batch * inner;
          const dims: [number, number, number] = [batch, channels, inner];
          const needSums = training || gw !== null || gb !== null;
          const coef = new Float32Array(4 * channels);
          for (let c = 0; c < channels; c++) {
            coef[c] = mean[c];
            coef[channels + c] = invstd[c];
          }
          let sums: Float64Array | null = null;
          if (needSums) {
            const args = [x as Float32Array, g as Float32Array, coef.slice(0, 2 * channels)];
            sums = channelSums(
              'batchNormBackward',
              args,
              ['x', 'g', 'coef'],
              dims,
              'bn',
              'gv',
              'gv * (v - c0) * c1',
            );
          }
          for (let c = 0; c < channels; c++) {
            if (gb !== null && sums !== null) gb[c] = sums[c];
            if (gw !== null && sums !== null) gw[c] = sums[channels + c];
          }
          // gw and gb are written on the host: their old device values (if any) are stale.
          if (gw !== null) ctx.residency.release(gw);
          if (gb !== null) ctx.residency.release(gb);
          if (gx === null) return;
          onHost(ctx, weight);
          for (let c = 0; c < channels; c++) {
            coef[c] = (weight ? weight[c] : 1) * invstd[c];
            coef[channels + c] = training && sums !== null ? sums[c] / m : 0;
            coef[2 * channels + c] = mean[c];
            coef[3 * channels + c] = training && sums !== null ? (invstd[c] * sums[channels + c]) / m : 0;
          }
          const n = gx.length;
          const expr = 'k0 * (gv - k1 - (v - k2) * k3)';
          const make = () => ({
            source: perChannelSource(['x', 'g', 'coef'], channels, inner, expr),
            size: n,
          });
          storeOutput(
            ctx,
            gx,
            runOnDevice(ctx, 'batchNormBackward', `${channels},${inner}`, make, [x, g, coef]),
          );
        },
      );
    },
  };
}
