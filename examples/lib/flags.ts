/**
 * Flag values of the example scripts: the one usage error, the flags every experiment script shares and their
 * parsing, and the checks that turn a flag's string into a number or a choice (each returns undefined when the
 * flag is absent, so the caller writes its default with `??`).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** Error for bad command-line input (printed without a stack trace, exit code 1). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `--name v` as an integer ≥ `min`. */
export function intOption(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  const n = Number(v);
  if (n < min) throw new UsageError(`--${name} must be ≥ ${min}, got ${n}`);
  return n;
}

/** `--name v` as a finite number accepted by `ok`. */
export function numberOption(
  name: string,
  v: string | undefined,
  ok: (x: number) => boolean,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${name}: bad value '${v}'`);
  return n;
}

/** `--name v` as one of `allowed`. */
export function choice<T extends string>(
  name: string,
  v: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

/** The flags every experiment script takes (see {@link experimentOptions}). */
export const EXPERIMENT_FLAGS = {
  smoke: { type: 'boolean' },
  seed: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  record: { type: 'string' },
  resume: { type: 'boolean' },
  backend: { type: 'string' },
  'no-download': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A script's own flags, in `node:util` `parseArgs` form. */
export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** The values `parseArgs` returns for {@link EXPERIMENT_FLAGS} plus a script's own flags. */
export type FlagValues<O extends FlagSpec> = ReturnType<
  typeof parseArgs<{ options: typeof EXPERIMENT_FLAGS & O; strict: true; allowPositionals: false }>
>['values'];

/** Parses `argv` against {@link EXPERIMENT_FLAGS} and `own` (strict: an unknown flag is a UsageError with `help`). */
export function parseFlags<O extends FlagSpec>(argv: readonly string[], own: O, help: string): FlagValues<O> {
  try {
    return parseArgs({
      args: [...argv],
      options: { ...EXPERIMENT_FLAGS, ...own },
      strict: true,
      allowPositionals: false,
    }).values as FlagValues<O>;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${help}`);
  }
}

/** The options every experiment script has, from {@link EXPERIMENT_FLAGS}. */
export interface ExperimentOptions {
  smoke: boolean;
  seed: number;
  data: string | undefined;
  out: string;
  record: string | undefined;
  resume: boolean;
  backend: 'wasm' | 'cpu';
  download: boolean;
}

/** The common options from parsed flags; `defaultOut` is the output folder without `--out`. */
export function experimentOptions(v: FlagValues<FlagSpec>, defaultOut: string): ExperimentOptions {
  const s = (k: string): string | undefined => v[k] as string | undefined;
  const b = (k: string): boolean => (v[k] as boolean | undefined) ?? false;
  const record = s('record');
  return {
    smoke: b('smoke'),
    seed: intOption('seed', s('seed'), 0) ?? 0,
    data: s('data'),
    out: resolve(s('out') ?? defaultOut),
    record: record === undefined ? undefined : resolve(record),
    resume: b('resume'),
    backend: choice('backend', s('backend'), ['wasm', 'cpu']) ?? 'wasm',
    download: !b('no-download'),
  };
}
