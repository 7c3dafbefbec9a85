/**
 * The dense receptive-field layout of the binary dots kernel for narrow layers (one packed word per position,
 * `C ≤ 32`, where `C` of each word's 32 bits are channels and the rest zeros): each output position's K taps are
 * gathered into consecutive 64-bit words, `⌊64 / C⌋` taps per word (tap `k` of word `w = ⌊k / tpw⌋` at bits
 * `(k − w·tpw)·C …`), so that a dot takes `⌈K / tpw⌉` popcounts instead of `⌈K / 2⌉` (method 5's 8-channel layer:
 * 1 instead of 4). The weights take the same layout. Stride and dilation are applied by the gather, so the dots
 * kernel reads the positions one after the other.
 *
 * `bdense(x, dst, T)` (one module per shape, compiled once and cached by the caller): for t < T and each dense word
 * w, `dst[t·words + w] = Σ_i u64(x[t·s + (w·tpw + i)·d]) << (i·C)` (i64 stores; `x` the padded input's words).
 */

import { ModuleBuilder, uleb128, ValType } from './builder.js';
import { type BinaryTerm, binaryTerms } from './emit-binary.js';

const { i32 } = ValType;

const I64_LOAD32_U = 0x35;
const I64_STORE = 0x37;
const I64_OR = 0x84;
const I64_SHL = 0x86;

/** A dense layout: taps per 64-bit word, words per position, and the dots kernel's terms over them. */
export interface DenseLayout {
  C: number;
  K: number;
  stride: number;
  dilation: number;
  /** Taps per 64-bit word: ⌊64 / C⌋. */
  tpw: number;
  /** 64-bit words per position: ⌈K / tpw⌉. */
  words: number;
  /** The dots kernel's terms of one position (x offsets in bytes from the position's first word). */
  terms: BinaryTerm[];
}

/**
 * The dense layout of a layer with `C` channels (one word per position), kernel `K`, or null when it would not
 * take fewer popcounts than the packed layout (`C > 32`, or `⌈K / tpw⌉ ≥` the packed terms).
 */
export function denseLayout(C: number, K: number, stride: number, dilation: number): DenseLayout | null {
  if (C > 32) return null;
  const tpw = Math.floor(64 / C);
  const words = Math.ceil(K / tpw);
  if (words >= binaryTerms(1, K, dilation).length) return null;
  // The last word holds the remaining taps: a 32-bit term when they fit in 32 bits.
  const terms = Array.from({ length: words }, (_, w) => ({
    x: 8 * w,
    wide: Math.min(tpw, K - w * tpw) * C > 32,
  }));
  return { C, K, stride, dilation, tpw, words, terms };
}

/**
 * Dense weights: `[O][words]` 64-bit words as (low, high) u32 pairs, from per-(channel, tap) words `tapWord(o, k)`
 * holding `C` valid bits (the dots kernel's complemented weights).
 */
export function denseWeights(
  d: DenseLayout,
  O: number,
  rows: number,
  tapWord: (o: number, k: number) => number,
): Uint32Array {
  const out = new Uint32Array(rows * d.words * 2);
  for (let o = 0; o < O; o++)
    for (let k = 0; k < d.K; k++) {
      const w = Math.floor(k / d.tpw);
      const bit = (k - w * d.tpw) * d.C;
      const v = tapWord(o, k) >>> 0;
      const at = (o * d.words + w) * 2;
      if (bit < 32) {
        out[at] |= v << bit;
        if (bit + d.C > 32) out[at + 1] |= v >>> (32 - bit);
      } else out[at + 1] |= v << (bit - 32);
    }
  return out;
}

/** Bytes of the `bdense` module of layout `d` (see the file comment). */
export function buildBinaryDenseModule(d: DenseLayout): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder().importMemory('env', 'memory', 1);
  mb.addFunction('bdense', [i32, i32, i32], [], (c) => {
    const [x, dst, T] = [0, 1, 2];
    const t = c.local(i32);
    const src = c.local(i32);
    const out = c.local(i32);
    c.localGet(x).localSet(src);
    c.localGet(dst).localSet(out);
    c.forLoop(t, 0, { local: T }, 1, () => {
      for (let w = 0; w < d.words; w++) {
        c.localGet(out);
        const taps = Math.min(d.tpw, d.K - w * d.tpw);
        for (let i = 0; i < taps; i++) {
          const k = w * d.tpw + i;
          c.localGet(src).raw(I64_LOAD32_U, ...uleb128(2), ...uleb128(4 * k * d.dilation));
          if (i > 0) c.i64Const(i * d.C).raw(I64_SHL, I64_OR);
        }
        c.raw(I64_STORE, ...uleb128(3), ...uleb128(8 * w));
      }
      c.addTo(src, 4 * d.stride);
      c.addTo(out, 8 * d.words);
    });
  });
  return mb.build();
}
