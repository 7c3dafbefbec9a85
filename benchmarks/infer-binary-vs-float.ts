// Benchmark: @ecgnn/infer binary conv1d (XOR + SWAR popcount on packed Uint32 words, pure TypeScript) vs
// @ecgnn/infer float conv1d of the same shape, and the float path vs @ecgnn/core's CPU conv kernel.
// Medians of measured runs after warm-up; batch 1 (one window), single thread.
// Run: pnpm exec tsx --conditions=@ecgnn/source benchmarks/infer-binary-vs-float.ts [--quick]
import os from 'node:os';
import * as core from '@ecgnn/core';
import {
  type BinaryConv1dParams,
  binaryConv1d,
  binaryConv1dPacked,
  binaryConvOutputLength,
  binaryConvScratchSize,
  type Conv1dParams,
  conv1d,
  conv1dOutputLength,
  packConvWeights,
  wordsForChannels,
} from '@ecgnn/infer';

const quick = process.argv.includes('--quick');

interface Shape {
  C: number;
  O: number;
  L: number;
  K: number;
}

const shapes: Shape[] = [
  { C: 32, O: 32, L: 1000, K: 7 },
  { C: 64, O: 64, L: 1000, K: 5 },
  { C: 64, O: 64, L: 256, K: 3 },
  { C: 128, O: 128, L: 500, K: 7 },
  { C: 128, O: 128, L: 1000, K: 3 },
];

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Median time per call (ns) of each function. Each gets a batch size lasting ≥ ~20 ms; then the batches are
 * run in turn, `reps` rounds, so that every kernel sees the same background load (the machine is shared).
 */
function timeAll(fns: (() => void)[], reps: number): number[] {
  const inner = fns.map((fn) => {
    for (let i = 0; i < 3; i++) fn(); // warm-up / tier-up
    let n = 1;
    for (;;) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) fn();
      if (Number(process.hrtime.bigint() - t0) > 20e6 || n > 1 << 20) return n;
      n *= 2;
    }
  });
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < reps; r++) {
    fns.forEach((fn, k) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < inner[k]; i++) fn();
      samples[k].push(Number(process.hrtime.bigint() - t0) / inner[k]);
    });
  }
  return samples.map(median);
}

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const reps = quick ? 5 : 15;
console.log('# @ecgnn/infer: binary conv1d vs float conv1d (batch 1, 1 thread, "same" padding, stride 1)');
console.log(
  `node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${os.platform()} ${os.arch()}`,
);
console.log(
  `command: pnpm exec tsx --conditions=@ecgnn/source benchmarks/infer-binary-vs-float.ts${quick ? ' --quick' : ''}`,
);
console.log(
  `median of ${reps} interleaved rounds (each round times every kernel once, same background load)\n`,
);
console.log(
  '| shape (C→O, L, K) | MMAC | float infer (ms) | float core CPU (ms) | binary→float (ms) | binary→packed (ms) | float GMAC/s | binary GMAC/s | binary/float speed-up | core time ÷ infer float time (>1 = infer faster) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const { C, O, L, K } of shapes) {
  const pad = (K - 1) >> 1;
  const fp: Conv1dParams = {
    inChannels: C,
    inLength: L,
    outChannels: O,
    kernelSize: K,
    stride: 1,
    dilation: 1,
    padLeft: pad,
    padRight: K - 1 - pad,
    groups: 1,
    padValue: 1,
  };
  const x = rand(C * L, 1);
  const w = rand(O * C * K, 2);
  const Lout = conv1dOutputLength(fp);
  const out = new Float32Array(O * Lout);

  // @ecgnn/core CPU kernel on the same shape (float32 storage, its own padding/tiling).
  const cpu = core.getCpuBackend().kernels;
  const cp: core.Conv1dParams = {
    batch: 1,
    inChannels: C,
    outChannels: O,
    inLength: L,
    outLength: Lout,
    kernelSize: K,
    stride: 1,
    dilation: 1,
    padLeft: pad,
    groups: 1,
    padValue: 1,
  };
  const cout = new Float32Array(O * Lout);

  const bp: BinaryConv1dParams = {
    inChannels: C,
    inLength: L,
    outChannels: O,
    kernelSize: K,
    stride: 1,
    dilation: 1,
    padLeft: pad,
    padRight: K - 1 - pad,
    padValue: 1,
    pool: null,
  };
  const W = wordsForChannels(C);
  const xb = new Uint32Array(L * W);
  for (let i = 0; i < xb.length; i++) xb[i] = rand(1, i + 7)[0] * 2 ** 31;
  const wb = packConvWeights(w, O, C, K);
  const sc = binaryConvScratchSize(bp);
  const sw = new Uint32Array(sc.words);
  const si = new Int32Array(sc.ints);
  const bout = new Float32Array(O * binaryConvOutputLength(bp));
  const thr = new Int32Array(O);
  const dir = new Int8Array(O).fill(1);
  const pout = new Uint32Array(binaryConvOutputLength(bp) * wordsForChannels(O));
  const [tFloat, tCore, tBin, tPacked] = timeAll(
    [
      () => conv1d(x, w, null, fp, out),
      () => cpu.conv1dForward(x, w, null, cout, cp),
      () => binaryConv1d(xb, wb, bp, bout, sw, si),
      () => binaryConv1dPacked(xb, wb, bp, thr, dir, pout, sw, si),
    ],
    reps,
  );

  const macs = O * C * K * Lout;
  console.log(
    `| ${C}→${O}, ${L}, ${K} | ${(macs / 1e6).toFixed(2)} | ${(tFloat / 1e6).toFixed(3)} | ${(tCore / 1e6).toFixed(3)} | ${(tBin / 1e6).toFixed(3)} | ${(tPacked / 1e6).toFixed(3)} | ${(macs / tFloat).toFixed(2)} | ${(macs / tBin).toFixed(2)} | ${(tFloat / tBin).toFixed(1)}× | ${(tCore / tFloat).toFixed(2)} |`,
  );
}
