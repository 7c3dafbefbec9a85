/**
 * Where the CLI writes, its exit codes and its error classes. Commands never touch `process.stdout` or
 * `process.exit` themselves: they write through a {@link CliIo} and return an exit code, so the whole program
 * runs in-process (tests) exactly as it runs from the `ecgnn` binary.
 */
import { DataError } from '@ecgnn/data';
import { ExportError } from '@ecgnn/export';
import { InferError } from '@ecgnn/infer';
import { CheckpointError } from '@ecgnn/train';

/** Exit code of a run that did what was asked. */
export const EXIT_OK = 0;
/** Exit code of a data or model error (missing record, bad model file, failed download, checksum mismatch). */
export const EXIT_FAILURE = 1;
/** Exit code of a usage error (unknown command or option, missing or malformed argument). */
export const EXIT_USAGE = 2;

/** The two output streams of a run. Each call receives text as written, newlines included. */
export interface CliIo {
  /** Standard output: results (plain text, or JSON with `--json`). */
  out(text: string): void;
  /** Standard error: progress, warnings, error messages, help shown after a usage error. */
  err(text: string): void;
  /**
   * The terminal standard error is, when it is one: progress bars are drawn on it (cli-progress); without it
   * progress is plain lines through {@link CliIo.err}.
   */
  tty?: TerminalStream;
}

/**
 * A terminal output stream as the progress bars use it: Node's `process.stderr` (a `tty.WriteStream`) fits.
 * Declared here so that the published types of @ecgnn/cli do not need `@types/node` in the user's project.
 */
export interface TerminalStream {
  /** Writes text. */
  write(text: string): unknown;
  /** True on a terminal. */
  isTTY?: boolean;
  /** Terminal width in characters. */
  columns?: number;
}

/** The process's own stdout and stderr. */
export const processIo: CliIo = {
  out: (text) => {
    process.stdout.write(text);
  },
  err: (text) => {
    process.stderr.write(text);
  },
  tty: process.stderr.isTTY ? process.stderr : undefined,
};

/** A command line that cannot be run as given (a bad option value, a missing argument). Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A failure of the work itself that is neither a {@link DataError} nor an {@link InferError} (e.g. a model file
 * that cannot be read). Exit code 1; printed without a stack trace.
 */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Whether `e` is an error a user meets and can act on (its message says what is wrong), printed without a stack
 * trace: data, model, checkpoint, export, CLI and file-system errors. Anything else is a bug and is printed with its stack.
 */
export function isExpectedError(e: unknown): e is Error {
  if (
    e instanceof DataError ||
    e instanceof InferError ||
    e instanceof CliError ||
    e instanceof CheckpointError ||
    e instanceof ExportError
  )
    return true;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return e instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** Writes `line` and a newline to `write`. */
export function println(write: (text: string) => void, line = ''): void {
  write(`${line}\n`);
}

/** Writes `value` as indented JSON (typed arrays as plain arrays) and a newline to standard output. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(
    `${JSON.stringify(value, (_k, v) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as Float32Array) : v), 2)}\n`,
  );
}

/**
 * A plain-text table, columns two spaces apart. `align` has one letter per column, `l` (left) or `r` (right);
 * default: the first column left, the others right.
 */
export function formatTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  align = '',
): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const left = (i: number): boolean => (align[i] ?? (i === 0 ? 'l' : 'r')) === 'l';
  const line = (r: readonly string[]): string =>
    r
      .map((x, i) => (left(i) ? x.padEnd(widths[i]) : x.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/** State of one run shared by the commands: where they write, and the exit code the action chose. */
export interface RunContext {
  io: CliIo;
  /** Exit code set by the command's action (default {@link EXIT_OK}). */
  code: number;
}
