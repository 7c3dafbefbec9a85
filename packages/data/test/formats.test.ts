import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Annotations,
  ChecksumError,
  DataError,
  decodeFormat,
  decodeRecord,
  encodeFormat,
  FormatError,
  parseHeader,
  readAnnotations,
  readMat4,
  readMat4Variable,
  wfdbChecksum,
  writeAnnotations,
} from '../src/index.js';

const HEADER_100 = `100 2 360 650000
100.dat 212 200 11 1024 995 -22131 0 MLII
100.dat 212 200 11 1024 1011 20052 0 V5
# 69 M 1085 1629 x1
# Aldomet, Inderal
`;

describe('WFDB header', () => {
  it('parses the record and signal lines of mitdb 100', () => {
    const h = parseHeader(HEADER_100, '100.hea');
    expect(h.record).toBe('100');
    expect(h.nSignals).toBe(2);
    expect(h.fs).toBe(360);
    expect(h.nSamples).toBe(650000);
    expect(h.comments).toEqual(['69 M 1085 1629 x1', 'Aldomet, Inderal']);
    const s = h.signals[0];
    expect(s).toMatchObject({
      fileName: '100.dat',
      format: 212,
      gain: 200,
      uncalibrated: false,
      baseline: 1024,
      units: 'mV',
      adcResolution: 11,
      adcZero: 1024,
      initialValue: 995,
      checksum: -22131,
      blockSize: 0,
      description: 'MLII',
    });
    expect(h.signals[1].description).toBe('V5');
  });

  it('reads gain(baseline)/units, format suffixes and defaults', () => {
    const h = parseHeader('r1 3 500/10(0)\nr1.dat 16x1:0+512 1000(-5)/uV 16 0 -5\nr1.dat 16 0\nr2.dat 80\n');
    expect(h.fs).toBe(500);
    expect(h.nSamples).toBeUndefined();
    expect(h.signals[0]).toMatchObject({
      format: 16,
      byteOffset: 512,
      gain: 1000,
      baseline: -5,
      units: 'uV',
    });
    expect(h.signals[1]).toMatchObject({ gain: 200, uncalibrated: true, baseline: 0, units: 'mV' });
    expect(h.signals[2]).toMatchObject({ fileName: 'r2.dat', format: 80, gain: 200 });
    expect(parseHeader('x 0').fs).toBe(250);
    // '-0' is read as 0, not −0 (found by the fuzzing below: a count of −0 signals compared unequal to 0).
    const z = parseHeader('x -0 360 -0');
    expect(Object.is(z.nSignals, 0)).toBe(true);
    expect(Object.is(z.nSamples, 0)).toBe(true);
  });

  it('rejects multi-segment records and malformed lines with a FormatError', () => {
    expect(() => parseHeader('multi/3 2 360 1000\n')).toThrow(/multi-segment/);
    expect(() => parseHeader('r 2 360 100\nr.dat 212\n')).toThrow(FormatError);
    expect(() => parseHeader('r 1 abc 100\nr.dat 212\n')).toThrow(/sampling frequency/);
    expect(() => parseHeader('r 1 360 100\nr.dat 2a1\n')).toThrow(/format field/);
    expect(() => parseHeader('')).toThrow(/no record line/);
  });
});

const int16Arrays = (lo: number, hi: number) =>
  fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 60 }))
    .chain(([nSig, n]) =>
      fc.array(fc.array(fc.integer({ min: lo, max: hi }), { minLength: n, maxLength: n }), {
        minLength: nSig,
        maxLength: nSig,
      }),
    )
    .map((sigs) => sigs.map((s) => Int16Array.from(s)));

