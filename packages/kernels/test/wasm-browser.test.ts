// The WebAssembly SIMD kernels in real headless Chromium (Debian's `chromium`, driven by playwright-core):
// the kernel module is emitted, validated and compiled by the browser, and every WASM kernel is checked
// against the reference kernels over fast-check random shapes inside the page. Skipped with a message
// when Chromium is missing, unless CI=true (then it fails).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserSkipReason,
  CHROMIUM,
  FLAGS,
  type StaticServer,
  startStaticServer,
} from '../../../test-utils/chromium.js';

function skipReason(): string | null {
  return browserSkipReason('WASM browser test');
}

// The page module: imports the kernels and fast-check (bundled by esbuild) and checks WASM against TS.
const WASM_ENTRY = './src/wasm/index.ts'; // resolved from packages/kernels
const PAGE_MODULE = `
import fc from 'fast-check';
import { createKernels, getWasmKernels, wasmSimdSupported } from ${JSON.stringify(WASM_ENTRY)};

// The reference kernels (what the WebAssembly kernels are tested against).
const ref = createKernels({ simd: false });

function rand(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 2 ** 31 - 1; }
  return a;
}
function words(n, seed) {
  const f = rand(2 * n, seed);
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) u[i] = ((((f[2 * i] + 1) * 65536) & 0xffff) | ((((f[2 * i + 1] + 1) * 65536) & 0xffff) << 16)) >>> 0;
  return u;
}
function close(a, b, what, scale = 1) {
  for (let i = 0; i < b.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= 1e-4 * scale * (1 + Math.abs(b[i])))) throw new Error(what + ': element ' + i + ' ' + a[i] + ' vs ' + b[i]);
  }
}

const conv = fc.record({
  batch: fc.integer({ min: 1, max: 3 }), groups: fc.integer({ min: 1, max: 3 }), cg: fc.integer({ min: 1, max: 5 }),
  og: fc.integer({ min: 1, max: 6 }), inLength: fc.integer({ min: 1, max: 40 }), kernelSize: fc.integer({ min: 1, max: 7 }),
  stride: fc.integer({ min: 1, max: 3 }), dilation: fc.integer({ min: 1, max: 3 }), padFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  padRight: fc.integer({ min: 0, max: 3 }), padValue: fc.constantFrom(0, 1, -0.5), seed: fc.integer({ min: 1, max: 2 ** 30 }),
}).map((r) => {
  const span = r.dilation * (r.kernelSize - 1);
  const padLeft = Math.floor(r.padFrac * span);
  const inLength = Math.max(r.inLength, span + 1 - padLeft);
  const outLength = Math.floor((inLength + padLeft + r.padRight - span - 1) / r.stride) + 1;
  return { seed: r.seed, p: { batch: r.batch, inChannels: r.cg * r.groups, outChannels: r.og * r.groups, inLength, outLength,
    kernelSize: r.kernelSize, stride: r.stride, dilation: r.dilation, padLeft, groups: r.groups, padValue: r.padValue } };
});

export async function run() {
  const w = getWasmKernels();
  const result = { simd: wasmSimdSupported(), kind: createKernels().kind, fallbackKind: createKernels({ detect: () => false }).kind, failures: [], runs: 0 };
  if (!w) return result;
  const check = (name, prop, numRuns) => {
    const r = fc.check(prop, { numRuns, seed: 42 });
    result.runs += r.numRuns;
    if (r.failed) result.failures.push(name + ': ' + JSON.stringify(r.counterexample) + ' ' + String(r.errorInstance ?? r.error));
  };
  check('matmul', fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 19 }),
    fc.integer({ min: 1, max: 21 }), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 2 ** 30 }), (bt, m, k, n, ta, tb, seed) => {
      const a = rand(bt * m * k, seed), b = rand(bt * k * n, seed + 1);
      const o1 = new Float32Array(bt * m * n), o2 = new Float32Array(bt * m * n);
      const mp = { batch: bt, m, k, n, transA: ta, transB: tb };
      w.matmul(a, b, o1, mp); ref.matmul(a, b, o2, mp);
      close(o1, o2, 'matmul');
    }), 60);
  check('conv1d', fc.property(conv, fc.boolean(), ({ p, seed }, relu) => {
    const q = { ...p, activation: relu ? 'relu' : 'none' };
    const cg = p.inChannels / p.groups;
    const x = rand(p.batch * p.inChannels * p.inLength, seed), wt = rand(p.outChannels * cg * p.kernelSize, seed + 1);
    const bias = rand(p.outChannels, seed + 2), g = rand(p.batch * p.outChannels * p.outLength, seed + 3);
    const o1 = new Float32Array(g.length), o2 = new Float32Array(g.length);
    w.conv1dForward(x, wt, bias, o1, q); ref.conv1dForward(x, wt, bias, o2, q); close(o1, o2, 'forward');
    const gx1 = new Float32Array(x.length), gx2 = new Float32Array(x.length);
    w.conv1dBackwardInput(g, wt, gx1, p); ref.conv1dBackwardInput(g, wt, gx2, p); close(gx1, gx2, 'backward input');
    const gw1 = new Float32Array(wt.length), gw2 = new Float32Array(wt.length);
    w.conv1dBackwardWeight(x, g, gw1, p); ref.conv1dBackwardWeight(x, g, gw2, p); close(gw1, gw2, 'backward weight', 10);
  }), 80);
  check('binary', fc.property(conv, fc.integer({ min: 1, max: 100 }), fc.constantFrom(0, 1), ({ p, seed }, channels, padValue) => {
    const q = { batch: p.batch, inChannels: channels, outChannels: p.outChannels, inLength: p.inLength, outLength: p.outLength,
      kernelSize: p.kernelSize, stride: p.stride, dilation: p.dilation, padLeft: p.padLeft, padValue };
    const nw = Math.ceil(channels / 32);
    const mask = channels % 32 === 0 ? 0xffffffff : (2 ** (channels % 32) - 1) >>> 0;
    const x = words(p.batch * p.inLength * nw, seed), wt = words(p.outChannels * p.kernelSize * nw, seed + 1);
    for (let i = nw - 1; i < x.length; i += nw) x[i] = (x[i] & mask) >>> 0;
    for (let i = nw - 1; i < wt.length; i += nw) wt[i] = (wt[i] & mask) >>> 0;
    const o1 = new Int32Array(p.batch * p.outChannels * p.outLength), o2 = new Int32Array(o1.length);
    w.binaryConv1d(x, wt, o1, q); ref.binaryConv1d(x, wt, o2, q);
    for (let i = 0; i < o1.length; i++) if (o1[i] !== o2[i]) throw new Error('binary element ' + i);
    const d1 = new Int32Array(p.batch * p.outChannels), d2 = new Int32Array(d1.length);
    const dp = { batch: p.batch, inFeatures: channels, outFeatures: p.outChannels };
    w.binaryDense(x, wt, d1, dp); ref.binaryDense(x, wt, d2, dp);
    for (let i = 0; i < d1.length; i++) if (d1[i] !== d2[i]) throw new Error('dense element ' + i);
  }), 80);
  // prepared binary convs (dots, max pool, float or thresholds → bits) and sign packing, WASM vs TypeScript
  const plans = [];
  check('binary plan', fc.property(conv, fc.integer({ min: 1, max: 100 }), fc.constantFrom(0, 1), fc.boolean(),
    fc.option(fc.record({ kernelSize: fc.integer({ min: 1, max: 4 }), stride: fc.integer({ min: 1, max: 3 }) }), { nil: null }),
    ({ p, seed }, channels, padValue, thresh, pool) => {
    const q = { batch: p.batch, inChannels: channels, outChannels: p.outChannels, inLength: p.inLength, outLength: p.outLength,
      kernelSize: p.kernelSize, stride: p.stride, dilation: p.dilation, padLeft: p.padLeft, padValue };
    if (pool && pool.kernelSize > p.outLength) return;
    const xf = rand(p.batch * channels * p.inLength, seed);
    const nw = Math.ceil(channels / 32);
    const s1 = new Uint32Array(p.batch * p.inLength * nw), s2 = new Uint32Array(s1.length);
    const sp = { batch: p.batch, channels, length: p.inLength };
    w.signPack(xf, s1, sp); ref.signPack(xf, s2, sp);
    for (let i = 0; i < s1.length; i++) if (s1[i] !== s2[i]) throw new Error('signPack element ' + i);
    const mask = channels % 32 === 0 ? 0xffffffff : (2 ** (channels % 32) - 1) >>> 0;
    const wt = words(p.outChannels * p.kernelSize * nw, seed + 1);
    for (let i = nw - 1; i < wt.length; i += nw) wt[i] = (wt[i] & mask) >>> 0;
    const thresholds = thresh ? { threshold: Int32Array.from({ length: p.outChannels }, (_, o) => (o * 5) % 9 - 4),
      direction: Int8Array.from({ length: p.outChannels }, (_, o) => (o % 2 ? -1 : 1)) } : null;
    const e = { pool, thresholds };
    const pw = w.prepareBinaryConv1d(wt, q, e), pt = ref.prepareBinaryConv1d(wt, q, e);
    const make = () => (thresh ? new Uint32Array(p.batch * pt.outSize) : new Float32Array(p.batch * pt.outSize));
    const o1 = make(), o2 = make(), o3 = make();
    pw.run(s1, o1); pt.run(s1, o2); pw.runFloat(xf, o3);
    for (let i = 0; i < o1.length; i++) if (o1[i] !== o2[i] || o3[i] !== o2[i]) throw new Error('plan element ' + i);
    if (plans.length < 8) plans.push({ plan: pw, x: s1, out: o1, make });
  }), 60);
  // memory growth between two calls
  const x = rand(2 * 3 * 50, 1), wt = rand(4 * 3 * 3, 2);
  const p = { batch: 2, inChannels: 3, outChannels: 4, inLength: 50, outLength: 50, kernelSize: 3, stride: 1, dilation: 1, padLeft: 1, groups: 1, padValue: 0 };
  const before = new Float32Array(2 * 4 * 50); w.conv1dForward(x, wt, null, before, p);
  w.arena.reserve(w.arena.byteLength + 5 * 65536);
  const after = new Float32Array(before.length); w.conv1dForward(x, wt, null, after, p);
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) result.failures.push('memory growth changed element ' + i);
  // prepared binary convs keep working after the growth (their cached views are re-made)
  for (const { plan, x, out, make } of plans) {
    const again = make();
    plan.run(x, again);
    for (let i = 0; i < out.length; i++) if (again[i] !== out[i]) result.failures.push('binary plan after growth: element ' + i);
  }
  return result;
}
`;

