import type { Conv1dParams, FloatArray } from '../contract.js';
import { Scratch } from './scratch.js';

/*
 * Register-tiled 1-D convolution kernels (CPU reference backend).
 *
 * NOTE: a convolution is an implicit matrix product. With xs the input padded with `padValue` (so the
 * hot loops have no border tests) and j = ci·K + k running over the (input channel, tap) pairs of a group,
 *
 *   out[co, t] = bias[co] + Σ_j W[co, j] · xs[ci(j), t·s + k(j)·d]            (forward)
 *   gW[co, j]  = Σ_b Σ_t g[co, t] · xs[ci(j), t·s + k(j)·d]                    (weight gradient)
 *   gx[ci, i]  = Σ_co Σ_k' W[co, ci, K−1−k'] · gs[co, i + padLeft + k'·d]      (input gradient, s = 1)
 *
 * where gs holds g shifted right by (K−1)·d with zeros around: for stride 1 the input gradient is a
 * forward convolution of g with the flipped, transposed weight; strides > 1 split it into s phases (see
 * conv1dBackwardInput). Padded positions of x receive no gradient: only positions padLeft … padLeft+L−1
 * are computed.
 *
 * Operands are copied into float64 scratch buffers that grow on demand and are reused — weights once per
 * call, input / output-gradient rows per batch item and group (a depthwise group's rows stay in L1): the inner loops then read one array type (no float32→float64 conversions,
 * monomorphic loads) and the float64 path used by gradient checks gets exact float64 arithmetic.
 * Micro-kernels keep 4 output channels × 3 time steps (12 accumulators) or 1 channel × 8 time steps in
 * local variables (weight gradient: 3 channels × 4 taps). Tiles that overhang the output read slack at
 * the end of the source rows and are masked on store.
 */

const srcScratch = new Scratch(Float64Array);
const wScratch = new Scratch(Float64Array);
const gScratch = new Scratch(Float64Array);
const accScratch = new Scratch(Float64Array);
const offScratch = new Scratch(Int32Array);
const phaseScratch = new Scratch(Int32Array);

/** Slack (in time steps) past the output length that source rows provide for tiles overhanging the end. */
const T_SLACK = 8;

/**
 * Implicit-GEMM core for one group g of one batch item (see the file comment):
 *   out[outBase + (g·coutG + co)·outLen + t] =
 *     bias[g·coutG + co] + Σ_ci Σ_k wp[g, co, ci, k] · src[ci·rowLen + srcCol + t·s + k·d]
 * `src` holds only this group's cin source rows (filled per group, so a depthwise group stays in L1).
 * `wp` is packed as ((g·tiles + tb)·cin·K + ci·K + k)·4 + r with co = 4·tb + r (zero-padded to whole
 * tiles). Full tiles of 4 channels use the 4×3 micro-kernel, remaining channels the 1×8 one.
 */
function convCore(
  src: Float64Array,
  rowLen: number,
  srcCol: number,
  wp: Float64Array,
  wOff: number,
  K: number,
  d: number,
  out: FloatArray,
  outBase: number,
  outLen: number,
  g: number,
  cin: number,
  coutG: number,
  s: number,
  bias: FloatArray | null,
): void {
  const J = cin * K;
  const tiles = (coutG + 3) >> 2;
  const fullTiles = coutG >> 2;
  for (let tb = 0; tb < fullTiles; tb++) {
    const co0 = g * coutG + tb * 4;
    const wBase = wOff + (g * tiles + tb) * J * 4;
    const o0 = outBase + co0 * outLen;
    if (s === 1) tile4x3s1(src, srcCol, rowLen, cin, K, d, wp, wBase, out, o0, outLen, bias, co0);
    else tile4x3(src, srcCol, rowLen, cin, K, d, s, wp, wBase, out, o0, outLen, bias, co0);
  }
  // Remaining channels (coutG mod 4, or all of them when coutG < 4).
  for (let co = fullTiles * 4; co < coutG; co++) {
    const cg = g * coutG + co;
    const wBase = wOff + (g * tiles + (co >> 2)) * J * 4 + (co & 3);
    const bv = bias === null ? 0 : bias[cg];
    const o0 = outBase + cg * outLen;
    if (s === 1) tile1x8s1(src, srcCol, rowLen, cin, K, d, wp, wBase, out, o0, outLen, bv);
    else tile1x8(src, srcCol, rowLen, cin, K, d, s, wp, wBase, out, o0, outLen, bv);
  }
}

