// Benchmark: binary conv1d (XOR + popcount on packed words) vs float conv1d of the same shape, in both kernel
// sets @ecgnn/infer can pick (`loadModel(bytes, { kernels })`), i.e. the kernels of @ecgnn/kernels:
//   typescript — float: the reference `conv1dForward`; binary: the reference `prepareBinaryConv1d` plan;
//   wasm-simd  — float: the WebAssembly SIMD `conv1dForward`; binary: a prepared WebAssembly binary conv
//                (`prepareBinaryConv1d`: i64.popcnt dots, then the float copy or thresholds → packed bits in
//                WebAssembly), i.e. exactly what a loaded model runs per layer.
// The reference float conv is also @ecgnn/core's CPU conv (one implementation). Medians of interleaved rounds
// after warm-up; batch 1 (one window), single thread.
// Run: pnpm exec tsx --conditions=@ecgnn/source benchmarks/infer-binary-vs-float.ts [--quick]
import os from 'node:os';
import {
  type BinaryConv1dParams,
  type Conv1dParams,
  conv1dForward,
  conv1dOutputLength,
  packConvWeights,
  prepareBinaryConv1d,
  wordsForChannels,
} from '@ecgnn/kernels';
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
  '| shape (C→O, L, K) | MMAC | TS float | TS binary→float | TS binary→packed | TS speed-up (float out / packed out) | WASM float | WASM binary→float | WASM binary→packed | WASM speed-up (float out / packed out) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const { C, O, L, K } of shapes) {
  const pad = (K - 1) >> 1;
  const Lout = conv1dOutputLength({
    inLength: L,
    kernelSize: K,
    stride: 1,
    dilation: 1,
    padLeft: pad,
    padRight: K - 1 - pad,
  });
  const kp: Conv1dParams = {
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
  const x = rand(C * L, 1);
  const w = rand(O * C * K, 2);
  const out = new Float32Array(O * Lout);
  const wout = new Float32Array(O * Lout);

  const bkp: BinaryConv1dParams = { ...kp, padValue: 1 };
  const W = wordsForChannels(C);
  const xb = new Uint32Array(L * W);
  for (let i = 0; i < xb.length; i++) xb[i] = rand(1, i + 7)[0] * 2 ** 31;
  const wb = packConvWeights(w, O, C, K);
  const thr = new Int32Array(O);
  const dir = new Int8Array(O).fill(1);
  const thresholds = { threshold: thr, direction: dir };
  const bout = new Float32Array(O * Lout);
  const pout = new Uint32Array(Lout * wordsForChannels(O));
  const wbout = new Float32Array(O * Lout);
  const wpout = new Uint32Array(pout.length);
  // The layers, prepared once as the runtime does at load, in both kernel sets.
  const tsFloatPlan = prepareBinaryConv1d(wb, bkp, { pool: null, thresholds: null });
  const tsPackedPlan = prepareBinaryConv1d(wb, bkp, { pool: null, thresholds });
  const floatPlan = wasm.prepareBinaryConv1d(wb, bkp, { pool: null, thresholds: null });
  const packedPlan = wasm.prepareBinaryConv1d(wb, bkp, { pool: null, thresholds });

  // Sanity: both kernel sets agree (binary exactly) before anything is timed.
  tsFloatPlan.run(xb, bout);
  floatPlan.run(xb, wbout);
  if (bout.some((v, i) => v !== wbout[i])) throw new Error('WASM and TypeScript binary dots differ');
  tsPackedPlan.run(xb, pout);
  packedPlan.run(xb, wpout);
  if (pout.some((v, i) => v !== wpout[i])) throw new Error('WASM and TypeScript packed outputs differ');
  conv1dForward(x, w, null, out, kp);
  wasm.conv1dForward(x, w, null, wout, kp);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < out.length; i++) {
    err = Math.max(err, Math.abs(out[i] - wout[i]));
    scale = Math.max(scale, Math.abs(out[i]));
  }
  if (err > 1e-4 * scale) throw new Error(`WASM and TypeScript float conv differ (${err / scale})`);

  const [tsF, tsB, tsP, wF, wB, wP] = timeAll(
    [
      () => conv1dForward(x, w, null, out, kp),
      () => tsFloatPlan.run(xb, bout),
      () => tsPackedPlan.run(xb, pout),
      () => wasm.conv1dForward(x, w, null, wout, kp),
      () => floatPlan.run(xb, wbout),
      () => packedPlan.run(xb, wpout),
    ],
    reps,
  );
  const macs = O * C * K * Lout;
  console.log(
    `| ${C}→${O}, ${L}, ${K} | ${(macs / 1e6).toFixed(2)} | ${ms(tsF)} | ${ms(tsB)} | ${ms(tsP)} | ${(tsF / tsB).toFixed(1)}× / ${(tsF / tsP).toFixed(1)}× | ${ms(wF)} | ${ms(wB)} | ${ms(wP)} | ${(wF / wB).toFixed(1)}× / ${(wF / wP).toFixed(1)}× |`,
  );
}
console.log(
  '\nspeed-up = float conv time ÷ binary conv time within one kernel set: with integer dots stored as floats ("float out", an unfused binary layer) and with thresholds → packed bits ("packed out", what a fused binary layer of a loaded model runs).',
);
