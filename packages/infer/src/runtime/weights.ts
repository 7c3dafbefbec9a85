/**
 * The weights of a loaded model as the ops bind them: tensors decoded to float32 once (packed ±1 bits unpacked,
 * float16/int8 widened), and values derived from them at load (transposed weights, batch-norm statistics …)
 * made once per model and shared by its batch-1 and batched programs.
 */
import { unpackConvWeights, unpackSigns } from '@ecgnn/kernels';
import type { LoadedTensor } from '../format/reader.js';

/** A weight tensor as float32. */
function floatData(t: LoadedTensor): Float32Array {
  if (t.entry.dtype === 'bits') {
    const s = t.entry.shape;
    if (s.length === 3) return unpackConvWeights(t.data as Uint32Array, s[0], s[1], s[2]);
    if (s.length === 2) return unpackSigns(t.data as Uint32Array, s[1], s[0]);
    return unpackSigns(t.data as Uint32Array, s[0], 1);
  }
  if (t.data instanceof Float32Array) return t.data;
  return Float32Array.from(t.data);
}

/** Decoded tensors and derived weights of one model (see the file comment). */
export class Weights {
  private readonly floatCache = new Map<string, Float32Array>();
  private readonly derived = new Map<string, unknown>();

  constructor(private readonly tensors: ReadonlyMap<string, LoadedTensor>) {}

  /** The tensor named `name` (validated by the reader). */
  tensor(name: string): LoadedTensor {
    return this.tensors.get(name)!;
  }

  /** The tensor named `name` as float32, decoded on first use. */
  floats(name: string): Float32Array {
    let f = this.floatCache.get(name);
    if (!f) {
      f = floatData(this.tensor(name));
      this.floatCache.set(name, f);
    }
    return f;
  }

  /** The value stored under `key`, made by `make` on first use. */
  derive<T>(key: string, make: () => T): T {
    if (!this.derived.has(key)) this.derived.set(key, make());
    return this.derived.get(key) as T;
  }
}
