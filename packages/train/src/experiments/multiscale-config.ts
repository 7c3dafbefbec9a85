/**
 * Settings of the multi-scale attention experiment (method 4, LAMSCN): the two networks and their widths, the
 * optimiser and schedule, the data (label set, sampling rate, splits), and the smoke variant the tests run.
 * Every value here was fixed before any test-split figure was seen; the validation split chooses the epoch and
 * the per-label thresholds at run time.
 */
import type { MobileNetConfig, MultiScaleConfig } from '@ecgnn/models';
import type { ProgressMode } from '../progress.js';

/** The two networks of the experiment: the multi-scale attention network and its MobileNet-style baseline. */
export const MULTISCALE_NETWORKS = ['lamscn', 'mobilenet'] as const;
/** One of {@link MULTISCALE_NETWORKS}. */
export type MultiScaleNetwork = (typeof MULTISCALE_NETWORKS)[number];

/**
 * The data sets: `mitdb` — multi-label 10-s windows of MIT-BIH (every AAMI beat class and rhythm present),
 * patient-wise split; `mitbih17` — the 17-class fragment set (Plawiak 2018), single-label, stratified split.
 */
export const MULTISCALE_DATASETS = ['mitdb', 'mitbih17'] as const;
/** One of {@link MULTISCALE_DATASETS}. */
export type MultiScaleDataset = (typeof MULTISCALE_DATASETS)[number];

/**
 * Labels of the multi-label windows: AAMI beat classes (`N`, `S`, `V`, `F`; Q has 12 windows in DS1 + DS2) and
 * rhythms of the reference annotations, written `(N`, `(AFIB`, … as in MIT-BIH — the rhythms found in at least
 * two DS1 records and one DS2 record (counted from the annotations only; see docs/multiscale.md).
 */
export const MULTILABEL_LABELS: readonly string[] = [
  'N',
  'S',
  'V',
  'F',
  '(N',
  '(AFIB',
  '(B',
  '(T',
  '(VT',
  '(SVTA',
];

/** Widths of the two networks (the rest of each config comes from the data). */
export interface NetworkWidths {
  /** Multi-scale network fields (see `MultiScaleConfig` of @ecgnn/models). */
  lamscn: Omit<MultiScaleConfig, 'kind' | 'length' | 'rrFeatures' | 'classes'>;
  /** Baseline fields (see `MobileNetConfig`). */
  mobilenet: Omit<MobileNetConfig, 'kind' | 'length' | 'rrFeatures' | 'classes'>;
}

/** The fixed settings of a run (full or smoke). */
export interface MultiScaleSettings {
  /** Items per batch. */
  batchSize: number;
  /** Epochs per data set (an epoch = one pass over the training items in a fresh random order). */
  epochs: Record<MultiScaleDataset, number>;
  /** Adam learning rate at epoch 0. */
  lr: number;
  /** Cosine annealing of the learning rate over the epochs down to `lr · lrFinalFactor`. */
  lrFinalFactor: number;
  /** L2 weight decay of Adam (0 = none). */
  weightDecay: number;
  /**
   * Positive weights of the binary cross-entropy (multi-label only): `none`, or `balanced`:
   * pw_j = min(cap, N⁻_j / N⁺_j) from the training windows (1 for a label without positives).
   */
  posWeight: 'none' | 'balanced';
  /** Upper bound of the balanced positive weights. */
  posWeightCap: number;
  /** Sampling rate the 10-s windows are resampled to (Hz; 360 Hz → `sampleRate`). */
  sampleRate: number;
  /** Network widths. */
  widths: NetworkWidths;
  /** mitdb: DS1 records held out (patient-wise) for validation; DS2 is the test split. */
  validationRecords: number;
  /** mitbih17: fractions (train, validation, test) of the stratified split. */
  fractions: [number, number, number];
  /** Seed of the splits (fixed, so runs with different seeds share one test set). */
  splitSeed: number;
  /** Keep every `every`-th window of each record / fragment of each class (1 = all; smoke takes a subset). */
  every: number;
  /** mitdb: records used (null = DS1 for training/validation and DS2 for test; smoke: a few). */
  records: { trainValidation: string[]; test: string[] } | null;
  /** Single-item calls per timed run and timed runs of the batch-1 latency. */
  latency: { perRun: number; runs: number };
}

