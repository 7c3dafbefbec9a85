/**
 * `ecgnn export <checkpoint> --out <file>`: a training checkpoint of @ecgnn/train (model config + weights) → an
 * @ecgnn/infer model file, or ONNX (opset 13, @ecgnn/export's writer). The model is rebuilt with @ecgnn/models'
 * `createModel` and exported with the experiments' own exporters: @ecgnn/train's `exportClassifier` for the beat
 * classifiers (teacher, student, BeatNet, …) and `exportBnn` for the binary network and its twin. A checkpoint
 * holds no preprocessing, so the input description is the main job's (beats: MLII at 180 Hz, 45 samples before
 * the R peak, the four RR ratios when the model takes RR features; fragments: 10 s at 360 Hz), overridable by
 * flags; sizes that do not fit the model are an error naming both.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ValueError } from '@ecgnn/core';
import { AAMI_CLASSES, FRAGMENT17_CLASSES } from '@ecgnn/data';
import { type ExportedModel, modelToOnnx, saveModel } from '@ecgnn/export';
import { BinaryEcgNet, createModel, ModelConfigError } from '@ecgnn/models';
import {
  beatPreprocessing,
  type DatasetPreprocessing,
  exportBnn,
  exportClassifier,
  fragmentPreprocessing,
  loadCheckpoint,
} from '@ecgnn/train';
import { type Command, Option } from 'commander';
import { CliError, EXIT_OK, printJson, println, type RunContext } from '../io.js';
import { intArg, listArg, numberArg, withJsonOption } from '../options.js';

/** Options of `export`. */
interface ExportOptions {
  out: string;
  format: 'ecgnn' | 'onnx';
  classes?: string[];
  input?: 'beat' | 'fragment';
  sampleRate?: number;
  before?: number;
  storage: 'float32' | 'float16' | 'int8';
  name?: string;
  json?: boolean;
}

/** The plain fields of a model config the export reads. */
interface ConfigFields {
  kind: string;
  classes: number;
  length?: number;
  rrFeatures?: number;
}

/** Default class names of a model with `k` outputs: AAMI N S V F Q (5) or the 17 fragment classes (17). */
function defaultClasses(k: number): string[] {
  if (k === AAMI_CLASSES.length) return [...AAMI_CLASSES];
  if (k === FRAGMENT17_CLASSES.length) return [...FRAGMENT17_CLASSES];
  throw new CliError(`the model has ${k} outputs: name its classes with --classes <c1,c2,…>`);
}

/** The input description of the export (see the module comment) for a model of config `c`. */
function preprocessingOf(
  c: ConfigFields,
  o: ExportOptions,
  input: 'beat' | 'fragment',
): DatasetPreprocessing {
  if (input === 'fragment')
    return fragmentPreprocessing({ length: c.length, sampleRate: o.sampleRate ?? 360 });
  return beatPreprocessing({
    length: c.length,
    sampleRate: o.sampleRate ?? 180,
    before: o.before,
    rr: (c.rrFeatures ?? 0) === 0 ? null : undefined,
  });
}

async function exportCommand(ctx: RunContext, file: string, o: ExportOptions): Promise<number> {
  const path = resolve(file);
  const ck = loadCheckpoint(path);
  if (ck.model.config === null)
    throw new CliError(
      `${path}: the checkpoint holds no model config (a model without one cannot be rebuilt)`,
    );
  let model: ReturnType<typeof createModel>;
  try {
    model = createModel(ck.model.config as unknown as Parameters<typeof createModel>[0]);
  } catch (e) {
    if (e instanceof ModelConfigError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
  model.loadStateDict(ck.model.state, { strict: true });
  model.eval();
  const c = model.config as unknown as ConfigFields;
  const input = o.input ?? (model instanceof BinaryEcgNet ? 'fragment' : 'beat');
  const classes = o.classes ?? defaultClasses(c.classes);
  const preprocessing = preprocessingOf(c, o, input);
  const opts = {
    classes,
    name: o.name ?? c.kind,
    storage: o.storage,
    provenance: { checkpoint: path, step: ck.progress.step },
  };
  let spec: ExportedModel;
  try {
    spec =
      model instanceof BinaryEcgNet
        ? exportBnn(model, preprocessing, opts)
        : exportClassifier(model, preprocessing, opts);
  } catch (e) {
    if (e instanceof ValueError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
  const bytes = o.format === 'onnx' ? modelToOnnx(spec) : saveModel(spec);
  const out = resolve(o.out);
  writeFileSync(out, bytes);
  const summary = {
    checkpoint: path,
    out,
    format: o.format,
    bytes: bytes.length,
    kind: c.kind,
    classes,
    preprocessing,
  };
  if (o.json) printJson(ctx.io, summary);
  else
    println(
      ctx.io.out,
      `${out}: ${o.format === 'onnx' ? 'ONNX (opset 13)' : 'ecgnn model file'}, ${bytes.length} bytes — ${c.kind}, classes ${classes.join(',')}, ${input} input [1, ${preprocessing.length}] at ${preprocessing.sampleRate} Hz`,
    );
  return EXIT_OK;
}

/** Registers `export` on `program`. */
export function registerExport(program: Command, ctx: RunContext): void {
  withJsonOption(
    program
      .command('export')
      .description(
        'export a training checkpoint (.ckpt of @ecgnn/train) to an @ecgnn/infer model file or to ONNX (@ecgnn/export)',
      )
      .argument('<checkpoint>', 'checkpoint file, e.g. <out>/teacher/best.ckpt of an experiment')
      .requiredOption('--out <file>', 'file to write (.ecgnn, or .onnx with --format onnx)')
      .addOption(
        new Option(
          '--format <f>',
          'ecgnn: @ecgnn/infer model file; onnx: ONNX opset 13 (binary layers as ±1 floats)',
        )
          .choices(['ecgnn', 'onnx'])
          .default('ecgnn'),
      )
      .option(
        '--classes <list>',
        'class names, one per output (default: N,S,V,F,Q for 5 outputs, the 17 fragment classes for 17)',
        listArg,
      )
      .addOption(
        new Option(
          '--input <kind>',
          'beat windows (default; fragments for the binary network) or fixed-length fragments',
        ).choices(['beat', 'fragment']),
      )
      .option(
        '--sample-rate <hz>',
        'sampling rate of the model input (default 180 for beats, 360 for fragments)',
        numberArg('> 0', (x) => x > 0),
      )
      .option('--before <n>', 'beat windows: samples before the R peak (default 45)', intArg(0))
      .addOption(
        new Option('--storage <s>', 'storage of float weight tensors (ecgnn format)')
          .choices(['float32', 'float16', 'int8'])
          .default('float32'),
      )
      .option('--name <name>', 'model name in the file header (default: the model kind)'),
  ).action(async (checkpoint: string, o: ExportOptions) => {
    ctx.code = await exportCommand(ctx, checkpoint, o);
  });
}
