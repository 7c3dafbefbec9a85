/**
 * `ecgnn classify <record|file.csv> --model <file>`: runs @ecgnn/infer's `classifyRecord` (the streaming classifier,
 * offline) over one lead of a WFDB record, or one column of a CSV file of samples (`--sample-rate` required), and
 * prints each beat's (or segment's) time and label, or with `--summary` the
 * per-class counts. When the record has reference annotations (`.atr`), each beat also shows the AAMI class of
 * the reference beat within 150 ms of it, and the summary the reference counts over the same span.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  AAMI_CLASSES,
  type Annotations,
  aamiCountsInRange,
  aamiLabels,
  type DataDirOptions,
  DataNotFoundError,
  loadAnnotations,
  loadRecord,
  parseCsvSamples,
} from '@ecgnn/data';
import { type ClassifierResult, classifyRecord } from '@ecgnn/infer';
import { readModelFile } from '@ecgnn/infer/node';
import type { Command } from 'commander';
import { EXIT_OK, formatTable, printJson, println, type RunContext, UsageError } from '../io.js';
import { dataDirOf, intArg, numberArg, withDataOption, withJsonOption } from '../options.js';

/** Options of `classify`. */
interface ClassifyOptions {
  model: string;
  data?: string;
  db: string;
  lead: number;
  from: number;
  seconds?: number;
  summary?: boolean;
  column?: string;
  sampleRate?: number;
  json?: boolean;
}

/** Where a record's files are: `<dataDir>/<db>/<record>.hea` (what @ecgnn/data's readers take). */
export interface RecordLocation extends Required<DataDirOptions> {
  db: string;
  record: string;
}

/**
 * A record argument as a location: a path (it holds a path separator or ends in `.hea`) names the record's
 * files directly; a bare name (`100`) is a record of database `db` in the data directory.
 */
export function locateRecord(arg: string, dd: Required<DataDirOptions>, db: string): RecordLocation {
  if (/[\\/]/.test(arg) || arg.endsWith('.hea')) {
    const p = resolve(arg.replace(/\.hea$/, ''));
    return { dataDir: dirname(dirname(p)), db: basename(dirname(p)), record: basename(p) };
  }
  return { ...dd, db, record: arg };
}

/** Maximum distance between a classified beat and its reference beat, seconds (the usual 150 ms). */
const MATCH_SECONDS = 0.15;

/** AAMI class of the reference beat nearest to `sample` within `tol` samples, else null. */
function referenceAt(ann: Annotations, labels: Int8Array, sample: number, tol: number): string | null {
  let lo = 0;
  let hi = ann.sample.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ann.sample[mid] < sample) lo = mid + 1;
    else hi = mid;
  }
  let before = -1;
  for (let i = lo - 1; i >= 0 && sample - ann.sample[i] <= tol; i--)
    if (labels[i] >= 0) {
      before = i;
      break;
    }
  let after = -1;
  for (let i = lo; i < ann.sample.length && ann.sample[i] - sample <= tol; i++)
    if (labels[i] >= 0) {
      after = i;
      break;
    }
  const best =
    after < 0 || (before >= 0 && sample - ann.sample[before] <= ann.sample[after] - sample) ? before : after;
  return best < 0 ? null : AAMI_CLASSES[labels[best]];
}

/** One classified beat or segment as printed. */
interface BeatRow {
  time: number;
  sample: number;
  label: string;
  probability: number;
  reference?: string | null;
}

/** The signal to classify: where it comes from, one lead, its rate, and the record's reference beats if any. */
interface Source {
  path: string;
  lead: string;
  fs: number;
  signal: Float32Array;
  ann?: Annotations;
}

/** A WFDB record's lead `o.lead` and its reference annotations (`.atr`) when present. */
function recordSource(recordArg: string, o: ClassifyOptions): Source {
  const loc = locateRecord(recordArg, dataDirOf(o), o.db);
  const path = join(loc.dataDir, loc.db, loc.record);
  const rec = loadRecord(loc.db, loc.record, loc);
  if (o.lead >= rec.signals.length)
    throw new UsageError(
      `--lead ${o.lead}: record ${path} has ${rec.signals.length} signals (${rec.descriptions.join(', ')})`,
    );
  let ann: Annotations | undefined;
  try {
    ann = loadAnnotations(loc.db, loc.record, 'atr', loc);
  } catch (e) {
    if (!(e instanceof DataNotFoundError)) throw e;
  }
  return { path, lead: rec.descriptions[o.lead], fs: rec.fs, signal: rec.signals[o.lead], ann };
}

/** A CSV file's samples (@ecgnn/data's `parseCsvSamples`) at `--sample-rate`. */
function csvSource(file: string, o: ClassifyOptions): Source {
  if (o.sampleRate === undefined)
    throw new UsageError(`${file}: a CSV file has no sampling rate: give it with --sample-rate <hz>`);
  const path = resolve(file);
  const csv = parseCsvSamples(readFileSync(path, 'utf8'), path, o.column);
  return { path, lead: csv.column, fs: o.sampleRate, signal: csv.samples };
}

