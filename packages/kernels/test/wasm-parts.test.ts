// Kernel sets built from some parts (`createWasmKernelSet`): they hold exactly their parts' kernels, compute what
// the whole set computes, and a bundle naming some parts keeps none of the others' code (tree-shaking).

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { packConvWeights } from '../src/binary/conventions.js';
import type { BinaryConv1dParams, Conv1dParams } from '../src/contract.js';
import { naiveBinaryConvPlan, naiveConv1dForward, naiveMatmul } from '../src/testing.js';
import {
  binaryPlanPart,
  buildKernelModule,
  buildPartsModule,
  convBackwardPart,
  convForwardPart,
  createWasmKernelSet,
  getWasmKernels,
  matmulPart,
  maxPoolPart,
  WASM_KERNEL_PARTS,
} from '../src/wasm/index.js';

function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

describe('WebAssembly kernel sets of some parts', () => {
  it('hold exactly the kernels of their parts and compute as the whole set', () => {
    const k = createWasmKernelSet([matmulPart, convForwardPart]);
    expect(k).not.toBeNull();
    if (!k) return;
    expect(k.kind).toBe('wasm-simd');
    expect(Object.keys(k).sort()).toEqual(['arena', 'conv1dForward', 'kind', 'matmul']);
    const p: Conv1dParams = {
      batch: 2,
      inChannels: 3,
      outChannels: 5,
      inLength: 40,
      outLength: 40,
      kernelSize: 3,
      stride: 1,
      dilation: 1,
      padLeft: 1,
      groups: 1,
      padValue: 0,
      activation: 'relu',
    };
    const x = randomArray(2 * 3 * 40, 1);
    const w = randomArray(5 * 3 * 3, 2);
    const out = new Float32Array(2 * 5 * 40);
    k.conv1dForward(x, w, null, out, p);
    const want = naiveConv1dForward(x, w, null, p);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(want[i], 4);
    const whole = getWasmKernels()!;
    const out2 = new Float32Array(out.length);
    whole.conv1dForward(x, w, null, out2, p);
    expect(Array.from(out)).toEqual(Array.from(out2));
    const mp = { batch: 1, m: 7, k: 9, n: 11, transA: false, transB: true };
    const a = randomArray(63, 3);
    const b = randomArray(99, 4);
    const o = new Float32Array(77);
    k.matmul(a, b, o, mp);
    const wm = naiveMatmul(a, b, mp);
    for (let i = 0; i < o.length; i++) expect(o[i]).toBeCloseTo(wm[i], 4);
  });

  it('binaryPlanPart: sign packing and prepared convs without binaryConv1d, as the whole set computes them', () => {
    const k = createWasmKernelSet([binaryPlanPart]);
    expect(k).not.toBeNull();
    if (!k) return;
    expect(Object.keys(k).sort()).toEqual(['arena', 'kind', 'prepareBinaryConv1d', 'signPack']);
    const p: BinaryConv1dParams = {
      batch: 1,
      inChannels: 40,
      outChannels: 6,
      inLength: 30,
      outLength: 30,
      kernelSize: 3,
      stride: 1,
      dilation: 1,
      padLeft: 1,
      padValue: 0,
    };
    const x = randomArray(40 * 30, 5);
    const w = randomArray(6 * 40 * 3, 6);
    const e = { pool: { kernelSize: 2, stride: 2 }, thresholds: null };
    const plan = k.prepareBinaryConv1d(packConvWeights(w, 6, 40, 3), p, e);
    const out = new Float32Array(plan.outSize);
    expect(plan.runFloat(x, out)).toBe(true);
    expect(Array.from(out)).toEqual(naiveBinaryConvPlan(x, w, p, e).out);
    const whole = getWasmKernels()!;
    const a = new Uint32Array(30 * 2);
    const b = new Uint32Array(30 * 2);
    const sp = { batch: 1, channels: 40, length: 30 };
    expect(k.signPack(x, a, sp)).toBe(true);
    expect(whole.signPack(x, b, sp)).toBe(true);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('emit only their functions (each shared one once)', () => {
    const forward = buildPartsModule([convForwardPart]).length;
    const both = buildPartsModule([convForwardPart, convBackwardPart]).length;
    const all = buildPartsModule(WASM_KERNEL_PARTS).length;
    expect(forward).toBeLessThan(both);
    expect(both).toBeLessThan(all);
    expect(all).toBe(buildKernelModule().length); // the full module: the same functions
    expect(buildPartsModule([matmulPart, convForwardPart]).length).toBe(forward); // gemm emitted once
    expect(WebAssembly.validate(buildPartsModule([maxPoolPart]))).toBe(true);
  });

  it('a bundle naming some parts keeps none of the other parts’ code', async () => {
    const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
    const out = await build({
      stdin: {
        contents: `import { createWasmKernelSet, convForwardPart, matmulPart } from './src/wasm/index.ts';
export const k = createWasmKernelSet([convForwardPart, matmulPart]);`,
        resolveDir: pkg,
        loader: 'ts',
      },
      bundle: true,
      format: 'esm',
      write: false,
      minify: true,
    });
    const code = out.outputFiles[0].text;
    expect(code).toContain('dwconv'); // the forward's depthwise kernel
    for (const name of ['dwgrad', 'bconv', 'maxpool', 'bsign', 'bdots']) expect(code).not.toContain(name);
  });
});
