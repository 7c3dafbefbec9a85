/** Reference normalisation kernels: batch statistics, batch norm and layer norm, forward and backward. */
import type { FloatArray } from '../contract.js';
import { notImplemented } from './pending.js';

export function channelMoments(
  x: FloatArray,
  batch: number,
  channels: number,
  inner: number,
  mean: Float64Array,
  variance: Float64Array,
): void {
  notImplemented('channelMoments', x, batch, channels, inner, mean, variance);
}

export function batchNormForward(
  x: FloatArray,
  mean: Float64Array,
  invstd: Float64Array,
  weight: FloatArray | null,
  bias: FloatArray | null,
  out: FloatArray,
  batch: number,
  channels: number,
  inner: number,
): void {
  notImplemented('batchNormForward', x, mean, invstd, weight, bias, out, batch, channels, inner);
}

export function batchNormBackward(
  x: FloatArray,
  g: FloatArray,
  mean: Float64Array,
  invstd: Float64Array,
  weight: FloatArray | null,
  gx: FloatArray | null,
  gw: FloatArray | null,
  gb: FloatArray | null,
  batch: number,
  channels: number,
  inner: number,
  training: boolean,
): void {
  notImplemented(
    'batchNormBackward',
    x,
    g,
    mean,
    invstd,
    weight,
    gx,
    gw,
    gb,
    batch,
    channels,
    inner,
    training,
  );
}

export function layerNormForward(
  x: FloatArray,
  weight: FloatArray | null,
  bias: FloatArray | null,
  out: FloatArray,
  mean: Float64Array,
  invstd: Float64Array,
  rows: number,
  cols: number,
  eps: number,
): void {
  notImplemented('layerNormForward', x, weight, bias, out, mean, invstd, rows, cols, eps);
}

export function layerNormBackward(
  x: FloatArray,
  g: FloatArray,
  mean: Float64Array,
  invstd: Float64Array,
  weight: FloatArray | null,
  gx: FloatArray | null,
  gw: FloatArray | null,
  gb: FloatArray | null,
  rows: number,
  cols: number,
): void {
  notImplemented('layerNormBackward', x, g, mean, invstd, weight, gx, gw, gb, rows, cols);
}
