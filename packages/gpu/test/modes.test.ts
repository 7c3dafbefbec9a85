/**
 * The gpu.js modes really used: for each mode that runs here the backend's kernels are built as that mode's
 * gpu.js kernel class (gpu.js would fall back silently), float64 calls fall back to CPU and are counted, kernels
 * are compiled once per geometry, loop bounds past gpu.js's default cut (1000) are honoured, and kernels past the
 * loop budget (65,535 in the GL modes: Mesa's software rasteriser stops there silently) run on CPU.
 */
import { clamp, Generator, matmul, ones, randn, sum, syncToHost, tensor, withBackend } from '@ecgnn/core';
import {
  assertKernelClass,
  createGpuBackend,
  expectedKernelClass,
  GpuBackendError,
  GpuKernelClassError,
  type GpuMode,
  gpuModeAvailable,
} from '@ecgnn/gpu';
import gpujs from 'gpu.js';
import { describe, expect, test } from 'vitest';
import { skipUnavailableMode } from './mode-skip.js';

const { GPU, CPUKernel, WebAssemblyKernel, HeadlessGLKernel } = gpujs;
const CLASSES: Record<string, { readonly name: string }> = {
  cpu: CPUKernel,
  webasm: WebAssemblyKernel,
  headlessgl: HeadlessGLKernel,
};

const modes: GpuMode[] = ['cpu', 'webasm', 'headlessgl'];

