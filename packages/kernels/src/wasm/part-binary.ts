/**
 * The WebAssembly binary kernels: sign packing, binary convolution and prepared binary convolutions (their own
 * modules, binary-plan.ts), and the binary dense product on the `bconv` kernel of the kernel module.
 */
import type { BinaryDenseParams, Kernels } from '../contract.js';
import { convPaddingWithinField } from '../params.js';
import {
  checkBinaryDense,
  binaryConv1d as refBinaryConv1d,
  binaryDense as refBinaryDense,
  prepareBinaryConv1d as refPrepareBinaryConv1d,
  signPack as refSignPack,
} from '../ref/binary.js';
import { Layout, type PartContext, roundUp, type WasmKernelPart } from './arena.js';
import { createWasmBinaryKernels } from './binary-plan.js';
import { emitBconv } from './emit-binary.js';

/** Binds sign packing and the binary convolutions to an arena. */
function bindBinary(ctx: PartContext): Pick<Kernels, 'signPack' | 'binaryConv1d' | 'prepareBinaryConv1d'> {
  const { arena } = ctx;
  // Binary conv, prepared binary convs (with their epilogues) and sign packing: binary-plan.ts.
  // The binary modules import a plain memory: on a shared (threaded) arena the binary layers run the reference
  // kernels (same results bit for bit; the threaded arena exists for core's float training kernels). The binary
  // conv kernels take padding within the receptive field; wider padding runs the reference.
  const wasmBinary = arena.sharedMaxPages === null ? createWasmBinaryKernels(arena) : null;
  const binaryConv1d: Kernels['binaryConv1d'] =
    wasmBinary === null
      ? refBinaryConv1d
      : (x, w, out, p) =>
          convPaddingWithinField(p) ? wasmBinary.binaryConv1d(x, w, out, p) : refBinaryConv1d(x, w, out, p);
  const prepareBinaryConv1d: Kernels['prepareBinaryConv1d'] =
    wasmBinary === null
      ? refPrepareBinaryConv1d
      : (w, p, e) =>
          convPaddingWithinField(p)
            ? wasmBinary.prepareBinaryConv1d(w, p, e)
            : refPrepareBinaryConv1d(w, p, e);
  const signPack: Kernels['signPack'] = wasmBinary === null ? refSignPack : wasmBinary.signPack;
  return { signPack, binaryConv1d, prepareBinaryConv1d };
}

/** Binds the binary dense kernel to a module instance. */
function bindBinaryDense(ctx: PartContext) {
  const { arena, exports: k } = ctx;
  function binaryDense(
    xPacked: Uint32Array,
    wPacked: Uint32Array,
    out: Int32Array,
    p: BinaryDenseParams,
  ): void {
    if (!(p.batch > 0 && p.inFeatures > 0 && p.outFeatures > 0)) {
      refBinaryDense(xPacked, wPacked, out, p);
      return;
    }
    checkBinaryDense(p, xPacked, wPacked, out);
    // A dense layer is a kernel-1 convolution over a "length" of batch entries.
    const { batch, inFeatures, outFeatures } = p;
    const words = Math.ceil(inFeatures / 32);
    const wp = roundUp(words, 2);
    const pairs = wp / 2;
    const blocks = Math.ceil(outFeatures / 4);
    const lay = new Layout();
    const bp = roundUp(batch, 2); // the kernel computes positions in pairs
    const wAt = lay.take(blocks * 4 * wp);
    const xAt = lay.take(bp * wp);
    const oAt = lay.take(blocks * 4 * bp);
    arena.reserve(lay.bytes);
    const { u32, i32 } = arena.views();
    const w0 = wAt / 4;
    for (let ob = 0; ob < blocks; ob++) {
      for (let pr = 0; pr < pairs; pr++) {
        for (let r = 0; r < 4; r++) {
          const o = ob * 4 + r;
          for (let h = 0; h < 2; h++) {
            const q = pr * 2 + h;
            u32[w0 + (ob * pairs + pr) * 8 + r * 2 + h] =
              o < outFeatures && q < words ? wPacked[o * words + q] : 0;
          }
        }
      }
    }
    const x0 = xAt / 4;
    for (let b = 0; b < batch; b++) {
      u32.set(xPacked.subarray(b * words, (b + 1) * words), x0 + b * wp);
      if (wp !== words) u32[x0 + b * wp + words] = 0;
    }
    k.bconv(xAt, wAt, oAt, blocks, bp, 1, pairs, wp * 4, 0, inFeatures, bp * 4);
    const o0 = oAt / 4;
    for (let b = 0; b < batch; b++)
      for (let o = 0; o < outFeatures; o++) out[b * outFeatures + o] = i32[o0 + o * bp + b];
  }
  return binaryDense;
}

/** `signPack`, `binaryConv1d`, `prepareBinaryConv1d` (padding within the receptive field; the rest: reference). */
export const binaryPart: WasmKernelPart<'signPack' | 'binaryConv1d' | 'prepareBinaryConv1d'> = {
  emitters: [],
  bind: bindBinary,
  warm(k) {
    const u = new Uint32Array(64);
    const p = {
      batch: 1,
      inChannels: 33,
      outChannels: 2,
      inLength: 9,
      outLength: 9,
      kernelSize: 3,
      stride: 1,
      dilation: 1,
      padLeft: 1,
      padValue: 1 as const,
    };
    k.binaryConv1d(u, u, new Int32Array(64), p);
  },
};

/** `binaryDense`. */
export const binaryDensePart: WasmKernelPart<'binaryDense'> = {
  emitters: [emitBconv],
  bind: (ctx) => ({ binaryDense: bindBinaryDense(ctx) }),
  warm(k) {
    const u = new Uint32Array(64);
    k.binaryDense(u, u, new Int32Array(64), { batch: 2, inFeatures: 40, outFeatures: 3 });
  },
};