describe('signal formats', () => {
  for (const [format, lo, hi] of [
    [16, -32768, 32767],
    [61, -32768, 32767],
    [160, -32768, 32767],
    [80, -128, 127],
    [212, -2048, 2047],
  ] as const) {
    it(`format ${format}: encode → decode round-trips`, () => {
      fc.assert(
        fc.property(int16Arrays(lo, hi), (sigs) => {
          const bytes = encodeFormat(format, sigs);
          const back = decodeFormat(format, bytes, sigs.length, sigs[0].length);
          expect(back.map((a) => Array.from(a))).toEqual(sigs.map((a) => Array.from(a)));
        }),
      );
    });
  }

  it('decodes format 212 bytes as documented (two 12-bit samples in 3 bytes, sign-extended)', () => {
    // s0 = 0x123 , s1 = -1 (0xFFF): b0 = 0x23, b1 = (0xF << 4) | 0x1, b2 = 0xFF
    const [a, b] = decodeFormat(212, Uint8Array.of(0x23, 0xf1, 0xff), 2, 1);
    expect(a[0]).toBe(0x123);
    expect(b[0]).toBe(-1);
    const [c] = decodeFormat(16, Uint8Array.of(0x00, 0x80), 1, 1);
    expect(c[0]).toBe(-32768);
    const [d] = decodeFormat(80, Uint8Array.of(0), 1, 1);
    expect(d[0]).toBe(-128);
  });

  it('rejects short files and unknown formats before allocating', () => {
    expect(() => decodeFormat(212, new Uint8Array(10), 2, 1_000_000_000)).toThrow(FormatError);
    expect(() => decodeFormat(311, new Uint8Array(10), 1, 1)).toThrow(/not supported/);
  });

  it('out-of-range values are refused by the encoder', () => {
    expect(() => encodeFormat(212, [Int16Array.of(2048)])).toThrow(RangeError);
    expect(() => encodeFormat(80, [Int16Array.of(-129)])).toThrow(RangeError);
  });
});

function makeRecord(format: number, sigs: Int16Array[]): { text: string; bytes: Uint8Array } {
  const lines = [`rec ${sigs.length} 360 ${sigs[0].length}`];
  sigs.forEach((s, i) => {
    lines.push(`rec.dat ${format} 200 12 0 ${s[0]} ${wfdbChecksum(s)} 0 sig${i}`);
  });
  return { text: lines.join('\n'), bytes: encodeFormat(format, sigs) };
}

describe('decodeRecord', () => {
  const sigs = [Int16Array.of(10, 20, -30, 400), Int16Array.of(-1, 0, 1, 2)];

  it('decodes, verifies and converts to physical units', () => {
    const { text, bytes } = makeRecord(16, sigs);
    const rec = decodeRecord(parseHeader(text), new Map([['rec.dat', bytes]]));
    expect(Array.from(rec.adc[0])).toEqual([10, 20, -30, 400]);
    expect(rec.signals[0][3]).toBeCloseTo(2, 6);
    expect(rec.descriptions).toEqual(['sig0', 'sig1']);
  });

  it('names the record and signal on a checksum or first-value mismatch', () => {
    const { text, bytes } = makeRecord(212, sigs);
    const bad = bytes.slice();
    bad[bad.length - 1] ^= 0x01; // flips a bit of signal 1 of the last frame
    const h = parseHeader(text);
    const err = (() => {
      try {
        decodeRecord(h, new Map([['rec.dat', bad]]));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as ChecksumError).record).toBe('rec');
    expect((err as ChecksumError).signal).toBe(1);
    expect(String((err as Error).message)).toMatch(/record rec, signal 1 \(sig1\): checksum/);
    const h2 = parseHeader(text.replace(' 10 ', ' 11 '));
    expect(() => decodeRecord(h2, new Map([['rec.dat', bytes]]))).toThrow(
      /signal 0 \(sig0\): first sample is 10/,
    );
  });

  it('fails clearly on a missing or short signal file', () => {
    const { text, bytes } = makeRecord(16, sigs);
    expect(() => decodeRecord(parseHeader(text), new Map())).toThrow(/missing/);
    expect(() => decodeRecord(parseHeader(text), new Map([['rec.dat', bytes.slice(0, 5)]]))).toThrow(
      FormatError,
    );
  });
});

const annotationsArb = fc
  .array(
    fc.record({
      gap: fc.oneof(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 1024, max: 2_000_000 })),
      code: fc.integer({ min: 1, max: 49 }),
      subtype: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 127 })),
      chan: fc.integer({ min: 0, max: 3 }),
      num: fc.integer({ min: 0, max: 5 }),
      aux: fc.option(
        fc.string({
          unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)),
          maxLength: 20,
        }),
        { nil: null },
      ),
    }),
    { maxLength: 60 },
  )
  .map((items): Annotations => {
    let t = 0;
    const sample = new Int32Array(items.length);
    items.forEach((it, i) => {
      t += it.gap;
      sample[i] = t;
    });
    return {
      sample,
      code: Uint8Array.from(items, (x) => x.code),
      subtype: Int16Array.from(items, (x) => x.subtype),
      chan: Int16Array.from(items, (x) => x.chan),
      num: Int16Array.from(items, (x) => x.num),
      aux: items.map((x) => x.aux),
    };
  });

