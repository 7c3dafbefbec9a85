// Decode benchmark for @ecgnn/data: WFDB record (650 000 × 2 samples, format 212) and
// annotations, plus the DSP steps used to prepare beats.
// Run: pnpm exec tsx --conditions=@ecgnn/source benchmarks/data-decode.ts [record] [runs]
import { readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  butterworthBandpass,
  databaseDir,
  decodeRecord,
  detectQrs,
  hasDatabase,
  parseHeader,
  readAnnotations,
  removeBaselineWander,
  resample,
} from '@ecgnn/data';

const record = process.argv[2] ?? '100';
const runs = Number(process.argv[3] ?? 15);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function bench(name: string, fn: () => unknown, n = runs): void {
  fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  console.log(
    `${name.padEnd(48)} median ${median(t).toFixed(2).padStart(8)} ms  (min ${Math.min(...t).toFixed(2)}, max ${Math.max(...t).toFixed(2)}, ${n} runs)`,
  );
}

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, Node ${process.version}`,
);
console.log(`command: pnpm exec tsx --conditions=@ecgnn/source benchmarks/data-decode.ts ${record} ${runs}`);
if (!hasDatabase('mitdb')) {
  console.log('mitdb not found in the data directory (set ECGNN_DATA); nothing measured');
  process.exit(0);
}
const dir = databaseDir('mitdb');
const header = parseHeader(readFileSync(join(dir, `${record}.hea`), 'latin1'));
const files = new Map<string, Uint8Array>();
for (const s of header.signals) files.set(s.fileName, new Uint8Array(readFileSync(join(dir, s.fileName))));
const atr = new Uint8Array(readFileSync(join(dir, `${record}.atr`)));
const rec = decodeRecord(header, files);
console.log(
  `record ${record}: ${rec.nSamples} samples × ${rec.signals.length} signals, format ${header.signals[0].format}`,
);
bench('decode .dat (format 212, checksums, mV)', () => decodeRecord(header, files));
bench('read .atr annotations', () => readAnnotations(atr));
const x = rec.signals[0];
bench('removeBaselineWander (200+600 ms medians)', () => removeBaselineWander(x, rec.fs), 5);
bench(
  'butterworthBandpass 0.5–40 Hz order 2 zero-phase',
  () => butterworthBandpass(x, rec.fs, 0.5, 40, 2),
  5,
);
bench('resample 360 → 250 Hz', () => resample(x, rec.fs, 250), 5);
bench('detectQrs (30 min record)', () => detectQrs(x, rec.fs), 5);