/**
 * Micro-kernel: 4 output channels (weights interleaved by 4 from `wBase`) × 3 time steps in 12
 * accumulators, over a whole output row. 4×3 measured faster than 4×4 on V8/x86-64: 12 accumulators,
 * 4 weights and the input values fit the 16 SSE registers, 16 accumulators spill.
 * Tiles overhanging the row end read source slack and are masked on store.
 */
function tile4x3(
  src: Float64Array,
  gSrc: number,
  rowLen: number,
  cin: number,
  K: number,
  d: number,
  s: number,
  wp: Float64Array,
  wBase: number,
  out: FloatArray,
  o0: number,
  outLen: number,
  bias: FloatArray | null,
  co0: number,
): void {
  const s2 = 2 * s;
  const span = K * d;
  for (let t0 = 0; t0 < outLen; t0 += 3) {
    let c00 = 0,
      c01 = 0,
      c02 = 0;
    let c10 = 0,
      c11 = 0,
      c12 = 0;
    let c20 = 0,
      c21 = 0,
      c22 = 0;
    let c30 = 0,
      c31 = 0,
      c32 = 0;
    let wi = wBase;
    for (let ci = 0; ci < cin; ci++) {
      const xs = gSrc + ci * rowLen + t0 * s;
      const xe = xs + span;
      for (let xo = xs; xo < xe; xo += d) {
        const x0 = src[xo];
        const x1 = src[xo + s];
        const x2 = src[xo + s2];
        const w0 = wp[wi];
        const w1 = wp[wi + 1];
        const w2 = wp[wi + 2];
        const w3 = wp[wi + 3];
        wi += 4;
        c00 += w0 * x0;
        c01 += w0 * x1;
        c02 += w0 * x2;
        c10 += w1 * x0;
        c11 += w1 * x1;
        c12 += w1 * x2;
        c20 += w2 * x0;
        c21 += w2 * x1;
        c22 += w2 * x2;
        c30 += w3 * x0;
        c31 += w3 * x1;
        c32 += w3 * x2;
      }
    }
    store4x3(
      out,
      o0 + t0,
      outLen,
      outLen - t0,
      bias,
      co0,
      c00,
      c01,
      c02,
      c10,
      c11,
      c12,
      c20,
      c21,
      c22,
      c30,
      c31,
      c32,
    );
  }
}

/** {@link tile4x3} specialised for stride 1 (constant load offsets). */
function tile4x3s1(
  src: Float64Array,
  gSrc: number,
  rowLen: number,
  cin: number,
  K: number,
  d: number,
  wp: Float64Array,
  wBase: number,
  out: FloatArray,
  o0: number,
  outLen: number,
  bias: FloatArray | null,
  co0: number,
): void {
  const span = K * d;
  for (let t0 = 0; t0 < outLen; t0 += 3) {
    let c00 = 0,
      c01 = 0,
      c02 = 0;
    let c10 = 0,
      c11 = 0,
      c12 = 0;
    let c20 = 0,
      c21 = 0,
      c22 = 0;
    let c30 = 0,
      c31 = 0,
      c32 = 0;
    let wi = wBase;
    for (let ci = 0; ci < cin; ci++) {
      const xs = gSrc + ci * rowLen + t0;
      const xe = xs + span;
      for (let xo = xs; xo < xe; xo += d) {
        const x0 = src[xo];
        const x1 = src[xo + 1];
        const x2 = src[xo + 2];
        const w0 = wp[wi];
        const w1 = wp[wi + 1];
        const w2 = wp[wi + 2];
        const w3 = wp[wi + 3];
        wi += 4;
        c00 += w0 * x0;
        c01 += w0 * x1;
        c02 += w0 * x2;
        c10 += w1 * x0;
        c11 += w1 * x1;
        c12 += w1 * x2;
        c20 += w2 * x0;
        c21 += w2 * x1;
        c22 += w2 * x2;
        c30 += w3 * x0;
        c31 += w3 * x1;
        c32 += w3 * x2;
      }
    }
    store4x3(
      out,
      o0 + t0,
      outLen,
      outLen - t0,
      bias,
      co0,
      c00,
      c01,
      c02,
      c10,
      c11,
      c12,
      c20,
      c21,
      c22,
      c30,
      c31,
      c32,
    );
  }
}

