/**
 * Device-resident storage: the hook through which a device backend (a GPU) keeps tensor values in its own
 * memory between kernels, and core brings them back only when the host reads them.
 *
 * A tensor's storage is always a host typed array (its identity, shape and dtype; CPU and WebAssembly kernels
 * work on it directly, at no cost). A {@link StorageDevice} may hold a *newer* copy of an array's values — the
 * output of a device kernel, which it does not copy back. Core keeps the host side right with three calls:
 *
 * - every host read of a tensor's values (`tensor.data`, `item()`, `toArray()`, …) first calls
 *   {@link claimHost}: the device copies newer values into the array and forgets its copy, because the reader may
 *   write the array (optimizers, initialisers and the pruning masks do);
 * - ops hand arrays to kernels through `tensor.storage`, which never syncs: the active backend's kernels see the
 *   same array objects and find their device copies themselves;
 * - `copyStorage` lets a device copy a device-newer array on the device, and releasing storage (`dispose`, the
 *   storage pool) tells the device to free its copy.
 *
 * This is tfjs's data-mover idea (`dataSync` / `data`, `disposeData`) keyed by array identity instead of a data
 * id, so the kernel contract of `@ecgnn/kernels` keeps its typed-array signatures for every backend.
 */
import type { TypedArray } from '@ecgnn/kernels';

/**
 * A device that can hold the newest values of host arrays (implemented by device backends such as
 * `@ecgnn/gpu`; see the module comment for the protocol). Every method must be cheap for arrays it does not hold.
 */
export interface StorageDevice {
  /** Name, for messages (e.g. `'gpu.js:webgl2'`). */
  readonly name: string;
  /**
   * Makes the host array `a` hold its newest values and the only copy: copies device-newer values into it, then
   * frees the device copy. Synchronous; a device whose reads are asynchronous only throws, naming
   * `Tensor.read()`.
   */
  claimHost(a: TypedArray): void;
  /** {@link StorageDevice.claimHost} for devices whose reads are asynchronous (resolves when `a` is current). */
  claimHostAsync(a: TypedArray): Promise<void>;
  /**
   * When the device holds newer values of `src`, gives `dst` (same dtype and length, fresh storage) a device copy
   * of them and returns true; otherwise returns false and the caller copies on the host.
   */
  copy(src: TypedArray, dst: TypedArray): boolean;
  /** `a` is being recycled or dropped: frees the device copy, if any. Its values are not needed any more. */
  release(a: TypedArray): void;
}

const devices: StorageDevice[] = [];

/**
 * Registers a device that may hold newer values of host arrays (idempotent). Core consults it on every host read
 * of tensor storage from then on; devices cannot be unregistered (a tensor may still have values there).
 */
export function registerStorageDevice(device: StorageDevice): void {
  if (!devices.includes(device)) devices.push(device);
}

/** Names of the registered storage devices. */
export function listStorageDevices(): string[] {
  return devices.map((d) => d.name);
}

/** Brings the newest values of `a` to the host and makes the host the only copy (see {@link StorageDevice}). */
export function claimHost(a: TypedArray): void {
  for (let i = 0; i < devices.length; i++) devices[i].claimHost(a);
}

/**
 * Brings the newest values of a storage array to the host, for code that calls `kernels()` directly on arrays
 * instead of going through tensors (a device backend's kernels may leave their outputs on the device). Tensor
 * reads (`tensor.data`, `item()`, `await tensor.read()`) do this themselves.
 */
export function syncToHost(a: TypedArray): void {
  claimHost(a);
}

/** Asynchronous {@link claimHost}: the one read that works on every device. */
export async function claimHostAsync(a: TypedArray): Promise<void> {
  for (const d of devices) await d.claimHostAsync(a);
}

/** Whether a device copied `src` into `dst` on the device (`copyStorage` then skips the host copy). */
export function deviceCopy(src: TypedArray, dst: TypedArray): boolean {
  for (let i = 0; i < devices.length; i++) if (devices[i].copy(src, dst)) return true;
  return false;
}

/** Tells every device that `a` is recycled or dropped. */
export function releaseOnDevices(a: TypedArray): void {
  for (let i = 0; i < devices.length; i++) devices[i].release(a);
}
