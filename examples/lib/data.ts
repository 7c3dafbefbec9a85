/**
 * The examples' data directory: making sure MIT-BIH is there (@ecgnn/data's `ensureDatabase`: downloaded from
 * PhysioNet, checksummed and resumable, when absent), optionally verified (used by examples/main.ts and
 * examples/distill.ts).
 */
import { assertVerified, ensureDatabase, verifyDatabaseDir } from '@ecgnn/data';

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
 * Makes sure MIT-BIH is in `<dataDir>/mitdb` (@ecgnn/data's `ensureDatabase`: downloaded when absent, about
 * 100 MB), then with `verify` checks the folder against its `SHA256SUMS`. Returns whether a download happened.
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
  return ensureDatabase('mitdb', opts.dataDir, {
    download: opts.download !== false,
    log: opts.log,
    baseUrl: opts.baseUrl,
  });
}