/** Largest |a − b| over two arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each(modes)('gpu.js mode %s', (mode) => {
  if (skipUnavailableMode(mode)) return;

  test('kernels are built as the mode’s gpu.js class, and run on it', () => {
    const backend = createGpuBackend({ mode });
    const a = randn([3, 5, 7], { generator: new Generator(1) });
    const b = randn([7, 4], { generator: new Generator(2) });
    const got = withBackend(backend, () => matmul(a, b));
    const stats = backend.stats();
    expect(stats.deviceCalls.matmul).toBe(1);
    expect(stats.kernelClasses).toEqual([expectedKernelClass(mode)]);
    expect(expectedKernelClass(mode)).toBe(CLASSES[mode].name);
    expect(maxDiff(got.data, withBackend('cpu', () => matmul(a, b)).data)).toBeLessThan(1e-5);
    backend.dispose();
  });

  test('float64 operands run the CPU reference, counted per kernel', () => {
    const backend = createGpuBackend({ mode });
    const a = randn([4, 6], { dtype: 'float64', generator: new Generator(3) });
    const got = withBackend(backend, () => matmul(a, a.transpose(0, 1)));
    const stats = backend.stats();
    expect(stats.fallbacks.matmul).toBe(1);
    expect(stats.fallbackReasons.matmul).toMatch(/Float64Array/);
    expect(stats.deviceCalls.matmul).toBeUndefined();
    expect(Array.from(got.data)).toEqual(
      Array.from(withBackend('cpu', () => matmul(a, a.transpose(0, 1))).data),
    );
    backend.dispose();
  });

  test('kernels are compiled once per geometry', () => {
    const backend = createGpuBackend({ mode });
    const a = randn([5, 8], { generator: new Generator(4) });
    const b = randn([8, 3], { generator: new Generator(5) });
    withBackend(backend, () => matmul(a, b));
    const first = backend.stats().compiledKernels;
    withBackend(backend, () => matmul(b.transpose(0, 1), a.transpose(0, 1)));
    const second = backend.stats().compiledKernels;
    withBackend(backend, () => {
      matmul(a, b);
      matmul(b.transpose(0, 1), a.transpose(0, 1));
    });
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(backend.stats().compiledKernels).toBe(second);
    expect(backend.stats().deviceCalls.matmul).toBe(4);
    backend.dispose();
  });

  test('a reduction of 3000 terms is not cut at gpu.js’s default 1000 loop iterations', () => {
    const backend = createGpuBackend({ mode });
    const a = randn([2, 3000], { generator: new Generator(6) }).abs();
    const b = randn([3000, 2], { generator: new Generator(7) }).abs();
    const got = withBackend(backend, () => matmul(a, b)).data;
    const want = withBackend('cpu', () => matmul(a, b)).data;
    // All terms positive: a cut loop would lose about two thirds of each sum.
    for (let i = 0; i < 4; i++) expect(Math.abs(got[i] - want[i]) / want[i]).toBeLessThan(1e-4);
    backend.dispose();
  });

  test('a sum of 70,000 ones is 70,000 (GL modes: past the 65,535-iteration loop budget it runs on CPU)', () => {
    const backend = createGpuBackend({ mode });
    const got = withBackend(backend, () => sum(ones([70000])).item());
    expect(got).toBe(70000);
    const stats = backend.stats();
    if (mode === 'headlessgl') expect(stats.fallbackReasons.reduce).toMatch(/70000 loop iterations/);
    else expect(stats.deviceCalls.reduce).toBe(1);
    backend.dispose();
  });

  test('clamp passes NaN through on the device; the kernel with min > max runs the reference (all max)', () => {
    const b = createGpuBackend({ mode });
    try {
      expect(withBackend(b, () => clamp(tensor([2, -5, 0.5]), -1, 1).toArray())).toEqual([1, -1, 0.5]);
      expect(b.stats().deviceCalls.unary).toBe(1);
      // Core refuses min > max; the kernel contract takes it (min(max(v, p0), p1) = p1).
      const out = new Float32Array(3);
      b.kernels.unary?.('clamp', Float32Array.of(2, -5, 0.5), out, 1, -1);
      syncToHost(out);
      expect(Array.from(out)).toEqual([-1, -1, -1]);
      expect(b.stats().fallbackReasons.unary).toBe('clamp with min > max');
      // headless-gl (WebGL 1) keeps values in RGBA8 textures, which cannot hold a NaN (docs/gpu.md).
      if (mode !== 'headlessgl') {
        const nan = withBackend(b, () => clamp(tensor([Number.NaN]), -1, 1).data);
        expect(nan[0]).toBeNaN();
      }
    } finally {
      b.dispose();
    }
  });

  test('kernels past maxLoopIterations run on CPU, counted', () => {
    const backend = createGpuBackend({ mode, maxLoopIterations: 100 });
    const a = randn([3, 200], { generator: new Generator(8) });
    const b = randn([200, 2], { generator: new Generator(9) });
    const got = withBackend(backend, () => matmul(a, b));
    expect(backend.stats().fallbacks.matmul).toBe(1);
    expect(backend.stats().fallbackReasons.matmul).toMatch(/200 loop iterations per thread \(limit 100/);
    expect(Array.from(got.data)).toEqual(Array.from(withBackend('cpu', () => matmul(a, b)).data));
    backend.dispose();
  });
});

describe('mode selection', () => {
  test('a kernel of another class than the mode’s is refused (gpu.js’s silent fallback)', () => {
    const cpuGpu = new GPU({ mode: 'cpu' });
    const k = cpuGpu.createKernel('function (x) { return x[this.thread.x]; }', { output: [2] });
    k(new Float32Array([1, 2]));
    expect(assertKernelClass('cpu', k.kernel, 'probe')).toBe('CPUKernel');
    expect(() => assertKernelClass('webasm', k.kernel, 'probe')).toThrow(GpuKernelClassError);
    expect(() => assertKernelClass('headlessgl', k.kernel, 'probe')).toThrow(
      /ran kernel 'probe' as CPUKernel/,
    );
    cpuGpu.destroy();
  });

  test('webgpu is refused (asynchronous kernels), webgl2 needs a browser, unknown modes are named', () => {
    expect(() => createGpuBackend({ mode: 'webgpu' })).toThrow(/asynchronous/);
    if (!gpuModeAvailable('webgl2'))
      expect(() => createGpuBackend({ mode: 'webgl2' })).toThrow(GpuBackendError);
    expect(() => createGpuBackend({ mode: 'gpu' as GpuMode })).toThrow(/mode 'gpu' is unknown/);
  });
});