/** Widths of the full run: both networks share the stem (16 channels, kernel 7, stride 2, max-pool 4). */
export const MULTISCALE_WIDTHS: NetworkWidths = {
  lamscn: {
    stem: 16,
    stemKernel: 7,
    stemStride: 2,
    stemPool: 4,
    kernels: [3, 5, 9, 15],
    branchChannels: 4,
    stages: 3,
    layers: 2,
    compression: 0.5,
    pool: 2,
    reduction: 4,
    dropout: 0.2,
  },
  mobilenet: {
    stem: 16,
    stemKernel: 7,
    stemStride: 2,
    stemPool: 4,
    channels: [24, 48, 48, 96, 96],
    strides: [1, 1, 2, 1, 2],
    kernel: 9,
    dropout: 0.2,
  },
};

/** Settings of the full run. */
export const MULTISCALE_RUN_DEFAULTS: MultiScaleSettings = {
  batchSize: 32,
  epochs: { mitdb: 20, mitbih17: 60 },
  lr: 0.003,
  lrFinalFactor: 0.01,
  weightDecay: 0,
  posWeight: 'none',
  posWeightCap: 10,
  sampleRate: 120,
  widths: MULTISCALE_WIDTHS,
  validationRecords: 5,
  fractions: [0.7, 0.1, 0.2],
  splitSeed: 0,
  every: 1,
  records: null,
  latency: { perRun: 100, runs: 21 },
};

/**
 * Settings of the smoke run: mitdb on 6 DS1 records (4 train, 2 validation) and 2 DS2 test records, 1 in 2
 * windows; mitbih17 on 1 in 3 fragments of each class; a few epochs. Smoke figures are never results.
 */
export const MULTISCALE_SMOKE: MultiScaleSettings = {
  ...MULTISCALE_RUN_DEFAULTS,
  epochs: { mitdb: 4, mitbih17: 6 },
  validationRecords: 2,
  every: 2,
  records: { trainValidation: ['119', '203', '208', '209', '106', '223'], test: ['200', '233'] },
  latency: { perRun: 10, runs: 5 },
};

/** Options of {@link runMultiScaleExperiment} (experiments/multiscale.ts). */
export interface MultiScaleExperimentOptions {
  /** Directory holding `mitdb/` and `mitbih17/` (default: @ecgnn/data's `dataDir()`). */
  dataDir?: string;
  /** Output directory: checkpoints and logs per network, model files. */
  outDir: string;
  /** Data set (default mitdb). */
  dataset?: MultiScaleDataset;
  /** Seed of the initial weights, dropout and batch order. */
  seed: number;
  /** Which networks to train (default both). */
  networks?: readonly MultiScaleNetwork[];
  /** Smoke run (tests): {@link MULTISCALE_SMOKE}. */
  smoke?: boolean;
  /** Override the number of epochs (of the chosen data set). */
  epochs?: number;
  /** Continue from the checkpoints in `outDir` (finished networks are reloaded, a killed one resumed). */
  resume?: boolean;
  /** Settings replacing the defaults (the smoke flag picks {@link MULTISCALE_SMOKE} first). */
  settings?: Partial<MultiScaleSettings>;
  /** Progress display of the trainers (default 'auto'). */
  progress?: ProgressMode;
  /** The command, commit and date written into the results rows and model provenance. */
  provenance: { command: string; commit: string; date: string; commitDirty?: boolean | null };
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

/** The settings of a run: defaults or smoke, then the caller's overrides, then `epochs` for `dataset`. */
export function multiScaleSettings(
  opts: Pick<MultiScaleExperimentOptions, 'smoke' | 'settings' | 'epochs' | 'dataset'> = {},
): MultiScaleSettings {
  const base = opts.smoke ? MULTISCALE_SMOKE : MULTISCALE_RUN_DEFAULTS;
  const s = { ...base, ...opts.settings };
  const dataset = opts.dataset ?? 'mitdb';
  return opts.epochs === undefined ? s : { ...s, epochs: { ...s.epochs, [dataset]: opts.epochs } };
}
