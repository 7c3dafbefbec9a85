// `ecgnn export` (checkpoint → model file / ONNX) and `ecgnn eval` (a beat model file on a split of MIT-BIH
// beats; segment models in eval-segments.test.ts).
// The exported file must be @ecgnn/train's exportClassifier/exportBnn of the same weights; eval's figures must
// be those computed here from the same beats by a separate path (run when MIT-BIH is present, fail when CI=true
// and absent).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator } from '@ecgnn/core';
import { AAMI_CLASSES, FRAGMENT17_CLASSES } from '@ecgnn/data';
import { modelToOnnx } from '@ecgnn/export';
import { loadModel, saveModel } from '@ecgnn/infer';
import { writeModelFile } from '@ecgnn/infer/node';
import { type BinaryEcgNet, createModel, type EcgClassifier } from '@ecgnn/models';
import {
  beatPreprocessing,
  beatPreprocessingOf,
  captureCheckpoint,
  classificationMetrics,
  exportClassifier,
  loadBeatDataset,
  saveCheckpoint,
  syntheticBeatDataset,
} from '@ecgnn/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { beatModelSpec, cli, runDataTests } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const studentConfig = {
  kind: 'student',
  length: 126,
  rrFeatures: 4,
  classes: 5,
  channels: [4, 8],
  kernels: [5, 3],
};
const student = createModel(studentConfig as never, { generator: new Generator(5) });
student.eval();
const studentCkpt = join(tmp, 'student.ckpt');
const bnnCkpt = join(tmp, 'bnn.ckpt');
const beatModel = join(tmp, 'beat.ecgnn');

beforeAll(async () => {
  saveCheckpoint(studentCkpt, captureCheckpoint({ model: student }, { epoch: 3, batch: 0, step: 42 }));
  const bnn = createModel({ kind: 'bnn', classes: 17 }, { generator: new Generator(6) }) as BinaryEcgNet;
  bnn.eval();
  saveCheckpoint(bnnCkpt, captureCheckpoint({ model: bnn }, { epoch: 1, batch: 0, step: 9 }));
  await writeModelFile(beatModel, beatModelSpec(8));
});

describe('ecgnn export', () => {
  it('a student checkpoint → the model file exportClassifier writes for its weights (main job’s beat input)', async () => {
    const out = join(tmp, 'student.ecgnn');
    const r = await cli('export', studentCkpt, '--out', out, '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(JSON.parse(r.out)).toMatchObject({
      out,
      format: 'ecgnn',
      kind: 'student',
      classes: [...AAMI_CLASSES],
    });
    const expected = saveModel(
      exportClassifier(student as EcgClassifier, beatPreprocessing(), {
        classes: [...AAMI_CLASSES],
        name: 'student',
        storage: 'float32',
        provenance: { checkpoint: studentCkpt, step: 42 },
      }),
    );
    const written = readFileSync(out);
    expect(Buffer.compare(written, Buffer.from(expected))).toBe(0);
    const m = loadModel(new Uint8Array(written));
    expect(m.metadata.windowing).toEqual({ mode: 'beat', before: 45 });
    expect(m.inputs.map((i) => i.source.kind)).toEqual(['window', 'rr']);
    // The same beats through core and through the exported file.
    const ds = syntheticBeatDataset({ records: 1, seconds: 20, seed: 2, preprocessing: beatPreprocessing() });
    const probs = m.predict({ window: ds.inputs[0].data, rr: ds.inputs[1].data });
    expect(probs.length).toBe(ds.count * 5);
  });

  it('--format onnx writes the ONNX graph of the same model', async () => {
    const out = join(tmp, 'student.onnx');
    const r = await cli('export', studentCkpt, '--out', out, '--format', 'onnx');
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(r.out).toContain('ONNX (opset 13)');
    const ecgnn = readFileSync(join(tmp, 'student.ecgnn'));
    expect(Buffer.compare(readFileSync(out), Buffer.from(modelToOnnx(new Uint8Array(ecgnn))))).toBe(0);
  });

  it('a binary-network checkpoint → bit-packed fragment model (10 s at 360 Hz, the 17 classes)', async () => {
    const out = join(tmp, 'bnn.ecgnn');
    const r = await cli('export', bnnCkpt, '--out', out);
    expect(r.code, r.err).toBe(EXIT_OK);
    const m = loadModel(new Uint8Array(readFileSync(out)));
    expect(m.metadata.classes).toEqual([...FRAGMENT17_CLASSES]);
    expect(m.metadata.windowing.mode).toBe('segment');
    expect(m.metadata.input).toEqual({ channels: 1, length: 3600, sampleRate: 360 });
  });

  it('errors: usage (2) for bad flags; data/model errors (1) naming what is wrong', async () => {
    const usage = [
      ['export', studentCkpt],
      ['export', studentCkpt, '--out', join(tmp, 'x'), '--format', 'pdf'],
      ['export', studentCkpt, '--out', join(tmp, 'x'), '--before', '-3'],
    ];
    for (const argv of usage) expect((await cli(...argv)).code, argv.join(' ')).toBe(EXIT_USAGE);
    const missing = await cli('export', join(tmp, 'none.ckpt'), '--out', join(tmp, 'x'));
    expect(missing.code).toBe(EXIT_FAILURE);
    expect(missing.err).toContain(join(tmp, 'none.ckpt'));
    const junk = join(tmp, 'junk.ckpt');
    writeFileSync(junk, 'not a checkpoint');
    const bad = await cli('export', junk, '--out', join(tmp, 'x'));
    expect(bad.code).toBe(EXIT_FAILURE);
    expect(bad.err).not.toContain('    at ');
    const wrong = await cli('export', studentCkpt, '--out', join(tmp, 'x'), '--before', '200');
    expect(wrong.code).toBe(EXIT_FAILURE);
    expect(wrong.err).toContain('before');
    const three = join(tmp, 'three.ckpt');
    const m3 = createModel({ ...studentConfig, classes: 3 } as never, { generator: new Generator(1) });
    saveCheckpoint(three, captureCheckpoint({ model: m3 }, { epoch: 0, batch: 0, step: 0 }));
    const noNames = await cli('export', three, '--out', join(tmp, 'x'));
    expect(noNames.code).toBe(EXIT_FAILURE);
    expect(noNames.err).toContain('--classes');
    expect(existsSync(join(tmp, 'x'))).toBe(false);
    const named = await cli('export', three, '--out', join(tmp, 'three.ecgnn'), '--classes', 'N,S,V');
    expect(named.code, named.err).toBe(EXIT_OK);
  });
});

