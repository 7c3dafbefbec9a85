/** The dtype conversion primitive `cast` (the `to` op): one `cast` kernel call. */
import { kernels } from '../backend/backend.js';
import { type DType, isFloat } from '../dtype.js';
import { DTypeError } from '../errors.js';
import { type PrimitiveRule, run } from '../runtime.js';
import { Tensor } from '../tensor.js';
import { outputStorage, requireTensor } from './operands.js';

declare module '../runtime.js' {
  interface PrimitiveAttrs {
    cast: { dtype: DType };
  }
}

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

/**
 * Converts to another dtype (a new tensor; the same tensor when the dtype already matches, as PyTorch).
 * Gradients flow between float dtypes; a cast to int32 truncates toward zero (NaN and ±∞ become 0, values
 * outside the int32 range wrap) and is not recorded for autograd.
 */
export function to(x: Tensor, dtype: DType): Tensor {
  requireTensor('to', x);
  if (!DTYPES.includes(dtype)) {
    throw new DTypeError(`to: unknown dtype '${String(dtype)}'; expected one of ${DTYPES.join(', ')}`);
  }
  if (dtype === x.dtype) return x;
  return run('cast', castRule, [x], { dtype });
}

const castRule: PrimitiveRule<{ dtype: DType }> = {
  forward: ([x], { dtype }) => {
    const out = outputStorage('to', dtype, x.shape);
    kernels().cast(x.storage, out);
    return new Tensor(out, x.shape);
  },
  // Identity on values: the gradient is cast back to the input's dtype.
  vjp: (g, { inputs: [x] }) => (isFloat(x.dtype) ? [to(g, x.dtype)] : [null]),
};

/** The rules of this module, for the op table. */
export const castRules = {
  cast: castRule,
};