function store4x3(
  out: FloatArray,
  o: number,
  ld: number,
  n: number,
  bias: FloatArray | null,
  co0: number,
  c00: number,
  c01: number,
  c02: number,
  c10: number,
  c11: number,
  c12: number,
  c20: number,
  c21: number,
  c22: number,
  c30: number,
  c31: number,
  c32: number,
): void {
  // Bias is added at the store, not held in registers across the reduction.
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  if (bias !== null) {
    b0 = bias[co0];
    b1 = bias[co0 + 1];
    b2 = bias[co0 + 2];
    b3 = bias[co0 + 3];
  }
  if (n >= 3) {
    out[o] = c00 + b0;
    out[o + 1] = c01 + b0;
    out[o + 2] = c02 + b0;
    out[o + ld] = c10 + b1;
    out[o + ld + 1] = c11 + b1;
    out[o + ld + 2] = c12 + b1;
    out[o + 2 * ld] = c20 + b2;
    out[o + 2 * ld + 1] = c21 + b2;
    out[o + 2 * ld + 2] = c22 + b2;
    out[o + 3 * ld] = c30 + b3;
    out[o + 3 * ld + 1] = c31 + b3;
    out[o + 3 * ld + 2] = c32 + b3;
  } else {
    store2(out, o, n, c00 + b0, c01 + b0);
    store2(out, o + ld, n, c10 + b1, c11 + b1);
    store2(out, o + 2 * ld, n, c20 + b2, c21 + b2);
    store2(out, o + 3 * ld, n, c30 + b3, c31 + b3);
  }
}

/** Micro-kernel: one output channel (weights at stride 4 from `wBase`) × 8 time steps, over a whole row. */
function tile1x8(
  src: Float64Array,
  gSrc: number,
  rowLen: number,
  cin: number,
  K: number,
  d: number,
  s: number,
  wp: Float64Array,
  wBase: number,
  out: FloatArray,
  o0: number,
  outLen: number,
  bv: number,
): void {
  const s2 = 2 * s;
  const s3 = 3 * s;
  const s4 = 4 * s;
  const s5 = 5 * s;
  const s6 = 6 * s;
  const s7 = 7 * s;
  const span = K * d;
  for (let t0 = 0; t0 < outLen; t0 += 8) {
    let c0 = 0,
      c1 = 0,
      c2 = 0,
      c3 = 0,
      c4 = 0,
      c5 = 0,
      c6 = 0,
      c7 = 0;
    let wi = wBase;
    for (let ci = 0; ci < cin; ci++) {
      const xs = gSrc + ci * rowLen + t0 * s;
      const xe = xs + span;
      for (let xo = xs; xo < xe; xo += d) {
        const w = wp[wi];
        wi += 4;
        c0 += w * src[xo];
        c1 += w * src[xo + s];
        c2 += w * src[xo + s2];
        c3 += w * src[xo + s3];
        c4 += w * src[xo + s4];
        c5 += w * src[xo + s5];
        c6 += w * src[xo + s6];
        c7 += w * src[xo + s7];
      }
    }
    const o = o0 + t0;
    if (t0 + 8 <= outLen) {
      out[o] = c0 + bv;
      out[o + 1] = c1 + bv;
      out[o + 2] = c2 + bv;
      out[o + 3] = c3 + bv;
      out[o + 4] = c4 + bv;
      out[o + 5] = c5 + bv;
      out[o + 6] = c6 + bv;
      out[o + 7] = c7 + bv;
    } else storeTail7(out, o, outLen - t0, bv, c0, c1, c2, c3, c4, c5, c6);
  }
}

