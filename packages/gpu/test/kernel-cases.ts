/**
 * The kernel conformance cases of the gpu.js backend, shared by the Node test (kernels.test.ts, every mode that
 * runs in Node) and the headless-Chromium page (webgl2-page.ts, mode `webgl2`): each device kernel against the
 * CPU reference kernels on random geometries (fast-check properties over seeded random operands). No test
 * framework here: a case throws an Error naming the kernel, geometry and element on a mismatch, so the page can
 * run it too.
 *
 * Tolerances are float32's, scaled with the reduction length: for a sum of n products the error bound is about
 * n·2⁻²⁴·Σ|aᵢbᵢ|, and Σ|aᵢbᵢ| is the reference kernel run on |a|, |b| (the kernels are linear in each operand).
 * Elementwise transcendental functions get a relative tolerance that depends on the mode
 * ({@link elementwiseTolerance}: GL's are not correctly rounded).
 */
import { Generator, getCpuBackend, syncToHost } from '@ecgnn/core';
import type { GpuBackendStats, GpuMode } from '@ecgnn/gpu';
import type { Conv1dParams, Kernels, Pool1dParams } from '@ecgnn/kernels';
import { conv1dOutputLength, KERNEL_NAMES } from '@ecgnn/kernels';
import fc from 'fast-check';

const cpu = getCpuBackend().kernels;
const EPS32 = 2 ** -24;

/**
 * The backend's kernels with every array argument brought to the host after each call (`syncToHost`): the
 * backend leaves device outputs on the device, and the cases read the output arrays directly. Every check is
 * thereby also a check of the device → host copy.
 */
export function hostSynced(k: Kernels): Kernels {
  const table: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    const f = k[name] as (...a: unknown[]) => unknown;
    table[name] = (...args: unknown[]) => {
      const r = f(...args);
      for (const a of args) {
        if (a instanceof Float32Array || a instanceof Float64Array || a instanceof Int32Array) syncToHost(a);
      }
      return r;
    };
  }
  return table as unknown as Kernels;
}

/** Largest differences met by the checks of a case (what the page reports). */
export interface Worst {
  /** Largest |got − want| over every checked element. */
  absolute: number;
  /** Largest |got − want| / tolerance (below 1 when every check passed). */
  ofTolerance: number;
}

/** A fresh {@link Worst} (zeros). */
export function noDifference(): Worst {
  return { absolute: 0, ofTolerance: 0 };
}

/** How one case runs. */
export interface CaseOptions {
  /** fast-check runs of each property. */
  numRuns: number;
  /** fast-check seed (random when omitted). */
  seed?: number;
  /** Relative tolerance of the elementwise kernels ({@link elementwiseTolerance}). */
  elementwiseTolerance: number;
  /** Accumulates the largest differences seen (optional). */
  worst?: Worst;
}

/** One conformance case: a group of kernels checked together against the reference. */
export interface KernelCase {
  /** Test name. */
  readonly name: string;
  /** Contract kernels the case must have run on the device (no fallback). */
  readonly kernels: readonly string[];
  /** fast-check runs where compiling a kernel is cheap (`cpu`, `webasm`). */
  readonly numRuns: number;
  /** Runs the case on `k` (the gpu.js backend's kernels); throws on a mismatch. */
  run(k: Kernels, opts: CaseOptions): void;
}

/**
 * Relative tolerance of the elementwise kernels in `mode`: GL's transcendental functions are not correctly
 * rounded (5e-4); WebAssembly and JavaScript are close to it (2e-6).
 */
export function elementwiseTolerance(mode: GpuMode): number {
  return mode === 'headlessgl' || mode === 'webgl2' ? 5e-4 : 2e-6;
}

/**
 * What is wrong with `stats` for kernels `names`: each must have run on the device at least once and never
 * fallen back. Empty when all is well.
 */
export function deviceProblems(stats: GpuBackendStats, names: readonly string[]): string[] {
  const problems: string[] = [];
  for (const n of names) {
    if (!((stats.deviceCalls[n] ?? 0) > 0)) problems.push(`${n}: no device call`);
    if (stats.fallbacks[n] !== undefined) problems.push(`${n}: fell back (${stats.fallbackReasons[n]})`);
  }
  return problems;
}

function rand(n: number, gen: Generator): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen.normal();
  return a;
}

const abs = (a: Float32Array): Float32Array => a.map(Math.abs);

