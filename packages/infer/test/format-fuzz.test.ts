// Fuzzing the model-file reader (fast-check): random and mutated files must give a ModelFormatError or a valid
// model — never another exception, a hang or a huge allocation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32,
  FORMAT_VERSION,
  InferError,
  loadModel,
  MAGIC,
  ModelFormatError,
  saveModel,
} from '../src/index.js';
import { beatRrSpec, floatZooSpec, method5Spec } from './fixtures.js';

const seeds = [
  saveModel(method5Spec({ length: 300, seed: 3 })),
  saveModel(floatZooSpec(5, 16)),
  saveModel(beatRrSpec(4, 32, 10)),
];

function fixCrc(b: Uint8Array): Uint8Array {
  if (b.length >= 4)
    new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b, 0, b.length - 4), true);
  return b;
}

/** Load; if it loads, run it once. Any thrown error must be one of ours. Returns 'ok' or the error class. */
function tryLoad(b: Uint8Array): string {
  try {
    const m = loadModel(b);
    const inputs: Record<string, Float32Array> = {};
    for (const inp of m.inputs)
      inputs[inp.name] = new Float32Array(inp.shape.reduce((p, q) => p * q, 1)).fill(0.5);
    const out = m.predict(inputs);
    expect(out.length).toBe(m.metadata.classes.length);
    return 'ok';
  } catch (e) {
    if (!(e instanceof InferError)) throw e;
    return e.constructor.name;
  }
}

function headerOf(b: Uint8Array): { json: Record<string, unknown>; blob: Uint8Array } {
  const hl = new DataView(b.buffer, b.byteOffset).getUint32(12, true);
  const start = Math.ceil((16 + hl) / 64) * 64;
  return {
    json: JSON.parse(new TextDecoder().decode(b.subarray(16, 16 + hl))),
    blob: b.subarray(start, b.length - 4),
  };
}

function rebuild(json: unknown, blob: Uint8Array, version = FORMAT_VERSION): Uint8Array {
  const hb = new TextEncoder().encode(JSON.stringify(json));
  const start = Math.ceil((16 + hb.length) / 64) * 64;
  const out = new Uint8Array(start + blob.length + 4);
  out.set(MAGIC);
  new DataView(out.buffer).setUint32(8, version, true);
  new DataView(out.buffer).setUint32(12, hb.length, true);
  out.set(hb, 16);
  out.set(blob, start);
  return fixCrc(out);
}

/** All JSON paths (arrays of keys) of an object, depth-first. */
function paths(
  v: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (v && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) paths(c, [...prefix, Array.isArray(v) ? Number(k) : k], out);
  }
  return out;
}

function setPath(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) o = o[path[i]] as Record<string | number, unknown>;
  o[path[path.length - 1]] = value;
}