/** {@link tile1x8} specialised for stride 1 (constant load offsets). */
function tile1x8s1(
  src: Float64Array,
  gSrc: number,
  rowLen: number,
  cin: number,
  K: number,
  d: number,
  wp: Float64Array,
  wBase: number,
  out: FloatArray,
  o0: number,
  outLen: number,
  bv: number,
): void {
  const span = K * d;
  for (let t0 = 0; t0 < outLen; t0 += 8) {
    let c0 = 0,
      c1 = 0,
      c2 = 0,
      c3 = 0,
      c4 = 0,
      c5 = 0,
      c6 = 0,
      c7 = 0;
    let wi = wBase;
    for (let ci = 0; ci < cin; ci++) {
      const xs = gSrc + ci * rowLen + t0;
      const xe = xs + span;
      for (let xo = xs; xo < xe; xo += d) {
        const w = wp[wi];
        wi += 4;
        c0 += w * src[xo];
        c1 += w * src[xo + 1];
        c2 += w * src[xo + 2];
        c3 += w * src[xo + 3];
        c4 += w * src[xo + 4];
        c5 += w * src[xo + 5];
        c6 += w * src[xo + 6];
        c7 += w * src[xo + 7];
      }
    }
    const o = o0 + t0;
    if (t0 + 8 <= outLen) {
      out[o] = c0 + bv;
      out[o + 1] = c1 + bv;
      out[o + 2] = c2 + bv;
      out[o + 3] = c3 + bv;
      out[o + 4] = c4 + bv;
      out[o + 5] = c5 + bv;
      out[o + 6] = c6 + bv;
      out[o + 7] = c7 + bv;
    } else storeTail7(out, o, outLen - t0, bv, c0, c1, c2, c3, c4, c5, c6);
  }
}

/**
 * Masked store of the last, partial 1×8 tile (n < 8 outputs) plus the bias. Kept out of line: with the
 * bias held in the accumulators and this branch inlined, V8 spilled the accumulators (measured 2× slower).
 */
function storeTail7(
  out: FloatArray,
  o: number,
  n: number,
  bv: number,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  c4: number,
  c5: number,
  c6: number,
): void {
  out[o] = c0 + bv;
  if (n > 1) out[o + 1] = c1 + bv;
  if (n > 2) out[o + 2] = c2 + bv;
  if (n > 3) out[o + 3] = c3 + bv;
  if (n > 4) out[o + 4] = c4 + bv;
  if (n > 5) out[o + 5] = c5 + bv;
  if (n > 6) out[o + 6] = c6 + bv;
}

function store2(out: FloatArray, o: number, n: number, v0: number, v1: number): void {
  out[o] = v0;
  if (n > 1) out[o + 1] = v1;
}

/** Length of a padded source row so that every (rounded-up) output tile reads inside the row. */
function paddedRowLen(p: Conv1dParams): number {
  const tPad = p.outLength + T_SLACK;
  const need = (tPad - 1) * p.stride + (p.kernelSize - 1) * p.dilation + 1;
  return Math.max(need, p.padLeft + p.inLength);
}

