/**
 * The multi-scale attention experiment (method 4 of ../shared/methods.md, LAMSCN) as a reproducible script: the
 * lightweight multi-scale attention network of @ecgnn/models and its MobileNet-style baseline trained on 10-s
 * windows — multi-label MIT-BIH windows split patient-wise (`--dataset mitdb`) or the 17-class fragment set
 * (`--dataset mitbih17`, single-label) — epoch and per-label thresholds chosen on validation, the test split read
 * once, each network exported to @ecgnn/infer, checked against core and timed. The pipeline is
 * `runMultiScaleExperiment` of @ecgnn/train; this script parses flags, writes the report and merges the
 * docs/results.json rows. See `--help`.
 */
import { relative, resolve } from 'node:path';
import {
  MULTISCALE_DATASETS,
  MULTISCALE_RUN_DEFAULTS,
  MULTISCALE_SMOKE,
  type MultiScaleDataset,
  type MultiScaleNetwork,
  type MultiScaleNetworkReport,
  type MultiScaleReport,
  type MultiScaleSettings,
  type ProgressMode,
  runMultiScaleExperiment,
} from '@ecgnn/train';
import {
  choice,
  type ExperimentOptions,
  experimentOptions,
  intOption,
  numberOption,
  parseFlags,
  UsageError,
} from './lib/flags.js';
import { writeFileAtomic } from './lib/report.js';
import { recordRows, runIfInvoked, startScript } from './lib/script.js';

export { UsageError } from './lib/flags.js';

/** Parsed command-line options. */
export interface MultiScaleCliOptions extends ExperimentOptions {
  dataset: MultiScaleDataset;
  networks: MultiScaleNetwork[];
  epochs: number | undefined;
  lr: number | undefined;
  posWeight: boolean;
  validationOnly: boolean;
}

const SCRIPT = 'pnpm exec tsx --conditions=@ecgnn/source examples/multiscale.ts';

/** Help text. */
export const HELP = `ecgnn multi-scale attention experiment (method 4, LAMSCN): a lightweight multi-scale network with
squeeze-and-excitation and dense connections against a MobileNet-style baseline.

usage: ${SCRIPT} [options]

  --dataset <name>     mitdb: multi-label 10-s MIT-BIH windows, DS1 train/validation (patient-wise), DS2 test
                       (default); mitbih17: the 17-class fragment set, single-label, stratified split
  --smoke              tiny run for tests (a few records or 1 in ${MULTISCALE_SMOKE.every} items, ${MULTISCALE_SMOKE.epochs.mitdb}/${MULTISCALE_SMOKE.epochs.mitbih17} epochs)
  --seed <n>           seed of weights, dropout and batch order (default 0; the split has its own fixed seed)
  --lamscn             train the multi-scale network only
  --mobilenet          train the baseline only (default: both)
  --epochs <n>         epochs (default ${MULTISCALE_RUN_DEFAULTS.epochs.mitdb} on mitdb, ${MULTISCALE_RUN_DEFAULTS.epochs.mitbih17} on mitbih17; the kept one is chosen on validation)
  --lr <x>             Adam learning rate at epoch 0 (default ${MULTISCALE_RUN_DEFAULTS.lr}; cosine-annealed)
  --pos-weight         mitdb: balanced positive weights in the binary cross-entropy (row ids end in -pw)
  --validation-only    stop after training: validation figures only, the test split is not read (exploration)
  --data <dir>         data directory holding mitdb/ and mitbih17/ (default: $ECGNN_DATA, else ../shared/data)
  --out <dir>          checkpoints, logs, model files, report (default ./ecgnn-out/multiscale-<dataset>)
  --record <file>      merge the rows (multiscale/lamscn-mitdb, multiscale/mobilenet-mitdb, …) into <file>
                       (docs/results.json) and regenerate results.md beside it
  --resume             continue from the checkpoints in --out (finished networks reloaded, a killed one resumed)
  --backend <name>     core backend for training: wasm (default when available) or cpu
  --no-download        fail instead of downloading MIT-BIH when it is absent
  --help               this text
`;

