/**
 * The kernels of the runtime, chosen once per model at load: the contract's reference kernels (TypeScript),
 * imported one by one so that a bundle takes only the kernels the runtime calls, and — when the engine has
 * WebAssembly SIMD — the WebAssembly set's kernels in their place where it has them.
 */
import {
  activation,
  avgPool1d,
  batchNormForward,
  binary,
  binaryDense,
  cast,
  conv1dForward,
  firstNonFinite,
  matmul,
  maxPool1d,
  prelu,
  prepareBinaryConv1d,
  reduce,
  signPack,
  softmax,
  thresholdPack,
} from '@ecgnn/kernels';
import {
  binaryPlanPart,
  convForwardPart,
  createWasmKernelSet,
  matmulPart,
  maxPoolPart,
  thresholdPart,
} from '@ecgnn/kernels/wasm';
import type { InferKernels } from './ops/types.js';

/** The reference kernels the runtime calls. */
export const REFERENCE_KERNELS: InferKernels = {
  activation,
  avgPool1d,
  batchNormForward,
  binary,
  binaryDense,
  cast,
  conv1dForward,
  firstNonFinite,
  matmul,
  maxPool1d,
  prelu,
  prepareBinaryConv1d,
  reduce,
  signPack,
  softmax,
  thresholdPack,
};

/** The kernels a model runs with. */
export interface KernelChoice {
  /** The WebAssembly set's kernels where it has them, else the reference ones. */
  kernels: InferKernels;
  /** The reference kernels. */
  reference: InferKernels;
  /** Whether {@link kernels} holds WebAssembly kernels. */
  wasm: boolean;
}

/** The reference kernels only. */
export const TYPESCRIPT_CHOICE: KernelChoice = {
  kernels: REFERENCE_KERNELS,
  reference: REFERENCE_KERNELS,
  wasm: false,
};

/**
 * The WebAssembly kernels the runtime calls: only these parts of the WebAssembly set are emitted, compiled and
 * bundled (the set's other kernels, e.g. the conv gradients, stay out of a bundle of this package).
 */
function wasmKernels() {
  return createWasmKernelSet([convForwardPart, matmulPart, maxPoolPart, binaryPlanPart, thresholdPart]);
}

/** The WebAssembly kernel set shared by every model of this realm (calls are synchronous, so sharing is safe). */
let sharedWasm: KernelChoice | null | undefined;

/** The WebAssembly kernels over the reference ones, or null when this engine has no WebAssembly SIMD. */
export function wasmChoice(): KernelChoice | null {
  if (sharedWasm === undefined) {
    let w: ReturnType<typeof wasmKernels> = null;
    try {
      w = wasmKernels();
    } catch {
      w = null; // e.g. WebAssembly compilation refused by a content security policy
    }
    sharedWasm = w && {
      kernels: {
        ...REFERENCE_KERNELS,
        conv1dForward: w.conv1dForward,
        matmul: w.matmul,
        maxPool1d: w.maxPool1d,
        signPack: w.signPack,
        prepareBinaryConv1d: w.prepareBinaryConv1d,
        thresholdPack: w.thresholdPack,
      },
      reference: REFERENCE_KERNELS,
      wasm: true,
    };
  }
  return sharedWasm;
}
