/**
 * `ecgnn eval` on segment models: model files whose windows are 10-s segments, as the binary-network experiment
 * (method 5, `bnn`) and the multi-scale attention experiment (method 4, `multiscale`) export them. The kind is
 * read from the file's header (classes, output activation, windowing, input, preprocessing), the windows are
 * made by the experiment's own data builder (@ecgnn/train's `loadBnnData` / `loadMultiScaleData`, with the
 * experiment's settings and the split seed `--seed`), so `--split train|validation|test` are the experiment's
 * splits. Metrics: softmax models as the experiment's rows (@ecgnn/train's `classificationMetrics` and
 * `resultsMetrics`: macro-F1 over N, S, V, F for the 5 AAMI classes, over every class with items for 17);
 * the multi-label model at the per-label thresholds stored in its provenance (`multiLabelMetrics`,
 * `multiScaleRowMetrics`). Also the chunked prediction both eval paths share; the command itself is in eval.ts.
 */
import { AAMI_CLASSES, FRAGMENT17_CLASSES } from '@ecgnn/data';
import type { Model } from '@ecgnn/infer';
import {
  BNN_RUN_DEFAULTS,
  BNN_SMOKE,
  type BnnProtocol,
  classificationMetrics,
  type Dataset,
  type DatasetPreprocessing,
  INPUT_NAMES,
  itemSize,
  loadBnnData,
  loadMultiScaleData,
  type Metrics,
  MULTILABEL_LABELS,
  MULTISCALE_RUN_DEFAULTS,
  MULTISCALE_SMOKE,
  modelIO,
  multiLabelMetrics,
  multiScaleRowMetrics,
  resultsMetrics,
} from '@ecgnn/train';
import { CliError } from '../io.js';

/** The splits of a segment model: the experiment's training, validation and test parts. */
export const SEGMENT_SPLITS = ['train', 'validation', 'test'] as const;

/** What `eval` supports besides beat models, in words (the refusal of an unknown model file lists it). */
export const SUPPORTED_SEGMENT_MODELS =
  'beat models (windowing beat); 17-class mitbih17 fragments (softmax over NSR … PR; bnn at 360 Hz or multiscale at its rate); ' +
  `5-class AAMI fragments of mitdb (softmax over ${AAMI_CLASSES.join(',')}; bnn, 360 Hz); ` +
  `multi-label 10-s mitdb windows (sigmoid over ${MULTILABEL_LABELS.join(' ')}; multiscale)`;

/** A segment model's window set, as recognised from its header. */
export interface SegmentKind {
  /** The experiment whose data builder makes the windows. */
  experiment: 'bnn' | 'multiscale';
  /** The window set: the 17-class fragments, the 5-class AAMI fragments, or the multi-label MIT-BIH windows. */
  dataset: 'mitbih17' | 'mitdb-fragments5' | 'mitdb';
  /** Whether the outputs are independent labels (sigmoid) rather than one class (softmax). */
  multiLabel: boolean;
  /** The split protocols the set has, the experiment's default first. */
  protocols: readonly BnnProtocol[];
  /** How the kind was recognised, in words. */
  reason: string;
}

const same = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The header of `model` in words: classes, output, windowing, input and graph inputs. */
export function describeModel(model: Model): string {
  const m = model.metadata;
  const w = m.windowing.mode === 'beat' ? `before ${m.windowing.before}` : `hop ${m.windowing.hop}`;
  const inputs = model.inputs.map((i) => `${i.name} (${i.source.kind})`).join(', ');
  return (
    `${m.classes.length} classes ${m.classes.join(',')}, ${m.outputActivation} output, ${m.windowing.mode} windows (${w}) of ` +
    `${m.input.channels}×${m.input.length} samples at ${m.input.sampleRate} Hz, inputs ${inputs}`
  );
}

/**
 * The window set of segment model `model` (see {@link SegmentKind}), from its classes and output activation;
 * `provenance.method` picks the experiment of the 17-class set (else: bnn at 360 Hz, multiscale otherwise).
 * Throws a CliError naming what was found and what is supported when it fits none.
 */
