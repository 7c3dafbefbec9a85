/**
 * The batch-normalisation kernels of the training module (bound by `part-norm.ts`), float32 data with every
 * intermediate in float64 as the reference kernels (ref/norm.ts) compute them: each float32 is promoted exactly
 * (`f64x2.promote_low_f32x4` of two values loaded with `v128.load64_zero`), the arithmetic is done two lanes at a
 * time in float64 in the reference's order of operations, and results are rounded once to float32
 * (`f32x4.demote_f64x2_zero`). Rows are `len` contiguous floats (one channel of one batch item); per-row
 * constants are float64 arrays indexed by row. Sums are kept in two float64x2 accumulators per row (four
 * partial sums, combined by the caller), so they differ from the reference's sequential sums by rounding only.
 *
 * - `bnsum(x, rows, len, out)`: out[r] = the partial sums (f64x2) of row r.
 * - `bnsqdev(x, rows, len, mu, out)`: out[r] = partial sums of (x − mu[r])².
 * - `bnaffine(x, rows, len, scale, shift, y)`: y = f32(x·scale[r] + shift[r]).
 * - `bngsums(x, g, rows, len, mu, out)`: out[2r] = partial sums of g, out[2r+1] of g·(x − mu[r]).
 * - `bngrad(x, g, rows, len, par, gx)`: with par[r] = (mu, invstd, mean(g·x̂), mean(g), k):
 *   gx = f32(k·((g − mean(g)) − ((x − mu)·invstd)·mean(g·x̂))), the reference's training-mode gradient.
 * Each row is walked four floats at a time, then a scalar tail of up to three.
 */
import { F64_OP, type FunctionCode, type ModuleBuilder, uleb128, ValType } from './builder.js';
import { emitSimdOp as simd } from './emit-finite.js';

const { i32, f64, v128 } = ValType;

/** SIMD sub-opcodes (after the 0xFD prefix) the builder has no method for (WebAssembly 2.0, §5.4.8). */
const S = {
  v128Load64Splat: 0x0a,
  f64x2Splat: 0x14,
  f64x2ExtractLane: 0x21,
  f64x2ReplaceLane: 0x22,
  v128Load64Zero: 0x5d,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
} as const;

/** Byte lanes of `i8x16.shuffle` taking the low two floats of a and then of b. */
const LOW_PAIRS = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** A SIMD memory instruction with `alignLog2` and offset 0 (address on the stack). */
function simdMem(c: FunctionCode, sub: number, alignLog2: number): void {
  simd(c, sub);
  c.raw(...uleb128(alignLog2), 0);
}

/** Pushes the two floats at address local `p` + `offset` as float64x2. */
function loadPair(c: FunctionCode, p: number, offset: number): void {
  c.localGet(p);
  if (offset !== 0) c.i32Const(offset).i32Add();
  simdMem(c, S.v128Load64Zero, 3);
  simd(c, S.f64x2PromoteLowF32x4);
}

/** Pushes the float at address local `p` as a float64. */
function loadScalar(c: FunctionCode, p: number): void {
  c.localGet(p).f32Load(0);
  c.raw(F64_OP.f64PromoteF32);
}

/** Pushes the float64 `table[r]` splat to both lanes (`table`, `r`: locals; `stride`: bytes per row). */
function splatRow(c: FunctionCode, table: number, r: number, stride: number, offset: number): void {
  c.localGet(table).localGet(r).i32Const(stride).i32Mul().i32Add();
  if (offset !== 0) c.i32Const(offset).i32Add();
  simdMem(c, S.v128Load64Splat, 3);
}

/** Pushes the float64 `table[r]` (scalar). */
function loadRow(c: FunctionCode, table: number, r: number, stride: number, offset: number): void {
  c.localGet(table).localGet(r).i32Const(stride).i32Mul().i32Add();
  c.raw(F64_OP.f64Load, 3, ...uleb128(offset));
}

