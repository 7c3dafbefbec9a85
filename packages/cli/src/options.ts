/**
 * Option parsers and shared options of the commands. A parser throws commander's `InvalidArgumentError`, which
 * commander reports as `error: option '--x <n>' argument 'abc' is invalid. …` — a usage error (exit code 2).
 */
import { type DataDirOptions, dataDir } from '@ecgnn/data';
import { type Command, InvalidArgumentError } from 'commander';

/** Help text of `--data`. */
export const DATA_HELP =
  'data directory holding mitdb/ (default: $ECGNN_DATA, else ../shared/data beside the repo)';

/** An integer ≥ `min`. */
export function intArg(min: number): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`not an integer: '${value}'.`);
    const n = Number(value);
    if (n < min) throw new InvalidArgumentError(`must be ≥ ${min}.`);
    return n;
  };
}

/** A finite number accepted by `ok` (whose condition `what` names, e.g. `> 0`). */
export function numberArg(what: string, ok: (x: number) => boolean): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new InvalidArgumentError(`not a number: '${value}'.`);
    if (!ok(n)) throw new InvalidArgumentError(`must be ${what}.`);
    return n;
  };
}

/** A comma-separated list of non-empty names (e.g. records `100,101`). */
export function listArg(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('empty list.');
  return items;
}

/** Adds `--data <dir>` to `cmd`. */
export function withDataOption(cmd: Command): Command {
  return cmd.option('--data <dir>', DATA_HELP);
}

/** Adds `--json` to `cmd`. */
export function withJsonOption(cmd: Command): Command {
  return cmd.option('--json', 'print the result as JSON on stdout (progress and errors go to stderr)');
}

/**
 * The data directory of a command: `--data` if given, else `ECGNN_DATA`, else @ecgnn/data's default (both
 * resolved by @ecgnn/data's `dataDir`), as options for @ecgnn/data's readers.
 */
export function dataDirOf(opts: { data?: string }): Required<DataDirOptions> {
  return { dataDir: dataDir(opts.data !== undefined ? { dataDir: opts.data } : {}) };
}
