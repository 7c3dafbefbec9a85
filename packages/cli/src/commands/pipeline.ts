/**
 * `ecgnn pipeline`: the README's main job — MIT-BIH → teacher → distilled student → lottery ticket → binary
 * network, each exported and checked in @ecgnn/infer, then one DS2 record classified end to end from raw samples —
 * a thin wrapper of @ecgnn/train's `runPipeline`. Writes `<out>/report.json`, the self-contained
 * `<out>/report.html` (@ecgnn/train's `renderPipelineReport`) and `<out>/pipeline.log` (the experiments' own
 * progress lines); one line per stage on stderr.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DS2 } from '@ecgnn/data';
import {
  PIPELINE_SETTINGS,
  PIPELINE_STAGES,
  PIPELINE_TRAINING_STAGES,
  type PipelineMode,
  type PipelineReport,
  type PipelineTrainingStage,
  pct,
  pipelineResultsRows,
  pipelineStageSummary,
  pipelineView,
  recordResultsRow,
  renderPipelineReport,
  runPipeline,
  runPipelineStage,
} from '@ecgnn/train';
import { type Command, Option } from 'commander';
import { type ExperimentCliOptions, runProvenance, startRun, writeText } from '../experiment.js';
import { EXIT_OK, formatTable, printJson, println, type RunContext, UsageError } from '../io.js';
import { intArg, withDataOption, withJsonOption } from '../options.js';
import { trainingProgress } from '../progress.js';

/** Parsed options of `pipeline` (commander's camel-cased names). */
interface PipelineCliOptions {
  quick?: boolean;
  full?: boolean;
  smoke?: boolean;
  seed: number;
  data?: string;
  out?: string;
  record?: string;
  serveRecord?: string;
  stage?: PipelineTrainingStage;
  resume?: boolean;
  backend: 'wasm' | 'cpu';
  download: boolean;
  verbose?: boolean;
  json?: boolean;
}

/** The summary printed on stdout: one row per model (pruning rounds left out), then where the reports are. */
function summaryLines(r: PipelineReport, out: string): string[] {
  const rows = r.models
    .filter((m) => !m.round)
    .map((m) => [
      m.name,
      String(m.params),
      m.bytes === null ? '–' : String(m.bytes),
      pct(m.validationMacroF1),
      pct(m.testMacroF1),
      m.infer ? `${m.infer.items - m.infer.disagreements}/${m.infer.items}` : '–',
    ]);
  const s = r.serve;
  return [
    ...(r.mode === 'full' ? [] : [`${r.mode} run: reduced data and epochs — these figures are not results`]),
    formatTable(['model', 'params', 'bytes', 'val macro-F1 %', 'test macro-F1 %', 'infer = core'], rows),
    `record ${s.record} end to end: ${s.matched} of ${s.referenceBeats} reference beats matched, ${(100 * s.accuracy).toFixed(1)} % labelled as annotated`,
    `report: ${join(out, 'report.html')} (and report.json); total ${r.timings.total.toFixed(0)} s`,
  ];
}

