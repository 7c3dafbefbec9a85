/**
 * Autograd semantics: accumulation across backward calls, retainGraph and the freed-graph error, backward on
 * a tensor without grad, non-scalar roots, noGrad/enableGrad, detach, retainGrad, leaves vs non-leaves,
 * diamond graphs, deep graphs, and user-defined ops (defineOp) checked with gradcheck.
 */
import {
  AutogradError,
  abs,
  add,
  backward,
  DTypeError,
  defineOp,
  enableGrad,
  exp,
  Generator,
  ge,
  gradcheck,
  isGradEnabled,
  le,
  mul,
  noGrad,
  randn,
  ShapeError,
  sub,
  sum,
  type Tensor,
  tensor,
  where,
  zeros,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const vals = (t: Tensor | null) => Array.from(t!.data);
const leaf = (data: number[]) => tensor(data, [data.length], { dtype: 'float64', requiresGrad: true });

describe('backward basics', () => {
  test('scalar root: d/dx Σ x² = 2x; leaves keep .grad, non-leaves do not', () => {
    const x = leaf([1, -2, 3]);
    const y = mul(x, x);
    const loss = sum(y);
    loss.backward();
    expect(vals(x.grad)).toEqual([2, -4, 6]);
    expect(y.grad).toBeNull();
    expect(x.isLeaf).toBe(true);
    expect(y.isLeaf).toBe(false);
    expect(y.requiresGrad).toBe(true);
  });

  test('gradients accumulate across backward calls until reset', () => {
    const x = leaf([1, 2]);
    sum(mul(x, 3)).backward();
    sum(mul(x, 3)).backward();
    expect(vals(x.grad)).toEqual([6, 6]);
    x.grad = null;
    sum(mul(x, x)).backward();
    expect(vals(x.grad)).toEqual([2, 4]);
  });

  test('a tensor used twice (diamond) gets the sum of both paths', () => {
    const x = leaf([2]);
    const a = mul(x, 3);
    const b = exp(x);
    sum(add(mul(a, b), a)).backward();
    // d/dx (3x eˣ + 3x) = 3eˣ + 3x eˣ + 3
    expect(x.grad!.data[0]).toBeCloseTo(3 * Math.exp(2) + 6 * Math.exp(2) + 3, 10);
  });

  test('non-scalar root needs a gradient of the same shape', () => {
    const x = leaf([1, 2, 3]);
    const y = mul(x, 2);
    expect(() => y.backward()).toThrow(AutogradError);
    expect(() => y.backward()).toThrow(/scalar outputs.*\[3\]/);
    expect(() => y.backward(tensor([1, 1], [2], { dtype: 'float64' }))).toThrow(ShapeError);
    expect(() => y.backward(tensor([1, 1], [2], { dtype: 'float64' }))).toThrow(/\[2\].*\[3\]/);
    expect(() => y.backward(tensor([1, 1, 1]))).toThrow(/dtype float32.*float64/);
    y.backward(tensor([1, 10, 100], [3], { dtype: 'float64' }));
    expect(vals(x.grad)).toEqual([2, 20, 200]);
  });

  test('one-element non-scalar roots ([1, 1]) take the implied gradient 1', () => {
    const x = leaf([3]);
    mul(x, x).reshape(1, 1).backward();
    expect(vals(x.grad)).toEqual([6]);
  });

  test('backward on a tensor that does not require grad is a clear error', () => {
    const x = tensor([1, 2]);
    expect(() => sum(x).backward()).toThrow(AutogradError);
    expect(() => sum(x).backward()).toThrow(/does not require grad/);
    const y = leaf([1]);
    expect(() => noGrad(() => sum(y)).backward()).toThrow(/does not require grad/);
  });

  test('backward on a leaf sets its own gradient', () => {
    const x = leaf([1, 2]);
    x.backward(tensor([3, 4], [2], { dtype: 'float64' }));
    expect(vals(x.grad)).toEqual([3, 4]);
  });

  test('functional backward(root, grad, opts) is the same as the method', () => {
    const x = leaf([1, 2]);
    backward(sum(mul(x, x)));
    expect(vals(x.grad)).toEqual([2, 4]);
  });

  test('inputs without requiresGrad get no gradient and no history', () => {
    const x = leaf([1, 2]);
    const c = tensor([5, 6], [2], { dtype: 'float64' });
    sum(mul(x, c)).backward();
    expect(c.grad).toBeNull();
    expect(vals(x.grad)).toEqual([5, 6]);
    expect(mul(c, c).requiresGrad).toBe(false);
    expect(mul(c, c).gradFn).toBeNull();
  });

  test('a deep chain does not overflow the stack', () => {
    const x = leaf([1]);
    let y: Tensor = x;
    for (let i = 0; i < 15000; i++) y = add(y, 1e-4);
    sum(y).backward();
    expect(vals(x.grad)).toEqual([1]);
  });

  test('integer outputs (argmax, int casts) never require grad', () => {
    const x = leaf([1, 3, 2]);
    expect(x.argmax().requiresGrad).toBe(false);
    expect(x.to('int32').requiresGrad).toBe(false);
  });
});

describe('retainGraph and freed state', () => {
  test('a second backward through a freed graph is a clear error', () => {
    const x = leaf([1, 2]);
    const loss = sum(mul(x, x));
    loss.backward();
    expect(() => loss.backward()).toThrow(AutogradError);
    expect(() => loss.backward()).toThrow(/already freed.*retainGraph/);
  });

  test('retainGraph allows a second pass, and gradients add up', () => {
    const x = leaf([1, 2]);
    const loss = sum(mul(x, x));
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    expect(vals(x.grad)).toEqual([4, 8]);
    expect(() => loss.backward()).toThrow(/already freed/);
  });

  test('a shared subgraph freed by one root fails for the other before writing any gradient', () => {
    const x = leaf([1, 2]);
    const h = mul(x, 2);
    const y1 = sum(h);
    const y2 = sum(mul(h, h));
    y1.backward();
    expect(vals(x.grad)).toEqual([2, 2]);
    expect(() => y2.backward()).toThrow(/graph through 'mul' was already freed/);
    expect(vals(x.grad)).toEqual([2, 2]); // untouched by the failed call
  });

  test('with retainGraph both roots can backpropagate through the shared part', () => {
    const x = leaf([1, 2]);
    const h = mul(x, 2);
    sum(h).backward(undefined, { retainGraph: true });
    sum(mul(h, h)).backward();
    // 2 + d/dx Σ (2x)² = 2 + 8x
    expect(vals(x.grad)).toEqual([10, 18]);
  });
});

describe('noGrad, enableGrad, detach, retainGrad, requiresGrad', () => {
  test('noGrad records nothing and restores the mode (also after a throw)', () => {
    const x = leaf([1]);
    expect(isGradEnabled()).toBe(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return mul(x, 2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(isGradEnabled()).toBe(true);
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    const z = noGrad(() => enableGrad(() => mul(x, 2)));
    expect(z.requiresGrad).toBe(true);
    expect(noGrad(() => noGrad(() => isGradEnabled()))).toBe(false);
  });

  test('detach cuts the graph and copies the storage', () => {
    const x = leaf([1, 2]);
    const y = mul(x, 3);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    expect(vals(d)).toEqual([3, 6]);
    d.data[0] = 100;
    expect(y.data[0]).toBe(3);
    // gradient flows only through the attached factor
    sum(mul(y.detach(), x)).backward();
    expect(vals(x.grad)).toEqual([3, 6]);
  });

  test('clone is recorded as identity', () => {
    const x = leaf([1, 2]);
    const c = x.clone();
    expect(c.isLeaf).toBe(false);
    c.data[0] = 5;
    expect(x.data[0]).toBe(1);
    sum(mul(c, 2)).backward();
    expect(vals(x.grad)).toEqual([2, 2]);
  });

  test('retainGrad keeps .grad on a non-leaf, accumulating', () => {
    const x = leaf([1, 2]);
    const h = mul(x, 3).retainGrad();
    expect(h.retainsGrad).toBe(true);
    const loss = sum(mul(h, h));
    loss.backward(undefined, { retainGraph: true });
    expect(vals(h.grad)).toEqual([6, 12]); // 2h
    loss.backward();
    expect(vals(h.grad)).toEqual([12, 24]);
    expect(vals(x.grad)).toEqual([36, 72]);
  });

  test('requiresGrad rules', () => {
    const x = leaf([1]);
    const y = mul(x, 2);
    expect(() => {
      y.requiresGrad = false;
    }).toThrow(/non-leaf.*detach/);
    expect(() => tensor([1], [1], { dtype: 'int32' }).requiresGrad_()).toThrow(DTypeError);
    const z = tensor([1, 2]).requiresGrad_();
    expect(z.requiresGrad).toBe(true);
    expect(z.retainsGrad).toBe(true);
  });

  test('a user-set .grad of the wrong shape is reported, not silently corrupted', () => {
    const x = leaf([1, 2]);
    x.grad = zeros([3], { dtype: 'float64' });
    expect(() => sum(x).backward()).toThrow(/existing \.grad \[3\]/);
  });
});

describe('defineOp: user-defined differentiable ops', () => {
  // y = x³ with its own gradient 3x²; the saved value is x² (state kept for backward)
  const cube = defineOp<[Tensor], Tensor>({
    name: 'cube',
    forward: ([x], save) => {
      const x2 = mul(x, x);
      save(x2);
      return mul(x2, x);
    },
    backward: (g, { saved: x2 }) => [mul(g, mul(x2, 3))],
  });

  // a straight-through estimator: forward sign(x) (sign(0) = +1), backward passes g where |x| ≤ 1
  const signSte = defineOp<[Tensor]>({
    name: 'signSte',
    forward: ([x]) => sub(mul(ge(x, 0), 2), 1),
    backward: (g, { inputs: [x] }) => [mul(g, le(abs(x), 1))],
  });

  // two inputs, one of which may not need a gradient: f(a, b) = a·b + a
  const fma = defineOp<[Tensor, Tensor]>({
    name: 'fma',
    forward: ([a, b]) => add(mul(a, b), a),
    backward: (g, { inputs: [a, b], needsGrad }) => [
      needsGrad[0] ? mul(g, add(b, 1)) : null,
      needsGrad[1] ? mul(g, a) : null,
    ],
  });

  test('custom ops pass gradcheck over random shapes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
        fc.integer({ min: 0, max: 1e6 }),
        (shape, seed) => {
          const gen = new Generator(seed);
          gradcheck(cube, [randn(shape, { dtype: 'float64', generator: gen })]);
          gradcheck(fma, [
            randn(shape, { dtype: 'float64', generator: gen }),
            randn(shape, { dtype: 'float64', generator: gen }),
          ]);
        },
      ),
      { numRuns: 25 },
    );
  });

  test('custom op output values, STE surrogate gradient, needsGrad', () => {
    const x = leaf([-2, -0.5, 0, 0.5, 2]);
    const y = signSte(x);
    expect(vals(y)).toEqual([-1, -1, 1, 1, 1]);
    sum(y).backward();
    expect(vals(x.grad)).toEqual([0, 1, 1, 1, 0]);
    const a = leaf([2]);
    const b = tensor([5], [1], { dtype: 'float64' });
    sum(fma(a, b)).backward();
    expect(vals(a.grad)).toEqual([6]);
  });

  test('custom ops compose with built-ins, noGrad and the freed-graph error', () => {
    const x = leaf([1, 2]);
    const loss = sum(mul(cube(x), 2));
    loss.backward();
    expect(vals(x.grad)).toEqual([6, 24]);
    expect(() => loss.backward()).toThrow(/graph through 'sum' was already freed/);
    expect(noGrad(() => cube(x)).requiresGrad).toBe(false);
    // the freed custom node itself is named
    const c = cube(x);
    sum(c).backward();
    expect(() => c.backward(tensor([1, 1], [2], { dtype: 'float64' }))).toThrow(/'cube' was already freed/);
  });

  test('an identity custom op does not turn its input into a non-leaf', () => {
    const id = defineOp<[Tensor]>({ name: 'id', forward: ([x]) => x, backward: (g) => [g] });
    const x = leaf([1, 2]);
    const y = id(x);
    expect(y).not.toBe(x);
    expect(x.isLeaf).toBe(true);
    sum(y).backward();
    expect(vals(x.grad)).toEqual([1, 1]);
  });

  test('a custom op returning the wrong number, shape or dtype of gradients is reported by name', () => {
    const x = leaf([1, 2]);
    const tooFew = defineOp<[Tensor, Tensor]>({
      name: 'tooFew',
      forward: ([a, b]) => add(a, b),
      backward: (g) => [g],
    });
    expect(() => sum(tooFew(x, x)).backward()).toThrow(
      /tooFew: backward must return an array of 2 gradients/,
    );
    const badShape = defineOp<[Tensor]>({
      name: 'badShape',
      forward: ([a]) => mul(a, 1),
      backward: () => [zeros([3], { dtype: 'float64' })],
    });
    expect(() => sum(badShape(x)).backward()).toThrow(ShapeError);
    expect(() => sum(badShape(leaf([1, 2]))).backward()).toThrow(/'badShape'.*\[3\].*\[2\]/);
    const badDtype = defineOp<[Tensor]>({
      name: 'badDtype',
      forward: ([a]) => mul(a, 1),
      backward: (g) => [g.to('float32')],
    });
    expect(() => sum(badDtype(leaf([1]))).backward()).toThrow(/'badDtype'.*float32.*float64/);
    expect(() => defineOp({ name: '', forward: ([a]) => a, backward: (g) => [g] })).toThrow(AutogradError);
    const notTensor = defineOp<[Tensor]>({
      name: 'notTensor',
      forward: () => 3 as unknown as Tensor,
      backward: (g) => [g],
    });
    expect(() => notTensor(x)).toThrow(/notTensor: forward must return a Tensor/);
    expect(() => tooFew(x, [1] as unknown as Tensor)).toThrow(/tooFew: input 1 must be a Tensor/);
  });

  test('a custom op may use where with scalars inside backward (a composed surrogate)', () => {
    const hardTanhSte = defineOp<[Tensor]>({
      name: 'hardTanhSte',
      forward: ([x]) => where(ge(x, 0), 1, -1),
      backward: (g, { inputs: [x] }) => [where(le(abs(x), 1), g, 0)],
    });
    const x = leaf([-3, 0.25, 4]);
    sum(mul(hardTanhSte(x), tensor([1, 2, 3], [3], { dtype: 'float64' }))).backward();
    expect(vals(x.grad)).toEqual([0, 2, 0]);
  });
});

describe('gradient buffers are not aliased', () => {
  test('rules that pass the incoming gradient through never mutate it, the seed, or another .grad', () => {
    const a = tensor([1, 2, 3], [3], { requiresGrad: true });
    const b = tensor([4, 5, 6], [3], { requiresGrad: true });
    // y = (a + b) + a: add passes g through to both inputs, so a receives the same tensor twice.
    const y = add(add(a, b), a);
    const seed = tensor([1, 10, 100], [3]);
    y.backward(seed);
    expect(Array.from(seed.data)).toEqual([1, 10, 100]);
    expect(Array.from(a.grad!.data)).toEqual([2, 20, 200]);
    expect(Array.from(b.grad!.data)).toEqual([1, 10, 100]);
    expect(a.grad).not.toBe(b.grad);
    expect(b.grad).not.toBe(seed);
  });
});
