/**
 * `ecgnn eval <model> --split <name>`: runs a beat model file (@ecgnn/infer) over the AAMI-labelled beats of a
 * split of MIT-BIH and prints accuracy, macro-F1, per-class sensitivity (Se) and positive predictivity (+P) and
 * the confusion matrix. The beats are made as the training data were: @ecgnn/train's `beatPreprocessingOf`
 * reads the model's inputs, sampling rate, windowing and filters, and `loadBeatDataset` cuts the beats; the
 * splits are the distillation experiment's (`interPatientValidationSplit` of DS1 with `SPLIT_SEED`, DS2 for test).
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
  INPUT_NAMES,
  itemSize,
  loadBeatDataset,
  type Metrics,
  SPLIT_SEED,
} from '@ecgnn/train';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError, EXIT_OK, printJson, println, type RunContext } from '../io.js';
import { dataDirOf, intArg, withDataOption, withJsonOption } from '../options.js';
import { ensureDatabaseWithProgress } from '../progress.js';

/** The named splits of `--split`. */
export const EVAL_SPLITS = ['train', 'validation', 'test', 'ds1', 'ds2', 'all'] as const;

/** Options of `eval`. */
interface EvalOptions {
  split: string[];
  data?: string;
  every: number;
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
 * experiment's patient-wise split of DS1 (seed `SPLIT_SEED`), test is DS2, all is every record of the database.
 */
export function splitRecords(name: string, dataDir: string): string[] {
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
        seed: SPLIT_SEED,
        recordCounts: recordAamiCounts(DS1, dd),
      });
      return [...(name === 'train' ? split.records.train : split.records.validation)];
    }
  }
}

/** The dataset's inputs as the model takes them: each model input by its source (window or RR features). */
function modelInputs(model: Model, ds: Dataset, from: number, to: number): Record<string, Float32Array> {
  const byName = new Map(ds.inputs.map((i) => [i.name, i]));
  return Object.fromEntries(
    model.inputs.map((mi) => {
      const di = byName.get(mi.source.kind === 'rr' ? INPUT_NAMES.rr : INPUT_NAMES.window);
      if (!di) throw new CliError(`the beats have no input for model input '${mi.name}'`);
      const n = itemSize(di);
      return [mi.name, di.data.subarray(from * n, to * n)];
    }),
  );
}

/** Items per `predict` call (bounds the memory of one batch). */
const CHUNK = 2048;

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
  for (let from = 0; from < ds.count; from += CHUNK) {
    const to = Math.min(ds.count, from + CHUNK);
    const probs = model.predict(modelInputs(model, ds, from, to));
    for (let i = from; i < to; i++) {
      const t = toModel[ds.label[i]];
      if (t < 0) {
        const name = ds.classes[ds.label[i]];
        skipped[name] = (skipped[name] ?? 0) + 1;
        continue;
      }
      let best = 0;
      const row = (i - from) * K;
      for (let k = 1; k < K; k++) if (probs[row + k] > probs[row + best]) best = k;
      truth.push(t);
      pred.push(best);
    }
  }
  return { metrics: classificationMetrics(truth, pred, classes), skipped };
}

async function evalCommand(ctx: RunContext, file: string, o: EvalOptions): Promise<number> {
  const path = resolve(file);
  const model = await readModelFile(path);
  let preprocessing: ReturnType<typeof beatPreprocessingOf>;
  try {
    preprocessing = beatPreprocessingOf(model, /^\d+$/.test(o.lead) ? Number(o.lead) : o.lead);
  } catch (e) {
    if (e instanceof ValueError)
      throw new CliError(
        `${path}: ${e.message}; ecgnn eval runs beat models (windows around R peaks), see ecgnn inspect ${file}`,
      );
    throw e;
  }
  const { dataDir } = dataDirOf(o);
  await ensureDatabaseWithProgress(ctx.io, 'mitdb', dataDir, o.download);
  const name = o.split.length === 1 && !/^\d/.test(o.split[0]) ? o.split[0] : 'records';
  const records = name === 'records' ? o.split : splitRecords(name, dataDir);
  println(
    ctx.io.err,
    `loading ${records.length} records (${name})${o.every > 1 ? `, every ${o.every}th beat` : ''}…`,
  );
  const ds = loadBeatDataset(records, { dataDir, preprocessing, every: o.every });
  const { metrics, skipped } = evaluateModel(model, ds);
  const result = {
    model: path,
    split: name,
    records,
    every: o.every,
    beats: metrics.count,
    skipped,
    accuracy: metrics.accuracy,
    macroF1: metrics.macroF1,
    perClass: Object.fromEntries(
      metrics.classes.map((c) => {
        const r = metrics.perClass[c];
        return [c, { se: r.se, ppv: r.ppv, f1: r.f1, support: r.support }];
      }),
    ),
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
          'evaluate a beat model file (@ecgnn/infer) on a split of MIT-BIH: accuracy, macro-F1, per-class Se/+P, confusion matrix',
        )
        .argument(
          '<model>',
          'model file (.ecgnn) of a beat model (windows around R peaks, optional RR features)',
        )
        .requiredOption(
          '--split <name>',
          'train or validation (the distillation experiment’s patient-wise split of DS1), test or ds2 (DS2), ds1, all, or a comma list of records (e.g. 100,101)',
          splitArg,
        )
        .option('--every <n>', 'keep every n-th beat of each record (faster, a subsample)', intArg(1), 1)
        .option('--lead <name>', 'lead the beats are cut from (a signal name, or an index)', 'MLII')
        .option('--no-download', 'fail instead of downloading MIT-BIH when it is absent'),
    ),
  )
    .addHelpText(
      'after',
      '\nBeat models only: a model whose windows are segments (e.g. the binary network on 10-s fragments) or whose inputs the caller supplies is refused with exit code 1.',
    )
    .action(async (model: string, o: EvalOptions) => {
      ctx.code = await evalCommand(ctx, model, o);
    });
}