export function segmentKindOf(model: Model): SegmentKind {
  const m = model.metadata;
  const unknown = (why: string): never => {
    throw new CliError(
      `not a model of a known window set (${why}): found ${describeModel(model)}; ecgnn eval supports ${SUPPORTED_SEGMENT_MODELS}`,
    );
  };
  if (model.inputs.length !== 1 || model.inputs[0].source.kind !== 'window' || m.input.channels !== 1)
    unknown('a segment model takes one single-lead window input');
  const method = m.provenance.method;
  if (same(m.classes, FRAGMENT17_CLASSES) && m.outputActivation === 'softmax') {
    const known = method === 'bnn' || method === 'multiscale';
    const experiment = known ? method : m.input.sampleRate === 360 ? 'bnn' : 'multiscale';
    return {
      experiment,
      dataset: 'mitbih17',
      multiLabel: false,
      protocols: ['stratified'],
      reason: `the 17 classes of mitbih17; ${experiment} by ${known ? "the file's provenance" : `its ${m.input.sampleRate} Hz input (no method in the provenance)`}`,
    };
  }
  if (same(m.classes, AAMI_CLASSES) && m.outputActivation === 'softmax')
    return {
      experiment: 'bnn',
      dataset: 'mitdb-fragments5',
      multiLabel: false,
      protocols: ['stratified', 'patient'],
      reason: 'the 5 AAMI classes on segments: the binary-network experiment’s mitdb fragments',
    };
  if (same(m.classes, MULTILABEL_LABELS) && m.outputActivation === 'sigmoid')
    return {
      experiment: 'multiscale',
      dataset: 'mitdb',
      multiLabel: true,
      protocols: ['patient'],
      reason: 'sigmoid outputs over the multi-label windows’ labels',
    };
  return unknown('its classes and output activation match none');
}

/** The protocol of a run and where it came from. */
export interface ProtocolChoice {
  /** Split protocol. */
  protocol: BnnProtocol;
  /** Where it came from: the option, the file's provenance, or the set's only/default protocol. */
  from: string;
}

/**
 * The split protocol: `option` when given (a CliError when the set has no such split), else the one the file's
 * `provenance.protocol` names (results-row labels `stratified …` / `inter-patient …`), else the set's default.
 */
export function protocolOf(kind: SegmentKind, model: Model, option?: string): ProtocolChoice {
  if (option !== undefined) {
    if (!(kind.protocols as readonly string[]).includes(option))
      throw new CliError(
        `the ${kind.dataset} windows have no ${option} split (only ${kind.protocols.join(' or ')})`,
      );
    return { protocol: option as BnnProtocol, from: '--protocol' };
  }
  const label = model.metadata.provenance.protocol;
  const named: BnnProtocol | null =
    typeof label !== 'string'
      ? null
      : label.startsWith('stratified')
        ? 'stratified'
        : label.startsWith('inter-patient')
          ? 'patient'
          : null;
  if (named !== null && kind.protocols.includes(named))
    return { protocol: named, from: "the model file's provenance" };
  return {
    protocol: kind.protocols[0],
    from:
      kind.protocols.length === 1
        ? 'the only split of this set'
        : "the experiment's default (the file names no protocol)",
  };
}

/** Options of {@link loadSegmentSplit}. */
export interface SegmentSplitOptions {
  /** Which split. */
  split: (typeof SEGMENT_SPLITS)[number];
  /** Seed of the split (the experiments' `splitSeed`). */
  seed: number;
  /** Split protocol. */
  protocol: BnnProtocol;
  /** The experiment's smoke settings (a subset) instead of the full run's. */
  smoke: boolean;
  /** Keep every n-th item of each class / record before splitting (default: the settings'). */
  every?: number;
  /** Directory holding mitdb/ and mitbih17/. */
  dataDir: string;
}

/** The items of one split of a segment model's experiment, and the split in words. */
export interface SegmentSplit {
  /** The items. */
  dataset: Dataset;
  /** The experiment's description of the split (fractions, seed, records, subset). */
  splitDescription: string;
  /** Keep-every-n of the settings used. */
  every: number;
}