/** Copies x[b] into `src` rows of `rowLen`: padValue, then the signal from column padLeft, then padValue. */
function fillPadded(
  x: FloatArray,
  xBase: number,
  channels: number,
  inLength: number,
  padLeft: number,
  padValue: number,
  src: Float64Array,
  rowLen: number,
): void {
  // TypedArray.set converts a whole row in native code (measured 4× faster than an element loop); the
  // subarray view is one small object per row, not per element.
  for (let c = 0; c < channels; c++) {
    const r = c * rowLen;
    const xr = xBase + c * inLength;
    src.fill(padValue, r, r + padLeft);
    src.set(x.subarray(xr, xr + inLength), r + padLeft);
    src.fill(padValue, r + padLeft + inLength, r + rowLen);
  }
}

/** Tap offsets off[ci·K + k] = ci·rowLen + k·d (relative to a group's first source row). */
function tapOffsets(cin: number, K: number, d: number, rowLen: number): Int32Array {
  const off = offScratch.get(cin * K);
  for (let ci = 0; ci < cin; ci++) for (let k = 0; k < K; k++) off[ci * K + k] = ci * rowLen + k * d;
  return off;
}

/**
 * Convolution forward: out [B, outC, outL] = act(bias + conv(x [B, inC, inL], w [outC, inC/groups, K])), `act`
 * the ReLU with `activation: 'relu'`.
 */
export function conv1dForward(
  x: FloatArray,
  w: FloatArray,
  bias: FloatArray | null,
  out: FloatArray,
  p: Conv1dParams,
): void {
  const { batch, inChannels, outChannels, inLength, outLength, kernelSize: K, groups } = p;
  if (batch === 0 || outChannels === 0 || outLength === 0) return;
  const cinG = inChannels / groups;
  const coutG = outChannels / groups;
  const J = cinG * K;
  const tiles = (coutG + 3) >> 2;
  const rowLen = paddedRowLen(p);
  const relu = p.activation === 'relu';
  // Pack W[g·coutG + 4tb + r, j] into wp[((g·tiles + tb)·J + j)·4 + r], zero-padding the last tile.
  const wp = wScratch.get(groups * tiles * J * 4);
  for (let g = 0; g < groups; g++) {
    for (let tb = 0; tb < tiles; tb++) {
      const base = (g * tiles + tb) * J * 4;
      for (let r = 0; r < 4; r++) {
        const co = tb * 4 + r;
        const wRow = (g * coutG + co) * J;
        if (co < coutG) for (let j = 0; j < J; j++) wp[base + j * 4 + r] = w[wRow + j];
        else for (let j = 0; j < J; j++) wp[base + j * 4 + r] = 0;
      }
    }
  }
  const src = srcScratch.get(cinG * rowLen);
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < groups; g++) {
      const xBase = (b * inChannels + g * cinG) * inLength;
      fillPadded(x, xBase, cinG, inLength, p.padLeft, p.padValue, src, rowLen);
      const oBase = b * outChannels * outLength;
      convCore(src, rowLen, 0, wp, 0, K, p.dilation, out, oBase, outLength, g, cinG, coutG, p.stride, bias);
      if (relu) {
        // Fused ReLU on the group's rows while they are in cache: max(v, 0), NaN kept (as PyTorch), −0 → 0.
        const o0 = oBase + g * coutG * outLength;
        const o1 = o0 + coutG * outLength;
        for (let i = o0; i < o1; i++) if (out[i] <= 0) out[i] = 0;
      }
    }
  }
}

/**
 * Gradient of the convolution input (overwritten); padded positions get none.
 *
 * NOTE: polyphase transposed convolution. With u = i + padLeft the padded position of input i and
 * φ = u mod s its phase, only taps with k·d ≡ φ (mod s) reach u, from t = (u − k·d)/s. Those taps form an
 * arithmetic progression k_j = k0 + j·(s/gcd(s, d)) whose sources t = q − m0 − j·d' (q = ⌊u/s⌋,
 * d' = d/gcd(s, d)) are equally spaced: each phase is a stride-1 convolution of g with the flipped,
 * transposed taps of that phase, computed by the forward core. Stride 1 is the single phase φ = 0 written
 * straight into gradX; larger strides compute each phase into scratch and scatter it (no zero-stuffing,
 * so no work is wasted on the s−1 zeros between outputs).
 */
