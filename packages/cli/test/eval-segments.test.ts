// `ecgnn eval` on segment models (issue #28): the binary network on the 17-class fragments and on the 5-class
// AAMI fragments (patient-wise), and the multi-scale network's multi-label model. Each model is trained for two
// steps here, exported as its experiment exports it, and eval's figures on a split must equal those computed
// here from @ecgnn/infer's predictions on the same split, built by the experiment's own loader. Model files of
// no known window set are refused naming what was found. Data tests run when the data is present (fail when
// CI=true and absent).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, type nn, optim } from '@ecgnn/core';
import { AAMI_CLASSES, databaseDir, FRAGMENT17_CLASSES } from '@ecgnn/data';
import { loadModel, type ModelSpec, saveModel } from '@ecgnn/infer';
import { writeModelFile } from '@ecgnn/infer/node';
import { type BinaryEcgNet, createModel, type EcgClassifier } from '@ecgnn/models';
import {
  BNN_RUN_DEFAULTS,
  BNN_SMOKE,
  bnnVariantConfig,
  classificationMetrics,
  DataLoader,
  type Dataset,
  defaultLoss,
  exportBnn,
  exportClassifier,
  forwardBatch,
  fragmentPreprocessing,
  loadBnnData,
  loadMultiScaleData,
  MULTILABEL_LABELS,
  MULTISCALE_SMOKE,
  multiLabelMetrics,
  multiScaleNetworkConfig,
  selectThresholds,
  splitProvenance,
} from '@ecgnn/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { beatModelSpec, cli, runDataTests } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-eval-seg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The 17-class fragment set present (or CI, where its absence must fail). */
const runFragmentTests = existsSync(join(databaseDir('mitbih17'), 'index.csv')) || process.env.CI === 'true';

/** Two Adam steps (lr 0.01) on shuffled batches of 16 training items; the model is left in eval mode. */
function trainTwoSteps(model: nn.AnyModule, ds: Dataset, seed: number): void {
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  const loader = new DataLoader(ds, { batchSize: 16, sampler: { kind: 'shuffled' }, seed });
  model.train();
  let steps = 0;
  for (const batch of loader.epoch(0)) {
    if (steps++ === 2) break;
    opt.zeroGrad();
    defaultLoss(forwardBatch(model, batch), batch).backward();
    opt.step();
  }
  model.eval();
}

/** The model file's predictions on `ds` (one window input), argmax, and the metrics over the model's classes. */
function inferFigures(bytes: Uint8Array, ds: Dataset) {
  const m = loadModel(bytes);
  const classes = m.metadata.classes;
  const K = classes.length;
  const probs = m.predict({ window: ds.inputs[0].data });
  const pred = Array.from({ length: ds.count }, (_, i) => {
    const row = Array.from(probs.subarray(i * K, (i + 1) * K));
    return row.indexOf(Math.max(...row));
  });
  const truth = Array.from(ds.label, (l) => classes.indexOf(ds.classes[l]));
  return classificationMetrics(truth, pred, classes);
}

interface SoftmaxResult {
  items: number;
  protocol: string;
  protocolFrom: string;
  accuracy: number;
  macroF1: number;
  macroF1Classes: string[];
  confusion: { classes: string[]; matrix: number[][] };
}

/**
 * A segment model spec: the beat test model's layers with one output per class of `classes`, segment windows
 * of 90 samples at 180 Hz.
 */
function segmentSpec(classes: string[]): ModelSpec {
  const spec = beatModelSpec(3);
  const g = new Generator(7);
  const fc = Float32Array.from({ length: 4 * classes.length }, () => g.random() - 0.5);
  return {
    ...spec,
    classes,
    windowing: { mode: 'segment', hop: 90 },
    tensors: [
      ...spec.tensors.filter((t) => t.name !== 'fc'),
      { name: 'fc', shape: [classes.length, 4], data: fc },
    ],
  };
}

describe('ecgnn eval: segment models, no data needed', () => {
  it('a file of no known window set is refused (exit 1) naming its classes, output and windows', async () => {
    const file = join(tmp, 'abc.ecgnn');
    await writeModelFile(file, segmentSpec(['A', 'B', 'C']));
    const r = await cli('eval', file, '--split', 'test');
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain('not a model of a known window set');
    expect(r.err).toContain(
      '3 classes A,B,C, softmax output, segment windows (hop 90) of 1×90 samples at 180 Hz',
    );
    expect(r.err).toContain('multi-label 10-s mitdb windows');
    expect(r.err).not.toContain('    at ');
  });

  it('splits and protocols the set does not have are refused; bad values are usage errors', async () => {
    const file = join(tmp, 'seg17.ecgnn');
    await writeModelFile(file, segmentSpec([...FRAGMENT17_CLASSES]));
    const ds2 = await cli('eval', file, '--split', 'ds2');
    expect(ds2.code).toBe(EXIT_FAILURE);
    expect(ds2.err).toContain('(--split train, validation, test), not ds2');
    const patient = await cli('eval', file, '--split', 'test', '--protocol', 'patient');
    expect(patient.code).toBe(EXIT_FAILURE);
    expect(patient.err).toContain('the mitbih17 windows have no patient split (only stratified)');
    expect((await cli('eval', file, '--split', 'test', '--protocol', 'random')).code).toBe(EXIT_USAGE);
    expect((await cli('eval', file, '--split', 'test', '--seed', '-1')).code).toBe(EXIT_USAGE);
    const beat = join(tmp, 'beat.ecgnn');
    await writeModelFile(beat, beatModelSpec(4));
    const smoke = await cli('eval', beat, '--split', 'test', '--smoke');
    expect(smoke.code).toBe(EXIT_FAILURE);
    expect(smoke.err).toContain('is a beat model');
  });
});

