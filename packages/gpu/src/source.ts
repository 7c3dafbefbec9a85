/**
 * Helpers that write gpu.js kernel sources. Every kernel is a string (not a JavaScript function): gpu.js parses
 * the source text, and a string cannot be changed by a bundler, a minifier or a coverage instrumenter on the
 * way. Geometry is written in as literals, so every loop bound is a constant.
 *
 * Arithmetic on the device is float32 (gpu.js `cpu` mode computes in float64 and stores float32); index
 * arithmetic is float32 as well in the GL modes, so it is exact only below 2²⁴: {@link MAX_DEVICE_INDEX}.
 */

/** Largest array length (output or input) the kernels take: float32 holds every integer up to 2²⁴ exactly. */
export const MAX_DEVICE_INDEX = 2 ** 24;

/** A number as a source literal (finite numbers only; callers fall back to CPU for the others). */
export function lit(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`lit: ${v} is not finite`);
  // Keep −0 a float (gpu.js reads `-0` as the integer 0, which is the same value for every use here).
  return Object.is(v, -0) ? '0' : String(v);
}

/**
 * Source that splits `this.thread.x` into coordinates `names[i]` over `dims` (row-major: the last dimension
 * varies fastest), e.g. `decode(['b', 'o', 't'], [B, O, T])`.
 */
export function decode(names: readonly string[], dims: readonly number[]): string {
  const lines = ['let rest_ = this.thread.x;'];
  for (let d = dims.length - 1; d > 0; d--) {
    const n = lit(dims[d]);
    lines.push(`const ${names[d]} = rest_ - Math.floor(rest_ / ${n}) * ${n};`);
    lines.push(`rest_ = Math.floor(rest_ / ${n});`);
  }
  lines.push(`const ${names[0]} = rest_;`);
  return lines.join('\n');
}

/** A gpu.js kernel source: `function (args) { body }`. */
export function kernelSource(args: readonly string[], body: string): string {
  return `function (${args.join(', ')}) {\n${body}\n}`;
}