function note(worst: Worst | undefined, diff: number, tol: number): void {
  if (worst === undefined || !Number.isFinite(diff)) return;
  worst.absolute = Math.max(worst.absolute, diff);
  worst.ofTolerance = Math.max(worst.ofTolerance, diff / tol);
}

/** |got − want| ≤ (2n + 8)·2⁻²⁴·mag + 1e-30 elementwise (n: reduction length, mag: Σ|terms|). */
function closeScaled(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  mag: ArrayLike<number>,
  n: number,
  what: string,
  worst?: Worst,
) {
  for (let i = 0; i < want.length; i++) {
    const tol = (2 * n + 8) * EPS32 * Math.abs(mag[i]) + 1e-30;
    const diff = Math.abs(got[i] - want[i]);
    note(worst, diff, tol);
    if (!(diff <= tol)) {
      throw new Error(`${what}: element ${i}: ${got[i]} vs CPU ${want[i]} (tolerance ${tol}, length ${n})`);
    }
  }
}

/** |got − want| ≤ tol·(1 + |want|) elementwise, equal NaN/±∞ positions. */
function closeRel(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string, worst?: Worst) {
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    let ok: boolean;
    if (Number.isNaN(w)) ok = Number.isNaN(g);
    else if (!Number.isFinite(w)) ok = g === w;
    else {
      const bound = tol * (1 + Math.abs(w));
      note(worst, Math.abs(g - w), bound);
      ok = Math.abs(g - w) <= bound;
    }
    if (!ok) throw new Error(`${what}: element ${i}: ${g} vs CPU ${w}`);
  }
}

