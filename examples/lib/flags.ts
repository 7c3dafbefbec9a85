/**
 * Flag values of the example scripts: the one usage error and the checks that turn a flag's string into a
 * number or a choice. Each returns undefined when the flag is absent, so the caller writes its default with `??`.
 */

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
