/**
 * The ecgnn kernels used by the benchmark engines. Imports `@ecgnn/infer/wasm` once the package
 * exports that subpath; until then it falls back to the source entry of the same module.
 */
import type * as WasmModule from '../../packages/infer/src/wasm/index.js';

async function load(): Promise<typeof WasmModule> {
  const subpath = '@ecgnn/infer/wasm';
  try {
    return (await import(subpath)) as typeof WasmModule;
  } catch {
    return await import('../../packages/infer/src/wasm/index.js');
  }
}

const mod = await load();
export const { tsKernels, createKernels, getWasmKernels } = mod;
export type { BinaryConv1dParams, Conv1dParams, Kernels } from '../../packages/infer/src/wasm/index.js';
