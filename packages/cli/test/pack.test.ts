// What a user installs, for every publishable package (packages/infer/test/pack.test.ts does kernels, core and
// infer in depth: README examples, ndarray interop, the browser bundle): `pnpm pack` of all nine (each runs its
// `prepack`), the tarballs installed together with npm into a fresh folder outside the workspace, then
//  - the tarballs of dsp, data, models, export, train and cli: README, LICENSE, no .tsbuildinfo, main/types
//    beside exports, the `ecgnn` bin, no workspace: ranges, every imported package declared;
//  - a Node script importing every package's main entry (and @ecgnn/data/formats) from the installed copies and
//    doing one real thing with each across packages: a WFDB record written and read back (data) whose QRS
//    complexes are detected (dsp); a student classifier built (models, core), exported with its preprocessing
//    (train → export) and run by infer (its probabilities agree with core's, and its bytes equal the ones the
//    workspace sources write); the model file described by the CLI's library;
//  - the installed `ecgnn` binary: `--help`, `--version`, `inspect <the model file>` printing its layers;
//  - `tsc --noEmit` of a consumer importing every package's types, without skipLibCheck, moduleResolution node10,
//    node16 and bundler (with @types/node: the CLI's types name Node streams), and the libraries but the CLI once
//    more without any ambient types.
// @ecgnn/gpu is left out: its gpu.js dependency pulls native builds (headless-gl) when installed.
// Installing needs the npm registry (ndarray, commander, cli-progress, @types/node): when npm or the registry is
// unavailable the tests are skipped with the reason, unless CI=true (then they fail). About 25-40 s.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Generator } from '@ecgnn/core';
import { readModel, saveModel } from '@ecgnn/infer';
import { createModel, type StudentConfig } from '@ecgnn/models';
import { beatPreprocessing, exportClassifier, syntheticBeatDataset } from '@ecgnn/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkTarball,
  type PackedApp,
  packAndInstall,
  REPO,
  RESOLUTIONS,
  run,
  typecheckConsumer,
} from '../../../test-utils/pack.js';
import { VERSION } from '../src/index.js';

/** Dependencies first; kernels, core and infer are installed so that nothing @ecgnn/* comes from the registry. */
const PACKAGES = ['kernels', 'dsp', 'core', 'data', 'models', 'export', 'infer', 'train', 'cli'] as const;
const CHECKED = ['dsp', 'data', 'models', 'export', 'train', 'cli'] as const;
/** Package names in the generated consumer sources (names, so that check-deps does not read them as imports). */
const [DSP, DATA, MODELS, EXPORT, TRAIN, CLI] = CHECKED.map((p) => `@ecgnn/${p}`);
const CORE = '@ecgnn/core';
const INFER = '@ecgnn/infer';
const TYPES_NODE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).devDependencies[
  '@types/node'
];

// The student of the Node script, built here too from the workspace sources with the same seed.
const PREPROCESSING = { sampleRate: 90, length: 64, before: 23 };
const STUDENT: StudentConfig = {
  kind: 'student',
  length: 64,
  rrFeatures: 4,
  classes: 5,
  channels: [4, 8],
  kernels: [5, 3],
};
const SEED = 11;

let packed: PackedApp;

beforeAll(async () => {
  packed = await packAndInstall('pack-all', PACKAGES, { '@types/node': TYPES_NODE });
}, 150_000);