describe.runIf(runFragmentTests)('ecgnn eval: bnn on the 17-class fragments', () => {
  const file = join(tmp, 'bnn17.ecgnn');
  const recorded = join(tmp, 'bnn17-recorded.ecgnn');
  let data: ReturnType<typeof loadBnnData>;
  let bytes: Uint8Array;
  beforeAll(() => {
    data = loadBnnData(17, 'stratified', BNN_SMOKE);
    const model = createModel(bnnVariantConfig('binary', 17, 3600, BNN_SMOKE), {
      generator: new Generator(3),
    }) as BinaryEcgNet;
    trainTwoSteps(model, data.train, 3);
    const provenance = { method: 'bnn', dataset: 'mitbih17', protocol: data.protocol, seed: 3 };
    bytes = saveModel(
      exportBnn(model, fragmentPreprocessing(), { classes: [...FRAGMENT17_CLASSES], provenance }),
    );
    writeFileSync(file, bytes);
    // The same model with the split fields the experiments' exporters record (a smoke run).
    const withSplit = { ...provenance, ...splitProvenance(BNN_SMOKE, true) };
    writeFileSync(
      recorded,
      saveModel(
        exportBnn(model, fragmentPreprocessing(), {
          classes: [...FRAGMENT17_CLASSES],
          provenance: withSplit,
        }),
      ),
    );
  });

  it('--smoke --split validation: the figures of infer’s predictions on the smoke run’s validation split', async () => {
    const r = await cli('eval', file, '--split', 'validation', '--smoke', '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    const res = JSON.parse(r.out) as SoftmaxResult;
    const m = inferFigures(bytes, data.validation);
    expect(res.items).toBe(data.validation.count);
    expect(res).toMatchObject({ protocol: 'stratified', protocolFrom: "the model file's provenance" });
    expect(res.confusion).toEqual({ classes: [...FRAGMENT17_CLASSES], matrix: m.confusion });
    expect(res.accuracy).toBeCloseTo(m.accuracy, 12);
    // The bnn rows' macro-F1 for 17 classes: every class with items.
    expect(res.macroF1).toBeCloseTo(m.macroF1, 12);
    expect(res.macroF1Classes).toEqual(m.classes.filter((c) => m.perClass[c].support > 0));
  });

  it('text output; an input that is not the experiment’s windows is refused naming the difference', async () => {
    const r = await cli('eval', file, '--split', 'validation', '--smoke');
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(r.out).toContain('bnn, mitbih17 (the 17 classes of mitbih17; bnn by the file');
    expect(r.out).toMatch(/class\s+Se %\s+\+P %/);
    expect(r.out).toMatch(/macro-F1 over NSR, .*: [\d.]+ %/);
    expect(r.out).toMatch(/true\\pred\s+NSR\s+APB/);
    const short = join(tmp, 'short17.ecgnn');
    const spec = segmentSpec([...FRAGMENT17_CLASSES]);
    await writeModelFile(short, { ...spec, provenance: { method: 'bnn' } });
    const bad = await cli('eval', short, '--split', 'validation', '--smoke');
    expect(bad.code).toBe(EXIT_FAILURE);
    expect(bad.err).toContain('input length: model 90, data 3600');
  });

  it('a file recording its smoke split (as the exporters write it) needs no --smoke', async () => {
    const r = await cli('eval', recorded, '--split', 'validation', '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    expect(r.err).toContain("smoke settings, from the model file's provenance");
    const res = JSON.parse(r.out) as SoftmaxResult;
    expect(res.items).toBe(data.validation.count);
    expect(res.accuracy).toBeCloseTo(inferFigures(bytes, data.validation).accuracy, 12);
  });
});

describe.runIf(runDataTests)('ecgnn eval: bnn float twin on the 5-class AAMI fragments, patient-wise', () => {
  it('the protocol from the file; macro-F1 over N, S, V, F as the bnn rows', async () => {
    const settings = { ...BNN_RUN_DEFAULTS, every: 8 };
    const data = loadBnnData(5, 'patient', settings);
    const model = createModel(bnnVariantConfig('float', 5, 3600, settings), {
      generator: new Generator(4),
    }) as BinaryEcgNet;
    trainTwoSteps(model, data.train, 4);
    const bytes = saveModel(
      exportBnn(model, fragmentPreprocessing(), {
        classes: [...AAMI_CLASSES],
        provenance: { method: 'bnn', dataset: data.dataset, protocol: data.protocol },
      }),
    );
    const file = join(tmp, 'float5.ecgnn');
    writeFileSync(file, bytes);
    const r = await cli('eval', file, '--split', 'validation', '--every', '8', '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    const res = JSON.parse(r.out) as SoftmaxResult & { splitDescription: string };
    expect(res).toMatchObject({ protocol: 'patient', protocolFrom: "the model file's provenance" });
    expect(res.splitDescription).toBe(data.splitDescription);
    const m = inferFigures(bytes, data.validation);
    expect(res.items).toBe(data.validation.count);
    expect(res.confusion.matrix).toEqual(m.confusion);
    expect(res.accuracy).toBeCloseTo(m.accuracy, 12);
    expect(res.macroF1).toBeCloseTo(m.subsetMacroF1 as number, 12);
    expect(res.macroF1Classes).toEqual(['N', 'S', 'V', 'F'].filter((c) => m.perClass[c].f1 !== null));
  });
});

describe.runIf(runDataTests)('ecgnn eval: the multi-scale network’s multi-label model', () => {
  const settings = { ...MULTISCALE_SMOKE, every: 4 };
  let data: ReturnType<typeof loadMultiScaleData>;
  let exported: (provenance: Record<string, unknown>) => Uint8Array;
  let probs: Float32Array;
  let targets: Float32Array;
  let thresholds: Float64Array;
  beforeAll(() => {
    data = loadMultiScaleData('mitdb', settings, { smoke: true });
    const config = multiScaleNetworkConfig('lamscn', 1200, MULTILABEL_LABELS.length, settings);
    const model = createModel(config, { generator: new Generator(5) }) as EcgClassifier;
    trainTwoSteps(model, data.train, 5);
    const spec = fragmentPreprocessing({ sampleRate: 120, length: 1200 });
    exported = (provenance) =>
      saveModel(
        exportClassifier(model, spec, {
          classes: [...MULTILABEL_LABELS],
          outputActivation: 'sigmoid',
          provenance: { method: 'multiscale', dataset: 'mitdb', ...provenance },
        }),
      );
    probs = loadModel(exported({})).predict({ window: data.validation.inputs[0].data });
    targets = data.validation.targets as Float32Array;
    // The experiment's per-label thresholds: chosen on validation (here on the split evaluated, so they matter).
    thresholds = selectThresholds(probs, targets, MULTILABEL_LABELS.length);
  });

  it('per-label F1 at the thresholds stored in the file, macro/micro-F1 and exact match as the experiment', async () => {
    const file = join(tmp, 'lamscn-mitdb.ecgnn');
    const byName = Object.fromEntries(MULTILABEL_LABELS.map((n, j) => [n, thresholds[j]]));
    writeFileSync(file, exported({ thresholds: byName }));
    const r = await cli('eval', file, '--split', 'validation', '--smoke', '--every', '4', '--json');
    expect(r.code, r.err).toBe(EXIT_OK);
    const res = JSON.parse(r.out);
    const m = multiLabelMetrics(probs, targets, MULTILABEL_LABELS, thresholds);
    expect(res).toMatchObject({ multiLabel: true, protocol: 'patient', items: data.validation.count });
    expect(res.thresholdsFrom).toContain("the model file's");
    expect(res.macroF1).toBeCloseTo(m.macroF1, 12);
    expect(res.microF1).toBeCloseTo(m.microF1, 12);
    expect(res.exactMatch).toBeCloseTo(m.exactMatch, 12);
    for (const name of MULTILABEL_LABELS) {
      expect(res.perClass[name].support).toBe(m.perLabel[name].support);
      expect(res.perClass[name].f1 ?? null).toBe(m.perLabel[name].f1);
      expect(res.perClass[name].threshold).toBeCloseTo(thresholds[MULTILABEL_LABELS.indexOf(name)], 12);
    }
  });

  it('a file without thresholds: 0.5 for every label, said in the output', async () => {
    const file = join(tmp, 'lamscn-nothresholds.ecgnn');
    writeFileSync(file, exported({}));
    const r = await cli('eval', file, '--split', 'validation', '--smoke', '--every', '4');
    expect(r.code, r.err).toBe(EXIT_OK);
    const m = multiLabelMetrics(probs, targets, MULTILABEL_LABELS, 0.5);
    expect(r.out).toContain('thresholds: 0.5 for every label (the model file stores no thresholds)');
    expect(r.out).toMatch(/label\s+Se %\s+\+P %\s+F1 %\s+windows\s+threshold/);
    expect(r.out).toContain(`micro-F1 ${(100 * m.microF1).toFixed(1)} %`);
  });
});