async function classify(ctx: RunContext, recordArg: string, o: ClassifyOptions): Promise<number> {
  const isCsv = /\.csv$/i.test(recordArg);
  if (!isCsv && (o.column !== undefined || o.sampleRate !== undefined))
    throw new UsageError(
      '--column and --sample-rate are for CSV files (<file>.csv); a WFDB record has its own',
    );
  const src = isCsv ? csvSource(recordArg, o) : recordSource(recordArg, o);
  const { path, fs, ann } = src;
  const nSamples = src.signal.length;
  const start = Math.round(o.from * fs);
  if (start >= nSamples) throw new UsageError(`--from ${o.from}: ${path} is ${nSamples / fs} s long`);
  const end = o.seconds === undefined ? nSamples : Math.min(nSamples, start + Math.round(o.seconds * fs));
  const model = await readModelFile(resolve(o.model));
  const results: ClassifierResult[] = classifyRecord(model, src.signal.subarray(start, end), fs);
  const labels = ann ? aamiLabels(ann) : undefined;
  const tol = Math.round(MATCH_SECONDS * fs);
  const beats: BeatRow[] = results.map((r) => {
    const sample = start + r.sample;
    const row: BeatRow = {
      time: sample / fs,
      sample,
      label: r.label,
      probability: r.probabilities[r.classIndex],
    };
    if (ann && labels && r.kind === 'beat') row.reference = referenceAt(ann, labels, sample, tol);
    return row;
  });
  const classes = model.metadata.classes;
  const predicted = Object.fromEntries(classes.map((c) => [c, beats.filter((b) => b.label === c).length]));
  const refCounts = ann ? aamiCountsInRange(ann, start, end) : undefined;
  const reference = refCounts ? Object.fromEntries(AAMI_CLASSES.map((c, i) => [c, refCounts[i]])) : undefined;
  const matched = beats.filter((b) => b.reference != null);
  const agreeing = matched.filter((b) => b.reference === b.label).length;
  const summary = {
    record: path,
    lead: src.lead,
    sampleRate: fs,
    from: start / fs,
    seconds: (end - start) / fs,
    kind: results[0]?.kind ?? (model.metadata.windowing.mode === 'beat' ? 'beat' : 'segment'),
    count: beats.length,
    predicted,
    reference,
    matchedToReference: ann ? matched.length : undefined,
    agreement: ann && matched.length > 0 ? agreeing / matched.length : undefined,
  };
  if (o.json) {
    printJson(ctx.io, o.summary ? summary : { ...summary, beats });
    return EXIT_OK;
  }
  if (!o.summary) {
    const showRef = beats.some((b) => b.reference !== undefined);
    const head = ['time s', 'sample', 'label', 'p', ...(showRef ? ['reference'] : [])];
    const rows = beats.map((b) => [
      b.time.toFixed(3),
      String(b.sample),
      b.label,
      b.probability.toFixed(3),
      ...(showRef ? [b.reference ?? '–'] : []),
    ]);
    println(ctx.io.out, formatTable(head, rows, 'rrlrl'));
  }
  println(
    ctx.io.out,
    `${path}, ${summary.lead}, ${summary.from}–${summary.from + summary.seconds} s at ${fs} Hz: ${beats.length} ${summary.kind}s`,
  );
  println(ctx.io.out, `predicted: ${classes.map((c) => `${c} ${predicted[c]}`).join('  ')}`);
  if (reference) {
    println(ctx.io.out, `reference: ${AAMI_CLASSES.map((c) => `${c} ${reference[c]}`).join('  ')}`);
    if (summary.agreement !== undefined)
      println(
        ctx.io.out,
        `labels equal to the reference beat's AAMI class: ${agreeing} of ${matched.length} matched beats (${(100 * summary.agreement).toFixed(1)} %)`,
      );
  }
  return EXIT_OK;
}

/** Registers `classify` on `program`. */
export function registerClassify(program: Command, ctx: RunContext): void {
  const nonNegative = numberArg('≥ 0', (x) => x >= 0);
  withJsonOption(
    withDataOption(
      program
        .command('classify')
        .description(
          'classify the beats of a WFDB record or a CSV of samples with a model file (@ecgnn/infer), print times and labels',
        )
        .argument(
          '<record>',
          'record name in the data directory (e.g. 100), a path to a record (dir/100 or dir/100.hea), or a CSV file of samples (file.csv, with --sample-rate)',
        )
        .requiredOption('--model <file>', 'model file (.ecgnn)')
        .option('--db <name>', 'database folder of a record name', 'mitdb')
        .option('--lead <n>', 'signal index to classify', intArg(0), 0)
        .option('--from <seconds>', 'start of the span to classify', nonNegative, 0)
        .option(
          '--seconds <s>',
          'length of the span (default: to the end of the record)',
          numberArg('> 0', (x) => x > 0),
        )
        .option('--summary', 'print only the per-class counts')
        .option(
          '--column <name>',
          'CSV: the column of samples, by header name or 0-based index (default: the only column)',
        )
        .option(
          '--sample-rate <hz>',
          'CSV: sampling rate of the samples, Hz (required for a CSV file)',
          numberArg('> 0', (x) => x > 0),
        ),
    ),
  ).action(async (record: string, o: ClassifyOptions) => {
    if (o.model.trim() === '') throw new UsageError('--model is empty');
    ctx.code = await classify(ctx, record, o);
  });
}