afterAll(() => {
  if (packed) rmSync(packed.tmp, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  for (const p of CHECKED) {
    it(`@ecgnn/${p}: README, LICENSE, no .tsbuildinfo, main/types beside exports, declared dependencies`, () => {
      const { files, pkg } = checkTarball(packed.tarball(p), packed.tmp);
      expect(pkg.name).toBe(`@ecgnn/${p}`);
      if (p === 'data') {
        expect(pkg.exports['./formats'].default).toBe('./dist/formats.js');
        expect(files).toContain('package/dist/formats.d.ts');
      }
      if (p === 'cli') {
        expect(pkg.bin).toEqual({ ecgnn: './bin/ecgnn.mjs' });
        expect(files).toContain('package/dist/bin.js');
      }
    });
  }
});

/** The Node script: every package's main entry (and @ecgnn/data/formats) used from the installed copies. */
const SCRIPT = `import { writeFileSync } from 'node:fs';
import { inspectModel, VERSION } from '${CLI}';
import { Generator } from '${CORE}';
import { aamiClass } from '${DATA}';
import { decodeRecord, encodeFormat, parseHeader, wfdbChecksum } from '${DATA}/formats';
import { detectQrs } from '${DSP}';
import { ExportError } from '${EXPORT}';
import { loadModel, saveModel, topLabel } from '${INFER}';
import { createModel } from '${MODELS}';
import { beatPreprocessing, compareWithInfer, evaluate, exportClassifier, syntheticBeatDataset } from '${TRAIN}';

// data → dsp: 10 s of synthetic ECG (a Gaussian R wave, sigma 4 samples, every 0.8 s on a 0.3 Hz baseline
// wander; ADC units, 200 per mV) written as a format-212 WFDB record, read back through its header, QRS detected.
const fs = 360;
const truth = [];
for (let t = 180; t < 3540; t += 288) truth.push(t);
const adc = Int16Array.from({ length: 10 * fs }, (_, i) => {
  let v = 20 * Math.sin((2 * Math.PI * 0.3 * i) / fs);
  for (const r of truth) v += 300 * Math.exp(-(((i - r) / 4) ** 2));
  return Math.round(v);
});
const hea = \`t1 1 \${fs} \${adc.length}\\nt1.dat 212 200 11 0 \${adc[0]} \${wfdbChecksum(adc)} 0 MLII\\n\`;
const record = decodeRecord(parseHeader(hea, 't1.hea'), new Map([['t1.dat', encodeFormat(212, [adc])]]));
const qrs = Array.from(detectQrs(record.signals[0], record.fs));

// models → train → export → infer: a student beat classifier exported with its preprocessing, run by infer.
const spec = beatPreprocessing(${JSON.stringify(PREPROCESSING)});
const ds = syntheticBeatDataset({ records: 1, seconds: 20, seed: 3, preprocessing: spec });
const model = createModel(${JSON.stringify(STUDENT)}, { generator: new Generator(${SEED}) });
model.eval();
const bytes = saveModel(exportClassifier(model, spec, { classes: ds.classes, name: 'packed student' }));
writeFileSync('student.ecgnn', bytes);
const loaded = loadModel(bytes);
const agreement = compareWithInfer(loaded, ds, evaluate(model, ds).predictions.probs);
const probs = loaded.predict({ window: record.signals[0].subarray(0, 64), rr: new Float32Array([1, 1, 1, 1]) });
let exportError = 'none';
try {
  exportClassifier(model, spec, { classes: ['N'] });
} catch (err) {
  exportError = err instanceof ExportError ? err.name : String(err);
}
const info = await inspectModel('student.ecgnn');
console.log(JSON.stringify({
  truth,
  qrs,
  aami: aamiClass('V'),
  agreement: agreement.agreement,
  maxAbsProbDiff: agreement.maxAbsProbDiff,
  probs: Array.from(probs),
  top: topLabel(loaded, probs).label,
  exportError,
  version: VERSION,
  layers: info.layers.map((l) => l.op),
}));
`;

describe('installed into a fresh folder', () => {
  it('Node: every package from the installed copies, across packages; the model bytes equal the workspace’s', (ctx) => {
    if (packed.skip) ctx.skip();
    writeFileSync(join(packed.app, 'check-all.mjs'), SCRIPT);
    const got = JSON.parse(run('node', ['check-all.mjs'], packed.app));
    expect(got.qrs).toHaveLength(got.truth.length);
    for (const [i, q] of (got.qrs as number[]).entries()) {
      expect(Math.abs(q - got.truth[i]), `beat ${i}`).toBeLessThanOrEqual(3);
    }
    expect(got.aami).toBe('V');
    expect(got.agreement).toBe(1);
    expect(got.maxAbsProbDiff).toBeLessThan(1e-5);
    expect(got.probs).toHaveLength(STUDENT.classes);
    expect(got.probs.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    expect(got.exportError).toBe('ExportError');
    expect(got.version).toBe(VERSION);
    // The same model from the workspace sources: the installed packages run the same code.
    const spec = beatPreprocessing(PREPROCESSING);
    const ds = syntheticBeatDataset({ records: 1, seconds: 20, seed: 3, preprocessing: spec });
    expect(got.top).toBeOneOf(ds.classes);
    const model = createModel(STUDENT, { generator: new Generator(SEED) });
    model.eval();
    const bytes = saveModel(exportClassifier(model, spec, { classes: ds.classes, name: 'packed student' }));
    expect(new Uint8Array(readFileSync(join(packed.app, 'student.ecgnn')))).toEqual(bytes);
    const nodes = readModel(bytes).header.graph.nodes;
    expect(got.layers).toEqual(nodes.map((n) => n.op));
  });

  it('the installed `ecgnn` binary: --help, --version, inspect <model file> prints its layers', (ctx) => {
    if (packed.skip) ctx.skip();
    const ecgnn = join(packed.app, 'node_modules', '.bin', 'ecgnn');
    const help = run(ecgnn, ['--help'], packed.app);
    expect(help).toMatch(/^Usage: ecgnn /);
    for (const command of ['data', 'inspect', 'classify', 'train', 'export']) expect(help).toContain(command);
    expect(run(ecgnn, ['--version'], packed.app).trim()).toBe(VERSION);
    const bytes = readFileSync(join(packed.app, 'student.ecgnn'));
    const out = run(ecgnn, ['inspect', 'student.ecgnn'], packed.app);
    expect(out).toContain(`student.ecgnn: ${bytes.length} bytes, format version 2, model "packed student"`);
    const nodes = readModel(new Uint8Array(bytes)).header.graph.nodes;
    // One table row per layer: index, op, output name.
    for (const [i, n] of nodes.entries()) {
      expect(out).toMatch(new RegExp(`^\\s*${i}\\s+${n.op}\\s+${n.outputs[0]}\\s`, 'm'));
    }
  });

  // One file using every package's public types (a wrong use must fail: the types are not `any`).
  const LIBRARIES_TS = `import { Generator, type Tensor } from '${CORE}';
import { type AamiClass, aamiClass, type BeatSet } from '${DATA}';
import { parseHeader, type WfdbHeader } from '${DATA}/formats';
import { detectQrs, type QrsOptions } from '${DSP}';
import { ExportError, type ExportedModel } from '${EXPORT}';
import { loadModel, type Model } from '${INFER}';
import { createModel, type EcgClassifier, type StudentConfig } from '${MODELS}';
import { beatPreprocessing, type Dataset, exportClassifier } from '${TRAIN}';

const header: WfdbHeader = parseHeader('t 1 360 10\\nt.dat 212 200 11 0 0 0 0 MLII\\n');
const options: QrsOptions = {};
const beats: Int32Array = detectQrs(new Float32Array(3600), header.fs, options);
const aami: AamiClass | null = aamiClass('N');
const config: StudentConfig = ${JSON.stringify(STUDENT)};
const model: EcgClassifier = createModel(config, { generator: new Generator(1) });
const classes = ['N', 'S', 'V', 'F', 'Q'];
const exported: ExportedModel = exportClassifier(model, beatPreprocessing({ length: 64 }), { classes });
declare const bytes: Uint8Array;
const loaded: Model = loadModel(bytes);
declare const ds: Dataset;
declare const beatSet: BeatSet;
declare const t: Tensor;
const err: Error = new ExportError('x');
// @ts-expect-error: detectQrs returns sample indices, not a signal
const wrong: Float32Array = detectQrs(new Float32Array(3600), 360);
export { beats, aami, exported, loaded, ds, beatSet, t, err, wrong };
`;
  const ALL_TS = `${LIBRARIES_TS}import { type CliIo, type ModelInfo, run } from '${CLI}';

async function inspect(io: CliIo): Promise<number> {
  return run(['inspect', 'm.ecgnn'], io);
}
declare const info: ModelInfo;
// @ts-expect-error: layers are objects, not op names
const op: string = info.layers[0];
export { inspect, op };
`;
  // Each run parses every package's declarations (and @types/node): ~5-7 s of CPU. node10 checks the libraries
  // with no ambient types at all (the subpath @ecgnn/data/formats through typesVersions); node16 and bundler
  // check every package, the CLI included, whose types name Node streams (hence @types/node).
  for (const [name, options] of RESOLUTIONS) {
    const all = name !== 'node10';
    const what = all
      ? "every package's types (with @types/node)"
      : 'the libraries (all but the CLI), no ambient types';
    it(`tsc --noEmit of ${what}, moduleResolution ${name}, no skipLibCheck`, async (ctx) => {
      if (packed.skip) ctx.skip();
      await typecheckConsumer(
        packed.app,
        `consumer-${name}`,
        all ? ALL_TS : LIBRARIES_TS,
        options,
        all ? ['node'] : [],
      );
    });
  }
});