/**
 * The row loop shared by the kernels: for r < rows, `p` (and `q`, `o` when given) walk the row's floats from
 * `base + r·len·4`; `vec` runs for each group of four floats, `tail` for each of the last len mod 4;
 * `before`/`after` run at the start and end of each row.
 */
function rowLoop(
  c: FunctionCode,
  a: { rows: number; len: number; r: number; end4: number; end: number },
  ptrs: { local: number; base: number }[],
  hooks: { before(): void; vec(): void; tail(): void; after(): void },
): void {
  const { rows, len, r, end4, end } = a;
  c.forLoop(r, 0, { local: rows }, 1, () => {
    // p_i = base_i + r·len·4
    for (const p of ptrs)
      c.localGet(p.base).localGet(r).localGet(len).i32Mul().i32Const(4).i32Mul().i32Add().localSet(p.local);
    const p0 = ptrs[0].local;
    c.localGet(p0).localGet(len).i32Const(-4).i32And().i32Const(4).i32Mul().i32Add().localSet(end4);
    c.localGet(p0).localGet(len).i32Const(4).i32Mul().i32Add().localSet(end);
    hooks.before();
    c.block().loop();
    c.localGet(p0).localGet(end4).i32GeS().brIf(1);
    hooks.vec();
    for (const p of ptrs) c.addTo(p.local, 16);
    c.br(0);
    c.end().end();
    c.block().loop();
    c.localGet(p0).localGet(end).i32GeS().brIf(1);
    hooks.tail();
    for (const p of ptrs) c.addTo(p.local, 4);
    c.br(0);
    c.end().end();
    hooks.after();
  });
}

/**
 * Stores four float32 results at the address in local `dst`: `pair(0)` and `pair(8)` each push two results as
 * f32x4 [a, b, 0, 0] (from the floats at offsets 0 and 8), joined into one vector.
 */
function storeFour(c: FunctionCode, dst: number, pair: (offset: number) => void): void {
  c.localGet(dst);
  pair(0);
  pair(8);
  c.i8x16Shuffle(LOW_PAIRS);
  c.v128Store(0, 2);
}

/** `acc += value on the stack` for a v128 (f64x2) local. */
function accumulate(c: FunctionCode, acc: number): void {
  c.localGet(acc);
  simd(c, S.f64x2Add);
  c.localSet(acc);
}

/** `acc += [v, 0]` for the float64 on the stack (a tail value into lane 0). */
function accumulateScalar(c: FunctionCode, acc: number, zero: number, tmp: number): void {
  c.localSet(tmp);
  c.localGet(zero).localGet(tmp);
  simd(c, S.f64x2ReplaceLane);
  c.raw(0);
  accumulate(c, acc);
}

/** Stores `acc0 + acc1` (f64x2) at `out + r·16 + offset`. */
function storeSums(
  c: FunctionCode,
  out: number,
  r: number,
  acc0: number,
  acc1: number,
  offset: number,
): void {
  c.localGet(out).localGet(r).i32Const(16).i32Mul().i32Add();
  c.localGet(acc0).localGet(acc1);
  simd(c, S.f64x2Add);
  c.v128Store(offset, 3);
}