describe('ecgnn eval: arguments', () => {
  it('--split is required and must be a split name or records (usage errors, exit 2)', async () => {
    expect((await cli('eval', beatModel)).code).toBe(EXIT_USAGE);
    const r = await cli('eval', beatModel, '--split', 'holdout');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain('train, validation, test, ds1, ds2, all');
  });

  it('a segment model takes its experiment’s splits only: --split ds2 is refused (exit 1) saying why', async () => {
    const r = await cli('eval', join(tmp, 'bnn.ecgnn'), '--split', 'ds2');
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain('a segment model is evaluated on the splits of the experiment that trained it');
  });
});

describe.runIf(runDataTests)('ecgnn eval on MIT-BIH', () => {
  it('record 100, every 4th beat: the figures of the model’s predictions on the same beats', async () => {
    const r = await cli('eval', beatModel, '--split', '100', '--every', '4', '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    const res = JSON.parse(r.out) as {
      beats: number;
      accuracy: number;
      macroF1: number;
      perClass: Record<string, { se: number | null; ppv: number | null }>;
      confusion: { classes: string[]; matrix: number[][] };
      skipped: Record<string, number>;
    };
    // Separately: the beats cut for the model, its one input passed as a plain array, argmax, N/S/V only.
    const model = loadModel(new Uint8Array(readFileSync(beatModel)));
    const ds = loadBeatDataset(['100'], { preprocessing: beatPreprocessingOf(model), every: 4 });
    const probs = model.predict(ds.inputs[0].data);
    const truth: number[] = [];
    const pred: number[] = [];
    for (let i = 0; i < ds.count; i++) {
      const t = ['N', 'S', 'V'].indexOf(ds.classes[ds.label[i]]);
      if (t < 0) continue;
      const p = Array.from(probs.subarray(3 * i, 3 * i + 3));
      truth.push(t);
      pred.push(p.indexOf(Math.max(...p)));
    }
    const m = classificationMetrics(truth, pred, ['N', 'S', 'V']);
    expect(res.beats).toBe(truth.length);
    expect(res.beats + Object.values(res.skipped).reduce((a, b) => a + b, 0)).toBe(ds.count);
    expect(res.confusion).toEqual({ classes: ['N', 'S', 'V'], matrix: m.confusion });
    expect(res.accuracy).toBeCloseTo(m.accuracy, 12);
    expect(res.macroF1).toBeCloseTo(m.macroF1, 12);
    expect(res.perClass.N.se).toBeCloseTo(m.perClass.N.se!, 12);
  });

  it('text output: accuracy, macro-F1, per-class Se/+P and the confusion matrix', async () => {
    const r = await cli('eval', join(tmp, 'student.ecgnn'), '--split', '101,103', '--every', '8');
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(r.out).toContain('on records 101,103:');
    expect(r.out).toMatch(/class\s+Se %\s+\+P %/);
    expect(r.out).toMatch(/accuracy [\d.]+ %\s+macro-F1 [\d.]+ %/);
    expect(r.out).toMatch(/true\\pred\s+N\s+S\s+V\s+F\s+Q/);
  });
});
