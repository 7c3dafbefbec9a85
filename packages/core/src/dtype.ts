/** Element types a tensor can hold. float32 is the default; float64 is for gradient checks; int32 for indices. */
export type DType = 'float32' | 'float64' | 'int32';

/** Floating-point dtypes (those that can carry gradients). */
export type FloatDType = 'float32' | 'float64';

/** Typed array backing a tensor of each dtype. */
export interface DTypeArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
}

/** Any storage array of a tensor. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** Float storage arrays. */
export type FloatArray = Float32Array | Float64Array;

/** Allocates zeroed storage of `n` elements of `dtype`. */
export function allocate(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
  }
}

/** The dtype of a typed array. */
export function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return 'int32';
}

/** True for float32 and float64. */
export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype !== 'int32';
}