async function pipeline(ctx: RunContext, o: PipelineCliOptions, argv: readonly string[]): Promise<number> {
  const mode: PipelineMode = o.full ? 'full' : o.smoke ? 'smoke' : 'quick';
  if (o.serveRecord !== undefined && !DS2.includes(o.serveRecord))
    throw new UsageError(`--serve-record must be a DS2 record (${DS2.join(' ')}), got '${o.serveRecord}'`);
  if (o.record !== undefined && mode !== 'full')
    throw new UsageError(`--record needs --full: ${mode} figures are not results`);
  if (o.stage !== undefined && o.record !== undefined)
    throw new UsageError(
      '--stage runs one stage and writes no rows: record with the whole pipeline (--resume reloads the stage)',
    );
  const started: ExperimentCliOptions = { ...o, smoke: mode === 'smoke' };
  const run = await startRun(ctx, started, argv, 'ecgnn-out/pipeline', 'mitdb');
  // A stage run alone has its own log: three of them may share --out.
  const logFile = join(run.out, o.stage === undefined ? 'pipeline.log' : `pipeline-${o.stage}.log`);
  writeFileSync(logFile, '');
  const log = (line: string): void => {
    appendFileSync(logFile, `${line}\n`);
    if (o.verbose) run.log(line);
  };
  run.log(
    `ecgnn pipeline (${mode}${mode === 'full' ? '' : ': not a result'}): seed ${o.seed}, ${run.backend} backend, data ${run.dataDir}, output ${run.out}; details in ${logFile}`,
  );
  // Training progress: bars on a terminal; elsewhere only with --verbose (the stage lines are the progress).
  const progress = trainingProgress(ctx.io, !(ctx.io.tty || o.verbose));
  if (o.stage !== undefined) {
    let line: string;
    const t0 = performance.now();
    try {
      const stageOpts = {
        dataDir: run.dataDir,
        outDir: run.out,
        seed: o.seed,
        mode,
        resume: o.resume ?? false,
        progress: progress.display,
        provenance: runProvenance(run),
        log,
      };
      line = pipelineStageSummary(o.stage, runPipelineStage(stageOpts, o.stage));
    } finally {
      progress.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    appendFileSync(logFile, `${o.stage} done in ${seconds.toFixed(1)} s: ${line}\n`);
    run.log(
      `${o.stage} done in ${seconds.toFixed(1)} s: ${line}; the whole pipeline with --resume and the same --out reloads it`,
    );
    if (o.json)
      printJson(ctx.io, { mode, stage: o.stage, out: join(run.out, o.stage), seconds, summary: line });
    return EXIT_OK;
  }
  let report: PipelineReport;
  try {
    report = runPipeline({
      dataDir: run.dataDir,
      outDir: run.out,
      seed: o.seed,
      mode,
      serveRecord: o.serveRecord,
      resume: o.resume ?? false,
      progress: progress.display,
      provenance: runProvenance(run),
      onStage: (line) => {
        // On a terminal the display ends its bar before the line; elsewhere it may be quiet.
        if (ctx.io.tty) progress.display.line(line);
        else run.log(line);
        appendFileSync(logFile, `${line}\n`);
      },
      log,
    });
  } finally {
    progress.close();
  }
  const jsonPath = join(run.out, 'report.json');
  const htmlPath = join(run.out, 'report.html');
  writeText(
    jsonPath,
    `${JSON.stringify(report, (_k, v) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as Float32Array) : v), 2)}\n`,
  );
  writeText(htmlPath, renderPipelineReport(pipelineView(report)));
  if (run.record) {
    const rows = pipelineResultsRows(report);
    for (const row of rows) recordResultsRow(run.record, row);
    run.log(
      `results: ${rows.map((r) => r.id).join(', ')} merged into ${run.record} (and results.md beside it)`,
    );
  }
  run.log(`[${PIPELINE_STAGES.length}/${PIPELINE_STAGES.length}] report: ${htmlPath}`);
  if (o.json) {
    const { strip: _strip, ...serve } = report.serve;
    printJson(ctx.io, {
      mode,
      out: run.out,
      report: htmlPath,
      json: jsonPath,
      stages: report.stages,
      models: report.models,
      serve,
      timings: report.timings,
    });
    return EXIT_OK;
  }
  for (const line of summaryLines(report, run.out)) println(ctx.io.out, line);
  return EXIT_OK;
}

/** Registers `pipeline` on `program`; `argv` is the whole command line (recorded in the provenance). */
export function registerPipeline(program: Command, ctx: RunContext, argv: readonly string[]): void {
  const q = PIPELINE_SETTINGS.quick;
  const cmd = program
    .command('pipeline')
    .description(
      'the main job: MIT-BIH → teacher → distilled student → pruned ticket → binary network, each exported and checked in @ecgnn/infer, one DS2 record classified end to end; writes a self-contained HTML report',
    )
    .addOption(
      new Option(
        '--quick',
        `minutes, not hours (default): every ${q.distill.settings.every}th beat, ${q.distill.teacherEpochs} teacher and ${q.distill.studentEpochs} student epochs, ${q.prune.search.maxRounds} pruning rounds, every ${q.binarize.settings.every}th fragment for ${q.binarize.epochs} epochs — figures labelled quick, not results`,
      ).conflicts(['full', 'smoke']),
    )
    .addOption(
      new Option('--full', 'the settings of docs/results.md (hours on 2 cores)').conflicts(['smoke']),
    )
    .addOption(new Option('--smoke', 'tiny run for tests: a few records, 1–2 epochs (not a result)'))
    .option('--seed <n>', 'seed of every stage', intArg(0), 0);
  withJsonOption(
    withDataOption(cmd)
      .option(
        '--out <dir>',
        'one folder per stage, report.json, report.html, pipeline.log (default ./ecgnn-out/pipeline)',
      )
      .option(
        '--record <file>',
        "with --full: merge the stages' results rows (distill, lth, bnn) into this results.json and its results.md",
      )
      .option('--serve-record <name>', `DS2 record classified end to end (default ${q.serve.record})`)
      .addOption(
        new Option(
          '--stage <name>',
          'run only this training stage into <out>/<name> (no report, no rows): the three are independent, so three processes can share the cores; then the whole pipeline with --resume reloads them',
        ).choices([...PIPELINE_TRAINING_STAGES]),
      )
      .option(
        '--resume',
        'continue from the checkpoints in --out (finished models reloaded, a killed one resumed)',
      )
      .addOption(
        new Option('--backend <name>', 'core backend for training (wasm falls back to cpu when unavailable)')
          .choices(['wasm', 'cpu'])
          .default('wasm'),
      )
      .option('--no-download', 'fail instead of downloading MIT-BIH when it is absent')
      .option('--verbose', "the experiments' progress lines on stderr too (always in <out>/pipeline.log)"),
  ).action(async (o: PipelineCliOptions) => {
    ctx.code = await pipeline(ctx, o, argv);
  });
}
