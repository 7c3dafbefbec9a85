/**
 * The gpu.js side of the backend: one `GPU` instance in an explicitly selected mode, a cache of compiled
 * kernels keyed by their geometry, the check of which kernel class really ran, and the per-kernel counters.
 *
 * gpu.js facts this file guards against (see docs/gpu.md):
 * - gpu.js falls back between modes silently (a kernel that does not compile for `webasm` or a GL context
 *   quietly becomes a `CPUKernel`): after every call the class of the kernel that ran is compared with the
 *   mode's class and a {@link GpuKernelClassError} is thrown on a mismatch.
 * - Loops are silently cut at `loopMaxIterations` (default 1000) when their bound is not a constant: every
 *   kernel source here has its geometry written in as literal constants (one compiled kernel per geometry),
 *   and `loopMaxIterations` is raised as well.
 * - Scalar arguments change the compiled kernel's argument types (an integer-valued number is an `Integer`,
 *   another a `Float`): kernels here take arrays only; scalars are literals of the source.
 */
import gpujs, { type IGPUKernelSettings } from 'gpu.js';
import { GpuBackendError, GpuKernelClassError } from './errors.js';
import type { DeviceValue, GpuTexture } from './residency.js';

const { GPU, CPUKernel, WebAssemblyKernel, HeadlessGLKernel, WebGL2Kernel } = gpujs;
/** gpu.js 2.24's WebGPU kernel class (exported by the package, missing from its typings). */
const { WebGPUKernel } = gpujs as unknown as { WebGPUKernel: { readonly name: string } };

/**
 * gpu.js modes the backend can be built on, with gpu.js's own names: `cpu` (JavaScript, float64 arithmetic
 * stored to float32), `webasm` (WebAssembly, float32), `headlessgl` (Node with the `gl` package), `webgl2`
 * (browsers), `webgpu` (browsers; its kernels are asynchronous, so it runs behind a device server on another
 * thread: `connectGpuBackend`, see remote-client.ts).
 */
export type GpuMode = 'cpu' | 'webasm' | 'headlessgl' | 'webgl2' | 'webgpu';

/** Every {@link GpuMode}, in the order the documentation lists them. */
export const GPU_MODES: readonly GpuMode[] = ['cpu', 'webasm', 'headlessgl', 'webgl2', 'webgpu'];

/** The gpu.js kernel class each mode must build (compared by constructor identity). */
const KERNEL_CLASS: Record<GpuMode, { readonly name: string }> = {
  cpu: CPUKernel,
  webasm: WebAssemblyKernel,
  headlessgl: HeadlessGLKernel,
  webgl2: WebGL2Kernel,
  webgpu: WebGPUKernel,
};

/**
 * gpu.js's names of those classes, written out: a bundler may rename a class (esbuild's browser bundle of the
 * webgl2 test calls it `WebGL2Kernel2`), so `constructor.name` is not what the counters report.
 */
const KERNEL_CLASS_NAME: Record<GpuMode, string> = {
  cpu: 'CPUKernel',
  webasm: 'WebAssemblyKernel',
  headlessgl: 'HeadlessGLKernel',
  webgl2: 'WebGL2Kernel',
  webgpu: 'WebGPUKernel',
};

/** Name of the gpu.js kernel class that `mode` must build (e.g. `'WebAssemblyKernel'` for `webasm`). */
export function expectedKernelClass(mode: GpuMode): string {
  return KERNEL_CLASS_NAME[mode];
}

/**
 * Whether gpu.js can build kernels of `mode` here, synchronously (`cpu` always; `webasm` with WebAssembly;
 * `headlessgl` when the `gl` package loads and gives a context; `webgl2` in a browser with WebGL2). `webgpu` is
 * reported as unavailable: its kernels are asynchronous, so a thread serves them (`serveGpuDevice`,
 * `webGpuAvailable`) to a backend on another thread (`connectGpuBackend`).
 */
export function gpuModeAvailable(mode: GpuMode): boolean {
  switch (mode) {
    case 'cpu':
      return true;
    case 'webasm':
      return GPU.isWebAssemblySupported;
    case 'headlessgl':
      return GPU.isHeadlessGLSupported;
    case 'webgl2':
      return GPU.isWebGL2Supported;
    case 'webgpu':
      return false;
  }
}

