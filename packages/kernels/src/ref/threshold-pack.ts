/**
 * Reference threshold packing (conventions.ts §7): float values → max pool over time → per-channel float rule →
 * packed words. The fallback of the WebAssembly kernel and what `@ecgnn/infer` runs without WebAssembly SIMD.
 */
import { floatThresholdBit } from '../binary/conventions.js';
import type { ThresholdPackParams } from '../contract.js';
import { isPosInt, need } from './binary.js';

/**
 * Validates a threshold-packing geometry, rule and buffers; returns the output length (after the pool). Every
 * failure is a {@link KernelArgumentError} naming the argument.
 */
export function checkThresholdPack(
  p: ThresholdPackParams,
  x: ArrayLike<number>,
  out: ArrayLike<number>,
): number {
  need(
    isPosInt(p.batch) && isPosInt(p.channels) && isPosInt(p.length),
    () =>
      `thresholdPack: bad geometry ${JSON.stringify({ batch: p.batch, channels: p.channels, length: p.length })}`,
  );
  let outLength = p.length;
  if (p.pool !== null) {
    const { kernelSize: k, stride: s } = p.pool;
    need(
      isPosInt(k) && isPosInt(s) && k <= p.length,
      () => `thresholdPack: pool ${JSON.stringify(p.pool)} does not fit length ${p.length}`,
    );
    outLength = Math.floor((p.length - k) / s) + 1;
  }
  const { threshold, direction, minusInf, plusInf } = p.thresholds;
  need(
    threshold instanceof Float32Array && threshold.length >= p.channels,
    () => `thresholdPack: threshold must be a Float32Array of ${p.channels} values`,
  );
  need(
    direction instanceof Int8Array && direction.length >= p.channels,
    () => `thresholdPack: direction must be an Int8Array of ${p.channels} values`,
  );
  for (const [name, bits] of [
    ['minusInf', minusInf],
    ['plusInf', plusInf],
  ] as const)
    need(
      bits instanceof Uint8Array && bits.length >= p.channels,
      () => `thresholdPack: ${name} must be a Uint8Array of ${p.channels} values`,
    );
  for (let c = 0; c < p.channels; c++) {
    need(
      direction[c] === 1 || direction[c] === -1,
      () => `thresholdPack: direction[${c}] is ${direction[c]}, not ±1`,
    );
    need(
      minusInf[c] <= 1 && plusInf[c] <= 1,
      () => `thresholdPack: infinity bits of channel ${c} are not 0 or 1`,
    );
  }
  const n = p.batch * p.channels * p.length;
  need(x.length >= n, () => `thresholdPack: input has ${x.length} elements, needs ${n}`);
  const words = p.batch * outLength * Math.ceil(p.channels / 32);
  need(out.length >= words, () => `thresholdPack: output has ${out.length} words, needs ${words}`);
  return outLength;
}

/**
 * Threshold packing, see {@link Kernels.thresholdPack}: per row, each window's maximum with the semantics of the
 * reference `maxPool1d` (the first of equal values, a NaN stays), then {@link floatThresholdBit}.
 */
export function thresholdPack(x: Float32Array, out: Uint32Array, p: ThresholdPackParams): void {
  const T = checkThresholdPack(p, x, out);
  const { batch, channels: C, length: L } = p;
  const W = Math.ceil(C / 32);
  const k = p.pool ? p.pool.kernelSize : 1;
  const s = p.pool ? p.pool.stride : 1;
  const rule = p.thresholds;
  out.fill(0, 0, batch * T * W);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < C; c++) {
      const row = (b * C + c) * L;
      const at = b * T * W + (c >>> 5);
      const bit = c & 31;
      for (let u = 0; u < T; u++) {
        let best = x[row + u * s];
        for (let j = 1; j < k; j++) {
          const v = x[row + u * s + j];
          if (!(v <= best) && !Number.isNaN(best)) best = v;
        }
        out[at + u * W] |= floatThresholdBit(best, rule, c) << bit;
      }
    }
  }
}
