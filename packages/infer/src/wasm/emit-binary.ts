/**
 * The binary (XOR/popcount) kernels: `bconv`, part of the shared kernel module built by `emit.ts`, and the
 * shape-specialised binary conv module {@link buildBinaryRunModule}. Bit layout: `../binary/conventions.ts`.
 */
import { ModuleBuilder, ValType } from './builder.js';

const { i32, i64 } = ValType;

/**
 * bconv(xPtr, wPtr, outPtr, ocBlocks, outL, nTaps, pairs, xStepT, xStepTap, totalBits, outRow)
 * For each block of 4 output channels and each pair of positions (t, t+1) (outL even):
 * out[(4·ob + r)·outRow + 4t] = totalBits − 2·Σ_tap Σ_pair popcnt(x64 ^ w64[r]), with x read at
 * `xPtr + t·xStepT + tap·xStepTap + 8·pair` and w interleaved as [ob][tap·pairs + pair][r] (i64 each).
 * Tile 4 channels × 2 positions: 8 i64 accumulators, each w word loaded once for two positions.
 */
export function emitBconv(mb: ModuleBuilder): void {
  mb.addFunction('bconv', [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [xPtr, wPtr, outPtr, ocBlocks, outL, nTaps, pairs, xStepT, xStepTap, totalBits, outRow] = [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ];
    const ob = c.local(i32);
    const t = c.local(i32);
    const tap = c.local(i32);
    const pr = c.local(i32);
    const wBlock = c.local(i32);
    const wp = c.local(i32);
    const xt = c.local(i32);
    const xp = c.local(i32);
    const xq = c.local(i32);
    const op = c.local(i32);
    const blockBytes = c.local(i32);
    const x0 = c.local(i64);
    const x1 = c.local(i64);
    const w = c.local(i64);
    const acc = Array.from({ length: 8 }, () => c.local(i64));
    // blockBytes = nTaps·pairs·32
    c.localGet(nTaps).localGet(pairs).i32Mul().i32Const(5).i32Shl().localSet(blockBytes);
    c.forLoop(ob, 0, { local: ocBlocks }, 1, () => {
      c.localGet(wPtr).localGet(ob).localGet(blockBytes).i32Mul().i32Add().localSet(wBlock);
      c.forLoop(t, 0, { local: outL }, 2, () => {
        for (const a of acc) c.i64Const(0).localSet(a);
        c.localGet(wBlock).localSet(wp);
        c.localGet(xPtr).localGet(t).localGet(xStepT).i32Mul().i32Add().localSet(xt);
        c.forLoop(tap, 0, { local: nTaps }, 1, () => {
          c.localGet(xt).localSet(xp);
          c.localGet(xt).localGet(xStepT).i32Add().localSet(xq);
          c.forLoop(pr, 0, { local: pairs }, 1, () => {
            c.localGet(xp).i64Load(0).localSet(x0);
            c.localGet(xq).i64Load(0).localSet(x1);
            for (let r = 0; r < 4; r++) {
              c.localGet(wp)
                .i64Load(8 * r)
                .localSet(w);
              c.localGet(acc[r]).localGet(x0).localGet(w).i64Xor().i64Popcnt().i64Add().localSet(acc[r]);
              c.localGet(acc[4 + r])
                .localGet(x1)
                .localGet(w)
                .i64Xor()
                .i64Popcnt()
                .i64Add()
                .localSet(acc[4 + r]);
            }
            c.addTo(xp, 8);
            c.addTo(xq, 8);
            c.addTo(wp, 32);
          });
          c.addTo(xt, { local: xStepTap });
        });
        // op = outPtr + ob·4·outRow + t·4
        c.localGet(outPtr).localGet(ob).i32Const(2).i32Shl().localGet(outRow).i32Mul().i32Add();
        c.localGet(t).i32Const(2).i32Shl().i32Add().localSet(op);
        for (let r = 0; r < 4; r++) {
          c.localGet(op)
            .localGet(totalBits)
            .localGet(acc[r])
            .i32WrapI64()
            .i32Const(1)
            .i32Shl()
            .i32Sub()
            .i32Store(0);
          c.localGet(op)
            .localGet(totalBits)
            .localGet(acc[4 + r])
            .i32WrapI64()
            .i32Const(1)
            .i32Shl()
            .i32Sub()
            .i32Store(4);
          if (r < 3) c.addTo(op, { local: outRow });
        }
      });
    });
  });
}
/** Output channels × positions computed together by {@link buildBinaryRunModule}'s kernel. */
export const BINARY_RUN_TILE = { channels: 2, positions: 2 } as const;