/**
 * Checks that `kernel` (the gpu.js kernel object a run shortcut ran: `shortcut.kernel`) is of the class `mode`
 * builds — by constructor identity, so a `HeadlessGLKernel` is not taken for its parent `WebGLKernel` — and
 * returns the class's gpu.js name ({@link expectedKernelClass}); throws a {@link GpuKernelClassError} naming
 * `what` otherwise (gpu.js replaced the kernel by one of another mode, silently).
 */
export function assertKernelClass(mode: GpuMode, kernel: object, what: string): string {
  const ran = kernel.constructor as { readonly name: string };
  if (ran !== KERNEL_CLASS[mode]) {
    throw new GpuKernelClassError(
      `gpu.js (mode '${mode}') ran kernel '${what}' as ${ran.name}, not ${expectedKernelClass(mode)}: ` +
        'gpu.js fell back between modes',
    );
  }
  return expectedKernelClass(mode);
}

/** What one compiled kernel computes: its gpu.js source (arrays in, one float per thread out) and output size. */
export interface KernelSpec {
  /** gpu.js kernel source, `function (a, b, …) { … return v; }`, geometry written in as literals. */
  readonly source: string;
  /** Number of threads = output elements (`this.thread.x` runs over `0 … size − 1`). */
  readonly size: number;
}

/** Counters of one backend (see {@link GpuRunner.stats}). */
export interface GpuBackendStats {
  /** The gpu.js mode. */
  readonly mode: GpuMode;
  /** Calls per contract kernel that ran on gpu.js. */
  readonly deviceCalls: Readonly<Record<string, number>>;
  /** Calls per contract kernel that ran the CPU reference instead (float64 operands, geometries not taken). */
  readonly fallbacks: Readonly<Record<string, number>>;
  /** The last reason of a fallback, per contract kernel. */
  readonly fallbackReasons: Readonly<Record<string, string>>;
  /** gpu.js kernels compiled so far (one per kernel source, i.e. per geometry). */
  readonly compiledKernels: number;
  /** Names of the gpu.js kernel classes that ran (always the mode's class: anything else throws). */
  readonly kernelClasses: readonly string[];
}

/**
 * What the backend's kernels need of the thing that runs gpu.js kernels: {@link GpuRunner} (gpu.js on this
 * thread) or the remote runner of remote-client.ts (gpu.js on a device server's thread, for `webgpu`).
 */
export interface KernelRunner {
  /** The gpu.js mode. */
  readonly mode: GpuMode;
  /** Most loop iterations one thread may run; kernels past it run on CPU (see {@link GpuRunner.maxLoopIterations}). */
  readonly maxLoopIterations: number;
  /**
   * Runs the kernel `name`/`key` (compiled from `make()` on first use) on `args` (host typed arrays or device
   * values) and returns its output of `spec.size` values, left on the device as a fresh value nothing else writes.
   */
  run(name: string, key: string, make: () => KernelSpec, args: readonly unknown[]): DeviceValue;
  /** A device copy of `v` that can be freed on its own. */
  share(v: DeviceValue): DeviceValue;
  /** Counts one call of contract kernel `name` that ran the CPU reference, and why. */
  countFallback(name: string, reason: string): void;
  /** A snapshot of the counters. */
  stats(): GpuBackendStats;
  /** Zeroes the counters (compiled kernels stay cached). */
  resetStats(): void;
  /** Frees every compiled kernel and device value. */
  destroy(): void;
}

/** The per-kernel counters every {@link KernelRunner} keeps (see {@link GpuBackendStats}). */
export class RunnerCounters {
  private readonly device = new Map<string, number>();
  private readonly fallback = new Map<string, number>();
  private readonly reasons = new Map<string, string>();
  private readonly classes = new Set<string>();

  /** Counts one device call of contract kernel `name`, run by gpu.js kernel class `className`. */
  deviceCall(name: string, className: string): void {
    this.classes.add(className);
    this.device.set(name, (this.device.get(name) ?? 0) + 1);
  }