describe('MIT annotations', () => {
  it('write → read round-trips (SKIP, SUB, CHN, NUM, AUX)', () => {
    fc.assert(
      fc.property(annotationsArb, (a) => {
        const b = readAnnotations(writeAnnotations(a));
        expect(Array.from(b.sample)).toEqual(Array.from(a.sample));
        expect(Array.from(b.code)).toEqual(Array.from(a.code));
        expect(Array.from(b.subtype)).toEqual(Array.from(a.subtype));
        expect(Array.from(b.chan)).toEqual(Array.from(a.chan));
        expect(Array.from(b.num)).toEqual(Array.from(a.num));
        expect(b.aux).toEqual(a.aux);
      }),
      { numRuns: 300 },
    );
  });

  it('reads hand-assembled words: time increments, SKIP (high word first) and AUX padding', () => {
    const w = (A: number, I: number): number[] => {
      const v = (A << 10) | I;
      return [v & 0xff, v >> 8];
    };
    const bytes = Uint8Array.from([
      ...w(1, 100), // N at 100
      ...w(59, 0), // SKIP 70000 = 0x0001_1170
      0x01,
      0x00,
      0x70,
      0x11,
      ...w(28, 5), // + at 100 + 70000 + 5
      ...w(63, 5), // AUX "(AFIB" (5 bytes, padded to 6)
      ...Array.from('(AFIB\0', (c) => c.charCodeAt(0)),
      0,
      0,
    ]);
    const a = readAnnotations(bytes);
    expect(Array.from(a.sample)).toEqual([100, 70105]);
    expect(Array.from(a.code)).toEqual([1, 28]);
    expect(a.aux).toEqual([null, '(AFIB']);
  });

  it('reports truncation with a byte offset', () => {
    const good = writeAnnotations({
      sample: Int32Array.of(5, 5000),
      code: Uint8Array.of(1, 28),
      subtype: new Int16Array(2),
      chan: new Int16Array(2),
      num: new Int16Array(2),
      aux: [null, '(N'],
    });
    for (let cut = 1; cut < good.length - 1; cut++) {
      expect(() => readAnnotations(good.slice(0, cut))).toThrow(FormatError);
    }
  });
});

function mat4(
  name: string,
  rows: number,
  cols: number,
  values: number[],
  P = 3,
  bigEndian = false,
): Uint8Array {
  const size = [8, 4, 4, 2, 2, 1][P];
  const buf = new ArrayBuffer(20 + name.length + 1 + rows * cols * size);
  const dv = new DataView(buf);
  const le = !bigEndian;
  dv.setInt32(0, (bigEndian ? 1000 : 0) + P * 10, le);
  dv.setInt32(4, rows, le);
  dv.setInt32(8, cols, le);
  dv.setInt32(12, 0, le);
  dv.setInt32(16, name.length + 1, le);
  for (let i = 0; i < name.length; i++) dv.setUint8(20 + i, name.charCodeAt(i));
  const o = 20 + name.length + 1;
  values.forEach((v, i) => {
    if (P === 3) dv.setInt16(o + 2 * i, v, le);
    else if (P === 0) dv.setFloat64(o + 8 * i, v, le);
  });
  return new Uint8Array(buf);
}

