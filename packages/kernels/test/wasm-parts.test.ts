// Kernel sets built from some parts (`createWasmKernelSet`): they hold exactly their parts' kernels, compute what
// the whole set computes, and a bundle naming some parts keeps none of the others' code (tree-shaking).

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import type { Conv1dParams } from '../src/contract.js';
import { naiveConv1dForward, naiveMatmul } from '../src/testing.js';
import {
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
