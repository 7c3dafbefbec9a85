/**
 * The main job's data directory: making sure MIT-BIH is there, downloading it from PhysioNet with @ecgnn/data's
 * checksummed, resumable, atomic `fetchDatabase` when it is absent (used by examples/main.ts and
 * examples/distill.ts).
 */
import {
  assertVerified,
  DataNotFoundError,
  type FetchProgress,
  fetchDatabase,
  hasDatabase,
  verifyDatabaseDir,
} from '@ecgnn/data';

/** Options of {@link ensureMitdb}. */
export interface EnsureOptions {
  /** Data directory (the database lives in `<dataDir>/mitdb`). */
  dataDir: string;
  /** Progress lines go here. */
  log: (line: string) => void;
  /** Download when absent (default true). */
  download?: boolean;
  /** Base URL to download from (default PhysioNet's `https://physionet.org/files/mitdb/1.0.0/`). */
  baseUrl?: string;
  /**
   * Then verify every file of the folder against its `SHA256SUMS` (default false): an IntegrityError
   * names the first mismatching file and both hashes; a DataNotFoundError when the folder has no list.
   */
  verify?: boolean;
}

/**
 * Makes sure MIT-BIH is in `<dataDir>/mitdb`, downloading it from PhysioNet with @ecgnn/data's checksummed,
 * resumable, atomic `fetchDatabase` when absent (about 100 MB), then with `verify` checks the folder against
 * its `SHA256SUMS`. Returns whether a download happened.
 */
export async function ensureMitdb(opts: EnsureOptions): Promise<boolean> {
  const downloaded = await ensureMitdbPresent(opts);
  if (opts.verify) {
    const dir = `${opts.dataDir}/mitdb`;
    opts.log(`verifying ${dir} against its SHA-256 list…`);
    const res = await verifyDatabaseDir(dir);
    assertVerified(res);
    const missing = res.entries.filter((e) => e.status === 'missing').length;
    opts.log(
      `  ${res.entries.length - missing} files verified${missing > 0 ? `, ${missing} listed files absent` : ''}`,
    );
  }
  return downloaded;
}

async function ensureMitdbPresent(opts: EnsureOptions): Promise<boolean> {
  if (hasDatabase('mitdb', { dataDir: opts.dataDir })) return false;
  if (opts.download === false) {
    throw new DataNotFoundError(
      `MIT-BIH not found in ${opts.dataDir}/mitdb (no RECORDS file) and downloading is off (--no-download)`,
    );
  }
  const dest = `${opts.dataDir}/mitdb`;
  opts.log(`MIT-BIH not found in ${dest}: downloading from PhysioNet (about 100 MB)…`);
  let lastFile = '';
  let lastReport = 0;
  const res = await fetchDatabase('mitdb', dest, {
    baseUrl: opts.baseUrl,
    onProgress: (p: FetchProgress) => {
      const now = Date.now();
      const done = p.total !== undefined && p.received >= p.total;
      // One line when a file starts, every 2 s while it downloads, and when it completes.
      if (p.file !== lastFile || now - lastReport > 2000 || done) {
        const tot = p.total === undefined ? '?' : (p.total / 1e6).toFixed(2);
        opts.log(`  ${p.file}: ${(p.received / 1e6).toFixed(2)} / ${tot} MB`);
        lastFile = p.file;
        lastReport = now;
      }
    },
  });
  opts.log(
    `downloaded ${res.downloaded.length} files, ${res.skipped.length} already present` +
      `${res.verified ? ', SHA-256 verified' : ' (no checksums published)'}`,
  );
  return true;
}
