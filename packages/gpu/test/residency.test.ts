/**
 * Device-resident storage of the gpu.js backend (residency.ts): kernel outputs stay on the device between
 * kernels and come back only when read; CPU kernels and host reads see current values; copies and disposal
 * are handled on the device.
 */
import {
  conv1d,
  Generator,
  linear,
  maxPool1d,
  noGrad,
  randn,
  relu,
  reshape,
  softmax,
  sum,
  type Tensor,
  withBackend,
} from '@ecgnn/core';
import { createGpuBackend, type GpuBackend, type GpuMode } from '@ecgnn/gpu';
import { afterAll, describe, expect, test } from 'vitest';
import { skipUnavailableMode } from './mode-skip.js';

function chain(x: Tensor, w1: Tensor, w2: Tensor): Tensor {
  const h = maxPool1d(relu(conv1d(x, w1, undefined, { padding: 1 })), 2); // [2, 4, 8]
  return linear(reshape(h, [2, 32]), w2); // [2, 3]
}

function close(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
}

describe.each(['cpu', 'webasm', 'headlessgl'] as GpuMode[])('gpu.js %s: device-resident storage', (mode) => {
  if (skipUnavailableMode(mode)) return;
  const gpu: GpuBackend = createGpuBackend({ mode });
  afterAll(() => gpu.dispose());
  const g = new Generator(3);
  const x = randn([2, 2, 16], { generator: g });
  const w1 = randn([4, 2, 3], { generator: g });
  const w2 = randn([3, 32], { generator: g });
  const want = noGrad(() => chain(x, w1, w2)).data;

  test('a chain of device kernels keeps every intermediate on the device; reading the result copies it once', () => {
    gpu.resetStats();
    const y = withBackend(gpu, () => noGrad(() => chain(x, w1, w2)));
    const before = gpu.memory();
    expect(before.downloads).toBe(0); // nothing came back to the host on the way
    expect(before.stored).toBeGreaterThanOrEqual(4); // conv, relu, pool values, reshape copy, matmul
    expect(before.buffers).toBeGreaterThan(0);
    close(y.data, want);
    expect(gpu.memory().downloads).toBe(1);
    close(y.data, want); // the host copy is now the only one: no second download
    expect(gpu.memory().downloads).toBe(1);
  });

  test('await tensor.read() and item() bring the values back', async () => {
    const y = withBackend(gpu, () => noGrad(() => chain(x, w1, w2)));
    close(await y.read(), want);
    const s = withBackend(gpu, () => noGrad(() => sum(relu(x))));
    expect(s.item()).toBeCloseTo(
      Array.from(x.data).reduce((a, v) => a + Math.max(v, 0), 0),
      4,
    );
  });

  test('a CPU kernel (softmax is not on gpu.js) reads the current values of a device-held input', () => {
    const p = withBackend(gpu, () => noGrad(() => softmax(chain(x, w1, w2), -1)));
    const wantP = noGrad(() => softmax(chain(x, w1, w2), -1)).data;
    close(p.data, wantP);
    expect(gpu.stats().fallbacks.softmax).toBeGreaterThan(0);
  });

  test('disposing or tidying tensors frees their device values', () => {
    gpu.resetStats();
    const held = gpu.memory().buffers;
    const y = withBackend(gpu, () => noGrad(() => relu(conv1d(x, w1, undefined, { padding: 1 }))));
    expect(gpu.memory().buffers).toBeGreaterThan(held);
    y.dispose();
    // the conv output was an intermediate nobody disposed: it waits for the garbage collector; the relu is freed
    expect(gpu.memory().buffers).toBeLessThanOrEqual(held + 1);
  });

  if (mode === 'headlessgl') {
    test('reading a device value after dispose() is a typed error, not a read of a dead context', () => {
      const other = createGpuBackend({ mode });
      const y = withBackend(other, () => noGrad(() => relu(conv1d(x, w1, undefined, { padding: 1 }))));
      other.dispose();
      expect(() => y.data).toThrow(/values are still on the device of a disposed backend/);
    });
  }

  test('host writes after a read are not overwritten by a stale device copy', () => {
    const y = withBackend(gpu, () => noGrad(() => relu(conv1d(x, w1, undefined, { padding: 1 }))));
    y.data.fill(2); // claims the values on the host, then writes them
    const z = withBackend(gpu, () => noGrad(() => sum(y)));
    expect(z.item()).toBe(2 * y.size);
  });
});
