/** Layout conversions between PyTorch's NCL / OIK and TensorFlow.js' channels-last layouts. */

/** [N, C, L] → [N, L, C] */
export function nclToNlc(x: Float32Array, n: number, c: number, l: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < c; i++) for (let t = 0; t < l; t++) out[(b * l + t) * c + i] = x[(b * c + i) * l + t];
  return out;
}

/** [N, L, C] → [N, C, L] */
export function nlcToNcl(x: ArrayLike<number>, n: number, c: number, l: number): Float32Array {
  const out = new Float32Array(n * c * l);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < c; i++) for (let t = 0; t < l; t++) out[(b * c + i) * l + t] = x[(b * l + t) * c + i];
  return out;
}

/** PyTorch conv weight [O, I, K] → tfjs [K, I, O]. */
export function oikToKio(w: Float32Array, o: number, i: number, k: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++) for (let j = 0; j < k; j++) out[(j * i + b) * o + a] = w[(a * i + b) * k + j];
  return out;
}
