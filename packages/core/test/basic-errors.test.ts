/**
 * Bad input raises an Error subclass (ShapeError, DTypeError, ValueError) whose message names the op and
 * the offending shapes or values — never a RangeError or TypeError from deep inside a kernel, and never a
 * silent wrong answer.
 */
import {
  add,
  arange,
  argmax,
  clamp,
  concat,
  conv1d,
  DTypeError,
  div,
  EcgnnError,
  exp,
  expand,
  eye,
  flatten,
  full,
  gather,
  indexSelect,
  linspace,
  matmul,
  max,
  mean,
  narrow,
  pad,
  permute,
  pow,
  rand,
  randint,
  randn,
  randperm,
  reshape,
  ShapeError,
  slice,
  split,
  squeeze,
  stack,
  sum,
  sumTo,
  Tensor,
  tensor,
  to,
  transpose,
  unsqueeze,
  ValueError,
  variance,
  where,
  zeros,
} from '@ecgnn/core';
import { describe, expect, test } from 'vitest';

/** Asserts `fn` throws an instance of `cls` (an EcgnnError) whose message matches every pattern. */
function throwsWith(
  fn: () => unknown,
  cls: new (...a: never[]) => Error,
  ...patterns: Array<string | RegExp>
) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').toBeInstanceOf(cls);
  expect(err).toBeInstanceOf(EcgnnError);
  const msg = (err as Error).message;
  for (const p of patterns) {
    if (typeof p === 'string') expect(msg).toContain(p);
    else expect(msg).toMatch(p);
  }
}

const i32 = (data: number[], shape?: number[]) => tensor(data, shape, { dtype: 'int32' });

describe('shape mismatches name the op and both shapes', () => {
  test('elementwise broadcasting', () => {
    throwsWith(() => add(zeros([2, 3]), zeros([4])), ShapeError, 'add', '[2, 3]', '[4]');
    throwsWith(() => pow(zeros([2]), zeros([3])), ShapeError, 'pow', '[2]', '[3]');
    throwsWith(() => where(zeros([2]), zeros([3]), 0), ShapeError, 'where', '[2]', '[3]');
  });
  test('matmul', () => {
    throwsWith(() => matmul(zeros([2, 3]), zeros([4, 5])), ShapeError, 'matmul', '[2, 3]', '[4, 5]');
    throwsWith(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 1])), ShapeError, 'matmul', '[2]', '[3]');
    throwsWith(() => matmul(tensor(1), zeros([2])), ShapeError, 'matmul', 'scalar');
  });
  test('reshape, expand, permute, squeeze', () => {
    throwsWith(() => reshape(zeros([2, 3]), [4, 2]), ShapeError, 'reshape', '[2, 3]', '[4, 2]');
    throwsWith(() => reshape(zeros([2, 3]), [-1, 4]), ShapeError, 'reshape', '[2, 3]', '[-1, 4]');
    throwsWith(() => reshape(zeros([2, 3]), [-1, -1]), ShapeError, 'reshape', 'only one dimension');
    throwsWith(() => reshape(zeros([6]), [2, -3]), ShapeError, 'reshape', '[2, -3]');
    throwsWith(() => expand(zeros([2, 3]), [4, 3]), ShapeError, 'expand', '[2, 3]', '[4, 3]');
    throwsWith(() => expand(zeros([2]), [-1, 2]), ShapeError, 'expand', '[-1, 2]');
    throwsWith(() => expand(zeros([2]), [-2, 2]), ShapeError, 'expand', '[-2, 2]');
    throwsWith(() => expand(zeros([2, 3]), [3]), ShapeError, 'expand', 'fewer dimensions');
    throwsWith(() => permute(zeros([2, 3]), [0]), ShapeError, 'permute', 'rank 2');
    throwsWith(() => permute(zeros([2, 3]), [1, 1]), ShapeError, 'permute', 'not a permutation');
    throwsWith(() => squeeze(zeros([2, 3]), 0), ShapeError, 'squeeze', '[2, 3]', 'size 2');
    throwsWith(() => flatten(zeros([2, 3]), 1, 0), ShapeError, 'flatten', '[2, 3]');
    throwsWith(() => sumTo(zeros([2, 3]), [4]), ShapeError, 'sumTo', '[2, 3]', '[4]');
  });
  test('concat and stack', () => {
    throwsWith(() => concat([zeros([2, 3]), zeros([2, 4])]), ShapeError, 'concat', '[2, 3]', '[2, 4]');
    throwsWith(() => concat([zeros([2, 3]), zeros([3])]), ShapeError, 'concat', '[2, 3]', '[3]');
    throwsWith(() => concat([tensor(1), tensor(2)]), ShapeError, 'concat', 'rank-0');
    throwsWith(() => stack([zeros([2]), zeros([3])]), ShapeError, 'stack', '[2]', '[3]');
    throwsWith(() => concat([]), ValueError, 'concat');
    throwsWith(() => stack([]), ValueError, 'stack');
  });
});