/** bnsum(x, rows, len, out) and bnsqdev(x, rows, len, mu, out): see the module comment. */
export function emitBnSums(mb: ModuleBuilder): void {
  for (const dev of [false, true]) {
    const params = dev ? [i32, i32, i32, i32, i32] : [i32, i32, i32, i32];
    mb.addFunction(dev ? 'bnsqdev' : 'bnsum', params, [], (c) => {
      const [x, rows, len] = [0, 1, 2];
      const mu = dev ? 3 : -1;
      const out = dev ? 4 : 3;
      const [r, p, end4, end] = [c.local(i32), c.local(i32), c.local(i32), c.local(i32)];
      const [acc0, acc1, zero, m, d] = [
        c.local(v128),
        c.local(v128),
        c.local(v128),
        c.local(v128),
        c.local(v128),
      ];
      const t = c.local(f64);
      c.v128ConstZero().localSet(zero);
      // The value of a pair or scalar: x, or with `dev` (x − mu)².
      const square = (): void => {
        c.localGet(m);
        simd(c, S.f64x2Sub);
        c.localTee(d).localGet(d);
        simd(c, S.f64x2Mul);
      };
      rowLoop(c, { rows, len, r, end4, end }, [{ local: p, base: x }], {
        before: () => {
          c.localGet(zero).localSet(acc0).localGet(zero).localSet(acc1);
          if (dev) {
            splatRow(c, mu, r, 8, 0);
            c.localSet(m);
          }
        },
        vec: () => {
          loadPair(c, p, 0);
          if (dev) square();
          accumulate(c, acc0);
          loadPair(c, p, 8);
          if (dev) square();
          accumulate(c, acc1);
        },
        tail: () => {
          loadScalar(c, p);
          if (dev) {
            c.localGet(m);
            simd(c, S.f64x2ExtractLane);
            c.raw(0, F64_OP.f64Sub);
            c.localTee(t).localGet(t);
            c.raw(F64_OP.f64Mul);
          }
          accumulateScalar(c, acc0, zero, t);
        },
        after: () => storeSums(c, out, r, acc0, acc1, 0),
      });
    });
  }
}

/** bnaffine(x, rows, len, scale, shift, y): see the module comment. */
export function emitBnAffine(mb: ModuleBuilder): void {
  mb.addFunction('bnaffine', [i32, i32, i32, i32, i32, i32], [], (c) => {
    const [x, rows, len, scale, shift, y] = [0, 1, 2, 3, 4, 5];
    const [r, p, q, end4, end] = [c.local(i32), c.local(i32), c.local(i32), c.local(i32), c.local(i32)];
    const [sc, sh] = [c.local(v128), c.local(v128)];
    const [ss, hs] = [c.local(f64), c.local(f64)];
    // f32(pair·sc + sh) for the pair at p + offset, as f32x4 [a, b, 0, 0]
    const pair = (offset: number): void => {
      loadPair(c, p, offset);
      c.localGet(sc);
      simd(c, S.f64x2Mul);
      c.localGet(sh);
      simd(c, S.f64x2Add);
      simd(c, S.f32x4DemoteF64x2Zero);
    };
    rowLoop(
      c,
      { rows, len, r, end4, end },
      [
        { local: p, base: x },
        { local: q, base: y },
      ],
      {
        before: () => {
          splatRow(c, scale, r, 8, 0);
          c.localSet(sc);
          splatRow(c, shift, r, 8, 0);
          c.localSet(sh);
          loadRow(c, scale, r, 8, 0);
          c.localSet(ss);
          loadRow(c, shift, r, 8, 0);
          c.localSet(hs);
        },
        vec: () => storeFour(c, q, pair),
        tail: () => {
          c.localGet(q);
          loadScalar(c, p);
          c.localGet(ss);
          c.raw(F64_OP.f64Mul);
          c.localGet(hs);
          c.raw(F64_OP.f64Add, F64_OP.f32DemoteF64);
          c.f32Store(0);
        },
        after: () => undefined,
      },
    );
  });
}

