/**
 * Device-resident storage (storage.ts): the protocol core follows with a device that holds newer values of host
 * arrays, checked with a small test device that keeps such values in a Map; and the table of kernel outputs that
 * device backends rely on, checked against what the reference kernels really write.
 */
import type { TypedArray } from '@ecgnn/kernels';
import { describe, expect, it } from 'vitest';
import {
  crossEntropy,
  mul,
  nn,
  randn,
  registerStorageDevice,
  reshape,
  type StorageDevice,
  sum,
  syncToHost,
  type Tensor,
  tensor,
  tidy,
} from '../src/index.js';

/**
 * A storage device for tests: `put(a, values)` makes it hold newer values of `a` (as a device kernel's output
 * would); it records every call core makes.
 */
class TestDevice implements StorageDevice {
  readonly name = 'test-device';
  readonly held = new Map<TypedArray, Float64Array>();
  readonly calls: string[] = [];

  put(a: TypedArray, values: readonly number[]): void {
    this.held.set(a, Float64Array.from(values));
  }

  claimHost(a: TypedArray): void {
    const v = this.held.get(a);
    if (v === undefined) return;
    this.calls.push('claimHost');
    a.set(v);
    this.held.delete(a);
  }

  async claimHostAsync(a: TypedArray): Promise<void> {
    const v = this.held.get(a);
    if (v === undefined) return;
    this.calls.push('claimHostAsync');
    await Promise.resolve();
    a.set(v);
    this.held.delete(a);
  }

  copy(src: TypedArray, dst: TypedArray): boolean {
    const v = this.held.get(src);
    if (v === undefined) return false;
    this.calls.push('copy');
    this.held.set(dst, v.slice());
    return true;
  }

  release(a: TypedArray): void {
    if (this.held.delete(a)) this.calls.push('release');
  }
}

const device = new TestDevice();
registerStorageDevice(device);