/**
 * One split of the experiment that made `model` (`kind`), built by the experiment's own loader with its
 * settings (smoke or full), the split seed and `every` replaced; the multiscale sampling rate is the model's.
 */
export function loadSegmentSplit(model: Model, kind: SegmentKind, o: SegmentSplitOptions): SegmentSplit {
  let data: ReturnType<typeof loadBnnData> | ReturnType<typeof loadMultiScaleData>;
  let every: number;
  if (kind.experiment === 'bnn') {
    const base = o.smoke ? BNN_SMOKE : BNN_RUN_DEFAULTS;
    every = o.every ?? base.every;
    const classes = kind.dataset === 'mitbih17' ? 17 : 5;
    data = loadBnnData(
      classes,
      o.protocol,
      { ...base, splitSeed: o.seed, every },
      { dataDir: o.dataDir, smoke: o.smoke },
    );
  } else {
    const base = o.smoke ? MULTISCALE_SMOKE : MULTISCALE_RUN_DEFAULTS;
    every = o.every ?? base.every;
    const settings = { ...base, splitSeed: o.seed, every, sampleRate: model.metadata.input.sampleRate };
    data = loadMultiScaleData(kind.dataset === 'mitdb' ? 'mitdb' : 'mitbih17', settings, {
      dataDir: o.dataDir,
      smoke: o.smoke,
    });
  }
  const dataset =
    o.split === 'train' ? data.train : o.split === 'validation' ? data.validation : data.loadTest();
  return { dataset, splitDescription: data.splitDescription, every };
}

/**
 * Where the model's input description differs from the windows of `ds` (@ecgnn/train's `modelIO` of the
 * data's preprocessing): input size and rate, windowing hop, filters, normalisation. Header fields left out
 * take infer's defaults (no baseline removal, no band-pass, z-score with ε 1e-8). Empty when they agree.
 */
export function inputMismatches(model: Model, ds: Dataset): string[] {
  const io = modelIO(ds.preprocessing as DatasetPreprocessing);
  const m = model.metadata;
  const p = m.preprocessing;
  const pairs: [string, unknown, unknown][] = [
    ['input length', m.input.length, io.input.length],
    ['sampling rate (Hz)', m.input.sampleRate, io.input.sampleRate],
    ['windowing', JSON.stringify(m.windowing), JSON.stringify(io.windowing)],
    ['baseline removal', p.removeBaseline ?? false, io.preprocessing.removeBaseline ?? false],
    ['band-pass', JSON.stringify(p.bandpass ?? null), JSON.stringify(io.preprocessing.bandpass ?? null)],
    ['normalisation', p.normalize ?? 'zscore', io.preprocessing.normalize ?? 'zscore'],
    ['z-score ε', p.zscoreEps ?? 1e-8, io.preprocessing.zscoreEps ?? 1e-8],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([what, a, b]) => `${what}: model ${a}, data ${b}`);
}

/** The dataset's inputs as the model takes them: each model input by its source (window or RR features). */
function modelInputs(model: Model, ds: Dataset, from: number, to: number): Record<string, Float32Array> {
  const byName = new Map(ds.inputs.map((i) => [i.name, i]));
  return Object.fromEntries(
    model.inputs.map((mi) => {
      const di = byName.get(mi.source.kind === 'rr' ? INPUT_NAMES.rr : INPUT_NAMES.window);
      if (!di) throw new CliError(`the items have no input for model input '${mi.name}'`);
      const n = itemSize(di);
      return [mi.name, di.data.subarray(from * n, to * n)];
    }),
  );
}

/** Items per `predict` call (bounds the memory of one batch). */
const CHUNK = 2048;

/** The model's outputs on every item of `ds`, row-major `[count, classes]`, in chunks of {@link CHUNK}. */
export function predictInChunks(model: Model, ds: Dataset): Float32Array {
  const K = model.metadata.classes.length;
  const out = new Float32Array(ds.count * K);
  for (let from = 0; from < ds.count; from += CHUNK) {
    const to = Math.min(ds.count, from + CHUNK);
    out.set(model.predict(modelInputs(model, ds, from, to)), from * K);
  }
  return out;
}

