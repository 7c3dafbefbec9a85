// QRS detector under added noise: MIT-BIH records 118 and 119 (MLII) plus the Noise Stress Test
// Database's muscle-artefact (ma) or baseline-wander (bw) record, first noise channel, over the whole length.
// SNR as in the nst tool's definition: S = (median peak-to-peak QRS amplitude)² / 8 (QRS amplitude
// measured within ±60 ms of each reference beat), N = variance of the scaled noise.
// (Approximation of EC57's protocol: nst applies noise in alternating 2-min segments after 5 min;
// here it is applied everywhere, which is harsher.)
// Run: pnpm exec tsx --conditions=@ecgnn/source benchmarks/data-qrs-noise.ts
import { cpus, platform, release } from 'node:os';
import { BEAT_CODES, detectQrs, hasDatabase, loadAnnotations, loadRecord, matchBeats } from '@ecgnn/data';

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${platform()} ${release()}, Node ${process.version}`,
);
console.log('command: pnpm exec tsx --conditions=@ecgnn/source benchmarks/data-qrs-noise.ts');
if (!hasDatabase('mitdb')) {
  console.log('mitdb not found in the data directory (set ECGNN_DATA); nothing measured');
  process.exit(0);
}
const noises = ['ma', 'bw'].map((n) => {
  const rec = loadRecord('nstdb', n);
  return { name: n, x: rec.signals[0] };
});
for (const r of ['118', '119']) {
  const rec = loadRecord('mitdb', r);
  const lead = Math.max(0, rec.descriptions.indexOf('MLII'));
  const x = rec.signals[lead];
  const ann = loadAnnotations('mitdb', r);
  const ref: number[] = [];
  for (let i = 0; i < ann.code.length; i++) if (BEAT_CODES.has(ann.code[i])) ref.push(ann.sample[i]);
  const w = Math.round(0.06 * rec.fs);
  const p2p = ref
    .map((c) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = Math.max(0, c - w); k <= Math.min(x.length - 1, c + w); k++) {
        lo = Math.min(lo, x[k]);
        hi = Math.max(hi, x[k]);
      }
      return hi - lo;
    })
    .sort((a, b) => a - b);
  const S = p2p[p2p.length >> 1] ** 2 / 8;
  const tol = Math.round(0.15 * rec.fs);
  const clean = matchBeats(ref, detectQrs(x, rec.fs), tol);
  console.log(
    `${r} clean: Se ${clean.sensitivity.toFixed(2)} %  +P ${clean.positivePredictivity.toFixed(2)} %`,
  );
  for (const nz of noises) {
    let mean = 0;
    for (const v of nz.x) mean += v;
    mean /= nz.x.length;
    let varN = 0;
    for (const v of nz.x) varN += (v - mean) ** 2;
    varN /= nz.x.length;
    const row: string[] = [];
    for (const snr of [24, 18, 12, 6, 0]) {
      const g = Math.sqrt(S / 10 ** (snr / 10) / varN);
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = x[i] + g * (nz.x[i % nz.x.length] - mean);
      const m = matchBeats(ref, detectQrs(y, rec.fs), tol);
      row.push(`${snr} dB: ${m.sensitivity.toFixed(2)}/${m.positivePredictivity.toFixed(2)}`);
    }
    console.log(`${r} + ${nz.name} (Se/+P %): ${row.join('  ')}`);
  }
}
