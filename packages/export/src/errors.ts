/** The error type of @ecgnn/export. */

/**
 * A module, option or graph the exporter cannot translate. The message starts with the module's path in the
 * model (e.g. `features.3`) when there is one, and says what is unsupported and, where there is one, the way
 * out (another option, a registered emitter).
 */
export class ExportError extends Error {
  override name = 'ExportError';
}

/** Prefixes `msg` with the module path `path` (nothing for the root, whose path is ''). */
export function atPath(path: string, msg: string): string {
  return path === '' ? `(model): ${msg}` : `${path}: ${msg}`;
}
