/**
 * `ecgnn eval <model> --split <name>`: runs a model file (@ecgnn/infer) over a split of its data and prints
 * accuracy, macro-F1, per-class sensitivity (Se) and positive predictivity (+P) and the confusion matrix.
 * Beat models (windows around R peaks) here: the beats are made as the training data were (@ecgnn/train's
 * `beatPreprocessingOf` reads the model's inputs, sampling rate, windowing and filters, `loadBeatDataset` cuts
 * the beats) over the AAMI-labelled beats of the distillation experiment's splits (`interPatientValidationSplit`
 * of DS1 with seed `--seed`, default `SPLIT_SEED`; DS2 for test). Segment models (the binary-network and
 * multi-scale experiments' 10-s windows): {@link evalSegmentModel} with eval-segments.ts (kind, splits, figures).
 */
import { resolve } from 'node:path';
import { ValueError } from '@ecgnn/core';
import { DS1, DS2, interPatientValidationSplit, listRecords, recordAamiCounts } from '@ecgnn/data';
import type { Model } from '@ecgnn/infer';
import { readModelFile } from '@ecgnn/infer/node';
import {
  beatPreprocessingOf,
  classificationMetrics,
  type Dataset,
  formatConfusion,
  formatMetrics,
  loadBeatDataset,
  type Metrics,
  type multiScaleRowMetrics,
  pct,
  readSplitProvenance,
  SPLIT_SEED,
} from '@ecgnn/train';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT_OK, formatTable, printJson, println, type RunContext } from '../io.js';
import { dataDirOf, intArg, withDataOption, withJsonOption } from '../options.js';
import { ensureDatabaseWithProgress } from '../progress.js';
import {
  evaluateSegments,
  inputMismatches,
  loadSegmentSplit,
  type ProtocolChoice,
  perClassOf,
  predictInChunks,
  protocolOf,
  SEGMENT_SPLITS,
  type SegmentKind,
  SUPPORTED_SEGMENT_MODELS,
  segmentKindOf,
} from './eval-segments.js';

/** The named splits of `--split`. */
export const EVAL_SPLITS = ['train', 'validation', 'test', 'ds1', 'ds2', 'all'] as const;

/** Options of `eval`. */
interface EvalOptions {
  split: string[];
  data?: string;
  every?: number;
  seed?: number;
  protocol?: string;
  smoke?: boolean;
  lead: string;
  download: boolean;
  json?: boolean;
}

/** `--split`: a name of {@link EVAL_SPLITS}, or a comma list of MIT-BIH record names. */
function splitArg(value: string): string[] {
  const v = value.trim();
  if ((EVAL_SPLITS as readonly string[]).includes(v)) return [v];
  const records = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (records.length === 0 || !records.every((r) => /^\d{3}$/.test(r)))
    throw new InvalidArgumentError(
      `not one of ${EVAL_SPLITS.join(', ')} nor a comma list of MIT-BIH records (e.g. 100,101).`,
    );
  return records;
}

/**
 * The records of split `name` (see {@link EVAL_SPLITS}): train and validation are the distillation
 * experiment's patient-wise split of DS1 (seed `seed`, default `SPLIT_SEED`), test is DS2, all is every record
 * of the database.
 */
export function splitRecords(name: string, dataDir: string, seed: number = SPLIT_SEED): string[] {
  const dd = { dataDir };
  switch (name) {
    case 'ds1':
      return [...DS1];
    case 'ds2':
    case 'test':
      return [...DS2];
    case 'all':
      return listRecords('mitdb', dd);
    default: {
      const split = interPatientValidationSplit({
        seed,
        recordCounts: recordAamiCounts(DS1, dd),
      });
      return [...(name === 'train' ? split.records.train : split.records.validation)];
    }
  }
}

/**
 * Evaluates `model` on the beats of `ds`: beats of a class the model does not have are left out (counted in
 * `skipped`); returns the metrics over the model's classes.
 */