  /** Counts one CPU fallback of `name`, and why. */
  fallbackCall(name: string, reason: string): void {
    this.fallback.set(name, (this.fallback.get(name) ?? 0) + 1);
    this.reasons.set(name, reason);
  }

  /** The counters as {@link GpuBackendStats}. */
  snapshot(mode: GpuMode, compiledKernels: number): GpuBackendStats {
    return {
      mode,
      deviceCalls: Object.fromEntries(this.device),
      fallbacks: Object.fromEntries(this.fallback),
      fallbackReasons: Object.fromEntries(this.reasons),
      compiledKernels,
      kernelClasses: [...this.classes],
    };
  }

  /** Zeroes every counter. */
  reset(): void {
    this.device.clear();
    this.fallback.clear();
    this.reasons.clear();
    this.classes.clear();
  }
}

/**
 * The gpu.js kernel settings of every compiled kernel of `size` threads: float32 (`precision: 'single'`), one
 * output per thread, `pipeline: true, immutable: true` (outputs stay on the device, a fresh one per call), loop
 * bound raised (every bound is a literal anyway), exact integer division.
 */
export function kernelSettings(size: number): IGPUKernelSettings {
  // `loopMaxIterations` and `fixIntegerDivisionAccuracy` are kernel settings gpu.js reads but its typings omit.
  const settings = {
    output: [size],
    precision: 'single',
    tactic: 'precision',
    loopMaxIterations: LOOP_MAX_ITERATIONS,
    fixIntegerDivisionAccuracy: true,
    pipeline: true,
    immutable: true,
    dynamicOutput: false,
    dynamicArguments: false,
  };
  return settings as IGPUKernelSettings;
}

/** A gpu.js kernel as its run shortcut exposes it: callable, with the kernel object that actually ran. */
interface RunShortcut {
  (...args: unknown[]): unknown;
  readonly kernel: { readonly constructor: { readonly name: string } };
}

/**
 * Default loop budget of one thread in the GL modes: Mesa's llvmpipe (the software rasteriser headless-gl and
 * browsers without a GPU run on) stops a shader invocation after 65,535 loop iterations in total, silently (a sum of
 * 70,000 ones gives 65,535). Real GPUs have no such cap: raise it with `maxLoopIterations`.
 */
export const GL_MAX_LOOP_ITERATIONS = 65535;

/** Raised gpu.js loop bound; every bound here is a literal constant, this only backs that up. */
const LOOP_MAX_ITERATIONS = 1 << 30;

/**
 * One gpu.js `GPU` in one mode, with its kernel cache and counters. {@link GpuRunner.run} compiles a kernel on
 * the first call with a given key and reuses it afterwards.
 */
export class GpuRunner implements KernelRunner {
  /** The gpu.js mode. */
  readonly mode: GpuMode;
  private readonly gpu: InstanceType<typeof GPU>;
  private readonly cache = new Map<string, RunShortcut>();
  private readonly counters = new RunnerCounters();

  /**
   * Most loop iterations one thread may run (all loops of the kernel together); kernels past it run on CPU. GL
   * modes default to {@link GL_MAX_LOOP_ITERATIONS}, the others are unlimited.
   */
  readonly maxLoopIterations: number;

  /** A gpu.js `GPU` in `mode` (use {@link createGpuRunner}, which checks that the mode can run here). */
  constructor(mode: GpuMode, maxLoopIterations?: number) {
    this.mode = mode;
    this.gpu = new GPU({ mode });
    const gl = mode === 'headlessgl' || mode === 'webgl2';
    this.maxLoopIterations = maxLoopIterations ?? (gl ? GL_MAX_LOOP_ITERATIONS : Number.POSITIVE_INFINITY);
  }