describe('axes', () => {
  test('out-of-range and repeated axes', () => {
    throwsWith(() => sum(zeros([2, 3]), 2), ShapeError, 'sum', 'axis 2', 'rank 2');
    throwsWith(() => sum(zeros([2, 3]), -3), ShapeError, 'sum', 'axis -3');
    throwsWith(() => max(zeros([2, 3]), [0, -2]), ValueError, 'max', 'repeated axis');
    throwsWith(() => sum(tensor(1), 1), ShapeError, 'sum', 'rank 0');
    throwsWith(() => sum(zeros([2]), 0.5), ShapeError, 'sum', 'axis 0.5');
    throwsWith(() => transpose(zeros([2])), ShapeError, 'transpose', 'rank 1');
    throwsWith(() => unsqueeze(zeros([2]), 3), ShapeError, 'unsqueeze', 'axis 3');
    throwsWith(() => argmax(zeros([2]), 1), ShapeError, 'argmax', 'axis 1');
    throwsWith(() => concat([zeros([2])], 1), ShapeError, 'concat', 'axis 1');
  });
  test('empty reductions that have no value', () => {
    throwsWith(() => max(zeros([2, 0]), 1), ShapeError, 'max', '[2, 0]');
    throwsWith(() => argmax(zeros([0])), ShapeError, 'argmax', '[0]');
    throwsWith(() => argmax(zeros([2, 0]), 1), ShapeError, 'argmax', '[2, 0]');
  });
});

describe('dtypes', () => {
  test('mixed dtypes and float-only ops', () => {
    const f32 = zeros([2]);
    const f64 = zeros([2], { dtype: 'float64' });
    throwsWith(() => add(f32, f64), DTypeError, 'add', 'float32', 'float64');
    throwsWith(() => matmul(zeros([2, 2]), zeros([2, 2], { dtype: 'float64' })), DTypeError, 'matmul');
    throwsWith(() => exp(i32([1])), DTypeError, 'exp', 'int32');
    throwsWith(() => div(i32([7]), 2), DTypeError, 'div', 'int32');
    throwsWith(() => mean(i32([1, 2])), DTypeError, 'mean', 'int32');
    throwsWith(() => variance(i32([1, 2])), DTypeError, 'var', 'int32');
    throwsWith(() => clamp(i32([1]), 0, 1), DTypeError, 'clamp', 'int32');
    throwsWith(() => concat([f32, f64]), DTypeError, 'concat', 'float32', 'float64');
    throwsWith(() => to(f32, 'int8' as 'int32'), DTypeError, 'to', 'int8');
    throwsWith(() => zeros([2], { dtype: 'uint8' as 'int32' }), DTypeError, 'zeros', 'uint8');
    throwsWith(() => randn([2], { dtype: 'int32' }), DTypeError, 'randn', 'int32');
    throwsWith(
      () => tensor([1], [1], { dtype: 'int32', requiresGrad: true }),
      DTypeError,
      'requiresGrad',
      'int32',
    );
  });
  test('index tensors must be int32', () => {
    throwsWith(() => gather(zeros([2, 2]), 0, zeros([2, 2])), DTypeError, 'gather', 'int32', 'float32');
    throwsWith(() => indexSelect(zeros([2]), 0, tensor([0])), DTypeError, 'indexSelect', 'int32');
  });
  test('non-tensors are reported, not crashed on', () => {
    throwsWith(() => add(zeros([2]), 'x' as unknown as number), DTypeError, 'add', 'string');
    throwsWith(() => sum(null as unknown as Tensor), DTypeError, 'sum', 'null');
    throwsWith(() => exp([1, 2] as unknown as Tensor), DTypeError, 'exp', 'Array');
    throwsWith(() => new Tensor([1, 2] as unknown as Float32Array, [2]), DTypeError, 'Tensor', 'Array');
    throwsWith(() => new Tensor(new Uint8Array(2) as unknown as Float32Array, [2]), DTypeError, 'Uint8Array');
  });
});