/** Per-class Se, +P, F1 and support of `m` (the JSON output's `perClass`). */
export function perClassOf(
  m: Metrics,
): Record<string, { se: number | null; ppv: number | null; f1: number | null; support: number }> {
  return Object.fromEntries(
    m.classes.map((c) => {
      const r = m.perClass[c];
      return [c, { se: r.se, ppv: r.ppv, f1: r.f1, support: r.support }];
    }),
  );
}

/** Thresholds of a multi-label model and where they came from. */
export interface ThresholdChoice {
  /** One threshold per output. */
  values: number[];
  /** In words: the model file's, or 0.5 for the labels it stores none for. */
  from: string;
}

/** The per-label thresholds stored in the model's `provenance.thresholds` (by label name); 0.5 where absent. */
export function thresholdsOf(model: Model): ThresholdChoice {
  const stored = model.metadata.provenance.thresholds;
  const byName = stored !== null && typeof stored === 'object' ? (stored as Record<string, unknown>) : {};
  const missing: string[] = [];
  const values = model.metadata.classes.map((c) => {
    const t = byName[c];
    if (typeof t === 'number' && Number.isFinite(t)) return t;
    missing.push(c);
    return 0.5;
  });
  const from =
    missing.length === 0
      ? "the model file's (chosen on validation by the experiment)"
      : missing.length === values.length
        ? '0.5 for every label (the model file stores no thresholds)'
        : `the model file's; 0.5 for ${missing.join(' ')} (not stored)`;
  return { values, from };
}

/** The figures of a segment model on a split: the experiment's results-row metrics and the details. */
export type SegmentFigures =
  | {
      multiLabel: false;
      /** Accuracy, per-class figures and confusion matrix. */
      metrics: Metrics;
      /** The results-row metrics (macro-F1 over the experiment's classes). */
      row: ReturnType<typeof resultsMetrics>;
    }
  | {
      multiLabel: true;
      /** The multiscale experiment's row metrics (exact match as accuracy, per-label figures, micro-F1). */
      row: ReturnType<typeof multiScaleRowMetrics>;
      /** Where the thresholds came from. */
      thresholdsFrom: string;
    };

/**
 * Evaluates a segment model on `ds` through @ecgnn/infer: softmax — argmax against the items' classes (every
 * class of the items must be a model class); sigmoid — each label present when p ≥ its threshold.
 */
export function evaluateSegments(model: Model, kind: SegmentKind, ds: Dataset): SegmentFigures {
  const classes = model.metadata.classes;
  const K = classes.length;
  const probs = predictInChunks(model, ds);
  if (kind.multiLabel) {
    if (ds.targets === undefined || !same(ds.targetNames ?? [], classes))
      throw new CliError(
        `the windows' labels (${(ds.targetNames ?? []).join(' ')}) are not the model's (${classes.join(' ')})`,
      );
    const t = thresholdsOf(model);
    const m = multiLabelMetrics(probs, ds.targets, classes, t.values);
    return {
      multiLabel: true,
      row: multiScaleRowMetrics({ metrics: null, multiLabel: m }),
      thresholdsFrom: t.from,
    };
  }
  const toModel = ds.classes.map((c) => classes.indexOf(c));
  const lacking = ds.classes.filter((_, i) => toModel[i] < 0);
  if (lacking.length > 0)
    throw new CliError(`the model has no output for class ${lacking.join(', ')} of the items`);
  const truth = new Int32Array(ds.count);
  const pred = new Int32Array(ds.count);
  for (let i = 0; i < ds.count; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs[i * K + k] > probs[i * K + best]) best = k;
    truth[i] = toModel[ds.label[i]];
    pred[i] = best;
  }
  const metrics = classificationMetrics(truth, pred, classes);
  // The experiments' rows: 5 AAMI classes → macro-F1 over N, S, V, F; 17 classes → over every class with items.
  const row = resultsMetrics(metrics, kind.dataset === 'mitdb-fragments5' ? 'subset' : 'all');
  return { multiLabel: false, metrics, row };
}
