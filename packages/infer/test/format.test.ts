import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  crc32,
  FORMAT_VERSION,
  fromFloat16Bits,
  type GraphSpec,
  loadModel,
  MAGIC,
  ModelFormatError,
  type ModelSpec,
  readModel,
  saveModel,
  toFloat16Bits,
} from '../src/index.js';
import { readModelFile, writeModelFile } from '../src/node.js';
import { beatRrSpec, method5Spec, randn, rng } from './fixtures.js';

/** A tiny valid model: conv(1→2) → sumOverTime; the weight uses the requested storage. */
function tinySpec(weight: Partial<ModelSpec['tensors'][number]> = {}, shape = [2, 1, 3]): ModelSpec {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    name: 'tiny',
    input: { channels: 1, length: 8, sampleRate: 360 },
    classes: ['n', 'v'],
    outputActivation: 'softmax',
    graph: {
      input: 'x',
      output: 'y',
      nodes: [
        { op: 'conv1d', inputs: ['x'], outputs: ['c'], tensors: { weight: 'w' } },
        { op: 'sumOverTime', inputs: ['c'], outputs: ['y'] },
      ],
    },
    tensors: [
      { name: 'w', shape, data: Float32Array.from({ length: n }, (_, i) => (i % 3) - 1.25), ...weight },
    ],
    provenance: { dataset: 'mitdb', split: 'DS1/DS2', metrics: { f1: 0.9 } },
  };
}

describe('crc32 and float16', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
  it('float16 round-trips every half value exactly and rounds float32 to nearest-even', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = fromFloat16Bits(h);
      if (Number.isNaN(v)) expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(v)))).toBe(true);
      else expect(toFloat16Bits(v)).toBe(h === 0x8000 ? 0x8000 : h);
    }
    expect(toFloat16Bits(65520)).toBe(0x7c00); // rounds up to +Inf
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(fromFloat16Bits(toFloat16Bits(2 ** -25))).toBe(0); // tie with 0 → even (0)
    fc.assert(
      fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const y = fromFloat16Bits(toFloat16Bits(x));
        // Nearest: error at most half an ulp of binary16 (relative 2^-11) or half the smallest subnormal.
        expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
      }),
    );
  });
});