  /**
   * Runs the kernel `name`/`key` (compiled from `make()` on first use) on `args` — host typed arrays, which
   * gpu.js uploads for the call, or device values of earlier calls — and returns its output of `spec.size` values,
   * left on the device: kernels are built with `pipeline: true, immutable: true`, so every call returns a fresh
   * value (a `Float32Array` in the `cpu` and `webasm` modes, a texture in the GL modes) that nothing else writes.
   */
  run(name: string, key: string, make: () => KernelSpec, args: readonly unknown[]): DeviceValue {
    const cacheKey = kernelCacheKey(name, key, args);
    let k = this.cache.get(cacheKey);
    if (k === undefined) {
      const spec = make();
      k = this.gpu.createKernel(spec.source, kernelSettings(spec.size)) as unknown as RunShortcut;
      this.cache.set(cacheKey, k);
    }
    const result = k(...args);
    this.counters.deviceCall(name, assertKernelClass(this.mode, k.kernel, name));
    if (result instanceof Float32Array) return result;
    if (isTexture(result)) return result;
    throw new GpuBackendError(
      `gpu.js kernel '${name}' returned ${Object.prototype.toString.call(result)}, expected a Float32Array or a texture`,
    );
  }

  /**
   * A device copy of `v` that can be freed independently: the same array in the `cpu`/`webasm` modes (device values
   * are never written after they are made), a reference-counted clone of the texture in the GL modes.
   */
  share(v: DeviceValue): DeviceValue {
    if (v instanceof Float32Array) return v;
    return (v as GpuTexture & { clone(): GpuTexture }).clone();
  }

  /** Counts one call of contract kernel `name` that ran the CPU reference, and why. */
  countFallback(name: string, reason: string): void {
    this.counters.fallbackCall(name, reason);
  }

  /** A snapshot of the counters. */
  stats(): GpuBackendStats {
    return this.counters.snapshot(this.mode, this.cache.size);
  }

  /** Zeroes the counters (compiled kernels stay cached). */
  resetStats(): void {
    this.counters.reset();
  }

  /** Frees every compiled kernel (GL textures and programs) and the gpu.js instance. */
  destroy(): void {
    this.cache.clear();
    this.gpu.destroy();
  }
}

/**
 * The cache key of kernel `name`/`key` on `args`: argument kinds and sizes are part of a compiled kernel (gpu.js
 * types and sizes its inputs at build).
 */
export function kernelCacheKey(name: string, key: string, args: readonly unknown[]): string {
  return `${name}|${key}|${args.map(argumentKey).join(',')}`;
}

/** Whether `v` is a gpu.js texture (a pipelined GL output) or a handle that behaves as one. */
function isTexture(v: unknown): v is GpuTexture {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as GpuTexture).toArray === 'function' &&
    typeof (v as GpuTexture).delete === 'function' &&
    Array.isArray((v as GpuTexture).output)
  );
}

/** Kind and size of a kernel argument, for the cache key: `a<n>` for arrays, `t<w>x<h>` for textures. */
function argumentKey(a: unknown): string {
  if (ArrayBuffer.isView(a)) return `a${(a as Float32Array).length}`;
  if (isTexture(a)) return `t${a.output.join('x')}`;
  return typeof a;
}

/**
 * A {@link GpuRunner} for `mode` (loop budget `maxLoopIterations`, see {@link GpuRunner.maxLoopIterations}), or a {@link GpuBackendError} saying why that mode cannot run here. gpu.js would
 * silently pick another mode; this refuses instead.
 */
export function createGpuRunner(mode: GpuMode, maxLoopIterations?: number): GpuRunner {
  if (!GPU_MODES.includes(mode)) {
    throw new GpuBackendError(`gpu.js mode '${String(mode)}' is unknown; modes: ${GPU_MODES.join(', ')}`);
  }
  if (mode === 'webgpu') {
    throw new GpuBackendError(
      "gpu.js mode 'webgpu' runs asynchronous kernels, which the synchronous kernel contract cannot call on the " +
        'same thread: serve them from a thread with WebGPU (serveGpuDevice(port)) and create the backend in a ' +
        "worker with 'await connectGpuBackend(port)' (see docs/gpu.md, WebGPU)",
    );
  }
  if (!gpuModeAvailable(mode)) {
    throw new GpuBackendError(
      `gpu.js mode '${mode}' is not available here` +
        (mode === 'headlessgl' ? " (the 'gl' package did not load or gave no context)" : ''),
    );
  }
  return new GpuRunner(mode, maxLoopIterations);
}
