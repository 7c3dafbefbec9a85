// Shared by the data-dependent tests: find the data directory, run when present, FAIL when
// CI=true and absent, skip with a message otherwise.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { dataDir } from '../src/index.js';

/** Data directory used by the tests (ECGNN_DATA or ../shared/data beside the repo). */
export const DATA_DIR = dataDir();

/** File whose presence marks each database as available. */
const MARKERS: Record<string, string> = { mitdb: 'RECORDS', mitbih17: 'index.csv', nstdb: 'bw.hea' };

/** `describe` that needs database `db` in the data directory. */
export function describeWithData(db: string, name: string, body: () => void): void {
  const marker = join(DATA_DIR, db, MARKERS[db] ?? 'RECORDS');
  if (existsSync(marker)) {
    describe(name, body);
    return;
  }
  const why = `${marker} not found (set ECGNN_DATA to the data directory)`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('requires the data when CI=true', () => {
        throw new Error(`${why}; data-dependent tests are required in CI`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${why}`);
  describe.skip(`${name} (skipped: ${why})`, body);
}
