/**
 * The binary-network experiment (method 5 of ../shared/methods.md, Pu et al. 2023) as a reproducible script:
 * the binary ECG network of @ecgnn/models and its full-precision twin trained on 10-s fragments (17-class
 * `mitbih17`, or the 5-class AAMI set built from mitdb), the epoch chosen on validation, the test split read
 * once, each network exported bit-packed to @ecgnn/infer, checked against core and timed. The pipeline is
 * `runBnnExperiment` of @ecgnn/train; this script parses flags, writes the report and merges the
 * docs/results.json rows. See `--help`.
 */
import { relative, resolve } from 'node:path';
import {
  type AugmentSpec,
  BNN_RUN_DEFAULTS,
  BNN_SMOKE,
  type BnnExperimentOptions,
  type BnnReport,
  type BnnSettings,
  type BnnTraining,
  type BnnVariant,
  bnnMarkdown,
  type ProgressMode,
  parseAugmentSpec,
  runBnnExperiment,
  trainBnnNetworks,
} from '@ecgnn/train';
import {
  choice,
  type ExperimentOptions,
  experimentOptions,
  intOption,
  parseFlags,
  UsageError,
} from './lib/flags.js';
import { writeFileAtomic } from './lib/report.js';
import { recordRows, runIfInvoked, startScript } from './lib/script.js';

export { bnnMarkdown } from '@ecgnn/train';
export { UsageError } from './lib/flags.js';

/** Parsed command-line options. */
export interface BnnCliOptions extends ExperimentOptions {
  classes: 17 | 5;
  patient: boolean;
  variants: BnnVariant[];
  epochs: number | undefined;
  lr: number | undefined;
  estimator: 'clipped' | 'triangular';
  scale: 'none' | 'channel';
  monotone: boolean;
  augment: AugmentSpec | null;
  noTest: boolean;
}

/** Sampling rate of both fragment sets (mitbih17 and the mitdb fragments), for `--augment wander=…`. */
const FRAGMENT_HZ = 360;

const SCRIPT = 'pnpm exec tsx --conditions=@ecgnn/source examples/bnn.ts';

/** Help text. */
export const HELP = `ecgnn binary-network experiment (method 5, Pu et al. 2023): a ~4 KB binary ECG network and its float twin.

usage: ${SCRIPT} [options]

  --smoke              tiny run for tests: 1 in ${BNN_SMOKE.every} fragments of each class, ${BNN_SMOKE.epochs} epochs
  --seed <n>           seed of weights, dropout and batch order (default 0; the split has its own fixed seed)
  --classes <17|5>     17-class mitbih17 fragments (default) or the 5-class AAMI fragments built from mitdb
  --patient            5 classes only: patient-wise split (DS1 train/validation, DS2 test) instead of stratified
  --binary             train the binary network only
  --float              train the full-precision twin only (default: both, and the infer speed ratio)
  --epochs <n>         epochs (default ${BNN_RUN_DEFAULTS.epochs}; the kept one is chosen on validation accuracy)
  --lr <x>             Adam learning rate at epoch 0 (default ${BNN_RUN_DEFAULTS.lr}; cosine-annealed)
  --estimator <name>   surrogate gradient of sign: clipped (default) or triangular (sharpness ${BNN_RUN_DEFAULTS.sharpness.from}→${BNN_RUN_DEFAULTS.sharpness.to})
  --scale <name>       none (default, the method's) or channel (α = mean|w| per output channel)
  --monotone           PReLU slopes kept ≥ 0, so every binary block folds into integer thresholds on export
                       (row ids end in -monotone; the method's slopes are free)
  --augment <steps>    random transforms of the training batches, comma-separated: shift=<max samples>[:wrap|edge|zero],
                       scale=<min>:<max>, noise=<std>, wander=<amplitude>:<max Hz>, each optionally @<probability>,
                       e.g. shift=360,scale=0.8:1.2,noise=0.05 (row ids end in -aug; default none)
  --no-test            train and report the validation figures only, without reading the test split (for choosing
                       settings on validation; a later run with the same flags and --resume reads the test split)
  --data <dir>         data directory holding mitbih17/ and mitdb/ (default: $ECGNN_DATA, else ../shared/data)
  --out <dir>          checkpoints, logs, model files, report (default ./ecgnn-out/bnn-<classes>)
  --record <file>      merge the rows (bnn/binary-17, bnn/float-17, …) into <file> (docs/results.json) and
                       regenerate results.md beside it
  --resume             continue from the checkpoints in --out (finished networks reloaded, a killed one resumed;
                       a network trained there with other settings, seed or model is refused, naming what differs)
  --backend <name>     core backend for training: wasm (default when available) or cpu
  --no-download        fail instead of downloading MIT-BIH (5 classes) when it is absent
  --help               this text
`;

