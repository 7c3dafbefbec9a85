// Test-only access to the shared MIT-BIH data: locate the data directory and decode WFDB format 212 locally
// (@ecgnn/infer may not import @ecgnn/data, which depends on it).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Data directory: $ECGNN_DATA, else ../shared/data beside the repo root. */
export function dataDir(): string {
  return process.env.ECGNN_DATA ?? resolve(repoRoot, '../shared/data');
}

/** Why the mitdb data is unusable, or null when it is present. Throws when CI=true and it is missing. */
export function mitdbMissing(): string | null {
  const p = join(dataDir(), 'mitdb', '100.dat');
  if (existsSync(p)) return null;
  const msg = `MIT-BIH data not found at ${p} (set ECGNN_DATA)`;
  if (process.env.CI === 'true') throw new Error(`${msg}; data is required when CI=true`);
  return msg;
}

/**
 * Read `seconds` of lead 0 of a mitdb record (format 212, two interleaved 12-bit signals per 3 bytes) in mV:
 * (adc − baseline) / gain, with gain and baseline from the .hea file.
 */
export function readMitdbLead0(
  record: string,
  seconds: number,
  startSeconds = 0,
): { fs: number; signal: Float32Array } {
  const dir = join(dataDir(), 'mitdb');
  const hea = readFileSync(join(dir, `${record}.hea`), 'utf8')
    .trim()
    .split('\n');
  const [, nsig, fsStr] = hea[0].split(/\s+/);
  const fields = hea[1].split(/\s+/);
  if (fields[1] !== '212' || nsig !== '2')
    throw new Error(`record ${record}: expected 2 signals in format 212`);
  const fs = Number(fsStr);
  const gain = Number.parseFloat(fields[2]);
  const baseline = Number(fields[4]);
  const bytes = readFileSync(join(dir, `${record}.dat`));
  const first = Math.round(startSeconds * fs);
  const n = Math.round(seconds * fs);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const f = (first + i) * 3; // frame i: 3 bytes, sample of signal 0 in byte 0 + low nibble of byte 1
    let v = bytes[f] | ((bytes[f + 1] & 0x0f) << 8);
    if (v & 0x800) v -= 0x1000;
    out[i] = (v - baseline) / gain;
  }
  return { fs, signal: out };
}
