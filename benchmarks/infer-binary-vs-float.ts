// Benchmark: @ecgnn/infer binary conv1d (XOR + popcount on packed words) vs @ecgnn/infer float conv1d of the
// same shape, in both kernel sets the runtime can pick (`loadModel(bytes, { kernels })`):
//   typescript — float: kernels/float.ts `conv1d`; binary: kernels/binary.ts (SWAR popcount on Uint32 words);
//   wasm-simd  — float: the WebAssembly SIMD `conv1dForward`; binary: a prepared WebAssembly binary conv
//                (`prepareBinaryConv1d`: i64.popcnt dots, then the float copy or thresholds → packed bits in
//                WebAssembly), i.e. exactly what a loaded model runs per layer.
// Plus @ecgnn/core's CPU conv kernel on the same shape, for reference. Medians of interleaved rounds after
// warm-up; batch 1 (one window), single thread.
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
import { getWasmKernels } from '@ecgnn/kernels/wasm';

const quick = process.argv.includes('--quick');
const wasm = getWasmKernels();
if (!wasm)
  throw new Error('this engine has no WebAssembly SIMD: only the TypeScript kernels could be measured');

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

const ms = (ns: number) => (ns / 1e6).toFixed(3);
const reps = quick ? 5 : 15;
console.log(
  '# @ecgnn/infer: binary conv1d vs float conv1d, both kernel sets (batch 1, 1 thread, "same" padding +1, stride 1)',
);
console.log(
  `node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${os.platform()} ${os.arch()}, load average ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')}`,
);
console.log(
  `command: pnpm exec tsx --conditions=@ecgnn/source benchmarks/infer-binary-vs-float.ts${quick ? ' --quick' : ''}`,
);
console.log(
  `median of ${reps} interleaved rounds (each round times every kernel once, same background load); times in ms\n`,
);
console.log(
  '| shape (C→O, L, K) | MMAC | TS float | TS binary→float | TS binary→packed | TS speed-up (float out / packed out) | WASM float | WASM binary→float | WASM binary→packed | WASM speed-up (float out / packed out) | core CPU float |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
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
  // The same geometry in the kernel-set form (batch, explicit output length), used by WASM and core.
  const kp = {
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
  const wout = new Float32Array(O * Lout);
  const cpu = core.getCpuBackend().kernels;
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
  const Lb = binaryConvOutputLength(bp);
  const bout = new Float32Array(O * Lb);
  const thr = new Int32Array(O);
  const dir = new Int8Array(O).fill(1);
  const pout = new Uint32Array(Lb * wordsForChannels(O));
  const bkp = { ...kp, padValue: 1 as const };
  const wbout = new Float32Array(O * Lb);
  const wpout = new Uint32Array(pout.length);
  // The WebAssembly layers, prepared once as the runtime does at load.
  const floatPlan = wasm.prepareBinaryConv1d(wb, bkp, { pool: null, thresholds: null });
  const packedPlan = wasm.prepareBinaryConv1d(wb, bkp, {
    pool: null,
    thresholds: { threshold: thr, direction: dir },
  });

  // Sanity: both kernel sets agree (binary exactly) before anything is timed.
  binaryConv1d(xb, wb, bp, bout, sw, si);
  floatPlan.run(xb, wbout);
  if (bout.some((v, i) => v !== wbout[i])) throw new Error('WASM and TypeScript binary dots differ');
  binaryConv1dPacked(xb, wb, bp, thr, dir, pout, sw, si);
  packedPlan.run(xb, wpout);
  if (pout.some((v, i) => v !== wpout[i])) throw new Error('WASM and TypeScript packed outputs differ');
  conv1d(x, w, null, fp, out);
  wasm.conv1dForward(x, w, null, wout, kp);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < out.length; i++) {
    err = Math.max(err, Math.abs(out[i] - wout[i]));
    scale = Math.max(scale, Math.abs(out[i]));
  }
  if (err > 1e-4 * scale) throw new Error(`WASM and TypeScript float conv differ (${err / scale})`);

  const [tsF, tsB, tsP, wF, wB, wP, tCore] = timeAll(
    [
      () => conv1d(x, w, null, fp, out),
      () => binaryConv1d(xb, wb, bp, bout, sw, si),
      () => binaryConv1dPacked(xb, wb, bp, thr, dir, pout, sw, si),
      () => wasm.conv1dForward(x, w, null, wout, kp),
      () => floatPlan.run(xb, wbout),
      () => packedPlan.run(xb, wpout),
      () => cpu.conv1dForward(x, w, null, cout, kp),
    ],
    reps,
  );
  const macs = O * C * K * Lout;
  console.log(
    `| ${C}→${O}, ${L}, ${K} | ${(macs / 1e6).toFixed(2)} | ${ms(tsF)} | ${ms(tsB)} | ${ms(tsP)} | ${(tsF / tsB).toFixed(1)}× / ${(tsF / tsP).toFixed(1)}× | ${ms(wF)} | ${ms(wB)} | ${ms(wP)} | ${(wF / wB).toFixed(1)}× / ${(wF / wP).toFixed(1)}× | ${ms(tCore)} |`,
  );
}
console.log(
  '\nspeed-up = float conv time ÷ binary conv time within one kernel set: with integer dots stored as floats ("float out", an unfused binary layer) and with thresholds → packed bits ("packed out", what a fused binary layer of a loaded model runs).',
);