/**
 * A binary conv kernel specialised for one shape (emitted at run time, cached by the caller): the
 * taps of one output position are a contiguous run of `runPairs` i64 words (dilation 1), positions
 * are `xStep` bytes apart. The run is fully unrolled with constant offsets, so the loop body is
 * only `load, xor, popcnt, add` (measured about 2× the generic loop kernel on x64).
 *
 * bconvRun(xPtr, wPtr, outPtr, ocPairs, outL, totalBits, outRow): tile 2 channels × 2 positions;
 * w interleaved as [channel pair][pair index][2 channels] (i64 each); outL even.
 */
export function buildBinaryRunModule(runPairs: number, xStep: number): Uint8Array<ArrayBuffer> {
  const { channels: OC, positions: TT } = BINARY_RUN_TILE;
  const mb = new ModuleBuilder().importMemory('env', 'memory', 1);
  mb.addFunction('bconvRun', [i32, i32, i32, i32, i32, i32, i32], [], (c) => {
    const [xPtr, wPtr, outPtr, ocPairs, outL, totalBits, outRow] = [0, 1, 2, 3, 4, 5, 6];
    const ob = c.local(i32);
    const t = c.local(i32);
    const wp = c.local(i32);
    const xp = c.local(i32);
    const op = c.local(i32);
    const op1 = c.local(i32);
    const orow = c.local(i32);
    const acc = Array.from({ length: OC * TT }, () => c.local(i64));
    const xs = Array.from({ length: TT }, () => c.local(i64));
    const w = c.local(i64);
    c.localGet(wPtr).localSet(wp);
    c.localGet(outPtr).localSet(orow);
    c.forLoop(ob, 0, { local: ocPairs }, 1, () => {
      c.localGet(xPtr).localSet(xp);
      c.localGet(orow).localSet(op);
      c.forLoop(t, 0, { local: outL }, TT, () => {
        for (let pr = 0; pr < runPairs; pr++) {
          for (let q = 0; q < TT; q++)
            c.localGet(xp)
              .i64Load(q * xStep + pr * 8)
              .localSet(xs[q]);
          for (let r = 0; r < OC; r++) {
            c.localGet(wp)
              .i64Load((pr * OC + r) * 8)
              .localSet(w);
            for (let q = 0; q < TT; q++) {
              const a = acc[r * TT + q];
              if (pr === 0) c.localGet(xs[q]).localGet(w).i64Xor().i64Popcnt().localSet(a);
              else c.localGet(a).localGet(xs[q]).localGet(w).i64Xor().i64Popcnt().i64Add().localSet(a);
            }
          }
        }
        // out = totalBits − 2·popcount, rows op (channel 2·ob) and op + outRow (channel 2·ob + 1)
        c.localGet(op).localGet(outRow).i32Add().localSet(op1);
        for (let r = 0; r < OC; r++) {
          for (let q = 0; q < TT; q++) {
            c.localGet(r === 0 ? op : op1).localGet(totalBits);
            c.localGet(acc[r * TT + q])
              .i32WrapI64()
              .i32Const(1)
              .i32Shl()
              .i32Sub()
              .i32Store(q * 4);
          }
        }
        c.addTo(xp, xStep * TT);
        c.addTo(op, 4 * TT);
      });
      c.addTo(wp, runPairs * OC * 8);
      c.localGet(orow).localGet(outRow).i32Const(1).i32Shl().i32Add().localSet(orow);
    });
  });
  return mb.build();
}
