/**
 * `ecgnn train --model <name>`: one beat model trained on MIT-BIH's inter-patient split, a thin wrapper of
 * @ecgnn/train's `runTrainExperiment` (the distillation experiment's data, `trainStage` recipe and final check):
 * DS1 with the patient-wise validation split, the epoch chosen on validation, DS2 read once at the end; the model
 * exported to `<out>/<model>.ecgnn`, reloaded in @ecgnn/infer and compared with core. Writes
 * `<out>/<model>/report.json` and prints the validation and test figures.
 */
import { join } from 'node:path';
import {
  DISTILL_DEFAULTS,
  DISTILL_SMOKE,
  type DistillSamplerName,
  type Metrics,
  pct,
  runTrainExperiment,
  TRAIN_MODEL_KINDS,
  TRAIN_MODELS,
  type TrainModelName,
} from '@ecgnn/train';
import { type Command, Option } from 'commander';
import {
  type ExperimentCliOptions,
  finishRun,
  runProvenance,
  startRun,
  withExperimentOptions,
  writeText,
} from '../experiment.js';
import { EXIT_OK, type RunContext } from '../io.js';
import { intArg } from '../options.js';

/** Parsed options of `train`. */
interface TrainOptions extends ExperimentCliOptions {
  model: TrainModelName;
  epochs?: number;
  sampler: DistillSamplerName;
}

/** Accuracy and macro-F1 over N, S, V, F of `m`, in words. */
function figures(m: Metrics): string {
  return `accuracy ${pct(m.accuracy)} %, macro-F1 (${m.subsetClasses.join(',')}) ${pct(m.subsetMacroF1)} %`;
}

async function train(ctx: RunContext, o: TrainOptions, argv: readonly string[]): Promise<number> {
  const run = await startRun(ctx, o, argv, 'ecgnn-out/train', 'mitdb');
  run.log(
    `ecgnn train ${o.model}${o.smoke ? ' (smoke run)' : ''}: seed ${o.seed}, ${run.backend} backend, data ${run.dataDir}, output ${run.out}`,
  );
  let report: ReturnType<typeof runTrainExperiment>;
  try {
    report = runTrainExperiment({
      model: o.model,
      dataDir: run.dataDir,
      outDir: run.out,
      seed: o.seed,
      smoke: o.smoke ?? false,
      epochs: o.epochs,
      sampler: o.sampler,
      resume: o.resume ?? false,
      progress: run.progress.display,
      log: run.log,
      provenance: runProvenance(run),
    });
  } finally {
    run.progress.close();
  }
  const reportPath = join(run.out, o.model, 'report.json');
  writeText(reportPath, `${JSON.stringify({ ...report, backend: run.backend }, null, 2)}\n`);
  const r = report.training.result;
  const x = report.export;
  finishRun(
    ctx,
    run,
    o,
    { ...report, backend: run.backend },
    [],
    [
      `${o.model} (${report.config.kind}): ${report.params} parameters, kept epoch ${r.bestEpoch} of ${report.training.epochsRun} (${r.stopReason})${o.smoke ? ' — smoke run, not a result' : ''}`,
      `validation (${report.data.records.validation.length} DS1 records, chose the epoch): ${figures(report.validation)}`,
      `test (DS2, ${report.data.records.test.length} records, read once): ${figures(report.test)}`,
      `model file: ${x.file} (${x.bytes} bytes); @ecgnn/infer = core on ${x.agreement === 1 ? 'every' : `${(100 * x.agreement).toFixed(3)} % of the`} test beat${x.agreement === 1 ? '' : 's'} (max |Δp| ${x.maxAbsProbDiff.toExponential(2)}); ${x.inferMsPerSample.toFixed(4)} ms per beat at batch 1`,
      `report: ${reportPath}`,
    ],
  );
  return EXIT_OK;
}

/** Registers `train` on `program`; `argv` is the whole command line (recorded in the model file's provenance). */
export function registerTrain(program: Command, ctx: RunContext, argv: readonly string[]): void {
  const kinds = TRAIN_MODELS.map((m) => `${m} (${TRAIN_MODEL_KINDS[m]})`).join(', ');
  const cmd = program
    .command('train')
    .description(
      'train one beat model on MIT-BIH (inter-patient DS1/DS2), export it and check it in @ecgnn/infer (@ecgnn/train)',
    )
    .addOption(
      new Option('--model <name>', `beat model of @ecgnn/models: ${kinds}`)
        .choices([...TRAIN_MODELS])
        .makeOptionMandatory(),
    );
  withExperimentOptions(cmd, {
    smoke: `tiny run for tests: a few records, every ${DISTILL_SMOKE.every}th beat, tiny architectures, ${DISTILL_SMOKE.studentStage.epochs} epochs (not a result)`,
    seed: 'seed of the initial weights, dropout and batch order',
    outHelp:
      'output folder (default ./ecgnn-out/train): checkpoints, train.jsonl and report.json in <out>/<model>/, the model file <out>/<model>.ecgnn',
  })
    .option(
      '--epochs <n>',
      `most epochs (default ${DISTILL_DEFAULTS.teacherStage.epochs} for the teacher, ${DISTILL_DEFAULTS.studentStage.epochs} for the others; early stopping on a validation-loss plateau)`,
      intArg(1),
    )
    .addOption(
      new Option('--sampler <name>', 'training batches')
        .choices(['weighted', 'class-balanced', 'shuffled', 'hard-example'])
        .default('weighted'),
    )
    .addHelpText(
      'after',
      `
Beat models only (windows around R peaks + RR features): the binary network (bnn) and the multi-scale network
take 10-s fragments or windows and are trained by \`ecgnn binarize\` and examples/multiscale.ts.
Recipe: the distillation experiment's trainStage (SGD with momentum, ReduceLROnPlateau, gradient clipping; the
teacher's settings for the teacher, the students' for the others); the epoch of the best validation macro-F1
over N, S, V, F is kept. No results row is written; the method commands (distill, prune, binarize, meta) write them.`,
    )
    .action(async (o: TrainOptions) => {
      ctx.code = await train(ctx, o, argv);
    });
}
