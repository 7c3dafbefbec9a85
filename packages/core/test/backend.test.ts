/**
 * The backend interface: a second backend implements only the kernels it chooses (here `unary`, wrapping
 * CPU's and counting calls); ops route that kernel to it and fall back to CPU for the rest, with identical
 * results and unchanged user code. Also checks the CPU binary kernel's fast paths against a reference.
 */

import * as core from '@ecgnn/core';
import {
  type Backend,
  type BinaryKernelOp,
  exp,
  Generator,
  getBackend,
  getCpuBackend,
  type Kernels,
  listBackends,
  randn,
  registerBackend,
  setBackend,
  sum,
  type Tensor,
  tensor,
  withBackend,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

/** A backend that implements only `unary` by delegating to CPU, counting calls per op. */
function countingUnaryBackend(name: string): Backend & { calls: Map<string, number> } {
  const cpu = getCpuBackend().kernels;
  const calls = new Map<string, number>();
  const unary: Kernels['unary'] = (op, x, out) => {
    calls.set(op, (calls.get(op) ?? 0) + 1);
    cpu.unary(op, x, out);
  };
  return { name, kernels: { unary }, calls };
}

/** User code: a small computation with forward and backward, written once, backend-agnostic. */
function userCode(x: Tensor, w: Tensor): { out: number[]; gx: number[]; gw: number[] } {
  const xs = x.detach().requiresGrad_();
  const ws = w.detach().requiresGrad_();
  const h = xs.matmul(ws).tanh(); // matmul → CPU fallback, tanh → unary kernel
  const loss = h.mul(h).add(exp(h).mul(0.1)).sigmoid().sum();
  loss.backward();
  return { out: Array.from(h.data), gx: Array.from(xs.grad!.data), gw: Array.from(ws.grad!.data) };
}

describe('backend with a subset of kernels', () => {
  test('ops route the implemented kernel to it and fall back to CPU for the rest, identically', () => {
    const fake = countingUnaryBackend('fake-unary');
    const g = new Generator(5);
    const x = randn([3, 4], { generator: g });
    const w = randn([4, 2], { generator: g });
    const reference = userCode(x, w);
    expect(getBackend().name).toBe('cpu');
    const viaFake = withBackend(fake, () => {
      expect(getBackend().name).toBe('fake-unary');
      // kernels this backend lacks resolve to CPU's own functions
      expect(core.kernels().matmul).toBe(getCpuBackend().kernels.matmul);
      expect(core.kernels().binary).toBe(getCpuBackend().kernels.binary);
      expect(core.kernels().unary).toBe(fake.kernels.unary);
      return userCode(x, w);
    });
    expect(getBackend().name).toBe('cpu'); // restored
    expect(viaFake).toEqual(reference); // bit-identical
    // forward tanh, exp, sigmoid went through the fake backend's unary
    expect(fake.calls.get('tanh')).toBeGreaterThanOrEqual(1);
    expect(fake.calls.get('exp')).toBeGreaterThanOrEqual(1);
    expect(fake.calls.get('sigmoid')).toBeGreaterThanOrEqual(1);
    // and nothing reaches it once CPU is active again
    const before = [...fake.calls.values()].reduce((a, b) => a + b, 0);
    exp(tensor([1])).sum();
    expect([...fake.calls.values()].reduce((a, b) => a + b, 0)).toBe(before);
  });

  test('registerBackend / setBackend by name, listBackends, restore on throw, unknown names', () => {
    const fake = countingUnaryBackend('fake-by-name');
    registerBackend(fake);
    expect(listBackends()).toContain('fake-by-name');
    expect(listBackends()).toContain('cpu');
    const prev = setBackend('fake-by-name');
    try {
      expect(prev).toBe('cpu');
      expect(sum(exp(tensor([0, 0]))).item()).toBe(2);
      expect(fake.calls.get('exp')).toBe(1);
    } finally {
      setBackend(prev);
    }
    expect(getBackend().name).toBe('cpu');
    expect(() =>
      withBackend('fake-by-name', () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(getBackend().name).toBe('cpu');
    expect(() => setBackend('no-such-backend')).toThrow(/backend 'no-such-backend' is unknown/);
  });
});

describe('CPU binary kernel (fast paths and broadcasting) against a reference', () => {
  const ops: Array<[BinaryKernelOp, (a: number, b: number) => number]> = [
    ['add', (a, b) => a + b],
    ['sub', (a, b) => a - b],
    ['mul', (a, b) => a * b],
    ['div', (a, b) => a / b],
    ['pow', (a, b) => a ** b],
    ['maximum', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b))],
    ['minimum', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b))],
  ];
  const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 });
  const pairArb = fc
    .tuple(shapeArb, fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.nat(3), fc.boolean())
    .map(([a, ones, drop, swap]) => {
      const b = a.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, a.length));
      return swap ? [b, a] : [a, b];
    });

  test('every op, every broadcast pattern (incl. scalar left/right and equal shapes)', () => {
    fc.assert(
      fc.property(pairArb, fc.integer({ min: 0, max: 1e6 }), ([sa, sb], seed) => {
        const g = new Generator(seed);
        const a = randn(sa, { dtype: 'float64', generator: g });
        const b = randn(sb, { dtype: 'float64', generator: g });
        const outShape = core.broadcastShapes('test', sa, sb);
        const n = outShape.reduce((p, d) => p * d, 1);
        for (const [op, f] of ops) {
          const out = (core as unknown as Record<string, (x: Tensor, y: Tensor) => Tensor>)[op](a, b);
          expect(out.shape).toEqual(outShape);
          for (let i = 0; i < n; i++) {
            // unravel i over outShape, then index each operand (size-1 dims read index 0)
            let rem = i;
            let ia = 0;
            let ib = 0;
            let strideA = 1;
            let strideB = 1;
            for (let d = outShape.length - 1; d >= 0; d--) {
              const c = rem % outShape[d];
              rem = Math.floor(rem / outShape[d]);
              const da = d - (outShape.length - sa.length);
              const db = d - (outShape.length - sb.length);
              if (da >= 0) {
                ia += (sa[da] === 1 ? 0 : c) * strideA;
                strideA *= sa[da];
              }
              if (db >= 0) {
                ib += (sb[db] === 1 ? 0 : c) * strideB;
                strideB *= sb[db];
              }
            }
            const expected = f(a.data[ia], b.data[ib]);
            if (Number.isNaN(expected)) expect(out.data[i]).toBeNaN();
            else expect(out.data[i]).toBe(expected);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});
