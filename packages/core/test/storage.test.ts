import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  add,
  arange,
  backward,
  batchNorm,
  clamp,
  concat,
  conv1d,
  emptyStoragePool,
  exp,
  expand,
  full,
  Generator,
  gather,
  gt,
  indexSelect,
  matmul,
  max,
  maxPool1d,
  mul,
  narrow,
  noGrad,
  pad,
  permute,
  rand,
  randn,
  relu,
  reshape,
  setStoragePoolLimit,
  sigmoid,
  slice,
  stack,
  storagePoolStats,
  sum,
  Tensor,
  tensor,
  tidy,
  to,
  ValueError,
  where,
  zeros,
} from '../src/index.js';

afterEach(() => {
  setStoragePoolLimit(64 * 1024 * 1024);
  emptyStoragePool();
});

/** `.grad` read through a function, so TypeScript does not keep a narrowing from an earlier `t.grad = null`. */
const gradOf = (t: Tensor): Tensor => t.grad as Tensor;
const filled = (n: number, v: number) => tensor(new Float32Array(n).fill(v), [n]);

describe('Tensor.dispose and the storage pool', () => {
  it('hands an op output’s storage to the next allocation of the same dtype and length, zero-filled', () => {
    emptyStoragePool();
    const a = filled(1000, 2);
    const y = add(a, a);
    const storage = y.data;
    expect(storage[0]).toBe(4);
    const before = storagePoolStats();
    y.dispose();
    expect(y.isDisposed).toBe(true);
    expect(y.data.length).toBe(0);
    expect(storagePoolStats().bytes).toBe(before.bytes + 4000);
    const z = mul(a, a); // same dtype and length: reuses y's storage
    expect(z.data).toBe(storage);
    expect(Array.from(z.data.subarray(0, 3))).toEqual([4, 4, 4]);
    expect(storagePoolStats().hits).toBe(before.hits + 1);
    // another length or dtype does not take it
    y.dispose(); // idempotent: nothing released twice
    expect(storagePoolStats().bytes).toBe(before.bytes);
  });

  it('zero-fills recycled storage (ops that accumulate into their output see zeros)', () => {
    const x = tensor(
      Float32Array.from({ length: 2 * 3 * 10 }, (_, i) => Math.sin(i)),
      [2, 3, 10],
    );
    const w = tensor(
      Float32Array.from({ length: 4 * 3 * 3 }, (_, i) => Math.cos(i)),
      [4, 3, 3],
    );
    const ref = conv1d(x, w, null, { padding: 1 });
    const expected = Array.from(ref.data);
    for (let i = 0; i < 5; i++) {
      const y = conv1d(x, w, null, { padding: 1 });
      expect(Array.from(y.data)).toEqual(expected);
      y.data.fill(123); // garbage left in the storage must not leak into the next op
      y.dispose();
    }
  });

  it("max pooling's saved positions go back to the pool when backward frees the graph, or at once without one", () => {
    const x = tensor(
      Float32Array.from({ length: 2 * 3 * 40 }, (_, i) => Math.sin(i * 0.7)),
      [2, 3, 40],
      { requiresGrad: true },
    );
    const n = 2 * 3 * 13; // positions of maxPool1d(x, 3)
    /** Whether the next int32 allocation of n elements is served by the pool (then disposed again). */
    const int32Pooled = () => {
      const hits = storagePoolStats().hits;
      to(filled(n, 1), 'int32').dispose();
      return storagePoolStats().hits === hits + 1;
    };
    emptyStoragePool();
    const y = maxPool1d(x, 3);
    expect(int32Pooled()).toBe(false); // held by the graph node
    emptyStoragePool();
    backward(sum(y));
    expect(int32Pooled()).toBe(true);
    emptyStoragePool();
    noGrad(() => maxPool1d(x, 3)); // not recorded: released at once
    expect(int32Pooled()).toBe(true);
    emptyStoragePool();
    const z = maxPool1d(x, 3);
    backward(sum(z), undefined, { retainGraph: true }); // the graph is kept, and with it the positions
    expect(int32Pooled()).toBe(false);
  });

  it('never recycles storage the caller wrapped with new Tensor(data, shape)', () => {
    const mine = new Float32Array(64).fill(7);
    const t = new Tensor(mine, [64]);
    t.dispose();
    const y = add(filled(64, 1), filled(64, 1));
    expect(y.data).not.toBe(mine);
    expect(mine[0]).toBe(7);
  });

  it('keeps nothing when the limit is 0, and drops what is over a lowered limit', () => {
    const y = add(filled(256, 1), filled(256, 1));
    y.dispose();
    expect(storagePoolStats().bytes).toBeGreaterThan(0);
    setStoragePoolLimit(0);
    expect(storagePoolStats().bytes).toBe(0);
    const dropped = storagePoolStats().dropped;
    add(filled(256, 1), filled(256, 1)).dispose();
    expect(storagePoolStats().bytes).toBe(0);
    expect(storagePoolStats().dropped).toBe(dropped + 1);
    expect(() => setStoragePoolLimit(-1)).toThrow(RangeError);
  });

  it('throws a ValueError naming the tensor when a disposed tensor is used', () => {
    const t = filled(3, 1);
    t.name = 'batch';
    t.dispose();
    expect(() => add(t, t)).toThrow(ValueError);
    expect(() => add(t, t)).toThrow(/add: input 0: tensor 'batch' of shape \[3\] was disposed/);
    expect(() => t.item()).toThrow(ValueError);
    expect(() => t.toArray()).toThrow(/toArray: tensor 'batch'/);
    expect(() => t.detach()).toThrow(ValueError);
    expect(t.size).toBe(3);
    expect(String(t)).toMatch(/disposed/);
  });

  it('keeps the storage of a disposed input that a recorded op holds, so backward() stays right', () => {
    const w = tensor(new Float32Array([1, 2, 3]), [3], { requiresGrad: true });
    const x = add(filled(3, 1), filled(3, 1)); // op-allocated: would be recyclable
    const loss = sum(mul(x, w));
    const bytes = storagePoolStats().bytes;
    x.dispose();
    expect(storagePoolStats().bytes).toBe(bytes);
    add(filled(3, 5), filled(3, 5)); // would reuse x's storage if it had been released
    backward(loss);
    expect(Array.from((w.grad as Tensor).data)).toEqual([2, 2, 2]);
    expect(() => mul(x, w)).toThrow(/mul: input 0: tensor of shape \[3\] was disposed/);
  });

  it('recycles a disposed .grad; the next backward() starts a fresh one instead of adding into it', () => {
    emptyStoragePool();
    const w = tensor(new Float32Array(64).fill(1), [64], { requiresGrad: true });
    backward(sum(mul(w, w)));
    const first = gradOf(w);
    first.dispose();
    expect(storagePoolStats().bytes).toBe(256);
    const hits = storagePoolStats().hits;
    backward(sum(mul(w, w)));
    expect(gradOf(w)).not.toBe(first);
    expect(gradOf(w).data[0]).toBe(2); // not 4: nothing accumulated into the disposed one
    expect(storagePoolStats().hits).toBe(hits + 1); // the recycled storage was taken
  });

  it('does not recycle storage of tensors recorded in a graph; disposes .grad with the tensor', () => {
    const w = tensor(new Float32Array([1, 2, 3]), [3], { requiresGrad: true });
    const y = mul(w, w);
    const kept = y.data;
    const bytes = storagePoolStats().bytes;
    y.dispose();
    expect(storagePoolStats().bytes).toBe(bytes);
    expect(kept[2]).toBe(9);
    backward(sum(mul(w, filled(3, 1))));
    const g = w.grad as Tensor;
    expect(g).not.toBeNull();
    w.dispose();
    expect(w.grad).toBeNull();
    expect(g.isDisposed).toBe(true);
  });

  it('live tensors never share storage, whatever the order of allocations and disposals (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ len: fc.integer({ min: 1, max: 4 }), dispose: fc.nat(5) }), {
          minLength: 1,
          maxLength: 40,
        }),
        (steps) => {
          emptyStoragePool();
          const live: { t: Tensor; v: number }[] = [];
          let v = 0;
          for (const s of steps) {
            v++;
            const t = noGrad(() => add(filled(s.len * 8, v), filled(s.len * 8, 0)));
            live.push({ t, v });
            if (s.dispose < live.length && s.dispose % 2 === 0) {
              const [gone] = live.splice(s.dispose, 1);
              gone.t.dispose();
            }
          }
          const seen = new Set<unknown>();
          for (const { t, v: value } of live) {
            expect(seen.has(t.data)).toBe(false);
            seen.add(t.data);
            for (const e of t.data) expect(e).toBe(value);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('tidy', () => {
  it('disposes the tensors made inside except those returned, and recycles their storage', () => {
    emptyStoragePool();
    const a = filled(500, 1);
    let inner: Tensor | null = null;
    const [kept, other] = tidy(() => {
      inner = add(a, a);
      const b = mul(inner, inner);
      return [add(b, a), { nested: mul(a, a) }.nested];
    });
    expect((inner as Tensor | null)?.isDisposed).toBe(true);
    expect(kept.isDisposed).toBe(false);
    expect(other.isDisposed).toBe(false);
    expect(kept.data[0]).toBe(5);
    expect(a.isDisposed).toBe(false); // made outside
    expect(storagePoolStats().bytes).toBe(2 * 500 * 4);
  });

  it('keeps tensors inside returned plain objects; hands returned tensors to the enclosing scope', () => {
    const a = filled(4, 1);
    let mid: Tensor | null = null;
    const out = tidy(() => {
      mid = tidy(() => add(a, a));
      return { y: add(mid, a), list: [mul(a, a)] };
    });
    expect((mid as Tensor | null)?.isDisposed).toBe(true);
    expect(out.y.data[0]).toBe(3);
    expect(out.list[0].isDisposed).toBe(false);
  });

  it('around forward + backward leaves the graph, parameters and .grad alone', () => {
    const w = tensor(new Float32Array([1, 2, 3]), [3], { requiresGrad: true });
    const loss = tidy(() => {
      const x = add(filled(3, 1), filled(3, 1));
      const l = sum(mul(mul(x, w), w));
      backward(l, undefined, { retainGraph: true });
      return l;
    });
    expect(Array.from((w.grad as Tensor).data)).toEqual([4, 8, 12]);
    w.grad = null;
    backward(loss);
    expect(Array.from(gradOf(w).data)).toEqual([4, 8, 12]);
  });

  it('refuses an async fn', () => {
    expect(() => tidy((async () => filled(1, 1)) as never)).toThrow(/synchronous/);
  });
});

describe('ops that skip the zero-fill of recycled storage', () => {
  /** Leaves one NaN-filled array of `n` float32 elements in the pool (the next allocation of `n` takes it). */
  function poison(n: number): void {
    const t = add(filled(n, Number.NaN), filled(n, 0));
    t.dispose();
  }

  /** Leaves `count` NaN-filled arrays of each size in the pool (made all at once, then released together). */
  function poisonMany(sizes: readonly number[], count: number): void {
    const held: Tensor[] = [];
    for (const n of sizes)
      for (let i = 0; i < count; i++) {
        held.push(add(filled(n, Number.NaN), filled(n, 0)));
        // int32 storage too (max pooling's positions): −7 is no valid position.
        held.push(to(filled(n, -7), 'int32'));
      }
    for (const t of held) t.dispose();
  }

  const same = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect([i, a[i]]).toEqual([i, b[i]]);
  };

  /** Conv geometries of the poisoned-storage properties (groups, stride, dilation, padding; with or without bias). */
  const convGeometry = fc.record({
    batch: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cinG: fc.integer({ min: 1, max: 4 }),
    coutG: fc.integer({ min: 1, max: 5 }),
    length: fc.integer({ min: 1, max: 40 }),
    k: fc.integer({ min: 1, max: 5 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    pad: fc.integer({ min: 0, max: 3 }),
    bias: fc.boolean(),
  });

  /** Fixed-value input `[batch, cin, length]` (sin i) and weight `[cout, cinG, k]` (cos i) of those properties. */
  function convOperands(batch: number, cin: number, cout: number, cinG: number, length: number, k: number) {
    const x = tensor(
      Float32Array.from({ length: batch * cin * length }, (_, i) => Math.sin(i)),
      [batch, cin, length],
    );
    const w = tensor(
      Float32Array.from({ length: cout * cinG * k }, (_, i) => Math.cos(i)),
      [cout, cinG, k],
    );
    return [x, w] as const;
  }

  it('conv1d forward assigns every output element (NaN-poisoned storage, fast-check geometries)', () => {
    fc.assert(
      fc.property(convGeometry, ({ batch, groups, cinG, coutG, length, k, stride, dilation, pad, bias }) => {
        const cin = cinG * groups;
        const cout = coutG * groups;
        if (length + 2 * pad < dilation * (k - 1) + 1) return;
        const [x, w] = convOperands(batch, cin, cout, cinG, length, k);
        const b = bias
          ? tensor(
              Float32Array.from({ length: cout }, (_, i) => i / 7),
              [cout],
            )
          : null;
        emptyStoragePool();
        const ref = conv1d(x, w, b, { stride, dilation, padding: pad, groups });
        const expected = Array.from(ref.data);
        poison(ref.size);
        same(conv1d(x, w, b, { stride, dilation, padding: pad, groups }).data, expected);
      }),
      { numRuns: 60 },
    );
  });

  it('conv1d backward assigns every element of the input and weight gradients (NaN-poisoned storage, fast-check geometries)', () => {
    fc.assert(
      fc.property(convGeometry, ({ batch, groups, cinG, coutG, length, k, stride, dilation, pad }) => {
        const cin = cinG * groups;
        const cout = coutG * groups;
        if (length + 2 * pad < dilation * (k - 1) + 1) return;
        const opts = { stride, dilation, padding: pad, groups };
        // Input positions no window reaches (stride > kernel span) and padding get no gradient: 0, not garbage.
        const grads = () => {
          const [x, w] = convOperands(batch, cin, cout, cinG, length, k);
          x.requiresGrad = true;
          w.requiresGrad = true;
          const y = conv1d(x, w, null, opts);
          const r = tensor(
            Float32Array.from({ length: y.size }, (_, i) => Math.cos(3 * i + 1)),
            y.shape,
          );
          backward(sum(mul(y, r)));
          return { gx: Array.from((x.grad as Tensor).data), gw: Array.from((w.grad as Tensor).data) };
        };
        emptyStoragePool();
        const expected = grads();
        poisonMany([batch * cin * length, cout * cinG * k], 4);
        const got = grads();
        same(got.gx, expected.gx);
        same(got.gw, expected.gw);
      }),
      { numRuns: 60 },
    );
  });

  it('matmul assigns every output element (NaN-poisoned storage, batched, transposed)', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          m: fc.integer({ min: 1, max: 40 }),
          k: fc.integer({ min: 1, max: 20 }),
          n: fc.integer({ min: 1, max: 40 }),
        }),
        ({ batch, m, k, n }) => {
          const a = tensor(
            Float32Array.from({ length: batch * m * k }, (_, i) => Math.sin(i)),
            [batch, m, k],
          );
          const b = tensor(
            Float32Array.from({ length: k * n }, (_, i) => Math.cos(i)),
            [k, n],
          );
          emptyStoragePool();
          const ref = matmul(a, b);
          const expected = Array.from(ref.data);
          poison(ref.size);
          same(matmul(a, b).data, expected);
        },
      ),
      { numRuns: 60 },
    );
  });
  it('a training block (batchNorm → relu → maxPool1d → sigmoid) assigns every output and gradient element (NaN-poisoned storage)', () => {
    // batchNorm's output and gradients, unaryBackward's gradient (relu, sigmoid), maxPool1d's output and its
    // gradient skip the zero-fill; with the pool full of NaN arrays of every size the block allocates, a second
    // forward and backward must give the first one's values exactly.
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          channels: fc.integer({ min: 1, max: 5 }),
          length: fc.integer({ min: 2, max: 40 }),
          k: fc.integer({ min: 1, max: 4 }),
          stride: fc.integer({ min: 1, max: 3 }),
          padHalf: fc.boolean(),
          training: fc.boolean(),
        }),
        ({ batch, channels, length, k, stride, padHalf, training }) => {
          if (length < k) return;
          const padding = padHalf ? Math.floor(k / 2) : 0;
          const n = batch * channels * length;
          const x = tensor(
            Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) * 2),
            [batch, channels, length],
            { requiresGrad: true },
          );
          const w = tensor(
            Float32Array.from({ length: channels }, (_, i) => 0.5 + i / 4),
            [channels],
            { requiresGrad: true },
          );
          const b = tensor(
            Float32Array.from({ length: channels }, (_, i) => i / 10 - 0.2),
            [channels],
            { requiresGrad: true },
          );
          const rm = tensor(new Float32Array(channels).fill(0.1), [channels]);
          const rv = tensor(new Float32Array(channels).fill(1.5), [channels]);
          const run = () => {
            x.grad = null;
            w.grad = null;
            b.grad = null;
            const y = sigmoid(
              maxPool1d(relu(batchNorm(x, rm, rv, w, b, { training, momentum: 0 })), k, { stride, padding }),
            );
            const r = tensor(
              Float32Array.from({ length: y.size }, (_, i) => Math.cos(i)),
              y.shape,
            );
            backward(sum(mul(y, r)));
            return [y, x.grad, w.grad, b.grad].map((t) => Array.from((t as Tensor).data));
          };
          emptyStoragePool();
          const expected = run();
          const outSize = expected[0].length;
          emptyStoragePool();
          poisonMany([n, outSize, channels], 8);
          const got = run();
          for (let i = 0; i < expected.length; i++) same(got[i], expected[i]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the basic ops and factories assign every output element (NaN-poisoned storage, fast-check shapes)', () => {
    const ops: Array<[string, (x: Tensor) => Tensor]> = [
      ['add (broadcast)', (x) => add(x, reshape(arange(x.shape[x.ndim - 1]), [x.shape[x.ndim - 1]]))],
      ['exp', (x) => exp(x)],
      ['clamp', (x) => clamp(x, -0.5, 0.5)],
      ['gt', (x) => gt(x, 0)],
      ['where', (x) => where(x, x, 2)],
      ['cast', (x) => to(to(x, 'float64'), 'float32')],
      ['expand', (x) => expand(reshape(narrow(x, 0, 0, 1), [1, ...x.shape.slice(1)]), x.shape)],
      ['permute', (x) => permute(x, [...x.shape.keys()].reverse())],
      [
        'slice',
        (x) =>
          slice(
            pad(x, [[1, 1]], 3),
            x.shape.map((_, d) => (d === x.ndim - 1 ? [1, -1] : null)),
          ),
      ],
      ['pad', (x) => pad(narrow(x, -1, 1, x.shape[x.ndim - 1] - 1), [[1, 0]], -1)],
      ['concat', (x) => concat([narrow(x, 0, 0, 1), narrow(x, 0, 1, x.shape[0] - 1)], 0)],
      ['gather', (x) => gather(x, 0, zeros(x.shape, { dtype: 'int32' }))],
      ['indexSelect', (x) => indexSelect(x, 0, arange(x.shape[0], undefined, 1, { dtype: 'int32' }))],
      ['sum', (x) => sum(stack([x, x]), 0)],
      ['max', (x) => max(stack([x, x], 1), 1)],
      ['full', (x) => full(x.shape, 3)],
      ['arange', (x) => arange(x.size)],
      ['rand', (x) => rand(x.shape, { generator: new Generator(1) })],
      ['randn', (x) => randn(x.shape, { generator: new Generator(1) })],
      ['tensor', (x) => tensor(Array.from(x.data), x.shape)],
    ];
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...ops),
        (shape, [, f]) => {
          const x = tensor(
            Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => Math.sin(i)),
            shape,
          );
          emptyStoragePool();
          const ref = f(x);
          const expected = Array.from(ref.data);
          poison(ref.size);
          same(f(x).data, expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
