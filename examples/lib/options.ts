/** The command line of the main job (examples/main.ts): flags, defaults, the smoke-run sizes, help. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { intOption, UsageError } from './flags.js';

export { UsageError } from './flags.js';

/** Parsed command-line options. */
export interface MainOptions {
  epochs: number;
  batchesPerEpoch: number;
  seed: number;
  out: string;
  data: string | undefined;
  smoke: boolean;
  download: boolean;
  /** A docs/results.json file to merge this run's row into (by id), regenerating results.md beside it. */
  record: string | undefined;
}

/** Defaults of the full run (about 1–3 minutes on a 2-core machine; see docs/main-job.md). */
export const DEFAULTS = { epochs: 8, batchesPerEpoch: 150, seed: 0, out: 'ecgnn-out' } as const;
/** The smoke run (tests): few records, one short epoch, every 8th test beat, a short latency measurement. */
export const SMOKE = {
  epochs: 1,
  batchesPerEpoch: 12,
  trainRecords: 3,
  valRecords: 1,
  testRecords: 3,
  testEvery: 8,
};
/** Help text of `pnpm baseline --help`. */
export const HELP = `ecgnn main job: train, evaluate, export and check a beat classifier (inter-patient DS1→DS2).

usage: pnpm baseline [options]

  --epochs <n>       training epochs (default ${DEFAULTS.epochs})
  --batches <n>      training batches per epoch (default ${DEFAULTS.batchesPerEpoch})
  --seed <n>         seed of weights, dropout and batch sampling (default ${DEFAULTS.seed})
  --out <dir>        output directory for model.ecgnn, report.json, report.md (default ./${DEFAULTS.out}/)
  --data <dir>       data directory holding mitdb/ (default: $ECGNN_DATA, else ../shared/data beside the repo)
  --no-download      fail instead of downloading MIT-BIH when it is absent
  --record <file>    merge this run's results row into <file> (docs/results.json) and regenerate results.md
  --smoke            tiny run for tests: ${SMOKE.trainRecords} training records, ${SMOKE.epochs} epoch of ${SMOKE.batchesPerEpoch} batches, every ${SMOKE.testEvery}th beat of ${SMOKE.testRecords} test records
  --help             this text
`;

/** Parses `argv` (without the node and script paths); `null` means help was requested. */
export function parseOptions(argv: readonly string[]): MainOptions | null {
  const spec = {
    epochs: { type: 'string' },
    batches: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    data: { type: 'string' },
    smoke: { type: 'boolean' },
    'no-download': { type: 'boolean' },
    record: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof spec; strict: true; allowPositionals: false }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${HELP}`);
  }
  const v = parsed.values;
  if (v.help) return null;
  const smoke = v.smoke ?? false;
  const d = smoke ? SMOKE : DEFAULTS;
  return {
    epochs: intOption('epochs', v.epochs, 1) ?? d.epochs,
    batchesPerEpoch: intOption('batches', v.batches, 1) ?? d.batchesPerEpoch,
    seed: intOption('seed', v.seed, 0) ?? DEFAULTS.seed,
    out: resolve(v.out ?? DEFAULTS.out),
    data: v.data,
    smoke,
    download: !(v['no-download'] ?? false),
    record: v.record === undefined ? undefined : resolve(v.record),
  };
}
