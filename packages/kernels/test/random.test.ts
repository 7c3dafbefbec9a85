/**
 * The reference random kernels (randomUniform, randomNormal, randomInt, randperm, dropoutMask): each fill must
 * be exactly its definition applied to the generator's stream in index order (oracle: a second generator with
 * the same seed, drawn by hand here), stay in range, and have the right distribution on large samples.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Generator } from '../src/random.js';
import { dropoutMask, randomInt, randomNormal, randomUniform, randperm } from '../src/ref/random.js';

const floatArb = fc.constantFrom<'float32' | 'float64'>('float32', 'float64');
const seedArb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

function makeFloat(dtype: 'float32' | 'float64', n: number): Float32Array | Float64Array {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** Stores `values` rounded as an array of `dtype` stores them. */
function stored(dtype: 'float32' | 'float64', values: number[]): Float32Array | Float64Array {
  const a = makeFloat(dtype, values.length);
  for (let i = 0; i < values.length; i++) a[i] = values[i];
  return a;
}

function meanAndVariance(a: ArrayLike<number>): [number, number] {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const m = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return [m, v / a.length];
}

describe('randomUniform', () => {
  test('element i is low + (high − low)·u_i, in [low, high), drawn in index order', () => {
    fc.assert(
      fc.property(
        floatArb,
        fc.nat(60),
        seedArb,
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (dtype, n, seed, low, width) => {
          const high = low + width;
          const out = makeFloat(dtype, n);
          const gen = new Generator(seed);
          randomUniform(out, gen, low, high);
          const oracle = new Generator(seed);
          const want = Array.from({ length: n }, () => low + (high - low) * oracle.random());
          expect(Array.from(out)).toEqual(Array.from(stored(dtype, want)));
          // the stream continues where the fill left it
          expect(gen.nextUint32()).toBe(oracle.nextUint32());
          // in range up to the store's (monotone) rounding
          const round = dtype === 'float32' ? Math.fround : (v: number) => v;
          for (const v of out) expect(v >= round(low) && v <= round(high)).toBe(true);
        },
      ),
    );
  });

  test('mean and variance of U[−1, 3) on 10⁵ samples', () => {
    const out = new Float64Array(100_000);
    randomUniform(out, new Generator(7), -1, 3);
    const [m, v] = meanAndVariance(out);
    expect(Math.abs(m - 1)).toBeLessThan(0.02);
    expect(Math.abs(v - 16 / 12)).toBeLessThan(0.02);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...out)).toBeLessThan(3);
  });
});

describe('randomNormal', () => {
  test('element i is mean + std·z_i with the generator’s normals (Box–Muller pairs across calls)', () => {
    fc.assert(
      fc.property(floatArb, fc.nat(40), fc.nat(40), seedArb, (dtype, n1, n2, seed) => {
        const gen = new Generator(seed);
        const a = makeFloat(dtype, n1);
        const b = makeFloat(dtype, n2);
        randomNormal(a, gen, 0, 1);
        randomNormal(b, gen, 2, 0.5); // an odd n1 leaves a spare normal that b's first element takes
        const oracle = new Generator(seed);
        const wantA = Array.from({ length: n1 }, () => oracle.normal());
        const wantB = Array.from({ length: n2 }, () => 2 + 0.5 * oracle.normal());
        expect(Array.from(a)).toEqual(Array.from(stored(dtype, wantA)));
        expect(Array.from(b)).toEqual(Array.from(stored(dtype, wantB)));
      }),
    );
  });

  test('mean and variance of N(3, 2²) on 10⁵ samples', () => {
    const out = new Float32Array(100_000);
    randomNormal(out, new Generator(11), 3, 2);
    const [m, v] = meanAndVariance(out);
    expect(Math.abs(m - 3)).toBeLessThan(0.03);
    expect(Math.abs(v - 4)).toBeLessThan(0.08);
  });
});

describe('randomInt', () => {
  test('element i is low + randint(high − low) of the stream, in any storage', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('int32', 'float32', 'float64'),
        fc.nat(50),
        seedArb,
        fc.integer({ min: -100, max: 100 }),
        fc.integer({ min: 1, max: 1000 }),
        (dtype, n, seed, low, span) => {
          const out = dtype === 'int32' ? new Int32Array(n) : makeFloat(dtype as 'float32', n);
          randomInt(out, new Generator(seed), low, low + span);
          const oracle = new Generator(seed);
          const want = Array.from({ length: n }, () => low + oracle.randint(span));
          expect(Array.from(out)).toEqual(want);
          for (const v of out) expect(Number.isInteger(v) && v >= low && v < low + span).toBe(true);
        },
      ),
    );
  });

  test('every value of a small range appears about equally often', () => {
    const out = new Int32Array(60_000);
    randomInt(out, new Generator(5), 10, 16);
    const counts = new Array(6).fill(0);
    for (const v of out) counts[v - 10]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });
});

describe('randperm', () => {
  test('fixed sizes: empty, one element', () => {
    const empty = new Int32Array(0);
    randperm(empty, new Generator(1));
    expect(empty.length).toBe(0);
    const one = Int32Array.of(42);
    randperm(one, new Generator(1));
    expect(Array.from(one)).toEqual([0]);
  });

  test('a permutation of 0…n−1, equal to Fisher–Yates drawn by hand from the same stream', () => {
    fc.assert(
      fc.property(fc.nat(100), seedArb, (n, seed) => {
        const out = new Int32Array(n).fill(-7); // garbage: overwritten
        randperm(out, new Generator(seed));
        expect([...out].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        const oracle = new Generator(seed);
        const want = Array.from({ length: n }, (_, i) => i);
        for (let i = n - 1; i > 0; i--) {
          const j = oracle.randint(i + 1);
          [want[i], want[j]] = [want[j], want[i]];
        }
        expect(Array.from(out)).toEqual(want);
      }),
    );
  });

  test('each of the 6 permutations of 3 elements about equally often', () => {
    const gen = new Generator(9);
    const counts = new Map<string, number>();
    const out = new Int32Array(3);
    for (let t = 0; t < 12_000; t++) {
      randperm(out, gen);
      const key = out.join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 2000)).toBeLessThan(200);
  });
});

describe('dropoutMask', () => {
  test('fixed values: p = 0 keeps everything with scale 1, p = 1 drops everything', () => {
    const m = new Float32Array(5).fill(9);
    dropoutMask(m, new Generator(0), 0);
    expect(Array.from(m)).toEqual([1, 1, 1, 1, 1]);
    dropoutMask(m, new Generator(0), 1);
    expect(Array.from(m)).toEqual([0, 0, 0, 0, 0]);
  });

  test('element i is 0 when the i-th random() < p, else 1/(1 − p)', () => {
    fc.assert(
      fc.property(
        floatArb,
        fc.nat(60),
        seedArb,
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        (dtype, n, seed, p) => {
          const mask = makeFloat(dtype, n);
          dropoutMask(mask, new Generator(seed), p);
          const oracle = new Generator(seed);
          const want = Array.from({ length: n }, () => (oracle.random() < p ? 0 : 1 / (1 - p)));
          expect(Array.from(mask)).toEqual(Array.from(stored(dtype, want)));
        },
      ),
    );
  });

  test('drops a fraction p and keeps the expectation 1 on 10⁵ elements', () => {
    const m = new Float64Array(100_000);
    dropoutMask(m, new Generator(4), 0.3);
    const dropped = m.filter((v) => v === 0).length / m.length;
    expect(Math.abs(dropped - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(meanAndVariance(m)[0] - 1)).toBeLessThan(0.02);
  });
});
