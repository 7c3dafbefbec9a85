/** Reference layout and indexing kernels: strided copies, gather / index-select and their adjoints. */
import type { FloatArray, TypedArray } from '../contract.js';
import { notImplemented } from './pending.js';

export function copyStrided(
  src: TypedArray,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
  accumulate = false,
): void {
  notImplemented('copyStrided', src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape, accumulate);
}

export function gather(
  x: TypedArray,
  xShape: readonly number[],
  index: Int32Array,
  indexShape: readonly number[],
  axis: number,
  out: TypedArray,
): void {
  notImplemented('gather', x, xShape, index, indexShape, axis, out);
}

export function gatherBackward(
  g: FloatArray,
  xShape: readonly number[],
  index: Int32Array,
  indexShape: readonly number[],
  axis: number,
  gx: FloatArray,
): void {
  notImplemented('gatherBackward', g, xShape, index, indexShape, axis, gx);
}

export function indexSelect(
  x: TypedArray,
  outer: number,
  axisLen: number,
  inner: number,
  index: Int32Array,
  out: TypedArray,
): void {
  notImplemented('indexSelect', x, outer, axisLen, inner, index, out);
}

export function indexSelectBackward(
  g: FloatArray,
  outer: number,
  axisLen: number,
  inner: number,
  index: Int32Array,
  gx: FloatArray,
): void {
  notImplemented('indexSelectBackward', g, outer, axisLen, inner, index, gx);
}