export function evaluateModel(
  model: Model,
  ds: Dataset,
): { metrics: Metrics; skipped: Record<string, number> } {
  const classes = model.metadata.classes;
  const missing = classes.filter((c) => !ds.classes.includes(c));
  if (missing.length > 0)
    throw new CliError(
      `the model's classes ${classes.join(', ')} are not all AAMI beat classes (${ds.classes.join(', ')}): ${missing.join(', ')} has no beats to compare with`,
    );
  const toModel = ds.classes.map((c) => classes.indexOf(c));
  const truth: number[] = [];
  const pred: number[] = [];
  const skipped: Record<string, number> = {};
  const K = classes.length;
  const probs = predictInChunks(model, ds);
  for (let i = 0; i < ds.count; i++) {
    const t = toModel[ds.label[i]];
    if (t < 0) {
      const name = ds.classes[ds.label[i]];
      skipped[name] = (skipped[name] ?? 0) + 1;
      continue;
    }
    let best = 0;
    const row = i * K;
    for (let k = 1; k < K; k++) if (probs[row + k] > probs[row + best]) best = k;
    truth.push(t);
    pred.push(best);
  }
  return { metrics: classificationMetrics(truth, pred, classes), skipped };
}

/** Options of {@link evalSegmentModel}: those of `eval` that apply to segment models. */
export interface SegmentEvalOptions {
  /** `--split`: one of {@link SEGMENT_SPLITS} (parsed as eval's split list). */
  split: string[];
  /** `--data`. */
  data?: string;
  /** `--every` (default: the settings'). */
  every?: number;
  /** `--seed`: seed of the split (default: the file's, else 0). */
  seed?: number;
  /** `--protocol`. */
  protocol?: string;
  /** `--smoke`: the experiment's smoke settings. */
  smoke?: boolean;
  /** `--no-download` sets this false. */
  download: boolean;
  /** `--json`. */
  json?: boolean;
}

/** The multi-label figures as a table: label, Se, +P, F1, windows with the label, threshold. */
function formatLabels(row: ReturnType<typeof multiScaleRowMetrics>): string {
  const perClass = row.perClass as Record<
    string,
    { se: number | null; ppv: number | null; f1: number | null; support: number; threshold: number }
  >;
  return formatTable(
    ['label', 'Se %', '+P %', 'F1 %', 'windows', 'threshold'],
    Object.entries(perClass).map(([name, l]) => [
      name,
      pct(l.se),
      pct(l.ppv),
      pct(l.f1),
      String(l.support),
      l.threshold.toFixed(3),
    ]),
  );
}

/**
 * `ecgnn eval` of a segment model file (`path`, loaded as `model`): recognises its window set, loads the split
 * with the experiment's builder, checks the model's input against the windows, evaluates, prints.
 */