const reason = skipReason();
if (reason) console.warn(`[wasm browser test] skipped: ${reason}`);

describe.skipIf(reason !== null)(
  `WASM kernels in headless Chromium${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let srv: StaticServer;

    beforeAll(async () => {
      srv = await startStaticServer('ecgnn-chromium-wasm-');
      const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
      const out = await build({
        stdin: { contents: PAGE_MODULE, resolveDir: pkgDir, loader: 'js', sourcefile: 'wasm-page.js' },
        bundle: true,
        format: 'esm',
        platform: 'browser',
        write: false,
        target: 'es2022',
      });
      srv.files.set('/page.js', { type: 'text/javascript', body: out.outputFiles[0].contents });
      srv.files.set('/', { type: 'text/html', body: '<!doctype html><title>ecgnn wasm</title>' });
    });

    afterAll(async () => {
      await srv?.close();
    });

    it('emits, compiles and runs every kernel; WASM matches TypeScript over random shapes', async () => {
      const context = await chromium.launchPersistentContext(srv.userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: FLAGS,
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`${srv.base}/`);
        // Passed as source text: vitest would otherwise rewrite the dynamic import() inside a function.
        const got = (await page.evaluate(`import('/page.js').then((m) => m.run())`)) as {
          simd: boolean;
          kind: string;
          fallbackKind: string;
          failures: string[];
          runs: number;
        };
        expect(errors).toEqual([]);
        expect(got.simd).toBe(true);
        expect(got.kind).toBe('wasm-simd');
        expect(got.fallbackKind).toBe('typescript');
        expect(got.failures).toEqual([]);
        expect(got.runs).toBe(60 + 80 + 80 + 60); // every property ran all its cases
      } finally {
        await context.close();
      }
    });
  },
);