/** Parses `argv` (without the node and script paths); `null` means help was requested. */
export function parseOptions(argv: readonly string[]): BnnCliOptions | null {
  const spec = {
    classes: { type: 'string' },
    patient: { type: 'boolean' },
    binary: { type: 'boolean' },
    float: { type: 'boolean' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    estimator: { type: 'string' },
    scale: { type: 'string' },
    monotone: { type: 'boolean' },
    augment: { type: 'string' },
    'no-test': { type: 'boolean' },
  } as const;
  const v = parseFlags(argv, spec, HELP);
  if (v.help) return null;
  const classes = Number(choice('classes', v.classes, ['17', '5']) ?? '17') as 17 | 5;
  const patient = v.patient ?? false;
  if (patient && classes !== 5) throw new UsageError('--patient needs --classes 5 (mitbih17 has no DS1/DS2)');
  const variants: BnnVariant[] =
    v.binary && !v.float ? ['binary'] : v.float && !v.binary ? ['float'] : ['binary', 'float'];
  let lr: number | undefined;
  if (v.lr !== undefined) {
    lr = Number(v.lr);
    if (v.lr.trim() === '' || !(lr > 0) || !Number.isFinite(lr))
      throw new UsageError(`--lr: bad value '${v.lr}'`);
  }
  return {
    ...experimentOptions(v, `ecgnn-out/bnn-${classes}${patient ? '-patient' : ''}`),
    classes,
    patient,
    variants,
    epochs: intOption('epochs', v.epochs, 1),
    lr,
    estimator: choice('estimator', v.estimator, ['clipped', 'triangular']) ?? 'clipped',
    scale: choice('scale', v.scale, ['none', 'channel']) ?? 'none',
    monotone: v.monotone ?? false,
    augment: v.augment === undefined ? null : augmentOption(v.augment),
    noTest: v['no-test'] ?? false,
  };
}

function augmentOption(text: string): AugmentSpec {
  try {
    return parseAugmentSpec(text, FRAGMENT_HZ);
  } catch (e) {
    throw new UsageError(`--augment: ${(e as Error).message}`);
  }
}

/** Optional hooks of {@link main}. */
export interface BnnIo {
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  /** The trainers' progress display (default 'auto'). */
  progress?: ProgressMode;
}

/**
 * Runs the script with `argv`. Returns the report (also in `<out>/report.json` and `report.md`), or null
 * after `--help`.
 */
export async function main(argv: readonly string[], io: BnnIo = {}): Promise<BnnReport | null> {
  const log = io.log ?? ((line: string) => console.log(line));
  const opts = parseOptions(argv);
  if (opts === null) {
    log(HELP);
    return null;
  }
  const start = await startScript(
    { ...opts, script: SCRIPT, argv, needs: opts.classes === 5 ? 'mitdb' : 'mitbih17', log },
    UsageError,
  );
  const { commit, dirty, command } = start;
  const dir = start.dataDir;
  const wasm = start.backend === 'wasm';
  log(
    `ecgnn binary network${opts.smoke ? ' (smoke run)' : ''}: ${opts.classes} classes, ${opts.variants.join(' + ')}, seed ${opts.seed}, ${wasm ? 'wasm' : 'cpu'} backend, data ${dir}, output ${opts.out}`,
  );
  const settings: Partial<BnnSettings> = {
    estimator: opts.estimator,
    scale: opts.scale,
    preluSlopes: opts.monotone ? 'nonNegative' : 'free',
  };
  if (opts.lr !== undefined) settings.lr = opts.lr;
  if (opts.augment !== null) settings.augment = opts.augment;
  const experiment: BnnExperimentOptions = {
    dataDir: dir,
    outDir: opts.out,
    seed: opts.seed,
    classes: opts.classes,
    protocol: opts.patient ? 'patient' : 'stratified',
    variants: opts.variants,
    smoke: opts.smoke,
    epochs: opts.epochs,
    resume: opts.resume,
    settings,
    progress: io.progress,
    provenance: { command, commit, date: new Date().toISOString(), commitDirty: dirty },
    log,
  };
  if (opts.noTest) {
    await writeValidationOnly(opts.out, trainBnnNetworks(experiment), command, log);
    return null;
  }
  const report = runBnnExperiment(experiment);
  for (const row of report.rows) row.backend = wasm ? 'wasm' : 'cpu';
  await writeFileAtomic(resolve(opts.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(resolve(opts.out, 'report.md'), bnnMarkdown(report));
  log(`report: ${relative(process.cwd(), resolve(opts.out, 'report.md'))} and report.json`);
  if (opts.record) {
    recordRows(opts.record, report.rows, log);
  }
  return report;
}

/** `--no-test`: the kept epoch and validation figures of each network, in `<out>/validation.json`. */
async function writeValidationOnly(
  out: string,
  run: BnnTraining,
  command: string,
  log: (line: string) => void,
): Promise<void> {
  const networks = Object.fromEntries(
    run.variants.map((v) => {
      const t = run.trained[v];
      const m = t?.validation.metrics;
      return [
        v,
        {
          keptEpoch: t?.result.bestEpoch ?? null,
          epochs: t?.result.history.length ?? null,
          accuracy: m?.accuracy ?? null,
          macroF1: m?.macroF1 ?? null,
        },
      ];
    }),
  );
  for (const [v, n] of Object.entries(networks))
    log(
      `${v}: validation accuracy ${n.accuracy?.toFixed(4)} macro-F1 ${n.macroF1?.toFixed(4)} (epoch ${n.keptEpoch} of ${n.epochs})`,
    );
  const file = resolve(out, 'validation.json');
  const body = { command, settings: run.settings, validationItems: run.data.validation.count, networks };
  await writeFileAtomic(file, `${JSON.stringify(body, null, 2)}\n`);
  log(`--no-test: the test split was not read; validation figures in ${relative(process.cwd(), file)}`);
}

runIfInvoked(import.meta.url, main, [UsageError]);