describe('model reader fuzzing', () => {
  it('random bytes are rejected with ModelFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), (raw, prefix) => {
        const b = raw.slice();
        if (prefix && b.length >= 16) {
          b.set(MAGIC);
          new DataView(b.buffer).setUint32(8, FORMAT_VERSION, true);
          fixCrc(b);
        }
        expect(() => loadModel(b)).toThrow(ModelFormatError);
      }),
      { numRuns: 400 },
    );
  });

  it('every truncation of a valid file is rejected', () => {
    const b = seeds[1];
    for (let n = 0; n < b.length; n += 7) expect(tryLoad(b.slice(0, n))).toBe('ModelFormatError');
  });

  it('byte mutations (with and without a repaired checksum) never crash', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (seed, edits, repair) => {
          const b = seed.slice();
          for (const [pos, val] of edits) b[pos % (b.length - 4)] = val;
          const r = tryLoad(repair ? fixCrc(b) : b);
          outcomes.set(r, (outcomes.get(r) ?? 0) + 1);
        },
      ),
      { numRuns: 600 },
    );
    expect(outcomes.get('ModelFormatError')).toBeGreaterThan(0);
  });

  it('header JSON mutations (any field → any JSON value, checksum valid) give typed errors', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.nat(),
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.integer(),
          fc.constantFrom(-1, 0, 1, 2 ** 31, 2 ** 53, 1e308, -0, 0.5, '', 'bits', 'bitmap', null, [], {}),
        ),
        (seed, pick, value) => {
          const { json, blob } = headerOf(seed);
          const all = paths(json).filter((p) => p.length > 0);
          setPath(json, all[pick % all.length], value);
          const r = tryLoad(rebuild(json, blob));
          outcomes.set(r, (outcomes.get(r) ?? 0) + 1);
        },
      ),
      { numRuns: 1500 },
    );
    expect(outcomes.get('ModelFormatError')).toBeGreaterThan(100);
  });

  it('graph inputs and outputs: random sources, shapes and names give a model or a typed error', () => {
    const outcomes = new Map<string, number>();
    const source = fc.oneof(
      fc.constant({ kind: 'window' }),
      fc.constant({ kind: 'external' }),
      fc.record({
        kind: fc.constant('rr'),
        features: fc.array(
          fc.constantFrom(
            'pre',
            'post',
            'local',
            'record',
            'pre/local-1',
            'post/local-1',
            'local/record-1',
            'qt',
          ),
          { maxLength: 6 },
        ),
        localHalfWidth: fc.oneof(fc.nat(20), fc.constant(-1), fc.constant(0.5)),
      }),
      fc.jsonValue({ maxDepth: 1 }),
    );
    const input = fc.record({
      name: fc.constantFrom('beat', 'rr', 'x', ''),
      shape: fc.oneof(
        fc.array(fc.integer({ min: -1, max: 70 }), { minLength: 0, maxLength: 3 }),
        fc.constant([1, 32]),
      ),
      source,
    });
    fc.assert(
      fc.property(
        fc.array(input, { minLength: 0, maxLength: 3 }),
        fc.array(fc.constantFrom('logits', 'g', 'rr', 'beat', 'h', 'nope'), { minLength: 0, maxLength: 3 }),
        fc.boolean(),
        (inputs, outputs, keepOutputs) => {
          const { json, blob } = headerOf(seeds[2]);
          const g = json.graph as Record<string, unknown>;
          g.inputs = inputs;
          if (!keepOutputs) g.outputs = outputs;
          const r = tryLoad(rebuild(json, blob));
          outcomes.set(r, (outcomes.get(r) ?? 0) + 1);
        },
      ),
      { numRuns: 400 },
    );
    expect(outcomes.get('ModelFormatError')).toBeGreaterThan(0);
  });

  it('version-1 files: header mutations give typed errors', () => {
    const { json, blob } = headerOf(seeds[1]);
    const g = json.graph as { inputs: { name: string }[]; outputs: string[]; nodes: unknown[] };
    json.graph = { input: g.inputs[0].name, output: g.outputs[0], nodes: g.nodes };
    expect(tryLoad(rebuild(json, blob, 1))).toBe('ok');
    fc.assert(
      fc.property(fc.nat(), fc.jsonValue({ maxDepth: 2 }), (pick, value) => {
        const h = headerOf(rebuild(json, blob, 1));
        const all = paths(h.json).filter((p) => p.length > 0);
        setPath(h.json, all[pick % all.length], value);
        tryLoad(rebuild(h.json, h.blob, 1));
      }),
      { numRuns: 300 },
    );
  });

  it('an object whose toString is null, at every header path, gives a typed error (fuzzer counterexample)', () => {
    // JSON.parse('{"toString":null}') makes an object that throws a TypeError when converted to a string or a
    // property key: the reader must check types before any such conversion.
    for (const seed of seeds) {
      const { json, blob } = headerOf(seed);
      for (const path of paths(json).filter((q) => q.length > 0)) {
        const h = headerOf(seed);
        setPath(h.json, path, JSON.parse('{"toString":null}'));
        expect(() => tryLoad(rebuild(h.json, h.blob)), path.join('.')).not.toThrow();
      }
      expect(tryLoad(rebuild(json, blob))).toBe('ok');
    }
  });

  it('hostile sizes are rejected before allocation', () => {
    const { json, blob } = headerOf(seeds[1]);
    const t = (json.tensors as Record<string, unknown>[])[0];
    // Index-sparse tensor with zero stored values but 2^26+ elements: tiny on disk, huge if densified.
    t.shape = [1 << 13, 1 << 14];
    t.sparse = { format: 'index', nnz: 0 };
    t.byteLength = 0;
    delete t.scale;
    t.dtype = 'float32';
    const before = process.memoryUsage().arrayBuffers;
    expect(() => loadModel(rebuild(json, blob))).toThrow(/more than 67108864 elements|shape/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
    // A long input window makes every activation huge: the graph's total is bounded before allocation.
    const h2 = headerOf(seeds[1]);
    (h2.json.input as Record<string, number>).length = 1 << 21;
    (h2.json.graph as { inputs: { shape: number[] }[] }).inputs[0].shape[1] = 1 << 21;
    expect(() => loadModel(rebuild(h2.json, h2.blob))).toThrow(/activations exceed|activation limit/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });
});
