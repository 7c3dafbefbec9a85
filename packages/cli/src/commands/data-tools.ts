/**
 * `ecgnn data split|qrs|record`: the rest of what the former `ecgnn-data` binary of @ecgnn/data did, on the same
 * functions — the per-split counts of the patient-wise validation split (`interPatientValidationSplit`,
 * `splitSummary`), the QRS detector against the reference beats (`evaluateQrsDetector`), and one record's header,
 * signals (checksums verified on read) and AAMI beat counts (`loadRecord`, `loadAnnotations`).
 */
import { join } from 'node:path';
import {
  AAMI_CLASSES,
  countAami,
  DataNotFoundError,
  DS1,
  databaseDir,
  evaluateQrsDetector,
  formatQrsEvaluation,
  formatSplitSummary,
  interPatientValidationSplit,
  loadAnnotations,
  loadRecord,
  recordAamiCounts,
  requireBeatAnnotations,
  splitSummary,
} from '@ecgnn/data';
import type { Command } from 'commander';
import { EXIT_OK, printJson, println, type RunContext } from '../io.js';
import { dataDirOf, intArg, listArg, withDataOption, withJsonOption } from '../options.js';

/** `data split`: AAMI counts of train / validation / test of the inter-patient split with patient-wise validation. */
async function split(
  ctx: RunContext,
  o: { data?: string; validation: number; seed: number; balanced: boolean; json?: boolean },
): Promise<number> {
  const dd = dataDirOf(o);
  const s = interPatientValidationSplit({
    validationRecords: o.validation,
    seed: o.seed,
    recordCounts: o.balanced ? recordAamiCounts(DS1, dd) : undefined,
  });
  const summary = splitSummary(s, dd);
  if (o.json) {
    printJson(ctx.io, { dataDir: dd.dataDir, records: s.records, ...summary });
    return EXIT_OK;
  }
  println(ctx.io.out, `data directory: ${dd.dataDir}`);
  for (const [name, recs] of Object.entries(s.records)) println(ctx.io.out, `${name}: ${recs.join(' ')}`);
  println(ctx.io.out);
  println(ctx.io.out, formatSplitSummary(summary));
  return EXIT_OK;
}

/** `data qrs`: the QRS detector's sensitivity and positive predictivity against the reference beats of mitdb. */
async function qrs(
  ctx: RunContext,
  o: { data?: string; records?: string[]; json?: boolean },
): Promise<number> {
  const e = evaluateQrsDetector({ ...dataDirOf(o), records: o.records });
  if (o.json) printJson(ctx.io, e);
  else println(ctx.io.out, formatQrsEvaluation(e));
  return EXIT_OK;
}

/** `data record <record>`: header, signals (checksums verified on read) and AAMI beat counts of one record. */
async function record(
  ctx: RunContext,
  name: string,
  o: { data?: string; db: string; json?: boolean },
): Promise<number> {
  const dd = dataDirOf(o);
  const r = loadRecord(o.db, name, dd);
  const path = join(databaseDir(o.db, dd), name);
  let beats: Record<string, number> | null = null;
  try {
    const ann = loadAnnotations(o.db, name, 'atr', dd);
    requireBeatAnnotations(ann, `annotations of ${o.db} record ${name}`);
    beats = { ...countAami(ann) };
  } catch (e) {
    if (!(e instanceof DataNotFoundError)) throw e;
  }
  const signals = r.header.signals.map((s) => ({
    description: s.description,
    format: s.format,
    gain: s.gain,
    units: s.units,
    baseline: s.baseline,
    checksum: s.checksum ?? null,
  }));
  if (o.json) {
    printJson(ctx.io, { record: path, fs: r.fs, samples: r.nSamples, signals, beats });
    return EXIT_OK;
  }
  println(ctx.io.out, `${path}: ${r.nSamples} samples × ${r.signals.length} signals at ${r.fs} Hz`);
  for (const [i, s] of signals.entries())
    println(
      ctx.io.out,
      `  signal ${i} ${s.description}: format ${s.format}, gain ${s.gain} adu/${s.units}, baseline ${s.baseline}, checksum ${s.checksum ?? '–'}${s.checksum === null ? '' : ' verified'}`,
    );
  println(
    ctx.io.out,
    beats === null
      ? '  (no .atr annotations)'
      : `  AAMI beats: ${AAMI_CLASSES.map((c) => `${c} ${beats[c]}`).join('  ')}`,
  );
  return EXIT_OK;
}

/** Registers `split`, `qrs` and `record` under the `data` command. */
export function registerDataTools(data: Command, ctx: RunContext): void {
  withJsonOption(
    withDataOption(
      data
        .command('split')
        .description(
          'records and AAMI counts of train / validation / test: DS1 with a patient-wise validation split, DS2 (the experiments’ split by default)',
        )
        .option('--validation <k>', 'DS1 records held out for validation', intArg(1), 4)
        .option('--seed <s>', 'seed of the validation draw', intArg(0), 0)
        .option('--no-balanced', 'a plain random draw instead of the class-balanced one'),
    ),
  ).action(async (o) => {
    ctx.code = await split(ctx, o);
  });
  withJsonOption(
    withDataOption(
      data
        .command('qrs')
        .description(
          'QRS detector (@ecgnn/dsp) against the reference beats of mitdb: Se and +P per record (150 ms)',
        )
        .option('--records <list>', 'only these records, comma-separated (default: all)', listArg),
    ),
  ).action(async (o) => {
    ctx.code = await qrs(ctx, o);
  });
  withJsonOption(
    withDataOption(
      data
        .command('record')
        .description('one record: header, signals (checksums verified on read), AAMI beat counts of its .atr')
        .argument('<record>', 'record name, e.g. 208')
        .option('--db <name>', 'database folder', 'mitdb'),
    ),
  ).action(async (name: string, o) => {
    ctx.code = await record(ctx, name, o);
  });
}