describe('model file layout', () => {
  it('has magic, version, header length, 64-aligned blob and a trailing CRC32', () => {
    const bytes = saveModel(tinySpec());
    expect(Array.from(bytes.subarray(0, 8))).toEqual(Array.from(MAGIC));
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    expect(dv.getUint32(8, true)).toBe(FORMAT_VERSION);
    const hl = dv.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + hl)));
    const blobStart = Math.ceil((16 + hl) / 64) * 64;
    expect(bytes.length).toBe(blobStart + header.blobLength + 4);
    expect(dv.getUint32(bytes.length - 4, true)).toBe(crc32(bytes, 0, bytes.length - 4));
    expect(header.tensors[0]).toMatchObject({
      name: 'w',
      dtype: 'float32',
      shape: [2, 1, 3],
      offset: 0,
      byteLength: 24,
    });
    expect(header.provenance.metrics.f1).toBe(0.9);
  });

  it('round-trips metadata and every dtype', () => {
    const r = rng(3);
    const data = randn(2 * 40 * 3, r);
    for (const dtype of ['float32', 'float16', 'int8', 'bits'] as const) {
      const spec = tinySpec({ dtype, data, shape: [2, 40, 3], sparse: false }, [2, 40, 3]);
      spec.input.channels = 40;
      const file = readModel(saveModel(spec));
      const t = file.tensors.get('w')!;
      expect(t.entry.dtype).toBe(dtype);
      if (dtype === 'bits') {
        // [O][K][W] words; W = 2 for 40 channels; unused bits are zero.
        expect(t.data.length).toBe(2 * 3 * 2);
        for (let o = 0; o < 2; o++)
          for (let c = 0; c < 40; c++)
            for (let k = 0; k < 3; k++) {
              const bit = ((t.data[(o * 3 + k) * 2 + (c >>> 5)] as number) >>> (c & 31)) & 1;
              expect(bit).toBe(data[(o * 40 + c) * 3 + k] < 0 ? 1 : 0);
            }
      } else {
        const tol = dtype === 'float32' ? 0 : dtype === 'float16' ? 2e-3 : 0.02;
        for (let i = 0; i < data.length; i++)
          expect(Math.abs(t.data[i] - data[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(data[i])) * 2);
      }
    }
    const m = loadModel(saveModel(tinySpec()));
    expect(m.metadata).toMatchObject({
      name: 'tiny',
      classes: ['n', 'v'],
      input: { channels: 1, length: 8, sampleRate: 360 },
      outputActivation: 'softmax',
      windowing: { mode: 'segment', hop: 8 },
      provenance: { dataset: 'mitdb' },
    });
  });

  it('a provenance that is not JSON-serialisable gives ModelFormatError', () => {
    const s = tinySpec();
    s.provenance = { big: BigInt(1) as unknown as number };
    expect(() => saveModel(s)).toThrow(ModelFormatError);
  });

  it('int32 tensors round-trip exactly and reject non-integers', () => {
    const spec = method5Spec({ length: 600 });
    spec.tensors.push({ name: 'extra', shape: [3], data: [-2147483648, 0, 2147483647], dtype: 'int32' });
    expect(Array.from(readModel(saveModel(spec)).tensors.get('extra')!.data)).toEqual([
      -2147483648, 0, 2147483647,
    ]);
    spec.tensors[spec.tensors.length - 1].data = [0.5, 0, 0];
    expect(() => saveModel(spec)).toThrow(ModelFormatError);
  });

  it('sparse storage (bitmap and index) round-trips and really shrinks a pruned model', () => {
    const r = rng(4);
    const n = 64 * 64 * 7;
    const dense = randn(n, r);
    const pruned = Float32Array.from(dense, (v) => (r() < 0.9 ? 0 : v)); // 90 % pruned
    const mk = (
      data: Float32Array,
      sparse: boolean | 'bitmap' | 'index',
      dtype: 'float32' | 'float16' | 'int8' = 'float32',
    ) => {
      const s = tinySpec({ data, shape: [64, 64, 7], sparse, dtype }, [64, 64, 7]);
      s.input.channels = 64;
      s.classes = Array.from({ length: 64 }, (_, i) => `c${i}`);
      return s;
    };
    const denseBytes = saveModel(mk(pruned, false)).length;
    const auto = saveModel(mk(pruned, 'auto' as never));
    expect(auto.length).toBeLessThan(denseBytes * 0.2);
    for (const fmt of ['bitmap', 'index'] as const) {
      for (const dtype of ['float32', 'float16', 'int8'] as const) {
        const f = readModel(saveModel(mk(pruned, fmt, dtype)));
        const t = f.tensors.get('w')!;
        expect(t.entry.sparse?.format).toBe(fmt);
        const tol = dtype === 'float32' ? 0 : 0.03;
        for (let i = 0; i < n; i++) {
          if (pruned[i] === 0) expect(t.data[i]).toBe(0);
          else
            expect(Math.abs(t.data[i] - pruned[i])).toBeLessThanOrEqual(
              tol * Math.max(1, Math.abs(pruned[i])),
            );
        }
      }
    }
    // Dense data stays dense under 'auto'.
    expect(readModel(saveModel(mk(dense, 'auto' as never))).tensors.get('w')!.entry.sparse).toBeUndefined();
  });
});

