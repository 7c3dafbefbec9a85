import type { FloatArray } from '../contract.js';

type ScratchArray = Float32Array | Float64Array | Int32Array;
type ScratchCtor<T extends ScratchArray> = new (n: number) => T;

/**
 * A kernel's reusable scratch buffer: grows on demand (at least doubling, so repeated growth is amortised)
 * and is reused across calls, so kernels allocate nothing in steady state. Kernels are synchronous, so one
 * module-level buffer per role is safe.
 */
export class Scratch<T extends ScratchArray> {
  private buf: T;
  constructor(private readonly ctor: ScratchCtor<T>) {
    this.buf = new ctor(0);
  }

  /** A buffer of at least `n` elements (contents unspecified). */
  get(n: number): T {
    if (this.buf.length < n) this.buf = new this.ctor(Math.max(n, this.buf.length * 2));
    return this.buf;
  }
}

/** A float scratch of the same precision as `like` (float64 for Float64Array, float32 otherwise). */
export function floatScratch(
  f32: Scratch<Float32Array>,
  f64: Scratch<Float64Array>,
  like: FloatArray,
  n: number,
): FloatArray {
  return like instanceof Float64Array ? f64.get(n) : f32.get(n);
}