describe('invalid sizes and parameters', () => {
  test('negative, fractional or mismatched sizes', () => {
    throwsWith(() => zeros([-1]), ShapeError, 'zeros', '[-1]');
    throwsWith(() => zeros([2, 1.5]), ShapeError, 'zeros', '[2, 1.5]');
    throwsWith(() => randn([-2]), ShapeError, 'randn', '[-2]');
    throwsWith(() => rand([Number.NaN]), ShapeError, 'rand');
    throwsWith(() => tensor([1, 2, 3], [2, 2]), ShapeError, 'tensor', '[2, 2]', '3 values');
    throwsWith(() => tensor([[1, 2], [3]]), ShapeError, 'tensor', 'ragged');
    throwsWith(() => tensor(['a' as unknown as number, 2], [2]), ValueError, 'tensor', 'string');
    throwsWith(() => new Tensor(new Float32Array(3), [2, 2]), ShapeError, 'Tensor', '[2, 2]', '3 elements');
    throwsWith(() => eye(-1), ValueError, 'eye', '-1');
    throwsWith(() => linspace(0, 1, -1), ValueError, 'linspace');
    throwsWith(() => randperm(-1), ValueError, 'randperm', '-1');
    throwsWith(() => randint(0, 0, [2]), ValueError, 'randint', 'low 0', 'high 0');
    throwsWith(() => rand([2], { low: 1, high: 0 }), ValueError, 'rand');
  });
  test('factory parameters', () => {
    throwsWith(() => arange(0, 5, 0), ValueError, 'arange', 'step', '0');
    throwsWith(() => arange(0, Number.POSITIVE_INFINITY), ValueError, 'arange', 'Infinity');
    throwsWith(() => full([2], 'a' as unknown as number), ValueError, 'full');
  });
  test('op parameters', () => {
    throwsWith(() => clamp(zeros([2]), 1, 0), ValueError, 'clamp', 'min (1)', 'max (0)');
    throwsWith(() => clamp(zeros([2]), Number.NaN, 0), ValueError, 'clamp', 'NaN');
    throwsWith(() => slice(arange(5), [[0, 5, 0]]), ValueError, 'slice', 'step', '0');
    throwsWith(() => slice(arange(5), [[0, 5, -1]]), ValueError, 'slice', 'step', '-1');
    throwsWith(() => slice(arange(5), [[1.5, 3]]), ValueError, 'slice', '1.5');
    throwsWith(() => slice(arange(5), [null, null]), ShapeError, 'slice', '[5]');
    throwsWith(() => narrow(arange(5), 0, 3, 3), ShapeError, 'narrow', '[5]');
    throwsWith(() => narrow(arange(5), 0, 1.5, 2), ValueError, 'narrow', '1.5');
    throwsWith(() => pad(zeros([2]), [[-1, 0]]), ValueError, 'pad', '-1');
    throwsWith(
      () =>
        pad(zeros([2]), [
          [1, 0],
          [0, 1],
        ]),
      ShapeError,
      'pad',
      'rank 1',
    );
    throwsWith(() => pad(zeros([2]), [[1] as unknown as [number, number]]), ValueError, 'pad', 'pair');
    throwsWith(() => split(arange(5), 0), ValueError, 'split', 'size', '0');
    throwsWith(() => variance(zeros([3]), 0, { correction: -1 }), ValueError, 'var', 'correction');
  });
  test('gather/indexSelect validate the index', () => {
    const x = zeros([2, 3]);
    throwsWith(() => gather(x, 1, i32([0, 3], [1, 2])), ShapeError, 'gather', 'index 3', 'size 3', '[2, 3]');
    throwsWith(() => gather(x, 1, i32([-1], [1, 1])), ShapeError, 'gather', 'index -1');
    throwsWith(() => gather(x, 1, i32([0, 1])), ShapeError, 'gather', 'rank 1', 'rank 2');
    throwsWith(() => gather(x, 1, i32([0, 0, 0], [3, 1])), ShapeError, 'gather', '[3, 1]', '[2, 3]');
    throwsWith(() => gather(tensor(1), 0, i32([0], [])), ShapeError, 'gather', 'at least one dimension');
    throwsWith(() => gather(x, 2, i32([0], [1, 1])), ShapeError, 'gather', 'axis 2');
    throwsWith(() => indexSelect(x, 0, i32([2])), ShapeError, 'indexSelect', 'index 2', 'size 2');
    // the first index out of range is named (not the smallest or largest)
    throwsWith(() => gather(x, 1, i32([0, 4, 5, -1], [2, 2])), ShapeError, 'gather', 'index 4');
    throwsWith(() => indexSelect(x, 1, i32([1, -2, 7])), ShapeError, 'indexSelect', 'index -2');
    throwsWith(() => indexSelect(x, 0, i32([0], [1, 1])), ShapeError, 'indexSelect', '1-D', '[1, 1]');
  });
});