describe('reader rejects bad files with ModelFormatError', () => {
  const good = saveModel(tinySpec());
  const withCrc = (b: Uint8Array) => {
    new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b, 0, b.length - 4), true);
    return b;
  };
  const expectBad = (b: Uint8Array, re: RegExp) => {
    let err: unknown;
    try {
      readModel(b);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(re);
  };
  /** Rewrite the JSON header with `edit`, keeping the layout consistent and the checksum valid. */
  const editHeader = (edit: (h: Record<string, unknown>) => void): Uint8Array => {
    const dv = new DataView(good.buffer, good.byteOffset);
    const hl = dv.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(good.subarray(16, 16 + hl)));
    const blobStart = Math.ceil((16 + hl) / 64) * 64;
    const blob = good.subarray(blobStart, good.length - 4);
    edit(header);
    const hb = new TextEncoder().encode(JSON.stringify(header));
    const start = Math.ceil((16 + hb.length) / 64) * 64;
    const out = new Uint8Array(start + blob.length + 4);
    out.set(good.subarray(0, 12));
    new DataView(out.buffer).setUint32(12, hb.length, true);
    out.set(hb, 16);
    out.set(blob, start);
    return withCrc(out);
  };

  it('bad magic, version, truncation, checksum, padding, JSON', () => {
    expectBad(new Uint8Array(5), /too short/);
    const m = good.slice();
    m[0] = 0x46;
    expectBad(m, /bad magic.*at byte 0/);
    const v = good.slice();
    new DataView(v.buffer).setUint32(8, 3, true);
    expectBad(withCrc(v), /unsupported format version 3/);
    new DataView(v.buffer).setUint32(8, 0, true);
    expectBad(withCrc(v), /unsupported format version 0/);
    expectBad(good.slice(0, good.length - 1), /checksum|runs past|truncated/);
    const c = good.slice();
    c[c.length - 10] ^= 1;
    expectBad(c, /checksum mismatch/);
    const h = good.slice();
    new DataView(h.buffer).setUint32(12, 0xfffffff0, true);
    expectBad(withCrc(h), /header length/);
    const j = good.slice();
    j[16] = 0x7b + 1;
    expectBad(withCrc(j), /not valid UTF-8 JSON/);
    const hl = new DataView(good.buffer, good.byteOffset).getUint32(12, true);
    if ((16 + hl) % 64 !== 0) {
      const p = good.slice();
      p[16 + hl] = 1;
      expectBad(withCrc(p), /padding is not zero/);
    }
  });

  it('editHeader control produces a readable file', () => {
    expect(() => readModel(editHeader(() => undefined))).not.toThrow();
  });

  it('inconsistent header fields', () => {
    const T = (f: (t: Record<string, unknown>) => void) =>
      editHeader((h) => f((h.tensors as Record<string, unknown>[])[0]));
    expectBad(
      T((t) => (t.offset = 64)),
      /run past the blob|byteLength/,
    );
    expectBad(
      T((t) => (t.offset = 3)),
      /not 64-aligned/,
    );
    expectBad(
      T((t) => (t.byteLength = 20)),
      /byteLength 20 ≠ expected 24/,
    );
    expectBad(
      T((t) => (t.dtype = 'float64')),
      /unknown dtype/,
    );
    expectBad(
      T((t) => (t.shape = [2, 1, 3.5])),
      /shape\[2\]/,
    );
    expectBad(
      T((t) => (t.shape = [2, 1, 1e9])),
      /shape\[2\]|too many|byteLength/,
    );
    expectBad(
      T((t) => (t.sparse = { format: 'index', nnz: 100 })),
      /nnz 100 exceeds/,
    );
    expectBad(
      T((t) => (t.scale = 2)),
      /scale is only allowed with int8/,
    );
    expectBad(
      editHeader((h) => (h.blobLength = 0)),
      /blobLength/,
    );
    expectBad(
      editHeader((h) => (h.classes = [])),
      /classes/,
    );
    expectBad(
      editHeader((h) => (h.input = { channels: 1, length: 8, sampleRate: -1 })),
      /sampleRate/,
    );
    const G = (f: (g: { inputs: Record<string, unknown>[]; outputs: unknown }) => void) =>
      editHeader((h) => f(h.graph as { inputs: Record<string, unknown>[]; outputs: unknown }));
    expectBad(
      editHeader((h) => (h.input = { channels: 2, length: 8, sampleRate: 360 })),
      /window input must have the shape \[2, 8\] of header.input, got \[1,8\]/,
    );
    expectBad(
      editHeader((h) => {
        h.input = { channels: 2, length: 8, sampleRate: 360 };
        (h.graph as { inputs: { shape: number[] }[] }).inputs[0].shape = [2, 8];
      }),
      /weight in-channels 1 ≠ input channels 2/,
    );
    expectBad(
      editHeader((h) => {
        h.input = { channels: 1, length: 2, sampleRate: 360 };
        (h.graph as { inputs: { shape: number[] }[] }).inputs[0].shape = [1, 2];
      }),
      /shorter than the window/,
    );
    expectBad(
      G((g) => (g.outputs = ['c'])),
      /expected float \[2\]/,
    );
    expectBad(
      editHeader((h) => (h.tensors = [])),
      /unknown tensor "w"/,
    );
    expectBad(
      editHeader((h) => (h.provenance = 3)),
      /provenance/,
    );
    expectBad(
      editHeader((h) => (h.windowing = { mode: 'beat', before: 8 })),
      /windowing.before/,
    );
    expectBad(
      editHeader(
        (h) =>
          (h.graph = {
            inputs: [{ name: 'x', shape: [1, 8], source: { kind: 'window' } }],
            outputs: ['y'],
            nodes: [{ op: 'conv1d' }],
          }),
      ),
      /inputs must be an array/,
    );
  });

  it('sparse payload errors: bad indices and bitmap counts', () => {
    const n = 2 * 1 * 3;
    const spec = tinySpec({ data: Float32Array.from([0, 0, 0, 0, 1.5, 0]), sparse: 'index' });
    const b = saveModel(spec);
    const f = readModel(b);
    expect(f.tensors.get('w')!.entry.sparse).toEqual({ format: 'index', nnz: 1 });
    const hl = new DataView(b.buffer, b.byteOffset).getUint32(12, true);
    const blob = Math.ceil((16 + hl) / 64) * 64;
    const bad = b.slice();
    new DataView(bad.buffer).setUint32(blob, n, true); // index out of range
    expectBad(withCrc(bad), /sparse index 6 is out of range/);
    const bm = saveModel(tinySpec({ data: Float32Array.from([0, 0, 0, 0, 1.5, 0]), sparse: 'bitmap' }));
    const hl2 = new DataView(bm.buffer, bm.byteOffset).getUint32(12, true);
    const blob2 = Math.ceil((16 + hl2) / 64) * 64;
    const bad2 = bm.slice();
    bad2[blob2] |= 1; // one more set bit than nnz
    expectBad(withCrc(bad2), /more set bits than nnz/);
    const bad3 = bm.slice();
    bad3[blob2] |= 0x80; // bit beyond element 6
    expectBad(withCrc(bad3), /more set bits|beyond element/);
  });

  it('packed bits with non-zero unused high bits are rejected', () => {
    const s = tinySpec({ dtype: 'bits' });
    const b = saveModel(s);
    const hl = new DataView(b.buffer, b.byteOffset).getUint32(12, true);
    const blob = Math.ceil((16 + hl) / 64) * 64;
    const bad = b.slice();
    bad[blob + 3] |= 0x80; // bit 31 of word 0; only 1 channel is valid
    expectBad(withCrc(bad), /unused high bits/);
  });
});

