/**
 * Types and argument checks of the WebAssembly kernel set. The kernels' signatures and parameter types are the
 * contract's (`../contract.ts`); what lives here is WebAssembly-specific: the {@link ParallelRunner} that splits
 * big calls across threads, and the buffer-length checks each WASM kernel makes before copying its operands into
 * linear memory (a short buffer would otherwise be read past its end as zeros or stale memory).
 */
import { type Conv1dParams, KernelArgumentError, type MatmulParams, type Pool1dParams } from '../contract.js';

/**
 * Splits big `gemm` / `gemmNT` calls of a kernel set whose arena is shared (see `WasmArena`) across threads:
 * given the argument list, it runs some row blocks (`splitKernelCall`) on worker threads holding their own
 * instance of the same module on the same memory, and one block on the calling thread through `local`,
 * returning when all are done. `@ecgnn/core`'s threaded WebAssembly backend provides one (Node worker
 * threads); this package starts no threads itself.
 */
export interface ParallelRunner {
  /** Threads taking part, the calling one included. */
  readonly threads: number;
  run(kernel: 'gemm' | 'gemmNT', args: readonly number[], local: (args: readonly number[]) => void): void;
}

/** Throws a {@link KernelArgumentError} when `cond` fails; the message is only built then. */
function need(cond: boolean, msg: () => string): void {
  if (!cond) throw new KernelArgumentError(msg());
}

function isPosInt(v: number): boolean {
  return Number.isInteger(v) && v > 0;
}

/** Validates the buffer lengths of a matmul (sizes are positive: smaller ones run the reference kernel). */
export function checkMatmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  out: ArrayLike<number>,
  p: MatmulParams,
  sa: number,
  sb: number,
): void {
  const { batch, m, k, n } = p;
  need(
    Number.isInteger(batch) && Number.isInteger(m) && Number.isInteger(k) && Number.isInteger(n),
    () => `matmul: sizes must be integers (batch=${batch}, m=${m}, k=${k}, n=${n})`,
  );
  need(sa >= 0 && sb >= 0, () => `matmul: negative batch stride`);
  need(
    a.length >= (batch - 1) * sa + m * k,
    () => `matmul: a has ${a.length} elements, needs ${(batch - 1) * sa + m * k}`,
  );
  need(
    b.length >= (batch - 1) * sb + k * n,
    () => `matmul: b has ${b.length} elements, needs ${(batch - 1) * sb + k * n}`,
  );
  need(out.length >= batch * m * n, () => `matmul: out has ${out.length} elements, needs ${batch * m * n}`);
}

/** Validates a conv1d geometry's integrality and the three buffers' lengths. */
export function checkConv1d(
  p: Conv1dParams,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  out: ArrayLike<number>,
): void {
  const {
    batch,
    inChannels,
    outChannels,
    inLength,
    outLength,
    kernelSize,
    stride,
    dilation,
    padLeft,
    groups,
  } = p;
  need(
    isPosInt(batch) &&
      isPosInt(inChannels) &&
      isPosInt(outChannels) &&
      isPosInt(inLength) &&
      isPosInt(outLength) &&
      isPosInt(kernelSize) &&
      isPosInt(stride) &&
      isPosInt(dilation) &&
      isPosInt(groups) &&
      Number.isInteger(padLeft) &&
      padLeft >= 0,
    () => `conv1d: sizes must be positive integers (${JSON.stringify(p)})`,
  );
  need(
    inChannels % groups === 0 && outChannels % groups === 0,
    () => `conv1d: channels ${inChannels}→${outChannels} not divisible by groups ${groups}`,
  );
  need(Number.isFinite(p.padValue), () => `conv1d: padValue must be finite`);
  need(
    x.length >= batch * inChannels * inLength,
    () => `conv1d: input has ${x.length} elements, needs ${batch * inChannels * inLength}`,
  );
  const wLen = outChannels * (inChannels / groups) * kernelSize;
  need(w.length >= wLen, () => `conv1d: weight has ${w.length} elements, needs ${wLen}`);
  need(
    out.length >= batch * outChannels * outLength,
    () => `conv1d: output has ${out.length} elements, needs ${batch * outChannels * outLength}`,
  );
}

/** Validates a pooling geometry's integrality and the buffers' lengths. */
export function checkPool1d(p: Pool1dParams, x: ArrayLike<number>, out: ArrayLike<number>): void {
  need(
    isPosInt(p.batch) &&
      isPosInt(p.channels) &&
      isPosInt(p.inLength) &&
      isPosInt(p.outLength) &&
      isPosInt(p.kernelSize) &&
      isPosInt(p.stride) &&
      Number.isInteger(p.padLeft) &&
      p.padLeft >= 0,
    () => `pool1d: bad geometry ${JSON.stringify(p)}`,
  );
  need(x.length >= p.batch * p.channels * p.inLength, () => `pool1d: input has ${x.length} elements`);
  need(out.length >= p.batch * p.channels * p.outLength, () => `pool1d: output has ${out.length} elements`);
}
