/**
 * What every kernel file of the backend shares: the runner, the CPU reference kernels to fall back to, and the
 * test that decides whether a call can run on the device.
 */
import type { Kernels, TypedArray } from '@ecgnn/kernels';
import type { DeviceValue, Residency } from './residency.js';
import type { GpuRunner, KernelRunner, KernelSpec } from './runner.js';
import { MAX_DEVICE_INDEX } from './source.js';

/** The runner, the device-resident storage, and the reference kernels the backend's kernels fall back to. */
export interface GpuContext {
  /** The gpu.js runner (mode, kernel cache, counters): gpu.js on this thread, or a device server's. */
  readonly runner: KernelRunner;
  /** Which host arrays have their newest values on the device. */
  readonly residency: Residency;
  /** The CPU reference kernels (`@ecgnn/core`'s CPU backend). */
  readonly cpu: Kernels;
}

/**
 * Runs gpu.js kernel `name`/`key` (see {@link GpuRunner.run}) with host-array arguments replaced by their device
 * values where the device holds them, and returns its output, left on the device (store it with
 * {@link storeOutput} or read it with {@link readValue}).
 */
export function runOnDevice(
  ctx: GpuContext,
  name: string,
  key: string,
  make: () => KernelSpec,
  args: readonly TypedArray[],
): DeviceValue {
  return ctx.runner.run(
    name,
    key,
    make,
    args.map((a) => ctx.residency.input(a)),
  );
}

/** Keeps a device kernel's output `value` as the newest values of `out` (on the device when `out` is float32). */
export function storeOutput(ctx: GpuContext, out: TypedArray, value: DeviceValue): void {
  ctx.residency.store(out, value);
}

/** The values of a device kernel's output on the host (for the few results the host needs, e.g. C sums). */
export function readValue(ctx: GpuContext, value: DeviceValue): Float32Array {
  return ctx.residency.toHost(value);
}

/** Frees a device value that is not stored (an intermediate result). */
export function freeValue(value: DeviceValue): void {
  if (!(value instanceof Float32Array)) value.delete();
}

/** `a` with its newest values on the host (for host reads inside a device path: γ, β of batch norm). */
export function onHost<T extends TypedArray | null>(ctx: GpuContext, a: T): T {
  if (a !== null) ctx.residency.claimHost(a);
  return a;
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
 * Runs the device path of kernel `name` when {@link deviceRefusal} of its `operands` (plus an extra geometry
 * `reason`, or null) allows; else counts a fallback and runs the reference kernel on `args` (all the kernel's
 * arguments), with every array the device holds brought back to the host first.
 */
export function dispatch<K extends keyof Kernels>(
  ctx: GpuContext,
  name: K,
  args: Parameters<Kernels[K]>,
  operands: readonly (TypedArray | null)[],
  reason: string | null,
  device: () => void,
): void {
  const why = reason ?? deviceRefusal(operands);
  if (why === null) {
    device();
    return;
  }
  ctx.runner.countFallback(name, why);
  ctx.residency.hostCall(args, ctx.cpu[name] as (...a: unknown[]) => unknown);
}
