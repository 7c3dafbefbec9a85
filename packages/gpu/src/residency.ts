/**
 * Device-resident storage of the gpu.js backend: which host arrays (tensor storage) have their newest values on
 * the device, in what device value, and the moves between host and device. It is the backend's
 * `StorageDevice` (see `@ecgnn/core`'s `storage.ts`): core calls {@link Residency.claimHost} before any host read
 * of a tensor's values, {@link Residency.copy} to copy storage, {@link Residency.release} when storage is recycled.
 *
 * A host array `a` is either *held* — its newest values are a device value, the host array is stale — or not
 * (the host array is the only copy). A device kernel writing `a` makes it held (freeing the previous device
 * value); a device kernel reading `a` takes the device value when held, else the host array (gpu.js uploads it
 * for the call). Anything on the host that reads or writes `a` — core's host reads, a CPU kernel (a fallback, or
 * a kernel this backend does not implement) — first *claims* it: the values are copied back and the device value
 * is freed. So device memory holds exactly the arrays whose newest values exist nowhere else, and is freed when
 * their storage is (`dispose`, `tidy`, the storage pool) or, for arrays the garbage collector takes while held,
 * through a `FinalizationRegistry`.
 *
 * Device values are gpu.js outputs of kernels built with `pipeline: true, immutable: true`: a fresh
 * `Float32Array` per call in the `cpu` and `webasm` modes, a fresh texture in the GL modes (freed with
 * `delete()`); nothing writes a device value after it is made, so copies of storage can share it.
 */
import type { StorageDevice } from '@ecgnn/core';
import type { TypedArray } from '@ecgnn/kernels';
import { GpuBackendError } from './errors.js';

/** What gpu.js returns for a pipelined kernel in the GL modes: a texture that can be read back and freed. */
export interface GpuTexture {
  /** The values (gpu.js reads the texture back). */
  toArray(): unknown;
  /** Frees the texture (gpu.js counts references: a texture shared by several holders is freed by the last). */
  delete(): void;
  /** Output size of the kernel that made it. */
  readonly output: readonly number[];
}

/** A value on the device: a typed array in the `cpu`/`webasm` modes, a texture in the GL modes. */
export type DeviceValue = Float32Array | GpuTexture;

/** Counters of device memory and host↔device traffic (see {@link Residency}). */
export interface ResidencyStats {
  /** Host arrays whose values are held on the device now. */
  readonly buffers: number;
  /** Bytes of those device values (4 per element). */
  readonly bytes: number;
  /** Most bytes held at once since the counters were reset. */
  readonly peakBytes: number;
  /** Device kernel outputs kept on the device (instead of copied to the host). */
  readonly stored: number;
  /** Device values copied back to the host (host reads, arrays of CPU kernels, small results the host needs). */
  readonly downloads: number;
  /** Storage copies made on the device. */
  readonly deviceCopies: number;
  /** Device values freed because their host array was garbage-collected while holding one. */
  readonly freedByGc: number;
}

interface Entry {
  readonly value: DeviceValue;
  readonly bytes: number;
}

function isTexture(v: DeviceValue): v is GpuTexture {
  return !(v instanceof Float32Array);
}

function isTypedArray(v: unknown): v is TypedArray {
  return v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array;
}

/** Number of elements of a device value. */
function lengthOf(v: DeviceValue): number {
  return isTexture(v) ? v.output.reduce((a, b) => a * b, 1) : v.length;
}

/**
 * The device-resident storage of one gpu.js backend. `copyOnDevice` gives a device copy of a device value that can
 * be freed on its own (a reference-counted clone of a texture; the same array in the `cpu` and `webasm` modes).
 */
export class Residency implements StorageDevice {
  private readonly entries = new WeakMap<TypedArray, Entry>();
  private readonly finalizer = new FinalizationRegistry<Entry>((e) => {
    this.counters.freedByGc++;
    this.free(e);
  });
  private readonly counters = {
    buffers: 0,
    bytes: 0,
    peakBytes: 0,
    stored: 0,
    downloads: 0,
    deviceCopies: 0,
    freedByGc: 0,
  };

  /** Set when the backend is disposed: its gpu.js context freed every texture already. */
  private destroyed = false;

  /** `name`: the backend's; `copyOnDevice`: see the class comment. */
  constructor(
    readonly name: string,
    private readonly copyOnDevice: (v: DeviceValue) => DeviceValue,
  ) {}