describe('allocation failures', () => {
  // 10⁶ × 10⁶ elements: over the typed-array length limit (a raw RangeError from the engine otherwise).
  const huge = [1_000_000, 1_000_000];
  test('factories name themselves, the dtype, the shape and the element count', () => {
    throwsWith(
      () => zeros(huge),
      ValueError,
      'zeros: cannot allocate a float32 tensor of shape [1000000, 1000000] (1e12 elements)',
    );
    throwsWith(
      () => full(huge, 2, { dtype: 'float64' }),
      ValueError,
      'full:',
      'float64',
      '[1000000, 1000000]',
      '1e12',
    );
    throwsWith(() => randn(huge), ValueError, 'randn:', 'float32', '[1000000, 1000000]');
    throwsWith(
      () => randint(0, 3, [3, 1e9, 2]),
      ValueError,
      'randint:',
      'int32',
      '[3, 1000000000, 2]',
      '6e9',
    );
    throwsWith(() => arange(0, 1e12), ValueError, 'arange:', '[1000000000000]');
  });
  test('an op whose output would be too large names the op and the output shape', () => {
    const col = zeros([1_000_000, 1]);
    throwsWith(() => expand(col, huge), ValueError, 'expand: cannot allocate', '[1000000, 1000000]');
    throwsWith(() => add(col, zeros([1, 1_000_000])), ValueError, 'add:', '[1000000, 1000000]');
    throwsWith(() => pad(zeros([1]), [[0, 1e12]]), ValueError, 'pad:', '(1e12 elements)');
    throwsWith(
      () => matmul(col, zeros([1, 1_000_000])),
      ValueError,
      'matmul: cannot allocate',
      '[1000000, 1000000]',
    );
    throwsWith(
      () => conv1d(zeros([1, 1, 1_000_000]), zeros([1_000_000, 1, 1])),
      ValueError,
      'conv1d: cannot allocate',
      '[1, 1000000, 1000000]',
    );
  });
});
