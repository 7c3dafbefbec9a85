/**
 * A small WebAssembly module builder: emits the binary format byte by byte, with no toolchain,
 * no dependency and no checked-in `.wasm`.
 *
 * NOTE: WebAssembly Core Specification 2.0 (binary format, §5) and the fixed-width SIMD proposal
 * (merged in 2.0): sections are `id, u32 size, payload`; integers are LEB128; SIMD instructions
 * are the prefix `0xFD` followed by the sub-opcode as an unsigned LEB128.
 *
 * Only what the kernels need is covered: function types, an imported memory, exported
 * functions, locals, structured control flow, scalar i32/i64/f32 and a subset of 128-bit SIMD.
 */

/** Error raised when the builder is used inconsistently (unbalanced blocks, bad local index). */
export class WasmBuilderError extends Error {
  override name = 'WasmBuilderError';
}

/** WebAssembly value types (binary encodings). */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
} as const;
/** One of the {@link ValType} encodings. */
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Unsigned LEB128 encoding of a non-negative integer below 2^53. */
export function uleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0) throw new WasmBuilderError(`uleb128: bad value ${value}`);
  const out: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 encoding of an integer in the safe range (used for i32/i64 constants). */
export function sleb128(value: number): number[] {
  if (!Number.isInteger(value)) throw new WasmBuilderError(`sleb128: bad value ${value}`);
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = ((v % 128) + 128) % 128;
    v = Math.floor(v / 128);
    // Done when the remaining value is pure sign extension of bit 6 of this byte.
    const signBit = (byte & 0x40) !== 0;
    if ((v === 0 && !signBit) || (v === -1 && signBit)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function utf8(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [...uleb128(bytes.length), ...bytes];
}

/** Scalar opcodes used by the kernels (single byte). */
/**
 * Scalar float64 opcodes (WebAssembly 2.0, §5.4.7) the builder has no methods for, emitted with
 * {@link FunctionCode.raw}: the batch-norm and row-sum kernels do their arithmetic in float64.
 */
export const F64_OP = {
  f64Load: 0x2b,
  f64Const: 0x44,
  f64Add: 0xa0,
  f64Sub: 0xa1,
  f64Mul: 0xa2,
  f32DemoteF64: 0xb6,
  f64PromoteF32: 0xbb,
} as const;

const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  f32Load: 0x2a,
  i32Store: 0x36,
  f32Store: 0x38,
  i32Const: 0x41,
  i64Const: 0x42,
  f32Const: 0x43,
  i32Eq: 0x46,
  i32LtS: 0x48,
  i32GtS: 0x4a,
  i32GeS: 0x4e,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32DivU: 0x6e,
  i32And: 0x71,
  i32Or: 0x72,
  i32Shl: 0x74,
  i64Popcnt: 0x7b,
  i64Add: 0x7c,
  i64Xor: 0x85,
  f32Add: 0x92,
  i32WrapI64: 0xa7,
} as const;

/** SIMD sub-opcodes (after the 0xFD prefix). */
const Simd = {
  v128Load: 0x00,
  v128Load32Splat: 0x09,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Shuffle: 0x0d,
  i32x4Splat: 0x11,
  i32x4ExtractLane: 0x1b,
  f32x4ExtractLane: 0x1f,
  f32x4Ne: 0x42,
  v128Xor: 0x51,
  v128Bitselect: 0x52,
  i8x16Popcnt: 0x62,
  i8x16Add: 0x6e,
  i32x4Add: 0xae,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f32x4Max: 0xe9,
  f32x4Pmax: 0xeb,
} as const;

/** Emits one function body. Locals are referred to by index (parameters first). */
export class FunctionCode {
  readonly bytes: number[] = [];
  private depth = 0;
  private readonly localTypes: ValType[];

  constructor(
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
  ) {
    this.localTypes = [...params];
  }

  /** Declares a new local of `type` and returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.localTypes.length - 1;
  }

  /** Appends raw instruction bytes: opcodes and immediates the builder has no method for. */
  raw(...bytes: number[]): this {
    for (const b of bytes) this.bytes.push(b);
    return this;
  }

  private emit(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }

  private simd(sub: number, ...rest: number[]): this {
    return this.emit(0xfd, ...uleb128(sub), ...rest);
  }

  /** memarg: alignment as log2(bytes), then byte offset. */
  private memarg(alignLog2: number, offset: number): number[] {
    return [...uleb128(alignLog2), ...uleb128(offset)];
  }

  // --- control -------------------------------------------------------------------------------
  block(): this {
    this.depth++;
    return this.emit(Op.block, 0x40);
  }
  loop(): this {
    this.depth++;
    return this.emit(Op.loop, 0x40);
  }
  if(): this {
    this.depth++;
    return this.emit(Op.if, 0x40);
  }
  else(): this {
    return this.emit(Op.else);
  }
  end(): this {
    this.depth--;
    if (this.depth < 0) throw new WasmBuilderError('unbalanced end');
    return this.emit(Op.end);
  }
  br(label: number): this {
    return this.emit(Op.br, ...uleb128(label));
  }
  brIf(label: number): this {
    return this.emit(Op.brIf, ...uleb128(label));
  }

  /**
   * `for (i = start; i < end; i += step) body()` with i32 locals; `end` and `step` are either
   * constants (numbers) or local indices given as `{ local }`. The body must leave the stack empty.
   */
  forLoop(
    i: number,
    start: number | { local: number },
    end: number | { local: number },
    step: number | { local: number },
    body: () => void,
  ): this {
    const push = (v: number | { local: number }) =>
      typeof v === 'number' ? this.i32Const(v) : this.localGet(v.local);
    push(start).localSet(i);
    // block { loop { if (i >= end) break; body; i += step; continue } }
    this.block().loop();
    this.localGet(i);
    push(end);
    this.emit(Op.i32GeS).brIf(1);
    body();
    this.localGet(i);
    push(step);
    this.emit(Op.i32Add).localSet(i).br(0);
    this.end().end();
    return this;
  }

  // --- locals --------------------------------------------------------------------------------
  localGet(i: number): this {
    return this.emit(Op.localGet, ...uleb128(i));
  }
  localSet(i: number): this {
    return this.emit(Op.localSet, ...uleb128(i));
  }
  localTee(i: number): this {
    return this.emit(Op.localTee, ...uleb128(i));
  }
  /** `local[i] += delta` for an i32 local (delta constant or local). */
  addTo(i: number, delta: number | { local: number }): this {
    this.localGet(i);
    if (typeof delta === 'number') this.i32Const(delta);
    else this.localGet(delta.local);
    return this.emit(Op.i32Add).localSet(i);
  }

  // --- constants -----------------------------------------------------------------------------
  i32Const(v: number): this {
    return this.emit(Op.i32Const, ...sleb128(v | 0));
  }
  i64Const(v: number): this {
    return this.emit(Op.i64Const, ...sleb128(v));
  }
  f32Const(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.emit(Op.f32Const, ...b);
  }
  v128ConstZero(): this {
    return this.simd(Simd.v128Const, ...new Array<number>(16).fill(0));
  }

  // --- memory --------------------------------------------------------------------------------
  i32Load(offset = 0): this {
    return this.emit(Op.i32Load, ...this.memarg(2, offset));
  }
  i64Load(offset = 0): this {
    return this.emit(Op.i64Load, ...this.memarg(3, offset));
  }
  f32Load(offset = 0): this {
    return this.emit(Op.f32Load, ...this.memarg(2, offset));
  }
  i32Store(offset = 0): this {
    return this.emit(Op.i32Store, ...this.memarg(2, offset));
  }
  f32Store(offset = 0): this {
    return this.emit(Op.f32Store, ...this.memarg(2, offset));
  }
  /** v128.load; `alignLog2` is a hint only (4 = 16-byte aligned; unaligned access is allowed). */
  v128Load(offset = 0, alignLog2 = 4): this {
    return this.simd(Simd.v128Load, ...this.memarg(alignLog2, offset));
  }
  v128Store(offset = 0, alignLog2 = 4): this {
    return this.simd(Simd.v128Store, ...this.memarg(alignLog2, offset));
  }
  v128Load32Splat(offset = 0): this {
    return this.simd(Simd.v128Load32Splat, ...this.memarg(2, offset));
  }

  // --- scalar arithmetic ---------------------------------------------------------------------
  i32Add(): this {
    return this.emit(Op.i32Add);
  }
  i32Sub(): this {
    return this.emit(Op.i32Sub);
  }
  i32Mul(): this {
    return this.emit(Op.i32Mul);
  }
  i32DivU(): this {
    return this.emit(Op.i32DivU);
  }
  i32And(): this {
    return this.emit(Op.i32And);
  }
  i32Or(): this {
    return this.emit(Op.i32Or);
  }
  i32Shl(): this {
    return this.emit(Op.i32Shl);
  }
  i32Eq(): this {
    return this.emit(Op.i32Eq);
  }
  i32LtS(): this {
    return this.emit(Op.i32LtS);
  }
  i32GtS(): this {
    return this.emit(Op.i32GtS);
  }
  i32GeS(): this {
    return this.emit(Op.i32GeS);
  }
  i64Popcnt(): this {
    return this.emit(Op.i64Popcnt);
  }
  i64Add(): this {
    return this.emit(Op.i64Add);
  }
  i64Xor(): this {
    return this.emit(Op.i64Xor);
  }
  i32WrapI64(): this {
    return this.emit(Op.i32WrapI64);
  }
  f32Add(): this {
    return this.emit(Op.f32Add);
  }

  // --- SIMD arithmetic -----------------------------------------------------------------------
  i32x4Splat(): this {
    return this.simd(Simd.i32x4Splat);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(Simd.f32x4ExtractLane, lane);
  }
  i32x4ExtractLane(lane: number): this {
    return this.simd(Simd.i32x4ExtractLane, lane);
  }
  f32x4Add(): this {
    return this.simd(Simd.f32x4Add);
  }
  f32x4Mul(): this {
    return this.simd(Simd.f32x4Mul);
  }
  f32x4Max(): this {
    return this.simd(Simd.f32x4Max);
  }

  /** `f32x4.pmax`: lane-wise `a < b ? b : a` (keeps the first of equal values, e.g. −0 vs +0; NaN in a kept). */
  f32x4Pmax(): this {
    return this.simd(Simd.f32x4Pmax);
  }

  /** `f32x4.ne`: lane-wise all-ones mask where a ≠ b (true for NaN lanes). */
  f32x4Ne(): this {
    return this.simd(Simd.f32x4Ne);
  }

  /** `v128.bitselect(a, b, mask)`: bits of a where mask is 1, of b where it is 0. */
  v128Bitselect(): this {
    return this.simd(Simd.v128Bitselect);
  }

  /**
   * `i8x16.shuffle`: byte i of the result is byte `lanes[i]` of the concatenation of the two operands (0–15 the
   * first, 16–31 the second).
   */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) {
      throw new WasmBuilderError(`i8x16.shuffle needs 16 lane indices in 0..31, got [${lanes.join(', ')}]`);
    }
    return this.simd(Simd.i8x16Shuffle, ...lanes);
  }
  v128Xor(): this {
    return this.simd(Simd.v128Xor);
  }
  i8x16Popcnt(): this {
    return this.simd(Simd.i8x16Popcnt);
  }
  i8x16Add(): this {
    return this.simd(Simd.i8x16Add);
  }
  i32x4Add(): this {
    return this.simd(Simd.i32x4Add);
  }

  /** Body bytes: local declarations (run-length grouped) + code + final `end`. */
  encode(): number[] {
    if (this.depth !== 0) throw new WasmBuilderError(`unbalanced blocks (depth ${this.depth})`);
    const extra = this.localTypes.slice(this.params.length);
    const groups: [number, ValType][] = [];
    for (const t of extra) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...uleb128(groups.length)];
    for (const [n, t] of groups) body.push(...uleb128(n), t);
    body.push(...this.bytes, Op.end);
    return [...uleb128(body.length), ...body];
  }
}

