/**
 * The WebAssembly binary kernels: sign packing, binary convolution and prepared binary convolutions (their own
 * modules, binary-plan.ts), and the binary dense product on the `bconv` kernel of the kernel module. Three parts:
 * {@link binaryPlanPart} (sign packing and prepared convs: what a model runs), {@link binaryPart} (those and
 * `binaryConv1d`), {@link binaryDensePart}.
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
import { binaryPlanTakes, createWasmBinaryConv1d, createWasmBinaryPlans } from './binary-plan.js';
import { emitBconv } from './emit-binary.js';

/**
 * Binds sign packing and the prepared binary convs to an arena. The binary modules import a plain memory: on a
 * shared (threaded) arena the reference kernels run (same results bit for bit; the threaded arena exists for
 * core's float training kernels). The WebAssembly convs take padding within the receptive field, and plans up to
 * 4096 bits per output (`binaryPlanTakes`); the rest runs the reference.
 */
function bindPlans(ctx: PartContext): Pick<Kernels, 'signPack' | 'prepareBinaryConv1d'> {
  const { arena } = ctx;
  if (arena.sharedMaxPages !== null)
    return { signPack: refSignPack, prepareBinaryConv1d: refPrepareBinaryConv1d };
  const wasm = createWasmBinaryPlans(arena);
  return {
    signPack: wasm.signPack,
    prepareBinaryConv1d: (w, p, e) =>
      binaryPlanTakes(p) ? wasm.prepareBinaryConv1d(w, p, e) : refPrepareBinaryConv1d(w, p, e),
  };
}

/** Binds `binaryConv1d` to an arena (as {@link bindPlans}: the reference on a shared arena or wide padding). */
function bindConv(ctx: PartContext): Kernels['binaryConv1d'] {
  const { arena } = ctx;
  if (arena.sharedMaxPages !== null) return refBinaryConv1d;
  const conv = createWasmBinaryConv1d(arena);
  return (x, w, out, p) => (convPaddingWithinField(p) ? conv(x, w, out, p) : refBinaryConv1d(x, w, out, p));
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

/** A tiny prepared conv, run once from floats (warms sign packing, a dots kernel and the float epilogue). */
function warmPlans(k: Pick<Kernels, 'prepareBinaryConv1d'>): void {
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
  const plan = k.prepareBinaryConv1d(new Uint32Array(12), p, { pool: null, thresholds: null });
  plan.runFloat(new Float32Array(33 * 9), new Float32Array(plan.outSize));
}

/**
 * `signPack` and `prepareBinaryConv1d` (padding within the receptive field; the rest: reference): the binary
 * kernels a model runs, without `binaryConv1d`.
 */
export const binaryPlanPart: WasmKernelPart<'signPack' | 'prepareBinaryConv1d'> = {
  emitters: [],
  bind: bindPlans,
  warm: warmPlans,
};

/** `signPack`, `binaryConv1d`, `prepareBinaryConv1d` (padding within the receptive field; the rest: reference). */
export const binaryPart: WasmKernelPart<'signPack' | 'binaryConv1d' | 'prepareBinaryConv1d'> = {
  emitters: [],
  bind: (ctx) => ({ ...bindPlans(ctx), binaryConv1d: bindConv(ctx) }),
  warm(k) {
    warmPlans(k);
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