  /** The device value of `a` when it holds one (a kernel argument), else `a` itself (gpu.js uploads it). */
  input(a: TypedArray): DeviceValue | TypedArray {
    const e = this.entries.get(a);
    return e === undefined ? a : e.value;
  }

  /**
   * Records `value` (a device kernel's fresh output) as the newest values of `out`, kept on the device. A
   * non-float32 `out`, or a value of another length, is written to the host instead (the device value freed).
   */
  store(out: TypedArray, value: DeviceValue): void {
    if (!(out instanceof Float32Array) || lengthOf(value) !== out.length) {
      this.forget(out);
      const host = this.toHost(value);
      if (host.length < out.length) {
        throw new GpuBackendError(
          `gpu.js kernel output of ${host.length} values cannot fill storage of ${out.length}`,
        );
      }
      out.set(host.subarray(0, out.length));
      if (isTexture(value)) value.delete();
      return;
    }
    this.forget(out);
    const e: Entry = { value, bytes: out.length * 4 };
    this.entries.set(out, e);
    this.finalizer.register(out, e, e);
    const c = this.counters;
    c.stored++;
    c.buffers++;
    c.bytes += e.bytes;
    if (c.bytes > c.peakBytes) c.peakBytes = c.bytes;
  }

  /** The values of a device value on the host (a Float32Array; for a typed-array value, itself). Counted. */
  toHost(v: DeviceValue): Float32Array {
    this.counters.downloads++;
    if (!isTexture(v)) return v;
    if (this.destroyed) {
      throw new GpuBackendError(
        `${this.name}: a tensor's values are still on the device of a disposed backend; read them (tensor.data, await tensor.read()) before dispose()`,
      );
    }
    const r = v.toArray();
    if (!(r instanceof Float32Array)) {
      throw new GpuBackendError(
        `gpu.js texture read back as ${Object.prototype.toString.call(r)}, expected a Float32Array`,
      );
    }
    return r;
  }

  /** Copies the device values of a held `a` back to the host array and frees them (see the module comment). */
  claimHost(a: TypedArray): void {
    const e = this.entries.get(a);
    if (e === undefined) return;
    (a as Float32Array).set(this.toHost(e.value).subarray(0, a.length));
    this.forget(a);
  }

  /** {@link Residency.claimHost}: gpu.js's synchronous modes read back synchronously. */
  async claimHostAsync(a: TypedArray): Promise<void> {
    this.claimHost(a);
  }

  /** Core's storage copy: when `src` is newer on the device, `dst` gets a device copy of it. */
  copy(src: TypedArray, dst: TypedArray): boolean {
    const e = this.entries.get(src);
    if (e === undefined || dst.length !== src.length) return false;
    this.store(dst, this.copyOnDevice(e.value));
    this.counters.deviceCopies++;
    return true;
  }

  /** Core recycles or drops `a`: frees its device value (its values are no longer needed). */
  release(a: TypedArray): void {
    this.forget(a);
  }

  /**
   * Runs a CPU kernel `fn` on `args` (a kernel's arguments): every held array among them is claimed first, so the
   * kernel reads current values and its writes are the only copy.
   */
  hostCall(args: readonly unknown[], fn: (...a: unknown[]) => unknown): unknown {
    for (const a of args) if (isTypedArray(a)) this.claimHost(a);
    return fn(...args);
  }

  /** A snapshot of the counters. */
  stats(): ResidencyStats {
    return { ...this.counters };
  }

  /** Zeroes the traffic counters and sets the peak to the bytes held now. */
  resetStats(): void {
    const c = this.counters;
    c.peakBytes = c.bytes;
    c.stored = 0;
    c.downloads = 0;
    c.deviceCopies = 0;
    c.freedByGc = 0;
  }

  /** Drops the entry of `a`, freeing its device value. */
  private forget(a: TypedArray): void {
    const e = this.entries.get(a);
    if (e === undefined) return;
    this.entries.delete(a);
    this.finalizer.unregister(e);
    this.free(e);
  }

  private free(e: Entry): void {
    this.counters.buffers--;
    this.counters.bytes -= e.bytes;
    if (isTexture(e.value) && !this.destroyed) e.value.delete();
  }

  /**
   * The backend was disposed (its gpu.js context and textures are gone): later frees only update the counters,
   * and the garbage collector's frees do not touch the dead context.
   */
  destroy(): void {
    this.destroyed = true;
  }
}