/** Parses `argv` (without the node and script paths); `null` means help was requested. */
export function parseOptions(argv: readonly string[]): MultiScaleCliOptions | null {
  const spec = {
    dataset: { type: 'string' },
    lamscn: { type: 'boolean' },
    mobilenet: { type: 'boolean' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    'pos-weight': { type: 'boolean' },
    'validation-only': { type: 'boolean' },
  } as const;
  const v = parseFlags(argv, spec, HELP);
  if (v.help) return null;
  const dataset = choice('dataset', v.dataset, MULTISCALE_DATASETS) ?? 'mitdb';
  const posWeight = v['pos-weight'] ?? false;
  if (posWeight && dataset !== 'mitdb')
    throw new UsageError('--pos-weight needs --dataset mitdb (multi-label)');
  const networks: MultiScaleNetwork[] =
    v.lamscn && !v.mobilenet
      ? ['lamscn']
      : v.mobilenet && !v.lamscn
        ? ['mobilenet']
        : ['lamscn', 'mobilenet'];
  const validationOnly = v['validation-only'] ?? false;
  if (validationOnly && v.record !== undefined) {
    throw new UsageError('--record needs the test figures: it cannot be combined with --validation-only');
  }
  return {
    ...experimentOptions(v, `ecgnn-out/multiscale-${dataset}`),
    dataset,
    networks,
    epochs: intOption('epochs', v.epochs, 1),
    lr: numberOption('lr', v.lr, (x) => x > 0),
    posWeight,
    validationOnly,
  };
}

/** Optional hooks of {@link main}. */
export interface MultiScaleIo {
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  /** The trainers' progress display (default 'auto'). */
  progress?: ProgressMode;
}

function pct(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? (100 * x).toFixed(1) : '–';
}

/** The markdown report of a run. */
export function multiScaleMarkdown(r: MultiScaleReport): string {
  const lines = [
    `# Multi-scale attention network (method 4)${r.smoke ? ' — smoke run, not a result' : ''}${r.validationOnly ? ' — validation only' : ''}`,
    '',
    `- Data: ${r.dataset} (${r.multiLabel ? 'multi-label' : 'single-label'}), ${r.protocol} — ${r.split}`,
    `- Command: \`${r.provenance.command}\``,
    `- Seed ${r.seed}, commit \`${r.provenance.commit}\`, ${r.provenance.date}`,
    `- Items per ${r.multiLabel ? 'label' : 'class'}: train ${JSON.stringify(r.counts.train)}, validation ${JSON.stringify(r.counts.validation)}${r.counts.test === null ? '' : `, test ${JSON.stringify(r.counts.test)}`}`,
    r.baseline === null
      ? '- Test split not read'
      : `- Trivial baseline (${r.baseline.rule}): test macro-F1 ${pct(r.baseline.macroF1)} %`,
    '',
    '| network | params | file bytes | validation macro-F1 % | test macro-F1 % | infer ms/window | infer ≠ core (test) | kept epoch | s/epoch |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const present = Object.values(r.networks) as MultiScaleNetworkReport[];
  for (const m of present) {
    const e = m.export;
    lines.push(
      `| ${m.id} | ${m.params} | ${e?.bytes ?? '–'} | ${pct(m.validationMacroF1)} | ${pct(m.test?.macroF1)} | ${e?.inferMsPerSample.toFixed(4) ?? '–'} | ${e === null ? '–' : `${e.test.disagreements}/${e.test.items}`} | ${m.training.result.bestEpoch}/${m.training.epochsRun} | ${m.training.secondsPerEpoch?.toFixed(1) ?? '–'} |`,
    );
  }
  for (const m of present) {
    const split = m.test ?? m.validation;
    lines.push(
      '',
      `## ${m.id} (${m.test === null ? 'validation' : 'test'})`,
      '',
      `Kept weights: ${m.selectedBy}.`,
      '',
      `| ${r.multiLabel ? 'label' : 'class'} | Se % | PPV % | F1 %${r.multiLabel ? ' | threshold' : ''} |`,
      `|---|---:|---:|---:|${r.multiLabel ? '---:|' : ''}`,
    );
    for (const [name, c] of Object.entries(split.perClass)) {
      const t = m.thresholds?.[name];
      lines.push(
        `| ${name} | ${pct(c.se)} | ${pct(c.ppv)} | ${pct(c.f1)}${r.multiLabel ? ` | ${t === undefined ? '–' : t.toFixed(3)}` : ''} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Runs the script with `argv`. Returns the report (also in `<out>/report.json` and `report.md`), or null
 * after `--help`.
 */
export async function main(argv: readonly string[], io: MultiScaleIo = {}): Promise<MultiScaleReport | null> {
  const log = io.log ?? ((line: string) => console.log(line));
  const opts = parseOptions(argv);
  if (opts === null) {
    log(HELP);
    return null;
  }
  const start = await startScript(
    { ...opts, script: SCRIPT, argv, needs: opts.dataset === 'mitdb' ? 'mitdb' : 'mitbih17', log },
    UsageError,
  );
  const { commit, dirty, command } = start;
  const dir = start.dataDir;
  const wasm = start.backend === 'wasm';
  log(
    `ecgnn multi-scale attention${opts.smoke ? ' (smoke run)' : ''}: ${opts.dataset}, ${opts.networks.join(' + ')}, seed ${opts.seed}, ${wasm ? 'wasm' : 'cpu'} backend, data ${dir}, output ${opts.out}`,
  );
  const settings: Partial<MultiScaleSettings> = { posWeight: opts.posWeight ? 'balanced' : 'none' };
  if (opts.lr !== undefined) settings.lr = opts.lr;
  const report = runMultiScaleExperiment({
    dataDir: dir,
    outDir: opts.out,
    dataset: opts.dataset,
    seed: opts.seed,
    networks: opts.networks,
    smoke: opts.smoke,
    epochs: opts.epochs,
    resume: opts.resume,
    settings,
    validationOnly: opts.validationOnly,
    progress: io.progress,
    provenance: { command, commit, date: new Date().toISOString(), commitDirty: dirty },
    log,
  });
  for (const row of report.rows) row.backend = wasm ? 'wasm' : 'cpu';
  await writeFileAtomic(resolve(opts.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(resolve(opts.out, 'report.md'), multiScaleMarkdown(report));
  log(`report: ${relative(process.cwd(), resolve(opts.out, 'report.md'))} and report.json`);
  if (opts.record) recordRows(opts.record, report.rows, log);
  return report;
}

runIfInvoked(import.meta.url, main, [UsageError]);