describe('device-resident storage: what core does with a device holding newer values', () => {
  it('tensor.data brings the values back once and the device forgets them; tensor.storage does not', () => {
    const t = tensor([1, 2, 3]);
    device.put(t.storage, [7, 8, 9]);
    expect(Array.from(t.storage)).toEqual([1, 2, 3]); // stale host values, untouched
    expect(device.held.has(t.storage)).toBe(true);
    expect(Array.from(t.data)).toEqual([7, 8, 9]);
    expect(device.held.has(t.storage)).toBe(false);
    expect(device.calls.splice(0)).toEqual(['claimHost']);
    t.data[0] = 5; // the host is the only copy now: writing it is safe
    expect(t.item === undefined).toBe(false);
    expect(Array.from(t.data)).toEqual([5, 8, 9]);
    expect(device.calls.splice(0)).toEqual([]);
  });

  it('item, toArray, toString and syncToHost read the device values', () => {
    const s = tensor([0]);
    device.put(s.storage, [4.5]);
    expect(s.item()).toBe(4.5);
    const m = tensor([
      [0, 0],
      [0, 0],
    ]);
    device.put(m.storage, [1, 2, 3, 4]);
    expect(m.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const u = tensor([0, 0]);
    device.put(u.storage, [6, 7]);
    expect(u.toString()).toContain('data=[6, 7]');
    const raw = new Float32Array(2);
    device.put(raw, [1.5, 2.5]);
    syncToHost(raw);
    expect(Array.from(raw)).toEqual([1.5, 2.5]);
    expect(device.calls.splice(0)).toEqual(['claimHost', 'claimHost', 'claimHost', 'claimHost']);
  });

  it('await tensor.read() uses the asynchronous read', async () => {
    const t = tensor([1, 2]);
    device.put(t.storage, [3, 4]);
    const values = await t.read();
    expect(Array.from(values)).toEqual([3, 4]);
    expect(values).toBe(t.storage);
    expect(device.calls.splice(0)).toEqual(['claimHostAsync']);
    t.dispose();
    await expect(t.read()).rejects.toThrow(/read: tensor .* was disposed/);
  });

  it('copies of device-newer storage (clone, detach, reshape) are made on the device', () => {
    const x = tensor([1, 2, 3, 4]);
    device.put(x.storage, [10, 20, 30, 40]);
    const c = x.clone();
    const d = x.detach();
    const r = reshape(x, [2, 2]);
    expect(device.calls.splice(0)).toEqual(['copy', 'copy', 'copy']);
    expect(device.held.has(c.storage) && device.held.has(d.storage) && device.held.has(r.storage)).toBe(true);
    expect(Array.from(c.data)).toEqual([10, 20, 30, 40]);
    expect(Array.from(d.data)).toEqual([10, 20, 30, 40]);
    expect(r.toArray()).toEqual([
      [10, 20],
      [30, 40],
    ]);
    // Host-current storage is copied on the host, without asking the device.
    device.calls.length = 0;
    const h = tensor([1, 2]).clone();
    expect(Array.from(h.data)).toEqual([1, 2]);
    expect(device.calls).toEqual([]);
  });

  it('disposing a tensor, or tidy, frees its device copy', () => {
    const t = mul(tensor([1, 2]), 2);
    device.put(t.storage, [0, 0]);
    t.dispose();
    expect(device.calls.splice(0)).toEqual(['release']);
    let inner: TypedArray | null = null;
    tidy(() => {
      const a = mul(tensor([1, 2]), 3);
      inner = a.storage;
      device.put(a.storage, [9, 9]);
      return null;
    });
    expect(device.held.has(inner as unknown as TypedArray)).toBe(false);
    expect(device.calls.splice(0)).toEqual(['release']);
  });

  it('assigning tensor.data checks dtype and length', () => {
    const t = tensor([1, 2, 3]);
    t.data = new Float32Array([4, 5, 6]);
    expect(Array.from(t.data)).toEqual([4, 5, 6]);
    expect(() => {
      t.data = new Float32Array(2);
    }).toThrow(/Tensor\.data: new storage must be a float32 array of 3 elements, got float32 of 2/);
    expect(() => {
      t.data = new Float64Array(3);
    }).toThrow(/got float64 of 3/);
  });
});

describe("tidy and dispose after backward(): a step's activations are recycled", () => {
  it('tidy around forward + backward disposes the activations, keeps parameters and gradients', () => {
    const fc = new nn.Linear(4, 3);
    const conv = new nn.Conv1d(1, 2, 3, { padding: 1 });
    const seen: Tensor[] = [];
    const value = tidy(() => {
      const x = randn([5, 1, 2]);
      const h = conv.forward(x); // [5, 2, 2]: output of a recorded op, input of the next ones
      const flat = reshape(h, [5, 4]);
      const logits = fc.forward(flat);
      const loss = crossEntropy(logits, tensor([0, 1, 2, 0, 1], [5], { dtype: 'int32' }));
      seen.push(x, h, flat, logits, loss);
      loss.backward();
      return loss.item();
    });
    expect(Number.isFinite(value)).toBe(true);
    expect(seen.map((t) => t.isDisposed)).toEqual([true, true, true, true, true]);
    for (const p of [...fc.parameters(), ...conv.parameters()]) {
      expect(p.isDisposed).toBe(false);
      expect(p.grad?.isDisposed).toBe(false);
    }
  });

  it('without backward(), or with retainGraph, the graph keeps its tensors', () => {
    const w = randn([3]).requiresGrad_();
    const kept: Tensor[] = [];
    tidy(() => {
      const a = mul(w, 2);
      sum(a); // never differentiated: its graph stays alive
      kept.push(a);
      const b = mul(w, 3);
      sum(b).backward(undefined, { retainGraph: true });
      kept.push(b);
      return null;
    });
    expect(kept.map((t) => t.isDisposed)).toEqual([false, false]);
  });

  it('dispose() after backward() recycles the activation storage; before it, keeps it readable', () => {
    const w = randn([4]).requiresGrad_();
    const a = mul(w, 2);
    const loss = sum(mul(a, a));
    a.dispose();
    expect(a.storage.length).toBe(4); // still held by the graph: backward reads it
    loss.backward();
    expect(Array.from(w.grad!.data)).toEqual(Array.from(w.data, (v) => 8 * v).map((v) => Math.fround(v)));
    const b = mul(w, 2);
    sum(b).backward();
    b.dispose();
    expect(b.storage.length).toBe(0);
  });
});