describe('Node helpers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecgnn-infer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('writeModelFile writes atomically (no temp file left) and readModelFile loads it', async () => {
    const path = join(dir, 'm.ecgnn');
    await writeModelFile(path, tinySpec());
    await writeModelFile(path, method5Spec({ length: 600 })); // overwrite via rename
    expect(readdirSync(dir)).toEqual(['m.ecgnn']);
    const m = await readModelFile(path);
    expect(m.metadata.classes.length).toBe(5);
    expect(readFileSync(path).length).toBe(saveModel(method5Spec({ length: 600 })).length);
  });
  it('errors name the file; invalid specs leave no file behind', async () => {
    const path = join(dir, 'bad.ecgnn');
    const bad = tinySpec();
    bad.classes = [];
    await expect(writeModelFile(path, bad)).rejects.toThrow(ModelFormatError);
    expect(readdirSync(dir)).toEqual(['m.ecgnn']);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, new Uint8Array(100));
    await expect(readModelFile(path)).rejects.toThrow(/bad\.ecgnn: bad magic/);
  });
});

describe('model bytes from a Node Buffer', () => {
  it('a Buffer sharing a larger pool (readFileSync) loads the same as a plain Uint8Array', async () => {
    const { Buffer } = await import('node:buffer');
    const bytes = saveModel(method5Spec());
    // A Buffer view at a non-zero offset of a bigger allocation, as Node's pooled small reads produce.
    const pool = Buffer.alloc(bytes.length + 4096, 0xff);
    pool.set(bytes, 1024);
    const view = pool.subarray(1024, 1024 + bytes.length);
    const a = readModel(bytes);
    const b = readModel(view);
    expect(b.header).toEqual(a.header);
    for (const [name, t] of a.tensors)
      expect(Array.from(b.tensors.get(name)!.data)).toEqual(Array.from(t.data));
  });
});

