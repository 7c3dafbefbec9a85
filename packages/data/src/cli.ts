// Command-line interface of @ecgnn/data (`ecgnn-data`), Node only. Dependency-free parsing.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireBeatAnnotations } from './annotations.js';
import { type DataDirOptions, databaseDir, dataDir, loadAnnotations, loadRecord } from './datadir.js';
import { DataNotFoundError } from './errors.js';
import { fetchDatabase } from './fetch.js';
import { findSumsFile, type VerifyEntry, verifyDatabaseDir } from './integrity.js';
import { countAami } from './labels.js';
import {
  evaluateQrsDetector,
  formatQrsEvaluation,
  formatSplitSummary,
  recordAamiCounts,
  splitSummary,
} from './mitdb.js';
import { DS1, interPatientSplit, interPatientValidationSplit } from './splits.js';

const USAGE = `usage: ecgnn-data <command> [options]
  fetch <db> [--dir D] [--base-url URL] [--records 100,101]   download a PhysioNet database
  summary [--validation K --seed S --balanced true]           per-split AAMI counts (DS1/DS2)
  qrs [--records 100,101]                                     QRS detector Se/+P on mitdb
  info <db> <record>                                          header, checksums, beat counts
  verify [db]                                                 check files against SHA256SUMS (all databases
                                                              of the data directory when no db); exit 1 on
                                                              a mismatch
common: --data D or --data-dir D (default: $ECGNN_DATA, else ../shared/data beside the repo)
        -h, --help: this text`;

/** One line of `verify` output per file. */
function verifyLine(e: VerifyEntry): string {
  if (e.status === 'ok') return `  ok        ${e.file}`;
  if (e.status === 'missing') return `  missing   ${e.file}`;
  return `  MISMATCH  ${e.file}: listed ${e.expected}, file has ${e.actual}`;
}

/** Database folders of `root` that hold a checksum list, sorted. */
function databasesWithSums(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    throw new DataNotFoundError(`data directory not found: ${root}`);
  }
  return names.filter((n) => findSumsFile(join(root, n)) !== undefined).sort();
}

/** Parses `--key value` options and positional arguments. */
function parseArgs(argv: readonly string[]): { pos: string[]; opt: Map<string, string> } {
  const pos: string[] = [];
  const opt = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) opt.set(a.slice(2, eq), a.slice(eq + 1));
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) throw new Error(`option ${a} needs a value`);
        opt.set(a.slice(2), v);
        i++;
      }
    } else pos.push(a);
  }
  return { pos, opt };
}

/**
 * Runs the CLI with arguments `argv` (without the node and script paths), writing to `write`.
 * @returns the process exit code
 */
export async function runCli(
  argv: readonly string[],
  write: (s: string) => void = console.log,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    write(USAGE);
    return 0;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { pos, opt } = parsed;
  const dataOpt = opt.get('data') ?? opt.get('data-dir');
  const dd: DataDirOptions = dataOpt !== undefined ? { dataDir: dataOpt } : {};
  const records = opt.get('records')?.split(',').filter(Boolean);
  try {
    switch (pos[0]) {
      case 'fetch': {
        const db = pos[1];
        if (!db) throw new Error('fetch needs a database name');
        const dir = opt.get('dir') ?? databaseDir(db, dd);
        let last = '';
        const res = await fetchDatabase(db, dir, {
          baseUrl: opt.get('base-url'),
          records,
          onProgress: (p) => {
            if (p.total !== undefined && p.received === p.total && p.file !== last) {
              last = p.file;
              write(`${p.file} ${p.total} bytes`);
            }
          },
        });
        write(
          `${res.dir}: ${res.downloaded.length} downloaded, ${res.skipped.length} already present, SHA-256 ${res.verified ? 'verified' : 'not available'}`,
        );
        return 0;
      }
      case 'summary': {
        write(`data directory: ${dataDir(dd)}`);
        write(formatSplitSummary(splitSummary(interPatientSplit(), dd)));
        if (opt.has('validation')) {
          const split = interPatientValidationSplit({
            validationRecords: Number(opt.get('validation')),
            seed: Number(opt.get('seed') ?? 0),
            recordCounts: opt.get('balanced') === 'true' ? recordAamiCounts(DS1, dd) : undefined,
          });
          write(formatSplitSummary(splitSummary(split, dd)));
        }
        return 0;
      }
      case 'qrs': {
        write(formatQrsEvaluation(evaluateQrsDetector({ ...dd, records })));
        return 0;
      }
      case 'info': {
        const [, db, rec] = pos;
        if (!db || !rec) throw new Error('info needs a database and a record');
        const r = loadRecord(db, rec, dd);
        write(
          `${join(databaseDir(db, dd), rec)}: ${r.nSamples} samples × ${r.signals.length} signals at ${r.fs} Hz`,
        );
        r.header.signals.forEach((s, i) => {
          write(
            `  signal ${i} ${s.description}: format ${s.format}, gain ${s.gain} adu/${s.units}, baseline ${s.baseline}, checksum ${s.checksum} verified`,
          );
        });
        let ann: ReturnType<typeof loadAnnotations>;
        try {
          ann = loadAnnotations(db, rec, 'atr', dd);
        } catch (e) {
          if (!(e instanceof DataNotFoundError)) throw e;
          write('  (no .atr annotations)');
          return 0;
        }
        requireBeatAnnotations(ann, `annotations of ${db} record ${rec}`);
        const c = countAami(ann);
        write(`  AAMI beats: N ${c.N}  S ${c.S}  V ${c.V}  F ${c.F}  Q ${c.Q}`);
        return 0;
      }
      case 'verify': {
        const root = dataDir(dd);
        const dbs = pos[1] ? [pos[1]] : databasesWithSums(root);
        if (dbs.length === 0) throw new DataNotFoundError(`no database folder with SHA256SUMS in ${root}`);
        let failed = false;
        for (const db of dbs) {
          const dir = databaseDir(db, dd);
          write(`${dir}:`);
          const res = await verifyDatabaseDir(dir, (e) => write(verifyLine(e)));
          const n = (s: VerifyEntry['status']): number => res.entries.filter((e) => e.status === s).length;
          write(
            `${db}: ${res.entries.length} files listed in ${res.sumsFile}: ${n('ok')} ok, ${n('mismatch')} mismatched, ${n('missing')} missing`,
          );
          if (!res.ok) failed = true;
        }
        return failed ? 1 : 0;
      }
      default:
        write(USAGE);
        return pos.length === 0 ? 0 : 2;
    }
  } catch (e) {
    write(`error: ${(e as Error).message}`);
    return 1;
  }
}
