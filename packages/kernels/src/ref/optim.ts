/** Reference optimizer kernels: one SGD / Adam(W) step over a parameter, in place. */
import type { AdamStepParams, FloatArray, SgdStepParams } from '../contract.js';
import { notImplemented } from './pending.js';

export function sgdStep(param: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdStepParams): void {
  notImplemented('sgdStep', param, grad, buf, p);
}

export function adamStep(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  v: FloatArray,
  vMax: FloatArray | null,
  p: AdamStepParams,
): void {
  notImplemented('adamStep', param, grad, m, v, vMax, p);
}