interface FunctionEntry {
  name: string;
  typeIndex: number;
  code: FunctionCode;
}

/** Assembles a module with one imported memory (`env.memory`) and exported functions. */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly typeBytes: number[][] = [];
  private readonly functions: FunctionEntry[] = [];
  private memoryImport: { module: string; field: string; minPages: number; sharedMaxPages?: number } | null =
    null;

  /**
   * Imports a memory as `module.field` with at least `minPages` 64 KiB pages. With `sharedMaxPages` the import
   * is a shared memory (threads proposal: instances in several workers on one `SharedArrayBuffer`) of at most
   * that many pages; such a module links only to a shared memory, and a plain one only to a plain memory.
   */
  importMemory(module: string, field: string, minPages: number, sharedMaxPages?: number): this {
    this.memoryImport = { module, field, minPages, sharedMaxPages };
    return this;
  }

  /** Adds an exported function; `build` fills in the body through the given {@link FunctionCode}. */
  addFunction(
    name: string,
    params: readonly ValType[],
    results: readonly ValType[],
    build: (c: FunctionCode) => void,
  ): this {
    const sig = [0x60, ...uleb128(params.length), ...params, ...uleb128(results.length), ...results];
    const key = sig.join(',');
    let typeIndex = this.types.indexOf(key);
    if (typeIndex < 0) {
      typeIndex = this.types.length;
      this.types.push(key);
      this.typeBytes.push(sig);
    }
    const code = new FunctionCode(params, results);
    build(code);
    this.functions.push({ name, typeIndex, code });
    return this;
  }

  /** The module's bytes. */
  build(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, payload: number[]) => {
      out.push(id, ...uleb128(payload.length));
      for (const b of payload) out.push(b);
    };
    const vec = (items: number[][]) => {
      const r = uleb128(items.length);
      for (const it of items) for (const b of it) r.push(b);
      return r;
    };
    section(1, vec(this.typeBytes));
    if (this.memoryImport) {
      const m = this.memoryImport;
      // memory type: limits flag 0x00 (min), or 0x03 (min, max, shared)
      const limits =
        m.sharedMaxPages === undefined
          ? [0x00, ...uleb128(m.minPages)]
          : [0x03, ...uleb128(m.minPages), ...uleb128(m.sharedMaxPages)];
      section(2, vec([[...utf8(m.module), ...utf8(m.field), 0x02, ...limits]]));
    }
    section(3, vec(this.functions.map((f) => uleb128(f.typeIndex))));
    section(7, vec(this.functions.map((f, i) => [...utf8(f.name), 0x00, ...uleb128(i)])));
    section(10, vec(this.functions.map((f) => f.code.encode())));
    return new Uint8Array(out);
  }
}
