import { add, gradcheck, matmul, randn, sum, Tensor, tensor } from '@ecgnn/core';
import { expect, test } from 'vitest';

test('add and backward', () => {
  const a = tensor([1, 2, 3], [3], { requiresGrad: true });
  const b = tensor([[10], [20]]);
  const c = add(a, b);
  expect(c.shape).toEqual([2, 3]);
  expect(Array.from(c.data)).toEqual([11, 12, 13, 21, 22, 23]);
  sum(c).backward();
  expect(Array.from(a.grad!.data)).toEqual([2, 2, 2]);
});

test('matmul gradcheck', () => {
  const a = randn([2, 3, 4], { dtype: 'float64' });
  const b = randn([4, 5], { dtype: 'float64' });
  gradcheck((x, y) => matmul(x, y), [a, b]);
  const r = matmul(
    tensor([
      [1, 2],
      [3, 4],
    ]),
    tensor([
      [5, 6],
      [7, 8],
    ]),
  );
  expect(Array.from(r.data)).toEqual([19, 22, 43, 50]);
  expect(r).toBeInstanceOf(Tensor);
});

test('chain methods', () => {
  const x = randn([3, 4], { dtype: 'float64' });
  gradcheck((t) => t.mul(t).exp().sum(1).log().mean(), [x]);
  gradcheck(
    (t) =>
      t
        .permute(1, 0)
        .reshape(2, 6)
        .slice([null, [1, 5, 2]])
        .max(),
    [x],
  );
});
