/**
 * The arithmetic ceiling of WebAssembly SIMD float32 on this machine: `acc = acc + a·b` (`f32x4.mul` then
 * `f32x4.add`; base SIMD has no fused multiply-add) on 8–12 independent v128 accumulators, no memory
 * traffic. No real kernel can beat it; the suite reports each matmul/conv engine as a fraction of it.
 *
 *   pnpm exec tsx --conditions=@ecgnn/source benchmarks/wasm-peak.ts
 */
import { ModuleBuilder, ValType } from '@ecgnn/kernels/wasm';

const { i32, v128 } = ValType;
/** Unrolled copies of the accumulator updates per loop iteration. */
const UNROLL = 4;

function build(accumulators: number): (iterations: number) => void {
  const mb = new ModuleBuilder().importMemory('env', 'memory', 1);
  mb.addFunction('peak', [i32], [], (c) => {
    const it = c.local(i32);
    const acc = Array.from({ length: accumulators }, () => c.local(v128));
    const a = c.local(v128);
    const b = c.local(v128);
    // a and b come from memory so the engine cannot fold the arithmetic away
    c.i32Const(0).v128Load(0, 4).localSet(a);
    c.i32Const(16).v128Load(0, 4).localSet(b);
    for (const x of acc) c.v128ConstZero().localSet(x);
    c.forLoop(it, 0, { local: 0 }, 1, () => {
      for (let u = 0; u < UNROLL; u++)
        for (const x of acc) c.localGet(x).localGet(a).localGet(b).f32x4Mul().f32x4Add().localSet(x);
    });
    acc.forEach((x, i) => {
      c.i32Const(64 + 16 * i)
        .localGet(x)
        .v128Store(0, 4);
    });
  });
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(mb.build()), { env: { memory } });
  return instance.exports.peak as (iterations: number) => void;
}

/** Median GFLOP/s of the best accumulator count (8, 10 or 12), over `runs` timed runs of ~3 ms each. */
export function measureWasmPeak(runs = 15): number {
  let best = 0;
  for (const n of [8, 10, 12]) {
    const f = build(n);
    f(1000); // tier-up
    const iterations = 100_000;
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      f(iterations);
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const flops = iterations * UNROLL * n * 8; // 4 lanes × (mul + add)
    best = Math.max(best, flops / times[runs >> 1] / 1e6);
  }
  return best;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(
    `WebAssembly SIMD f32x4 mul+add peak: ${measureWasmPeak().toFixed(1)} GFLOP/s (median of 15 runs)`,
  );
}