export function conv1dBackwardInput(
  gradOut: FloatArray,
  w: FloatArray,
  gradX: FloatArray,
  p: Conv1dParams,
): void {
  const { batch, inChannels, outChannels, inLength, outLength, kernelSize: K, groups, dilation: d } = p;
  const s = p.stride;
  const padL = p.padLeft;
  if (batch === 0 || inChannels === 0 || inLength === 0) return;
  if (outLength === 0 || outChannels === 0) {
    gradX.fill(0);
    return;
  }
  const cinG = inChannels / groups;
  const coutG = outChannels / groups;
  const tiles = (cinG + 3) >> 2;
  // gs[co, lead + t] = g[b, co, t], zeros around; lead ≥ every m = (k·d − φ)/s.
  const lead = Math.floor(((K - 1) * d) / s);
  const qEnd = Math.ceil((inLength + padL) / s);
  const rowLen = lead + Math.max(outLength, qEnd) + T_SLACK + 1;
  // Per phase: first tap, tap count, tap step, source spacing, offset of its packed weights.
  const phK0 = phaseScratch.get(5 * s);
  let wTotal = 0;
  for (let phi = 0; phi < s; phi++) {
    let k0 = -1;
    let n = 0;
    let kStep = 1;
    for (let k = 0; k < K; k++) {
      if ((k * d - phi) % s !== 0) continue;
      if (k0 < 0) k0 = k;
      else if (n === 1) kStep = k - k0;
      n++;
    }
    phK0[5 * phi] = k0;
    phK0[5 * phi + 1] = n;
    phK0[5 * phi + 2] = kStep;
    // Source spacing d' = kStep·d/s (an integer); any positive value when the phase has a single tap.
    phK0[5 * phi + 3] = n > 1 ? (kStep * d) / s : 1;
    phK0[5 * phi + 4] = wTotal;
    wTotal += groups * tiles * coutG * n * 4;
  }
  // Pack, per phase: wf[off + ((g·tiles + tb)·coutG·n + co·n + j')·4 + r] = W[g·coutG + co, 4tb + r, k_{n−1−j'}].
  const wp = wScratch.get(wTotal);
  for (let phi = 0; phi < s; phi++) {
    const k0 = phK0[5 * phi];
    const n = phK0[5 * phi + 1];
    const kStep = phK0[5 * phi + 2];
    const off = phK0[5 * phi + 4];
    const J = coutG * n;
    for (let g = 0; g < groups; g++) {
      for (let tb = 0; tb < tiles; tb++) {
        const base = off + (g * tiles + tb) * J * 4;
        for (let r = 0; r < 4; r++) {
          const ci = tb * 4 + r;
          for (let co = 0; co < coutG; co++) {
            const wRow = ((g * coutG + co) * cinG + ci) * K;
            const dst = base + co * n * 4 + r;
            for (let j = 0; j < n; j++) {
              wp[dst + j * 4] = ci < cinG ? w[wRow + k0 + (n - 1 - j) * kStep] : 0;
            }
          }
        }
      }
    }
  }
  const gs = gScratch.get(coutG * rowLen);
  for (let b = 0; b < batch; b++) {
    const xBase = b * inChannels * inLength;
    for (let g = 0; g < groups; g++) {
      // This group's output-gradient rows, shifted right by `lead`.
      const gBase = (b * outChannels + g * coutG) * outLength;
      for (let co = 0; co < coutG; co++) {
        const r = co * rowLen;
        const gr = gBase + co * outLength;
        gs.fill(0, r, r + lead);
        gs.set(gradOut.subarray(gr, gr + outLength), r + lead);
        gs.fill(0, r + lead + outLength, r + rowLen);
      }
      const c0 = g * cinG;
      const c1 = c0 + cinG;
      for (let phi = 0; phi < s; phi++) {
        const k0 = phK0[5 * phi];
        const n = phK0[5 * phi + 1];
        const dd = phK0[5 * phi + 3];
        // Inputs of this phase: i = q·s + φ − padL for q in [qLo, qHi).
        const qLo = Math.ceil((padL - phi) / s);
        const qHi = Math.floor((inLength - 1 + padL - phi) / s) + 1;
        const nq = qHi - qLo;
        if (nq <= 0) continue;
        if (n === 0) {
          // No tap reaches this phase: its inputs get no gradient.
          for (let c = c0; c < c1; c++) {
            const xr = xBase + c * inLength - padL + phi;
            for (let q = qLo; q < qHi; q++) gradX[xr + q * s] = 0;
          }
          continue;
        }
        const m0 = (k0 * d - phi) / s;
        const srcCol = lead - m0 - (n - 1) * dd + qLo;
        const wOff = phK0[5 * phi + 4];
        if (s === 1) {
          convCore(gs, rowLen, srcCol, wp, wOff, n, dd, gradX, xBase, inLength, g, coutG, cinG, 1, null);
        } else {
          const tmp = accScratch.get(inChannels * nq);
          convCore(gs, rowLen, srcCol, wp, wOff, n, dd, tmp, 0, nq, g, coutG, cinG, 1, null);
          for (let c = c0; c < c1; c++) {
            const xr = xBase + c * inLength - padL + phi;
            const tr = c * nq - qLo;
            for (let q = qLo; q < qHi; q++) gradX[xr + q * s] = tmp[tr + q];
          }
        }
      }
    }
  }
}

