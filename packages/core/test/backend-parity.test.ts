/**
 * Every registered backend against the CPU reference, in float32 (float64 calls fall back to CPU, so the
 * float64 gradient checks alone would never exercise another backend's kernels): forward and both
 * gradients of conv1d, pooling and matmul over random shapes, through the public ops.
 */
import {
  avgPool1d,
  conv1d,
  findBackend,
  Generator,
  getBackend,
  listBackends,
  matmulT,
  maxPool1d,
  randn,
  sum,
  type Tensor,
  withBackend,
} from '@ecgnn/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const others = listBackends().filter((n) => n !== 'cpu' && findBackend(n) !== null);

function run(backend: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): Float32Array[] {
  return withBackend(backend, () => {
    const leaves = inputs.map((t) => t.detach().requiresGrad_());
    const out = f(...leaves);
    // A fixed random projection makes every output element matter to the gradients.
    const r = randn(out.shape, { generator: new Generator(1) });
    sum(out.mul(r)).backward();
    return [out.data as Float32Array, ...leaves.map((l) => l.grad!.data as Float32Array)];
  });
}

function close(a: Float32Array, b: Float32Array, label: string): void {
  let scale = 1e-6;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= 1e-4 * scale)) {
      throw new Error(`${label}: element ${i}: ${a[i]} vs CPU ${b[i]} (scale ${scale})`);
    }
  }
}

function compare(backend: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], label: string): void {
  const ref = run('cpu', f, inputs);
  const got = run(backend, f, inputs);
  for (const [i, r] of ref.entries()) close(got[i], r, `${label} [${i === 0 ? 'output' : `grad ${i - 1}`}]`);
}

describe.each(others.length > 0 ? others : ['(none)'])('backend %s against CPU (float32)', (backend) => {
  if (backend === '(none)') {
    test.skip('no backend other than CPU is available on this platform', () => {});
    return;
  }

  test('conv1d: stride, padding, dilation, groups, pad value', () => {
    fc.assert(
      fc.property(
        fc.record({
          b: fc.integer({ min: 1, max: 3 }),
          g: fc.integer({ min: 1, max: 3 }),
          cinG: fc.integer({ min: 1, max: 5 }),
          coutG: fc.integer({ min: 1, max: 5 }),
          l: fc.integer({ min: 1, max: 40 }),
          k: fc.integer({ min: 1, max: 7 }),
          stride: fc.integer({ min: 1, max: 3 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          padL: fc.integer({ min: 0, max: 4 }),
          padR: fc.integer({ min: 0, max: 4 }),
          padValue: fc.constantFrom(0, 1, -0.5),
          bias: fc.boolean(),
        }),
        (c) => {
          const span = c.dilation * (c.k - 1) + 1;
          fc.pre(c.l + c.padL + c.padR >= span);
          const x = randn([c.b, c.g * c.cinG, c.l]);
          const w = randn([c.g * c.coutG, c.cinG, c.k]);
          const bias = randn([c.g * c.coutG]);
          const opts = {
            stride: c.stride,
            dilation: c.dilation,
            groups: c.g,
            padding: [c.padL, c.padR] as [number, number],
            padValue: c.padValue,
          };
          if (c.bias)
            compare(
              backend,
              (a, ww, bb) => conv1d(a, ww, bb, opts),
              [x, w, bias],
              `conv1d ${JSON.stringify(c)}`,
            );
          else compare(backend, (a, ww) => conv1d(a, ww, null, opts), [x, w], `conv1d ${JSON.stringify(c)}`);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('maxPool1d and avgPool1d', () => {
    fc.assert(
      fc.property(
        fc.record({
          b: fc.integer({ min: 1, max: 3 }),
          c: fc.integer({ min: 1, max: 4 }),
          l: fc.integer({ min: 1, max: 30 }),
          k: fc.integer({ min: 1, max: 5 }),
          s: fc.integer({ min: 1, max: 4 }),
          pad: fc.integer({ min: 0, max: 2 }),
        }),
        (c) => {
          fc.pre(c.l + 2 * c.pad >= c.k && c.pad <= Math.floor(c.k / 2));
          const x = randn([c.b, c.c, c.l]);
          const o = { stride: c.s, padding: c.pad };
          compare(backend, (a) => maxPool1d(a, c.k, o), [x], `maxPool1d ${JSON.stringify(c)}`);
          compare(backend, (a) => avgPool1d(a, c.k, o), [x], `avgPool1d ${JSON.stringify(c)}`);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('matmul: batched, broadcast, transposed operands', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          m: fc.integer({ min: 1, max: 13 }),
          k: fc.integer({ min: 1, max: 13 }),
          n: fc.integer({ min: 1, max: 13 }),
          ta: fc.boolean(),
          tb: fc.boolean(),
          broadcastB: fc.boolean(),
        }),
        (c) => {
          const a = randn([c.batch, ...(c.ta ? [c.k, c.m] : [c.m, c.k])]);
          const bShape = c.tb ? [c.n, c.k] : [c.k, c.n];
          const b = randn(c.broadcastB ? bShape : [c.batch, ...bShape]);
          compare(backend, (x, y) => matmulT(x, y, c.ta, c.tb), [a, b], `matmul ${JSON.stringify(c)}`);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a small CNN trains identically (to float32 rounding) for a few steps', () => {
    const x = randn([4, 2, 50]);
    const w1 = randn([6, 2, 5]);
    const w2 = randn([3, 6, 3]);
    const f = (a: Tensor, p: Tensor, q: Tensor) =>
      conv1d(maxPool1d(conv1d(a, p, null, { padding: 'same' }).relu(), 2), q, null, { stride: 2 });
    compare(backend, f, [x, w1, w2], 'small CNN');
  });
});

test('a test project runs on the backend it asks for (ECGNN_TEST_BACKEND)', () => {
  const want = process.env.ECGNN_TEST_BACKEND ?? 'cpu';
  expect(getBackend().name).toBe(want);
});