describe('MATLAB v4 reader', () => {
  it('reads int16 and double variables in both byte orders', () => {
    expect(Array.from(readMat4Variable(mat4('val', 1, 4, [1024, -5, 3, 2047]), 'val'))).toEqual([
      1024, -5, 3, 2047,
    ]);
    expect(Array.from(readMat4Variable(mat4('val', 1, 3, [7, 8, 9], 3, true), 'val'))).toEqual([7, 8, 9]);
    const v = readMat4(mat4('x', 2, 1, [0.5, -1.25], 0));
    expect(v[0]).toMatchObject({ name: 'x', rows: 2, cols: 1 });
    expect(Array.from(v[0].data)).toEqual([0.5, -1.25]);
    expect(() => readMat4Variable(mat4('val', 1, 1, [1]), 'other')).toThrow(/no variable named 'other'/);
  });
  it('checks sizes before allocating', () => {
    const m = mat4('val', 1, 4, [1, 2, 3, 4]);
    new DataView(m.buffer).setInt32(8, 1 << 30, true); // claims 2^30 columns
    expect(() => readMat4(m)).toThrow(/needs .* bytes/);
    expect(() => readMat4(m.slice(0, 25))).toThrow(FormatError);
  });
});

describe('parser fuzzing: random and truncated bytes give typed errors, never a hang or huge allocation', () => {
  const parsers: [string, (b: Uint8Array) => unknown][] = [
    ['readAnnotations', (b) => readAnnotations(b)],
    ['readMat4', (b) => readMat4(b)],
    ['parseHeader', (b) => parseHeader(new TextDecoder('latin1').decode(b))],
    [
      'decodeRecord',
      (b) => {
        const h = parseHeader(HEADER_100);
        return decodeRecord(h, new Map([['100.dat', b]]));
      },
    ],
    ['decodeFormat', (b) => decodeFormat(212, b, 2, 1000)],
    [
      'decodeRecord (length-matched random signal bytes)',
      (b) => {
        const n = Math.floor(b.length / 3) * 2; // frames of 2 signals in format 212 = 3 bytes each
        const h = parseHeader(`r 2 360 ${n / 2}\nr.dat 212 200 12 0 0 0 0 a\nr.dat 212 200 12 0 0 0 0 b\n`);
        return decodeRecord(h, new Map([['r.dat', b.subarray(0, (n / 2) * 3)]]));
      },
    ],
  ];
  for (const [name, parse] of parsers) {
    it(name, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => {
          const heapBefore = process.memoryUsage().arrayBuffers;
          try {
            parse(b);
          } catch (e) {
            if (!(e instanceof DataError)) throw e;
          }
          // nothing larger than a few times the input may have been allocated
          expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(64 * 1024 * 1024);
        }),
        { numRuns: 300 },
      );
    });
  }
  /** A byte or character edit: overwrite at, insert before, or delete a run starting at a relative position. */
  const edit = fc.record({
    kind: fc.constantFrom('set', 'insert', 'delete'),
    at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    value: fc.integer({ min: 0, max: 255 }),
    run: fc.integer({ min: 1, max: 8 }),
  });
  type Edit = { kind: 'set' | 'insert' | 'delete'; at: number; value: number; run: number };
  function mutate<T>(items: readonly T[], edits: readonly Edit[], make: (v: number) => T): T[] {
    const out = [...items];
    for (const e of edits) {
      const i = Math.floor(e.at * (out.length + 1));
      if (e.kind === 'insert') out.splice(i, 0, ...Array.from({ length: e.run }, () => make(e.value)));
      else if (e.kind === 'delete') out.splice(i, e.run);
      else if (i < out.length) out[i] = make(e.value);
    }
    return out;
  }

  it('readAnnotations: mutations of valid files give a typed error or a consistent result', () => {
    fc.assert(
      fc.property(annotationsArb, fc.array(edit, { minLength: 1, maxLength: 6 }), (a, edits) => {
        const bytes = Uint8Array.from(mutate(Array.from(writeAnnotations(a)), edits, (v) => v));
        let b: Annotations;
        try {
          b = readAnnotations(bytes, 'mutated.atr');
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
          expect((e as FormatError).file).toBe('mutated.atr');
          return;
        }
        const n = b.sample.length;
        for (const col of [b.code, b.subtype, b.chan, b.num]) expect(col.length).toBe(n);
        expect(b.aux.length).toBe(n);
        for (let i = 0; i < n; i++) {
          expect(b.sample[i]).toBeGreaterThanOrEqual(0);
          expect(b.code[i]).toBeLessThanOrEqual(49);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('parseHeader: mutations of valid headers give a typed error or a consistent result', () => {
    const headers = [
      HEADER_100,
      'r 3 500/2(0) 1000\nr.dat 16x1:0+512 100.5(-3)/uV 16 0 12 -34 0 lead I\nr.dat 16 0 16 0 0 0 0 II\ns.dat 212 200 12 1024 0 0 0 V1\n# age 40\n',
    ];
    const chars = '0123456789 \n\t.-+/():x#eE_aZ\r';
    fc.assert(
      fc.property(
        fc.constantFrom(...headers),
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        (text, edits) => {
          const mutated = mutate([...text], edits, (v) => chars[v % chars.length]).join('');
          let h: ReturnType<typeof parseHeader>;
          try {
            h = parseHeader(mutated, 'mutated.hea');
          } catch (e) {
            expect(e).toBeInstanceOf(FormatError);
            expect((e as FormatError).file).toBe('mutated.hea');
            return;
          }
          expect(h.signals.length).toBe(h.nSignals);
          expect(h.fs).toBeGreaterThan(0);
          expect(Number.isFinite(h.fs)).toBe(true);
          if (h.nSamples !== undefined) expect(h.nSamples).toBeGreaterThanOrEqual(0);
          for (const sp of h.signals) {
            expect(Number.isInteger(sp.format)).toBe(true);
            expect(sp.gain).toBeGreaterThan(0);
            expect(Number.isFinite(sp.baseline)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodeRecord: a mutated header over its valid signal file gives a typed error or a record', () => {
    const n = 50;
    const sig = Int16Array.from({ length: n }, (_, i) => (i * 37) % 200);
    const dat = encodeFormat(212, [sig, sig]);
    const sum = wfdbChecksum(sig);
    const text = `r 2 360 ${n}\nr.dat 212 200 12 0 ${sig[0]} ${sum} 0 a\nr.dat 212 200 12 0 ${sig[0]} ${sum} 0 b\n`;
    const chars = '0123456789 \n-+x:';
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        const mutated = mutate([...text], edits, (v) => chars[v % chars.length]).join('');
        try {
          const r = decodeRecord(parseHeader(mutated, 'r.hea'), new Map([['r.dat', dat]]));
          for (const x of r.signals) expect(x.length).toBe(r.nSamples);
        } catch (e) {
          expect(e).toBeInstanceOf(DataError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('truncations of valid files', () => {
    const ann = writeAnnotations({
      sample: Int32Array.of(1, 3000, 3001),
      code: Uint8Array.of(1, 28, 5),
      subtype: Int16Array.of(0, 0, 2),
      chan: Int16Array.of(0, 1, 1),
      num: Int16Array.of(0, 0, 3),
      aux: [null, '(AFIB', null],
    });
    const mat = mat4('val', 1, 10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (let cut = 0; cut < ann.length; cut++) {
      try {
        readAnnotations(ann.slice(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
      }
    }
    for (let cut = 1; cut < mat.length; cut++) expect(() => readMat4(mat.slice(0, cut))).toThrow(FormatError);
  });
});