/**
 * Gradient of the convolution weight (overwritten); padded positions contribute padValue·gradOut.
 * gW[co, j] = Σ_b Σ_t g[b, co, t] · xs[ci(j), t·s + k(j)·d]: a product with a long reduction over t, tiled
 * 3 output channels × 4 (channel, tap) pairs in 12 accumulators (3×4 measured fastest here); the
 * remaining channels and taps use narrower loops.
 */
export function conv1dBackwardWeight(
  x: FloatArray,
  gradOut: FloatArray,
  gradW: FloatArray,
  p: Conv1dParams,
): void {
  const { batch, inChannels, outChannels, inLength, outLength, kernelSize: K, groups } = p;
  const s = p.stride;
  const cinG = inChannels / groups;
  const coutG = outChannels / groups;
  const J = cinG * K;
  if (J === 0 || outChannels === 0) return;
  const rowLen = paddedRowLen(p);
  const src = srcScratch.get(cinG * rowLen);
  const off = tapOffsets(cinG, K, p.dilation, rowLen);
  const acc = accScratch.get(outChannels * J);
  acc.fill(0, 0, outChannels * J);
  const gg = gScratch.get(coutG * outLength);
  const full = Math.floor(coutG / 3) * 3;
  const T = outLength;
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < groups; g++) {
      // This group's padded input rows and output-gradient rows.
      fillPadded(
        x,
        (b * inChannels + g * cinG) * inLength,
        cinG,
        inLength,
        p.padLeft,
        p.padValue,
        src,
        rowLen,
      );
      const gBase = (b * outChannels + g * coutG) * T;
      gg.set(gradOut.subarray(gBase, gBase + coutG * T));
      const a = g * coutG * J;
      for (let co = 0; co < full; co += 3) wtile3x4(src, s, gg, co * T, off, J, acc, a + co * J, T);
      for (let co = full; co < coutG; co++) wtile1x4(src, s, gg, co * T, off, J, acc, a + co * J, T);
    }
  }
  gradW.set(acc.subarray(0, outChannels * J));
}

