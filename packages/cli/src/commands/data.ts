/**
 * `ecgnn data info|verify|fetch`: MIT-BIH class counts, SHA-256 verification and download, on the functions of
 * @ecgnn/data (`recordAamiCounts`, `splitSummary`/`formatSplitSummary`, `verifyDatabaseDir`, `downloadDatabase`);
 * `split`, `qrs` and `record` are in data-tools.ts. The one command line of @ecgnn/data (it has no binary of its own).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AAMI_CLASSES,
  type AamiCounts,
  DataNotFoundError,
  DS1,
  DS2,
  databaseDir,
  downloadDatabase,
  formatSplitSummary,
  hasDatabase,
  interPatientSplit,
  listRecords,
  PACED_RECORDS,
  recordAamiCounts,
  SUMS_FILES,
  splitSummary,
  type VerifyEntry,
  verifyDatabaseDir,
} from '@ecgnn/data';
import type { Command } from 'commander';
import { EXIT_FAILURE, EXIT_OK, formatTable, printJson, println, type RunContext } from '../io.js';
import { dataDirOf, listArg, withDataOption, withJsonOption } from '../options.js';
import { downloadProgress } from '../progress.js';
import { registerDataTools } from './data-tools.js';

/** Which inter-patient set a MIT-BIH record belongs to (de Chazal et al. 2004): DS1, DS2, paced or none. */
export function splitOf(record: string): 'DS1' | 'DS2' | 'paced' | '' {
  if (DS1.includes(record)) return 'DS1';
  if (DS2.includes(record)) return 'DS2';
  return PACED_RECORDS.includes(record) ? 'paced' : '';
}

const total = (c: AamiCounts): number => AAMI_CLASSES.reduce((a, k) => a + c[k], 0);

/** `data info`: per-record AAMI counts, and per-split counts (DS1/DS2) when no `--records` narrows it. */
async function info(
  ctx: RunContext,
  o: { data?: string; records?: string[]; json?: boolean },
): Promise<number> {
  const dd = dataDirOf(o);
  if (!hasDatabase('mitdb', dd))
    throw new DataNotFoundError(
      `MIT-BIH not found in ${databaseDir('mitdb', dd)} (no RECORDS file): download it with \`ecgnn data fetch\`, or point --data or ECGNN_DATA at the folder holding mitdb/`,
    );
  const records = o.records ?? listRecords('mitdb', dd);
  const perRecord = recordAamiCounts(records, dd);
  const splits = o.records === undefined ? splitSummary(interPatientSplit(), dd) : undefined;
  if (o.json) {
    printJson(ctx.io, { dataDir: dd.dataDir, database: 'mitdb', records: perRecord, splits });
    return EXIT_OK;
  }
  println(
    ctx.io.out,
    `data directory: ${dd.dataDir} (mitdb: ${records.length} records${o.records ? ' selected' : ''})`,
  );
  const rows = records.map((r) => {
    const c = perRecord[r];
    return [r, splitOf(r), ...AAMI_CLASSES.map((k) => String(c[k])), String(total(c))];
  });
  println(ctx.io.out, formatTable(['record', 'split', ...AAMI_CLASSES, 'total'], rows));
  if (splits) {
    println(ctx.io.out);
    println(ctx.io.out, formatSplitSummary(splits));
  }
  return EXIT_OK;
}

/** Database folders of `root` that hold a checksum list, sorted. */
function databasesWithSums(root: string): string[] {
  if (!existsSync(root)) throw new DataNotFoundError(`data directory not found: ${root}`);
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && SUMS_FILES.some((n) => existsSync(join(root, d.name, n))))
    .map((d) => d.name)
    .sort();
}

/** `data verify [db]`: every listed file against its SHA-256; exit 1 on a mismatch. */
async function verify(ctx: RunContext, db: string | undefined, o: { data?: string; json?: boolean }) {
  const dd = dataDirOf(o);
  const dbs = db ? [db] : databasesWithSums(dd.dataDir);
  if (dbs.length === 0) throw new DataNotFoundError(`no database folder with SHA256SUMS in ${dd.dataDir}`);
  const results = [];
  for (const name of dbs) {
    const res = await verifyDatabaseDir(databaseDir(name, dd));
    const n = (s: VerifyEntry['status']): number => res.entries.filter((e) => e.status === s).length;
    const problems = res.entries.filter((e) => e.status !== 'ok');
    results.push({ database: name, dir: res.dir, sumsFile: res.sumsFile, ok: res.ok, problems });
    if (o.json) continue;
    for (const e of problems)
      println(
        ctx.io.out,
        e.status === 'missing'
          ? `  missing   ${join(res.dir, e.file)}`
          : `  MISMATCH  ${join(res.dir, e.file)}: listed ${e.expected}, file has ${e.actual}`,
      );
    println(
      ctx.io.out,
      `${name}: ${res.entries.length} files listed in ${res.sumsFile}: ${n('ok')} ok, ${n('mismatch')} mismatched, ${n('missing')} missing`,
    );
  }
  if (o.json) printJson(ctx.io, { dataDir: dd.dataDir, databases: results });
  return results.every((r) => r.ok) ? EXIT_OK : EXIT_FAILURE;
}

/** `data fetch [db]`: download (resuming, skipping verified files) with progress on stderr (bars on a terminal). */
async function fetch(
  ctx: RunContext,
  db: string,
  o: { data?: string; records?: string[]; baseUrl?: string; json?: boolean },
): Promise<number> {
  const dd = dataDirOf(o);
  const download = downloadProgress(ctx.io);
  const res = await downloadDatabase(db, dd.dataDir, {
    baseUrl: o.baseUrl,
    records: o.records,
    log: (line) => println(ctx.io.err, line),
    onProgress: download?.onProgress,
  }).finally(() => download?.close());
  if (o.json) printJson(ctx.io, { database: db, ...res });
  else
    println(
      ctx.io.out,
      `${res.dir}: ${res.downloaded.length} downloaded, ${res.skipped.length} already present, SHA-256 ${res.verified ? 'verified' : 'not available'}`,
    );
  return EXIT_OK;
}

/** Registers `data` and its subcommands on `program`. */
export function registerData(program: Command, ctx: RunContext): void {
  const data = program
    .command('data')
    .description(
      'MIT-BIH data: info (AAMI class counts), verify (SHA-256), fetch (download), split, qrs, record',
    );
  withJsonOption(
    withDataOption(
      data
        .command('info')
        .description('per-record and per-split (DS1/DS2) AAMI beat counts of MIT-BIH')
        .option('--records <list>', 'only these records, comma-separated (no split counts then)', listArg),
    ),
  ).action(async (o) => {
    ctx.code = await info(ctx, o);
  });
  withJsonOption(
    withDataOption(
      data
        .command('verify')
        .description(
          'check files against their SHA256SUMS list (every database of the data directory when no db); exit 1 on a mismatch',
        )
        .argument('[db]', 'database folder, e.g. mitdb'),
    ),
  ).action(async (db: string | undefined, o) => {
    ctx.code = await verify(ctx, db, o);
  });
  withJsonOption(
    withDataOption(
      data
        .command('fetch')
        .description('download a PhysioNet database (resumes, skips verified files, checks SHA-256)')
        .argument('[db]', 'database name', 'mitdb')
        .option('--records <list>', 'only these records, comma-separated', listArg)
        .option(
          '--base-url <url>',
          'base URL of the files (default https://physionet.org/files/<db>/1.0.0/)',
        ),
    ),
  ).action(async (db: string, o) => {
    ctx.code = await fetch(ctx, db, o);
  });
  registerDataTools(data, ctx);
}
