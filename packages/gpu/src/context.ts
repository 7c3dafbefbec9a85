/**
 * What every kernel file of the backend shares: the runner, the CPU reference kernels to fall back to, and the
 * test that decides whether a call can run on the device.
 */
import type { Kernels, TypedArray } from '@ecgnn/kernels';
import type { GpuRunner } from './runner.js';
import { MAX_DEVICE_INDEX } from './source.js';

/** The runner and the reference kernels the backend's kernels fall back to. */
export interface GpuContext {
  /** The gpu.js runner (mode, kernel cache, counters). */
  readonly runner: GpuRunner;
  /** The CPU reference kernels (`@ecgnn/core`'s CPU backend). */
  readonly cpu: Kernels;
}

/**
 * Why a call cannot run on the device, or null when it can: every operand must be a `Float32Array` (the device
 * is float32 only; float64 calls, e.g. gradient checks, run the reference) with at least one element and at
 * most {@link MAX_DEVICE_INDEX} (float32 indices are exact below 2²⁴).
 */
export function deviceRefusal(operands: readonly (TypedArray | null)[]): string | null {
  for (const a of operands) {
    if (a === null) continue;
    if (!(a instanceof Float32Array)) return `${a.constructor.name} operand (the device is float32 only)`;
    if (a.length === 0) return 'empty operand';
    if (a.length > MAX_DEVICE_INDEX) return `operand of ${a.length} elements (float32 indices stop at 2^24)`;
  }
  return null;
}

/**
 * Why a kernel whose threads run `iterations` loop iterations each stays on CPU (more than the runner's
 * {@link GpuRunner.maxLoopIterations}: Mesa's software rasteriser behind headless-gl silently stops a shader after
 * 65,535 loop iterations in total), or null.
 */
export function iterationRefusal(ctx: GpuContext, iterations: number): string | null {
  const limit = ctx.runner.maxLoopIterations;
  return iterations > limit ? `${iterations} loop iterations per thread (limit ${limit} in this mode)` : null;
}

/**
 * Runs the device path of kernel `name` when {@link deviceRefusal} (plus an extra geometry `reason`, or null)
 * allows, else counts a fallback and runs `fallback` (the reference kernel).
 */
export function dispatch(
  ctx: GpuContext,
  name: keyof Kernels,
  operands: readonly (TypedArray | null)[],
  reason: string | null,
  device: () => void,
  fallback: () => void,
): void {
  const why = reason ?? deviceRefusal(operands);
  if (why === null) {
    device();
    return;
  }
  ctx.runner.countFallback(name, why);
  fallback();
}
