/**
 * The `ecgnn` program: one commander tree per run, wired to a {@link CliIo}, and {@link run}, which parses the
 * arguments, runs the command and maps every outcome to an exit code: 0 success (and `--help`), 1 a data or model
 * error, 2 a usage error. Nothing here exits the process or writes to it directly.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerBench } from './commands/bench.js';
import { registerBinarize } from './commands/binarize.js';
import { registerClassify } from './commands/classify.js';
import { registerData } from './commands/data.js';
import { registerDistill } from './commands/distill.js';
import { registerEval } from './commands/eval.js';
import { registerExport } from './commands/export.js';
import { registerInspect } from './commands/inspect.js';
import { registerMeta } from './commands/meta.js';
import { registerPipeline } from './commands/pipeline.js';
import { registerPrune } from './commands/prune.js';
import { registerTrain } from './commands/train.js';
import {
  type CliIo,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  isExpectedError,
  println,
  processIo,
  type RunContext,
  UsageError,
} from './io.js';

/** Version printed by `ecgnn --version`: the package's (package.json sits one level above both src/ and dist/). */
export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/**
 * Builds the command tree for one run. Commander keeps parse state on its objects, so every run gets a new tree;
 * `argv` is recorded by commands that write provenance.
 */
export function createProgram(ctx: RunContext, argv: readonly string[] = []): Command {
  const program = new Command('ecgnn')
    .description('ecgnn: tiny ECG arrhythmia classifiers — data, training, compression, inference')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true);
  registerData(program, ctx);
  registerInspect(program, ctx);
  registerClassify(program, ctx);
  registerDistill(program, ctx, argv);
  registerPrune(program, ctx, argv);
  registerBinarize(program, ctx, argv);
  registerMeta(program, ctx, argv);
  registerEval(program, ctx);
  registerExport(program, ctx);
  registerPipeline(program, ctx, argv);
  registerTrain(program, ctx, argv);
  registerBench(program, ctx);
  program.addHelpText(
    'after',
    '\nExit codes: 0 success, 1 data or model error, 2 usage error. `ecgnn <command> --help` for a command.',
  );
  return program;
}

/**
 * Runs `ecgnn` with `argv` (the arguments after the program name), writing to `io`.
 * A leading `--` is dropped, so `pnpm ecgnn -- --help` works as npm users expect, and so is one right after the
 * command name, so that a package script naming the command (`"start": "… ecgnn pipeline"`) takes
 * `pnpm start -- --help` too. (No command takes operands that need a `--` before them.)
 *
 * @returns the exit code: 0 success, 1 data or model error, 2 usage error
 */
export async function run(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  if (args[1] === '--' && args[0] !== undefined && !args[0].startsWith('-')) args.splice(1, 1);
  const ctx: RunContext = { io, code: EXIT_OK };
  const program = createProgram(ctx, args);
  try {
    await program.parseAsync(args, { from: 'user' });
    return ctx.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its message (or the help) already; its exit code is 0 for --help, `help <command>`
      // and --version, 1 for everything it rejects (unknown option or command, bad or missing argument).
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      println(io.err, `error: ${e.message}`);
      println(io.err, '(add --help for usage)');
      return EXIT_USAGE;
    }
    println(
      io.err,
      isExpectedError(e) ? `error: ${e.message}` : `error: ${(e as Error)?.stack ?? String(e)}`,
    );
    return EXIT_FAILURE;
  }
}