describe('format version 2: named inputs and outputs', () => {
  /** The file of `spec` with its header JSON edited (layout kept consistent, checksum valid), at `version`. */
  const edited = (spec: ModelSpec, edit: (h: Record<string, unknown>) => void, version = FORMAT_VERSION) => {
    const good = saveModel(spec);
    const hl = new DataView(good.buffer, good.byteOffset).getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(good.subarray(16, 16 + hl)));
    const blob = good.subarray(Math.ceil((16 + hl) / 64) * 64, good.length - 4);
    edit(header);
    const hb = new TextEncoder().encode(JSON.stringify(header));
    const start = Math.ceil((16 + hb.length) / 64) * 64;
    const out = new Uint8Array(start + blob.length + 4);
    out.set(MAGIC);
    const dv = new DataView(out.buffer);
    dv.setUint32(8, version, true);
    dv.setUint32(12, hb.length, true);
    out.set(hb, 16);
    out.set(blob, start);
    dv.setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
    return out;
  };
  type G = { inputs: Record<string, unknown>[]; outputs: unknown[] };
  const bad = (edit: (g: G, h: Record<string, unknown>) => void, re: RegExp) => {
    const b = edited(beatRrSpec(), (h) => edit(h.graph as G, h));
    expect(() => readModel(b)).toThrow(ModelFormatError);
    expect(() => readModel(b)).toThrow(re);
  };

  it('writes version 2 and round-trips inputs, sources and outputs', () => {
    const spec = beatRrSpec();
    const b = saveModel(spec);
    expect(new DataView(b.buffer).getUint32(8, true)).toBe(2);
    const f = readModel(b);
    expect(f.header.graph.inputs).toEqual((spec.graph as GraphSpec).inputs);
    expect(f.header.graph.outputs).toEqual(['logits', 'g']);
    expect(f.graph.inputs.map((i) => i.name)).toEqual(['beat', 'rr']);
    expect(f.graph.outputs.map((o) => o.shape)).toEqual([[3], [8]]);
  });

  it('reads version-1 files and normalises them to one window input and one output', () => {
    const spec = tinySpec();
    const v1 = edited(
      spec,
      (h) => {
        const g = h.graph as G & { input?: string; output?: string };
        h.graph = { input: 'x', output: 'y', nodes: (g as unknown as { nodes: unknown }).nodes };
      },
      1,
    );
    const f = readModel(v1);
    expect(f.header.graph.inputs).toEqual([{ name: 'x', shape: [1, 8], source: { kind: 'window' } }]);
    expect(f.header.graph.outputs).toEqual(['y']);
    // A version-1 graph in a version-2 file (and the reverse) is rejected.
    expect(() => readModel(edited(spec, (h) => (h.graph = { input: 'x', output: 'y', nodes: [] })))).toThrow(
      /graph.inputs must be an array/,
    );
    expect(() => readModel(edited(spec, () => undefined, 1))).toThrow(/graph.input must be a string/);
    // saveModel accepts a version-1 graph and writes its version-2 form.
    const w = readModel(
      saveModel({ ...spec, graph: { input: 'x', output: 'y', nodes: (spec.graph as GraphSpec).nodes } }),
    );
    expect(w.header.graph.inputs[0]).toEqual({ name: 'x', shape: [1, 8], source: { kind: 'window' } });
  });

  it('rejects inconsistent inputs and outputs', () => {
    bad((g) => (g.inputs = []), /graph.inputs must be an array of 1–64/);
    bad((g) => (g.inputs[1].name = 'beat'), /input 1 \("beat"\): value "beat" is defined twice/);
    bad((g) => (g.inputs[0].shape = [1, 63]), /window input must have the shape \[1, 64\]/);
    bad((g) => (g.inputs[0].shape = [1, 2, 64]), /shape must be \[channels, length\] or \[features\]/);
    bad((g) => (g.inputs[0].shape = [0, 64]), /shape\[0\]/);
    bad(
      (g) => (g.inputs[1] = { name: 'w2', shape: [1, 64], source: { kind: 'window' } }),
      /2 window inputs; at most one/,
    );
    bad((g) => (g.inputs[1].shape = [5]), /rr input must have the shape \[4\]/);
    bad(
      (g) => (g.inputs[1].source = { kind: 'rr', features: ['pre', 'qt'], localHalfWidth: 5 }),
      /"qt" is not an RR feature/,
    );
    bad((g) => (g.inputs[1].source = { kind: 'rr', features: [], localHalfWidth: 5 }), /non-empty array/);
    bad(
      (g) =>
        (g.inputs[1].source = { kind: 'rr', features: ['pre', 'pre', 'post', 'local'], localHalfWidth: 5 }),
      /listed twice/,
    );
    bad(
      (g) =>
        (g.inputs[1].source = {
          kind: 'rr',
          features: ['pre', 'post', 'local', 'record'],
          localHalfWidth: -1,
        }),
      /localHalfWidth/,
    );
    bad((g) => (g.inputs[1].source = { kind: 'ecg' }), /source.kind must be/);
    bad((g) => delete g.inputs[1].source, /source must be an object/);
    bad((_, h) => (h.windowing = { mode: 'segment', hop: 64 }), /rr inputs need beat windowing/);
    bad((g) => (g.outputs = []), /graph.outputs must be an array/);
    bad((g) => (g.outputs = ['logits', 'nope']), /"nope" is never produced/);
    bad((g) => (g.outputs = ['logits', 'rr']), /"rr" is never produced/);
    bad((g) => (g.outputs = ['logits', 'logits']), /listed twice/);
    bad((g) => (g.outputs = ['g']), /expected float \[3\]/);
    bad((g) => (g.inputs[1].name = 'rr2'), /input "rr" is not defined before use/);
  });

  it('external inputs of any rank-1/2 shape are accepted, and a model needs no window input', () => {
    const spec = beatRrSpec();
    const ext = edited(spec, (h) => {
      const g = h.graph as G;
      g.inputs[1].source = { kind: 'external' };
    });
    expect(readModel(ext).header.graph.inputs[1].source).toEqual({ kind: 'external' });
    const noWindow = edited(spec, (h) => {
      const g = h.graph as G;
      g.inputs[0].source = { kind: 'external' };
    });
    expect(readModel(noWindow).header.graph.inputs[0].source.kind).toBe('external');
  });
});