/** got[i] === want[i] for every element. */
function same(got: ArrayLike<number>, want: ArrayLike<number>, what: string) {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length} vs CPU ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${what}: element ${i}: ${got[i]} vs CPU ${want[i]}`);
  }
}

/** Asserts `check` over `numRuns` values of `arb` (seeded when `opts.seed` is set), after the fixed `examples`. */
function assertProperty<T>(
  arb: fc.Arbitrary<T>,
  check: (c: T) => void,
  opts: CaseOptions,
  examples: readonly T[] = [],
): void {
  fc.assert(fc.property(arb, check), {
    numRuns: opts.numRuns,
    examples: examples.map((e) => [e] as [T]),
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
  });
}

const matmulCase: KernelCase = {
  name: 'matmul: batched, transposed, broadcast, accumulating',
  kernels: ['matmul'],
  numRuns: 25,
  run(k, opts) {
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 3 }),
      m: fc.integer({ min: 1, max: 9 }),
      kk: fc.integer({ min: 1, max: 40 }),
      n: fc.integer({ min: 1, max: 9 }),
      transA: fc.boolean(),
      transB: fc.boolean(),
      broadcastB: fc.boolean(),
      accumulate: fc.boolean(),
      seed: fc.nat(),
    });
    assertProperty(
      arb,
      (c) => {
        const gen = new Generator(c.seed);
        const p = {
          batch: c.batch,
          m: c.m,
          k: c.kk,
          n: c.n,
          transA: c.transA,
          transB: c.transB,
          batchStrideB: c.broadcastB ? 0 : c.kk * c.n,
          accumulate: c.accumulate,
        };
        const a = rand(c.batch * c.m * c.kk, gen);
        const b = rand((c.broadcastB ? 1 : c.batch) * c.kk * c.n, gen);
        const init = rand(c.batch * c.m * c.n, gen);
        const [got, want, mag] = [init.slice(), init.slice(), abs(init)];
        k.matmul(a, b, got, p);
        cpu.matmul(a, b, want, p);
        cpu.matmul(abs(a), abs(b), mag, p);
        closeScaled(got, want, mag, c.kk, `matmul ${JSON.stringify(c)}`, opts.worst);
      },
      opts,
    );
  },
};

/** Shared fields of the fixed depthwise examples of {@link convCase}. */
const DEPTHWISE = {
  batch: 2,
  inLength: 24,
  kernelSize: 5,
  stride: 1,
  dilation: 1,
  padLeft: 2,
  padRight: 2,
  padValue: 0,
  bias: false,
  relu: false,
  seed: 1,
};

const convCase: KernelCase = {
  name: 'conv1d forward and both gradients: stride, dilation, padding, groups (depthwise), pad value, bias, relu',
  kernels: ['conv1dForward', 'conv1dBackwardInput', 'conv1dBackwardWeight'],
  numRuns: 25,
  run(k, opts) {
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 3 }),
      groups: fc.integer({ min: 1, max: 3 }),
      cinG: fc.integer({ min: 1, max: 4 }),
      coutG: fc.integer({ min: 1, max: 4 }),
      inLength: fc.integer({ min: 1, max: 30 }),
      kernelSize: fc.integer({ min: 1, max: 6 }),
      stride: fc.integer({ min: 1, max: 3 }),
      dilation: fc.integer({ min: 1, max: 3 }),
      padLeft: fc.integer({ min: 0, max: 3 }),
      padRight: fc.integer({ min: 0, max: 3 }),
      padValue: fc.constantFrom(0, 1, -0.5),
      bias: fc.boolean(),
      relu: fc.boolean(),
      seed: fc.nat(),
    });
    assertProperty(
      arb,
      (c) => {
        const outLength = conv1dOutputLength(c);
        fc.pre(outLength >= 1);
        const gen = new Generator(c.seed);
        const p: Conv1dParams = {
          batch: c.batch,
          inChannels: c.groups * c.cinG,
          outChannels: c.groups * c.coutG,
          inLength: c.inLength,
          outLength,
          kernelSize: c.kernelSize,
          stride: c.stride,
          dilation: c.dilation,
          padLeft: c.padLeft,
          groups: c.groups,
          padValue: c.padValue,
        };
        const pAbs = { ...p, padValue: Math.abs(p.padValue) };
        const x = rand(c.batch * p.inChannels * c.inLength, gen);
        const w = rand(p.outChannels * c.cinG * c.kernelSize, gen);
        const bias = c.bias ? rand(p.outChannels, gen) : null;
        const go = rand(c.batch * p.outChannels * outLength, gen);
        const what = `conv1d ${JSON.stringify(c)}`;
        const taps = c.cinG * c.kernelSize;
        const fwd = { ...p, activation: c.relu ? ('relu' as const) : ('none' as const) };
        const [got, want, mag] = [go.map(() => 0), go.map(() => 0), go.map(() => 0)];
        k.conv1dForward(x, w, bias, got, fwd);
        cpu.conv1dForward(x, w, bias, want, fwd);
        cpu.conv1dForward(abs(x), abs(w), bias && abs(bias), mag, pAbs);
        closeScaled(got, want, mag, taps + 1, `${what} forward`, opts.worst);
        const [gx, gxWant, gxMag] = [x.map(() => 0), x.map(() => 0), x.map(() => 0)];
        k.conv1dBackwardInput(go, w, gx, p);
        cpu.conv1dBackwardInput(go, w, gxWant, p);
        cpu.conv1dBackwardInput(abs(go), abs(w), gxMag, p);
        closeScaled(gx, gxWant, gxMag, c.coutG * c.kernelSize, `${what} input gradient`, opts.worst);
        const [gw, gwWant, gwMag] = [w.map(() => 0), w.map(() => 0), w.map(() => 0)];
        k.conv1dBackwardWeight(x, go, gw, p);
        cpu.conv1dBackwardWeight(x, go, gwWant, p);
        cpu.conv1dBackwardWeight(abs(x), abs(go), gwMag, pAbs);
        closeScaled(gw, gwWant, gwMag, c.batch * outLength, `${what} weight gradient`, opts.worst);
      },
      opts,
      // Always checked, whatever the random draw: a depthwise convolution (groups = channels, one input channel
      // per group; the contract has no separate depthwise kernel) and a depthwise one with a channel multiplier
      // of 2, strided, dilated, with bias and ReLU.
      [
        { ...DEPTHWISE, groups: 3, cinG: 1, coutG: 1 },
        { ...DEPTHWISE, groups: 3, cinG: 1, coutG: 2, stride: 2, dilation: 2, bias: true, relu: true },
      ],
    );
  },
};

const poolCase: KernelCase = {
  name: 'pooling: max (values and positions), average forward and adjoint, both divisor rules',
  kernels: ['maxPool1d', 'avgPool1d', 'avgPool1dBackward'],
  numRuns: 25,
  run(k, opts) {
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 3 }),
      channels: fc.integer({ min: 1, max: 3 }),
      inLength: fc.integer({ min: 1, max: 30 }),
      kernelSize: fc.integer({ min: 1, max: 5 }),
      stride: fc.integer({ min: 1, max: 4 }),
      dilation: fc.integer({ min: 1, max: 2 }),
      padLeft: fc.integer({ min: 0, max: 2 }),
      countIncludePad: fc.boolean(),
      seed: fc.nat(),
    });
    assertProperty(
      arb,
      (c) => {
        fc.pre(c.padLeft <= Math.floor(c.kernelSize / 2));
        const win = { ...c, padRight: c.padLeft };
        const maxLength = conv1dOutputLength(win);
        const avgLength = conv1dOutputLength({ ...win, dilation: 1 });
        fc.pre(maxLength >= 1 && avgLength >= 1);
        const gen = new Generator(c.seed);
        const rows = c.batch * c.channels;
        const x = rand(rows * c.inLength, gen);
        const what = `pool ${JSON.stringify(c)}`;
        const pm: Pool1dParams = { ...c, outLength: maxLength };
        const [got, want] = [new Float32Array(rows * maxLength), new Float32Array(rows * maxLength)];
        const [arg, argWant] = [new Int32Array(got.length), new Int32Array(got.length)];
        k.maxPool1d(x, got, arg, pm);
        cpu.maxPool1d(x, want, argWant, pm);
        same(got, want, `${what} max`);
        same(arg, argWant, `${what} max positions`);
        const pa: Pool1dParams = { ...c, dilation: 1, outLength: avgLength };
        const [avg, avgWant] = [new Float32Array(rows * avgLength), new Float32Array(rows * avgLength)];
        const avgMag = avg.slice();
        k.avgPool1d(x, avg, pa, c.countIncludePad);
        cpu.avgPool1d(x, avgWant, pa, c.countIncludePad);
        cpu.avgPool1d(abs(x), avgMag, pa, c.countIncludePad);
        closeScaled(avg, avgWant, avgMag, c.kernelSize, `${what} avg`, opts.worst);
        const g = rand(avg.length, gen);
        const [gx, gxWant, gxMag] = [x.map(() => 0), x.map(() => 0), x.map(() => 0)];
        k.avgPool1dBackward(g, gx, pa, c.countIncludePad);
        cpu.avgPool1dBackward(g, gxWant, pa, c.countIncludePad);
        cpu.avgPool1dBackward(abs(g), gxMag, pa, c.countIncludePad);
        closeScaled(gx, gxWant, gxMag, c.kernelSize, `${what} avg adjoint`, opts.worst);
      },
      opts,
    );
  },
};

const normCase: KernelCase = {
  name: 'reductions and batch normalisation (training and eval gradients)',
  kernels: ['reduce', 'channelMoments', 'batchNormForward', 'batchNormBackward'],
  numRuns: 20,
  run(k, opts) {
    const arb = fc.record({
      outer: fc.integer({ min: 1, max: 4 }),
      channels: fc.integer({ min: 1, max: 5 }),
      inner: fc.integer({ min: 1, max: 40 }),
      training: fc.boolean(),
      affine: fc.boolean(),
      seed: fc.nat(),
    });
    const worst = opts.worst;
    assertProperty(
      arb,
      (c) => {
        const gen = new Generator(c.seed);
        const { outer, channels, inner } = c;
        const x = rand(outer * channels * inner, gen);
        const what = `norm ${JSON.stringify(c)}`;
        for (const op of ['sum', 'max', 'min'] as const) {
          const [got, want, mag] = [0, 0, 0].map(() => new Float32Array(outer * inner));
          k.reduce(op, x, got, outer, channels, inner);
          cpu.reduce(op, x, want, outer, channels, inner);
          cpu.reduce('sum', abs(x), mag, outer, channels, inner);
          closeScaled(got, want, op === 'sum' ? mag : want, 2, `${what} ${op}`, worst);
        }
        const m = outer * inner;
        const [mean, variance, meanWant, varWant] = [0, 0, 0, 0].map(() => new Float64Array(channels));
        k.channelMoments(x, outer, channels, inner, mean, variance);
        cpu.channelMoments(x, outer, channels, inner, meanWant, varWant);
        closeRel(mean, meanWant, 8 * EPS32 * 4, `${what} mean`, worst);
        closeRel(variance, varWant, 8 * EPS32 * 4, `${what} variance`, worst);
        const invstd = varWant.map((v) => 1 / Math.sqrt(v + 1e-5));
        const weight = c.affine ? rand(channels, gen) : null;
        const bias = c.affine ? rand(channels, gen) : null;
        const [y, yWant] = [x.map(() => 0), x.map(() => 0)];
        k.batchNormForward(x, meanWant, invstd, weight, bias, y, outer, channels, inner);
        cpu.batchNormForward(x, meanWant, invstd, weight, bias, yWant, outer, channels, inner);
        closeRel(y, yWant, 1e-5, `${what} forward`, worst);
        const g = rand(x.length, gen);
        const out = () => [x.map(() => 0), new Float32Array(channels), new Float32Array(channels)] as const;
        const [gx, gw, gb] = out();
        const [gxWant, gwWant, gbWant] = out();
        const shape = [outer, channels, inner, c.training] as const;
        k.batchNormBackward(x, g, meanWant, invstd, weight, gx, gw, gb, ...shape);
        cpu.batchNormBackward(x, g, meanWant, invstd, weight, gxWant, gwWant, gbWant, ...shape);
        // Σ g and Σ g·x̂ over m terms of size ~1 (x̂ is standardised): the error is ~2⁻²⁴·m (compensated sums
        // keep it near 2⁻²⁴·Σ|terms|); dx subtracts their means, each term O(1).
        closeRel(gb, gbWant, 16 * EPS32 * m, `${what} bias gradient`, worst);
        closeRel(gw, gwWant, 16 * EPS32 * m, `${what} weight gradient`, worst);
        closeRel(gx, gxWant, 1e-4, `${what} input gradient`, worst);
      },
      opts,
    );
  },
};

const elementwiseCase: KernelCase = {
  name: 'elementwise: unary ops and their gradients, broadcast binary ops',
  kernels: ['unary', 'unaryBackward', 'binary'],
  numRuns: 1,
  run(k, opts) {
    // Fixed operands (one geometry: every op is a kernel of its own already), drawn from `opts.seed` (default 11).
    const gen = new Generator(opts.seed ?? 11);
    const tol = opts.elementwiseTolerance;
    const worst = opts.worst;
    const x = rand(257, gen).map((v) => 3 * v);
    const pos = abs(x).map((v) => v + 0.1);
    const g = rand(257, gen);
    const ops = [
      ['neg'],
      ['exp'],
      ['log', pos],
      ['sqrt', pos],
      ['abs'],
      ['sign'],
      ['tanh'],
      ['sigmoid'],
      ['relu'],
      ['square'],
      ['reciprocal', pos],
      ['leakyRelu', x, 0.01],
      ['elu', x, 1.3],
      ['hardtanh', x, -1, 1],
      ['clamp', x, -0.5, 2],
      ['softplus', x, 2, 20],
      ['silu'],
    ] as const;
    for (const [op, input = x, p0, p1] of ops) {
      const [y, yWant] = [input.map(() => 0), input.map(() => 0)];
      k.unary(op, input, y, p0, p1);
      cpu.unary(op, input, yWant, p0, p1);
      closeRel(y, yWant, tol, `unary ${op}`, worst);
      const [gx, gxWant] = [input.map(() => 0), input.map(() => 0)];
      k.unaryBackward(op, input, yWant, g, gx, p0, p1);
      cpu.unaryBackward(op, input, yWant, g, gxWant, p0, p1);
      closeRel(gx, gxWant, tol, `unary gradient ${op}`, worst);
    }
    for (const [op, p0] of [['signSteIdentity'], ['signSteClipped', 1], ['signSteTriangular', 2]] as const) {
      const [gx, gxWant] = [x.map(() => 0), x.map(() => 0)];
      k.unaryBackward(op, x, x, g, gx, p0);
      cpu.unaryBackward(op, x, x, g, gxWant, p0);
      closeRel(gx, gxWant, tol, `unary gradient ${op}`, worst);
    }
    // [2, 3, 4] op [3, 1] (broadcast over the batch and the last axis), and a scalar on the left.
    const a = rand(24, gen);
    const b = rand(3, gen).map((v) => v + Math.sign(v));
    for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const) {
      const [o, oWant] = [new Float32Array(24), new Float32Array(24)];
      k.binary(op, a, [12, 4, 1], b, [0, 1, 0], o, [2, 3, 4]);
      cpu.binary(op, a, [12, 4, 1], b, [0, 1, 0], oWant, [2, 3, 4]);
      closeRel(o, oWant, tol, `binary ${op}`, worst);
      k.binary(op, b.subarray(0, 1), [0, 0, 0], a, [12, 4, 1], o, [2, 3, 4]);
      cpu.binary(op, b.subarray(0, 1), [0, 0, 0], a, [12, 4, 1], oWant, [2, 3, 4]);
      closeRel(o, oWant, tol, `binary ${op} (scalar left)`, worst);
    }
  },
};

/** Every conformance case, in the order the tests run them. */
export const KERNEL_CASES: readonly KernelCase[] = [
  matmulCase,
  convCase,
  poolCase,
  normCase,
  elementwiseCase,
];