/** bngsums(x, g, rows, len, mu, out) and bngrad(x, g, rows, len, par, gx): see the module comment. */
export function emitBnBackward(mb: ModuleBuilder): void {
  mb.addFunction('bngsums', [i32, i32, i32, i32, i32, i32], [], (c) => {
    const [x, g, rows, len, mu, out] = [0, 1, 2, 3, 4, 5];
    const [r, p, q, end4, end] = [c.local(i32), c.local(i32), c.local(i32), c.local(i32), c.local(i32)];
    const [sg, sgx, zero, m, gv] = [
      c.local(v128),
      c.local(v128),
      c.local(v128),
      c.local(v128),
      c.local(v128),
    ];
    const [t, gs] = [c.local(f64), c.local(f64)];
    c.v128ConstZero().localSet(zero);
    rowLoop(
      c,
      { rows, len, r, end4, end },
      [
        { local: p, base: x },
        { local: q, base: g },
      ],
      {
        before: () => {
          c.localGet(zero).localSet(sg).localGet(zero).localSet(sgx);
          splatRow(c, mu, r, 8, 0);
          c.localSet(m);
        },
        vec: () => {
          for (const off of [0, 8]) {
            loadPair(c, q, off);
            c.localTee(gv);
            accumulate(c, sg);
            c.localGet(gv);
            loadPair(c, p, off);
            c.localGet(m);
            simd(c, S.f64x2Sub);
            simd(c, S.f64x2Mul);
            accumulate(c, sgx);
          }
        },
        tail: () => {
          loadScalar(c, q);
          c.localTee(gs);
          accumulateScalar(c, sg, zero, t);
          c.localGet(gs);
          loadScalar(c, p);
          c.localGet(m);
          simd(c, S.f64x2ExtractLane);
          c.raw(0, F64_OP.f64Sub, F64_OP.f64Mul);
          accumulateScalar(c, sgx, zero, t);
        },
        after: () => {
          // out + r·32: [Σg (f64x2)], [Σ g·(x − mu) (f64x2)]
          c.localGet(out).localGet(r).i32Const(32).i32Mul().i32Add().localGet(sg).v128Store(0, 3);
          c.localGet(out).localGet(r).i32Const(32).i32Mul().i32Add().localGet(sgx).v128Store(16, 3);
        },
      },
    );
  });

  mb.addFunction('bngrad', [i32, i32, i32, i32, i32, i32], [], (c) => {
    const [x, g, rows, len, par, gx] = [0, 1, 2, 3, 4, 5];
    const [r, p, q, o, end4, end] = [
      c.local(i32),
      c.local(i32),
      c.local(i32),
      c.local(i32),
      c.local(i32),
      c.local(i32),
    ];
    const [mu, is, mgx, mg, k] = [c.local(v128), c.local(v128), c.local(v128), c.local(v128), c.local(v128)];
    const s = [c.local(f64), c.local(f64), c.local(f64), c.local(f64), c.local(f64)];
    /** Row parameters: 5 float64 (40 bytes) per row. */
    const STRIDE = 40;
    // k·((g − mg) − ((x − mu)·is)·mgx) for the pair at offset, demoted to f32x4 [a, b, 0, 0]
    const pair = (offset: number): void => {
      loadPair(c, q, offset);
      c.localGet(mg);
      simd(c, S.f64x2Sub);
      loadPair(c, p, offset);
      c.localGet(mu);
      simd(c, S.f64x2Sub);
      c.localGet(is);
      simd(c, S.f64x2Mul);
      c.localGet(mgx);
      simd(c, S.f64x2Mul);
      simd(c, S.f64x2Sub);
      c.localGet(k);
      simd(c, S.f64x2Mul);
      simd(c, S.f32x4DemoteF64x2Zero);
    };
    rowLoop(
      c,
      { rows, len, r, end4, end },
      [
        { local: p, base: x },
        { local: q, base: g },
        { local: o, base: gx },
      ],
      {
        before: () => {
          [mu, is, mgx, mg, k].forEach((v, i) => {
            splatRow(c, par, r, STRIDE, 8 * i);
            c.localSet(v);
            loadRow(c, par, r, STRIDE, 8 * i);
            c.localSet(s[i]);
          });
        },
        vec: () => storeFour(c, o, pair),
        tail: () => {
          const [smu, sis, smgx, smg, sk] = s;
          c.localGet(o);
          loadScalar(c, q);
          c.localGet(smg);
          c.raw(F64_OP.f64Sub);
          loadScalar(c, p);
          c.localGet(smu);
          c.raw(F64_OP.f64Sub);
          c.localGet(sis);
          c.raw(F64_OP.f64Mul);
          c.localGet(smgx);
          c.raw(F64_OP.f64Mul, F64_OP.f64Sub);
          c.localGet(sk);
          c.raw(F64_OP.f64Mul, F64_OP.f32DemoteF64);
          c.f32Store(0);
        },
        after: () => undefined,
      },
    );
  });
}