/** Weight-gradient micro-kernel: output channels co0…co0+2 × 4 taps, reduced over the whole output row. */
function wtile3x4(
  src: Float64Array,
  s: number,
  gg: Float64Array,
  g0: number,
  off: Int32Array,
  J: number,
  acc: Float64Array,
  a0: number,
  T: number,
): void {
  const g1 = g0 + T;
  const g2 = g1 + T;
  const J4 = J & ~3;
  for (let j0 = 0; j0 < J4; j0 += 4) {
    const x0 = off[j0];
    const x1 = off[j0 + 1];
    const x2 = off[j0 + 2];
    const x3 = off[j0 + 3];
    let c00 = 0,
      c01 = 0,
      c02 = 0,
      c03 = 0;
    let c10 = 0,
      c11 = 0,
      c12 = 0,
      c13 = 0;
    let c20 = 0,
      c21 = 0,
      c22 = 0,
      c23 = 0;
    let q = 0;
    for (let t = 0; t < T; t++) {
      const a0 = gg[g0 + t];
      const a1 = gg[g1 + t];
      const a2 = gg[g2 + t];
      let v = src[x0 + q];
      c00 += a0 * v;
      c10 += a1 * v;
      c20 += a2 * v;
      v = src[x1 + q];
      c01 += a0 * v;
      c11 += a1 * v;
      c21 += a2 * v;
      v = src[x2 + q];
      c02 += a0 * v;
      c12 += a1 * v;
      c22 += a2 * v;
      v = src[x3 + q];
      c03 += a0 * v;
      c13 += a1 * v;
      c23 += a2 * v;
      q += s;
    }
    accumulate4(acc, a0 + j0, c00, c01, c02, c03);
    accumulate4(acc, a0 + J + j0, c10, c11, c12, c13);
    accumulate4(acc, a0 + 2 * J + j0, c20, c21, c22, c23);
  }
  // Remaining taps (J mod 4) one at a time.
  for (let j = J4; j < J; j++) {
    const x0 = off[j];
    let c0 = 0;
    let c1 = 0;
    let c2 = 0;
    let q = 0;
    for (let t = 0; t < T; t++) {
      const v = src[x0 + q];
      c0 += gg[g0 + t] * v;
      c1 += gg[g1 + t] * v;
      c2 += gg[g2 + t] * v;
      q += s;
    }
    acc[a0 + j] += c0;
    acc[a0 + J + j] += c1;
    acc[a0 + 2 * J + j] += c2;
  }
}

/** Weight-gradient micro-kernel for one output channel × 4 taps. */
function wtile1x4(
  src: Float64Array,
  s: number,
  gg: Float64Array,
  g0: number,
  off: Int32Array,
  J: number,
  acc: Float64Array,
  a0: number,
  T: number,
): void {
  const J4 = J & ~3;
  for (let j0 = 0; j0 < J4; j0 += 4) {
    const x0 = off[j0];
    const x1 = off[j0 + 1];
    const x2 = off[j0 + 2];
    const x3 = off[j0 + 3];
    let c0 = 0,
      c1 = 0,
      c2 = 0,
      c3 = 0;
    let q = 0;
    for (let t = 0; t < T; t++) {
      const a = gg[g0 + t];
      c0 += a * src[x0 + q];
      c1 += a * src[x1 + q];
      c2 += a * src[x2 + q];
      c3 += a * src[x3 + q];
      q += s;
    }
    accumulate4(acc, a0 + j0, c0, c1, c2, c3);
  }
  for (let j = J4; j < J; j++) {
    const x0 = off[j];
    let c = 0;
    let q = 0;
    for (let t = 0; t < T; t++) {
      c += gg[g0 + t] * src[x0 + q];
      q += s;
    }
    acc[a0 + j] += c;
  }
}

function accumulate4(acc: Float64Array, o: number, v0: number, v1: number, v2: number, v3: number): void {
  acc[o] += v0;
  acc[o + 1] += v1;
  acc[o + 2] += v2;
  acc[o + 3] += v3;
}

// ---------------------------------------------------------------------------------------------------------