export async function evalSegmentModel(
  ctx: RunContext,
  path: string,
  model: Model,
  o: SegmentEvalOptions,
): Promise<number> {
  let kind: SegmentKind;
  let protocol: ProtocolChoice;
  try {
    kind = segmentKindOf(model);
    protocol = protocolOf(kind, model, o.protocol);
  } catch (e) {
    if (e instanceof CliError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
  const split = o.split.length === 1 ? o.split[0] : o.split.join(',');
  if (!(SEGMENT_SPLITS as readonly string[]).includes(split))
    throw new CliError(
      `${path}: a segment model is evaluated on the splits of the experiment that trained it (--split ${SEGMENT_SPLITS.join(', ')}), not ${split}`,
    );
  const { dataDir } = dataDirOf(o);
  if (kind.dataset !== 'mitbih17') await ensureDatabaseWithProgress(ctx.io, 'mitdb', dataDir, o.download);
  // The split the run drew: options first, then what the file records (smoke runs, every, split seed).
  const recorded = readSplitProvenance(model.metadata.provenance);
  const seed = o.seed ?? recorded.splitSeed ?? 0;
  const smoke = o.smoke ?? recorded.smoke ?? false;
  const fromFile = o.smoke === undefined && recorded.smoke ? ", from the model file's provenance" : '';
  const settingsName = `${smoke ? 'smoke settings' : 'settings of the full run'}${fromFile}`;
  println(
    ctx.io.err,
    `${kind.experiment} ${kind.dataset} (${kind.reason}): loading the ${split} split (${protocol.protocol}, seed ${seed}, ${settingsName})…`,
  );
  const s = loadSegmentSplit(model, kind, {
    split: split as (typeof SEGMENT_SPLITS)[number],
    seed,
    protocol: protocol.protocol,
    smoke,
    every: o.every ?? recorded.every,
    dataDir,
  });
  const mismatches = inputMismatches(model, s.dataset);
  if (mismatches.length > 0)
    throw new CliError(
      `${path}: recognised as ${kind.experiment} ${kind.dataset} (${kind.reason}), but its input is not the windows that experiment makes: ${mismatches.join('; ')}`,
    );
  const fig = evaluateSegments(model, kind, s.dataset);
  const head = {
    model: path,
    kind: 'segment',
    experiment: kind.experiment,
    dataset: kind.dataset,
    recognisedBy: kind.reason,
    protocol: protocol.protocol,
    protocolFrom: protocol.from,
    seed,
    smoke,
    every: s.every,
    split,
    splitDescription: s.splitDescription,
    items: s.dataset.count,
  };
  const result = fig.multiLabel
    ? { ...head, multiLabel: true, thresholdsFrom: fig.thresholdsFrom, ...fig.row }
    : {
        ...head,
        multiLabel: false,
        accuracy: fig.row.accuracy,
        macroF1: fig.row.macroF1,
        macroF1Classes: fig.row.macroF1Classes,
        perClass: perClassOf(fig.metrics),
        confusion: { classes: fig.metrics.classes, matrix: fig.metrics.confusion },
      };
  if (o.json) {
    printJson(ctx.io, result);
    return EXIT_OK;
  }
  const out = (line = ''): void => println(ctx.io.out, line);
  out(`${path}: ${kind.experiment}, ${kind.dataset} (${kind.reason})`);
  out(
    `${split} split, ${protocol.protocol} (${protocol.from}), seed ${seed}, ${settingsName}: ${s.splitDescription}`,
  );
  const macro = `macro-F1 over ${(result.macroF1Classes ?? []).join(', ')}: ${pct(result.macroF1)} %`;
  if (fig.multiLabel) {
    out(`${s.dataset.count} windows; thresholds: ${fig.thresholdsFrom}`);
    out(formatLabels(fig.row));
    out(
      `exact match ${pct(fig.row.exactMatch as number)} %   micro-F1 ${pct(fig.row.microF1 as number)} %   ${macro}`,
    );
    return EXIT_OK;
  }
  out(`${s.dataset.count} fragments`);
  out(formatMetrics(fig.metrics).replace('PPV %', '+P %'));
  out(`${macro} (the experiment's results rows)`);
  out();
  out(formatConfusion(fig.metrics));
  return EXIT_OK;
}

async function evalCommand(ctx: RunContext, file: string, o: EvalOptions): Promise<number> {
  const path = resolve(file);
  const model = await readModelFile(path);
  if (model.metadata.windowing.mode === 'segment') return evalSegmentModel(ctx, path, model, o);
  if (o.smoke || (o.protocol !== undefined && o.protocol !== 'patient'))
    throw new CliError(
      `${path} is a beat model: its splits are the distillation experiment's patient-wise ones (${o.smoke ? '--smoke' : `--protocol ${o.protocol}`} is for segment models)`,
    );
  const every = o.every ?? 1;
  let preprocessing: ReturnType<typeof beatPreprocessingOf>;
  try {
    preprocessing = beatPreprocessingOf(model, /^\d+$/.test(o.lead) ? Number(o.lead) : o.lead);
  } catch (e) {
    if (e instanceof ValueError)
      throw new CliError(
        `${path}: ${e.message}; ecgnn eval supports ${SUPPORTED_SEGMENT_MODELS}; see ecgnn inspect ${file}`,
      );
    throw e;
  }
  const { dataDir } = dataDirOf(o);
  await ensureDatabaseWithProgress(ctx.io, 'mitdb', dataDir, o.download);
  const name = o.split.length === 1 && !/^\d/.test(o.split[0]) ? o.split[0] : 'records';
  const seed = o.seed ?? SPLIT_SEED;
  const records = name === 'records' ? o.split : splitRecords(name, dataDir, seed);
  println(
    ctx.io.err,
    `loading ${records.length} records (${name})${every > 1 ? `, every ${every}th beat` : ''}…`,
  );
  const ds = loadBeatDataset(records, { dataDir, preprocessing, every });
  const { metrics, skipped } = evaluateModel(model, ds);
  const result = {
    model: path,
    kind: 'beat',
    split: name,
    seed,
    records,
    every,
    beats: metrics.count,
    skipped,
    accuracy: metrics.accuracy,
    macroF1: metrics.macroF1,
    perClass: perClassOf(metrics),
    confusion: { classes: metrics.classes, matrix: metrics.confusion },
  };
  if (o.json) {
    printJson(ctx.io, result);
    return EXIT_OK;
  }
  const skippedText = Object.entries(skipped)
    .map(([c, n]) => `${n} ${c}`)
    .join(', ');
  println(
    ctx.io.out,
    `${path} on ${name === 'records' ? `records ${records.join(',')}` : `${name} (${records.length} records)`}: ${metrics.count} beats${skippedText ? ` (left out, classes the model lacks: ${skippedText})` : ''}`,
  );
  println(ctx.io.out, formatMetrics(metrics).replace('PPV %', '+P %'));
  println(ctx.io.out);
  println(ctx.io.out, formatConfusion(metrics));
  return EXIT_OK;
}

/** Registers `eval` on `program`. */
export function registerEval(program: Command, ctx: RunContext): void {
  withJsonOption(
    withDataOption(
      program
        .command('eval')
        .description(
          'evaluate a model file (@ecgnn/infer) on a split of the experiment that made it: accuracy, macro-F1, per-class Se/+P, confusion matrix (multi-label: per-label F1)',
        )
        .argument(
          '<model>',
          'model file (.ecgnn): a beat model (windows around R peaks), or a bnn / multiscale segment model (10-s windows)',
        )
        .requiredOption(
          '--split <name>',
          'train, validation or test (the experiment’s split; beat models: the distillation experiment’s patient-wise split of DS1, test = DS2); beat models also ds1, ds2, all, or a comma list of records (e.g. 100,101)',
          splitArg,
        )
        .option(
          '--seed <n>',
          'seed of the split (default: the one the model file records, else 0 — the experiments’ split seed)',
          intArg(0),
        )
        .addOption(
          new Option(
            '--protocol <p>',
            'segment models: stratified or patient (DS1/DS2) split; default the one the model file records, else the set’s default',
          ).choices(['stratified', 'patient']),
        )
        .option(
          '--smoke',
          'segment models: the splits of the experiment’s smoke settings (a subset; e.g. 1 in 2 fragments); default: whether the model file records a smoke run',
        )
        .option(
          '--every <n>',
          'beat models: keep every n-th beat of each record (default 1); segment models: every n-th item of each class/record before splitting, as the experiment’s `every` setting (default the settings’)',
          intArg(1),
        )
        .option(
          '--lead <name>',
          'beat models: lead the beats are cut from (a signal name, or an index)',
          'MLII',
        )
        .option('--no-download', 'fail instead of downloading MIT-BIH when it is absent'),
    ),
  )
    .addHelpText(
      'after',
      `
Kinds of model file, read from the header (see ecgnn inspect):
  beat model (windowing beat)                        the AAMI beats of MIT-BIH (distillation splits)
  17 classes NSR … PR, softmax, segments             mitbih17 fragments, stratified (bnn at 360 Hz, multiscale)
  5 classes N,S,V,F,Q, softmax, segments at 360 Hz   bnn's mitdb fragments, stratified or patient
  sigmoid over N S V F (N (AFIB (B (T (VT (SVTA      multiscale's multi-label mitdb windows, patient
Segment models are evaluated on the windows their experiment's own data builder makes (@ecgnn/train's loadBnnData,
loadMultiScaleData), so train/validation/test are the splits it used for the same --seed, --protocol and --smoke.
Macro-F1 is the experiment's: over N,S,V,F for 5 classes, over every class with items for 17; the multi-label
model is scored per label at the thresholds stored in the file (0.5 where it stores none, said in the output).
A file that matches none is refused with exit code 1, naming what was found.`,
    )
    .action(async (model: string, o: EvalOptions) => {
      ctx.code = await evalCommand(ctx, model, o);
    });
}
